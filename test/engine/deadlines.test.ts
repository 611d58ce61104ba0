// The engine's deadline queue: one timer for every operation's timeout.
import { expect } from 'chai';
import * as sinon from 'sinon';
import { DeadlineQueue, type DeadlineNode } from '../../lib/engine/deadlines';

class Node implements DeadlineNode {
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlLinked = false;
  constructor(
    readonly name: string,
    public deadline: number,
  ) {}
}

describe('engine deadline queue', function () {
  let clock: sinon.SinonFakeTimers;
  let expired: string[];
  let q: DeadlineQueue<Node>;

  beforeEach(function () {
    clock = sinon.useFakeTimers({ now: 1_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    expired = [];
    q = new DeadlineQueue<Node>((n) => expired.push(n.name));
  });

  afterEach(function () {
    clock.restore();
  });

  it('expires nodes in deadline order, whatever order they were added in', function () {
    q.add(new Node('late', 1_300));
    q.add(new Node('early', 1_100));
    q.add(new Node('middle', 1_200));
    clock.tick(150);
    expect(expired).to.deep.equal(['early']);
    clock.tick(200);
    expect(expired).to.deep.equal(['early', 'middle', 'late']);
    expect(q.length).to.equal(0);
  });

  it('never expires a node that was removed, even when the timer was armed for it', function () {
    const a = new Node('a', 1_100);
    q.add(a);
    q.add(new Node('b', 1_200));
    q.remove(a);
    clock.tick(150);
    expect(expired).to.deep.equal([]);
    clock.tick(100);
    expect(expired).to.deep.equal(['b']);
  });

  it('keeps its timer when it empties: unref\'d while empty, ref\'d again by the next add', function () {
    // A sandbox of its own: the default one would restore the fake clock's setTimeout on a
    // later sinon.restore() elsewhere in the run, long after this test uninstalled the clock.
    const sandbox = sinon.createSandbox();
    const setTimeoutSpy = sandbox.spy(globalThis, 'setTimeout');
    try {
      for (let i = 0; i < 100; i++) {
        const n = new Node(`op${i}`, Date.now() + 2_500);
        q.add(n);
        expect(q.armed).to.equal('ref');
        q.remove(n);
        expect(q.armed).to.equal('unref');
        clock.tick(1);
      }
      // One timer for 100 sequential operations, not one each.
      expect(setTimeoutSpy.callCount).to.equal(1);
    } finally {
      sandbox.restore();
    }
    expect(expired).to.deep.equal([]);
  });

  it('lets a timer that fires on an empty queue lapse, and arms a new one for the next add', function () {
    const n = new Node('a', 1_100);
    q.add(n);
    q.remove(n);
    clock.tick(200);
    expect(q.armed).to.equal('no');
    q.add(new Node('b', Date.now() + 50));
    expect(q.armed).to.equal('ref');
    clock.tick(60);
    expect(expired).to.deep.equal(['b']);
  });

  it('re-arms for a node due before the armed deadline, even while idle', function () {
    const first = new Node('first', 1_000 + 75_000);
    q.add(first);
    q.remove(first);
    q.add(new Node('short', Date.now() + 100));
    clock.tick(110);
    expect(expired).to.deep.equal(['short']);
  });

  it('clear() stops the timer and hands back what was queued, earliest first', function () {
    q.add(new Node('y', 1_200));
    q.add(new Node('x', 1_100));
    expect(q.clear().map((n) => n.name)).to.deep.equal(['x', 'y']);
    expect(q.armed).to.equal('no');
    clock.tick(500);
    expect(expired).to.deep.equal([]);
  });
});
