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
    expect(Object.keys(p.phaseTimes)).to.include.members(['authorize', 'fetch', 'parse', 'plan', 'primaryScan', 'run']);
    for (const t of Object.values(p.phaseTimes)) expect(t).to.match(/^\d+(\.\d+)?(ns|µs|ms|s)$/);
    expect(p.phaseCounts).to.deep.equal({ fetch: 20, primaryScan: 20 });
    expect(p.phaseOperators).to.deep.equal({ authorize: 1, fetch: 1, primaryScan: 1 });
    expect(p.executionTimings).to.equal(undefined);
    expect(r.body.indexOf('"profile"')).to.be.above(r.body.indexOf('"metrics"'));
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
