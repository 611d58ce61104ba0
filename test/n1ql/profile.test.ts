// profile=phases|timings (issue 20): the response's profile object as Couchbase 7.6 writes it,
// after metrics: phaseTimes, phaseCounts, phaseOperators, and for timings executionTimings (the
// plan with each measured operator's #stats).
import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import { startHttp } from './harness';

describe('n1ql profile', () => {
  let svc: Awaited<ReturnType<typeof startHttp>>;
  before(async () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 16 });
    for (let i = 0; i < 20; i++) store.write(`k${i}`, Buffer.from(JSON.stringify({ n: i, even: i % 2 === 0 })), 'upsert', { datatype: 1 });
    svc = await startHttp([store]);
    await svc.request({ statement: 'CREATE PRIMARY INDEX ON b' });
  });
  after(() => svc.close());

  it('profile=phases reports the phases, their counts and operators', async () => {
    const r = await svc.request({ statement: 'SELECT n FROM b WHERE even', profile: 'phases' });
    expect(r.json.status).to.equal('success');
    expect(r.json.results).to.have.length(10);
    const p = r.json.profile;
    expect(Object.keys(p.phaseTimes)).to.include.members(['authorize', 'fetch', 'filter', 'parse', 'plan', 'primaryScan', 'primaryScan.GSI', 'project', 'run', 'stream']);
    for (const t of Object.values(p.phaseTimes)) expect(t).to.match(/^\d+(\.\d+)?(ns|µs|ms|s)$/);
    // As system:completed_requests shows them in the 7.6 monitoring reference: the scan under its
    // phase and under the index service's (primaryScan.GSI); filter counts the rows it let through.
    expect(p.phaseCounts).to.deep.equal({ fetch: 20, filter: 10, primaryScan: 20, 'primaryScan.GSI': 20 });
    expect(p.phaseOperators).to.deep.equal({ authorize: 1, fetch: 1, filter: 1, primaryScan: 1, 'primaryScan.GSI': 1, project: 1, stream: 1 });
    expect(p.executionTimings).to.equal(undefined);
    expect(r.body.indexOf('"profile"')).to.be.above(r.body.indexOf('"metrics"'));
  });

  it('ORDER BY adds the sort phase (its operator, the rows sorted and its time)', async () => {
    const r = await svc.request({ statement: 'SELECT n FROM b WHERE even ORDER BY n DESC LIMIT 3', profile: 'phases' });
    expect(r.json.results).to.deep.equal([{ n: 18 }, { n: 16 }, { n: 14 }]);
    const p = r.json.profile;
    expect(p.phaseOperators).to.include({ sort: 1, filter: 1, project: 1, stream: 1 });
    expect(p.phaseCounts.sort).to.equal(10);
    expect(p.phaseTimes.sort).to.match(/s$/);
    // DML without RETURNING streams nothing.
    const d = await svc.request({ statement: 'UPDATE b SET x = 1 WHERE n = 1', profile: 'phases' });
    expect(d.json.profile.phaseOperators.stream).to.equal(undefined);
  });

  it('profile=timings adds the executed plan with #stats per operator', async () => {
    const r = await svc.request({ statement: 'SELECT n FROM b WHERE even', profile: 'timings' });
    const t = r.json.profile.executionTimings;
    expect(t['~versions']).to.have.length(2);
    const ops: any[] = [];
    const walk = (x: any): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        if (x['#operator']) ops.push(x);
        Object.values(x).forEach(walk);
      }
    };
    walk(t);
    const scan = ops.find((o) => o['#operator'] === 'PrimaryScan3');
    expect(scan['#stats']['#itemsOut']).to.equal(20);
    expect(scan['#stats'].execTime).to.match(/s$/);
    expect(ops.find((o) => o['#operator'] === 'Fetch')['#stats']).to.include({ '#itemsIn': 20, '#itemsOut': 20 });
  });

  it('profile=off (or absent) adds nothing; a bad value is refused', async () => {
    expect((await svc.request({ statement: 'SELECT 1', profile: 'off' })).json.profile).to.equal(undefined);
    expect((await svc.request({ statement: 'SELECT 1', profile: 'loud' })).json.errors[0].code).to.equal(1065);
  });
});
