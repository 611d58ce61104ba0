import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { DocumentStore } from '../../lib/server/store';
import { createQueryService } from '../../lib/server/n1ql';
import { userWithBuckets } from '../../lib/server/rbac/users';
import type { ServiceContext } from '../../lib/server/service-types';
import { startHttp, type HttpQueryService } from './harness';
import { DOCS } from './fixture';

const GO_DURATION = /^\d+(\.\d+)?(ns|µs|ms|s)$|^(\d+h)?(\d+m)?\d+(\.\d+)?s$/;

describe('n1ql query service (HTTP)', () => {
  let store: DocumentStore;
  let svc: HttpQueryService;
  before(async () => {
    store = new DocumentStore({ name: 'travel', numVBuckets: 64 });
    for (const [id, v] of Object.entries(DOCS)) store.write(id, Buffer.from(JSON.stringify(v)), 'upsert');
    svc = await startHttp([store], { admin: { password: 'password', buckets: '*' }, other: { password: 'pw', buckets: ['elsewhere'] } });
    const r = await svc.request({ statement: 'CREATE PRIMARY INDEX ON travel' });
    expect(r.status).to.equal(200);
  });
  after(() => svc.close());

  it('answers GET /admin/ping with 200 {}', async () => {
    const r = await svc.request(undefined, { method: 'GET', path: '/admin/ping' });
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal({});
  });

  it('returns Couchbase\'s response shape, fields in order, with Go-duration metrics', async () => {
    const r = await svc.request({ statement: 'SELECT * FROM travel USE KEYS "airline_1"', client_context_id: 'ctx-1' });
    expect(r.status).to.equal(200);
    expect(Object.keys(r.json)).to.deep.equal(['requestID', 'clientContextID', 'signature', 'results', 'status', 'metrics']);
    expect(r.json.requestID).to.match(/^[0-9a-f-]{36}$/);
    expect(r.json.clientContextID).to.equal('ctx-1');
    expect(r.json.signature).to.deep.equal({ '*': '*' });
    expect(r.json.results).to.deep.equal([{ travel: DOCS.airline_1 }]);
    expect(r.json.status).to.equal('success');
    const m = r.json.metrics;
    expect(m.elapsedTime).to.match(GO_DURATION);
    expect(m.executionTime).to.match(GO_DURATION);
    expect(m.resultCount).to.equal(1);
    expect(m.resultSize).to.equal(JSON.stringify({ travel: DOCS.airline_1 }).length);
    expect(m).to.not.have.property('mutationCount');
  });

  it('binds args and $name parameters from a JSON body', async () => {
    const r = await svc.request({ statement: 'SELECT RAW name FROM travel WHERE type = $1 AND country = $country ORDER BY name', args: ['airline'], $country: 'United States' });
    expect(r.json.results).to.deep.equal(['Beta Jet', 'Gamma']);
  });

  it('accepts form-encoded POST and GET with URL parameters', async () => {
    const form = new URLSearchParams({ statement: 'SELECT RAW faa FROM travel WHERE type = $1 ORDER BY faa', args: '["airport"]' }).toString();
    const r = await svc.request(undefined, { raw: form, contentType: 'application/x-www-form-urlencoded' });
    expect(r.json.results).to.deep.equal(['CDG', 'NCE', 'SFO']);
    const g = await svc.request(undefined, { method: 'GET', path: `/query/service?${new URLSearchParams({ statement: 'SELECT RAW 1 + 1' })}` });
    expect(g.json.results).to.deep.equal([2]);
  });

  it('GET requests are read-only', async () => {
    const g = await svc.request(undefined, { method: 'GET', path: `/query/service?${new URLSearchParams({ statement: 'DELETE FROM travel' })}` });
    expect(g.json.errors[0].code).to.equal(1000);
    expect(store.size).to.equal(9);
  });

  it('rejects requests without valid credentials with 401', async () => {
    const r = await svc.request({ statement: 'SELECT 1' }, { auth: null });
    expect(r.status).to.equal(401);
    expect(r.json.errors[0].code).to.equal(10000);
    expect(r.json.status).to.equal('fatal');
    const bad = await svc.request({ statement: 'SELECT 1' }, { auth: 'Basic ' + Buffer.from('admin:wrong').toString('base64') });
    expect(bad.status).to.equal(401);
  });

  it('refuses buckets the user has no role on with 13014', async () => {
    const r = await svc.request({ statement: 'SELECT * FROM travel' }, { auth: 'Basic ' + Buffer.from('other:pw').toString('base64') });
    expect(r.status).to.equal(401);
    expect(r.json.errors[0].code).to.equal(13014);
  });

  it('maps errors to HTTP statuses: 3000 -> 400, 12003 -> 404, 4000 -> 400, unknown parameter 1065', async () => {
    const syn = await svc.request({ statement: 'SELECT * FRM travel' });
    expect(syn.status).to.equal(400);
    expect(Object.keys(syn.json)).to.deep.equal(['requestID', 'errors', 'status', 'metrics']);
    expect(syn.json.errors).to.deep.equal([{ code: 3000, msg: "syntax error - line 1, column 10, near 'SELECT * ', at: FRM" }]);
    expect(syn.json.status).to.equal('fatal');
    expect(syn.json.metrics.errorCount).to.equal(1);
    const ks = await svc.request({ statement: 'SELECT * FROM nosuch' });
    expect(ks.status).to.equal(404);
    expect(ks.json.errors[0].code).to.equal(12003);
    const unk = await svc.request({ statement: 'SELECT 1', bogus: 1 });
    expect(unk.status).to.equal(400);
    expect(unk.json.errors[0]).to.deep.equal({ code: 1065, msg: 'Unrecognized parameter in request: bogus' });
    const none = await svc.request({});
    expect(none.json.errors[0].code).to.equal(1050);
  });

  it('reports DML results with mutationCount and per-key errors with status "errors"', async () => {
    const ok = await svc.request({ statement: 'INSERT INTO travel (KEY, VALUE) VALUES ("svc_1", {"a": 1})' });
    expect(ok.json.status).to.equal('success');
    expect(ok.json.metrics.mutationCount).to.equal(1);
    const dup = await svc.request({ statement: 'INSERT INTO travel (KEY, VALUE) VALUES ("svc_1", {"a": 1})' });
    expect(dup.json.status).to.equal('errors');
    expect(dup.json.errors[0].code).to.equal(12009);
    expect(dup.json.errors[0].reason.code).to.equal(17012);
    store.remove('svc_1');
  });

  it('request_plus sees every mutation acknowledged before the request', async () => {
    await svc.request({ statement: 'CREATE INDEX ix_flag ON travel(flag)' });
    for (let i = 0; i < 50; i++) store.write(`rp_${i}`, Buffer.from(JSON.stringify({ flag: 'rp', i })), 'upsert');
    const r = await svc.request({ statement: 'SELECT RAW COUNT(*) FROM travel WHERE flag = "rp"', scan_consistency: 'request_plus' });
    expect(r.json.results).to.deep.equal([50]);
    for (let i = 0; i < 50; i++) store.remove(`rp_${i}`);
    const after = await svc.request({ statement: 'SELECT RAW COUNT(*) FROM travel WHERE flag = "rp"', scan_consistency: 'request_plus' });
    expect(after.json.results).to.deep.equal([0]);
  });

  it('stops with status "timeout" and code 1080 when the timeout passes', async () => {
    const r = await svc.request({ statement: 'SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 1000000) AS x', timeout: '1ms' });
    expect(r.json.status).to.equal('timeout');
    expect(r.json.errors[0]).to.deep.equal({ code: 1080, msg: 'Timeout 1ms exceeded' });
  });

  it('pretty prints, and metrics:false leaves metrics out', async () => {
    const r = await svc.request({ statement: 'SELECT 1 AS a', pretty: true, metrics: false });
    expect(r.body).to.contain('\n    "a": 1\n');
    expect(r.json).to.not.have.property('metrics');
  });

  it('streams large results completely', async function () {
    this.timeout(30000); // a correctness check: 200,000 rows take ~0.6 s on a quiet machine, 2+ s beside other work
    const r = await svc.request({ statement: 'SELECT RAW x FROM ARRAY_RANGE(0, 200000) AS x' });
    expect(r.json.results.length).to.equal(200000);
    expect(r.json.results[199999]).to.equal(199999);
    expect(r.json.metrics.resultCount).to.equal(200000);
  });
});

describe('n1ql query service backpressure', () => {
  it('stops producing rows while res.write() returns false and resumes on drain', async () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 8 });
    const ctx: ServiceContext = {
      clock: { now: () => Date.now() },
      bucket: (n) => (n === 'b' ? store : undefined),
      buckets: () => [store],
      nodeIndex: 0,
      authenticate: () => userWithBuckets('u', '*'),
    };
    const handler = createQueryService(ctx);
    const req = Readable.from([Buffer.from(JSON.stringify({ statement: 'SELECT RAW x FROM ARRAY_RANGE(0, 100000) AS x' }))]) as unknown as IncomingMessage;
    Object.assign(req, { url: '/query/service', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic x' } });
    const chunks: string[] = [];
    let ended = false;
    const res = Object.assign(new EventEmitter(), {
      headersSent: false,
      statusCode: 0,
      writeHead(code: number) {
        this.statusCode = code;
        this.headersSent = true;
        return this;
      },
      write(c: string) {
        chunks.push(c);
        return false; // always "buffer full"
      },
      end(c?: string) {
        if (c) chunks.push(c);
        ended = true;
      },
      destroy() {},
    }) as unknown as ServerResponse;
    handler.handle(req, res);
    await new Promise((r) => setTimeout(r, 50));
    expect(chunks.length).to.equal(1);
    expect(ended).to.equal(false);
    for (let i = 0; i < 10000 && !ended; i++) {
      res.emit('drain');
      await new Promise((r) => setImmediate(r));
    }
    expect(ended).to.equal(true);
    const body = JSON.parse(chunks.join(''));
    expect(body.results.length).to.equal(100000);
    expect(body.status).to.equal('success');
  });
});
