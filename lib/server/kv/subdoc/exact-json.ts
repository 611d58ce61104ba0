// JSON text for sub-document operations with its numbers as written. kv_engine edits a document's
// text, so a number no spec touches keeps its digits (an integer beyond 2^53, `1.50`, `1e3`), and a
// counter works on the int64 the text spells. Here a number a double would not give back as
// written is parsed as a LosslessNumber holding its text (lossless-json, already the query
// service's exact parser); every other document takes the native JSON functions.
import { LosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

export { LosslessNumber };

// Text a double may not give back: 16 digits in a row, an exponent, a fraction ending in 0. Cheap
// tests that strings can trip too (then the exact parse runs for nothing, and finds nothing).
const MAYBE_INEXACT = /\d{16}|\d[eE][+-]?\d|\.\d*0(?!\d)/;

function parseNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

/** Parses JSON text; `exact` is true when the exact parser ran (the value may hold LosslessNumbers). */
export function parseJsonText(text: string): { value: unknown; exact: boolean } {
  if (!MAYBE_INEXACT.test(text)) return { value: JSON.parse(text), exact: false };
  // Duplicate keys: the last one wins, as with JSON.parse.
  return { value: losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue }), exact: true };
}

/** JSON text of a value that came from parseJsonText with `exact` set (or holds LosslessNumbers). */
export function exactJsonText(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  return losslessStringify(value, replacer as never) ?? 'null';
}

/**
 * JSON text of any parsed value: the native stringify, unless it meets a LosslessNumber (then the
 * exact one). `replacer` is JSON.stringify's.
 */
export function jsonText(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  let inexact = false;
  const text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (v instanceof LosslessNumber) inexact = true;
    return replacer === undefined ? v : replacer.call(this, key, v);
  });
  return inexact ? exactJsonText(value, replacer) : text;
}

/** Two scalars the same JSON value (numbers kept as text compare by their text). */
export function sameScalar(a: unknown, b: unknown): boolean {
  if (a instanceof LosslessNumber || b instanceof LosslessNumber) return String(a) === String(b);
  return a === b;
}
