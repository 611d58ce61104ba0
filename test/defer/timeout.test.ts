// Ports of test_defer.py DeferredAddTimeoutTests.

import { expect } from 'chai';
import { CancelledError, Clock, Deferred, Failure, TimeoutError, reactor } from '../../lib/defer';
import { assertNoResult, failureResultOf, successResultOf } from './helpers';

const overrideFunc = () => 'OVERRIDDEN';

describe('defer: Deferred.addTimeout (test_defer.DeferredAddTimeoutTests)', () => {
  it('test_timeoutChainable: addTimeout returns the Deferred for chaining', () => {
    const d = new Deferred<void>();
    d.addTimeout(5, new Clock()).addCallback(() => 'done');
    d.callback();
    expect(successResultOf(d)).to.equal('done');
  });

  it('test_successResultBeforeTimeout: a result in time stops the timer; inner Deferreds are left alone', () => {
    const clock = new Clock();
    const d = new Deferred<string>();
    d.addTimeout(10, clock);
    const inner = new Deferred<void>();
    let got: string | undefined;
    d.addCallback((r) => {
      got = r;
      return inner;
    });
    d.callback('results');
    expect(got).to.equal('results');
    expect(clock.getDelayedCalls()).to.have.length(0);
    clock.advance(15);
    assertNoResult(inner);
  });

  it('test_successResultBeforeTimeoutCustom: same with a custom onTimeoutCancel', () => {
    const clock = new Clock();
    const d = new Deferred<string>();
    d.addTimeout(10, clock, overrideFunc);
    const inner = new Deferred<void>();
    d.addCallback(() => inner);
    d.callback('results');
    clock.advance(15);
    assertNoResult(inner);
  });

  it('test_failureBeforeTimeout: a failure in time is passed on and the timer stops', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock);
    const inner = new Deferred<void>();
    const error = new RangeError('fail');
    let seen: Failure | undefined;
    d.addErrback((f) => {
      seen = f;
      return inner;
    });
    d.errback(error);
    expect(seen!.value).to.equal(error);
    clock.advance(15);
    assertNoResult(inner);
  });

  it('test_failureBeforeTimeoutCustom: same with a custom onTimeoutCancel', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock, overrideFunc);
    const inner = new Deferred<void>();
    d.addErrback(() => inner);
    d.errback(new RangeError('fail'));
    clock.advance(15);
    assertNoResult(inner);
  });

  it('test_timedOut: without a result in time it fails with TimeoutError', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    const f = failureResultOf(d, TimeoutError);
    expect((f.value as TimeoutError).timeout).to.equal(10);
  });

  it('test_timedOutCustom: onTimeoutCancel decides the result on timeout', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock, overrideFunc);
    assertNoResult(d);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('OVERRIDDEN');
  });

  it('test_timedOutProvidedCancelSuccess: a canceller that fires with a value wins', () => {
    const clock = new Clock();
    const d = new Deferred<string>((c) => c.callback('I was cancelled!'));
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('I was cancelled!');
  });

  it('test_timedOutProvidedCancelFailure: a canceller that fails with another error keeps it', () => {
    const clock = new Clock();
    const error = new RangeError('what!');
    const d = new Deferred<void>((c) => c.errback(error));
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(failureResultOf(d, RangeError).value).to.equal(error);
  });

  it('test_cancelBeforeTimeout: a manual cancel keeps CancelledError and stops the timer', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock);
    const inner = new Deferred<void>();
    let seen: Failure | undefined;
    d.addErrback((f) => {
      seen = f;
      return inner;
    });
    d.cancel();
    expect(seen!.type).to.equal(CancelledError);
    clock.advance(15);
    assertNoResult(inner);
  });

  it('test_cancelBeforeTimeoutCustom: onTimeoutCancel is not called on a manual cancel', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addTimeout(10, clock, overrideFunc);
    let seen: Failure | undefined;
    d.addErrback((f) => {
      seen = f;
    });
    d.cancel();
    expect(seen!.type).to.equal(CancelledError);
    clock.advance(15);
  });

  it('test_providedCancelCalledBeforeTimeoutCustom: onTimeoutCancel handles a canceller\'s failure', () => {
    const clock = new Clock();
    const d = new Deferred<void>((c) => c.errback(new RangeError('what!')));
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('OVERRIDDEN');
  });

  it('test_errbackAddedBeforeTimeout: earlier errbacks see CancelledError; the result is TimeoutError', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    let seen: Failure | undefined;
    d.addErrback((f) => {
      seen = f;
      return f;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(seen!.value).to.be.instanceOf(CancelledError);
    failureResultOf(d, TimeoutError);
  });

  it('test_errbackAddedBeforeTimeoutSuppressesCancellation: an earlier errback may swallow it', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    let seen: Failure | undefined;
    d.addErrback((f) => {
      seen = f;
      f.trap(CancelledError);
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(seen!.value).to.be.instanceOf(CancelledError);
    successResultOf(d);
  });

  it('test_errbackAddedBeforeTimeoutCustom: onTimeoutCancel runs after earlier errbacks', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addErrback((f) => f);
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('OVERRIDDEN');
  });

  it('test_errbackAddedBeforeTimeoutSuppressesCancellationCustom: onTimeoutCancel runs even if swallowed', () => {
    const clock = new Clock();
    const d = new Deferred<void>();
    d.addErrback(() => undefined);
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('OVERRIDDEN');
  });

  it('test_callbackAddedToCancelerBeforeTimeout: a canceller that succeeds runs earlier callbacks, no TimeoutError', () => {
    const clock = new Clock();
    const d = new Deferred<string>((x) => x.callback('success'));
    let seen: string | undefined;
    d.addCallback((v) => {
      seen = v;
      return v;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(seen).to.equal('success');
    expect(successResultOf(d)).to.equal('success');
  });

  it('test_callbackAddedToCancelerBeforeTimeoutCustom: onTimeoutCancel still runs', () => {
    const clock = new Clock();
    const d = new Deferred<string>((x) => x.callback('success'));
    d.addCallback((v) => v);
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(successResultOf(d)).to.equal('OVERRIDDEN');
  });

  it('addTimeout on the default real-time clock times out for real', async () => {
    const d = new Deferred<void>();
    d.addTimeout(0.02);
    for (let waited = 0; !d.called && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    failureResultOf(d, TimeoutError);
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('addTimeout with bad arguments throws a TypeError naming them', () => {
    const d = new Deferred<void>();
    expect(() => d.addTimeout('5' as any, new Clock())).to.throw(TypeError, /timeout must be a number/);
    expect(() => d.addTimeout(5, {} as any)).to.throw(TypeError, /clock must have callLater/);
  });
});
