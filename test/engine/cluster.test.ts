import { expect } from 'chai';
import * as http from 'node:http';
import { format } from 'node:util';
import createDebug from 'debug';
import { Cluster } from '../../lib/server';
import type { ViewRow } from '../../lib/engine/services/views';
import { Engine } from '../../lib/engine/engine';
import { run, fails, connect, close } from './helpers/engine';
import { NotFoundError, KeyExistsError, LockedError, DeltaBadvalError, AuthError, BucketNotFoundError, N1QLError, ViewError, type CouchbaseError } from '../../lib/engine/errors';
import { N1QLQuery, CONSISTENCY_REQUEST } from '../../lib/engine/services/n1ql';
import type { OperationResult, ValueResult, MultiResult, ObserveResult } from '../../lib/engine/results';
import { FMT_UTF8 } from '../../lib/engine/transcoder';

const AUTH = { username: 'Administrator', password: 'password' };

describe('engine against the embedded cluster (1 node)', () => {
  let cluster: Cluster;
  let engine: Engine;
  before(async () => {
    cluster = await Cluster.start({ nodes: 1, replicas: 0, buckets: [{ name: 'default' }], users: [AUTH] });
  });
  after(async () => cluster && (await cluster.stop()));
  beforeEach(async () => {
    engine = new Engine(`${cluster.connectionString}/default`, AUTH);
    await connect(engine);
  });
  afterEach(async () => close(engine));

  it('runs every KV operation with the results and errors a Python SDK user expects', async () => {
    const up = await run<OperationResult>(engine, 'upsert', 'doc', { value: { n: 1 } });
    expect((await run<ValueResult>(engine, 'get', 'doc')).value).to.deep.equal({ n: 1 });
    expect(await fails(run(engine, 'insert', 'doc', { value: 1 }))).to.be.instanceOf(KeyExistsError);
    expect(await fails(run(engine, 'replace', 'doc', { value: 2, cas: up.cas + 1n }))).to.be.instanceOf(KeyExistsError);
    await run(engine, 'replace', 'doc', { value: { n: 2 }, cas: up.cas });
    expect(await fails(run(engine, 'get', 'nothing'))).to.be.instanceOf(NotFoundError);
    await run(engine, 'upsert', 'str', { value: 'b', format: FMT_UTF8 });
    await run(engine, 'append', 'str', { value: 'c' });
    await run(engine, 'prepend', 'str', { value: 'a' });
    expect((await run<ValueResult>(engine, 'get', 'str')).value).to.equal('abc');
    expect((await run<ValueResult>(engine, 'counter', 'ctr', { initial: 5 })).value).to.equal(5);
    expect((await run<ValueResult>(engine, 'counter', 'ctr', { delta: 3 })).value).to.equal(8);
    expect(await fails(run(engine, 'counter', 'str'))).to.be.instanceOf(DeltaBadvalError);
    const locked = await run<ValueResult>(engine, 'lock', 'doc', { ttl: 5 });
    expect(await fails(run(engine, 'upsert', 'doc', { value: 3 }))).to.be.instanceOf(LockedError);
    await run(engine, 'unlock', 'doc', { cas: locked.cas });
    await run(engine, 'touch', 'doc', { ttl: 100 });
    expect((await run<ValueResult>(engine, 'get', 'doc', { ttl: 200 })).value).to.deep.equal({ n: 2 });
    await run(engine, 'remove', 'doc');
    expect(await fails(run(engine, 'get', 'doc'))).to.be.instanceOf(NotFoundError);
  });

  it('with enable_tracing=true reads the alt-magic responses (server durations) every operation then gets', async () => {
    const traced = new Engine(`${cluster.connectionString}/default?enable_tracing=true`, AUTH);
    const lines: string[] = [];
    const savedLog = createDebug.log;
    const savedNamespaces = createDebug.disable();
    createDebug.log = (...args: unknown[]) => lines.push(format(...args));
    createDebug.enable('deferbase:trace');
    try {
      await connect(traced);
      const up = await run<OperationResult>(traced, 'upsert', 'traced', { value: { n: 1 } });
      const got = await run<ValueResult>(traced, 'get', 'traced');
      expect(got.value).to.deep.equal({ n: 1 });
      expect(got.cas).to.equal(up.cas);
      expect(await fails(run(traced, 'get', 'traced-missing'))).to.be.instanceOf(NotFoundError);
      expect((await run<ValueResult>(traced, 'counter', 'traced-ctr', { initial: 7 })).value).to.equal(7);
      const locked = await run<ValueResult>(traced, 'lock', 'traced', { ttl: 5 });
      expect(await fails(run(traced, 'upsert', 'traced', { value: 2 }))).to.be.instanceOf(LockedError);
      await run(traced, 'unlock', 'traced', { cas: locked.cas });
      await run(traced, 'remove', 'traced');
    } finally {
      createDebug.log = savedLog;
      createDebug.enable(savedNamespaces);
      await close(traced);
    }
    const ops = lines.filter((l) => /server=\d+us/.test(l)).map((l) => /(\w+) opaque=/.exec(l)![1]);
    for (const op of ['HELLO', 'SELECT_BUCKET', 'SET', 'GET', 'INCREMENT', 'GET_LOCKED', 'UNLOCK_KEY', 'DELETE']) expect(ops, op).to.include(op);
  });

  it('pipelines a batch of 500 upserts and gets', async () => {
    const docs: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++) docs[`k${i}`] = { i };
    const stored = await new Promise<MultiResult>((r) => engine.kvMulti('upsert', docs, {}, (_e, m) => r(m!)));
    expect(stored.allOk).to.equal(true);
    // As in Python: the missing key fails the batch, its error holding every key's result.
    const failed = await new Promise<CouchbaseError>((r) => engine.kvMulti('get', [...Object.keys(docs), 'missing'], {}, (e) => r(e!)));
    expect(failed).to.be.instanceOf(NotFoundError);
    expect(failed.key).to.equal('missing');
    const got = failed.allResults as MultiResult;
    expect(got.size).to.equal(501);
    expect((got.get('k42') as ValueResult).value).to.deep.equal({ i: 42 });
    expect(got.get('missing')!.error).to.equal(failed);
    const quiet = await new Promise<MultiResult>((r) => engine.kvMulti('get', ['k1', 'missing'], { quiet: true }, (_e, m) => r(m!)));
    expect(quiet.get('missing')!.success).to.equal(false);
    expect(quiet.get('missing')!.error).to.equal(undefined);
  });

  it('streams N1QL rows and reports N1QL errors with their code', async () => {
    await run(engine, 'upsert', 'q1', { value: { kind: 'q', n: 1 } });
    await run(engine, 'upsert', 'q2', { value: { kind: 'q', n: 2 } });
    const query = (q: N1QLQuery | string): Promise<{ rows: unknown[]; meta?: Record<string, unknown>; err?: N1QLError }> =>
      new Promise((resolve) => {
        const rows: unknown[] = [];
        engine.n1ql(q, { onRows: (r) => rows.push(...r), onDone: (meta) => resolve({ rows, meta }), onError: (err) => resolve({ rows, err: err as N1QLError }) });
      });
    const noIndex = await query('SELECT d.n FROM `default` d WHERE d.kind = "q"');
    expect(noIndex.err).to.be.instanceOf(N1QLError);
    expect(noIndex.err!.code).to.equal(4000);
    expect((await query('CREATE PRIMARY INDEX ON `default`')).err).to.equal(undefined);
    const q = new N1QLQuery('SELECT d.n FROM `default` d WHERE d.kind = $1 ORDER BY d.n', 'q');
    q.consistency = CONSISTENCY_REQUEST;
    const ok = await query(q);
    expect(ok.rows).to.deep.equal([{ n: 1 }, { n: 2 }]);
    expect(ok.meta!.status).to.equal('success');
    expect(ok.meta!.requestID).to.be.a('string');
    const bad = await query('SELEC');
    expect(bad.err!.code).to.equal(3000);
  });

  it('streams view rows from a design document, with include_docs', async () => {
    await run(engine, 'upsert', 'beer-1', { value: { type: 'beer', name: 'Alpha' } });
    await run(engine, 'upsert', 'beer-2', { value: { type: 'beer', name: 'Beta' } });
    const capi = cluster.nodes[0].ports.capi!;
    const ddoc = JSON.stringify({ views: { by_name: { map: 'function (doc, meta) { if (doc.type === "beer") emit(doc.name, null); }' } } });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: capi, method: 'PUT', path: '/default/_design/beers', auth: 'Administrator:password', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(ddoc);
    });
    expect(status).to.be.oneOf([200, 201]);
    const rows: ViewRow[] = [];
    const meta = await new Promise<Record<string, unknown>>((resolve, reject) =>
      engine.view('beers', 'by_name', { stale: false, include_docs: true, startkey: 'A' }, { onRows: (r) => rows.push(...(r as ViewRow[])), onDone: resolve, onError: reject }),
    );
    expect(rows.map((r) => [r.id, r.key])).to.deep.equal([
      ['beer-1', 'Alpha'],
      ['beer-2', 'Beta'],
    ]);
    expect((rows[1].doc as ValueResult).value).to.deep.equal({ type: 'beer', name: 'Beta' });
    expect(meta.total_rows).to.equal(2);
  });

  it('reports a missing view as ViewError not_found', async () => {
    const err = await new Promise<ViewError>((resolve) => engine.view('nope', 'v', {}, { onRows: () => {}, onDone: () => {}, onError: (e) => resolve(e as ViewError) }));
    expect(err).to.be.instanceOf(ViewError);
    expect(err.httpStatus).to.equal(404);
    expect(err.error).to.equal('not_found');
  });

  it('refuses bad credentials and unknown buckets', async () => {
    const bad = new Engine(`${cluster.connectionString}/default`, { username: 'Administrator', password: 'nope' });
    expect(await fails(connect(bad))).to.be.instanceOf(AuthError);
    await close(bad);
    const nob = new Engine(`${cluster.connectionString}/nosuch`, AUTH);
    expect(await fails(connect(nob))).to.be.instanceOf(BucketNotFoundError);
    await close(nob);
  });
});

describe('engine against the embedded cluster (3 nodes, 1 replica)', () => {
  let cluster: Cluster;
  let engine: Engine;
  beforeEach(async () => {
    cluster = await Cluster.start({ nodes: 3, replicas: 1, buckets: [{ name: 'default' }], users: [AUTH] });
    engine = new Engine(`${cluster.connectionString}/default?config_poll_interval=0.1`, AUTH);
    await connect(engine);
  });
  afterEach(async () => {
    await close(engine);
    await cluster.stop();
  });

  it('spreads keys over the three nodes and reads replicas', async () => {
    expect(engine.topology!.servers).to.have.length(3);
    for (let i = 0; i < 50; i++) await run(engine, 'upsert', `r${i}`, { value: i });
    const r = await run<ValueResult>(engine, 'getReplica', 'r7', { replica: 'any' });
    expect(r.value).to.equal(7);
    const r0 = await run<ValueResult>(engine, 'getReplica', 'r8', { replica: 0 });
    expect(r0.value).to.equal(8);
  });

  it('waits for persistTo/replicateTo and observes master and replica copies', async () => {
    const r = await run<OperationResult>(engine, 'upsert', 'durable', { value: 1, persistTo: 2, replicateTo: 1 });
    const obs = await run<ObserveResult>(engine, 'observe', 'durable');
    expect(obs.value.map((o) => o.fromMaster)).to.deep.equal([true, false]);
    for (const o of obs.value) expect(o.cas).to.equal(r.cas);
    await run(engine, 'endure', 'durable', { persistTo: 1, replicateTo: 1, cas: r.cas });
    const err = await fails(run(engine, 'upsert', 'durable', { value: 2, replicateTo: 2 }));
    expect(err.message).to.match(/more copies than the bucket has/);
  });

  it('keeps serving every key through a failover and a rebalance', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `f${i}`);
    for (const k of keys) await run(engine, 'upsert', k, { value: k });
    const revBefore = engine.topology!.rev;
    cluster.failover(1);
    for (const k of keys) expect((await run<ValueResult>(engine, 'get', k)).value).to.equal(k);
    for (const k of keys) await run(engine, 'upsert', k, { value: `${k}!` });
    expect(engine.topology!.rev).to.be.greaterThan(revBefore);
    cluster.rebalance();
    for (const k of keys) expect((await run<ValueResult>(engine, 'get', k)).value).to.equal(`${k}!`);
  });
});
