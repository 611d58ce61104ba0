// String functions. Couchbase's strings are Go strings: LENGTH, POSITION, SUBSTR, LPAD and RPAD
// count UTF-8 bytes, and their MB_* twins (7.6) count characters (code points). ASCII text, the
// common case, takes the fast path where bytes and UTF-16 units agree.
import { byteOffset, compileRegexp } from '../regexp';
import { family, def, INF, isArr, isInt, isNum, isStr, str1, type FunctionDef } from './registry';
import { isObject, type Value } from '../value';

family({ floatArgs: true });

const ASCII = /^[\x00-\x7f]*$/;
const isAscii = (s: string): boolean => ASCII.test(s);

/** The bytes [a, b) of `s` as text (what Go's s[a:b] gives, for valid boundaries). */
function bytesSlice(s: string, a: number, b?: number): string {
  if (isAscii(s)) return s.slice(a, b);
  return Buffer.from(s).subarray(a, b).toString();
}

const byteLength = (s: string): number => (isAscii(s) ? s.length : Buffer.byteLength(s));

def('lower', 1, 1, str1((s) => s.toLowerCase()));
def('upper', 1, 1, str1((s) => s.toUpperCase()));
def('length', 1, 1, str1(byteLength));
def('mb_length', 1, 1, str1((s) => (isAscii(s) ? s.length : Array.from(s).length)));
def('reverse', 1, 1, str1((s) => Array.from(s).reverse().join('')));

// Go's strings.Title after ToLower: a letter is capitalised unless it follows a letter, a digit or `_`.
const WORD = /[\p{L}\p{N}_]/u;
def('initcap,title', 1, 1, str1((s) => {
  let out = '';
  let prevWord = false;
  for (const c of s.toLowerCase()) {
    out += prevWord ? c : c.toUpperCase();
    prevWord = WORD.test(c);
  }
  return out;
}));

def('concat', 2, INF, (args) => (args.every(isStr) ? (args as string[]).join('') : null));
def('concat2', 2, INF, (args) => {
  const [sep, ...rest] = args;
  if (!isStr(sep)) return null;
  const parts: string[] = [];
  for (const a of rest) {
    if (isStr(a)) parts.push(a);
    else if (isArr(a)) {
      for (const x of a) {
        if (x === undefined) return undefined;
        if (!isStr(x)) return null;
        parts.push(x);
      }
    } else return null;
  }
  return parts.join(sep);
});
def('contains', 2, 2, ([s, sub]) => (isStr(s) && isStr(sub) ? s.includes(sub) : null));

function position(base: number, mb: boolean): FunctionDef['fn'] {
  return ([s, sub]) => {
    if (!isStr(s) || !isStr(sub)) return null;
    const i = s.indexOf(sub);
    if (i < 0) return base - 1;
    return (mb ? Array.from(s.slice(0, i)).length : byteOffset(s, i)) + base;
  };
}
def('position,pos,position0,pos0', 2, 2, position(0, false));
def('position1,pos1', 2, 2, position(1, false));
def('mb_position,mb_pos,mb_position0,mb_pos0', 2, 2, position(0, true));
def('mb_position1,mb_pos1', 2, 2, position(1, true));

/**
 * The most characters a string function builds (the server's value size limit, 20 MiB): past it
 * REPEAT, LPAD, RPAD and SUFFIXES give NULL instead of holding the server's memory hostage.
 */
const MAX_RESULT_CHARS = 20 * 1024 * 1024;
def('repeat', 2, 2, ([s, n]) => (isStr(s) && isInt(n) && n >= 0 && s.length * n <= MAX_RESULT_CHARS ? s.repeat(n) : null));
def('replace', 3, 4, ([s, from, to, n]) => {
  if (!isStr(s) || !isStr(from) || !isStr(to) || (n !== undefined && !isInt(n))) return null;
  if (n === undefined || n < 0) return s.split(from).join(to);
  let out = '';
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = s.indexOf(from, at);
    if (k < 0) break;
    out += s.slice(at, k) + to;
    at = k + from.length;
  }
  return out + s.slice(at);
});

function trimmer(left: boolean, right: boolean): FunctionDef['fn'] {
  return ([s, c]) => {
    const chars = c === undefined ? ' \t\n\f\r' : c;
    if (!isStr(s) || !isStr(chars)) return null;
    const set = new Set(Array.from(chars));
    const cps = Array.from(s);
    let a = 0;
    let b = cps.length;
    if (left) while (a < b && set.has(cps[a])) a++;
    if (right) while (b > a && set.has(cps[b - 1])) b--;
    return cps.slice(a, b).join('');
  };
}
def('trim', 1, 2, trimmer(true, true));
def('ltrim', 1, 2, trimmer(true, false));
def('rtrim', 1, 2, trimmer(false, true));

def('split', 1, 2, ([s, sep]) => {
  if (!isStr(s)) return null;
  if (sep === undefined) return s.split(/\s+/u).filter((x) => x.length > 0);
  if (!isStr(sep)) return null;
  return sep === '' ? Array.from(s) : s.split(sep);
});

/**
 * SUBSTR / SUBSTR1 and the MB_ forms: `base` 0 or 1; a negative position counts from the end,
 * and for 1-based positions 0 means the start (as Couchbase treats it).
 */
function substr(base: number, mb: boolean): FunctionDef['fn'] {
  return ([s, p, l]) => {
    if (!isStr(s) || !isInt(p) || (l !== undefined && !isInt(l))) return null;
    const units: string[] | undefined = mb && !isAscii(s) ? Array.from(s) : undefined;
    const len = units ? units.length : mb ? s.length : byteLength(s);
    let start = p < 0 ? len + p : base === 1 && p > 0 ? p - 1 : p;
    if (start < 0 || start > len) return null;
    if (l !== undefined && l < 0) return null;
    const end = l === undefined ? len : Math.min(len, start + l);
    if (units) return units.slice(start, end).join('');
    return mb ? s.slice(start, end) : bytesSlice(s, start, end);
  };
}
def('substr,substr0', 2, 3, substr(0, false));
def('substr1', 2, 3, substr(1, false));
def('mb_substr,mb_substr0', 2, 3, substr(0, true));
def('mb_substr1', 2, 3, substr(1, true));

def('suffixes', 1, 1, str1((s) => {
  // n suffixes of a string of n characters hold n(n+1)/2 characters in all.
  if ((s.length * (s.length + 1)) / 2 > MAX_RESULT_CHARS) return null;
  const cps = Array.from(s);
  return cps.map((_, i) => cps.slice(i).join(''));
}));

/** LPAD / RPAD: the size is in bytes (MB_: characters); the padding repeats and is cut to fit. */
function pad(left: boolean, mb: boolean): FunctionDef['fn'] {
  return ([s, n, c]) => {
    const fill = c === undefined ? ' ' : c;
    if (!isStr(s) || !isInt(n) || n < 0 || !isStr(fill) || n > MAX_RESULT_CHARS) return null;
    if (mb) {
      const cps = Array.from(s);
      if (cps.length >= n) return cps.slice(0, n).join('');
      const f = Array.from(fill);
      if (!f.length) return s;
      const padding: string[] = [];
      for (let i = 0; padding.length < n - cps.length; i++) padding.push(f[i % f.length]);
      return left ? padding.join('') + s : s + padding.join('');
    }
    const sb = Buffer.from(s);
    if (sb.length >= n) return sb.subarray(0, n).toString();
    const fb = Buffer.from(fill);
    if (!fb.length) return s;
    const padding = Buffer.alloc(n - sb.length);
    for (let i = 0; i < padding.length; i++) padding[i] = fb[i % fb.length];
    return left ? padding.toString() + s : s + padding.toString();
  };
}
def('lpad', 2, 3, pad(true, false));
def('rpad', 2, 3, pad(false, false));
def('mb_lpad', 2, 3, pad(true, true));
def('mb_rpad', 2, 3, pad(false, true));

// MASK(s [, options]): see the String Functions reference for the mask, hole, inject, length and anchor rules.
def('mask', 1, 2, ([s, o]) => {
  if (!isStr(s) || (o !== undefined && !isObject(o))) return null;
  const opt = o ?? {};
  const mask = Array.from(isStr(opt.mask) ? opt.mask : '********');
  const holes = new Set(Array.from(isStr(opt.hole) ? opt.hole : ' '));
  const inject = new Set(Array.from(isStr(opt.inject) ? opt.inject : ''));
  const source = opt.length === 'source';
  let input = Array.from(s);
  let at = 0;
  let fromEnd = false;
  const anchor = opt.anchor ?? 'start';
  if (anchor === 'end') fromEnd = true;
  else if (isNum(anchor)) {
    if (!Number.isInteger(anchor)) return null;
    fromEnd = anchor < 0;
    at = Math.abs(anchor);
  } else if (isStr(anchor) && anchor !== 'start') {
    const m = compileRegexp(anchor).firstIndex(s);
    if (!m) return s;
    at = Array.from(s.slice(0, m[0])).length;
  }
  if (at > input.length) return s;
  if (fromEnd) {
    input = input.reverse();
    mask.reverse();
  }
  const out = input.slice(0, at);
  let i = at;
  for (const m of mask) {
    if (source && i >= input.length) break;
    if (inject.has(m)) out.push(m);
    else if (holes.has(m)) {
      if (i < input.length) out.push(input[i]);
      i++;
    } else {
      out.push(m);
      i++;
    }
  }
  if (source) out.push(...input.slice(i));
  return (fromEnd ? out.reverse() : out).join('');
});



// Regular expressions run on RE2 (../regexp): linear time, RE2 syntax, Go's byte positions.
def('regexp_contains,regex_contains,contains_regexp,contains_regex', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).contains(s) : null));
def('regexp_like,regex_like', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).matchesAll(s) : null));
function regexpPosition(base: number): FunctionDef['fn'] {
  return ([s, p]) => {
    if (!isStr(s) || !isStr(p)) return null;
    const at = compileRegexp(p).firstIndex(s);
    return at ? byteOffset(s, at[0]) + base : -1;
  };
}
def('regexp_position,regexp_pos,regex_position,regex_pos,regexp_position0,regexp_pos0,regex_position0,regex_pos0', 2, 2, regexpPosition(0));
def('regexp_position1,regexp_pos1,regex_position1,regex_pos1', 2, 2, regexpPosition(1));
def('regexp_replace,regex_replace', 3, 4, ([s, p, r, n]) => {
  if (!isStr(s) || !isStr(p) || !isStr(r) || (n !== undefined && !isInt(n))) return null;
  // The replacement is literal text (Go's ReplaceAllLiteralString); with n, only the first n matches.
  let left = n === undefined ? Infinity : n;
  let out = '';
  let at = 0;
  for (const [a, b] of compileRegexp(p).allIndexes(s)) {
    if (left-- <= 0) break;
    out += s.slice(at, a) + r;
    at = b;
  }
  return out + s.slice(at);
});
def('regexp_matches', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).allIndexes(s).map(([a, b]) => s.slice(a, b)) : null));
def('regexp_split', 2, 2, ([s, p]) => {
  if (!isStr(s) || !isStr(p)) return null;
  // As Couchbase splits: an empty match at the very start is skipped, no empty tail after a final match.
  const out: string[] = [];
  let start = 0;
  for (const [a, b] of compileRegexp(p).allIndexes(s)) {
    if (a === b && a === 0) continue;
    out.push(s.slice(start, a));
    start = b;
  }
  if (out.length && start < s.length) out.push(s.slice(start));
  return out;
});
