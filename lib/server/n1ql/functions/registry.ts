// The scalar function table: name -> arity and implementation. Most functions share Couchbase's
// propagation rule (any MISSING argument -> MISSING, else any NULL -> NULL), expressed by the
// `strict` flag so implementations only see valued arguments. The modules beside this one each
// register one family of functions (strings, numbers, dates, ...).
import type { Value } from '../value';

export interface FunctionContext {
  /** Statement start time (NOW_* functions return the same value for the whole statement). */
  readonly now: number;
  /** Throws the timeout error (1080) past the statement's deadline; loops over elements call it. */
  checkDeadline(): void;
  /** Adds a warning to the response (deduplicated), e.g. 5036 "Division by 0."; `reason` is its detail object. */
  warn?(code: number, msg: string, reason?: Record<string, unknown>): void;
  /** Set once a NaN or infinity was produced: the output must then write them as Couchbase does. */
  nonFinite?: boolean;
  /** The user running the statement (CURRENT_USERS()). */
  readonly user?: string;
  /** What CURL() may do for this request (absent: nothing, as on a cluster whose access list is empty). */
  curl?: CurlGrant;
}

export interface CurlGrant {
  /** The user holds query_external_access (cluster.n1ql.curl!execute). */
  readonly permitted: boolean;
  /** The cluster's access list admits `url`. */
  allows(url: string): boolean;
}

export interface FunctionDef {
  min: number;
  max: number;
  /** MISSING/NULL arguments short-circuit before `fn` runs. */
  strict: boolean;
  /** Whether the result may differ between two calls with the same arguments (RANDOM, UUID, CLOCK_*). */
  volatile?: boolean;
  fn: (args: Value[], ctx: FunctionContext) => Value;
  /** For functions with state per call site (RANDOM(seed)): makes each site's own implementation. */
  make?: () => (args: Value[], ctx: FunctionContext) => Value;
  /** Integers beyond 2^53 (bigints) reach `fn` as floats, as Couchbase's float64 functions see them. */
  floatArgs: boolean;
}

export const INF = Number.POSITIVE_INFINITY;
const table = new Map<string, FunctionDef>();

// Math, string and date functions compute in float64 on the server; the others (types,
// conditionals, arrays, objects, bitwise) keep an int64 argument as it is. Each module says
// which kind it registers before its definitions.
let floatArgs = false;

/** Functions registered from now on take their integer arguments as floats (true) or exact (false). */
export function family(opts: { floatArgs: boolean }): void {
  floatArgs = opts.floatArgs;
}

/** Registers `fn` under each comma-separated name. */
export function def(names: string, min: number, max: number, fn: FunctionDef['fn'], strict = true, volatile = false): void {
  for (const name of names.split(',')) table.set(name, { min, max, strict, fn, volatile, floatArgs });
}

/** Registers a function whose every call site gets its own implementation from `make`. */
export function defPerSite(names: string, min: number, max: number, make: () => FunctionDef['fn'], volatile = false): void {
  for (const name of names.split(',')) table.set(name, { min, max, strict: false, fn: make(), make, volatile, floatArgs });
}

export function lookupFunction(name: string): FunctionDef | undefined {
  return table.get(name);
}

/** Every registered name (the documented-function test enumerates them). */
export function functionNames(): string[] {
  return [...table.keys()];
}

export const isNum = (v: Value): v is number => typeof v === 'number';
export const isStr = (v: Value): v is string => typeof v === 'string';
export const isArr = (v: Value): v is Value[] => Array.isArray(v);
export const isInt = (v: Value): v is number => typeof v === 'number' && Number.isInteger(v);

/** A number result; NaN and infinities are flagged so the response writes them as strings. */
export function num(x: number, ctx: FunctionContext): number {
  if (!Number.isFinite(x)) ctx.nonFinite = true;
  return x;
}

export function num1(f: (x: number) => number): FunctionDef['fn'] {
  return ([x], ctx) => (isNum(x) ? num(f(x), ctx) : null);
}

export function str1(f: (s: string) => Value): FunctionDef['fn'] {
  return ([s]) => (isStr(s) ? f(s) : null);
}
