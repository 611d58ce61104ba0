// Twisted's DeferredList and gatherResults.

import { Deferred } from './deferred';
import { FirstError } from './errors';
import { Failure, describeValue } from './failure';
import { reportError } from './debug';

export const SUCCESS = true;
export const FAILURE = false;

export interface DeferredListOptions {
  /** Fire with `[value, index]` as soon as one Deferred succeeds. */
  fireOnOneCallback?: boolean;
  /** Fail with a FirstError as soon as one Deferred fails. */
  fireOnOneErrback?: boolean;
  /**
   * Turn failures into undefined on the listed Deferreds after the list has
   * seen them, so later callbacks there (and the GC report) do not get them.
   */
  consumeErrors?: boolean;
}

/** One entry of a DeferredList's result: `[true, value]` or `[false, Failure]`. */
export type DeferredListResult<T> = [true, T] | [false, Failure];

function toDeferred(d: unknown, index: number): Deferred<any> {
  if (d instanceof Deferred) return d;
  if (typeof d === 'object' && d !== null && typeof (d as PromiseLike<unknown>).then === 'function') {
    return Deferred.fromPromise(d);
  }
  throw new TypeError(`DeferredList: item ${index} must be a Deferred (or a Promise), got ${describeValue(d)}`);
}

/**
 * Collects the results of several Deferreds. By default it fires, once all
 * have fired, with a list of `[success, valueOrFailure]` in input order.
 */
export class DeferredList<T = unknown> extends Deferred<any> {
  readonly resultList: (DeferredListResult<T> | undefined)[];
  finishedCount = 0;
  readonly fireOnOneCallback: boolean;
  readonly fireOnOneErrback: boolean;
  readonly consumeErrors: boolean;
  private readonly deferredList: Deferred<T>[];

  constructor(deferredList: Iterable<Deferred<T> | PromiseLike<T>>, options: DeferredListOptions = {}) {
    super();
    if (deferredList == null || typeof (deferredList as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`DeferredList: deferredList must be an array of Deferreds, got ${describeValue(deferredList)}`);
    }
    this.deferredList = Array.from(deferredList, toDeferred);
    this.resultList = new Array(this.deferredList.length).fill(undefined);
    this.fireOnOneCallback = !!options.fireOnOneCallback;
    this.fireOnOneErrback = !!options.fireOnOneErrback;
    this.consumeErrors = !!options.consumeErrors;
    if (this.deferredList.length === 0 && !this.fireOnOneCallback) this.callback(this.resultList);
    // Flags are set before adding callbacks: already-fired Deferreds run them now.
    this.deferredList.forEach((d, index) => {
      d.addCallbacks(collect, collect, [this, index, SUCCESS], [this, index, FAILURE]);
    });
  }

  /** @internal */
  _collect(result: unknown, index: number, succeeded: boolean): unknown {
    this.resultList[index] = [succeeded, result] as DeferredListResult<T>;
    this.finishedCount += 1;
    if (!this.called) {
      if (succeeded && this.fireOnOneCallback) this.callback([result, index]);
      else if (!succeeded && this.fireOnOneErrback) this.errback(new Failure(new FirstError(result as Failure, index)));
      else if (this.finishedCount === this.resultList.length) this.callback(this.resultList);
    }
    return !succeeded && this.consumeErrors ? undefined : result;
  }

  /**
   * Before the list has fired, cancel every Deferred in it (a canceller that
   * throws is reported, and the others are still cancelled). After, nothing.
   */
  override cancel(): void {
    if (this.called) return;
    for (const d of this.deferredList) {
      try {
        d.cancel();
      } catch (err) {
        reportError('Exception raised from user supplied canceller:', new Failure(err));
      }
    }
  }
}

function collect(result: unknown, list: DeferredList<any>, index: number, succeeded: boolean): unknown {
  return list._collect(result, index, succeeded);
}

/**
 * A Deferred of all the results, in order; fails with a FirstError as soon
 * as one fails. Cancelling it cancels every input Deferred.
 */
export function gatherResults<T>(
  deferredList: Iterable<Deferred<T> | PromiseLike<T>>,
  consumeErrors = false,
): Deferred<T[]> {
  const d = new DeferredList<T>(deferredList, { fireOnOneErrback: true, consumeErrors });
  return d.addCallback(valuesOf) as Deferred<T[]>;
}

function valuesOf<T>(results: DeferredListResult<T>[]): T[] {
  return results.map((r) => r[1] as T);
}
