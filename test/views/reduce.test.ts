import { expect } from 'chai';
import { putDesign, query, startViewsServer, type ViewsServer } from './helpers';

describe('views: reduces', () => {
  let s: ViewsServer;
  before(async () => {
    s = await startViewsServer();
    const cities = [
      ['US', 'CA', 'SF', 3],
      ['US', 'CA', 'LA', 5],
      ['US', 'OR', 'Portland', 2],
      ['BE', 'Namur', 'Dinant', 7],
      ['BE', 'Gent', 'Gent', 1],
    ] as const;
    cities.forEach(([c, st, city, n], i) => s.putDoc(`c${i}`, { kind: 'city', c, st, city, n }));
    s.putDoc('word', { kind: 'text', n: 'not a number' });
    await putDesign(s, 'r', {
      count: { map: 'function (doc) { if (doc.kind === "city") emit([doc.c, doc.st, doc.city], doc.n); }', reduce: '_count' },
      sum: { map: 'function (doc) { if (doc.kind === "city") emit([doc.c, doc.st, doc.city], doc.n); }', reduce: '_sum' },
      stats: { map: 'function (doc) { if (doc.kind === "city") emit([doc.c, doc.st], doc.n); }', reduce: '_stats' },
      badSum: { map: 'function (doc) { emit(doc.kind, doc.n); }', reduce: '_sum' },
      badStats: { map: 'function (doc) { emit(doc.kind, doc.n); }', reduce: '_stats' },
      custom: {
        map: 'function (doc) { if (doc.kind === "city") emit(doc.c, doc.n); }',
        reduce: 'function (keys, values, rereduce) { return { max: Math.max.apply(null, rereduce ? values.map(function (v) { return v.max; }) : values), rereduce: rereduce, firstKey: keys ? keys[0] : null }; }',
      },
    });
  });
  after(() => s.close());

  it('_count counts rows, per group level', async () => {
    expect((await query(s, 'r', 'count')).json.rows).to.deep.equal([{ key: null, value: 5 }]);
    expect((await query(s, 'r', 'count', { group_level: 1 })).json.rows).to.deep.equal([
      { key: ['BE'], value: 2 },
      { key: ['US'], value: 3 },
    ]);
    expect((await query(s, 'r', 'count', { group_level: 2 })).json.rows).to.deep.equal([
      { key: ['BE', 'Gent'], value: 1 },
      { key: ['BE', 'Namur'], value: 1 },
      { key: ['US', 'CA'], value: 2 },
      { key: ['US', 'OR'], value: 1 },
    ]);
  });

  it('_sum adds values, over a key range and per group', async () => {
    expect((await query(s, 'r', 'sum')).json.rows).to.deep.equal([{ key: null, value: 18 }]);
    expect((await query(s, 'r', 'sum', { startkey: ['US'], endkey: ['US', {}] })).json.rows).to.deep.equal([{ key: null, value: 10 }]);
    expect((await query(s, 'r', 'sum', { group: 'true', descending: 'true', limit: 2 })).json.rows).to.deep.equal([
      { key: ['US', 'OR', 'Portland'], value: 2 },
      { key: ['US', 'CA', 'SF'], value: 3 },
    ]);
  });

  it('group=true with keys reduces each requested key', async () => {
    const r = await s.request('POST', '/b/_design/r/_view/sum?group=true', { keys: [['US', 'CA', 'LA'], ['XX'], ['BE', 'Namur', 'Dinant']] });
    expect(r.json.rows).to.deep.equal([
      { key: ['US', 'CA', 'LA'], value: 5 },
      { key: ['BE', 'Namur', 'Dinant'], value: 7 },
    ]);
  });

  it('_stats gives sum, count, min, max and sumsqr', async () => {
    expect((await query(s, 'r', 'stats')).json.rows).to.deep.equal([{ key: null, value: { sum: 18, count: 5, min: 1, max: 7, sumsqr: 88 } }]);
    expect((await query(s, 'r', 'stats', { group: 'true', limit: 1, skip: 2 })).json.rows).to.deep.equal([
      { key: ['US', 'CA'], value: { sum: 8, count: 2, min: 3, max: 5, sumsqr: 34 } },
    ]);
  });

  it('_sum and _stats report Couchbase’s error on a non-number and keep the other groups', async () => {
    const sum = await query(s, 'r', 'badSum', { group: 'true' });
    expect(sum.status).to.equal(200);
    expect(sum.json.rows).to.deep.equal([{ key: 'city', value: 18 }]);
    expect(sum.json.errors).to.deep.equal([{ from: 'local', reason: 'Builtin _sum function requires map values to be numbers' }]);
    const stats = await query(s, 'r', 'badStats');
    expect(stats.json.rows).to.deep.equal([]);
    expect(stats.json.errors).to.deep.equal([{ from: 'local', reason: 'Builtin _stats function requires map values to be numbers' }]);
  });

  it('on_error=stop ends the rows at the first reduce error', async () => {
    const r = await query(s, 'r', 'badSum', { group: 'true', descending: 'true', on_error: 'stop' });
    expect(r.json.rows).to.deep.equal([]);
    expect(r.json.errors).to.have.length(1);
  });

  it('runs a custom JavaScript reduce with [key, docid] pairs', async () => {
    const r = await query(s, 'r', 'custom', { group: 'true' });
    expect(r.json.rows).to.deep.equal([
      { key: 'BE', value: { max: 7, rereduce: false, firstKey: ['BE', 'c3'] } },
      { key: 'US', value: { max: 5, rereduce: false, firstKey: ['US', 'c0'] } },
    ]);
  });

  it('re-reduces partial results of large groups (rereduce = true, keys = null)', async () => {
    const big = await startViewsServer();
    try {
      for (let i = 0; i < 2500; i++) big.putDoc(`n${i}`, { v: i % 997 });
      await putDesign(big, 'big', {
        total: {
          map: 'function (doc) { emit(null, doc.v); }',
          reduce: 'function (keys, values, rereduce) { var t = 0; for (var i = 0; i < values.length; i++) t += rereduce ? values[i].t : values[i]; return { t: t, rr: rereduce, k: keys === null }; }',
        },
      });
      const r = await query(big, 'big', 'total');
      let expected = 0;
      for (let i = 0; i < 2500; i++) expected += i % 997;
      expect(r.json.rows).to.deep.equal([{ key: null, value: { t: expected, rr: true, k: true } }]);
    } finally {
      await big.close();
    }
  });

  it('reports an exception thrown by a custom reduce', async () => {
    await putDesign(s, 'throws', {
      v: { map: 'function (doc) { emit(doc.kind, 1); }', reduce: 'function (keys, values) { if (values.length > 1) throw new Error("too many"); return 1; }' },
    });
    const r = await query(s, 'throws', 'v', { group: 'true' });
    expect(r.json.rows).to.deep.equal([{ key: 'text', value: 1 }]);
    expect(r.json.errors).to.deep.equal([{ from: 'local', reason: 'Error: too many' }]);
  });

  it('a reduce over no rows returns no rows', async () => {
    const r = await query(s, 'r', 'count', { startkey: ['ZZ'] });
    expect(r.json).to.deep.equal({ rows: [] });
  });
});
