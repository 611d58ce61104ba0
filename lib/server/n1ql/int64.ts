// Couchbase's query engine computes with int64 where it can and float64 otherwise, so an integer
// such as a CAS (about 1.7e18) or 9223372036854775807 stays exact. JS numbers are exact only up
// to 2^53: here an integer beyond that is a bigint, and every bigint Value is one (smaller ones
// are numbers), so the common case never pays for the rare one.

export const INT64_MAX = (1n << 63n) - 1n;
export const INT64_MIN = -(1n << 63n);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A whole number as a Value: a number when a double holds it exactly, a bigint within int64, else a float. */
export function fromBig(b: bigint): number | bigint {
  if (b <= SAFE_MAX && b >= -SAFE_MAX) return Number(b);
  if (b <= INT64_MAX && b >= INT64_MIN) return b;
  return Number(b);
}

/** An integer literal's text (as in a document or a statement). */
export function fromInteger(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : fromBig(BigInt(text));
}

export function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Whether `v` is a whole number (an int64 for the server). */
export function isIntegral(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** A number as float64 (what Couchbase's functions other than the integer ones compute with). */
export function toFloat(v: number | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

const BIG_OPS = {
  '+': (a: bigint, b: bigint) => a + b,
  '-': (a: bigint, b: bigint) => a - b,
  '*': (a: bigint, b: bigint) => a * b,
} as const;

/**
 * `a op b` for + - * as Couchbase does it: exact on integers while the result fits int64, float64
 * when either side is a fraction or the result overflows.
 */
export function exactArith(op: '+' | '-' | '*', a: number | bigint, b: number | bigint): number | bigint {
  if (isIntegral(a) && isIntegral(b) && Number.isFinite(Number(a)) && Number.isFinite(Number(b))) {
    const r = BIG_OPS[op](BigInt(a), BigInt(b));
    if (r <= INT64_MAX && r >= INT64_MIN) return fromBig(r);
  }
  const x = toFloat(a);
  const y = toFloat(b);
  return op === '+' ? x + y : op === '-' ? x - y : x * y;
}

/** `a % b` (b not 0): integer remainder on integers, else Go's math.Mod (the sign of a). */
export function exactMod(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (isIntegral(a) && isIntegral(b)) return fromBig(BigInt(a) % BigInt(b));
    return toFloat(a) % toFloat(b);
  }
  return a % b;
}

/** Compares two numbers of which at least one is a bigint (NaN sorts first, as Couchbase collates). */
export function compareBig(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && a !== a) return typeof b === 'number' && b !== b ? 0 : -1;
  if (typeof b === 'number' && b !== b) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export type ArithOp = '+' | '-' | '*' | '/' | '%';

/** A binary arithmetic operator on two numbers (the divisor of / and % is not 0). */
export function arithmetic(op: ArithOp, a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    let r: number;
    switch (op) {
      case '+':
        r = a + b;
        break;
      case '-':
        r = a - b;
        break;
      case '*':
        r = a * b;
        break;
      case '/':
        return a / b;
      default:
        return a % b;
    }
    // Beyond 2^53 a double rounds: integers are redone exactly, as the server's int64 would have them.
    return r <= Number.MAX_SAFE_INTEGER && r >= -Number.MAX_SAFE_INTEGER ? r : exactArith(op, a, b);
  }
  if (op === '/') return toFloat(a) / toFloat(b);
  if (op === '%') return exactMod(a, b);
  return exactArith(op, a, b);
}

/** Unary minus (the negation of INT64_MIN leaves int64: a float, as in Go). */
export function negate(v: number | bigint): number | bigint {
  return typeof v === 'number' ? (v === 0 ? 0 : -v) : fromBig(-v);
}
