// The official Couchbase Node.js SDK 4.7's non-KV surface against the embedded cluster (2 nodes,
// query and views on both), the way the SDK's own test suite drives it: cluster.query and its
// options and meta, the query index managers, the view index manager and view queries,
// diagnostics, ping and waitUntilReady.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

const AUTH = { username: 'Administrator', password: 'password' };
const DOCS = 9;

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('server interop: the official SDK query, index, view and diagnostics surface', function () {
  this.timeout(30_000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let bucket: couchbase.Bucket;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, users: [AUTH] });
    sdk = await couchbase.connect(server.connectionString, { ...AUTH, timeouts: { kvTimeout: 5000, connectTimeout: 10000, queryTimeout: 10000 } });
    bucket = sdk.bucket('default');
    coll = bucket.defaultCollection();
    for (let i = 0; i < DOCS; i++) await coll.upsert(`svc::${i}`, { testUid: 'svc', name: `n${i % 3}`, x: i });
    await sdk.query('CREATE PRIMARY INDEX svc_all ON default');
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  describe('cluster.query', () => {
    it('runs prepared statements (adhoc: false) through enhanced prepared statements, again from the cache', async () => {
      const terse = await fetch(`http://127.0.0.1:${server.nodes[0].ports.mgmt}/pools/default/b/default`, { headers: { authorization: `Basic ${Buffer.from('Administrator:password').toString('base64')}` } });
      const caps = ((await terse.json()) as { clusterCapabilities: Record<string, string[]> }).clusterCapabilities;
      expect(caps.n1ql).to.include('enhancedPreparedStatements');
      for (let round = 0; round < 3; round++) {
        const r = await sdk.query('SELECT RAW x FROM default WHERE testUid = $1 ORDER BY x', { adhoc: false, parameters: ['svc'] });
        expect(r.rows).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      }
      const named = await sdk.query('SELECT RAW x FROM default WHERE testUid = $t AND x < $n ORDER BY x', { adhoc: false, parameters: { t: 'svc', n: 2 } });
      expect(named.rows).to.deep.equal([0, 1]);
    });

    it('profile timings returns the profile object in the meta with the plan as executionTimings; phases without it', async () => {
      const timings = await sdk.query("SELECT name FROM default WHERE testUid = 'svc' ORDER BY name", { profile: couchbase.QueryProfileMode.Timings, metrics: true });
      expect(timings.rows).to.have.length(DOCS);
      const p = timings.meta.profile as Record<string, unknown>;
      expect(p).to.be.an('object');
      expect(p.phaseTimes).to.include.keys('authorize', 'parse', 'plan', 'run');
      expect(p.phaseOperators).to.include({ fetch: 1, primaryScan: 1 });
      expect(p.phaseCounts).to.include({ fetch: DOCS });
      const exec = p.executionTimings as Record<string, unknown>;
      expect(exec['#operator']).to.equal('Sequence');
      expect(JSON.stringify(exec)).to.include(`"#itemsOut":${DOCS}`);
      const phases = await sdk.query('SELECT 1 AS one', { profile: couchbase.QueryProfileMode.Phases });
      expect(phases.meta.profile).to.be.an('object').with.property('phaseTimes');
      expect(phases.meta.profile).to.not.have.property('executionTimings');
      expect((await sdk.query('SELECT 1 AS one')).meta.profile).to.equal(undefined);
    });

    it('answers the options the SDK test suite sends, with requestId, clientContextId, status, signature and metrics', async () => {
      const r = await sdk.query("SELECT * FROM default WHERE testUid = 'svc'", {
        adhoc: true,
        clientContextId: 'hello-world',
        maxParallelism: 10,
        pipelineBatch: 10,
        pipelineCap: 10,
        scanCap: 10,
        readOnly: true,
        metrics: true,
        flexIndex: true,
        scanConsistency: couchbase.QueryScanConsistency.RequestPlus,
      });
      expect(r.rows).to.have.length(DOCS);
      expect(r.meta.requestId).to.be.a('string');
      expect(r.meta.clientContextId).to.equal('hello-world');
      expect(r.meta.status).to.equal(couchbase.QueryStatus.Success);
      expect(r.meta.signature).to.be.an('object');
      expect(r.meta.metrics?.resultCount).to.equal(DOCS);
    });

    it('positional (with a hole), named and consistentWith parameters; scope.query with its query context', async () => {
      expect((await sdk.query('SELECT * FROM default WHERE testUid = $2', { parameters: [undefined, 'svc'] })).rows).to.have.length(DOCS);
      expect((await sdk.query('SELECT * FROM default WHERE testUid = $tuid', { parameters: { tuid: 'svc', filterMe: undefined } })).rows).to.have.length(DOCS);
      const m = await coll.upsert('svc::cw', { testUid: 'cw' });
      const cw = await sdk.query("SELECT RAW META().id FROM default WHERE testUid = 'cw'", { consistentWith: new couchbase.MutationState(m.token!) });
      expect(cw.rows).to.deep.equal(['svc::cw']);
      await coll.remove('svc::cw');
      expect((await bucket.scope('_default').query("SELECT * FROM _default WHERE testUid = 'svc'")).rows).to.have.length(DOCS);
    });

    it('errors map to the SDK classes a 7.6 server gives: parsing, missing keyspace, read-only write', async () => {
      expect(await failure(sdk.query('SELEC 1'))).to.be.instanceOf(couchbase.ParsingFailureError);
      const firstCode = (e: unknown): number => JSON.parse(((e as couchbase.CouchbaseError).context as couchbase.QueryErrorContext).http_response_body).errors[0].code;
      expect(firstCode(await failure(sdk.query('SELECT * FROM nobucket')))).to.equal(12003);
      const ro = await failure(sdk.query("INSERT INTO default (KEY, VALUE) VALUES ('ro', {})", { readOnly: true }));
      expect(ro).to.be.instanceOf(couchbase.InternalServerFailureError);
      expect(firstCode(ro)).to.equal(1000);
    });

    it('streams rows and the meta through the event emitter', async () => {
      const out = await new Promise<{ rows: number; meta: boolean }>((resolve, reject) => {
        let rows = 0;
        let meta = false;
        sdk
          .query('SELECT RAW i FROM ARRAY_RANGE(0, 2000) AS i')
          .on('row', () => rows++)
          .on('meta', () => (meta = true))
          .on('end', () => resolve({ rows, meta }))
          .on('error', reject);
      });
      expect(out).to.deep.equal({ rows: 2000, meta: true });
    });
  });

  describe('query index managers', () => {
    it('create, duplicate, watch, getAll, build deferred and drop through cluster.queryIndexes()', async () => {
      const qi = sdk.queryIndexes();
      await qi.createPrimaryIndex('default', { name: 'svc_p' });
      expect(await failure(qi.createPrimaryIndex('default', { name: 'svc_p' }))).to.be.instanceOf(couchbase.IndexExistsError);
      await qi.createPrimaryIndex('default', { name: 'svc_p', ignoreIfExists: true });
      await qi.createIndex('default', 'svc_s', ['name'], { numReplicas: 1 });
      expect(await failure(qi.createIndex('default', 'svc_s', ['name']))).to.be.instanceOf(couchbase.IndexExistsError);
      await qi.watchIndexes('default', ['svc_p', 'svc_s'], 2000);
      expect(await failure(qi.watchIndexes('default', ['invalid-index'], 500))).to.be.instanceOf(couchbase.IndexNotFoundError);
      await qi.createIndex('default', 'svc_d', ['x'], { deferred: true });
      const all = await qi.getAllIndexes('default');
      const byName = new Map(all.map((i) => [i.name, i]));
      expect(byName.get('svc_p')).to.include({ isPrimary: true, type: 'gsi', state: 'online', bucketName: 'default' });
      expect(byName.get('svc_s')?.indexKey).to.deep.equal(['`name`']);
      expect(byName.get('svc_d')?.state).to.equal('deferred');
      await qi.buildDeferredIndexes('default');
      await qi.watchIndexes('default', ['svc_d'], 6000);
      for (const name of ['svc_s', 'svc_d']) await qi.dropIndex('default', name);
      expect(await failure(qi.dropIndex('default', 'svc_s'))).to.be.instanceOf(couchbase.IndexNotFoundError);
      await qi.dropIndex('default', 'svc_s', { ignoreIfNotExists: true });
      await qi.dropPrimaryIndex('default', { name: 'svc_p' });
      expect(await failure(qi.dropPrimaryIndex('default', { name: 'svc_p' }))).to.be.instanceOf(couchbase.IndexNotFoundError);
    });

    it('collection.queryIndexes() on the default collection', async () => {
      const cqi = coll.queryIndexes();
      await cqi.createPrimaryIndex();
      await cqi.createIndex('svc_c', ['name']);
      expect(await failure(cqi.createIndex('svc_c', ['name']))).to.be.instanceOf(couchbase.IndexExistsError);
      expect((await cqi.getAllIndexes()).map((i) => i.name)).to.include.members(['#primary', 'svc_c']);
      await cqi.watchIndexes(['svc_c'], 2000, { watchPrimary: true });
      await cqi.dropIndex('svc_c');
      expect(await failure(cqi.dropIndex('svc_c'))).to.be.instanceOf(couchbase.IndexNotFoundError);
      await cqi.dropPrimaryIndex();
      expect(await failure(cqi.dropPrimaryIndex())).to.be.instanceOf(couchbase.IndexNotFoundError);
    });
  });

  describe('views', () => {
    const map = 'function (doc, meta) { if (doc.testUid === "svc") emit(doc.name, doc.x); }';

    it('the view index manager: upsert, get, getAll, publish, drop, and DesignDocumentNotFoundError', async () => {
      const vi = bucket.viewIndexes();
      const dev = couchbase.DesignDocumentNamespace.Development;
      const prod = couchbase.DesignDocumentNamespace.Production;
      await vi.upsertDesignDocument(new couchbase.DesignDocument({ name: 'svc', views: { simple: new couchbase.DesignDocumentView({ map, reduce: '_count' }) } }), dev);
      const got = await vi.getDesignDocument('svc', dev);
      expect([got.name, got.namespace, Object.keys(got.views), got.views.simple.map, got.views.simple.reduce]).to.deep.equal(['svc', dev, ['simple'], map, '_count']);
      await vi.publishDesignDocument('svc');
      expect(await failure(vi.publishDesignDocument('missing-index-name'))).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
      expect((await vi.getDesignDocument('svc', prod)).namespace).to.equal(prod);
      expect((await vi.getAllDesignDocuments(prod)).map((d) => d.name)).to.deep.equal(['svc']);
      await vi.dropDesignDocument('svc', dev);
      expect(await failure(vi.getDesignDocument('svc', dev))).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
      expect(await failure(vi.dropDesignDocument('missing-index-name', dev))).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
    });

    it('bucket.viewQuery with its options, and DesignDocumentNotFoundError for a missing view or design document', async () => {
      const q = (opts: couchbase.ViewQueryOptions) => bucket.viewQuery('svc', 'simple', { scanConsistency: couchbase.ViewScanConsistency.RequestPlus, ...opts });
      const all = await q({ reduce: false });
      expect(all.rows).to.have.length(DOCS);
      expect(all.meta.totalRows).to.equal(DOCS);
      expect(all.rows.every((r) => r.id !== undefined && r.key !== undefined && r.value !== undefined)).to.equal(true);
      expect((await q({})).rows.map((r) => r.value)).to.deep.equal([DOCS]);
      expect((await q({ group: true })).rows.map((r) => [r.key, r.value])).to.deep.equal([['n0', 3], ['n1', 3], ['n2', 3]]);
      expect((await q({ reduce: false, key: 'n1' })).rows.map((r) => r.id)).to.deep.equal(['svc::1', 'svc::4', 'svc::7']);
      expect((await q({ reduce: false, keys: ['n2', 'n0'] })).rows).to.have.length(6);
      expect((await q({ reduce: false, range: { start: 'n1', end: 'n2', inclusiveEnd: false } })).rows).to.have.length(3);
      expect((await q({ reduce: false, key: 'n0', idRange: { start: 'svc::3', end: 'svc::6' } })).rows.map((r) => r.id)).to.deep.equal(['svc::3', 'svc::6']);
      expect((await q({ reduce: false, order: couchbase.ViewOrdering.Descending, limit: 2, skip: 1 })).rows.map((r) => r.id)).to.deep.equal(['svc::5', 'svc::2']);
      expect((await q({ reduce: false, fullSet: true, onError: couchbase.ViewErrorMode.Stop, limit: 1 })).rows).to.have.length(1);
      // couchbase-cxx-client maps every 404 of a view query to design_document_not_found, so a
      // missing view in a present design document is DesignDocumentNotFoundError against 7.6 too.
      const noView = await failure(bucket.viewQuery('svc', 'no_exist_view'));
      expect(noView).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
      expect(JSON.parse(((noView as couchbase.CouchbaseError).context as couchbase.ViewErrorContext).http_response_body)).to.deep.equal({ error: 'not_found', reason: 'missing_named_view' });
      expect(await failure(bucket.viewQuery('nodd', 'simple'))).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
    });
  });

  describe('diagnostics', () => {
    it('diagnostics, ping of every service the cluster runs, and waitUntilReady', async () => {
      const d = await sdk.diagnostics();
      expect([typeof d.id, d.version, typeof d.sdk]).to.deep.equal(['string', 2, 'string']);
      const ping = await sdk.ping({ serviceTypes: [couchbase.ServiceType.KeyValue, couchbase.ServiceType.Query, couchbase.ServiceType.Views, couchbase.ServiceType.Management] });
      const services = ping.services as Record<string, Array<{ state: unknown }>>;
      for (const svc of ['kv', 'query', 'views', 'mgmt']) {
        expect(services[svc]?.length, svc).to.be.at.least(2);
        expect(services[svc].every((e) => e.state === couchbase.PingState.Ok), svc).to.equal(true);
      }
      expect((await bucket.ping({ serviceTypes: [couchbase.ServiceType.KeyValue] })).version).to.equal(2);
      await sdk.waitUntilReady(1500);
      await sdk.waitUntilReady(1500, { desiredState: couchbase.ClusterState.Online });
      await bucket.waitUntilReady(1500, { serviceTypes: [couchbase.ServiceType.KeyValue] });
    });
  });
});
