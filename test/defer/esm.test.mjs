// The published entry point from ESM: import ... from 'deferbase/defer' (needs the build).
import { expect } from 'chai';
import {
  Deferred, Failure, succeed, fail, maybeDeferred, DeferredList, gatherResults,
  inlineCallbacks, ensureDeferred, AlreadyCalledError, CancelledError, TimeoutError, FirstError,
  DeferredLock, DeferredSemaphore, DeferredQueue, QueueOverflow, QueueUnderflow,
  Clock, deferLater, setDebugging, getDebugging, setUnhandledErrorHandler,
} from 'deferbase/defer';

describe('defer: ESM entry point', () => {
  it("import { ... } from 'deferbase/defer' gives working named exports", async () => {
    for (const x of [Failure, maybeDeferred, DeferredList, ensureDeferred, CancelledError, FirstError,
      DeferredLock, DeferredSemaphore, DeferredQueue, QueueOverflow, QueueUnderflow,
      setDebugging, getDebugging, setUnhandledErrorHandler]) {
      expect(x).to.be.a('function');
    }
    const clock = new Clock();
    const d = deferLater(clock, 1, () => 'tick');
    const timed = new Deferred().addTimeout(5, clock);
    clock.advance(5);
    expect(await d).to.equal('tick');
    let caught;
    try { await timed; } catch (e) { caught = e; }
    expect(caught).to.be.instanceOf(TimeoutError);
    const gen = inlineCallbacks(function* () { return (yield succeed(2)) * 21; });
    expect(await gen()).to.equal(42);
    expect(await gatherResults([succeed(1), succeed(2)])).to.deep.equal([1, 2]);
    const once = new Deferred();
    once.callback(1);
    expect(() => once.callback(2)).to.throw(AlreadyCalledError);
    fail(new Error('x')).addErrback(() => undefined);
  });
});
