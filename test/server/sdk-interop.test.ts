// The official Couchbase Node.js SDK (couchbase 4.x, couchbase-cxx-client inside) against the
// embedded cluster: 3 nodes, 1 replica, SCRAM-SHA512 auth, collections, mutation tokens.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

describe('server interop with the official Couchbase Node.js SDK', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({
      nodes: 3,
      replicas: 1,
      users: [{ username: 'app', password: 'app-password' }],
      queryService: null,
      viewsService: null,
    });
    sdk = await couchbase.connect(server.connectionString, {
      username: 'app',
      password: 'app-password',
      timeouts: { kvTimeout: 5000, connectTimeout: 10000 },
    });
    coll = sdk.bucket('default').defaultCollection();
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('connects with a connection string of three IP:port pairs', () => {
    expect(server.connectionString.split(',')).to.have.length(3);
  });

  it('upsert then get returns the JSON content and the same CAS', async () => {
    const up = await coll.upsert('user::1', { name: 'Ada', langs: ['en'] });
    const got = await coll.get('user::1');
    expect(got.content).to.deep.equal({ name: 'Ada', langs: ['en'] });
    expect(got.cas.toString()).to.equal(up.cas.toString());
    expect(up.token).to.not.equal(undefined);
    expect(server.bucket('default').get('user::1')!.flags).to.equal(0x02000000);
  });

  it('insert of an existing document fails with DocumentExistsError', async () => {
    await coll.upsert('dup', { a: 1 });
    let err: unknown;
    try {
      await coll.insert('dup', { a: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.DocumentExistsError);
    expect((await coll.get('dup')).content).to.deep.equal({ a: 1 });
  });

  it('replace with a stale CAS fails with CasMismatchError and changes nothing', async () => {
    const first = await coll.upsert('casdoc', { v: 1 });
    await coll.replace('casdoc', { v: 2 }, { cas: first.cas });
    let err: unknown;
    try {
      await coll.replace('casdoc', { v: 3 }, { cas: first.cas });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.CasMismatchError);
    expect((await coll.get('casdoc')).content).to.deep.equal({ v: 2 });
  });

  it('getAndLock makes writes fail until unlock with the lock CAS', async () => {
    await coll.upsert('locked', { v: 1 });
    const locked = await coll.getAndLock('locked', 10);
    let err: unknown;
    try {
      await coll.upsert('locked', { v: 2 }, { timeout: 300 });
    } catch (e) {
      err = e;
    }
    // The SDK retries LOCKED until its timeout, as against a real server.
    expect(err).to.be.instanceOf(couchbase.TimeoutError);
    expect((await coll.get('locked')).content).to.deep.equal({ v: 1 });
    await coll.unlock('locked', locked.cas);
    let notLocked: unknown;
    try {
      await coll.unlock('locked', locked.cas);
    } catch (e) {
      notLocked = e;
    }
    expect(notLocked).to.be.instanceOf(couchbase.DocumentNotLockedError);
    await coll.upsert('locked', { v: 3 });
    expect((await coll.get('locked')).content).to.deep.equal({ v: 3 });
  });

  it('touch and getAndTouch set the expiry that get withExpiry reports', async () => {
    await coll.upsert('ttl', { v: 1 });
    await coll.touch('ttl', 1000);
    const withExpiry = await coll.get('ttl', { withExpiry: true });
    expect(withExpiry.expiryTime).to.be.a('number');
    expect(Math.abs(withExpiry.expiryTime! - (Date.now() / 1000 + 1000))).to.be.lessThan(5);
    const gat = await coll.getAndTouch('ttl', 2000);
    expect(gat.content).to.deep.equal({ v: 1 });
    const stored = server.bucket('default').get('ttl')!;
    expect(Math.abs(stored.expiry - (Date.now() / 1000 + 2000))).to.be.lessThan(5);
  });

  it('remove deletes; get then fails with DocumentNotFoundError and exists is false', async () => {
    await coll.upsert('gone', { v: 1 });
    expect((await coll.exists('gone')).exists).to.equal(true);
    await coll.remove('gone');
    let err: unknown;
    try {
      await coll.get('gone');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.DocumentNotFoundError);
    expect((await coll.exists('gone')).exists).to.equal(false);
    expect((await coll.exists('never-was')).exists).to.equal(false);
  });

  it('binary increment / decrement / append / prepend', async () => {
    const bin = coll.binary();
    expect((await bin.increment('counter', 1, { initial: 10 })).value).to.equal(10);
    expect((await bin.increment('counter', 5)).value).to.equal(15);
    expect((await bin.decrement('counter', 20)).value).to.equal(0);
    await coll.upsert('text', 'middle', { transcoder: new couchbase.RawStringTranscoder() });
    await bin.append('text', '-end');
    await bin.prepend('text', 'start-');
    const got = await coll.get('text', { transcoder: new couchbase.RawStringTranscoder() });
    expect(got.content).to.equal('start-middle-end');
  });

  it('getAnyReplica reads the document from a replica', async () => {
    await coll.upsert('replicated', { r: true });
    const res = await coll.getAnyReplica('replicated');
    expect(res.content).to.deep.equal({ r: true });
    const all = await coll.getAllReplicas('replicated');
    expect(all.length).to.equal(2);
    expect(all.some((r) => r.isReplica)).to.equal(true);
  });

  it('lookupIn and mutateIn work on paths', async () => {
    await coll.upsert('sub', { a: { b: 1 }, list: [] });
    await coll.mutateIn('sub', [couchbase.MutateInSpec.upsert('a.c', 2), couchbase.MutateInSpec.arrayAppend('list', 'x'), couchbase.MutateInSpec.increment('a.b', 4)]);
    const res = await coll.lookupIn('sub', [couchbase.LookupInSpec.get('a'), couchbase.LookupInSpec.exists('nope'), couchbase.LookupInSpec.count('list')]);
    expect(res.content[0].value).to.deep.equal({ b: 5, c: 2 });
    expect(res.content[1].value).to.equal(false);
    expect(res.content[2].value).to.equal(1);
  });

  it('bucket and collection managers read the management REST API', async () => {
    const buckets = await sdk.buckets().getAllBuckets();
    expect(buckets.map((b) => [b.name, b.numReplicas])).to.deep.equal([['default', 1]]);
    const scopes = await sdk.bucket('default').collections().getAllScopes();
    // As a 7.6 server lists them to an administrator: the `_system` scope is there too.
    expect(scopes.map((s) => [s.name, s.collections.map((c) => c.name)])).to.deep.equal([
      ['_default', ['_default']],
      ['_system', ['_query', '_mobile']],
    ]);
  });

  it('ping reaches every node over KV', async () => {
    const report = await sdk.bucket('default').ping({ serviceTypes: [couchbase.ServiceType.KeyValue] });
    const kv = (report.services as Record<string, Array<{ state: unknown }>>).kv;
    expect(kv).to.have.length(3);
    expect(kv.every((e) => e.state === couchbase.PingState.Ok)).to.equal(true);
  });

  it('keeps working after a failover and a rebalance', async () => {
    for (let i = 0; i < 20; i++) await coll.upsert(`fo-${i}`, { i });
    server.failover(2);
    for (let i = 0; i < 20; i++) expect((await coll.get(`fo-${i}`)).content).to.deep.equal({ i });
    server.addBack(2);
    server.rebalance();
    for (let i = 0; i < 20; i++) await coll.upsert(`fo-${i}`, { i, again: true });
    expect((await coll.get('fo-7')).content).to.deep.equal({ i: 7, again: true });
  });
});

describe('server interop with the official SDK: scopes and collections', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, {
      username: 'Administrator',
      password: 'password',
      timeouts: { kvTimeout: 3000, connectTimeout: 10000, queryTimeout: 10000 },
    });
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('CollectionManager creates, lists and drops scopes and collections', async () => {
    const mgr = sdk.bucket('default').collections();
    await mgr.createScope('inventory');
    await mgr.createCollection('airline', 'inventory', { maxExpiry: 3600 });
    await mgr.createCollection('hotel', 'inventory');
    let err: unknown = await mgr.createScope('inventory').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.ScopeExistsError);
    err = await mgr.createCollection('airline', 'inventory').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.CollectionExistsError);
    err = await mgr.createCollection('x', 'nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.ScopeNotFoundError);
    const scope = (await mgr.getAllScopes()).find((s) => s.name === 'inventory')!;
    expect(scope.collections.map((c) => [c.name, c.maxExpiry])).to.deep.equal([
      ['hotel', 0],
      ['airline', 3600],
    ]);
    await mgr.updateCollection('hotel', 'inventory', { maxExpiry: 60 });
    expect(server.bucket('default').manifest.collection('inventory', 'hotel')!.maxTTL).to.equal(60);
    await mgr.dropCollection('hotel', 'inventory');
    err = await mgr.dropCollection('hotel', 'inventory').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.CollectionNotFoundError);
  });

  it('KV on a named collection: its own documents, its maxTTL, CollectionNotFoundError once dropped', async () => {
    const bucket = sdk.bucket('default');
    const airline = bucket.scope('inventory').collection('airline');
    await airline.upsert('a1', { name: 'Air One' });
    await bucket.defaultCollection().upsert('a1', { name: 'not an airline' });
    expect((await airline.get('a1')).content).to.deep.equal({ name: 'Air One' });
    expect((await bucket.defaultCollection().get('a1')).content).to.deep.equal({ name: 'not an airline' });
    expect(server.bucket('default').collectionNamed('inventory', 'airline')!.get('a1')!.expiry).to.be.greaterThan(0);
    const looked = await airline.lookupIn('a1', [couchbase.LookupInSpec.get('name')]);
    expect(looked.content[0].value).to.equal('Air One');
    await sdk.bucket('default').collections().createCollection('temp', 'inventory');
    const temp = bucket.scope('inventory').collection('temp');
    // The SDK has the collection's id cached now: after the drop the server says UNKNOWN_COLLECTION.
    await temp.upsert('t', { v: 1 });
    await sdk.bucket('default').collections().dropCollection('temp', 'inventory');
    const err = await temp.get('t', { timeout: 1000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.CollectionNotFoundError);
  });

  it('scope.query runs in the scope (query_context), and N1QL sees what KV wrote', async () => {
    const scope = sdk.bucket('default').scope('inventory');
    await scope.collection('airline').upsert('a2', { name: 'Air Two' });
    const res = await scope.query('SELECT name FROM airline USE KEYS ["a1", "a2"] ORDER BY name');
    expect(res.rows).to.deep.equal([{ name: 'Air One' }, { name: 'Air Two' }]);
    await scope.query('CREATE PRIMARY INDEX ON airline');
    const all = await sdk.query('SELECT RAW META().id FROM default.inventory.airline ORDER BY META().id');
    expect(all.rows).to.deep.equal(['a1', 'a2']);
    const indexes = await sdk.queryIndexes().getAllIndexes('default', { scopeName: 'inventory', collectionName: 'airline' });
    expect(indexes.map((i) => i.name)).to.deep.equal(['#primary']);
  });
});
