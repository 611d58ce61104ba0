// Ports of twisted/test/test_task.py ClockTests and DeferLaterTests, plus the real-time clock.

import { expect } from 'chai';
import {
  AlreadyCalledError,
  AlreadyCancelledError,
  CancelledError,
  Clock,
  DelayedCall,
  RealtimeClock,
  deferLater,
  reactor,
} from '../../lib/defer';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Failure, setUnhandledErrorHandler } from '../../lib/defer';
import { assertNoResult, failureResultOf, successResultOf } from './helpers';

describe('defer: Clock (test_task.ClockTests)', () => {
  it('testSeconds: a new Clock says 0 seconds', () => {
    expect(new Clock().seconds()).to.equal(0);
  });

  it('testCallLater: callLater returns an active DelayedCall for the right time', () => {
    const c = new Clock();
    const call = c.callLater(1, (_a: number, _b: number) => undefined, 1, 2);
    expect(call).to.be.instanceOf(DelayedCall);
    expect(call.getTime()).to.equal(1);
    expect(call.active()).to.equal(true);
  });

  it('testCallLaterCancelled: a cancelled call is not active', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined);
    call.cancel();
    expect(call.active()).to.equal(false);
    expect(call.cancelled).to.equal(true);
    expect(c.getDelayedCalls()).to.deep.equal([]);
  });

  it('test_callLaterOrdering: each callLater returns a new DelayedCall', () => {
    const c = new Clock();
    const call1 = c.callLater(10, () => undefined);
    const call2 = c.callLater(1, () => undefined);
    expect(call1).to.not.equal(call2);
  });

  it('testAdvance: advancing the clock runs calls that are due', () => {
    const events: null[] = [];
    const c = new Clock();
    const call = c.callLater(2, () => events.push(null));
    c.advance(1);
    expect(events).to.deep.equal([]);
    c.advance(1);
    expect(events).to.deep.equal([null]);
    expect(call.active()).to.equal(false);
    expect(call.called).to.equal(true);
  });

  it('testAdvanceCancel: cancelling a call from inside itself raises AlreadyCalled', () => {
    const c = new Clock();
    let raised: unknown;
    const call: DelayedCall = c.callLater(1, () => {
      try {
        call.cancel();
      } catch (e) {
        raised = e;
      }
    });
    c.advance(1);
    expect(raised).to.be.instanceOf(AlreadyCalledError);
  });

  it('testCallLaterDelayed: delay() pushes a call back', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(1, (a: number, b: number) => events.push([a, b]), 1, 2);
    call.delay(1);
    expect(call.getTime()).to.equal(2);
    c.advance(1.5);
    expect(events).to.deep.equal([]);
    c.advance(1.0);
    expect(events).to.deep.equal([[1, 2]]);
  });

  it('testCallLaterResetLater: reset() to a later time', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(2, (a: number, b: number) => events.push([a, b]), 1, 2);
    c.advance(1);
    call.reset(3);
    expect(call.getTime()).to.equal(4);
    c.advance(2);
    expect(events).to.deep.equal([]);
    c.advance(1);
    expect(events).to.deep.equal([[1, 2]]);
  });

  it('testCallLaterResetSooner: reset() to an earlier time', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(4, (a: number, b: number) => events.push([a, b]), 1, 2);
    call.reset(3);
    expect(call.getTime()).to.equal(3);
    c.advance(3);
    expect(events).to.deep.equal([[1, 2]]);
  });

  it('test_getDelayedCalls: lists every pending call', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined);
    const call2 = c.callLater(2, () => undefined);
    expect(new Set(c.getDelayedCalls())).to.deep.equal(new Set([call, call2]));
  });

  it('test_getDelayedCallsEmpty: a new Clock has no calls', () => {
    expect(new Clock().getDelayedCalls()).to.deep.equal([]);
  });

  it('test_callLaterKeepsCallsOrdered: a call reset later runs after a newer earlier call', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string) => result.push([n, clock.seconds()]);
    const callA = clock.callLater(1.0, logtime, 'a');
    callA.reset(3.0);
    clock.callLater(2.0, logtime, 'b');
    clock.pump([1, 1, 1]);
    expect(result).to.deep.equal([
      ['b', 2.0],
      ['a', 3.0],
    ]);
  });

  it('test_callLaterResetKeepsCallsOrdered: reset past another call reorders them', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string) => result.push([n, clock.seconds()]);
    const callA = clock.callLater(1.0, logtime, 'a');
    clock.callLater(2.0, logtime, 'b');
    callA.reset(3.0);
    clock.pump([1, 1, 1]);
    expect(result).to.deep.equal([
      ['b', 2.0],
      ['a', 3.0],
    ]);
  });

  it('test_callLaterResetInsideCallKeepsCallsOrdered: reset from inside a call keeps order', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string) => result.push([n, clock.seconds()]);
    const callB = clock.callLater(2.0, logtime, 'b');
    clock.callLater(1.0, () => callB.reset(3.0));
    clock.callLater(3.0, logtime, 'c');
    clock.pump(new Array(10).fill(0.5));
    expect(result).to.deep.equal([
      ['c', 3.0],
      ['b', 4.0],
    ]);
  });

  it('calls due at the same time run in the order they were scheduled', () => {
    const order: number[] = [];
    const c = new Clock();
    for (let i = 0; i < 5; i++) c.callLater(1, () => order.push(i));
    c.advance(1);
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('cancel/reset/delay on a cancelled call raise AlreadyCancelledError; on a called one AlreadyCalledError', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined);
    call.cancel();
    expect(() => call.cancel()).to.throw(AlreadyCancelledError);
    expect(() => call.reset(1)).to.throw(AlreadyCancelledError);
    expect(() => call.delay(1)).to.throw(AlreadyCancelledError);
    const ran = c.callLater(1, () => undefined);
    c.advance(1);
    expect(() => ran.reset(1)).to.throw(AlreadyCalledError);
  });

  it('an exception from a call propagates out of advance(), as in Twisted', () => {
    const c = new Clock();
    c.callLater(1, () => {
      throw new RangeError('in call');
    });
    expect(() => c.advance(1)).to.throw(RangeError, 'in call');
    expect(c.getDelayedCalls()).to.deep.equal([]);
  });

  it('callLater with bad arguments throws naming them', () => {
    const c = new Clock();
    expect(() => c.callLater(-1, () => undefined)).to.throw(RangeError, /delay must not be negative/);
    expect(() => c.callLater(1, 'x' as any)).to.throw(TypeError, /callLater: fn must be a function/);
  });
});

describe('defer: deferLater (test_task.DeferLaterTests)', () => {
  it('test_callback: fires with fn(...args) after the delay', () => {
    const clock = new Clock();
    const d = deferLater(clock, 3, (a: number, b: number) => a + b, 2, 5);
    clock.advance(2);
    assertNoResult(d);
    clock.advance(1);
    expect(successResultOf(d)).to.equal(7);
  });

  it('test_errback: a throw from fn fails the Deferred', () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, () => {
      throw new RangeError('later');
    });
    clock.advance(1);
    failureResultOf(d, RangeError);
  });

  it('test_cancel: cancelling unschedules the call and fails with CancelledError', () => {
    const clock = new Clock();
    let ran = false;
    const d = deferLater(clock, 1, () => {
      ran = true;
    });
    expect(clock.getDelayedCalls()).to.have.length(1);
    d.cancel();
    expect(clock.getDelayedCalls()).to.deep.equal([]);
    failureResultOf(d, CancelledError);
    clock.advance(1);
    expect(ran).to.equal(false);
  });

  it('test_noCallback: without fn it fires with undefined', () => {
    const clock = new Clock();
    const d = deferLater(clock, 2);
    clock.advance(2);
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('deferLater with a null clock uses the real-time reactor', async () => {
    const v = await deferLater(null, 0.005, () => 'real');
    expect(v).to.equal('real');
  });
});

describe('defer: RealtimeClock (the default reactor)', () => {
  it('runs calls on Node timers after the delay, in order', async () => {
    const clock = new RealtimeClock();
    const seen: string[] = [];
    const t0 = clock.seconds();
    clock.callLater(0.02, () => seen.push('b'));
    clock.callLater(0.005, () => seen.push('a'));
    expect(clock.getDelayedCalls()).to.have.length(2);
    for (let waited = 0; seen.length < 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(seen).to.deep.equal(['a', 'b']);
    expect(clock.seconds() - t0).to.be.greaterThan(0.02);
    expect(clock.getDelayedCalls()).to.have.length(0);
  });

  it('never runs a call before its time: seconds() >= getTime() inside every call', async () => {
    const clock = new RealtimeClock();
    const early: number[] = [];
    let ran = 0;
    for (let i = 0; i < 60; i++) {
      const call = clock.callLater(0.001 + (i % 20) * 0.0013, () => {
        ran++;
        const lateBy = clock.seconds() - call.getTime();
        if (lateBy < 0) early.push(lateBy);
      });
    }
    for (let waited = 0; ran < 60 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(ran).to.equal(60);
    expect(early, 'calls that ran before their time (seconds early)').to.deep.equal([]);
  });

  it('cancel, reset later and delay work on real timers', async () => {
    const clock = new RealtimeClock();
    const seen: [string, number][] = [];
    const t0 = clock.seconds();
    const log = (name: string) => seen.push([name, clock.seconds() - t0]);
    const cancelled = clock.callLater(0.005, log, 'cancelled');
    cancelled.cancel();
    const reset = clock.callLater(0.005, log, 'reset');
    reset.reset(0.04);
    const delayed = clock.callLater(0.005, log, 'delayed');
    delayed.delay(0.015);
    for (let waited = 0; seen.length < 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((e) => e[0])).to.deep.equal(['delayed', 'reset']);
    expect(seen[0][1]).to.be.at.least(0.019);
    expect(seen[1][1]).to.be.at.least(0.039);
    expect(cancelled.active()).to.equal(false);
    expect(clock.getDelayedCalls()).to.deep.equal([]);
  });

  it('an exception from a real-time call is reported, not thrown into the event loop', async () => {
    const clock = new RealtimeClock();
    const reports: Failure[] = [];
    const previous = setUnhandledErrorHandler((f, text) => {
      reports.push(f);
      expect(text).to.match(/^Unhandled error in a delayed call:/);
    });
    try {
      clock.callLater(0.001, () => {
        throw new RangeError('timer boom');
      });
      await new Promise((r) => setTimeout(r, 30));
    } finally {
      setUnhandledErrorHandler(previous);
    }
    expect(reports.map((f) => f.getErrorMessage())).to.deep.equal(['timer boom']);
  });

  it('an unref RealtimeClock does not keep the process alive (child node)', () => {
    const lib = path.resolve(__dirname, '../../lib/defer');
    const script = `const { RealtimeClock } = require(${JSON.stringify(lib)});
      new RealtimeClock({ unref: true }).callLater(30, () => console.log('should not run'));`;
    const t0 = Date.now();
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
    expect(out.status).to.equal(0);
    expect(out.stdout).to.equal('');
    expect(Date.now() - t0).to.be.lessThan(9000);
  });

  it('reactor is a RealtimeClock whose seconds() is wall-clock time', () => {
    expect(reactor).to.be.instanceOf(RealtimeClock);
    expect(Math.abs(reactor.seconds() - Date.now() / 1000)).to.be.lessThan(1);
  });
});
