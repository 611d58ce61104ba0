// Ports of test_defer.py AlreadyCalledTests and DeferredCancellerTests.

import { expect } from 'chai';
import { AlreadyCalledError, CancelledError, Deferred, Failure, setDebugging, getDebugging } from '../../lib/defer';
import { GenericError, failureResultOf, successResultOf } from './helpers';

describe('defer: AlreadyCalledError (test_defer.AlreadyCalledTests)', () => {
  let was: boolean;
  beforeEach(() => {
    was = getDebugging();
    setDebugging(true);
  });
  afterEach(() => setDebugging(was));

  const noop = () => undefined;
  function call1(d: Deferred<string>) {
    d.callback('hello');
  }
  function call2(d: Deferred<string>) {
    d.callback('twice');
  }
  function err1(d: Deferred<string>) {
    d.errback(new Failure(new RangeError()));
  }
  function err2(d: Deferred<string>) {
    d.errback(new Failure(new RangeError()));
  }

  it('testAlreadyCalled_CC: callback twice raises AlreadyCalledError', () => {
    const d = new Deferred<string>();
    d.addCallbacks(noop, noop);
    call1(d);
    expect(() => call2(d)).to.throw(AlreadyCalledError);
  });

  it('testAlreadyCalled_CE: errback after callback raises AlreadyCalledError', () => {
    const d = new Deferred<string>();
    d.addCallbacks(noop, noop);
    call1(d);
    expect(() => err2(d)).to.throw(AlreadyCalledError);
  });

  it('testAlreadyCalled_EE: errback twice raises AlreadyCalledError', () => {
    const d = new Deferred<string>();
    d.addCallbacks(noop, noop);
    err1(d);
    expect(() => err2(d)).to.throw(AlreadyCalledError);
  });

  it('testAlreadyCalled_EC: callback after errback raises AlreadyCalledError', () => {
    const d = new Deferred<string>();
    d.addCallbacks(noop, noop);
    err1(d);
    expect(() => call2(d)).to.throw(AlreadyCalledError);
  });

  function lines(e: Error, prefix: string, fn: string): number {
    return e.message.split('\n').filter((l) => l.startsWith(` ${prefix}:`) && l.includes(`at ${fn} `)).length;
  }

  function check(e: Error, creator: string, invoker1: string, invoker2: string) {
    expect(lines(e, 'C', creator)).to.equal(1);
    expect(lines(e, 'C', 'call1') + lines(e, 'C', 'call2') + lines(e, 'C', 'err1') + lines(e, 'C', 'err2')).to.equal(0);
    expect(lines(e, 'I', invoker1)).to.equal(1);
    expect(lines(e, 'I', invoker2)).to.equal(0);
  }

  function catchIt(fn: () => void): Error {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected AlreadyCalledError');
  }

  it('testAlreadyCalledDebug_CC: with debugging the error shows creator and first invoker', () => {
    function makeItCC() {
      return new Deferred<string>();
    }
    const d = makeItCC();
    d.addCallbacks(noop, noop);
    call1(d);
    const e = catchIt(() => call2(d));
    expect(e).to.be.instanceOf(AlreadyCalledError);
    expect(e.message).to.include(' C: Deferred was created:');
    expect(e.message).to.include(' I: First Invoker was:');
    check(e, 'makeItCC', 'call1', 'call2');
  });

  it('testAlreadyCalledDebug_CE: the first invoker (callback) is named, not the errback', () => {
    function makeItCE() {
      return new Deferred<string>();
    }
    const d = makeItCE();
    call1(d);
    check(catchIt(() => err2(d)), 'makeItCE', 'call1', 'err2');
  });

  it('testAlreadyCalledDebug_EC: the first invoker (errback) is named, not the callback', () => {
    function makeItEC() {
      return new Deferred<string>();
    }
    const d = makeItEC();
    d.addErrback(noop);
    err1(d);
    check(catchIt(() => call2(d)), 'makeItEC', 'err1', 'call2');
  });

  it('testAlreadyCalledDebug_EE: errback twice names the first errback', () => {
    function makeItEE() {
      return new Deferred<string>();
    }
    const d = makeItEE();
    d.addErrback(noop);
    err1(d);
    check(catchIt(() => err2(d)), 'makeItEE', 'err1', 'err2');
  });

  it('testNoDebugging: without debugging the error carries no stacks', () => {
    setDebugging(false);
    const d = new Deferred<string>();
    d.addCallbacks(noop, noop);
    call1(d);
    const e = catchIt(() => call2(d));
    expect(e).to.be.instanceOf(AlreadyCalledError);
    expect(e.message).to.not.include(' C:');
    expect(e.message).to.not.include(' I:');
  });

  it('Deferred.debug is the class-level switch (same as getDebugging/setDebugging)', () => {
    Deferred.debug = false;
    expect(getDebugging()).to.equal(false);
    setDebugging(true);
    expect(Deferred.debug).to.equal(true);
  });

  it('testSwitchDebugging: Deferreds cope with debugging switched on and off midway', () => {
    setDebugging(false);
    let d = new Deferred<void>();
    d.addBoth(() => undefined);
    setDebugging(true);
    d.callback();
    setDebugging(false);
    d = new Deferred<void>();
    d.callback();
    setDebugging(true);
    d.addBoth(() => undefined);
    expect(d.called).to.equal(true);
  });
});

describe('defer: cancel (test_defer.DeferredCancellerTests)', () => {
  let callbackResults: unknown;
  let errbackResults: Failure | undefined;
  let cancellerCallCount: number;
  const cb = (data: unknown) => {
    callbackResults = data;
    return data;
  };
  const eb = (f: Failure) => {
    errbackResults = f;
  };
  beforeEach(() => {
    callbackResults = undefined;
    errbackResults = undefined;
    cancellerCallCount = 0;
  });
  afterEach(() => expect(cancellerCallCount).to.be.oneOf([0, 1]));

  it('test_noCanceller: without a canceller, cancel() errbacks with CancelledError', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(errbackResults!.type).to.equal(CancelledError);
    expect(callbackResults).to.equal(undefined);
  });

  it('test_raisesAfterCancelAndCallback: one later callback is swallowed, a second raises', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    d.callback();
    expect(() => d.callback()).to.throw(AlreadyCalledError);
    expect(() => d.errback(new Error())).to.throw(AlreadyCalledError);
  });

  it('test_raisesAfterCancelAndErrback: one later errback is swallowed, a second raises', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    d.errback(new Error());
    expect(() => d.callback()).to.throw(AlreadyCalledError);
    expect(() => d.errback(new Error())).to.throw(AlreadyCalledError);
  });

  it('test_noCancellerMultipleCancelsAfterCancelAndCallback: later cancels do nothing', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    const current = errbackResults;
    d.callback();
    d.cancel();
    expect(errbackResults).to.equal(current);
  });

  it('test_noCancellerMultipleCancelsAfterCancelAndErrback: the CancelledError stays', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(errbackResults!.type).to.equal(CancelledError);
    const current = errbackResults;
    d.errback(new GenericError());
    expect(errbackResults!.type).to.equal(CancelledError);
    d.cancel();
    expect(errbackResults).to.equal(current);
  });

  it('test_noCancellerMultipleCancel: cancelling twice is harmless', () => {
    const d = new Deferred<void>();
    d.addCallbacks(cb, eb);
    d.cancel();
    const current = errbackResults;
    d.cancel();
    expect(errbackResults).to.equal(current);
  });

  it('test_cancellerMultipleCancel: the canceller runs once however often cancel() is called', () => {
    const d = new Deferred<void>(() => {
      cancellerCallCount += 1;
    });
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(errbackResults!.type).to.equal(CancelledError);
    const current = errbackResults;
    d.cancel();
    expect(errbackResults).to.equal(current);
    expect(cancellerCallCount).to.equal(1);
  });

  it('test_simpleCanceller: with a canceller, later callback/errback are not swallowed', () => {
    const d = new Deferred<void>(() => {
      cancellerCallCount += 1;
    });
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(cancellerCallCount).to.equal(1);
    expect(errbackResults!.type).to.equal(CancelledError);
    expect(() => d.callback()).to.throw(AlreadyCalledError);
    expect(() => d.errback(new Error())).to.throw(AlreadyCalledError);
  });

  it('test_cancellerArg: the canceller gets the Deferred', () => {
    let got: unknown;
    const d: Deferred<void> = new Deferred<void>((x) => {
      got = x;
    });
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(got).to.equal(d);
  });

  it('test_cancelAfterCallback: cancelling a fired Deferred does nothing', () => {
    const d = new Deferred<string>((x) => {
      cancellerCallCount += 1;
      x.errback(new GenericError());
    });
    d.addCallbacks(cb, eb);
    d.callback('biff!');
    d.cancel();
    expect(cancellerCallCount).to.equal(0);
    expect(errbackResults).to.equal(undefined);
    expect(callbackResults).to.equal('biff!');
  });

  it('test_cancelAfterErrback: cancelling a failed Deferred does not make it a CancelledError', () => {
    const d = new Deferred<void>((x) => {
      cancellerCallCount += 1;
      x.errback(new GenericError());
    });
    d.addCallbacks(cb, eb);
    d.errback(new GenericError());
    d.cancel();
    expect(cancellerCallCount).to.equal(0);
    expect(errbackResults!.type).to.equal(GenericError);
  });

  it('test_cancellerThatErrbacks: a canceller may fail the Deferred its own way', () => {
    const d = new Deferred<void>((x) => {
      cancellerCallCount += 1;
      x.errback(new GenericError());
    });
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(cancellerCallCount).to.equal(1);
    expect(errbackResults!.type).to.equal(GenericError);
  });

  it('test_cancellerThatCallbacks: a canceller may fire the Deferred with a result', () => {
    const d = new Deferred<string>((x) => {
      cancellerCallCount += 1;
      x.callback('hello!');
    });
    d.addCallbacks(cb, eb);
    d.cancel();
    expect(cancellerCallCount).to.equal(1);
    expect(callbackResults).to.equal('hello!');
    expect(errbackResults).to.equal(undefined);
  });

  it('test_cancelNestedDeferred: cancelling a Deferred waiting on a returned one cancels the inner one', () => {
    const b = new Deferred<void>(() => {
      cancellerCallCount += 1;
    });
    const a = new Deferred<void>(() => {
      throw new Error('the outer canceller must not run');
    });
    a.callback();
    a.addCallback(() => b);
    a.cancel();
    a.addCallbacks(cb, eb);
    expect(cancellerCallCount).to.equal(1);
    expect(errbackResults!.type).to.equal(CancelledError);
  });

  it('a canceller that throws: cancel() lets the exception out', () => {
    const d = new Deferred<void>(() => {
      throw new GenericError('canceller broke');
    });
    expect(() => d.cancel()).to.throw(GenericError, 'canceller broke');
  });

  it('cancelled-then-fired: the late result is ignored and callbacks see only the CancelledError', () => {
    const d = new Deferred<string>();
    const seen: unknown[] = [];
    d.addBoth((r) => {
      seen.push(r instanceof Failure ? r.type : r);
    });
    d.cancel();
    d.callback('late');
    expect(seen).to.deep.equal([CancelledError]);
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('test_canceller_circular_reference_callback: firing drops the canceller', () => {
    const canceller = () => undefined;
    const d = new Deferred<void>(canceller);
    d.callback();
    // The canceller slot now holds the result; nothing keeps the canceller alive.
    expect(d.result).to.equal(undefined);
    expect(Object.values(d)).to.not.include(canceller);
  });

  it('cancel on a Deferred chained to a failed one: the failure still arrives', () => {
    const inner = new Deferred<void>();
    const outer = new Deferred<void>();
    outer.addCallback(() => inner);
    outer.callback();
    outer.cancel();
    failureResultOf(outer, CancelledError);
    expect(inner.called).to.equal(true);
  });
});
