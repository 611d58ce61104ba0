// Twisted's task.Clock: a ReactorTime whose time moves only when told to, for
// tests. Plus deferLater.

import { Deferred } from './deferred';
import { DelayedCall, type DelayedCallScheduler, type ReactorTime, checkFunction, checkSeconds } from './delayed-call';
import { reactor } from './realtime-clock';

export class Clock implements ReactorTime, DelayedCallScheduler {
  /** The current time, in seconds; starts at 0. */
  rightNow = 0;
  /** Pending calls, ordered by getTime(). */
  calls: DelayedCall[] = [];

  seconds(): number {
    return this.rightNow;
  }

  callLater(delay: number, fn: (...args: any[]) => unknown, ...args: unknown[]): DelayedCall {
    checkSeconds('callLater', 'delay', delay);
    checkFunction('callLater', 'fn', fn);
    const call = new DelayedCall(this.seconds() + delay, fn, args, this);
    this.calls.push(call);
    this.sortCalls();
    return call;
  }

  getDelayedCalls(): DelayedCall[] {
    return this.calls.slice();
  }

  /**
   * Move time forward by `amount` seconds and run every call that is due, in
   * time order (calls due at the same time run in the order scheduled). An
   * exception from a call propagates out of advance(), as in Twisted.
   */
  advance(amount: number): void {
    checkSeconds('advance', 'amount', amount);
    this.rightNow += amount;
    this.sortCalls();
    while (this.calls.length > 0 && this.calls[0].getTime() <= this.seconds()) {
      const call = this.calls.shift()!;
      call._run();
      this.sortCalls();
    }
  }

  /** advance() by each amount in turn. */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }

  /** @internal */
  _removeCall(call: DelayedCall): void {
    const i = this.calls.indexOf(call);
    if (i >= 0) this.calls.splice(i, 1);
  }

  /** @internal calls are re-sorted on every advance() */
  _rescheduleCall(_call: DelayedCall): void {}

  private sortCalls(): void {
    // Array.prototype.sort is stable: equal times keep scheduling order.
    this.calls.sort((a, b) => a.getTime() - b.getTime());
  }
}

/**
 * A Deferred that fires after `delay` seconds on `clock` with the result of
 * `fn(...args)` (or undefined without fn). Cancelling it unschedules the call
 * and fails it with CancelledError.
 */
export function deferLater<R = undefined>(
  clock: ReactorTime | null | undefined,
  delay: number,
  fn?: ((...args: any[]) => R) | null,
  ...args: unknown[]
): Deferred<Awaited<R>> {
  const time = clock ?? reactor;
  if (typeof time.callLater !== 'function') throw new TypeError('deferLater: clock must have callLater() (a Clock or the reactor)');
  checkSeconds('deferLater', 'delay', delay);
  if (fn != null) checkFunction('deferLater', 'fn', fn);
  const d = new Deferred<any>(() => delayedCall.cancel());
  d.addCallback(() => (fn == null ? undefined : fn(...args)));
  const delayedCall = time.callLater(delay, fireLater, d);
  return d;
}

function fireLater(d: Deferred<unknown>): void {
  d.callback(undefined);
}
