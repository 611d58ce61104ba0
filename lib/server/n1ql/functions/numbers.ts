// Number functions, NaN and infinities, and the bitwise functions on 64-bit integers. Results
// are computed with the same IEEE operations Go uses (ROUND is x*10^d rounded half to even, then
// divided back), so they agree to the last digit; NaN and +/-Infinity are numbers here and are
// written as the strings "NaN", "+Infinity" and "-Infinity" in results, as Couchbase writes them.
import { family, def, defPerSite, INF, isArr, isInt, isNum, num, num1, type FunctionDef } from './registry';
import { fromBig } from '../int64';
import { goCos, goPow, goSin, goTan } from './gomath';
import { equality, type Value } from '../value';

family({ floatArgs: true });

def('abs', 1, 1, num1(Math.abs));
def('acos', 1, 1, num1(Math.acos));
def('asin', 1, 1, num1(Math.asin));
def('atan', 1, 1, num1(Math.atan));
def('atan2', 2, 2, ([y, x], ctx) => (isNum(y) && isNum(x) ? num(Math.atan2(y, x), ctx) : null));
def('ceil', 1, 1, num1(Math.ceil));
def('floor', 1, 1, num1(Math.floor));
def('cos', 1, 1, num1(goCos));
def('sin', 1, 1, num1(goSin));
def('tan', 1, 1, num1(goTan));
def('degrees,deg', 1, 1, num1((x) => (x * 180) / Math.PI));
def('radians,rad', 1, 1, num1((x) => (x * Math.PI) / 180));
def('e', 0, 0, () => Math.E);
def('pi', 0, 0, () => Math.PI);
def('exp', 1, 1, num1(Math.exp));
def('ln', 1, 1, num1(Math.log));
def('log', 1, 1, num1(Math.log10));
def('power', 2, 2, ([a, b], ctx) => (isNum(a) && isNum(b) ? num(goPow(a, b), ctx) : null));
def('sqrt', 1, 1, num1(Math.sqrt));
// SIGN(NaN) is 0: NaN is neither below nor above zero.
def('sign', 1, 1, num1((x) => (x > 0 ? 1 : x < 0 ? -1 : 0)));

// RANDOM([seed]): with a seed, each call site runs its own generator seeded with it, so two
// RANDOM(42) in one statement give the same sequence (the Number Functions example).
function seededGenerator(seed: number): () => number {
  let s = Math.trunc(seed) >>> 0 || 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
defPerSite('random', 0, 1, () => {
  let gen: (() => number) | undefined;
  let genSeed: number | undefined;
  return ([seed]) => {
    if (seed === undefined) return Math.random();
    if (!isNum(seed)) return seed === null ? null : undefined;
    if (!gen || genSeed !== seed) {
      gen = seededGenerator(seed);
      genSeed = seed;
    }
    return gen();
  };
}, true);

/** Go's math.RoundToEven. */
function roundEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
/** Go's math.Round: half away from zero. */
const roundAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

function scaled(f: (x: number) => number): FunctionDef['fn'] {
  return ([x, d], ctx) => {
    if (!isNum(x) || (d !== undefined && !isInt(d))) return null;
    if (!d) return num(f(x) || 0, ctx);
    const p = 10 ** d;
    const r = f(x * p) / p;
    return num(Number.isFinite(r) ? r || 0 : x, ctx);
  };
}
def('round,round_even', 1, 2, scaled(roundEven));
def('round_nearest', 1, 2, scaled(roundAway));
def('trunc', 1, 2, scaled(Math.trunc));

def('idiv', 2, 2, ([a, b], ctx) => {
  if (!isNum(a) || !isNum(b)) return null;
  const d = Math.trunc(b);
  if (d === 0) {
    ctx.warn?.(5036, 'Division by 0.');
    return null;
  }
  return Math.trunc(Math.trunc(a) / d);
});
def('imod', 2, 2, ([a, b], ctx) => {
  if (!isNum(a) || !isNum(b)) return null;
  const d = Math.trunc(b);
  if (d === 0) {
    ctx.warn?.(5036, 'Division by 0.');
    return null;
  }
  return Math.trunc(a) % d;
});

// ---- NaN and infinities ----
def('nan', 0, 0, (_, ctx) => num(NaN, ctx));
def('posinf,pos_inf,inf', 0, 0, (_, ctx) => num(INF, ctx));
def('neginf,neg_inf', 0, 0, (_, ctx) => num(-INF, ctx));
def('isnan,is_nan', 1, 1, ([x]) => (isNum(x) ? Number.isNaN(x) : null));
def('isinf,is_inf', 1, 1, ([x]) => (isNum(x) ? x === INF || x === -INF : null));

/** IFNAN / IFINF / IFNANORINF: the first argument that is a number and passes `ok`; MISSING/NULL/non-numbers give NULL. */
function firstNumber(ok: (x: number) => boolean): FunctionDef['fn'] {
  return (args) => {
    for (const a of args) {
      if (a === undefined) return undefined;
      if (!isNum(a)) return null;
      if (ok(a)) return a;
    }
    return null;
  };
}
def('ifnan,if_nan', 2, INF, firstNumber((x) => !Number.isNaN(x)), false);
def('ifinf,if_inf', 2, INF, firstNumber((x) => x !== INF && x !== -INF), false);
def('ifnanorinf,if_nan_or_inf', 2, INF, firstNumber((x) => Number.isFinite(x)), false);

/**
 * NANIF / POSINFIF / NEGINFIF: the special value when both arguments are equal, else the first;
 * an equality that is itself MISSING or NULL (`[1, null]` against `[1, null]`) is the result.
 */
function specialIf(v: number): FunctionDef['fn'] {
  return ([a, b], ctx) => {
    const same = equality(a, b);
    return same === true ? num(v, ctx) : same === false ? a : same;
  };
}
def('nanif,nan_if', 2, 2, specialIf(NaN), false);
def('posinfif,posinf_if', 2, 2, specialIf(INF), false);
def('neginfif,neginf_if', 2, 2, specialIf(-INF), false);

// ---- bitwise, on 64-bit signed integers; bit positions count from 1 (the least significant bit) ----
family({ floatArgs: false });
const int64 = (v: Value): bigint | undefined => (typeof v === 'bigint' ? v : isInt(v) ? BigInt.asIntN(64, BigInt(v)) : undefined);
const out64 = (b: bigint): number | bigint => fromBig(BigInt.asIntN(64, b));

function positions(v: Value): bigint | undefined {
  const list = isArr(v) ? v : [v];
  let mask = 0n;
  for (const p of list) {
    if (!isInt(p) || p < 1 || p > 64) return undefined;
    mask |= 1n << BigInt(p - 1);
  }
  return mask;
}

function bitwise(op: (a: bigint, b: bigint) => bigint): FunctionDef['fn'] {
  return (args) => {
    let acc: bigint | undefined;
    for (const a of args) {
      const n = int64(a);
      if (n === undefined) return null;
      acc = acc === undefined ? n : op(acc, n);
    }
    return out64(acc!);
  };
}
def('bitand', 2, INF, bitwise((a, b) => a & b));
def('bitor', 2, INF, bitwise((a, b) => a | b));
def('bitxor', 2, INF, bitwise((a, b) => a ^ b));
def('bitnot', 1, 1, ([x]) => {
  const n = int64(x);
  return n === undefined ? null : out64(~n);
});
def('bitshift', 2, 3, ([x, s, rot]) => {
  const n = int64(x);
  if (n === undefined || !isInt(s) || (rot !== undefined && typeof rot !== 'boolean')) return null;
  if (rot) {
    const u = BigInt.asUintN(64, n);
    const k = BigInt(((s % 64) + 64) % 64);
    return out64((u << k) | (u >> ((64n - k) % 64n)));
  }
  // A negative shift moves right logically (zeros come in at the top), as on an unsigned word.
  if (s >= 64 || s <= -64) return 0;
  return out64(s >= 0 ? n << BigInt(s) : BigInt.asUintN(64, n) >> BigInt(-s));
});
def('bitset', 2, 2, ([x, p]) => {
  const n = int64(x);
  const m = positions(p);
  return n === undefined || m === undefined ? null : out64(n | m);
});
def('bitclear', 2, 2, ([x, p]) => {
  const n = int64(x);
  const m = positions(p);
  return n === undefined || m === undefined ? null : out64(n & ~m);
});
def('bittest,isbitset', 2, 3, ([x, p, all]) => {
  const n = int64(x);
  const m = positions(p);
  if (n === undefined || m === undefined || (all !== undefined && typeof all !== 'boolean')) return null;
  return all ? (n & m) === m : (n & m) !== 0n;
});
