// Bucket management as Couchbase Server 7.6 does it: the official SDK's BucketManager end to end
// (couchbase, ephemeral and memcached buckets with their settings), ns_server's validation of
// every setting with its error JSON, max TTL enforced on writes, ephemeral buckets that keep
// nothing on disk, and /pools/nodes.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as couchbase from 'couchbase';
import { Cluster, ManualClock } from '../../lib/server';
import { HelloFeature, Opcode, Status } from '../../lib/protocol';
import { RawClient } from './raw-client';
import { ADMIN_AUTH, caught, rest } from './http-helpers';

const restForm = (port: number, method: string, p: string, form?: Record<string, string>) => rest(port, method, p, { form });

describe('bucket management through the official SDK BucketManager (2 nodes, 1 replica)', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password' });
  });
  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('creates a Couchbase bucket with every setting, and getBucket reports them back', async () => {
    await sdk.buckets().createBucket({
      name: 'orders',
      ramQuotaMB: 128,
      numReplicas: 1,
      flushEnabled: true,
      maxExpiry: 3600,
      evictionPolicy: couchbase.EvictionPolicy.FullEviction,
      minimumDurabilityLevel: couchbase.DurabilityLevel.Majority,
      compressionMode: couchbase.CompressionMode.Active,
      storageBackend: couchbase.StorageBackend.Couchstore,
      conflictResolutionType: couchbase.ConflictResolutionType.SequenceNumber,
    } as couchbase.ICreateBucketSettings);
    const b = await sdk.buckets().getBucket('orders');
    expect(b).to.include({ name: 'orders', ramQuotaMB: 128, numReplicas: 1, flushEnabled: true, maxExpiry: 3600, bucketType: 'membase', evictionPolicy: 'fullEviction', compressionMode: 'active', storageBackend: 'couchstore' });
    expect(b.minimumDurabilityLevel).to.equal(couchbase.DurabilityLevel.Majority);
    expect(server.bucket('orders').maxTtl).to.equal(3600);
  });

  it('creates an ephemeral bucket (noEviction unless told otherwise) and a memcached bucket', async () => {
    await sdk.buckets().createBucket({ name: 'sessions', ramQuotaMB: 100, bucketType: couchbase.BucketType.Ephemeral, evictionPolicy: couchbase.EvictionPolicy.NotRecentlyUsed } as couchbase.ICreateBucketSettings);
    await sdk.buckets().createBucket({ name: 'eph2', ramQuotaMB: 100, bucketType: couchbase.BucketType.Ephemeral } as couchbase.ICreateBucketSettings);
    await sdk.buckets().createBucket({ name: 'cache', ramQuotaMB: 100, bucketType: couchbase.BucketType.Memcached } as couchbase.ICreateBucketSettings);
    expect(await sdk.buckets().getBucket('sessions')).to.include({ bucketType: 'ephemeral', evictionPolicy: 'nruEviction', numReplicas: 1 });
    expect(await sdk.buckets().getBucket('eph2')).to.include({ bucketType: 'ephemeral', evictionPolicy: 'noEviction' });
    expect(await sdk.buckets().getBucket('cache')).to.include({ bucketType: 'memcached', numReplicas: 0 });
    const names = (await sdk.buckets().getAllBuckets()).map((b) => b.name);
    expect(names).to.include.members(['default', 'orders', 'sessions', 'eph2', 'cache']);
  });

  it('a duplicate is BucketExistsError; bad settings are InvalidArgumentError', async () => {
    expect(await caught(sdk.buckets().createBucket({ name: 'orders', ramQuotaMB: 100 } as couchbase.ICreateBucketSettings))).to.be.instanceOf(couchbase.BucketExistsError);
    const bad = await caught(sdk.buckets().createBucket({ name: 'e3', ramQuotaMB: 100, bucketType: couchbase.BucketType.Ephemeral, evictionPolicy: couchbase.EvictionPolicy.FullEviction } as couchbase.ICreateBucketSettings));
    expect(bad).to.be.instanceOf(couchbase.InvalidArgumentError);
    expect(server.store('e3')).to.equal(undefined);
  });

  it('updates settings (POST to the bucket); a bucket without flush then refuses flushBucket', async () => {
    server.bucket('orders').write('k', Buffer.from('1'), 'upsert');
    await sdk.buckets().flushBucket('orders');
    expect(server.bucket('orders').size).to.equal(0);
    await sdk.buckets().updateBucket({ name: 'orders', flushEnabled: false, maxExpiry: 60, ramQuotaMB: 200 } as unknown as couchbase.BucketSettings);
    expect(await sdk.buckets().getBucket('orders')).to.include({ flushEnabled: false, maxExpiry: 60, ramQuotaMB: 200, evictionPolicy: 'fullEviction' });
    expect(server.bucket('orders').maxTtl).to.equal(60);
    expect(await caught(sdk.buckets().flushBucket('orders'))).to.be.instanceOf(couchbase.BucketNotFlushableError);
  });

  it('drops buckets; a missing one is BucketNotFoundError for get, update, flush and drop', async () => {
    await sdk.buckets().dropBucket('eph2');
    expect(server.store('eph2')).to.equal(undefined);
    for (const attempt of [
      sdk.buckets().getBucket('eph2'),
      sdk.buckets().dropBucket('eph2'),
      sdk.buckets().flushBucket('eph2'),
      sdk.buckets().updateBucket({ name: 'eph2', flushEnabled: true } as unknown as couchbase.BucketSettings),
    ]) {
      expect(await caught(attempt)).to.be.instanceOf(couchbase.BucketNotFoundError);
    }
  });

  it('/pools/nodes answers in the /pools/default shape, with each node’s configuredHostname, hostname, services, ports and status', async () => {
    const port = server.nodes[1].ports.mgmt;
    const nodes = (await restForm(port, 'GET', '/pools/nodes')).json();
    expect(nodes.nodes).to.have.length(2);
    for (const [i, n] of nodes.nodes.entries()) {
      expect(n).to.include({ configuredHostname: `127.0.0.1:${server.nodes[i].ports.mgmt}`, hostname: `127.0.0.1:${server.nodes[i].ports.mgmt}`, status: 'healthy' });
      expect(n.ports).to.deep.include({ direct: server.nodes[i].ports.kv });
      expect(n.services).to.include('kv');
    }
    expect(nodes.nodes[1].thisNode).to.equal(true);
    const pool = (await restForm(port, 'GET', '/pools/default')).json();
    expect(Object.keys(nodes).sort()).to.deep.equal(Object.keys(pool).sort());
  });
});

describe('bucket management: ns_server’s validation, field by field', function () {
  this.timeout(30000);
  let server: Cluster;
  let port: number;
  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, queryService: null, viewsService: null, buckets: [{ name: 'default' }, { name: 'mc', bucketType: 'memcached' }, { name: 'eph', bucketType: 'ephemeral' }] });
    port = server.nodes[0].ports.mgmt;
  });
  after(() => server?.stop());

  const base = { name: 'nb', ramQuota: '100', bucketType: 'couchbase' };
  const EPHEMERAL_EVICTION = "Eviction policy must be either 'noEviction' or 'nruEviction' for ephemeral buckets";
  const CREATE: ReadonlyArray<readonly [string, Record<string, string>, Record<string, string>]> = [
    ['no name', { ramQuota: '100' }, { name: 'Bucket name needs to be specified' }],
    ['a bad name', { ...base, name: 'a b' }, { name: 'Bucket name can only contain characters in range A-Z, a-z, 0-9 as well as underscore, period, dash & percent. Consult the documentation.' }],
    ['an existing name in another case', { ...base, name: 'DEFAULT' }, { name: 'Bucket with given name already exists' }],
    ['no quota', { name: 'nb' }, { ramQuota: 'The RAM Quota must be specified and must be a positive integer.' }],
    ['a negative quota', { ...base, ramQuota: '-5' }, { ramQuota: 'The RAM Quota cannot be negative.' }],
    ['a quota under 100 MiB', { ...base, ramQuotaMB: '99', ramQuota: '99' }, { ramQuota: 'RAM quota cannot be less than 100 MiB' }],
    ['a memcached quota under 64 MiB', { name: 'nb', bucketType: 'memcached', ramQuotaMB: '63' }, { ramQuota: 'RAM quota cannot be less than 64 MiB' }],
    ['replicas on a memcached bucket', { name: 'nb', bucketType: 'memcached', ramQuotaMB: '100', replicaNumber: '0' }, { replicaNumber: 'replicaNumber is not valid for memcached buckets' }],
    ['4 replicas', { ...base, replicaNumber: '4' }, { replicaNumber: 'Replica number larger than 3 is not supported.' }],
    ['-1 replicas', { ...base, replicaNumber: '-1' }, { replicaNumber: 'The replica number cannot be negative.' }],
    ['a word for replicas', { ...base, replicaNumber: 'two' }, { replicaNumber: 'The replica number must be specified and must be a non-negative integer.' }],
    ['flushEnabled=2', { ...base, flushEnabled: '2' }, { flushEnabled: 'flushEnabled can only be 1 or 0' }],
    ['replicaIndex=yes', { ...base, replicaIndex: 'yes' }, { replicaIndex: 'replicaIndex can only be 1 or 0' }],
    ['replicaIndex on an ephemeral bucket', { ...base, bucketType: 'ephemeral', replicaIndex: '1' }, { replicaIndex: 'replicaIndex not supported for ephemeral buckets' }],
    ['a couchbase eviction policy on an ephemeral bucket', { ...base, bucketType: 'ephemeral', evictionPolicy: 'fullEviction' }, { evictionPolicy: EPHEMERAL_EVICTION }],
    ['an ephemeral eviction policy on a couchbase bucket', { ...base, evictionPolicy: 'nruEviction' }, { evictionPolicy: "Eviction policy must be either 'valueOnly' or 'fullEviction' for couchbase buckets" }],
    ['an unknown durability level', { ...base, durabilityMinLevel: 'high' }, { durability_min_level: "Durability minimum level must be one of 'none', 'majority', 'majorityAndPersistActive', or 'persistToMajority'" }],
    ['a persisting durability level on an ephemeral bucket', { ...base, bucketType: 'ephemeral', durabilityMinLevel: 'persistToMajority' }, { durability_min_level: "Durability minimum level must be either 'none' or 'majority' for ephemeral buckets" }],
    ['a durability level with 3 replicas', { ...base, replicaNumber: '3', durabilityMinLevel: 'majority' }, { durability_min_level: 'Durability minimum level cannot be specified with 3 replicas' }],
    ['a negative max TTL', { ...base, maxTTL: '-1' }, { maxTTL: 'Max TTL must be an integer between 0 and 2147483647' }],
    ['a max TTL past 2^31-1', { ...base, maxTTL: '2147483648' }, { maxTTL: 'Max TTL must be an integer between 0 and 2147483647' }],
    ['an unknown conflict resolution', { ...base, conflictResolutionType: 'newest' }, { conflictResolutionType: "Conflict resolution type must be 'seqno' or 'lww' or 'custom'" }],
    ['custom conflict resolution', { ...base, conflictResolutionType: 'custom' }, { conflictResolutionType: "Conflict resolution type 'custom' is supported only with developer preview enabled" }],
    ['a drift threshold under 100 ms', { ...base, conflictResolutionType: 'lww', driftAheadThresholdMs: '50' }, { driftAheadThresholdMs: "The drift ahead threshold can't be less than 100ms" }],
    ['an unknown storage backend', { ...base, storageBackend: 'rocksdb' }, { storage_mode: 'storage backend must be couchstore or magma' }],
    ['magma under 256 MiB', { ...base, storageBackend: 'magma' }, { ramQuota: 'Ram quota for magma must be at least 256 MiB' }],
    ['a storage quota percentage without magma', { ...base, storageQuotaPercentage: '20' }, { storageQuotaPercentage: 'Storage Quota Percentage is only used with Magma' }],
    ['history retention without magma', { ...base, historyRetentionSeconds: '60' }, { historyRetentionSeconds: 'History Retention can only used with Magma' }],
    ['an unknown compression mode', { ...base, compressionMode: 'max' }, { compressionMode: "compressionMode can be set to 'off', 'passive' or 'active'" }],
    ['9 threads', { ...base, threadsNumber: '9' }, { threadsNumber: "The number of threads can't be greater than 8" }],
    ['a proxy port', { ...base, proxyPort: '11212' }, { proxyPort: 'Setting proxy port is not allowed on this version of the cluster' }],
    ['point in time recovery', { ...base, pitrEnabled: 'true' }, { pitrEnabled: 'Point in time recovery is only supported in developer preview mode' }],
    ['several problems at once', { name: '.x', ramQuota: '10', bucketType: 'ephemeral', evictionPolicy: 'valueOnly', maxTTL: 'soon' }, {
      name: 'Bucket name cannot start with dot.',
      ramQuota: 'RAM quota cannot be less than 100 MiB',
      evictionPolicy: EPHEMERAL_EVICTION,
      maxTTL: 'Max TTL must be an integer between 0 and 2147483647',
    }],
  ];
  for (const [what, form, errors] of CREATE) {
    it(`create with ${what}: 400 ${JSON.stringify(errors)}`, async () => {
      const r = await restForm(port, 'POST', '/pools/default/buckets', form);
      expect(r.status, r.text).to.equal(400);
      expect(r.json().errors).to.deep.equal(errors);
      expect(server.store('nb')).to.equal(undefined);
    });
  }

  const UPDATE: ReadonlyArray<readonly [string, string, Record<string, string>, Record<string, string>]> = [
    ['a conflict resolution type', 'default', { conflictResolutionType: 'lww' }, { conflictResolutionType: 'Conflict resolution type not allowed in update bucket' }],
    ['an ephemeral eviction policy change', 'eph', { evictionPolicy: 'nruEviction' }, { evictionPolicy: 'Eviction policy cannot be updated for ephemeral buckets' }],
    ['a memcached quota change', 'mc', { ramQuota: '200' }, { ramQuota: 'cannot change quota of memcached buckets' }],
    ['a bad max TTL', 'default', { maxTTL: 'x' }, { maxTTL: 'Max TTL must be an integer between 0 and 2147483647' }],
  ];
  for (const [what, bucket, form, errors] of UPDATE) {
    it(`update of ${bucket} with ${what}: 400 ${JSON.stringify(errors)}`, async () => {
      const r = await restForm(port, 'POST', `/pools/default/buckets/${bucket}`, form);
      expect(r.status, r.text).to.equal(400);
      expect(r.json().errors).to.deep.equal(errors);
    });
  }

  it('an update keeps what it does not name, and answers 404 for a missing bucket', async () => {
    expect((await restForm(port, 'POST', '/pools/default/buckets/default', { ramQuota: '300', durabilityMinLevel: 'majority' })).status).to.equal(200);
    expect(server.bucketAdmin.settingsOf('default')).to.include({ ramQuotaMB: 300, durabilityMinLevel: 'majority', flushEnabled: true, evictionPolicy: 'valueOnly' });
    expect((await restForm(port, 'POST', '/pools/default/buckets/nope', { ramQuota: '300' })).status).to.equal(404);
  });

  it('creates with ns_server’s defaults and answers 202 with the bucket’s location', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/pools/default/buckets`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=defaults&ramQuotaMB=100',
    });
    expect(r.status).to.equal(202);
    expect(r.headers.get('location')).to.equal('/pools/default/buckets/defaults');
    expect(server.bucketAdmin.settingsOf('defaults')).to.include({
      bucketType: 'membase',
      replicaNumber: 1,
      flushEnabled: false,
      maxTTL: 0,
      evictionPolicy: 'valueOnly',
      durabilityMinLevel: 'none',
      conflictResolutionType: 'seqno',
      compressionMode: 'passive',
      storageBackend: 'couchstore',
      replicaIndex: true,
      threadsNumber: 3,
    });
  });

  it('just_validate=1 checks without creating, and warns about replicas the cluster cannot place unless told to ignore warnings', async () => {
    const form = { name: 'v1', ramQuota: '100', bucketType: 'couchbase', replicaNumber: '2' };
    const warned = await restForm(port, 'POST', '/pools/default/buckets?just_validate=1', form);
    expect(warned.status).to.equal(400);
    expect(warned.json().errors).to.deep.equal({ replicaNumber: 'Warning: you do not have enough data servers or server groups to support this number of replicas.' });
    expect((await restForm(port, 'POST', '/pools/default/buckets?just_validate=1&ignore_warnings=1', form)).json()).to.deep.equal({ errors: {} });
    expect(server.store('v1')).to.equal(undefined);
  });

  it('a durability minimum on a single data node is refused', async () => {
    const one = await Cluster.start({ queryService: null, viewsService: null });
    try {
      const r = await restForm(one.nodes[0].ports.mgmt, 'POST', '/pools/default/buckets', { name: 'd', ramQuota: '100', replicaNumber: '1', durabilityMinLevel: 'majority' });
      expect(r.json().errors).to.deep.equal({ durability_min_level: 'You do not have enough data servers to support this durability level' });
    } finally {
      await one.stop();
    }
  });
});

describe('bucket settings in effect', function () {
  this.timeout(30000);

  it('max TTL caps every write’s expiry as kv_engine does: none becomes the max, a later one is cut to it, an earlier one stays', async () => {
    const clock = new ManualClock(Date.parse('2025-03-01T00:00:00Z'));
    const cluster = await Cluster.start({ clock, numVBuckets: 16, queryService: null, viewsService: null });
    try {
      const port = cluster.nodes[0].ports.mgmt;
      expect((await restForm(port, 'POST', '/pools/default/buckets', { name: 'ttl', ramQuota: '100', replicaNumber: '0', maxTTL: '100' })).status).to.equal(202);
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      c.numVBuckets = 16;
      await c.hello([HelloFeature.XERROR]);
      await c.login('Administrator', 'password', 'ttl');
      const now = Math.floor(clock.now() / 1000);
      expect((await c.set('none', 'v')).status).to.equal(Status.SUCCESS);
      expect((await c.set('later', 'v', { expiry: 1000 })).status).to.equal(Status.SUCCESS);
      expect((await c.set('earlier', 'v', { expiry: 10 })).status).to.equal(Status.SUCCESS);
      expect((await c.set('absolute', 'v', { expiry: now + 5000 })).status).to.equal(Status.SUCCESS);
      const touch = Buffer.alloc(4);
      expect((await c.request({ opcode: Opcode.TOUCH, key: 'earlier', extras: touch, vbucket: c.vb('earlier') })).status).to.equal(Status.SUCCESS);
      const store = cluster.bucket('ttl');
      expect(store.get('none')!.expiry).to.equal(now + 100);
      expect(store.get('later')!.expiry).to.equal(now + 100);
      expect(store.get('absolute')!.expiry).to.equal(now + 100);
      expect(store.get('earlier')!.expiry).to.equal(now + 100);
      expect((await c.set('short', 'v', { expiry: 10 })).status).to.equal(Status.SUCCESS);
      expect(store.get('short')!.expiry).to.equal(now + 10);
      clock.advance(101_000);
      expect((await c.get('none')).status).to.equal(Status.KEY_ENOENT);
      // The default bucket has no max TTL: a write without expiry keeps none.
      cluster.bucket('default').write('forever', Buffer.from('v'), 'upsert');
      expect(cluster.bucket('default').get('forever')!.expiry).to.equal(0);
      c.close();
    } finally {
      await cluster.stop();
    }
  });

  it('an ephemeral bucket keeps nothing on disk: after a restart it is there, empty, while a Couchbase bucket keeps its documents', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-eph-'));
    try {
      let cluster = await Cluster.start({ dataDir, queryService: null, viewsService: null });
      const port = () => cluster.nodes[0].ports.mgmt;
      expect((await restForm(port(), 'POST', '/pools/default/buckets', { name: 'eph', bucketType: 'ephemeral', ramQuota: '100', replicaNumber: '0' })).status).to.equal(202);
      for (const bucket of ['eph', 'default']) {
        const c = await RawClient.connect(cluster.nodes[0].ports.kv);
        await c.login('Administrator', 'password', bucket);
        expect((await c.set('doc', '{"kept":true}')).status).to.equal(Status.SUCCESS);
        c.close();
      }
      const files = fs.readdirSync(dataDir);
      expect(files.some((f) => f.startsWith('default.'))).to.equal(true);
      expect(files.some((f) => f.startsWith('eph.'))).to.equal(false);
      await cluster.stop();
      cluster = await Cluster.start({ dataDir, queryService: null, viewsService: null });
      try {
        expect(cluster.bucketAdmin.settingsOf('eph')).to.include({ bucketType: 'ephemeral', evictionPolicy: 'noEviction' });
        expect(cluster.bucket('eph').size).to.equal(0);
        expect(cluster.bucket('default').get('doc')).to.not.equal(undefined);
        expect((await restForm(port(), 'GET', '/pools/default/buckets/eph')).json()).to.include({ bucketType: 'ephemeral', purgeInterval: 3 });
        expect((await restForm(port(), 'GET', '/pools/default/b/eph')).json().bucketCapabilities).to.not.include('couchapi');
      } finally {
        await cluster.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a bucket may have more replicas than the cluster has nodes: its map shows the missing copies as -1', async () => {
    const cluster = await Cluster.start({ numVBuckets: 16, queryService: null, viewsService: null });
    try {
      const port = cluster.nodes[0].ports.mgmt;
      expect((await restForm(port, 'POST', '/pools/default/buckets', { name: 'r2', ramQuota: '100', replicaNumber: '2' })).status).to.equal(202);
      const map = (await restForm(port, 'GET', '/pools/default/b/r2')).json().vBucketServerMap;
      expect(map.numReplicas).to.equal(2);
      expect(map.vBucketMap.every((row: number[]) => row.length === 3 && row[0] === 0 && row[1] === -1 && row[2] === -1)).to.equal(true);
      const rev = cluster.topology.rev;
      expect((await restForm(port, 'POST', '/pools/default/buckets/r2', { replicaNumber: '0' })).status).to.equal(200);
      expect(cluster.topology.rev).to.equal(rev + 1);
      expect((await restForm(port, 'GET', '/pools/default/b/r2')).json().vBucketServerMap.vBucketMap[0]).to.deep.equal([0]);
    } finally {
      await cluster.stop();
    }
  });
});
