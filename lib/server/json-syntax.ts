// JSON read without building it: how deeply a text nests, and whether it is JSON at all, in one
// pass over the bytes with no recursion and no objects. JSON.parse is iterative in V8 but builds
// every array and object it reads: 20 MiB of `[` is ten million nested arrays (seconds of CPU and
// over half a gigabyte). Callers check a value's shape here first and parse only what is sane.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in `b[start, end)` (0 for a scalar), counting at
 * most to `cap + 1`: a result past `cap` only says "deeper than cap". Strings are skipped with
 * their escapes, so brackets inside them do not count; the text is not otherwise checked.
 */
export function nestingDepth(b: Buffer, cap: number, start = 0, end = b.length): number {
  let depth = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === QUOTE) {
      // To the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const q = b.indexOf(QUOTE, i + 1);
        if (q < 0 || q >= end) return max;
        let k = q - 1;
        while (k > i && b[k] === BACKSLASH) k--;
        i = q;
        if ((q - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > cap) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const OBJECT = 1;
const ARRAY = 2;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * True when `b` is one JSON text as JSON.parse accepts it (RFC 8259; whitespace around it), checked
 * byte by byte: memory in proportion to the nesting depth (one byte a level), time linear.
 */
export function isJsonText(b: Buffer): boolean {
  const n = b.length;
  let stack = new Uint8Array(64);
  let depth = 0;
  let i = 0;
  const skipWs = (): void => {
    while (i < n && isWs(b[i])) i++;
  };
  /** A string starting at the quote at `i`; leaves `i` past its closing quote. */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = b[i];
      if (c === QUOTE) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === BACKSLASH) {
        const e = b[i + 1];
        if (e === 0x75) {
          if (i + 6 > n || !isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return false;
          i += 6;
          continue;
        }
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return false;
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  const number = (): boolean => {
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) {
      i++;
    } else if (i < n && b[i] >= 0x31 && b[i] <= 0x39) {
      while (i < n && isDigit(b[i])) i++;
    } else {
      return false;
    }
    if (b[i] === 0x2e) {
      i++;
      if (!(i < n && isDigit(b[i]))) return false;
      while (i < n && isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!(i < n && isDigit(b[i]))) return false;
      while (i < n && isDigit(b[i])) i++;
    }
    return true;
  };
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
    i += word.length;
    return true;
  };
  const push = (kind: number): void => {
    if (depth === stack.length) {
      const bigger = new Uint8Array(stack.length * 2);
      bigger.set(stack);
      stack = bigger;
    }
    stack[depth++] = kind;
  };
  /** After `{` or `,` in an object: a key and its colon. */
  const key = (): boolean => {
    skipWs();
    if (b[i] !== QUOTE || !string()) return false;
    skipWs();
    if (b[i] !== 0x3a) return false;
    i++;
    return true;
  };

  for (;;) {
    // A value.
    skipWs();
    if (i >= n) return false;
    const c = b[i];
    if (c === 0x7b) {
      i++;
      skipWs();
      if (b[i] === 0x7d) i++;
      else {
        push(OBJECT);
        if (!key()) return false;
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      skipWs();
      if (b[i] === 0x5d) i++;
      else {
        push(ARRAY);
        continue;
      }
    } else if (c === QUOTE) {
      if (!string()) return false;
    } else if (c === 0x2d || isDigit(c)) {
      if (!number()) return false;
    } else if (c === 0x74) {
      if (!literal('true')) return false;
    } else if (c === 0x66) {
      if (!literal('false')) return false;
    } else if (c === 0x6e) {
      if (!literal('null')) return false;
    } else return false;
    // After a value: close containers until one continues with a comma.
    for (;;) {
      skipWs();
      if (depth === 0) return i === n;
      const kind = stack[depth - 1];
      const d = b[i];
      if (d === 0x2c) {
        i++;
        if (kind === OBJECT && !key()) return false;
        break;
      }
      if (d !== (kind === OBJECT ? 0x7d : 0x5d)) return false;
      i++;
      depth--;
    }
  }
}
