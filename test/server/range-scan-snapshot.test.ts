// What range scans read: the store's per-vBucket index (built on first use, kept up to date by
// every kind of change afterwards), snapshots in byte order, and kv_engine's sampling PRNG.
import { expect } from 'chai';
import { DocumentStore, ManualClock } from '../../lib/server';
import { WHOLE_RANGE, snapshotOf } from '../../lib/server/kv/range-scans';
import { Bernoulli, Mt19937 } from '../../lib/server/kv/sampling';

/** The vBucket's live documents by brute force. */
function expected(store: DocumentStore, vb: number): string[] {
  return [...store.docs()].filter((d) => store.vbucketOf(d.id) === vb).map((d) => d.id).sort();
}

function indexed(store: DocumentStore, vb: number): string[] {
  return store.vbucketItems(vb).map((i) => i.id).sort();
}

describe('range scan snapshots', () => {
  it('keeps the per-vBucket index right through writes, deletes, expiry, flush and an undone log group', () => {
    const clock = new ManualClock();
    const store = new DocumentStore({ name: 'b', numVBuckets: 4, clock });
    for (let i = 0; i < 40; i++) store.write(`k${i}`, Buffer.from('1'), 'upsert');
    const check = (): void => {
      for (let vb = 0; vb < 4; vb++) expect(indexed(store, vb), `vb ${vb}`).to.deep.equal(expected(store, vb));
    };
    check(); // builds the index
    for (let i = 0; i < 10; i++) store.remove(`k${i}`);
    for (let i = 40; i < 50; i++) store.write(`k${i}`, Buffer.from('2'), 'insert', { expiry: i % 2 === 0 ? 10 : 0 });
    check();
    clock.advance(11_000);
    check(); // expired documents are not read
    store.expirePass();
    check();
    // a deferred log that loses its group: every change since is undone
    store.attachLog({ deferred: true, set: () => undefined, remove: () => undefined });
    store.write('late', Buffer.from('3'), 'insert');
    store.remove('k20');
    store.logFailed();
    check();
    expect(store.get('late')).to.equal(undefined);
    expect(store.get('k20')).to.not.equal(undefined);
    store.attachLog(undefined);
    store.restore({ id: 'restored', value: Buffer.from('4'), flags: 0, datatype: 0, cas: 99n, expiry: 0, seqno: 1000n });
    store.restoreDelete({ id: 'k21', cas: 100n, seqno: 1001n, flags: 0, datatype: 0 });
    check();
    store.flush();
    check();
    expect(indexed(store, 0)).to.deep.equal([]);
  });

  it('tells whether a vBucket still holds a seqno, as a live document or a tombstone', () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 1 });
    const a = store.write('a', Buffer.from('1'), 'upsert');
    const b = store.write('b', Buffer.from('1'), 'upsert');
    store.remove('b');
    const deleted = store.meta('b')!.seqno;
    store.write('a', Buffer.from('2'), 'upsert');
    expect(store.seqnoExists(0, a.seqno)).to.equal(false); // overwritten
    expect(store.seqnoExists(0, b.seqno)).to.equal(false);
    expect(store.seqnoExists(0, deleted)).to.equal(true);
    expect(store.seqnoExists(0, store.meta('a')!.seqno)).to.equal(true);
  });

  it('orders a snapshot by the keys\' bytes (UTF-8), not by UTF-16 code units', () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 1 });
    // In UTF-16 U+1F600 (0xD83D 0xDE00) comes before U+FF5E; in UTF-8 (F0... after EF...) after it.
    for (const id of ['\u{1F600}', '\uFF5E', 'a', 'B']) store.write(id, Buffer.from('1'), 'upsert');
    expect(snapshotOf(store.vbucketItems(0), WHOLE_RANGE).map((e) => e.item.id)).to.deep.equal(['B', 'a', '\uFF5E', '\u{1F600}']);
  });

  it('draws std::mt19937 and libstdc++ bernoulli_distribution values exactly', () => {
    // The C++ standard's check value: the 10000th output of a default-seeded mt19937.
    const mt = new Mt19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.next();
    expect(v).to.equal(4123659995);
    const seeded = new Mt19937(42);
    expect([seeded.next(), seeded.next(), seeded.next()]).to.deep.equal([1608637542, 3421126067, 4083286876]);
    // g++ (libstdc++): std::mt19937 r(18111); std::bernoulli_distribution d(0.3); 64 draws
    const b = new Bernoulli(18111, 0.3);
    let bits = '';
    for (let i = 0; i < 64; i++) bits += b.draw() ? '1' : '0';
    expect(bits).to.equal('0000111100100000001110001000101100001100001000100010010100100000');
  });
});
