// Twisted's DeferredQueue: get() returns a Deferred that fires when an item is available.

import { Deferred, succeed } from './deferred';
import { QueueOverflow, QueueUnderflow } from './errors';
import { describeValue } from './failure';

export class DeferredQueue<T = unknown> {
  /** Deferreds from get() waiting for an item, oldest first. */
  readonly waiting: Deferred<T>[] = [];
  /** Items put and not yet taken. */
  readonly pending: T[] = [];
  /** Most items held at once (null: no limit). */
  readonly size: number | null;
  /** Most get()s waiting at once (null: no limit). */
  readonly backlog: number | null;
  private readonly cancelGet = (d: Deferred<T>): void => {
    const i = this.waiting.indexOf(d);
    if (i >= 0) this.waiting.splice(i, 1);
  };

  constructor(size: number | null = null, backlog: number | null = null) {
    for (const [name, v] of [['size', size], ['backlog', backlog]] as const) {
      if (v !== null && v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || v < 0)) {
        throw new TypeError(`DeferredQueue: ${name} must be a non-negative number or null, got ${describeValue(v)}`);
      }
    }
    this.size = size ?? null;
    this.backlog = backlog ?? null;
  }

  /** Add an item (handing it to the oldest waiting get()). Throws QueueOverflow when full. */
  put(obj: T): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.callback(obj);
    else if (this.size === null || this.pending.length < this.size) this.pending.push(obj);
    else throw new QueueOverflow();
  }

  /**
   * A Deferred of the next item. Throws QueueUnderflow when `backlog` gets are
   * already waiting. Cancelling a waiting get() removes it from the queue.
   */
  get(): Deferred<T> {
    if (this.pending.length > 0) return succeed(this.pending.shift() as T);
    if (this.backlog === null || this.waiting.length < this.backlog) {
      const d = new Deferred<T>(this.cancelGet);
      this.waiting.push(d);
      return d;
    }
    throw new QueueUnderflow();
  }
}
