// A ReactorTime on Node's timers: the default clock (Twisted's reactor).

import { DelayedCall, type DelayedCallScheduler, type ReactorTime, checkFunction, checkSeconds } from './delayed-call';
import { Failure } from './failure';
import { reportError } from './debug';

// setTimeout cannot wait longer than this many milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RealtimeClock implements ReactorTime, DelayedCallScheduler {
  private readonly calls = new Set<DelayedCall>();
  private refed = true;

  /**
   * @param options.unref when true, pending calls do not keep the process
   *   alive (for library timers such as idle timeouts).
   */
  constructor(options: { unref?: boolean } = {}) {
    this.refed = !options.unref;
  }

  /** Wall-clock seconds (epoch), monotonic within the process. */
  seconds(): number {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  callLater(delay: number, fn: (...args: any[]) => unknown, ...args: unknown[]): DelayedCall {
    checkSeconds('callLater', 'delay', delay);
    checkFunction('callLater', 'fn', fn);
    const call = new DelayedCall(this.seconds() + delay, fn, args, this);
    this.calls.add(call);
    this.arm(call);
    return call;
  }

  getDelayedCalls(): DelayedCall[] {
    return [...this.calls];
  }

  /** @internal */
  _removeCall(call: DelayedCall): void {
    clearTimeout(call._handle as NodeJS.Timeout);
    call._handle = undefined;
    this.calls.delete(call);
  }

  /** @internal */
  _rescheduleCall(call: DelayedCall): void {
    clearTimeout(call._handle as NodeJS.Timeout);
    this.arm(call);
  }

  private arm(call: DelayedCall): void {
    // Rounded up: Node timers count whole milliseconds from the loop's cached time, so they can
    // fire a fraction of a millisecond early; _fire() re-arms until the call is really due.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((call.time - this.seconds()) * 1000)));
    const handle = setTimeout(fire, ms, this, call);
    if (!this.refed) handle.unref();
    call._handle = handle;
  }

  /** @internal */
  _fire(call: DelayedCall): void {
    if (!call.active()) return;
    // reset()/delay() to a later time only record delayedTime; apply it now,
    // as Twisted's reactor does, instead of re-arming on every reset.
    if (call.delayedTime > 0) call.activateDelay();
    // Never before its time, as Twisted's reactor: seconds() >= getTime() when a call runs.
    if (call.time > this.seconds()) {
      this.arm(call);
      return;
    }
    this.calls.delete(call);
    call._handle = undefined;
    try {
      call._run();
    } catch (err) {
      // A throwing timer must not kill the process (Twisted logs and goes on).
      reportError('Unhandled error in a delayed call:', new Failure(err, 'a delayed call threw'));
    }
  }
}

function fire(clock: RealtimeClock, call: DelayedCall): void {
  clock._fire(call);
}

/** The default clock: real time, on Node timers (Twisted's reactor). */
export const reactor: RealtimeClock = new RealtimeClock();
