import { expect } from 'chai';
import { DocumentStore, StoreError, StoreStatus, type Item, type StoreLog, type Tombstone } from '../../lib/server/store';
import { ManualClock } from '../../lib/server/clock';
import type { MutationEvent } from '../../lib/server/service-types';

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    return (err as StoreError).status;
  }
  throw new Error('expected a StoreError');
}

describe('server DocumentStore', () => {
  let clock: ManualClock;
  let store: DocumentStore;
  beforeEach(() => {
    clock = new ManualClock();
    store = new DocumentStore({ name: 'default', clock, numVBuckets: 64 });
  });

  it('upsert, insert and replace behave like SET, ADD and REPLACE', () => {
    const a = store.write('k', Buffer.from('{"a":1}'), 'upsert');
    expect(a.datatype).to.equal(1);
    expect(statusOf(() => store.write('k', Buffer.from('x'), 'insert'))).to.equal(StoreStatus.KEY_EEXISTS);
    expect(statusOf(() => store.write('nope', Buffer.from('x'), 'replace'))).to.equal(StoreStatus.KEY_ENOENT);
    const b = store.write('k', Buffer.from('raw'), 'replace', { cas: a.cas, flags: 7 });
    expect(b.cas > a.cas).to.equal(true);
    expect(b.datatype).to.equal(0);
    expect(b.flags).to.equal(7);
    expect(statusOf(() => store.write('k', Buffer.from('x'), 'replace', { cas: a.cas }))).to.equal(StoreStatus.KEY_EEXISTS);
    expect(store.get('k')!.value.toString()).to.equal('raw');
  });

  it('CAS keeps increasing even when the clock does not move', () => {
    let last = 0n;
    for (let i = 0; i < 100; i++) {
      const d = store.write('k' + (i % 3), Buffer.from('v'), 'upsert');
      expect(d.cas > last).to.equal(true);
      last = d.cas;
    }
  });

  it('seqnos grow per vBucket and highSeqno tracks the latest mutation', () => {
    const d1 = store.write('a', Buffer.from('1'), 'upsert');
    const d2 = store.write('a', Buffer.from('2'), 'upsert');
    expect(d2.seqno > d1.seqno).to.equal(true);
    expect(store.vbucketSeqno(d2.vbucket)).to.equal(d2.seqno);
    expect(store.highSeqno).to.equal(d2.seqno);
    expect(typeof store.vbucketUuid(0)).to.equal('bigint');
  });

  it('documents expire in the server clock and listeners hear the expiry', () => {
    const events: MutationEvent[] = [];
    store.onMutation((e) => events.push(e));
    store.write('e', Buffer.from('v'), 'upsert', { expiry: 10 });
    clock.advance(9000);
    expect(store.get('e')).to.not.equal(undefined);
    clock.advance(1000);
    expect(store.get('e')).to.equal(undefined);
    expect(events.map((e) => e.kind)).to.deep.equal(['set', 'delete']);
    expect(store.size).to.equal(0);
  });

  it('a lock blocks writes without the lock CAS and times out by itself', () => {
    store.write('l', Buffer.from('v'), 'upsert');
    const locked = store.getLocked('l', 5);
    expect(statusOf(() => store.write('l', Buffer.from('x'), 'upsert'))).to.equal(StoreStatus.LOCKED);
    expect(statusOf(() => store.remove('l'))).to.equal(StoreStatus.LOCKED);
    expect(statusOf(() => store.getLocked('l', 5))).to.equal(StoreStatus.LOCKED);
    expect(statusOf(() => store.unlock('l', locked.cas + 1n))).to.equal(StoreStatus.LOCKED);
    clock.advance(5000);
    store.write('l', Buffer.from('x'), 'upsert');
    const again = store.getLocked('l', 0);
    store.write('l', Buffer.from('y'), 'upsert', { cas: again.cas });
    expect(store.isLocked(store.live('l')!)).to.equal(false);
    expect(statusOf(() => store.unlock('l', again.cas))).to.equal(StoreStatus.NOT_LOCKED);
  });

  it('counters create, wrap on increment and stop at zero on decrement', () => {
    expect(statusOf(() => store.counter('c', 1n, 0n, 0xffffffff, false))).to.equal(StoreStatus.KEY_ENOENT);
    expect(store.counter('c', 1n, 5n, 0, false).value).to.equal(5n);
    expect(store.counter('c', 3n, 0n, 0, false).value).to.equal(8n);
    expect(store.counter('c', 100n, 0n, 0, true).value).to.equal(0n);
    store.write('big', Buffer.from('18446744073709551615'), 'upsert');
    expect(store.counter('big', 2n, 0n, 0, false).value).to.equal(1n);
    store.write('txt', Buffer.from('abc'), 'upsert');
    expect(statusOf(() => store.counter('txt', 1n, 0n, 0, false))).to.equal(StoreStatus.DELTA_BADVAL);
  });

  it('append and prepend keep flags and fail NOT_STORED on a missing document', () => {
    store.write('s', Buffer.from('b'), 'upsert', { flags: 0x04000000 });
    store.concat('s', Buffer.from('c'), 'append');
    const d = store.concat('s', Buffer.from('a'), 'prepend');
    expect(d.value.toString()).to.equal('abc');
    expect(d.flags).to.equal(0x04000000);
    expect(statusOf(() => store.concat('missing', Buffer.from('x'), 'append'))).to.equal(StoreStatus.NOT_STORED);
  });

  it('rejects keys over 250 bytes and values over 20 MiB', () => {
    expect(statusOf(() => store.write('k'.repeat(251), Buffer.from('v'), 'upsert'))).to.equal(StoreStatus.EINVAL);
    expect(statusOf(() => store.write('k', Buffer.alloc(20 * 1024 * 1024 + 1), 'upsert'))).to.equal(StoreStatus.E2BIG);
  });

  it('remove leaves a tombstone that GET_META reports as deleted', () => {
    store.write('d', Buffer.from('v'), 'upsert');
    store.remove('d');
    expect(store.get('d')).to.equal(undefined);
    expect(store.meta('d')!.deleted).to.equal(true);
    // Deletions are persisted when acknowledged: observe says not found (persisted), not logically deleted.
    expect(store.observe('d').state).to.equal(0x80);
    expect(statusOf(() => store.remove('d'))).to.equal(StoreStatus.KEY_ENOENT);
  });

  it('tells listeners synchronously about writes from write() and remove()', () => {
    const seen: string[] = [];
    const off = store.onMutation((e) => seen.push(e.kind + ':' + (e.kind === 'set' ? e.doc.id : e.id)));
    store.write('x', Buffer.from('1'), 'upsert');
    expect(seen).to.deep.equal(['set:x']);
    store.remove('x');
    expect(seen).to.deep.equal(['set:x', 'delete:x']);
    off();
    store.write('y', Buffer.from('1'), 'upsert');
    expect(seen.length).to.equal(2);
  });

  it('docs() survives writes and removes during iteration and skips expired documents', () => {
    for (let i = 0; i < 20; i++) store.write(`it${i}`, Buffer.from(String(i)), 'upsert');
    store.write('short', Buffer.from('x'), 'upsert', { expiry: 1 });
    clock.advance(2000);
    const seen: string[] = [];
    for (const doc of store.docs()) {
      seen.push(doc.id);
      if (doc.id === 'it0') {
        store.remove('it19');
        store.write('it0', Buffer.from('again'), 'upsert');
      }
    }
    expect(seen).to.not.include('short');
    expect(seen).to.not.include('it19');
    expect(seen.filter((id) => id === 'it0')).to.have.length(1);
    expect(store.size).to.equal(19);
  });

  describe('with a write-ahead log', () => {
    /** A log that refuses while `full`, and records what it took. */
    class TestLog implements StoreLog {
      full = false;
      taken: string[] = [];
      constructor(readonly deferred: boolean) {}
      set(doc: Item): void {
        this.take(`set ${doc.id}`, doc.id);
      }
      remove(tomb: Tombstone): void {
        this.take(`remove ${tomb.id}`, tomb.id);
      }
      private take(what: string, id: string): void {
        if (this.full) throw new StoreError(StoreStatus.ETMPFAIL, id, 'temporary failure: disk full');
        this.taken.push(what);
      }
    }

    it('a change the log refuses leaves everything as it was: document, seqnos, tombstones, listeners', () => {
      const log = new TestLog(false);
      store.attachLog(log);
      const events: MutationEvent[] = [];
      store.onMutation((e) => events.push(e));
      const a = store.write('a', Buffer.from('1'), 'upsert');
      store.write('gone', Buffer.from('1'), 'upsert');
      store.remove('gone');
      const seqno = store.highSeqno;
      const vbSeqno = store.vbucketSeqno(store.vbucketOf('a'));
      log.full = true;
      expect(statusOf(() => store.write('a', Buffer.from('2'), 'upsert'))).to.equal(StoreStatus.ETMPFAIL);
      expect(statusOf(() => store.write('gone', Buffer.from('2'), 'insert'))).to.equal(StoreStatus.ETMPFAIL);
      expect(statusOf(() => store.remove('a'))).to.equal(StoreStatus.ETMPFAIL);
      expect(statusOf(() => store.touch('a', 100))).to.equal(StoreStatus.ETMPFAIL);
      expect(statusOf(() => store.concat('a', Buffer.from('x'), 'append'))).to.equal(StoreStatus.ETMPFAIL);
      expect(store.get('a')).to.equal(a);
      expect(store.meta('gone')!.deleted).to.equal(true);
      expect([store.highSeqno, store.vbucketSeqno(store.vbucketOf('a'))]).to.deep.equal([seqno, vbSeqno]);
      expect(events).to.have.length(3);
      expect(log.taken).to.deep.equal(['set a', 'set gone', 'remove gone']);
      log.full = false;
      expect(store.write('a', Buffer.from('3'), 'upsert').seqno).to.equal(seqno + 1n);
    });

    it('an expired document whose deletion the log refuses stays invisible, and is deleted by a later pass', () => {
      const log = new TestLog(false);
      store.attachLog(log);
      store.write('t', Buffer.from('1'), 'upsert', { expiry: 5 });
      store.write('u', Buffer.from('1'), 'upsert', { expiry: 5 });
      clock.advance(6000);
      log.full = true;
      expect(store.expirePass()).to.equal(0);
      expect(store.get('t')).to.equal(undefined);
      expect(store.meta('t')).to.equal(undefined);
      expect(log.taken).to.deep.equal(['set t', 'set u']);
      log.full = false;
      expect(store.expirePass()).to.equal(2);
      expect(store.meta('t')!.deleted).to.equal(true);
    });

    it('a deferred log: logFailed undoes every change not yet durable, newest first, and listeners follow', () => {
      const log = new TestLog(true);
      store.attachLog(log);
      store.write('a', Buffer.from('1'), 'upsert');
      store.write('d', Buffer.from('1'), 'upsert');
      store.logDurable(2);
      const live = new Map<string, string>([
        ['a', '1'],
        ['d', '1'],
      ]);
      store.onMutation((e) => (e.kind === 'set' ? live.set(e.doc.id, e.doc.value.toString()) : live.delete(e.id)));
      const durable = store.get('a');
      store.write('a', Buffer.from('2'), 'upsert');
      store.write('a', Buffer.from('3'), 'upsert');
      store.write('n', Buffer.from('1'), 'insert');
      store.remove('d');
      store.write('d', Buffer.from('again'), 'insert');
      store.logFailed();
      expect(store.get('a')).to.equal(durable);
      expect(store.get('n')).to.equal(undefined);
      expect(store.meta('n')).to.equal(undefined);
      expect(store.get('d')!.value.toString()).to.equal('1');
      expect([...live]).to.deep.equal([
        ['a', '1'],
        ['d', '1'],
      ]);
      // Nothing left to undo; a CAS from the durable state works.
      store.logFailed();
      expect(store.write('a', Buffer.from('4'), 'replace', { cas: durable!.cas }).value.toString()).to.equal('4');
    });
  });
});
