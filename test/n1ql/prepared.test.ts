import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import { startHttp, type HttpQueryService } from './harness';
import { DOCS, travelEngine } from './fixture';

describe('n1ql EXPLAIN, PREPARE and EXECUTE', () => {
  it('EXPLAIN returns the plan and the statement text', () => {
    const e = travelEngine();
    const [row] = e.rows('EXPLAIN SELECT META().id FROM travel USE KEYS "route_1"') as any[];
    expect(row.text).to.equal('SELECT META().id FROM travel USE KEYS "route_1"');
    expect(row.plan['#operator']).to.equal('Sequence');
    expect(JSON.stringify(row.plan)).to.contain('"KeyScan"');
  });

  it('PREPARE names a statement that EXECUTE runs with new parameters', () => {
    const e = travelEngine();
    const [p] = e.rows('PREPARE by_type FROM SELECT RAW META().id FROM travel WHERE type = $1 ORDER BY META().id') as any[];
    expect(p.name).to.equal('by_type');
    expect(p.encoded_plan).to.be.a('string');
    expect(e.rows('EXECUTE by_type', { args: ['airline'] })).to.deep.equal(['airline_1', 'airline_2', 'airline_3']);
    expect(e.rows('EXECUTE by_type USING ["route"]')).to.deep.equal(['route_1', 'route_2', 'route_3']);
    expect(e.run('EXECUTE nope').errors[0].code).to.equal(4040);
  });

  describe('over HTTP', () => {
    let svc: HttpQueryService;
    before(async () => {
      const store = new DocumentStore({ name: 'travel', numVBuckets: 16 });
      for (const [id, v] of Object.entries(DOCS)) store.write(id, Buffer.from(JSON.stringify(v)), 'upsert');
      svc = await startHttp([store]);
      await svc.request({ statement: 'CREATE PRIMARY INDEX ON travel' });
    });
    after(() => svc.close());

    it('runs a prepared statement by name, and from its encoded_plan on another node', async () => {
      const prep = await svc.request({ statement: 'PREPARE p_faa FROM SELECT RAW faa FROM travel WHERE type = "airport" AND city = $city' });
      const { name, encoded_plan } = prep.json.results[0];
      const r = await svc.request({ prepared: name, $city: 'Nice' });
      expect(r.json.results).to.deep.equal(['NCE']);
      const other = await startHttp([new DocumentStore({ name: 'elsewhere' })]);
      try {
        const missing = await other.request({ prepared: 'never_prepared' });
        expect(missing.json.errors[0].code).to.equal(4040);
        const decoded = await other.request({ prepared: name, encoded_plan, $city: 'Nice' });
        expect(decoded.json.errors[0].code).to.equal(12003);
      } finally {
        await other.close();
      }
    });

    it('reports the prepared-statement errors of the Error Codes reference: 4060, 4070, 4090', async () => {
      await svc.request({ statement: 'PREPARE p_dup FROM SELECT 1' });
      const dup = await svc.request({ statement: 'PREPARE p_dup FROM SELECT 2' });
      expect(dup.json.errors).to.deep.equal([{ code: 4060, msg: 'Unable to add name: duplicate name: p_dup' }]);
      const bad = await svc.request({ prepared: 'p_nowhere', encoded_plan: 'not base64 json' });
      expect(bad.json.errors).to.deep.equal([{ code: 4070, msg: 'Unable to decode prepared statement' }]);
      const prep = await svc.request({ statement: 'PREPARE p_named FROM SELECT 3' });
      const other = await svc.request({ prepared: 'p_other', encoded_plan: prep.json.results[0].encoded_plan });
      expect(other.json.errors).to.deep.equal([{ code: 4090, msg: 'Mismatching name in encoded plan, expecting: p_other, found: p_named' }]);
    });

    it('auto_execute prepares and runs in one request', async () => {
      const r = await svc.request({ statement: 'PREPARE SELECT RAW COUNT(*) FROM travel', auto_execute: true });
      expect(r.json.results).to.deep.equal([9]);
    });
  });
});
