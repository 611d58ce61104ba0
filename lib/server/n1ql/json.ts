// JSON in and out as Couchbase's query service reads and writes it. Numbers are the difference:
// the server keeps integers as int64 (exact to 19 digits, where a double is exact to 2^53) and
// writes a float64 with Go's strconv 'f' format (1.2246467991473515e-16 goes out as
// 0.00000000000000012246467991473515, 1e21 as 1000000000000000000000), never in exponent form.
// Inside the engine an integer beyond 2^53 is a bigint (see ./int64); every other number is a
// JS number. Both directions keep a fast path through the native JSON functions and take the
// exact one only when the text or the value needs it.
import { parse as losslessParse } from 'lossless-json';
import { fromInteger } from './int64';
import type { ObjectValue, Value } from './value';

// A run of 16 digits is the shortest text that can hold an integer beyond 2^53 (the cheap test);
// digits after a decimal point or before a fraction or exponent belong to a float, which
// JSON.parse reads as Go does (the exact test, run only when the cheap one matched).
const SIXTEEN_DIGITS = /\d{16}/;
const LONG_INTEGER = /(?<![\d.])\d{16,}(?![\d.eE])/;
const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  return INTEGER.test(text) && text.length >= 16 ? fromInteger(text) : Number(text);
}

/** Parses JSON text with integers beyond 2^53 kept exact (as bigint) where they fit int64. */
export function parseJson(text: string): Value {
  if (!SIXTEEN_DIGITS.test(text) || !LONG_INTEGER.test(text)) return JSON.parse(text) as Value;
  // Duplicate keys: the last one wins, as with JSON.parse.
  return losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue }) as Value;
}

/** A finite float64 as Go's strconv.FormatFloat(f, 'f', -1, 64) writes it. */
export function formatFloat(x: number): string {
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s === '-0' ? '0' : s;
  // JS switches to exponent form below 1e-6 and from 1e21: spell the same digits out.
  const neg = s[0] === '-';
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exp; // position of the decimal point in digits
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return neg ? '-' + out : out;
}

/** A number as the query service writes it: NaN and infinities as strings, floats in 'f' form. */
export function numberText(x: number | bigint): string {
  if (typeof x === 'bigint') return x.toString();
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"+Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  return formatFloat(x);
}

// JS writes exponents with a sign ("1e+21", "1e-7"); a digit followed by e+ / e- is the only
// way such a number shows in JSON text (a string holding one sends us to the exact writer, which
// is merely slower).
const EXPONENT = /\de[+-]/;

/**
 * A value as JSON text the way Couchbase writes it. `indent` pretty-prints with that many
 * spaces; MISSING gives undefined (as JSON.stringify does). `nonFinite` says the value may hold
 * a NaN or an infinity (JSON.stringify would write null for them).
 */
export function jsonText(v: Value, indent?: number, nonFinite = false): string | undefined {
  if (v === undefined) return undefined;
  if (!nonFinite) {
    let text: string | undefined;
    try {
      text = JSON.stringify(v, undefined, indent);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // a bigint somewhere
    }
    if (text !== undefined && !EXPONENT.test(text)) return text;
  }
  return exactText(v, indent ? ' '.repeat(indent) : '', '');
}

function exactText(v: Value, indent: string, prefix: string): string {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return numberText(v);
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'undefined':
      return 'null';
    default:
      break;
  }
  if (v === null) return 'null';
  const inner = prefix + indent;
  const sep = indent ? ',\n' + inner : ',';
  const open = indent ? '\n' + inner : '';
  const close = indent ? '\n' + prefix : '';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + open + v.map((x) => exactText(x, indent, inner)).join(sep) + close + ']';
  }
  const o = v as ObjectValue;
  const parts: string[] = [];
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === undefined) continue;
    parts.push(JSON.stringify(k) + (indent ? ': ' : ':') + exactText(x, indent, inner));
  }
  if (parts.length === 0) return '{}';
  return '{' + open + parts.join(sep) + close + '}';
}
