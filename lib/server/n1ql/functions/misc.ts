// JSON, base64 and miscellaneous utility functions, and the pattern-prefix helpers.
import { createHash, randomUUID } from 'node:crypto';
import { AbortError } from '../errors';
import { jsonText, parseJson } from '../json';
import { parse } from '../parser';
import { contextOf, selectText } from '../statement-text';
import { likeLiteral, likePrefix } from '../like';
import { clone, isObject, type Value } from '../value';
import { md4 } from './md4';
import { family, def, isArr, isNum, isStr, str1 } from './registry';

family({ floatArgs: false });

/** The version the embedded query service answers as (DS_VERSION, VERSION). */
export const LANGUAGE_VERSION = '7.6.0-N1QL';
export const SERVER_VERSION = '7.6.0-0000-enterprise';

def('encode_json,json_encode', 1, 1, ([v]) => jsonText(v), false);
def('decode_json,json_decode', 1, 1, str1((s) => {
  try {
    return parseJson(s);
  } catch {
    return null;
  }
}));
def('encoded_size', 1, 1, ([v]) => (v === undefined ? undefined : Buffer.byteLength(jsonText(v)!)), false);
def('poly_length', 1, 1, ([v]) => (isStr(v) ? Buffer.byteLength(v) : isArr(v) ? v.length : isObject(v) ? Object.keys(v).length : null));
def('base64,base64_encode,encode_base64', 1, 1, ([v]) => Buffer.from(jsonText(v) ?? 'null').toString('base64'));
def('base64_decode,decode_base64', 1, 1, str1((s) => {
  try {
    return parseJson(Buffer.from(s, 'base64').toString());
  } catch {
    return null;
  }
}));
def('uuid', 0, 0, () => randomUUID(), true, true);
// FLATTEN_KEYS(expr, ...): in an array index key, the values of one element as several index keys
// (./indexes.ts splits them); evaluated, the values themselves.
def('flatten_keys', 1, 32, (args) => args.map((a) => (a === undefined ? null : a)), false);
def('copy', 1, 1, ([v]) => clone(v));
def('ds_version', 0, 0, () => SERVER_VERSION);
def('version,min_version', 0, 0, () => LANGUAGE_VERSION);
/** This node's UUID, stable for the process (NODE_UUID("") and NODE_UUID(NODE_NAME())). */
const NODE_UUID = randomUUID().replace(/-/g, '');
def('node_uuid', 1, 1, str1((n) => (n === '' || n === '127.0.0.1:8091' ? NODE_UUID : null)));

// LEN(): the length of any value (Miscellaneous Utility Functions): strings as LENGTH (bytes),
// arrays and objects by element / field count, booleans 1, numbers by their text.
def('len', 1, 1, ([v]) => {
  if (isStr(v)) return Buffer.byteLength(v);
  if (isArr(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  if (typeof v === 'boolean') return 1;
  if (isNum(v)) return String(v).length;
  return null;
});

// HASHBYTES(input [, algorithm | {algorithm, polynomial}]): the hex digest of a string's bytes, or
// of any other value's JSON. The algorithm is a name ("SHA-256" and "sha256" alike); an unknown
// one, or options of another type, give NULL; NULL options mean the default, SHA-256.
const ALGORITHMS: Record<string, (data: Buffer, polynomial: number) => string> = {
  crc32: (data, poly) => crc32(data, poly),
  md4: (data) => md4(data),
  ...Object.fromEntries(
    Object.entries({ md5: 'md5', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'sha512/224': 'sha512-224', 'sha512/256': 'sha512-256' })
      .map(([alg, node]) => [alg, (data: Buffer) => createHash(node).update(data).digest('hex')]),
  ),
};
const CRC_POLYNOMIALS: Record<string, number> = { ieee: 0xedb88320, castagnoli: 0x82f63b78, koopman: 0xeb31d82e };
function crc32(data: Buffer, poly: number): string {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
/** A CRC-32 polynomial option: a name, a number, or a number's text (0x... too); IEEE otherwise. */
function polynomial(p: Value): number {
  if (isNum(p)) return Math.trunc(p) >>> 0;
  if (!isStr(p)) return CRC_POLYNOMIALS.ieee;
  const name = p.toLowerCase();
  const n = CRC_POLYNOMIALS[name] ?? (/^(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|[1-9][0-9]*|0)$/.test(name) ? Number(name.replace(/^0(?=[0-7])/, '0o')) : NaN);
  return Number.isInteger(n) && n <= 0xffffffff ? n : CRC_POLYNOMIALS.ieee;
}
const algorithmName = (a: string): string => a.toLowerCase().replace('sha-', 'sha');
def('hashbytes', 1, 2, ([v, o]) => {
  if (v === undefined) return undefined;
  if (v === null) return null;
  let alg = 'sha256';
  let poly = CRC_POLYNOMIALS.ieee;
  if (isObject(o)) {
    if (isStr(o.algorithm)) alg = algorithmName(o.algorithm);
    if (o.polynomial !== undefined) poly = polynomial(o.polynomial);
  } else if (isStr(o)) alg = algorithmName(o);
  else if (o !== undefined && o !== null) return null;
  const hash = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  return hash ? hash(Buffer.from(isStr(v) ? v : jsonText(v)!), poly) : null;
}, false);
def('node_name', 0, 0, () => '127.0.0.1:8091');
def('current_users', 0, 0, (_, ctx) => (ctx.user ? [ctx.user] : []));
// ABORT(msg): stops the statement with 5011, the message quoted as Couchbase writes it.
def('abort', 1, 1, ([m]) => {
  throw new AbortError(jsonText(m ?? null)!);
}, false);

// LIKE_PREFIX / LIKE_STOP / LIKE_SUFFIX and REGEXP_PREFIX / ..._STOP / ..._SUFFIX: the literal
// prefix a pattern's matches start with, the first string after all of them (an index span's end),
// and the pattern from the first place where a literal starts.
interface Literal {
  prefix: string;
  /** The prefix is the whole pattern: it matches that one string. */
  complete: boolean;
}
/**
 * The stop of a prefix: one string past every match, the prefix with its last byte (UTF-8) raised,
 * or the prefix and a NUL byte when the pattern is that literal; [] (past every string) without a prefix.
 */
function stop({ prefix, complete }: Literal): Value {
  if (complete) return prefix + '\u0000';
  const bytes = Buffer.from(prefix);
  if (!bytes.length || bytes[bytes.length - 1] === 0xff) return [];
  bytes[bytes.length - 1]++;
  return bytes.toString();
}
/** The pattern less its leading characters, up to where its literal prefix is not empty (else ""). */
function suffix(p: string, literal: (s: string) => Literal): string {
  for (let s = p; s; s = s.slice(s.codePointAt(0)! > 0xffff ? 2 : 1)) if (literal(s).prefix) return s;
  return '';
}
def('like_prefix', 1, 1, str1((p) => likePrefix(p)));
def('like_stop', 1, 1, str1((p) => stop(likeLiteral(p))));
def('like_suffix', 1, 1, str1((p) => suffix(p, likeLiteral)));
function regexpLiteral(p: string): Literal {
  let prefix = '';
  for (let i = p[0] === '^' ? 1 : 0; i < p.length; i++) {
    const c = p[i];
    if ('.[]()*+?{}|^$'.includes(c)) {
      // A quantifier applies to the character before it, which is then not part of the prefix.
      if ('*+?{'.includes(c) && prefix) prefix = prefix.slice(0, -1);
      return { prefix, complete: false };
    }
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined || /[A-Za-z0-9]/.test(n)) return { prefix, complete: false };
      prefix += n;
      i++;
    } else prefix += c;
  }
  return { prefix, complete: true };
}
def('regexp_prefix', 1, 1, str1((p) => regexpLiteral(p).prefix));
def('regexp_stop', 1, 1, str1((p) => stop(regexpLiteral(p))));
def('regexp_suffix', 1, 1, str1((p) => suffix(p, regexpLiteral)));

// FORMALIZE(statement [, query_context]): the statement with every reference fully spelled out
// (keyspace paths, fields qualified with their keyspace), as the Miscellaneous Functions reference
// shows it; NULL for text that is not a SELECT statement.
def('formalize,formalise', 1, 2, ([text, context]) => {
  if (!isStr(text) || (context !== undefined && context !== null && !isStr(context))) return null;
  let stmt;
  try {
    stmt = parse(text);
  } catch {
    return null;
  }
  if (stmt.type !== 'select') return null;
  return selectText(stmt, isStr(context) && context.trim() ? contextOf(context) : undefined);
}, false);
