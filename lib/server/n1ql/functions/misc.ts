// JSON, base64 and miscellaneous utility functions, and the pattern-prefix helpers.
import { createHash, randomUUID } from 'node:crypto';
import { AbortError } from '../errors';
import { jsonText, parseJson } from '../json';
import { parse } from '../parser';
import { contextOf, selectText } from '../statement-text';
import { likePrefix } from '../like';
import { clone, isObject } from '../value';
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

// HASHBYTES(input [, {algorithm, polynomial}]): the hex digest of a string's bytes, or of any other value's JSON.
const ALGORITHMS: Record<string, string> = { md5: 'md5', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'sha512/224': 'sha512-224', 'sha512/256': 'sha512-256' };
const CRC_POLYNOMIALS: Record<string, number> = { ieee: 0xedb88320, castagnoli: 0x82f63b78, koopman: 0xeb31d82e };
function crc32(data: Buffer, poly: number): string {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
def('hashbytes', 1, 2, ([v, o]) => {
  if (v === undefined) return undefined;
  if (o !== undefined && !isObject(o)) return null;
  const alg = o && isStr(o.algorithm) ? o.algorithm.toLowerCase() : 'sha256';
  const data = Buffer.from(isStr(v) ? v : jsonText(v)!);
  if (alg === 'crc32') {
    const p = o?.polynomial ?? 'ieee';
    const poly = isStr(p) ? CRC_POLYNOMIALS[p.toLowerCase()] ?? Number(p) : isNum(p) ? p : NaN;
    return Number.isInteger(poly) ? crc32(data, poly >>> 0) : null;
  }
  const name = ALGORITHMS[alg];
  return name ? createHash(name).update(data).digest('hex') : null;
}, false);
def('node_name', 0, 0, () => '127.0.0.1:8091');
def('current_users', 0, 0, (_, ctx) => (ctx.user ? [ctx.user] : []));
// ABORT(msg): stops the statement with 5011, the message quoted as Couchbase writes it.
def('abort', 1, 1, ([m]) => {
  throw new AbortError(jsonText(m ?? null)!);
}, false);

// LIKE_PREFIX / LIKE_STOP / LIKE_SUFFIX and REGEXP_PREFIX / ..._STOP / ..._SUFFIX: the literal
// prefix a pattern's matches start with, the first string after all of them, and the rest.
const stop = (p: string): string => (p ? p.slice(0, -1) + String.fromCodePoint(p.codePointAt(p.length - 1)! + 1) : '');
def('like_prefix', 1, 1, str1((p) => likePrefix(p)));
def('like_stop', 1, 1, str1((p) => stop(likePrefix(p))));
def('like_suffix', 1, 1, str1((p) => p.slice(Math.max(0, p.search(/[%_]/) < 0 ? p.length : p.search(/[%_]/)))));
function regexpPrefix(p: string): string {
  let out = '';
  for (let i = p[0] === '^' ? 1 : 0; i < p.length; i++) {
    const c = p[i];
    if ('.[]()*+?{}|^$'.includes(c)) {
      // A quantifier applies to the character before it, which is then not part of the prefix.
      if ('*+?{'.includes(c) && out) out = out.slice(0, -1);
      break;
    }
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined || /[A-Za-z0-9]/.test(n)) break;
      out += n;
      i++;
    } else out += c;
  }
  return out;
}
def('regexp_prefix', 1, 1, str1((p) => regexpPrefix(p)));
def('regexp_stop', 1, 1, str1((p) => stop(regexpPrefix(p))));
def('regexp_suffix', 1, 1, str1((p) => p.slice(regexpPrefix(p).length + (p[0] === '^' ? 1 : 0))));

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
