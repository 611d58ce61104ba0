import { expect } from 'chai';
import { ManualClock } from '../../lib/server/clock';
import { waitForIndexes } from '../../lib/server/views';
import { putDesign, query, startViewsServer, type ViewsServer } from './helpers';

const rowsOf = (r: any) => r.json.rows.map((row: any) => [row.key, row.id, row.value]);

describe('views: incremental indexes', () => {
  let s: ViewsServer;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2025, 0, 1));
    s = await startViewsServer({ clock });
    for (let i = 0; i < 10; i++) s.putDoc(`d${i}`, { n: i });
    await putDesign(s, 'inc', {
      byN: { map: 'function (doc) { emit(doc.n, doc.n); }', reduce: '_sum' },
      even: { map: 'function (doc) { if (doc.n % 2 === 0) emit(doc.n, null); }' },
    });
  });
  afterEach(() => s.close());

  it('a new document, an update and a delete show in every view of the bucket', async () => {
    expect((await query(s, 'inc', 'byN')).json.rows).to.deep.equal([{ key: null, value: 45 }]);
    s.putDoc('d100', { n: 100 });
    s.putDoc('d3', { n: 4 });
    s.store.remove('d0');
    const byN = await query(s, 'inc', 'byN', { reduce: 'false' });
    expect(byN.json.total_rows).to.equal(10);
    expect(byN.json.rows.map((r: any) => r.id)).to.deep.equal(['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd100']);
    const even = await query(s, 'inc', 'even');
    expect(even.json.rows.map((r: any) => r.id)).to.deep.equal(['d2', 'd3', 'd4', 'd6', 'd8', 'd100']);
    expect((await query(s, 'inc', 'byN')).json.rows).to.deep.equal([{ key: null, value: 146 }]);
  });

  it('an expired document leaves the index', async () => {
    s.store.write('short', Buffer.from('{"n":1000}'), 'upsert', { expiry: 10 });
    expect((await query(s, 'inc', 'even', { key: 1000 })).json.rows).to.have.length(1);
    clock.advance(11_000);
    s.store.expirePass();
    expect((await query(s, 'inc', 'even', { key: 1000 })).json.rows).to.have.length(0);
  });

  it('stale=ok reads the index as it is; the pending batch lands shortly after without a query', async () => {
    await query(s, 'inc', 'even');
    s.putDoc('late', { n: 50 });
    const stale = await query(s, 'inc', 'even', { stale: 'ok', key: 50 });
    expect(stale.json.rows).to.have.length(0);
    await new Promise((r) => setTimeout(r, 60));
    const later = await query(s, 'inc', 'even', { stale: 'ok', key: 50 });
    expect(later.json.rows).to.have.length(1);
  });

  it('stale=false waits for every mutation made before the query', async () => {
    await query(s, 'inc', 'even');
    for (let i = 0; i < 3000; i++) s.putDoc(`x${i}`, { n: 2 * i });
    const r = await query(s, 'inc', 'even', { stale: 'false', limit: 0 });
    expect(r.json.total_rows).to.equal(5 + 3000);
  });

  it('after many random writes and deletes the index equals a fresh build of the same view', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    await query(s, 'inc', 'even');
    for (let round = 0; round < 4; round++) {
      // Small rounds take the splice path, the big one the merge path.
      const n = round === 2 ? 2000 : 40;
      for (let i = 0; i < n; i++) {
        const id = `r${Math.floor(rnd() * 500)}`;
        if (rnd() < 0.25) {
          if (s.store.get(id)) s.store.remove(id);
        } else {
          s.putDoc(id, { n: Math.floor(rnd() * 50), tag: rnd() < 0.5 ? 'a' : 'b' });
        }
      }
      await waitForIndexes(s.store);
    }
    await putDesign(s, 'fresh', {
      byN: { map: 'function (doc) { emit(doc.n, doc.n); }', reduce: '_sum' },
      even: { map: 'function (doc) { if (doc.n % 2 === 0) emit(doc.n, null); }' },
    });
    for (const view of ['byN', 'even']) {
      const params = view === 'byN' ? { reduce: 'false' } : {};
      const inc = await query(s, 'inc', view, params);
      const fresh = await query(s, 'fresh', view, params);
      expect(rowsOf(inc), view).to.deep.equal(rowsOf(fresh));
      expect(inc.json.total_rows).to.equal(fresh.json.total_rows);
    }
  });

  it('rebuilds the index when the design document changes', async () => {
    expect((await query(s, 'inc', 'even')).json.total_rows).to.equal(5);
    await putDesign(s, 'inc', { even: { map: 'function (doc) { if (doc.n % 2 === 1) emit(doc.n, "odd now"); }' } });
    const r = await query(s, 'inc', 'even');
    expect(r.json.total_rows).to.equal(5);
    expect(r.json.rows[0]).to.deep.equal({ id: 'd1', key: 1, value: 'odd now' });
  });

  it('keeps the index when a design document is stored again with the same views', async () => {
    expect((await query(s, 'inc', 'even')).json.total_rows).to.equal(5);
    const same = {
      byN: { map: 'function (doc) { emit(doc.n, doc.n); }', reduce: '_sum' },
      even: { map: 'function (doc) { if (doc.n % 2 === 0) emit(doc.n, null); }' },
    };
    const put = await s.request('PUT', '/b/_design/inc', { views: same, language: 'javascript' });
    expect(put.status).to.equal(201);
    s.putDoc('d42', { n: 42 });
    expect((await query(s, 'inc', 'even')).json.total_rows).to.equal(6);
    expect((await s.request('GET', '/b/_design/inc')).json.language).to.equal('javascript');
  });

  it('indexes documents written while the first build runs', async () => {
    const big = await startViewsServer();
    try {
      for (let i = 0; i < 20000; i++) big.putDoc(`p${i}`, { n: i });
      await putDesign(big, 'b', { v: { map: 'function (doc) { emit(doc.n, null); }' } });
      // The build runs in slices; these land in the middle of it.
      for (let i = 0; i < 100; i++) big.putDoc(`late${i}`, { n: -1 - i });
      big.store.remove('p0');
      const r = await query(big, 'b', 'v', { limit: 1 });
      expect(r.json.total_rows).to.equal(20000 + 100 - 1);
      expect(r.json.rows[0].key).to.equal(-100);
    } finally {
      await big.close();
    }
  });
});
