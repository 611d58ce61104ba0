// Error classes of the Deferred toolkit, named as in Twisted.

import type { Failure } from './failure';

/** callback() or errback() was called on a Deferred that already fired. */
export class AlreadyCalledError extends Error {
  constructor(message = 'the Deferred has already been fired; callback() and errback() may be called only once') {
    super(message);
    this.name = 'AlreadyCalledError';
  }
}

/** The failure a cancelled Deferred gets when its canceller did not fire it. */
export class CancelledError extends Error {
  constructor(message = 'the Deferred was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A Deferred timed out (Deferred.addTimeout). */
export class TimeoutError extends Error {
  /** The timeout, in seconds. */
  readonly timeout: number | undefined;
  constructor(timeout?: number, what = 'Deferred') {
    super(timeout === undefined ? `${what} timed out` : `${what} timed out after ${timeout} seconds`);
    this.name = 'TimeoutError';
    this.timeout = timeout;
  }
}

/** The first failure in a DeferredList with fireOnOneErrback (and gatherResults). */
export class FirstError extends Error {
  readonly subFailure: Failure;
  readonly index: number;
  constructor(subFailure: Failure, index: number) {
    super(`FirstError[#${index}, ${subFailure.toString()}]`);
    this.name = 'FirstError';
    this.subFailure = subFailure;
    this.index = index;
  }
  /** Equal when index and sub-failure are the same (Twisted's comparison). */
  equals(other: unknown): boolean {
    return other instanceof FirstError && other.index === this.index && other.subFailure === this.subFailure;
  }
}

/** DeferredQueue.put() on a full queue. */
export class QueueOverflow extends Error {
  constructor(message = 'the DeferredQueue is full (size limit reached); wait for a get() before putting more') {
    super(message);
    this.name = 'QueueOverflow';
  }
}

/** DeferredQueue.get() when the backlog of waiting gets is full. */
export class QueueUnderflow extends Error {
  constructor(message = 'too many get() calls are already waiting on this DeferredQueue (backlog limit reached)') {
    super(message);
    this.name = 'QueueUnderflow';
  }
}

/** cancel(), reset() or delay() on a DelayedCall that was already cancelled. */
export class AlreadyCancelledError extends Error {
  constructor(message = 'the DelayedCall was already cancelled') {
    super(message);
    this.name = 'AlreadyCancelledError';
  }
}

/** ensureDeferred() was given something that is neither a Deferred, a Promise nor a generator. */
export class NotACoroutineError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'NotACoroutineError';
  }
}
