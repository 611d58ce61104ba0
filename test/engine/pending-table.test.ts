// A connection's requests in flight, by opaque.
import { expect } from 'chai';
import { PendingTable } from '../../lib/engine/pending-table';

describe('engine pending table', function () {
  it('gets, replaces and deletes by opaque, counting what it holds', function () {
    const t = new PendingTable<string>(8);
    t.set(5, 'a');
    t.set(6, 'b');
    expect(t.get(5)).to.equal('a');
    expect(t.get(7)).to.equal(undefined);
    t.set(5, 'a2');
    expect(t.size).to.equal(2);
    expect(t.get(5)).to.equal('a2');
    expect(t.delete(5)).to.equal(true);
    expect(t.delete(5)).to.equal(false);
    expect(t.get(5)).to.equal(undefined);
    expect(t.size).to.equal(1);
  });

  it('tells apart opaques that share a slot: a stuck request is not taken for a newer one', function () {
    const t = new PendingTable<string>(8);
    t.set(3, 'stuck');
    // 11 and 19 fall on the stuck request's slot (3 & 7); the table is far from half full.
    t.set(11, 'newer');
    t.set(19, 'newest');
    expect(t.get(3)).to.equal('stuck');
    expect(t.get(11)).to.equal('newer');
    expect(t.get(19)).to.equal('newest');
    expect(t.size).to.equal(3);
    expect(t.delete(11)).to.equal(true);
    expect(t.get(11)).to.equal(undefined);
    expect(t.get(19)).to.equal('newest');
    expect(t.values().sort()).to.deep.equal(['newest', 'stuck']);
  });

  it('keeps one entry per opaque when one in the overflow is set again after its slot freed', function () {
    const t = new PendingTable<string>(8);
    t.set(3, 'a');
    t.set(11, 'b'); // slot 3 is taken: 11 waits in the overflow
    t.delete(3);
    t.set(11, 'b2');
    expect(t.size).to.equal(1);
    expect(t.get(11)).to.equal('b2');
    expect(t.values()).to.deep.equal(['b2']);
    expect(t.delete(11)).to.equal(true);
    expect(t.size).to.equal(0);
    expect(t.get(11)).to.equal(undefined);
  });

  it('grows when a collision meets a half-full table, keeping every entry', function () {
    const t = new PendingTable<number>(4);
    for (let o = 1; o <= 100; o++) t.set(o, o * 10);
    expect(t.size).to.equal(100);
    for (let o = 1; o <= 100; o++) expect(t.get(o)).to.equal(o * 10);
    for (let o = 1; o <= 100; o += 2) t.delete(o);
    expect(t.size).to.equal(50);
    expect(t.values().sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => (i + 1) * 20));
  });

  it('keys an entry by the opaque it was set under, not by anything the value says later', function () {
    // A retried request is sent again under a new opaque while its old entry is being removed.
    const req = { opaque: 9 };
    const t = new PendingTable<typeof req>(16);
    t.set(req.opaque, req);
    req.opaque = 25; // 25 & 15 === 9: the same slot
    t.set(req.opaque, req);
    expect(t.delete(9)).to.equal(true);
    expect(t.get(25)).to.equal(req);
    expect(t.size).to.equal(1);
    expect(t.values()).to.deep.equal([req]);
  });

  it('stays small for sequential operations, with one request stuck throughout', function () {
    const t = new PendingTable<number>(64);
    t.set(1, -1);
    let missed = 0;
    for (let o = 2; o < 100_000; o++) {
      t.set(o, o);
      if (!t.delete(o)) missed++;
    }
    expect(missed).to.equal(0);
    expect(t.size).to.equal(1);
    expect(t.get(1)).to.equal(-1);
    // Collisions with the stuck entry went to the overflow map; the array never doubled.
    expect((t as unknown as { slots: unknown[] }).slots.length).to.equal(64);
  });

  it('clear() empties it', function () {
    const t = new PendingTable<string>();
    t.set(1, 'x');
    t.set(65, 'y');
    t.clear();
    expect(t.size).to.equal(0);
    expect(t.get(1)).to.equal(undefined);
    expect(t.values()).to.deep.equal([]);
  });
});
