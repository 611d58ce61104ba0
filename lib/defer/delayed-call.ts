// Twisted's DelayedCall: a call scheduled on a clock, which can be cancelled,
// reset or delayed until it runs.

import { AlreadyCalledError, AlreadyCancelledError } from './errors';
import { describeValue } from './failure';

/** What a DelayedCall needs from the clock that scheduled it. */
export interface DelayedCallScheduler {
  seconds(): number;
  /** @internal Forget a cancelled call. */
  _removeCall(call: DelayedCall): void;
  /** @internal The call now runs earlier than it was scheduled for. */
  _rescheduleCall(call: DelayedCall): void;
}

/** Twisted's IReactorTime: what addTimeout, deferLater and friends need from a clock. */
export interface ReactorTime {
  /** The current time in seconds. */
  seconds(): number;
  /** Call `fn(...args)` after `delay` seconds. */
  callLater(delay: number, fn: (...args: any[]) => unknown, ...args: unknown[]): DelayedCall;
  /** Every call scheduled and not yet run or cancelled. */
  getDelayedCalls(): DelayedCall[];
}

export class DelayedCall {
  /** When the call was scheduled for, not counting delay(). */
  time: number;
  /** Extra delay pushed by reset()/delay(), applied lazily (as in Twisted). */
  delayedTime = 0;
  called = false;
  cancelled = false;
  func: ((...args: any[]) => unknown) | null;
  args: unknown[] | null;
  /** @internal the clock's timer handle, if any */
  _handle: unknown = undefined;
  private readonly scheduler: DelayedCallScheduler;

  constructor(time: number, func: (...args: any[]) => unknown, args: unknown[], scheduler: DelayedCallScheduler) {
    this.time = time;
    this.func = func;
    this.args = args;
    this.scheduler = scheduler;
  }

  /** When the call will run, in the clock's seconds. */
  getTime(): number {
    return this.time + this.delayedTime;
  }

  /** Unschedule the call. Throws if it already ran or was cancelled. */
  cancel(): void {
    this.checkPending('cancel');
    this.scheduler._removeCall(this);
    this.cancelled = true;
    this.func = null;
    this.args = null;
  }

  /** Reschedule the call to run `secondsFromNow` seconds from now. */
  reset(secondsFromNow: number): void {
    this.checkPending('reset');
    checkSeconds('reset', 'secondsFromNow', secondsFromNow);
    const newTime = this.scheduler.seconds() + secondsFromNow;
    if (newTime < this.time) {
      this.delayedTime = 0;
      this.time = newTime;
      this.scheduler._rescheduleCall(this);
    } else {
      this.delayedTime = newTime - this.time;
    }
  }

  /** Push the call back by `secondsLater` seconds (negative brings it forward). */
  delay(secondsLater: number): void {
    this.checkPending('delay');
    checkSeconds('delay', 'secondsLater', secondsLater, true);
    this.delayedTime += secondsLater;
    if (this.delayedTime < 0) {
      this.activateDelay();
      this.scheduler._rescheduleCall(this);
    }
  }

  /** True until the call runs or is cancelled. */
  active(): boolean {
    return !(this.cancelled || this.called);
  }

  /** @internal fold delayedTime into time */
  activateDelay(): void {
    this.time += this.delayedTime;
    this.delayedTime = 0;
  }

  /** @internal mark called and run */
  _run(): void {
    const func = this.func!;
    const args = this.args!;
    this.called = true;
    this.func = null;
    this.args = null;
    func(...args);
  }

  toString(): string {
    const state = this.called ? 'called' : this.cancelled ? 'cancelled' : `runs at ${this.getTime()}`;
    return `<DelayedCall ${state}>`;
  }

  private checkPending(what: string): void {
    if (this.cancelled) throw new AlreadyCancelledError(`DelayedCall.${what}(): the call was already cancelled`);
    if (this.called) throw new AlreadyCalledError(`DelayedCall.${what}(): the call has already run`);
  }
}

/** Validate a seconds argument (TypeError/RangeError naming it). */
export function checkSeconds(method: string, name: string, value: unknown, allowNegative = false): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${method}: ${name} must be a number of seconds, got ${describeValue(value)}`);
  }
  if (!allowNegative && value < 0) throw new RangeError(`${method}: ${name} must not be negative, got ${value}`);
}

export function checkFunction(method: string, name: string, value: unknown): void {
  if (typeof value !== 'function') throw new TypeError(`${method}: ${name} must be a function, got ${describeValue(value)}`);
}
