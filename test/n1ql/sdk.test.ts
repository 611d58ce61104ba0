// The official Couchbase Node.js SDK's cluster.query() against the embedded cluster running
// this query service: parameterised queries, metadata, DML and error classes.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { createQueryService } from '../../lib/server/n1ql';
import { DOCS } from './fixture';

describe('n1ql with the official couchbase SDK', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;

  before(async () => {
    server = await Cluster.start({
      nodes: 2,
      buckets: [{ name: 'travel' }],
      users: [{ username: 'app', password: 'app-password' }],
      queryService: createQueryService,
      viewsService: null,
    });
    const store = server.bucket('travel');
    for (const [id, v] of Object.entries(DOCS)) store.write(id, Buffer.from(JSON.stringify(v)), 'upsert');
    sdk = await couchbase.connect(server.connectionString, {
      username: 'app',
      password: 'app-password',
      timeouts: { kvTimeout: 5000, connectTimeout: 10000, queryTimeout: 10000 },
    });
    await sdk.query('CREATE PRIMARY INDEX ON `travel`');
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('runs a positional-parameter query and returns rows and meta', async () => {
    const res = await sdk.query('SELECT t.name, t.iata FROM `travel` t WHERE t.type = $1 AND t.country = $2 ORDER BY t.name', {
      parameters: ['airline', 'United States'],
      clientContextId: 'sdk-ctx',
      metrics: true,
    });
    expect(res.rows).to.deep.equal([{ iata: 'BJ', name: 'Beta Jet' }, { iata: null, name: 'Gamma' }]);
    expect(res.meta.status).to.equal('success');
    expect(res.meta.clientContextId).to.equal('sdk-ctx');
    expect(res.meta.requestId).to.match(/^[0-9a-f-]{36}$/);
    expect(res.meta.metrics?.resultCount).to.equal(2);
    expect(res.meta.signature).to.deep.equal({ iata: 'json', name: 'json' });
  });

  it('returns the profile the SDK asks for (QueryProfile.Phases / Timings)', async () => {
    const phases = await sdk.query('SELECT RAW faa FROM `travel` WHERE type = "airport"', { profile: couchbase.QueryProfileMode.Phases });
    expect(phases.rows).to.have.length(3);
    expect(phases.meta.profile.phaseCounts).to.deep.equal({ fetch: 9, filter: 3, primaryScan: 9, 'primaryScan.GSI': 9 });
    const timings = await sdk.query('SELECT RAW faa FROM `travel` WHERE type = "airport"', { profile: couchbase.QueryProfileMode.Timings });
    expect(timings.meta.profile.executionTimings['#operator']).to.be.a('string');
  });

  it('runs a named-parameter query', async () => {
    const res = await sdk.query('SELECT RAW faa FROM `travel` WHERE type = $type ORDER BY faa', { parameters: { type: 'airport' } });
    expect(res.rows).to.deep.equal(['CDG', 'NCE', 'SFO']);
  });

  it('SELECT * ... LIMIT 10 returns whole documents under the bucket name', async () => {
    const res = await sdk.query('SELECT * FROM `travel` LIMIT 10');
    expect(res.rows).to.have.length(9);
    expect(res.rows[0]).to.deep.equal({ travel: DOCS.airline_1 });
  });

  it('is served by every node, which share the same indexes', async () => {
    await sdk.query('CREATE INDEX ix_faa ON `travel`(faa)');
    for (let i = 0; i < 4; i++) {
      const res = await sdk.query('SELECT RAW META().id FROM `travel` WHERE faa = "NCE"');
      expect(res.rows).to.deep.equal(['airport_3']);
    }
  });

  it('sees KV writes at once with request_plus, and DML writes through KV', async () => {
    const coll = sdk.bucket('travel').defaultCollection();
    await coll.upsert('sdk_doc', { type: 'sdk', n: 1 });
    const res = await sdk.query('SELECT RAW n FROM `travel` WHERE type = "sdk"', { scanConsistency: couchbase.QueryScanConsistency.RequestPlus });
    expect(res.rows).to.deep.equal([1]);
    const upd = await sdk.query('UPDATE `travel` SET n = n + 1 WHERE type = "sdk" RETURNING RAW n', { metrics: true });
    expect(upd.rows).to.deep.equal([2]);
    expect(upd.meta.metrics?.mutationCount).to.equal(1);
    expect((await coll.get('sdk_doc')).content).to.deep.equal({ type: 'sdk', n: 2 });
  });

  it('maps a syntax error to ParsingFailureError and a duplicate INSERT to a DML error', async () => {
    let err: unknown;
    try {
      await sdk.query('SELECT * FRM `travel`');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.ParsingFailureError);
    err = undefined;
    try {
      await sdk.query('INSERT INTO `travel` (KEY, VALUE) VALUES ("airline_1", {})');
    } catch (e) {
      err = e;
    }
    // This SDK build classifies 12009 by reason code 17012 as DocumentExists in its C++ source,
    // but the shipped binary reports DmlFailure; accept either, and check what the server said.
    expect(err instanceof couchbase.DocumentExistsError || err instanceof couchbase.DmlFailureError).to.equal(true);
    const body = JSON.parse((err as any).context.http_response_body);
    expect(body.errors[0].code).to.equal(12009);
    expect(body.errors[0].reason.code).to.equal(17012);
  });

  it('runs scope-level queries (query_context) against the default collection', async () => {
    const res = await sdk.bucket('travel').scope('_default').query('SELECT RAW faa FROM _default WHERE type = $1 ORDER BY faa', { parameters: ['airport'] });
    expect(res.rows).to.deep.equal(['CDG', 'NCE', 'SFO']);
    const full = await sdk.query('SELECT RAW c.faa FROM `travel`._default._default c WHERE c.type = "airport" AND c.city = "Nice"');
    expect(full.rows).to.deep.equal(['NCE']);
  });

  it('creates, builds and drops deferred indexes through the SDK query index manager', async () => {
    const mgr = sdk.queryIndexes();
    await mgr.createIndex('travel', 'ix_city', ['city'], { deferred: true });
    let all = await mgr.getAllIndexes('travel');
    expect(all.find((i) => i.name === 'ix_city')?.state).to.equal('deferred');
    await mgr.buildDeferredIndexes('travel');
    await mgr.watchIndexes('travel', ['ix_city'], 5000);
    all = await mgr.getAllIndexes('travel');
    expect(all.find((i) => i.name === 'ix_city')?.state).to.equal('online');
    let err: unknown;
    try {
      await mgr.createIndex('travel', 'ix_city', ['city']);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.IndexExistsError);
    await mgr.dropIndex('travel', 'ix_city');
    err = undefined;
    try {
      await mgr.dropIndex('travel', 'ix_city');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.IndexNotFoundError);
  });

  it('lists indexes through the SDK query index manager', async () => {
    const indexes = await sdk.queryIndexes().getAllIndexes('travel');
    expect(indexes.map((i) => [i.name, i.isPrimary, i.state]).sort()).to.deep.equal([
      ['#primary', true, 'online'],
      ['ix_faa', false, 'online'],
    ]);
  });
});
