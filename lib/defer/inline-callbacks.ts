// Twisted's inlineCallbacks: write Deferred-using code as a generator.
//
//   const getUser = inlineCallbacks(function* (id) {
//     const row = yield db.get(id);       // a Deferred (or a Promise)
//     return row.name;
//   });
//   getUser(7).addCallback(console.log);
//
// The generator is driven by a loop, not by recursion, so yielding any number
// of already-fired Deferreds runs in constant stack depth.

import { Chained, Deferred } from './deferred';
import { NotACoroutineError } from './errors';
import { Failure, describeValue } from './failure';
import { untrackFailure } from './debug';

const CALLED = 1;
const RUNNING = 2;
const TRACKED = 8;
const PAUSE = 64;

interface Status {
  /** The Deferred the caller holds (replaced when it is cancelled). */
  deferred: Deferred<any>;
  gen: Generator<unknown, unknown, unknown>;
  /** The Deferred the generator is waiting on. */
  waitingOn: Deferred<any> | null;
  /** True while the loop is still on the stack after adding its callback. */
  waiting: boolean;
  result: unknown;
  /** cancel() arrived while the generator was running: cancel what it waits on next. */
  cancelPending: boolean;
  /** [this], the extra argument list for resume() (allocated once) */
  args: unknown[];
}

class InlineCallbacksCancelled extends Error {
  constructor() {
    super('internal: inlineCallbacks cancellation');
    this.name = 'InlineCallbacksCancelled';
  }
}

function isGenerator(x: unknown): x is Generator<unknown, unknown, unknown> {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Generator).next === 'function' &&
    typeof (x as Generator).throw === 'function' &&
    typeof (x as Generator).return === 'function'
  );
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

function resume(result: unknown, status: Status): undefined {
  if (status.waiting) {
    status.waiting = false;
    status.result = result;
  } else {
    runGenerator(result, status);
  }
  // Like Twisted, the yielded Deferred's result is consumed (errors included).
  return undefined;
}

function runGenerator(result: unknown, status: Status): void {
  status.waiting = true;
  status.result = undefined;
  const gen = status.gen;
  for (;;) {
    let step: IteratorResult<unknown, unknown>;
    try {
      step = result instanceof Failure ? gen.throw(result.value) : gen.next(result);
    } catch (err) {
      status.waitingOn = null;
      status.deferred.errback(err instanceof Failure ? err : new Failure(err, 'an inlineCallbacks generator threw'));
      return;
    }
    let value = step.value;
    if (!(value instanceof Deferred) && isThenable(value)) value = Deferred.fromPromise(value);
    if (step.done === true) {
      status.waitingOn = null;
      if (value instanceof Deferred) {
        // `return d` behaves like `return yield d`.
        status.waitingOn = value;
        value._add(finishWith, finishWithFailure, status.args, status.args);
      } else {
        status.deferred.callback(value);
      }
      return;
    }
    if (!(value instanceof Deferred)) {
      // Anything else is sent straight back, as in Twisted.
      result = value;
      continue;
    }
    const s = value._s;
    if ((s & CALLED) !== 0 && s < PAUSE && (s & RUNNING) === 0 && value._c === null) {
      // Fast path: already fired and idle. Same as adding resume(), without the allocation.
      result = value._r;
      value._r = undefined;
      if (s & TRACKED) untrackFailure(value);
      continue;
    }
    value._add(resume, resume, status.args, status.args);
    if (status.waiting) {
      status.waiting = false;
      status.waitingOn = value;
      if (status.cancelPending) {
        status.cancelPending = false;
        value.cancel();
      }
      return;
    }
    result = status.result;
    status.waiting = true;
    status.result = undefined;
  }
}

function finishWith(result: unknown, status: Status): undefined {
  status.waitingOn = null;
  status.deferred.callback(result);
  return undefined;
}

function finishWithFailure(failure: Failure, status: Status): undefined {
  status.waitingOn = null;
  status.deferred.errback(failure);
  return undefined;
}

function cancelInline(it: Deferred<any>, status: Status): void {
  // Run handleCancel before the caller's callbacks: it swaps in a fresh
  // Deferred that the generator will fire, and cancels what it waits on.
  it._prepend(null, handleCancel, undefined, [status]);
  it.errback(new Failure(new InlineCallbacksCancelled()));
}

function handleCancel(failure: Failure, status: Status): Deferred<any> {
  failure.trap(InlineCallbacksCancelled);
  status.deferred = new Deferred((d) => cancelInline(d, status));
  const awaited = status.waitingOn;
  if (awaited !== null) awaited.cancel();
  else status.cancelPending = true;
  return status.deferred;
}

/** Drive a generator object; the returned Deferred fires with its return value. */
export function runInlineCallbacks<R>(gen: Generator<unknown, R, any>): Deferred<Chained<R>> {
  const status: Status = {
    deferred: null as unknown as Deferred<any>,
    gen,
    waitingOn: null,
    waiting: true,
    result: undefined,
    cancelPending: false,
    args: [],
  };
  status.args.push(status);
  const deferred = new Deferred<any>((d) => cancelInline(d, status));
  status.deferred = deferred;
  runGenerator(undefined, status);
  return deferred;
}

/**
 * Wrap a generator function: each call runs the generator, which yields
 * Deferreds (or Promises, or plain values) and gets their results back (a
 * failure is thrown into it). Returns a Deferred of the generator's return
 * value. Cancelling that Deferred cancels the Deferred the generator is
 * waiting on; the generator sees CancelledError (unless the canceller fired
 * it otherwise) and decides the outcome.
 */
export function inlineCallbacks<A extends unknown[], R>(
  fn: (...args: A) => Generator<unknown, R, any>,
): (...args: A) => Deferred<Chained<R>> {
  if (typeof fn !== 'function') {
    throw new TypeError(`inlineCallbacks: fn must be a generator function, got ${describeValue(fn)}`);
  }
  const wrapped = function (this: unknown, ...args: A): Deferred<Chained<R>> {
    const gen = fn.apply(this, args);
    if (!isGenerator(gen)) {
      throw new TypeError(
        `inlineCallbacks requires ${fn.name || 'the function'} to produce a generator (use function*); instead got ${describeValue(gen)}`,
      );
    }
    return runInlineCallbacks(gen);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}

/**
 * A Deferred for a Deferred (returned as is), a Promise or other thenable,
 * or a generator object (run as with inlineCallbacks).
 */
export function ensureDeferred<T>(x: Deferred<T> | PromiseLike<T> | Generator<unknown, T, any>): Deferred<Chained<T>> {
  if (x instanceof Deferred) return x as Deferred<Chained<T>>;
  if (isThenable(x)) return Deferred.fromPromise(x) as Deferred<Chained<T>>;
  if (isGenerator(x)) return runInlineCallbacks(x);
  throw new NotACoroutineError(
    `ensureDeferred: expected a Deferred, a Promise or a generator, got ${describeValue(x)}`,
  );
}
