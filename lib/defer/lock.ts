// Twisted's DeferredLock and DeferredSemaphore.

import { Deferred, maybeDeferred, type Chained } from './deferred';
import { describeValue } from './failure';

abstract class ConcurrencyPrimitive {
  /** Deferreds waiting to acquire, oldest first. */
  readonly waiting: Deferred<any>[] = [];
  /** @internal canceller for waiting acquires: just stop waiting */
  protected readonly cancelAcquire = (d: Deferred<any>): void => {
    const i = this.waiting.indexOf(d);
    if (i >= 0) this.waiting.splice(i, 1);
  };

  abstract acquire(): Deferred<this>;
  abstract release(): void;

  /**
   * Acquire, call `fn(...args)`, release when its result (or the Deferred or
   * Promise it returns) is ready. Returns a Deferred of that result.
   */
  run<R>(fn: (...args: any[]) => R, ...args: unknown[]): Deferred<Chained<R>> {
    if (typeof fn !== 'function') {
      throw new TypeError(`${this.constructor.name}.run: fn must be a function, got ${describeValue(fn)}`);
    }
    return this.acquire().addCallback(() =>
      maybeDeferred(fn, ...args).addBoth((result) => {
        this.release();
        return result;
      }),
    ) as Deferred<any>;
  }
}

/** A lock for event-driven code: acquire() fires once the lock is yours. */
export class DeferredLock extends ConcurrencyPrimitive {
  /** True while someone holds the lock. */
  locked = false;

  /** A Deferred that fires with this lock once acquired; cancel it to stop waiting. */
  acquire(): Deferred<this> {
    const d = new Deferred<this>(this.cancelAcquire);
    if (this.locked) {
      this.waiting.push(d);
    } else {
      this.locked = true;
      d.callback(this);
    }
    return d;
  }

  /** Release the lock; the oldest waiter, if any, gets it. */
  release(): void {
    if (!this.locked) throw new Error('DeferredLock.release(): the lock is not locked (release() without acquire()?)');
    this.locked = false;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.locked = true;
      next.callback(this);
    }
  }
}

/** A semaphore for event-driven code: at most `tokens` holders at once. */
export class DeferredSemaphore extends ConcurrencyPrimitive {
  /** Tokens still available. */
  tokens: number;
  /** The most tokens there can be. */
  readonly limit: number;

  constructor(tokens: number) {
    super();
    if (typeof tokens !== 'number' || !Number.isInteger(tokens)) {
      throw new TypeError(`DeferredSemaphore: tokens must be an integer, got ${describeValue(tokens)}`);
    }
    if (tokens < 1) throw new RangeError(`DeferredSemaphore requires tokens >= 1, got ${tokens}`);
    this.tokens = tokens;
    this.limit = tokens;
  }

  acquire(): Deferred<this> {
    const d = new Deferred<this>(this.cancelAcquire);
    if (this.tokens === 0) {
      this.waiting.push(d);
    } else {
      this.tokens -= 1;
      d.callback(this);
    }
    return d;
  }

  release(): void {
    if (this.tokens >= this.limit) {
      throw new Error('DeferredSemaphore.release(): released more times than acquired (no token is held)');
    }
    this.tokens += 1;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.tokens -= 1;
      next.callback(this);
    }
  }
}
