// LIKE patterns as a linear matcher. A pattern is a list of segments separated by `%`; each
// segment is literal text with `_` (one character) holes. Matching pins the first segment to the
// start and the last to the end, and finds each middle segment at its leftmost place after the
// previous one; for glob patterns that greedy choice is always right, so there is no
// backtracking: the cost is O(text x segment length) whatever the number of `%`, where a
// backtracking regular expression can take exponential time (a 100-character pattern froze the
// event loop for half a minute). `_` consumes one code point, as Couchbase consumes one rune.

type Item = string | typeof ANY; // a literal run, or one `_`
const ANY = 0;

interface Segment {
  items: Item[];
  /** The whole segment when it has no `_`: found with indexOf / startsWith / endsWith. */
  literal?: string;
}

export interface LikeMatcher {
  test(s: string): boolean;
}

/** Compiles a LIKE pattern; `escape` quotes the next character (Couchbase's default is `\`). */
export function compileLike(pattern: string, escape = '\\'): LikeMatcher {
  const segments: Segment[] = [];
  let items: Item[] = [];
  let text = '';
  const flush = (): void => {
    if (text) items.push(text);
    text = '';
  };
  const close = (): void => {
    flush();
    segments.push({ items, literal: items.every((i) => i !== ANY) ? (items as string[]).join('') : undefined });
    items = [];
  };
  const cps = Array.from(pattern);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === escape && i + 1 < cps.length) text += cps[++i];
    else if (c === '%') close();
    else if (c === '_') {
      flush();
      items.push(ANY);
    } else text += c;
  }
  close();
  if (segments.length === 1) {
    const only = segments[0];
    return { test: (s) => matchAt(s, 0, only) === s.length };
  }
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(1, -1).filter((g) => g.items.length > 0);
  return {
    test(s) {
      const head = matchAt(s, 0, first);
      if (head < 0) return false;
      const tail = matchBefore(s, s.length, last);
      if (tail < head) return false;
      let at = head;
      for (const g of middle) {
        const found = find(s, at, tail, g);
        if (found < 0) return false;
        at = found;
      }
      return true;
    },
  };
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** End of the segment matched at `at`, or -1. */
function matchAt(s: string, at: number, g: Segment): number {
  if (g.literal !== undefined) return s.startsWith(g.literal, at) ? at + g.literal.length : -1;
  let p = at;
  for (const it of g.items) {
    if (it === ANY) {
      if (p >= s.length) return -1;
      p += isHigh(s.charCodeAt(p)) && isLow(s.charCodeAt(p + 1)) ? 2 : 1;
    } else {
      if (!s.startsWith(it, p)) return -1;
      p += it.length;
    }
  }
  return p;
}

/** Start of the segment matched so that it ends at `end`, or -1. */
function matchBefore(s: string, end: number, g: Segment): number {
  if (g.literal !== undefined) {
    const start = end - g.literal.length;
    return start >= 0 && s.startsWith(g.literal, start) ? start : -1;
  }
  let p = end;
  for (let k = g.items.length - 1; k >= 0; k--) {
    const it = g.items[k];
    if (it === ANY) {
      if (p <= 0) return -1;
      p -= isLow(s.charCodeAt(p - 1)) && p >= 2 && isHigh(s.charCodeAt(p - 2)) ? 2 : 1;
    } else {
      const start = p - it.length;
      if (start < 0 || !s.startsWith(it, start)) return -1;
      p = start;
    }
  }
  return p;
}

/** End of the leftmost match of `g` starting at or after `from` and ending by `limit`, or -1. */
function find(s: string, from: number, limit: number, g: Segment): number {
  if (g.literal !== undefined) {
    const k = s.indexOf(g.literal, from);
    return k >= 0 && k + g.literal.length <= limit ? k + g.literal.length : -1;
  }
  // Anchor the search on the segment's first literal run when it has one.
  const lead = g.items.findIndex((i) => i !== ANY);
  for (let p = from; p < limit || (p === limit && g.items.length === 0); ) {
    if (lead === 0) {
      const k = s.indexOf(g.items[0] as string, p);
      if (k < 0) return -1;
      p = k;
    }
    const end = matchAt(s, p, g);
    if (end >= 0 && end <= limit) return end;
    if (end > limit) return -1;
    p += isHigh(s.charCodeAt(p)) && isLow(s.charCodeAt(p + 1)) ? 2 : 1;
  }
  return -1;
}

/** The literal text every match starts with (an index range scan's prefix): up to the first wildcard. */
export function likePrefix(pattern: string, escape = '\\'): string {
  return likeLiteral(pattern, escape).prefix;
}

/** The literal prefix of a LIKE pattern, and whether it is the whole pattern (no wildcard at all). */
export function likeLiteral(pattern: string, escape = '\\'): { prefix: string; complete: boolean } {
  let prefix = '';
  const cps = Array.from(pattern);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === '%' || c === '_') return { prefix, complete: false };
    if (c === escape && i + 1 < cps.length) prefix += cps[++i];
    else prefix += c;
  }
  return { prefix, complete: true };
}
