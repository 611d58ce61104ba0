// Ports of test_defer.py OtherPrimitivesTests: DeferredLock, DeferredSemaphore, DeferredQueue.

import { expect } from 'chai';
import {
  CancelledError,
  Deferred,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  Failure,
  QueueOverflow,
  QueueUnderflow,
  succeed,
} from '../../lib/defer';
import { failureResultOf, successResultOf } from './helpers';

describe('defer: DeferredLock, DeferredSemaphore, DeferredQueue (test_defer.OtherPrimitivesTests)', () => {
  it('testLock: acquire, queue, release in order; run() holds the lock until the result is ready', () => {
    let counter = 0;
    const incr = () => {
      counter += 1;
    };
    const lock = new DeferredLock();
    lock.acquire().addCallback(incr);
    expect(lock.locked).to.equal(true);
    expect(counter).to.equal(1);
    lock.acquire().addCallback(incr);
    expect(lock.locked).to.equal(true);
    expect(counter).to.equal(1);
    lock.release();
    expect(lock.locked).to.equal(true);
    expect(counter).to.equal(2);
    lock.release();
    expect(lock.locked).to.equal(false);
    expect(counter).to.equal(2);

    expect(() => (lock as any).run()).to.throw(TypeError, /DeferredLock.run: fn must be a function/);

    const firstUnique = {};
    const secondUnique = {};
    const control = new Deferred<object>();
    let result: unknown;
    const helper = (resultValue: unknown, returnValue?: unknown) => {
      result = resultValue;
      return returnValue;
    };
    const resultDeferred = lock.run(helper, firstUnique, control);
    expect(lock.locked).to.equal(true);
    expect(result).to.equal(firstUnique);
    resultDeferred.addCallback((r) => helper(r));
    lock.acquire().addCallback(incr);
    expect(counter).to.equal(2);
    control.callback(secondUnique);
    expect(result).to.equal(secondUnique);
    expect(lock.locked).to.equal(true);
    expect(counter).to.equal(3);

    const d = lock.acquire().addBoth((r) => helper(r));
    d.cancel();
    expect(result).to.be.instanceOf(Failure);
    expect((result as Failure).type).to.equal(CancelledError);
    lock.release();
    expect(lock.locked).to.equal(false);
  });

  it('test_cancelLockAfterAcquired: cancelling an acquire that already has the lock does nothing', () => {
    const lock = new DeferredLock();
    const d = lock.acquire();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    d.cancel();
    expect(successResultOf(d)).to.equal(lock);
  });

  it('test_cancelLockBeforeAcquired: cancelling a waiting acquire fails it with CancelledError', () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
    expect(lock.waiting).to.have.length(0);
  });

  it('DeferredLock.run releases the lock when fn throws or its Deferred fails', () => {
    const lock = new DeferredLock();
    const d = lock.run(() => {
      throw new RangeError('in run');
    });
    failureResultOf(d, RangeError);
    expect(lock.locked).to.equal(false);
    const e = lock.run(async () => 'from a promise');
    return e.then((v) => {
      expect(v).to.equal('from a promise');
      expect(lock.locked).to.equal(false);
    });
  });

  it('releasing an unlocked lock throws', () => {
    expect(() => new DeferredLock().release()).to.throw(Error, /not locked/);
  });

  it('testSemaphore: at most N holders; a cancelled waiter is skipped', () => {
    const N = 13;
    const sem = new DeferredSemaphore(N);
    const control = new Deferred<void>();
    let helperArg: unknown;
    const results: unknown[] = [];
    let counter = 0;
    const incr = () => {
      counter += 1;
    };
    const uniqueObject = {};
    const resultDeferred = sem.run((arg: unknown) => {
      helperArg = arg;
      return control;
    }, uniqueObject);
    resultDeferred.addCallback((r) => {
      results.push(r);
    });
    resultDeferred.addCallback(incr);
    expect(results).to.deep.equal([]);
    expect(helperArg).to.equal(uniqueObject);
    control.callback();
    expect(results.pop()).to.equal(undefined);
    expect(counter).to.equal(1);

    counter = 0;
    for (let i = 1; i <= N; i++) {
      sem.acquire().addCallback(incr);
      expect(counter).to.equal(i);
    }
    const success: boolean[] = [];
    const d = sem.acquire().addCallbacks(
      () => {
        success.push(false);
      },
      () => {
        success.push(true);
      },
    );
    d.cancel();
    expect(success).to.deep.equal([true]);
    sem.acquire().addCallback(incr);
    expect(counter).to.equal(N);
    sem.release();
    expect(counter).to.equal(N + 1);
    for (let i = 1; i <= N; i++) {
      sem.release();
      expect(counter).to.equal(N + 1);
    }
    expect(sem.tokens).to.equal(N);
  });

  it('test_semaphoreInvalidTokens: fewer than one token is a RangeError', () => {
    expect(() => new DeferredSemaphore(0)).to.throw(RangeError, /tokens >= 1/);
    expect(() => new DeferredSemaphore(-1)).to.throw(RangeError);
    expect(() => new DeferredSemaphore('2' as any)).to.throw(TypeError, /tokens must be an integer/);
  });

  it('test_cancelSemaphoreAfterAcquired: cancelling a granted acquire does nothing', () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.acquire();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    d.cancel();
    expect(successResultOf(d)).to.equal(sem);
  });

  it('test_cancelSemaphoreBeforeAcquired: cancelling a waiting acquire fails it with CancelledError', () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const d = sem.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  it('releasing a semaphore more often than acquired throws', () => {
    expect(() => new DeferredSemaphore(2).release()).to.throw(Error, /released more times than acquired/);
  });

  it('testQueue: gets wait for puts; size and backlog raise QueueOverflow/QueueUnderflow', () => {
    const N = 2;
    const M = 2;
    let queue = new DeferredQueue<number | null>(N, M);
    let gotten: unknown[] = [];
    for (let i = 0; i < M; i++) {
      queue.get().addCallback((v) => {
        gotten.push(v);
      });
    }
    expect(() => queue.get()).to.throw(QueueUnderflow);
    for (let i = 0; i < M; i++) {
      queue.put(i);
      expect(gotten).to.deep.equal([...Array(i + 1).keys()]);
    }
    for (let i = 0; i < N; i++) {
      queue.put(N + i);
      expect(gotten).to.deep.equal([...Array(M).keys()]);
    }
    expect(() => queue.put(null)).to.throw(QueueOverflow);
    gotten = [];
    for (let i = 0; i < N; i++) {
      queue.get().addCallback((v) => {
        gotten.push(v);
      });
      expect(gotten).to.deep.equal(Array.from({ length: i + 1 }, (_, k) => N + k));
    }
    queue = new DeferredQueue();
    gotten = [];
    for (let i = 0; i < N; i++) {
      queue.get().addCallback((v) => {
        gotten.push(v);
      });
    }
    for (let i = 0; i < N; i++) queue.put(i);
    expect(gotten).to.deep.equal([0, 1]);
    expect(() => new DeferredQueue(0).put(null)).to.throw(QueueOverflow);
    expect(() => new DeferredQueue(null, 0).get()).to.throw(QueueUnderflow);
  });

  it('test_cancelQueueAfterSynchronousGet: cancelling a get that has its item does nothing', () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    queue.put(null);
    d.cancel();
    expect(successResultOf(d)).to.equal(null);
  });

  it('test_cancelQueueAfterGet: a cancelled get leaves the queue; later puts go to the next get', () => {
    const queue = new DeferredQueue<string | null>();
    const d = queue.get();
    d.cancel();
    const f: Failure[] = [];
    d.addErrback((x) => {
      f.push(x);
    });
    expect(f[0].type).to.equal(CancelledError);
    const done: unknown[] = [];
    d.addCallback(() => {
      queue.put('item');
      return queue.get();
    }).addCallback((v) => {
      done.push(v);
    });
    expect(done).to.deep.equal(['item']);
  });

  it('DeferredQueue rejects a bad size', () => {
    expect(() => new DeferredQueue(-1)).to.throw(TypeError, /size must be a non-negative number/);
    expect(successResultOf(succeed(1))).to.equal(1);
  });
});
