// Ports of twisted/internet/test/test_inlinecb.py and test_defer.py EnsureDeferredTests.

import { expect } from 'chai';
import {
  CancelledError,
  Clock,
  Deferred,
  Failure,
  NotACoroutineError,
  deferLater,
  ensureDeferred,
  fail,
  inlineCallbacks,
  succeed,
} from '../../lib/defer';
import { assertNoResult, failureResultOf, successResultOf } from './helpers';

class TerminalException extends Error {}
class UntranslatedError extends Error {}
class TranslatedError extends Error {}
class DontFail extends Error {
  constructor(readonly actualValue: number) {
    super('dont fail');
  }
}

describe('defer: inlineCallbacks (test_inlinecb.BasicTests)', () => {
  it('testBasics: results come back from yield, failures are thrown in, return value fires the Deferred', () => {
    const clock = new Clock();
    const gen = inlineCallbacks(function* () {
      const x = yield deferLater(clock, 0, () => 'hi');
      expect(x).to.equal('hi');
      try {
        yield fail(new RangeError('OMG'));
      } catch (e) {
        expect((e as Error).message).to.equal('OMG');
      }
      return 'WOOSH';
    });
    const d = gen();
    assertNoResult(d);
    clock.advance(0);
    expect(successResultOf(d)).to.equal('WOOSH');
  });

  it('testProducesException: a throw in the generator fails its Deferred', () => {
    const clock = new Clock();
    const d = inlineCallbacks(function* () {
      yield deferLater(clock, 0);
      throw new RangeError('div by zero');
    })();
    clock.advance(0);
    failureResultOf(d, RangeError);
  });

  it('testNothing: a generator that never yields gives undefined', () => {
    // eslint-disable-next-line require-yield
    const d = inlineCallbacks(function* () {
      return undefined;
    })();
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('testHandledTerminalFailure: a caught failure does not fail the Deferred', () => {
    const d = inlineCallbacks(function* () {
      try {
        yield fail(new TerminalException('Handled Terminal Failure'));
      } catch (e) {
        if (!(e instanceof TerminalException)) throw e;
      }
    })();
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('testHandledTerminalAsyncFailure: the same with a Deferred failing later', () => {
    const d = new Deferred<void>();
    const r = inlineCallbacks(function* (x: Deferred<void>) {
      try {
        yield x;
      } catch (e) {
        if (!(e instanceof TerminalException)) throw e;
      }
    })(d);
    d.errback(new TerminalException('Handled Terminal Failure'));
    expect(successResultOf(r)).to.equal(undefined);
  });

  it('testStackUsage: 100,000 yields of already-fired Deferreds do not grow the stack', () => {
    let maxDepth = 0;
    let minDepth = Infinity;
    const d = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < 100_000; i++) {
        sum += (yield succeed(1)) as number;
        if (i % 10_000 === 0) {
          const depth = new Error().stack!.split('\n').length;
          maxDepth = Math.max(maxDepth, depth);
          minDepth = Math.min(minDepth, depth);
        }
      }
      return sum;
    })();
    expect(successResultOf(d)).to.equal(100_000);
    expect(maxDepth).to.equal(minDepth);
  });

  it('testStackUsage (async): 100,000 yields of Deferreds fired later do not grow the stack', () => {
    const pending: Deferred<number>[] = [];
    const d = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < 100_000; i++) {
        const w = new Deferred<number>();
        pending.push(w);
        sum += (yield w) as number;
      }
      return sum;
    })();
    while (pending.length) pending.shift()!.callback(2);
    expect(successResultOf(d)).to.equal(200_000);
  });

  it('testStackUsage2: 100,000 yields of plain values do not grow the stack', () => {
    const d = inlineCallbacks(function* () {
      for (let i = 0; i < 100_000; i++) yield 1;
      return 0;
    })();
    expect(successResultOf(d)).to.equal(0);
  });

  it('testYieldNonDeferred: a yielded plain value is sent straight back', () => {
    const d = inlineCallbacks(function* () {
      const x = yield 5;
      return x;
    })();
    expect(successResultOf(d)).to.equal(5);
  });

  it('testReturnNoValue: a bare return gives undefined', () => {
    const d = inlineCallbacks(function* () {
      yield 5;
      return;
    })();
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('test_nonGeneratorReturn: a function that is not a generator function raises a TypeError mentioning inlineCallbacks', () => {
    const noYield = inlineCallbacks((() => 5) as any);
    expect(() => noYield()).to.throw(TypeError, /inlineCallbacks/);
    expect(() => inlineCallbacks(5 as any)).to.throw(TypeError, /inlineCallbacks: fn must be a generator function/);
  });

  it('test_returnWithValue: return with a value fires the Deferred with it', () => {
    const d1 = new Deferred<void>();
    const d2 = inlineCallbacks(function* (d: Deferred<void>) {
      yield d;
      return 14;
    })(d1);
    d1.callback();
    expect(successResultOf(d2)).to.equal(14);
  });

  it('test_nonCalledDeferredSingleYield: stacked inlineCallbacks resume in order', () => {
    const expectations: unknown[] = [];
    const deferreds: [Deferred<number>, number][] = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferreds.push([d, x]);
      x = (yield d) as number;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = inlineCallbacks(function* (x: number) {
      expectations.push(['f2 enter', x]);
      x = (yield f1(x)) as number;
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = (yield f2(x)) as number;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    for (const [d, x] of deferreds) d.callback(x);
    expect(successResultOf(res)).to.equal(8);
    expect(expectations).to.deep.equal([
      ['f3 enter', 1],
      ['f2 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 exit', 4],
      ['f3 exit', 8],
    ]);
  });

  it('yield consumes the yielded Deferred\'s result, as in Twisted', () => {
    const d = succeed(3);
    const r = inlineCallbacks(function* () {
      return (yield d) as number;
    })();
    expect(successResultOf(r)).to.equal(3);
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('yielding a Promise waits for it (asyncio-style)', async () => {
    const r = inlineCallbacks(function* () {
      const a = (yield Promise.resolve(20)) as number;
      try {
        yield Promise.reject(new RangeError('nope'));
      } catch (e) {
        return a + ((e as Error).message === 'nope' ? 1 : 0);
      }
    })();
    expect(await r).to.equal(21);
  });

  it('returning a Deferred from the generator behaves like returning its result', () => {
    const inner = new Deferred<string>();
    // eslint-disable-next-line require-yield
    const r = inlineCallbacks(function* () {
      return inner;
    })();
    assertNoResult(r);
    inner.callback('late');
    expect(successResultOf(r)).to.equal('late');
  });

  it('the wrapper keeps `this` and arguments', () => {
    const obj = {
      base: 10,
      add: inlineCallbacks(function* (this: { base: number }, n: number) {
        return this.base + ((yield succeed(n)) as number);
      }),
    };
    expect(successResultOf(obj.add(5))).to.equal(15);
  });
});

describe('defer: inlineCallbacks cancellation (test_inlinecb.CancellationTests)', () => {
  let outstanding: Deferred<any>[];
  beforeEach(() => {
    outstanding = [];
  });
  afterEach(() => {
    while (outstanding.length) outstanding.shift()!.callback(undefined);
  });
  const getDeferred = () => {
    const d = new Deferred<any>();
    outstanding.push(d);
    return d;
  };
  const stackedInlineCB = inlineCallbacks(function* (getChild: () => Deferred<any>) {
    return yield getChild();
  });
  const sampleInlineCB = inlineCallbacks(function* (
    getChild: () => Deferred<any> = getDeferred,
    stacked = false,
    firstDeferred: Deferred<any> | null = null,
  ) {
    let x: number;
    try {
      if (stacked) {
        if (firstDeferred) yield firstDeferred;
        x = (yield stackedInlineCB(getChild)) as number;
      } else {
        x = (yield getChild()) as number;
      }
    } catch (e) {
      if (e instanceof UntranslatedError) throw new TranslatedError();
      if (e instanceof DontFail) x = e.actualValue - 2;
      else throw e;
    }
    return x + 1;
  });

  const variants: [string, boolean, boolean][] = [
    ['', false, false],
    ['Stacked', true, false],
    ['StackedOnSecondDeferred', true, true],
  ];

  for (const [suffix, stacked, second] of variants) {
    it(`test_CascadeCancellingOnCancel${suffix}: cancelling D cancels the awaited C`, () => {
      let childResult: unknown = 'FAILURE';
      const getChild = () => {
        const d = new Deferred<any>();
        d.addErrback((f) => {
          childResult = f.check(CancelledError);
          return f;
        });
        return d;
      };
      const first = second ? new Deferred<number>() : null;
      const d = sampleInlineCB(getChild, stacked, first);
      d.addErrback(() => undefined);
      if (first) first.callback(1);
      d.cancel();
      expect(childResult).to.equal(CancelledError);
    });

    it(`test_ErrbackCancelledErrorOnCancel${suffix}: CancelledError from C fails D`, () => {
      const first = second ? new Deferred<number>() : null;
      const d = sampleInlineCB(undefined, stacked, first);
      if (first) first.callback(1);
      d.cancel();
      expect(() => failureResultOf(d).raiseException()).to.throw(CancelledError);
    });

    it(`test_ErrorToErrorTranslation${suffix}: the generator may translate the cancellation error`, () => {
      const a = new Deferred<number>((it) => it.errback(new UntranslatedError()));
      const first = second ? new Deferred<number>() : null;
      const d = sampleInlineCB(() => a, stacked, first);
      if (first) first.callback(1);
      d.cancel();
      expect(() => failureResultOf(d).raiseException()).to.throw(TranslatedError);
    });

    it(`test_ErrorToSuccessTranslation${suffix}: the generator may turn the cancellation into a value`, () => {
      const a = new Deferred<number>((it) => it.errback(new DontFail(4321)));
      const first = second ? new Deferred<number>() : null;
      const d = sampleInlineCB(() => a, stacked, first);
      const results: unknown[] = [];
      d.addCallback((r) => {
        results.push(r);
      });
      if (first) first.callback(1);
      d.cancel();
      expect(results).to.deep.equal([4320]);
    });

    it(`test_AsynchronousCancellation${suffix}: D waits until C's chain reaches the generator`, () => {
      const more = new Deferred<number>();
      const deferMe = () => {
        const d = new Deferred<number>();
        d.addErrback((f) => {
          f.trap(CancelledError);
          return more;
        });
        return d;
      };
      const first = second ? new Deferred<number>() : null;
      const d = sampleInlineCB(deferMe, stacked, first);
      if (first) first.callback(1);
      d.cancel();
      assertNoResult(d);
      more.callback(6543);
      expect(successResultOf(d)).to.equal(6544);
    });
  }

  it('cancelling one whose caller added a single callback pair: the cancel handler runs before that pair', () => {
    const d = sampleInlineCB();
    const seen: unknown[] = [];
    d.addCallbacks(
      (v) => seen.push(['callback', v]),
      (f) => {
        seen.push(['errback', f.check(CancelledError)]);
        return 'handled';
      },
    );
    d.cancel();
    expect(seen).to.deep.equal([['errback', CancelledError]]);
    expect(successResultOf(d)).to.equal('handled');
  });

  it('test_inlineCallbacksCancelCaptured: a generator that catches CancelledError goes on and decides the result', () => {
    const canceller1 = new Deferred<number>();
    const canceller2 = new Deferred<number>();
    const fn = inlineCallbacks(function* () {
      try {
        yield canceller1;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
      const v = (yield canceller2) as number;
      return v * 2;
    });
    const d = fn();
    d.cancel();
    assertNoResult(d);
    canceller2.callback(21);
    expect(successResultOf(d)).to.equal(42);
  });

  it('cancelling an inlineCallbacks Deferred that already finished does nothing', () => {
    const d = inlineCallbacks(function* () {
      return yield succeed(1);
    })();
    d.cancel();
    expect(successResultOf(d)).to.equal(1);
  });
});

describe('defer: ensureDeferred (test_defer.EnsureDeferredTests)', () => {
  it('test_passesThroughDeferreds: a Deferred comes back unchanged', () => {
    const d1 = new Deferred<void>();
    expect(ensureDeferred(d1)).to.equal(d1);
  });

  it('test_willNotAllowNonDeferredOrCoroutine: anything else raises NotACoroutineError (a TypeError)', () => {
    expect(() => ensureDeferred('something' as any)).to.throw(NotACoroutineError, /expected a Deferred, a Promise or a generator/);
    expect(() => ensureDeferred(5 as any)).to.throw(TypeError);
  });

  it('test_ensureDeferredCoroutine: a Promise from an async function becomes a Deferred', async () => {
    const run = async () => {
      const res = await succeed('foo');
      return res;
    };
    const d = ensureDeferred(run());
    expect(d).to.be.instanceOf(Deferred);
    expect(await d).to.equal('foo');
  });

  it('test_ensureDeferredGenerator: a generator object runs like inlineCallbacks', () => {
    function* run(): Generator<unknown, unknown, unknown> {
      const res = yield succeed('foo');
      return res;
    }
    const d = ensureDeferred(run());
    expect(successResultOf(d)).to.equal('foo');
  });

  it('a Failure-producing generator fails the Deferred with a Failure', () => {
    // eslint-disable-next-line require-yield
    function* boom(): Generator<unknown, void, unknown> {
      throw new RangeError('gen');
    }
    const f = failureResultOf(ensureDeferred(boom()), RangeError);
    expect(f).to.be.instanceOf(Failure);
  });
});
