// Ports of test_defer.py's DeferredList / gatherResults / FirstError scenarios.

import { expect } from 'chai';
import {
  CancelledError,
  Deferred,
  DeferredList,
  Failure,
  FirstError,
  SUCCESS,
  FAILURE,
  fail,
  gatherResults,
  setUnhandledErrorHandler,
  succeed,
} from '../../lib/defer';
import { GenericError, assertNoResult, failureResultOf, fakeCallbackCanceller, successResultOf } from './helpers';

describe('defer: DeferredList and gatherResults', () => {
  it('testDeferredList: results come as [success, value|Failure] in input order', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3]);
    expect(dl).to.be.instanceOf(Deferred);
    const result: any[] = [];
    dl.addCallbacks((r: any[]) => {
      result.push(...r);
    });
    d1.callback('1');
    d2.addErrback(() => undefined);
    d2.errback(new GenericError('2'));
    d3.callback('3');
    expect(result[0]).to.deep.equal([SUCCESS, '1']);
    expect(result[1][0]).to.equal(FAILURE);
    expect(result[1][1]).to.be.instanceOf(Failure);
    expect(result[1][1].getErrorMessage()).to.equal('2');
    expect(result[2]).to.deep.equal([SUCCESS, '3']);
  });

  it('testEmptyDeferredList: an empty list fires with []; with fireOnOneCallback it never fires', () => {
    expect(successResultOf(new DeferredList([]))).to.deep.equal([]);
    assertNoResult(new DeferredList([], { fireOnOneCallback: true }));
  });

  it('testDeferredListFireOnOneError: the first failure fails the list with a FirstError', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3], { fireOnOneErrback: true });
    const result: Failure[] = [];
    dl.addErrback((f) => {
      result.push(f);
    });
    d2.addErrback(() => undefined);
    d1.callback('1');
    expect(result).to.deep.equal([]);
    d2.errback(new GenericError('from def2'));
    expect(result).to.have.length(1);
    expect(result[0].type).to.equal(FirstError);
    const firstError = result[0].value as FirstError;
    expect(firstError.subFailure.type).to.equal(GenericError);
    expect(firstError.subFailure.getErrorMessage()).to.equal('from def2');
    expect(firstError.index).to.equal(1);
  });

  it('testDeferredListDontConsumeErrors: without consumeErrors the failure continues down the original chain', () => {
    const d1 = new Deferred<void>();
    const dl = new DeferredList([d1]);
    const errorTrap: Failure[] = [];
    d1.addErrback((f) => {
      errorTrap.push(f);
    });
    const resultLists: any[] = [];
    dl.addCallback((r) => {
      resultLists.push(r);
    });
    d1.errback(new GenericError('Bang'));
    expect(errorTrap[0].getErrorMessage()).to.equal('Bang');
    expect(resultLists).to.have.length(1);
    expect(resultLists[0][0][1].getErrorMessage()).to.equal('Bang');
  });

  it('testDeferredListConsumeErrors: with consumeErrors the original chain gets undefined', () => {
    const d1 = new Deferred<void>();
    const dl = new DeferredList([d1], { consumeErrors: true });
    const errorTrap: Failure[] = [];
    d1.addErrback((f) => {
      errorTrap.push(f);
    });
    const resultLists: any[] = [];
    dl.addCallback((r) => {
      resultLists.push(r);
    });
    d1.errback(new GenericError('Bang'));
    expect(errorTrap).to.deep.equal([]);
    expect(resultLists[0][0][1].getErrorMessage()).to.equal('Bang');
  });

  it('testDeferredListFireOnOneErrorWithAlreadyFiredDeferreds: an already-failed input fails the list at once', () => {
    const d1 = new Deferred<void>();
    const d2 = new Deferred<void>();
    d1.errback(new GenericError('Bang'));
    const dl = new DeferredList([d1, d2], { fireOnOneErrback: true });
    failureResultOf(dl, FirstError);
    d1.addErrback(() => undefined);
  });

  it('testDeferredListWithAlreadyFiredDeferreds: already-fired inputs count at once', () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    d1.errback(new GenericError('Bang'));
    d2.callback(2);
    const dl = new DeferredList([d1, d2]);
    const r = successResultOf(dl);
    expect(r).to.have.length(2);
    d1.addErrback(() => undefined);
  });

  it('fireOnOneCallback: the first success fires the list with [value, index]', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const dl = new DeferredList([d1, d2], { fireOnOneCallback: true });
    d2.callback('second');
    expect(successResultOf(dl)).to.deep.equal(['second', 1]);
    d1.callback('first'); // late: ignored by the list
  });

  it('test_cancelDeferredList: cancelling an unfired list cancels every Deferred in it', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
  });

  it('test_cancelDeferredListCallback: the list fires with what the cancellers produced', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    failureResultOf(two, CancelledError);
    const result = successResultOf(dl);
    expect(result[0]).to.deep.equal([true, 'Callback Result']);
    expect(result[1][0]).to.equal(false);
    expect(result[1][1].check(CancelledError)).to.equal(CancelledError);
  });

  it('test_cancelDeferredListWithFireOnOneCallback: every Deferred is cancelled', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    // nothing succeeded, so once all have failed the list fires with the full result list
    expect(successResultOf(dl).map((r: any[]) => r[0])).to.deep.equal([false, false]);
  });

  it('test_cancelDeferredListWithFireOnOneCallbackAndDeferredCallback: a canceller\'s result fires the list', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(two, CancelledError);
    expect(successResultOf(dl)).to.deep.equal(['Callback Result', 0]);
  });

  it('test_cancelDeferredListWithFireOnOneErrback: the list fails with a FirstError of a CancelledError', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const f = failureResultOf(dl, FirstError);
    expect((f.value as FirstError).subFailure.check(CancelledError)).to.equal(CancelledError);
  });

  it('test_cancelDeferredListWithFireOnOneErrbackAllDeferredsCallback: all cancellers succeed, list succeeds', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>(fakeCallbackCanceller);
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    expect(successResultOf(dl)).to.deep.equal([
      [true, 'Callback Result'],
      [true, 'Callback Result'],
    ]);
  });

  it('test_cancelDeferredListWithOriginalDeferreds: only the Deferreds given at construction are cancelled', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const argumentList = [one, two];
    const dl = new DeferredList(argumentList);
    const three = new Deferred<void>();
    argumentList.push(three);
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    assertNoResult(three);
  });

  it('test_cancelDeferredListWithException: a throwing canceller is reported and the rest still cancelled', () => {
    const reported: Failure[] = [];
    const previous = setUnhandledErrorHandler((f) => reported.push(f));
    try {
      const one = new Deferred<void>(() => {
        throw new RangeError('test');
      });
      const two = new Deferred<void>();
      const dl = new DeferredList([one, two]);
      dl.cancel();
      failureResultOf(two, CancelledError);
      expect(reported).to.have.length(1);
      expect(reported[0].type).to.equal(RangeError);
    } finally {
      setUnhandledErrorHandler(previous);
    }
  });

  it('test_cancelFiredOnOneCallbackDeferredList: a list that already fired cancels nothing', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    one.callback();
    dl.cancel();
    assertNoResult(two);
  });

  it('test_cancelFiredOnOneErrbackDeferredList: a list that already failed cancels nothing', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    one.errback(new GenericError('test'));
    dl.cancel();
    assertNoResult(two);
    failureResultOf(one, GenericError);
    failureResultOf(dl, FirstError);
  });

  it('test_gatherResults: a plain list of values, or the first failure', () => {
    expect(successResultOf(gatherResults([succeed(1), succeed(2)]))).to.deep.equal([1, 2]);
    const dl = [succeed(1), fail(new RangeError())];
    const f = failureResultOf(gatherResults(dl), FirstError);
    expect(f).to.be.instanceOf(Failure);
    dl[1].addErrback(() => 1);
  });

  it('test_gatherResultsWithConsumeErrors: the input failure becomes undefined there', () => {
    const dgood = succeed(1);
    const dbad = fail(new RangeError('oh noes'));
    const d = gatherResults([dgood, dbad], true);
    const unconsumed: Failure[] = [];
    dbad.addErrback((f) => {
      unconsumed.push(f);
    });
    const gathered = failureResultOf(d, FirstError);
    expect(unconsumed).to.have.length(0);
    expect((gathered.value as FirstError).subFailure.value).to.be.instanceOf(RangeError);
  });

  it('test_cancelGatherResults: cancelling cancels every input and fails with FirstError', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const result = gatherResults([one, two]);
    result.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const f = failureResultOf(result, FirstError);
    expect((f.value as FirstError).subFailure.check(CancelledError)).to.equal(CancelledError);
  });

  it('test_cancelGatherResultsWithAllDeferredsCallback: cancellers that succeed give a list of results', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>(fakeCallbackCanceller);
    const result = gatherResults([one, two]);
    result.cancel();
    expect(successResultOf(result)).to.deep.equal(['Callback Result', 'Callback Result']);
  });

  it('DeferredList accepts Promises and rejects other items with a TypeError naming the index', async () => {
    const dl = gatherResults<number>([succeed(1), Promise.resolve(2)]);
    expect(await dl).to.deep.equal([1, 2]);
    expect(() => new DeferredList([succeed(1), 5 as any])).to.throw(TypeError, /item 1 must be a Deferred/);
  });
});

describe('defer: FirstError (test_defer.FirstErrorTests)', () => {
  it('test_repr / test_str: the message includes the index and the sub-failure', () => {
    const f = new Failure(new RangeError('some text'));
    const e = new FirstError(f, 3);
    expect(e.message).to.equal(`FirstError[#3, ${f.toString()}]`);
    expect(e.message).to.include('some text');
  });

  it('test_comparison: equal when index and sub-failure are the same', () => {
    const first = new Failure(new RangeError('x'));
    const one = new FirstError(first, 13);
    const anotherOne = new FirstError(first, 13);
    const another = new FirstError(new Failure(new RangeError('bar')), 9);
    expect(one.equals(anotherOne)).to.equal(true);
    expect(one.equals(another)).to.equal(false);
    expect(one.equals(10)).to.equal(false);
  });
});
