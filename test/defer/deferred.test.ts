// Ports of twisted/test/test_defer.py DeferredTests (the core chain semantics).

import { expect } from 'chai';
import {
  CancelledError,
  Deferred,
  Failure,
  NonErrorValue,
  succeed,
  fail,
  maybeDeferred,
  gatherResults,
  setDebugging,
  getDebugging,
} from '../../lib/defer';
import { GenericError, successResultOf, failureResultOf, assertNoResult } from './helpers';

/**
 * Shared by the two continuation tests (as in Twisted's test_defer): `cb` records its input and
 * returns a chain whose first callback waits on `a`, so the outer chain pauses until `a` fires.
 */
function continuationFixture() {
  const results: unknown[] = [];
  const failures: Failure[] = [];
  const a = new Deferred<string>();
  const cb = (result: string) => {
    results.push(['cb', result]);
    const d = new Deferred<void>();
    const returner = d
      .addCallback((r) => {
        results.push(['firstCallback', r]);
        return gatherResults([a]);
      })
      .addCallback((r) => {
        results.push(['secondCallback', r]);
      })
      .addErrback((f) => {
        failures.push(f);
      });
    d.callback();
    return returner;
  };
  return { results, failures, a, cb };
}

describe('defer: Deferred core (test_defer.DeferredTests)', () => {
  let wasDebugging: boolean;
  beforeEach(() => {
    wasDebugging = getDebugging();
  });
  afterEach(() => setDebugging(wasDebugging));

  it('testCallbackWithoutArgs: the callback gets the result and nothing else', () => {
    const calls: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallback((...args: unknown[]) => {
      calls.push(args);
    });
    d.callback('hello');
    expect(calls).to.deep.equal([['hello']]);
  });

  it('testCallbackWithArgs: extra args reach the callback after the result', () => {
    const calls: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallback((...args: unknown[]) => {
      calls.push(args);
    }, 'world');
    d.callback('hello');
    expect(calls).to.deep.equal([['hello', 'world']]);
  });

  it('testTwoCallbacks: each callback gets the previous one\'s return value', () => {
    const seen: unknown[] = [];
    const d = new Deferred<string>();
    d.addCallback((r) => {
      seen.push(r);
      return r + '!';
    });
    d.addCallback((r) => {
      seen.push(r);
    });
    d.callback('hello');
    expect(seen).to.deep.equal(['hello', 'hello!']);
    expect(d.result).to.equal(undefined);
  });

  it('test_addCallbacksNoneErrback: a null errback passes the failure on', () => {
    const error = new GenericError('oopsie');
    const d = new Deferred<void>();
    let cbCalled = false;
    d.addCallbacks(() => {
      cbCalled = true;
    }, null);
    d.errback(error);
    const errs: Failure[] = [];
    d.addErrback((f) => {
      errs.push(f);
    });
    expect(cbCalled).to.equal(false);
    expect(errs).to.have.length(1);
    expect(errs[0].value).to.equal(error);
  });

  it('test_addCallbacksNoneCallbackArgs: null callbackArgs/errbackArgs mean no extra args', () => {
    const calls: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallbacks(
      (...a: unknown[]) => {
        calls.push(a);
      },
      () => undefined,
      null,
      [],
    );
    d.callback('hello');
    expect(calls).to.deep.equal([['hello']]);
  });

  it('test_addCallbacksNoneErrbackArgs: errbackArgs reach the errback after the Failure', () => {
    const calls: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallbacks(
      () => undefined,
      (...a: unknown[]) => {
        calls.push(a);
      },
      [],
      ['extra', 2],
    );
    d.errback(new GenericError('x'));
    expect(calls).to.have.length(1);
    expect(calls[0][0]).to.be.instanceOf(Failure);
    expect(calls[0].slice(1)).to.deep.equal(['extra', 2]);
  });

  it('testImmediateSuccess: succeed() runs callbacks as soon as they are added', () => {
    const l: string[] = [];
    succeed('success').addCallback((r) => {
      l.push(r);
    });
    expect(l).to.deep.equal(['success']);
  });

  it('testImmediateFailure: fail() runs errbacks as soon as they are added', () => {
    const l: Failure[] = [];
    fail(new GenericError('fail')).addErrback((f) => {
      l.push(f);
    });
    expect(l[0].value.message).to.equal('fail');
  });

  it('testPausedFailure: a paused Deferred runs nothing until unpaused', () => {
    const l: Failure[] = [];
    const d = fail(new GenericError('fail'));
    d.pause();
    d.addErrback((f) => {
      l.push(f);
    });
    expect(l).to.deep.equal([]);
    d.unpause();
    expect(l[0].value.message).to.equal('fail');
  });

  it('testCallbackErrors: a throw, or a returned Failure, switches to the errback path', () => {
    const l: Failure[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw new RangeError('div by zero');
    }).addErrback((f) => {
      l.push(f);
    });
    d.callback(1);
    expect(l[0].value).to.be.instanceOf(RangeError);

    const l2: Failure[] = [];
    const d2 = new Deferred<number>();
    d2.addCallback(() => new Failure(new RangeError('div'))).addErrback((f) => {
      l2.push(f);
    });
    d2.callback(1);
    expect(l2[0].value).to.be.instanceOf(RangeError);
  });

  it('testUnpauseBeforeCallback: unpausing an unfired Deferred runs nothing', () => {
    const d = new Deferred<void>();
    let ran = false;
    d.pause();
    d.addCallback(() => {
      ran = true;
    });
    d.unpause();
    expect(ran).to.equal(false);
    d.callback();
    expect(ran).to.equal(true);
  });

  it('callback/errback alternation: an errback returning a value goes back to the callback path', () => {
    const path: string[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => {
      path.push('cb1');
      throw new GenericError('a');
    })
      .addCallback(() => {
        path.push('cb2-skipped');
      })
      .addErrback((f) => {
        path.push(`eb1:${f.getErrorMessage()}`);
        return 42;
      })
      .addErrback(() => {
        path.push('eb2-skipped');
      })
      .addCallback((v) => {
        path.push(`cb3:${v}`);
      });
    d.callback(0);
    expect(path).to.deep.equal(['cb1', 'eb1:a', 'cb3:42']);
  });

  it('errbacks receive a Failure even when an Error was passed to errback()', () => {
    const d = new Deferred<void>();
    const err = new TypeError('bad');
    d.errback(err);
    const f = failureResultOf(d, TypeError);
    expect(f).to.be.instanceOf(Failure);
    expect(f.value).to.equal(err);
    expect(f.type).to.equal(TypeError);
  });

  it('Failure.trap inside an errback rethrows the same Failure when nothing matches', () => {
    const d = fail(new GenericError('x'));
    let trapped: Failure | undefined;
    d.addErrback((f) => {
      trapped = f;
      f.trap(RangeError);
    });
    const after = failureResultOf(d, GenericError);
    expect(after).to.equal(trapped);
  });

  it('test_callbackReturnsDeferred: the next callback waits for a returned Deferred', () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const seen: unknown[] = [];
    d2.pause();
    d1.addCallback(() => d2);
    d1.addCallback((r) => {
      seen.push(r);
    });
    d1.callback(1);
    expect(seen).to.deep.equal([]);
    d2.callback(2);
    expect(seen).to.deep.equal([]);
    d2.unpause();
    expect(seen).to.deep.equal([2]);
  });

  it('test_callbackMaybeReturnsFailure: a callback may return a Failure', () => {
    const rte = new RangeError();
    const d = new Deferred<number>();
    d.callback(6);
    expect(successResultOf(d.addCallback((r) => r + 1))).to.equal(7);
    const d2 = new Deferred<number>();
    d2.callback(6);
    const f = failureResultOf(d2.addCallback(() => new Failure(rte)), RangeError);
    expect(f.value).to.equal(rte);
  });

  it('test_errbackReturnsDeferred: errbacks can return Deferreds just as callbacks can', () => {
    const d = new Deferred<number>();
    const d2 = new Deferred<string>();
    const values: unknown[] = [];
    d.addErrback(() => d2).addCallback((r) => {
      values.push(r);
    });
    d.errback(new RangeError());
    assertNoResult(d);
    expect(values).to.deep.equal([]);
    d2.callback('result');
    expect(values).to.deep.equal(['result']);
  });

  it('test_chainedPausedDeferredWithResult: a paused Deferred with a result holds up the chain', () => {
    const expected = {};
    const paused = new Deferred<object>();
    paused.callback(expected);
    paused.pause();
    const chained = new Deferred<void>();
    chained.addCallback(() => paused);
    chained.callback();
    const result: unknown[] = [];
    chained.addCallback((r) => {
      result.push(r);
    });
    expect(result).to.deep.equal([]);
    paused.unpause();
    expect(result).to.deep.equal([expected]);
  });

  it('test_pausedDeferredChained: a paused waiter does not stop the Deferred it waited on', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    first.addCallback(() => second);
    first.callback();
    first.pause();
    second.callback();
    const result: unknown[] = [];
    second.addCallback((r) => {
      result.push(r);
    });
    expect(result).to.deep.equal([undefined]);
  });

  it('test_innerCallbacksPreserved: the middle Deferred\'s callbacks run before the outer gets the result', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string) => {
      results.push(['start-of-cb', result]);
      const d = succeed('inner');
      d.addCallback(() => {
        results.push(['firstCallback', 'inner']);
        return inner;
      }).addCallback((r: string) => {
        results.push(['secondCallback', r]);
        return r + r;
      });
      d.addErrback((f) => {
        failures.push(f);
      });
      return d;
    };
    const outer = succeed('outer');
    outer.addCallback(cb);
    inner.callback('orange');
    outer.addCallback((r) => {
      results.push(r);
    });
    inner.addErrback((f) => {
      failures.push(f);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    expect(failures).to.deep.equal([]);
    expect(results).to.deep.equal([
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
      ['secondCallback', 'orange'],
      'orangeorange',
    ]);
  });

  it('test_continueCallbackNotFirst: the continuation need not be the first pending callback', () => {
    const { results, failures, a, cb } = continuationFixture();
    succeed('outer')
      .addCallback(cb)
      .addErrback((f) => {
        failures.push(f);
      });
    expect(results).to.deep.equal([
      ['cb', 'outer'],
      ['firstCallback', undefined],
    ]);
    a.callback('withers');
    expect(failures).to.deep.equal([]);
    expect(results).to.deep.equal([
      ['cb', 'outer'],
      ['firstCallback', undefined],
      ['secondCallback', ['withers']],
    ]);
  });

  it('test_callbackOrderPreserved: callbacks added after a chaining callback run after the inner chain', () => {
    const { results, failures, a, cb } = continuationFixture();
    const outer = new Deferred<string>();
    outer.addCallback(cb);
    outer.addCallback(() => {
      results.push(['final', undefined]);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    outer.callback('outer');
    a.callback('withers');
    expect(failures).to.deep.equal([]);
    expect(results).to.deep.equal([
      ['cb', 'outer'],
      ['firstCallback', undefined],
      ['secondCallback', ['withers']],
      ['final', undefined],
    ]);
  });

  it('test_reentrantRunCallbacks: a callback added by a running callback goes to the end', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => {
        called.push(3);
      });
    });
    d.addCallback(() => {
      called.push(2);
    });
    d.callback();
    expect(called).to.deep.equal([1, 2, 3]);
  });

  it('test_nonReentrantCallbacks: a callback added by a running callback waits for it to return', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => {
        called.push(2);
      });
      expect(called).to.deep.equal([1]);
    });
    d.callback();
    expect(called).to.deep.equal([1, 2]);
  });

  it('test_reentrantRunCallbacksWithFailure: a re-entrantly added callback that throws fails the chain', () => {
    const d = new Deferred<void>();
    d.addCallback(() => {
      d.addCallback(() => {
        throw new Error('callback raised exception');
      });
    });
    d.callback();
    expect(failureResultOf(d, Error).value.message).to.equal('callback raised exception');
  });

  it('test_synchronousImplicitChain: a fired Deferred returned by a callback hands over its result', () => {
    const result = {};
    const first = succeed(result);
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const results: unknown[] = [];
    first.addCallback((r) => {
      results.push(r);
    });
    expect(results[0]).to.equal(undefined);
    second.addCallback((r) => {
      results.push(r);
    });
    expect(results[1]).to.equal(result);
  });

  it('test_asynchronousImplicitChain: an unfired returned Deferred hands over its result when it fires', () => {
    const first = new Deferred<object>();
    const second = new Deferred<object>();
    second.addCallback(() => first);
    second.callback({});
    const firstResult: unknown[] = [];
    const secondResult: unknown[] = [];
    first.addCallback((r) => {
      firstResult.push(r);
    });
    second.addCallback((r) => {
      secondResult.push(r);
    });
    expect(firstResult).to.deep.equal([]);
    expect(secondResult).to.deep.equal([]);
    const result = {};
    first.callback(result);
    expect(firstResult).to.deep.equal([undefined]);
    expect(secondResult[0]).to.equal(result);
  });

  it('test_synchronousImplicitErrorChain: a failed returned Deferred gives its Failure to the outer one', () => {
    const first = fail(new RangeError("First Deferred's Failure"));
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const firstResult: unknown[] = [];
    first.addCallback((r) => {
      firstResult.push(r);
    });
    expect(firstResult).to.deep.equal([undefined]);
    failureResultOf(second, RangeError);
  });

  it('test_asynchronousImplicitErrorChain: a later failure of the inner Deferred reaches the outer one', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const secondError: Failure[] = [];
    second.addErrback((f) => {
      secondError.push(f);
    });
    const firstResult: unknown[] = [];
    first.addCallback((r) => {
      firstResult.push(r);
    });
    const secondResult: unknown[] = [];
    second.addCallback((r) => {
      secondResult.push(r);
    });
    first.errback(new RangeError("First Deferred's Failure"));
    expect(secondError[0].check(RangeError)).to.equal(RangeError);
    expect(firstResult).to.deep.equal([undefined]);
    expect(secondResult).to.have.length(1);
  });

  it('test_doubleAsynchronousImplicitChaining: chaining is transitive', () => {
    const first = new Deferred<object>();
    const second = new Deferred<object>();
    second.addCallback(() => first);
    const third = new Deferred<object>();
    third.addCallback(() => second);
    const thirdResult: unknown[] = [];
    third.addCallback((r) => {
      thirdResult.push(r);
    });
    const result = {};
    second.callback({});
    third.callback({});
    expect(thirdResult).to.deep.equal([]);
    first.callback(result);
    expect(thirdResult[0]).to.equal(result);
  });

  it('test_nestedAsynchronousChainedDeferredsWithExtraCallbacks: inner callbacks shape the outer result', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string) => {
      results.push(['start-of-cb', result]);
      return succeed('inner')
        .addCallback((r) => {
          results.push(['firstCallback', r]);
          return inner.addCallback((x) => [x]);
        })
        .addCallback((r: string[]) => {
          results.push(['secondCallback', r]);
          return [...r, ...r];
        })
        .addErrback((f) => {
          failures.push(f);
        });
    };
    const outer = succeed('outer');
    outer.addCallback(cb);
    outer.addCallback((r) => {
      results.push(r);
    });
    expect(results).to.deep.equal([
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
    ]);
    inner.callback('withers');
    expect(failures).to.deep.equal([]);
    expect(results).to.deep.equal([
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
      ['secondCallback', ['withers']],
      ['withers', 'withers'],
    ]);
  });

  it('test_reprWithChaining: chainDeferred records the chain; repr says what it waits on', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    b.chainDeferred(a);
    expect(String(a)).to.equal('<Deferred waiting on Deferred>');
    b.callback();
    // test_explicitChainClearedWhenResolved
    expect(String(a)).to.equal('<Deferred current result: undefined>');
  });

  it('test_chainDeferredRecordsImplicitChain: a Deferred waiting on a returned one says so', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    a.addCallback(() => b);
    a.callback();
    expect(String(a)).to.equal('<Deferred waiting on Deferred>');
    expect(a.result).to.equal(b);
  });

  it('test_repr / test_reprWithResult: repr shows the class and the current result', () => {
    const d = new Deferred<string>();
    expect(String(d)).to.equal('<Deferred>');
    d.callback('orange');
    expect(String(d)).to.equal("<Deferred current result: 'orange'>");
  });

  it('chainDeferred: the chained Deferred fires with the same result, the source continues with undefined', () => {
    const src = new Deferred<number>();
    const dst = new Deferred<number>();
    src.chainDeferred(dst);
    src.callback(5);
    expect(successResultOf(dst)).to.equal(5);
    expect(successResultOf(src)).to.equal(undefined);
    const esrc = new Deferred<number>();
    const edst = new Deferred<number>();
    esrc.chainDeferred(edst);
    esrc.errback(new GenericError('chained'));
    expect(failureResultOf(edst, GenericError).getErrorMessage()).to.equal('chained');
  });

  it('test_circularChainException: a callback returning its own Deferred fails the chain instead of hanging', () => {
    const d = new Deferred<string>();
    d.addCallback(() => d);
    d.callback('foo');
    const f = failureResultOf(d, TypeError);
    expect(f.getErrorMessage()).to.match(/returned the Deferred it was attached to/);
  });

  it('test_boundedStackDepth: callbacks run at the same stack depth however many Deferreds are chained', () => {
    function chainDeferreds(howMany: number): number {
      const stack: number[] = [];
      const top = new Deferred<void>();
      const inners: Deferred<void>[] = [];
      for (let i = 0; i < howMany; i++) inners.push(new Deferred<void>());
      const originals = inners.slice();
      const last = new Deferred<void>();
      let inner = inners.pop()!;
      const firstInner = inner;
      top.addCallback(() => firstInner);
      top.addCallback(() => {
        stack.push(new Error().stack!.split('\n').length);
      });
      while (inners.length) {
        const next = inners.pop()!;
        inner.addCallback(() => next);
        inner = next;
      }
      inner.addCallback(() => last);
      top.callback();
      for (const d of originals) d.callback();
      expect(stack).to.deep.equal([]);
      last.callback();
      return stack[0];
    }
    const saved = Error.stackTraceLimit;
    Error.stackTraceLimit = Infinity;
    try {
      expect(chainDeferreds(1)).to.equal(chainDeferreds(2));
      expect(chainDeferreds(1)).to.equal(chainDeferreds(50));
    } finally {
      Error.stackTraceLimit = saved;
    }
  });

  it('100,000 nested Deferreds, each returned by the previous one\'s callback, run without growing the stack', () => {
    const N = 100_000;
    const top = new Deferred<string>();
    const inners: Deferred<string>[] = [];
    let cur: Deferred<string> = top;
    for (let i = 0; i < N; i++) {
      const next = new Deferred<string>();
      inners.push(next);
      cur.addCallback(() => next);
      cur = next;
    }
    const last = new Deferred<string>();
    cur.addCallback(() => last);
    let depth = 0;
    top.addCallback((r) => {
      depth = new Error().stack!.split('\n').length;
      return r;
    });
    top.callback('go');
    // fire the innermost first so the whole chain unwinds at once
    for (let i = inners.length - 1; i >= 0; i--) inners[i].callback('x');
    last.callback('done');
    expect(successResultOf(top)).to.equal('done');
    expect(depth).to.be.lessThan(40);
  });

  it('100,000 callbacks that each return an already-fired Deferred run iteratively', () => {
    const d = new Deferred<number>();
    for (let i = 0; i < 100_000; i++) d.addCallback((n) => succeed(n + 1));
    d.callback(0);
    expect(successResultOf(d)).to.equal(100_000);
  });

  it('test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled: middle callbacks added later still run', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    const third = new Deferred<void>();
    first.addCallback(() => second);
    second.addCallback(() => third);
    second.callback();
    first.callback();
    third.callback();
    const results: unknown[] = [];
    second.addCallback((r) => {
      results.push(r);
    });
    expect(results).to.deep.equal([undefined]);
  });

  it('callbacks added after firing run at once', () => {
    const d = new Deferred<number>();
    d.callback(3);
    let seen: number | undefined;
    d.addCallback((r) => {
      seen = r;
    });
    expect(seen).to.equal(3);
    expect(d.called).to.equal(true);
  });

  it('pause() / unpause() nest: callbacks run only when every pause is undone', () => {
    const d = succeed(1);
    const seen: number[] = [];
    d.pause();
    d.pause();
    expect(d.paused).to.equal(2);
    d.addCallback((r) => {
      seen.push(r);
    });
    d.unpause();
    expect(seen).to.deep.equal([]);
    d.unpause();
    expect(seen).to.deep.equal([1]);
    expect(d.paused).to.equal(0);
  });

  it('test_maybeDeferredSync: maybeDeferred wraps a plain return value', () => {
    const result = {};
    expect(successResultOf(maybeDeferred(() => result))).to.equal(result);
  });

  it('test_maybeDeferredSyncWithArgs: maybeDeferred passes the arguments on', () => {
    expect(successResultOf(maybeDeferred((x: number) => x + 5, 10))).to.equal(15);
  });

  it('test_maybeDeferredSyncException: maybeDeferred turns a throw into a failed Deferred', () => {
    const f = failureResultOf(
      maybeDeferred(() => {
        throw new RangeError('that value is unacceptable');
      }),
      RangeError,
    );
    expect(f.getErrorMessage()).to.equal('that value is unacceptable');
  });

  it('test_maybeDeferredSyncFailure: maybeDeferred turns a returned Failure into a failed Deferred', () => {
    const expected = new Failure(new TypeError('10 + 5'));
    expect(failureResultOf(maybeDeferred(() => expected))).to.equal(expected);
  });

  it('test_maybeDeferredAsync: maybeDeferred passes a returned Deferred through', () => {
    const d1 = new Deferred<string>();
    const d2 = maybeDeferred(() => d1);
    expect(d2).to.equal(d1);
    d1.callback('Success');
    expect(successResultOf(d2)).to.equal('Success');
  });

  it('test_maybeDeferredAsyncError: maybeDeferred keeps the failure of a returned Deferred', () => {
    const d1 = new Deferred<void>();
    const d2 = maybeDeferred(() => d1);
    d1.errback(new Failure(new RangeError()));
    failureResultOf(d2, RangeError);
  });

  it('test_maybeDeferredCoroutineSuccess: maybeDeferred turns a returned Promise into a Deferred', async () => {
    const d = maybeDeferred(async () => 7);
    expect(d).to.be.instanceOf(Deferred);
    expect(await d).to.equal(7);
  });

  it('test_maybeDeferredCoroutineFailure: a rejected Promise becomes a failed Deferred', async () => {
    class SomeException extends Error {}
    const d = maybeDeferred(async () => {
      throw new SomeException('x');
    });
    await new Promise((r) => setImmediate(r));
    expect(failureResultOf(d).type).to.equal(SomeException);
  });
});

describe('defer: bad input', () => {
  it('addCallback with a non-function throws a TypeError naming the argument, at once', () => {
    const d = new Deferred();
    expect(() => d.addCallback(42 as any)).to.throw(TypeError, /addCallback: callback must be a function, got 42 \(number\)/);
    expect(() => d.addErrback('x' as any)).to.throw(TypeError, /addErrback: errback must be a function/);
    expect(() => d.addBoth(null as any)).to.throw(TypeError, /addBoth: fn must be a function, got null/);
    expect(() => d.addCallbacks(() => 1, {} as any)).to.throw(TypeError, /addCallbacks: errback must be a function/);
    expect(() => d.addCallbacks(() => 1, null, 'a' as any)).to.throw(TypeError, /callbackArgs must be an array/);
    expect(() => new Deferred(5 as any)).to.throw(TypeError, /canceller must be a function/);
    expect(() => maybeDeferred(undefined as any)).to.throw(TypeError, /maybeDeferred: fn must be a function/);
  });

  it('errback() with a non-Error wraps it in a Failure whose message says what it was', () => {
    const d = new Deferred();
    d.errback('boom');
    const f = failureResultOf(d, NonErrorValue);
    expect(f.value).to.be.instanceOf(Error);
    expect(f.getErrorMessage()).to.equal(
      "errback() was given a non-Error value: 'boom' (string); throw or pass an Error (or a Failure) instead",
    );
    expect((f.value as NonErrorValue).original).to.equal('boom');
    const d2 = new Deferred();
    d2.errback({ code: 7 });
    expect(failureResultOf(d2).getErrorMessage()).to.match(/non-Error value: \{ code: 7 \} \(Object\)/);
  });

  it('a callback throwing a non-Error fails the chain with a NonErrorValue saying so', () => {
    const d = succeed(1).addCallback(() => {
      throw 17; // eslint-disable-line no-throw-literal
    });
    const f = failureResultOf(d, NonErrorValue);
    expect(f.getErrorMessage()).to.match(/a callback threw a non-Error value: 17 \(number\)/);
  });

  it('callback() with a Deferred throws a TypeError', () => {
    const d = new Deferred<any>();
    expect(() => d.callback(new Deferred())).to.throw(TypeError, /callback\(\) was given a Deferred/);
    expect(d.called).to.equal(false);
  });
});

// A chain of one plain pair is held in the Deferred itself (no array); these pin down that it
// behaves exactly as a longer chain does wherever the one form turns into the other.
describe('defer: a lone callback pair', () => {
  it('a second pair added before firing runs after the first, on the path the first leaves', () => {
    const seen: unknown[] = [];
    const d = new Deferred<number>();
    d.addCallbacks(
      (n) => {
        seen.push(['cb1', n]);
        throw new GenericError('from cb1');
      },
      (f) => seen.push(['eb1', f.getErrorMessage()]),
    );
    d.addCallbacks(
      (v) => seen.push(['cb2', v]),
      (f) => {
        seen.push(['eb2', f.getErrorMessage()]);
        return 'recovered';
      },
    );
    d.callback(1);
    expect(seen).to.deep.equal([['cb1', 1], ['eb2', 'from cb1']]);
    expect(successResultOf(d)).to.equal('recovered');
  });

  it('callbacks added by the lone callback while it runs get its return value, in order', () => {
    const seen: unknown[] = [];
    const d = new Deferred<number>();
    d.addCallbacks(
      (n) => {
        d.addCallback((v) => (seen.push(['second', v]), v * 10));
        d.addCallback((v) => (seen.push(['third', v]), v + 1));
        return n + 1;
      },
      () => 'unreached',
    );
    d.callback(1);
    expect(seen).to.deep.equal([['second', 2], ['third', 20]]);
    expect(successResultOf(d)).to.equal(21);
  });

  it('a lone errback-only pair passes a result through and handles a failure', () => {
    const ok = new Deferred<number>();
    ok.addErrback(() => 'unreached');
    ok.callback(5);
    expect(successResultOf(ok)).to.equal(5);
    const bad = new Deferred<number>();
    bad.addBoth((r) => (r instanceof Failure ? `handled ${r.getErrorMessage()}` : r));
    bad.errback(new GenericError('boom'));
    expect(successResultOf(bad)).to.equal('handled boom');
  });

  it('a lone callback returning an unfired Deferred: callbacks added meanwhile wait for its result', () => {
    const inner = new Deferred<string>();
    const seen: unknown[] = [];
    const d = new Deferred<number>();
    d.addCallbacks((n) => {
      d.addCallback((v) => (seen.push(v), `${v}!`));
      seen.push(n);
      return inner;
    }, null);
    d.callback(1);
    expect(seen).to.deep.equal([1]);
    assertNoResult(d);
    expect(d.paused).to.equal(1);
    inner.callback('inner');
    expect(seen).to.deep.equal([1, 'inner']);
    expect(successResultOf(d)).to.equal('inner!');
  });

  it('a Deferred with a lone pair, returned unfired by another callback, runs that pair before handing its result on', () => {
    const inner = new Deferred<number>();
    inner.addCallbacks((n) => n + 1, null);
    const outer = new Deferred<void>();
    outer.addCallback(() => inner).addCallback((v) => v * 100);
    outer.callback(undefined);
    assertNoResult(outer);
    inner.callback(1);
    expect(successResultOf(outer)).to.equal(200);
    expect(inner.result).to.equal(undefined);
  });

  it('pausing inside the lone callback does not stop a callback it adds (as with an array chain)', () => {
    const run = (extraFirst: boolean): unknown[] => {
      const seen: unknown[] = [];
      const d = new Deferred<number>();
      if (extraFirst) d.addCallback((v) => v);
      d.addCallback((v) => {
        d.pause();
        d.addCallback((w) => seen.push(['added', w]));
        return v;
      });
      d.callback(3);
      seen.push(['paused', d.paused]);
      return seen;
    };
    expect(run(false)).to.deep.equal(run(true));
  });

  it('cancel() on a Deferred whose chain is a lone pair runs the canceller, then the pair\'s errback', () => {
    const seen: unknown[] = [];
    const d = new Deferred<number>(() => seen.push('canceller'));
    d.addCallbacks(
      () => seen.push('callback'),
      (f) => {
        seen.push(['errback', f.check(CancelledError) !== null]);
        return null;
      },
    );
    d.cancel();
    expect(seen).to.deep.equal(['canceller', ['errback', true]]);
    expect(successResultOf(d)).to.equal(null);
  });
});
