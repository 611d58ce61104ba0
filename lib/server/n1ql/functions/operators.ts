// The operators as functions (ADD(a, b), EQ(a, b), IS_MISSING(x), LIKE(s, p), ...): the same
// MISSING/NULL rules as the operator forms.
import { arithmetic, isNumeric, negate, type ArithOp } from '../int64';
import { compileLike } from '../like';
import { collate, equals, isObject, logical, type Value } from '../value';
import { family, def, INF, isArr, isNum, isStr, num, type FunctionDef } from './registry';

family({ floatArgs: false });

function arith(op: ArithOp): FunctionDef['fn'] {
  const zeroCheck = op === '/' || op === '%';
  return (args, ctx) => {
    if (args.some((a) => a === undefined)) return undefined;
    if (zeroCheck && args[1] === 0) {
      ctx.warn?.(5036, 'Division by 0.');
      return null;
    }
    if (!args.every(isNumeric)) return null;
    const r = (args as (number | bigint)[]).reduce((a, b) => arithmetic(op, a, b));
    return typeof r === 'number' ? num(r, ctx) : r;
  };
}
def('add', 2, INF, arith('+'), false);
def('mult', 2, INF, arith('*'), false);
def('sub', 2, 2, arith('-'), false);
def('div', 2, 2, arith('/'), false);
def('mod', 2, 2, arith('%'), false);
def('neg', 1, 1, ([a]) => (isNumeric(a) ? negate(a) : null));

function cmp(test: (c: number) => boolean): FunctionDef['fn'] {
  return ([a, b]) => {
    if (a === undefined || b === undefined) return undefined;
    if (a === null || b === null) return null;
    return test(collate(a, b));
  };
}
def('eq', 2, 2, cmp((c) => c === 0), false);
def('lt', 2, 2, cmp((c) => c < 0), false);
def('le', 2, 2, cmp((c) => c <= 0), false);
def('between', 3, 3, ([v, lo, hi]) => {
  if (v === undefined || lo === undefined || hi === undefined) return undefined;
  if (v === null || lo === null || hi === null) return null;
  return collate(v, lo) >= 0 && collate(v, hi) <= 0;
}, false);

def('is_missing,ismissing', 1, 1, ([v]) => v === undefined, false);
def('is_not_missing,isnotmissing', 1, 1, ([v]) => v !== undefined, false);
def('is_null,isnull', 1, 1, ([v]) => (v === undefined ? undefined : v === null), false);
def('is_not_null,isnotnull', 1, 1, ([v]) => (v === undefined ? undefined : v !== null), false);
def('is_valued,isvalued,is_known,isknown,is_not_unknown,isnotunknown', 1, 1, ([v]) => v !== undefined && v !== null, false);
def('is_not_valued,isnotvalued,is_not_known,isnotknown,isunknown', 1, 1, ([v]) => v === undefined || v === null, false);

def('like', 2, 3, ([s, p, e]) => (isStr(s) && isStr(p) && (e === undefined || isStr(e)) ? compileLike(p, e).test(s) : null));
def('in', 2, 2, ([v, list]) => (isArr(list) ? list.some((x) => x !== null && equals(v, x)) : null));
def('within', 2, 2, ([v, c]) => {
  if (!isArr(c) && !isObject(c)) return null;
  const scan = (x: Value): boolean => {
    const kids = isArr(x) ? x : isObject(x) ? Object.values(x) : [];
    return kids.some((k) => (k !== null && equals(v, k)) || scan(k));
  };
  return scan(c);
});
def('exists', 1, 1, ([a]) => (isArr(a) ? a.length > 0 : null));

function logic(and: boolean): FunctionDef['fn'] {
  return (args) => {
    let missing = false;
    let nul = false;
    for (const a of args) {
      const v = logical(a);
      if (v === !and) return !and;
      if (v === undefined) missing = true;
      else if (v === null) nul = true;
    }
    return and ? (missing ? undefined : nul ? null : true) : nul ? null : missing ? undefined : false;
  };
}
def('and', 2, INF, logic(true), false);
def('or', 2, INF, logic(false), false);
def('not', 1, 1, ([a]) => {
  const v = logical(a);
  return v === undefined || v === null ? v : !v;
}, false);

def('array', 0, INF, (args) => args.map((a) => (a === undefined ? null : a)), false);
def('element', 2, 2, ([a, i]) => {
  if (isArr(a) && isNum(i)) return a[Math.trunc(i) < 0 ? a.length + Math.trunc(i) : Math.trunc(i)];
  if (isObject(a) && isStr(i)) return a[i] === undefined || !Object.hasOwn(a, i) ? undefined : a[i];
  return a === undefined || i === undefined ? undefined : null;
}, false);
def('field', 2, 2, ([o, n]) => (isObject(o) && isStr(n) ? (Object.hasOwn(o, n) ? o[n] : undefined) : o === undefined ? undefined : null), false);
def('slice', 2, 3, ([a, f, t]) => {
  if (!isArr(a) || !isNum(f) || (t !== undefined && !isNum(t))) return null;
  const s = f < 0 ? a.length + f : f;
  const e = t === undefined ? a.length : t < 0 ? a.length + t : t;
  return s < 0 || e > a.length || s > e ? null : a.slice(s, e);
});
