// Twisted's Deferred: a result that is not available yet, with a chain of
// callbacks and errbacks that process it once it is.
//
// Layout: four fields, so that a Deferred with one callback pair (the usual
// case: one addCallbacks, then the result) needs no other object:
//   _s  small integer: flag bits, plus the pause count above PAUSE
//   _r  before firing: the canceller (if any); after firing: the current result
//   _c  the callback chain: null when empty; a function when it is one plain
//       pair whose callback is that function (its errback is then in _e); otherwise
//       flat pairs in an array, [cb, eb, cb, eb, ...] (pairs already run are cut
//       off the front). A null cb/eb means "pass the result through". A pair with
//       extra arguments is stored as [WithArgs, WITH_ARGS]; a waiting
//       Deferred's continuation as [CONTINUE, waiter].
//   _e  the errback of a lone pair held in _c; undefined otherwise
// Rarely needed data (debug stacks, unhandled-failure records, explicit
// chainDeferred links) lives in side tables in debug.ts.

import { inspect } from 'node:util';
import { Failure, describeValue } from './failure';
import { AlreadyCalledError, CancelledError, TimeoutError } from './errors';
import {
  captureStack,
  clearExplicitChain,
  debugInfoFor,
  formatDebugInfo,
  getDebugInfo,
  getDebugging,
  getExplicitChain,
  reportError,
  setDebugging,
  setExplicitChain,
  trackFailure,
  untrackFailure,
} from './debug';
import type { ReactorTime } from './delayed-call';
import { reactor } from './realtime-clock';

const CALLED = 1;
const RUNNING = 2; // a callback of this Deferred is on the stack
const SUPPRESS = 4; // cancelled without a canceller: eat the next callback/errback
const TRACKED = 8; // has an unhandled-failure record (debug.ts)
const EXPLICIT_CHAIN = 16; // chainDeferred() target (debug.ts side table)
const PAUSE = 64; // pause count unit; _s >= PAUSE means paused

/** The value a Deferred ends up with once callbacks returning Deferreds/Promises/Failures are unwrapped. */
export type Chained<R> = Exclude<Awaited<R>, Failure>;

type AnyFn = (...args: any[]) => unknown;
type Canceller<T> = (d: Deferred<T>) => void;

/** Marks the continuation entry a waiting Deferred leaves on the one it waits for. */
function CONTINUE(): never {
  throw new Error('internal: the chain continuation marker was called');
}

/** Marks a chain entry whose callbacks take extra arguments (kept off the common path). */
const WITH_ARGS = { withArgs: true };

/** A callback pair with extra arguments. */
class WithArgs {
  constructor(
    readonly cb: unknown,
    readonly eb: unknown,
    readonly ca: unknown[] | undefined,
    readonly ea: unknown[] | undefined,
  ) {}
}

function observeResult(result: unknown, resolve: (v: unknown) => void): unknown {
  resolve(result);
  return result;
}

function observeFailure(failure: Failure, reject: (e: unknown) => void): Failure {
  // The Promise side owns this error now (and reports it if nobody catches it).
  failure._observed = true;
  reject(failure.value);
  return failure;
}

function copyArgs(args: IArguments, from: number): unknown[] | undefined {
  const n = args.length - from;
  if (n <= 0) return undefined;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = args[from + i];
  return out;
}

function checkCallable(method: string, name: string, fn: unknown): void {
  if (typeof fn !== 'function') throw notCallable(method, name, fn);
}

// Kept out of line so the checks on the fast path stay small enough to inline.
function notCallable(method: string, name: string, fn: unknown): TypeError {
  return new TypeError(`${method}: ${name} must be a function, got ${describeValue(fn)}`);
}

function checkArgsArray(method: string, name: string, args: unknown): unknown[] | undefined {
  if (args == null) return undefined;
  if (!Array.isArray(args)) throw new TypeError(`${method}: ${name} must be an array (or omitted), got ${describeValue(args)}`);
  return args.length === 0 ? undefined : args;
}

function isThenable(x: object): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown }).then === 'function';
}

export class Deferred<T = unknown> implements PromiseLike<T> {
  /** @internal flags and pause count */
  _s: number;
  /** @internal canceller before firing, result after */
  _r: unknown;
  /** @internal the callback chain: null, a lone pair's callback (errback in _e), or flat pairs */
  _c: unknown[] | AnyFn | null;
  /** @internal a lone pair's errback */
  _e: unknown;

  /** Twisted's class-level Deferred.debug; same as getDebugging()/setDebugging(). */
  static get debug(): boolean {
    return getDebugging();
  }
  static set debug(on: boolean) {
    setDebugging(on);
  }

  /**
   * @param canceller called by cancel() before the Deferred has fired; it may
   *   fire the Deferred itself, otherwise cancel() fails it with CancelledError.
   */
  constructor(canceller?: Canceller<T> | null) {
    if (canceller != null && typeof canceller !== 'function') {
      throw new TypeError(`new Deferred(canceller): canceller must be a function, got ${describeValue(canceller)}`);
    }
    this._s = 0;
    this._r = canceller ?? undefined;
    this._c = null;
    this._e = undefined;
    if (getDebugging()) debugInfoFor(this).creator = captureStack(this.constructor);
  }

  /** True once callback() or errback() has been called. */
  get called(): boolean {
    return (this._s & CALLED) !== 0;
  }

  /** How many unmatched pause() calls (including internal ones while waiting on another Deferred). */
  get paused(): number {
    return this._s >>> 6;
  }

  /**
   * The current result: undefined before firing; while waiting on another
   * Deferred returned by a callback, that Deferred.
   */
  get result(): unknown {
    return this._s & CALLED ? this._r : undefined;
  }

  // --- adding callbacks -------------------------------------------------------

  /**
   * Add a callback and an errback. A null/omitted errback passes failures on.
   * Extra arguments are given after the result.
   */
  addCallbacks<R, E = never>(
    callback: (result: T, ...args: any[]) => R,
    errback?: ((failure: Failure, ...args: any[]) => E) | null,
    callbackArgs?: unknown[] | null,
    errbackArgs?: unknown[] | null,
  ): Deferred<Chained<R> | Chained<E>> {
    checkCallable('addCallbacks', 'callback', callback);
    if (errback != null) checkCallable('addCallbacks', 'errback', errback);
    const ca = checkArgsArray('addCallbacks', 'callbackArgs', callbackArgs);
    const ea = checkArgsArray('addCallbacks', 'errbackArgs', errbackArgs);
    return this._add(callback, errback ?? null, ca, ea) as any;
  }

  /** Add a callback for success; `args` are passed after the result. */
  addCallback<R>(callback: (result: T, ...args: any[]) => R, ...args: unknown[]): Deferred<Chained<R>>;
  addCallback(callback: AnyFn): Deferred<any> {
    if (typeof callback !== 'function') throw notCallable('addCallback', 'callback', callback);
    if (arguments.length > 1) return this._add(callback, null, copyArgs(arguments, 1), undefined);
    return this._push(callback, null);
  }

  /** Add an errback (receives a Failure); `args` are passed after it. */
  addErrback<R>(errback: (failure: Failure, ...args: any[]) => R, ...args: unknown[]): Deferred<T | Chained<R>>;
  addErrback(errback: AnyFn): Deferred<any> {
    if (typeof errback !== 'function') throw notCallable('addErrback', 'errback', errback);
    if (arguments.length > 1) return this._add(null, errback, undefined, copyArgs(arguments, 1));
    return this._push(null, errback);
  }

  /** Add one function as both callback and errback. */
  addBoth<R>(fn: (resultOrFailure: T | Failure, ...args: any[]) => R, ...args: unknown[]): Deferred<Chained<R>>;
  addBoth(fn: AnyFn): Deferred<any> {
    if (typeof fn !== 'function') throw notCallable('addBoth', 'fn', fn);
    const args = arguments.length > 1 ? copyArgs(arguments, 1) : undefined;
    return this._add(fn, fn, args, args);
  }

  /** @internal */
  _add(cb: unknown, eb: unknown, ca: unknown[] | undefined, ea: unknown[] | undefined): this {
    if (ca !== undefined || ea !== undefined) return this._push(new WithArgs(cb, eb, ca, ea), WITH_ARGS);
    return this._push(cb, eb);
  }

  /** @internal append one chain entry (small, to be inlined on the fast path) */
  _push(cb: unknown, eb: unknown): this {
    const c = this._c;
    if (c === null) {
      if (typeof cb === 'function') {
        this._c = cb as AnyFn;
        this._e = eb;
      } else {
        this._c = [cb, eb];
      }
    } else if (typeof c === 'function') {
      this._c = [c, this._e, cb, eb];
      this._e = undefined;
    } else if (c.length === 2 && (this._s & RUNNING) === 0) {
      // Grow 2 -> 4 by hand: push() would jump to 19 slots, then 44.
      this._c = [c[0], c[1], cb, eb];
    } else {
      c.push(cb, eb);
    }
    if (this._s & CALLED) this._runCallbacks();
    return this;
  }

  /** @internal put a callback pair before the others (inlineCallbacks' cancellation). */
  _prepend(cb: unknown, eb: unknown, ca: unknown[] | undefined, ea: unknown[] | undefined): void {
    const c = this._chainArray();
    const entry = ca !== undefined || ea !== undefined ? [new WithArgs(cb, eb, ca, ea), WITH_ARGS] : [cb, eb];
    this._c = c === null ? entry : [...entry, ...c];
  }

  /** @internal leave a continuation for `waiter` (which is paused on this Deferred) */
  _addContinuation(waiter: Deferred<any>): void {
    const c = this._chainArray();
    if (c === null) this._c = [CONTINUE, waiter];
    else c.push(CONTINUE, waiter);
    if (this._s & CALLED) this._runCallbacks();
  }

  /** @internal the chain as flat pairs (a lone pair moves into an array), or null */
  _chainArray(): unknown[] | null {
    const c = this._c;
    if (typeof c !== 'function') return c;
    const a = [c, this._e];
    this._c = a;
    this._e = undefined;
    return a;
  }

  /**
   * Make `d` participate in this chain: when this fires, `d` fires with the
   * same result (this chain then continues with undefined).
   */
  chainDeferred<U>(d: Deferred<U>): Deferred<undefined> {
    if (!(d instanceof Deferred)) throw new TypeError(`chainDeferred: d must be a Deferred, got ${describeValue(d)}`);
    setExplicitChain(d, this);
    d._s |= EXPLICIT_CHAIN;
    return this._add(chainedCallback, chainedErrback, [d], [d]) as any;
  }

  // --- firing -------------------------------------------------------------------

  /** Fire the callback chain with `result`. Throws AlreadyCalledError if already fired. */
  callback(result?: T): void {
    if (result instanceof Deferred) {
      throw new TypeError('callback() was given a Deferred; return it from a callback to chain on it, or use chainDeferred()');
    }
    this._start(result);
  }

  /**
   * Fire the errback chain. An Error is wrapped in a Failure; a non-Error
   * value is wrapped too, in a NonErrorValue whose message says what it was.
   */
  errback(fail?: unknown): void {
    this._start(fail instanceof Failure ? fail : new Failure(fail, 'errback() was given'));
  }

  /** @internal */
  _start(result: unknown): void {
    const s = this._s;
    if (s & CALLED) {
      if (s & SUPPRESS) {
        // Cancelled without a canceller: the real result arrives later and is dropped.
        this._s = s & ~SUPPRESS;
        return;
      }
      throw alreadyCalledError(this);
    }
    if (getDebugging()) debugInfoFor(this).invoker = captureStack(this._start);
    this._s = s | CALLED;
    this._r = result; // also drops the canceller
    this._runCallbacks();
  }

  /** Stop running callbacks until unpause(). */
  pause(): void {
    this._s += PAUSE;
  }

  /** Undo one pause(); when none are left, run the callbacks added meanwhile. */
  unpause(): void {
    if (this._s < PAUSE) return;
    this._s -= PAUSE;
    if (this._s >= PAUSE) return;
    if (this._s & CALLED) this._runCallbacks();
  }

  /**
   * Cancel: before firing, call the canceller; if it did not fire the
   * Deferred, fail it with CancelledError. If this Deferred is waiting on
   * another one (returned from a callback), cancel that one instead.
   */
  cancel(): void {
    const s = this._s;
    if (!(s & CALLED)) {
      const canceller = this._r;
      if (typeof canceller === 'function') canceller(this);
      else this._s = s | SUPPRESS;
      if (!(this._s & CALLED)) this.errback(new Failure(new CancelledError()));
    } else if (this._r instanceof Deferred) {
      this._r.cancel();
    }
  }

  /**
   * Time this Deferred out: after `timeout` seconds on `clock` it is
   * cancelled and then fails with TimeoutError, unless the canceller fired it
   * otherwise or `onTimeoutCancel(value, timeout)` says otherwise. Covers the
   * callbacks added before this call only.
   */
  addTimeout(
    timeout: number,
    clock: ReactorTime = reactor,
    onTimeoutCancel?: (value: unknown, timeout: number) => unknown,
  ): Deferred<T> {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`addTimeout: timeout must be a number of seconds, got ${describeValue(timeout)}`);
    }
    if (clock == null || typeof clock.callLater !== 'function') {
      throw new TypeError(`addTimeout: clock must have callLater() (a Clock or the reactor), got ${describeValue(clock)}`);
    }
    if (onTimeoutCancel != null) checkCallable('addTimeout', 'onTimeoutCancel', onTimeoutCancel);
    let timedOut = false;
    const delayedCall = clock.callLater(timeout, () => {
      timedOut = true;
      this.cancel();
    });
    this._add(
      (value: unknown) => (timedOut ? (onTimeoutCancel ?? cancelledToTimedOut)(value, timeout) : value),
      (value: unknown) => (timedOut ? (onTimeoutCancel ?? cancelledToTimedOut)(value, timeout) : value),
      undefined,
      undefined,
    );
    const stopTimer = (result: unknown) => {
      if (delayedCall.active()) delayedCall.cancel();
      return result;
    };
    return this._add(stopTimer, stopTimer, undefined, undefined);
  }

  // --- the loop -----------------------------------------------------------------

  /**
   * Run the callbacks, iteratively: when a callback returns a Deferred that
   * already has a result, take it and go on; when it has none, leave a
   * continuation on it and stop. When a fired Deferred meets a continuation,
   * it hands its result to the waiting Deferred and the loop carries on with
   * that one, so a chain of any length runs in constant stack depth.
   * @internal
   */
  _runCallbacks(): void {
    if (this._s & RUNNING) return;
    // Deferreds that handed their result on and still have callbacks to run.
    let givers: Deferred<any>[] | null = null;
    let current: Deferred<any> = this;
    for (;;) {
      if (current._s >= PAUSE) return;
      if (current._s & EXPLICIT_CHAIN) {
        current._s &= ~EXPLICIT_CHAIN;
        clearExplicitChain(current);
      }
      let finished = true;
      const chain = current._c;
      if (chain !== null) {
        // `c` is the array being run, or null while the chain is a lone pair
        // (held in _c/_e). A lone pair is taken off the Deferred before it
        // runs, so callbacks its callback adds form a new chain, picked up
        // next. An array's pairs run are cut off only when the loop stops
        // early: nothing else reads the chain while a callback runs (RUNNING
        // blocks re-entry), and callbacks added meanwhile are pushed onto it.
        let c: unknown[] | null = typeof chain === 'function' ? null : chain;
        let stopped = false;
        let i = 0;
        for (;;) {
          const input = current._r;
          let fn: AnyFn | WithArgs | null;
          let second: unknown;
          if (c === null) {
            const next = current._c;
            if (next === null) break;
            if (typeof next !== 'function') {
              c = next;
              continue;
            }
            fn = next;
            second = current._e;
            current._c = null;
            current._e = undefined;
          } else {
            if (i >= c.length) break;
            fn = c[i] as AnyFn | WithArgs | null;
            second = c[i + 1];
            i += 2;
          }
          if (fn === CONTINUE) {
            const waiter = second as Deferred<any>;
            waiter._r = input;
            current._r = undefined;
            waiter._s -= PAUSE;
            (givers ??= []).push(current);
            current = waiter;
            finished = false;
            stopped = true;
            break;
          }
          const failed = input instanceof Failure;
          let args: unknown[] | undefined;
          if (second === WITH_ARGS) {
            const w = fn as WithArgs;
            fn = (failed ? w.eb : w.cb) as AnyFn | null;
            args = failed ? w.ea : w.ca;
          } else if (failed) {
            fn = second as AnyFn | null;
          }
          if (fn === null) continue;
          current._s |= RUNNING;
          let out: unknown;
          try {
            out = args === undefined ? (fn as AnyFn)(input) : (fn as AnyFn)(input, ...args);
          } catch (err) {
            out = err instanceof Failure ? err : new Failure(err, 'a callback threw');
          }
          current._s &= ~RUNNING;
          if (typeof out === 'object' && out !== null && !(out instanceof Failure)) {
            let inner: Deferred<any> | null = null;
            if (out instanceof Deferred) {
              if (out === current) {
                out = new Failure(
                  new TypeError('a callback returned the Deferred it was attached to; that would wait forever'),
                );
              } else {
                inner = out;
              }
            } else if (isThenable(out)) {
              // Like Twisted on asyncio: a Promise is awaited, not passed on as a value.
              inner = Deferred.fromPromise(out);
            }
            if (inner !== null) {
              const is = inner._s;
              if (!(is & CALLED) || is >= PAUSE || inner._r instanceof Deferred) {
                // No result yet: wait for it.
                current._s += PAUSE;
                current._r = inner;
                inner._addContinuation(current);
                stopped = true;
                break;
              }
              // It has a result: take it (the inner Deferred is left with undefined).
              out = inner._r;
              inner._r = undefined;
              if (is & TRACKED) untrackFailure(inner);
            }
          }
          current._r = out;
        }
        if (c !== null) {
          if (stopped) {
            // Drop the callbacks already run; the rest wait for later.
            c.splice(0, i);
          } else if (current._c === c) {
            current._c = null;
          }
        }
      }
      if (finished) {
        const r = current._r;
        if (r instanceof Failure) {
          if (!r._observed) {
            r.cleanFailure();
            trackFailure(current, r, (current._s & TRACKED) !== 0);
            current._s |= TRACKED;
          } else if (current._s & TRACKED) {
            untrackFailure(current);
          }
        } else if (current._s & TRACKED) {
          untrackFailure(current);
        }
        if (givers === null || givers.length === 0) return;
        current = givers.pop()!;
      }
    }
  }

  // --- Promise interop ----------------------------------------------------------

  /**
   * Deferreds are thenable, so `await d` works. then() observes: the chain's
   * result (value or Failure) is passed on unchanged to later callbacks. A
   * Failure that reaches a Promise this way counts as handled for the
   * garbage-collection report (the Promise reports its own rejections).
   */
  then<TResult1 = T, TResult2 = never>(
    onfulfilled?: ((value: T) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: any) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.asPromise().then(onfulfilled, onrejected);
  }

  /** A Promise of this Deferred's result (observing, like then()). */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this._add(observeResult, observeFailure, [resolve], [reject]);
    });
  }

  /**
   * A Deferred that fires when `p` settles. Cancelling it fails it with
   * CancelledError at once; the Promise's later outcome is then ignored.
   */
  static fromPromise<U>(p: PromiseLike<U> | U): Deferred<Awaited<U>> {
    if (p instanceof Deferred) return p as Deferred<Awaited<U>>;
    const d = new Deferred<Awaited<U>>();
    Promise.resolve(p).then(
      (value) => settle(d, value, false),
      (err) => settle(d, err, true),
    );
    return d;
  }

  // --- presentation -------------------------------------------------------------

  toString(): string {
    const name = this.constructor.name;
    const waitingOn = getExplicitChain(this) ?? (this._s & CALLED && this._r instanceof Deferred ? this._r : undefined);
    if (waitingOn !== undefined) return `<${name} waiting on ${(waitingOn as object).constructor.name}>`;
    if (!(this._s & CALLED)) return `<${name}>`;
    return `<${name} current result: ${inspect(this._r, { depth: 1, breakLength: Infinity })}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function chainedCallback(result: unknown, d: Deferred<unknown>): undefined {
  d.callback(result);
  return undefined;
}

function chainedErrback(failure: Failure, d: Deferred<unknown>): undefined {
  d.errback(failure);
  return undefined;
}

function settle(d: Deferred<any>, value: unknown, failed: boolean): void {
  try {
    if (failed) d.errback(value instanceof Failure ? value : new Failure(value, 'the Promise rejected with'));
    else d.callback(value);
  } catch (err) {
    // d was fired by someone else meanwhile; nothing can take this error now.
    reportError('Error firing a Deferred from a settled Promise:', new Failure(err));
  }
}

function cancelledToTimedOut(value: unknown, timeout: number): unknown {
  if (value instanceof Failure) {
    value.trap(CancelledError);
    throw new TimeoutError(timeout, 'Deferred');
  }
  return value;
}

function alreadyCalledError(d: Deferred<any>): AlreadyCalledError {
  if (!getDebugging()) return new AlreadyCalledError();
  const info = getDebugInfo(d) ?? debugInfoFor(d);
  return new AlreadyCalledError(
    `the Deferred has already been fired; callback() and errback() may be called only once\n${formatDebugInfo(info)}`,
  );
}

// --- helpers ------------------------------------------------------------------------

/** A Deferred that has already fired with `result`. */
export function succeed<T>(result: T): Deferred<T> {
  const d = new Deferred<T>();
  if (getDebugging() || result instanceof Deferred) {
    d.callback(result);
  } else {
    // Nothing to run yet: just record the result.
    d._s = CALLED;
    d._r = result;
  }
  return d;
}

/** A Deferred that has already failed with `error` (an Error, a Failure, or anything). */
export function fail<T = never>(error?: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d._start(error instanceof Failure ? error : new Failure(error, 'fail() was given'));
  return d;
}

/**
 * Call `fn(...args)` and always get a Deferred: its Deferred as is, a Promise
 * as a Deferred, a returned Failure or a throw as a failed Deferred,
 * anything else as a fired one.
 */
export function maybeDeferred<R>(fn: (...args: any[]) => R, ...args: unknown[]): Deferred<Chained<R>> {
  checkCallable('maybeDeferred', 'fn', fn);
  let result: unknown;
  try {
    result = fn(...args);
  } catch (err) {
    return fail(err instanceof Failure ? err : new Failure(err, 'maybeDeferred: the function threw'));
  }
  if (result instanceof Deferred) return result;
  if (result instanceof Failure) return fail(result);
  if (typeof result === 'object' && result !== null && isThenable(result)) return Deferred.fromPromise(result) as any;
  return succeed(result) as any;
}
