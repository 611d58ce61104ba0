// Regular expressions for the REGEXP_* functions: RE2 syntax and semantics on re2js, a pure
// JavaScript port of RE2 whose matching time is linear in the input (Couchbase runs Go's regexp,
// the same design). V8's own RegExp backtracks, so one crafted pattern could hold the event loop
// for minutes. Positions are byte offsets into the UTF-8 text, as Go reports them.
import { RE2JS, RE2JSException } from 're2js';
import { EvaluationCause } from './errors';

export interface Regexp {
  /** Whether the pattern matches somewhere in `s`. */
  contains(s: string): boolean;
  /** Whether the pattern matches the whole of `s`. */
  matchesAll(s: string): boolean;
  /** [start, end) of the leftmost match in UTF-16 units, or undefined. */
  firstIndex(s: string): [number, number] | undefined;
  /** Every non-overlapping match as [start, end) in UTF-16 units (Go's FindAllIndex rules). */
  allIndexes(s: string): [number, number][];
}

const cache = new Map<string, Regexp>();
const CACHE_MAX = 256;

/** Compiles (or finds in the cache) an RE2 pattern; a syntax error throws Go's message as the cause. */
export function compileRegexp(pattern: string): Regexp {
  let re = cache.get(pattern);
  if (re) return re;
  let full: RE2JS;
  let part: RE2JS;
  try {
    part = RE2JS.compile(pattern);
    // REGEXP_LIKE anchors the text as Couchbase does, `^` + pattern + `$` (so `a|b` is `^a|b$`).
    full = RE2JS.compile('^' + pattern + '$');
  } catch (err) {
    if (err instanceof RE2JSException) throw new EvaluationCause(err.message);
    throw err;
  }
  const re2 = part.re2();
  re = {
    contains: (s) => part.test(s),
    matchesAll: (s) => full.test(s),
    firstIndex: (s) => (re2.findIndex(s) as [number, number] | null) ?? undefined,
    allIndexes: (s) => (re2.findAllIndex(s, -1) as [number, number][] | null) ?? [],
  };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(pattern, re);
  return re;
}

/** Byte offset in UTF-8 of the UTF-16 index `i` of `s`. */
export function byteOffset(s: string, i: number): number {
  for (let k = 0; k < i; k++) if (s.charCodeAt(k) > 0x7f) return Buffer.byteLength(s.slice(0, i));
  return i;
}
