// Deferreds and Promises: await, then(), asPromise(), fromPromise(), callbacks returning Promises.
// Mirrors test_defer.py DeferredFutureAdapterTests (asFuture/fromFuture) in Promise terms.

import { expect } from 'chai';
import { CancelledError, Deferred, Failure, fail, setUnhandledErrorHandler, succeed } from '../../lib/defer';
import { assertNoResult, failureResultOf, successResultOf } from './helpers';

const tick = () => new Promise((r) => setImmediate(r));

describe('defer: Promise interop', () => {
  it('await works on a fired Deferred and on one that fires later', async () => {
    expect(await succeed(5)).to.equal(5);
    const d = new Deferred<string>();
    setImmediate(() => d.callback('later'));
    expect(await d).to.equal('later');
  });

  it('await on a failed Deferred throws the error (not the Failure)', async () => {
    const err = new RangeError('x');
    try {
      await fail(err);
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.equal(err);
    }
  });

  it('then() observes: the chain keeps its result for later callbacks', async () => {
    const d = new Deferred<number>();
    const p = d.then((v) => v * 2);
    d.callback(21);
    expect(await p).to.equal(42);
    expect(successResultOf(d.addCallback((v) => v + 1))).to.equal(22);
  });

  it('then() on a failure: the Promise rejects, the Failure stays in the chain, and it is not reported as unhandled', async () => {
    const reports: Failure[] = [];
    const previous = setUnhandledErrorHandler((f) => reports.push(f));
    try {
      const d = new Deferred<number>();
      const p = d.then(undefined, (e) => `caught ${(e as Error).message}`);
      d.errback(new RangeError('bad'));
      expect(await p).to.equal('caught bad');
      const f = failureResultOf(d, RangeError);
      expect(f._observed).to.equal(true);
    } finally {
      setUnhandledErrorHandler(previous);
    }
    expect(reports).to.deep.equal([]);
  });

  it('test_asFuture (asPromise): resolves with the result', async () => {
    const d = new Deferred<number>();
    const p = d.asPromise();
    d.callback(13);
    expect(await p).to.equal(13);
    expect(successResultOf(d)).to.equal(13);
  });

  it('test_asFutureFailure (asPromise): rejects with the error', async () => {
    const d = new Deferred<void>();
    const p = d.asPromise();
    d.errback(new RangeError('zero'));
    let caught: unknown;
    await p.catch((e) => {
      caught = e;
    });
    expect(caught).to.be.instanceOf(RangeError);
  });

  it('test_fromFuture (fromPromise): fires when the Promise resolves', async () => {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => (resolve = r));
    const d = Deferred.fromPromise(p);
    assertNoResult(d);
    resolve(7);
    await tick();
    expect(successResultOf(d)).to.equal(7);
  });

  it('fromPromise: a rejection becomes a Failure; a non-Error rejection says what it was', async () => {
    const d = Deferred.fromPromise(Promise.reject(new RangeError('r')));
    const d2 = Deferred.fromPromise(Promise.reject('plain'));
    await tick();
    failureResultOf(d, RangeError);
    expect(failureResultOf(d2).getErrorMessage()).to.match(/the Promise rejected with a non-Error value: 'plain'/);
  });

  it('test_fromFutureDeferredCancelled (fromPromise): cancelling fails with CancelledError; the later outcome is ignored', async () => {
    let resolve!: (v: number) => void;
    const d = Deferred.fromPromise(new Promise<number>((r) => (resolve = r)));
    d.cancel();
    failureResultOf(d, CancelledError);
    resolve(1);
    await tick();
    expect(successResultOf(d)).to.equal(undefined);
  });

  it('fromPromise of a Deferred returns it unchanged', () => {
    const d = new Deferred();
    expect(Deferred.fromPromise(d)).to.equal(d);
  });

  it('a callback returning a Promise pauses the chain until it settles (like ensureDeferred)', async () => {
    const d = succeed(1);
    const order: string[] = [];
    d.addCallback(async (v) => {
      order.push('async start');
      await tick();
      return v + 1;
    });
    d.addCallback((v) => {
      order.push(`next got ${v}`);
      return v;
    });
    expect(order).to.deep.equal(['async start']);
    expect(String(d)).to.equal('<Deferred waiting on Deferred>');
    await tick();
    await tick();
    expect(order).to.deep.equal(['async start', 'next got 2']);
  });

  it('a callback returning a rejected Promise switches to the errback path', async () => {
    const d = succeed(1).addCallback(() => Promise.reject(new RangeError('async bad')));
    await tick();
    failureResultOf(d, RangeError);
  });

  it('cancelling a Deferred waiting on a callback\'s Promise fails it with CancelledError', async () => {
    const d = succeed(1).addCallback(() => new Promise(() => undefined));
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  it('returning a Deferred from an async function adopts its result without consuming it', async () => {
    const d = new Deferred<string>();
    const outer = (async () => d)();
    d.callback('value');
    expect(await outer).to.equal('value');
    expect(successResultOf(d)).to.equal('value');
  });
});
