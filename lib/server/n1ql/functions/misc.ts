// JSON, base64 and miscellaneous utility functions, and the pattern-prefix helpers.
import { randomUUID } from 'node:crypto';
import { QueryError } from '../errors';
import { likePrefix } from '../like';
import { clone, isObject, type Value } from '../value';
import { def, isArr, isStr, str1 } from './registry';

/** The version the embedded query service answers as (DS_VERSION, VERSION). */
export const SERVER_VERSION = '7.6.0-N1QL';

def('encode_json,json_encode', 1, 1, ([v]) => (v === undefined ? undefined : JSON.stringify(v)), false);
def('decode_json,json_decode', 1, 1, str1((s) => {
  try {
    return JSON.parse(s) as Value;
  } catch {
    return null;
  }
}));
def('encoded_size', 1, 1, ([v]) => (v === undefined ? undefined : Buffer.byteLength(JSON.stringify(v))), false);
def('poly_length', 1, 1, ([v]) => (isStr(v) ? Buffer.byteLength(v) : isArr(v) ? v.length : isObject(v) ? Object.keys(v).length : null));
def('base64,base64_encode,encode_base64', 1, 1, ([v]) => Buffer.from(JSON.stringify(v)).toString('base64'));
def('base64_decode,decode_base64', 1, 1, str1((s) => {
  try {
    return JSON.parse(Buffer.from(s, 'base64').toString()) as Value;
  } catch {
    return null;
  }
}));
def('uuid', 0, 0, () => randomUUID(), true, true);
def('copy', 1, 1, ([v]) => clone(v));
def('ds_version,version', 0, 0, () => SERVER_VERSION);
def('min_version', 0, 0, () => SERVER_VERSION);
def('node_name', 0, 0, () => '127.0.0.1:8091');
def('current_users', 0, 0, (_, ctx) => (ctx.user ? [ctx.user] : []));
// ABORT(msg): stops the statement with 5011, the message quoted as Couchbase writes it.
def('abort', 1, 1, ([m]) => {
  const text = JSON.stringify(m ?? null);
  throw new QueryError(5011, `Abort: ${text}. - cause: ${text}`);
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
      if ('*?{'.includes(c) && out) out = out.slice(0, -1);
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
