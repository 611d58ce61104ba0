// Durable writes (sync writes) on the embedded cluster, over the raw KV protocol and through the
// official SDK: levels and their refusals, a write invisible and exclusive until a majority of its
// chain has it, SYNC_WRITE_IN_PROGRESS and SYNC_WRITE_AMBIGUOUS, failover, and the bucket's
// durability minimum.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { HelloFeature, Magic, Opcode, Status, encodeMutationSpecs, type Packet } from '../../lib/protocol';
import { RawClient } from './raw-client';

const FEATURES = [HelloFeature.JSON, HelloFeature.XERROR, HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.SYNC_REPLICATION, HelloFeature.MUTATION_SEQNO];
const SET_EXTRAS = Buffer.alloc(8);

/** The durability frame: id 1, the level, and a timeout in ms when given. */
const durability = (level: number, timeoutMs?: number): Buffer =>
  timeoutMs === undefined ? Buffer.from([0x11, level]) : Buffer.from([0x13, level, timeoutMs >> 8, timeoutMs & 0xff]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('server KV: durable writes', function () {
  this.timeout(30_000);

  describe('over the raw protocol (two nodes, one replica)', () => {
    let cluster: Cluster;
    const clients: RawClient[] = [];

    before(async () => {
      cluster = await Cluster.start({
        nodes: 2,
        replicas: 1,
        queryService: null,
        viewsService: null,
        buckets: [{ name: 'default' }, { name: 'eph', bucketType: 'ephemeral' }, { name: 'strict', durabilityMinLevel: 'majority' }],
      });
    });

    after(async () => {
      for (const c of clients) c.close();
      await cluster.stop();
    });

    /** A client on the node holding the active copy of `key` (or its replica). */
    const clientFor = async (key: string, bucket = 'default', replica = false): Promise<RawClient> => {
      const vb = cluster.bucket(bucket).vbucketOf(key);
      const chain = cluster.topology.chain(vb);
      const c = await RawClient.connect(cluster.nodes[replica ? chain[1] : chain[0]].ports.kv);
      clients.push(c);
      await c.hello(FEATURES);
      await c.login('Administrator', 'password', bucket);
      return c;
    };
    const replicaOf = (key: string, bucket = 'default'): number => cluster.topology.chain(cluster.bucket(bucket).vbucketOf(key))[1];

    const durableSet = (c: RawClient, key: string, value: string, frame: Buffer): Buffer =>
      c.frame({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: frame, key, extras: SET_EXTRAS, value, vbucket: c.vb(key) });

    it('every level commits once a majority has the write, and the write then reads back', async () => {
      const c = await clientFor('d-ok');
      for (const level of [1, 2, 3]) {
        const r = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(level, 5000), key: 'd-ok', extras: SET_EXTRAS, value: `{"l":${level}}`, vbucket: c.vb('d-ok') });
        expect(r.status, `level ${level}`).to.equal(Status.SUCCESS);
        expect(cluster.bucket('default').get('d-ok')!.value.toString()).to.equal(`{"l":${level}}`);
        expect(r.cas).to.equal(cluster.bucket('default').get('d-ok')!.cas);
      }
    });

    it('a bad level is DURABILITY_INVALID_LEVEL; persistence levels on an ephemeral bucket too; a zero timeout EINVAL', async () => {
      const c = await clientFor('d-bad');
      for (const level of [0, 4]) {
        const r = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(level), key: 'd-bad', extras: SET_EXTRAS, value: '1', vbucket: c.vb('d-bad') });
        expect(r.status).to.equal(Status.DURABILITY_INVALID_LEVEL);
      }
      expect((await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(1, 0), key: 'd-bad', extras: SET_EXTRAS, value: '1', vbucket: c.vb('d-bad') })).status).to.equal(Status.EINVAL);
      const e = await clientFor('d-eph', 'eph');
      const persist = await e.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(3), key: 'd-eph', extras: SET_EXTRAS, value: '1', vbucket: e.vb('d-eph') });
      expect(persist.status).to.equal(Status.DURABILITY_INVALID_LEVEL);
      const majority = await e.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(1), key: 'd-eph', extras: SET_EXTRAS, value: '1', vbucket: e.vb('d-eph') });
      expect(majority.status).to.equal(Status.SUCCESS);
      expect(cluster.bucket('default').get('d-bad')).to.equal(undefined);
    });

    it('until a majority has it, the write is invisible and the key refuses other writes with SYNC_WRITE_IN_PROGRESS', async () => {
      const a = await clientFor('d-busy');
      const b = await clientFor('d-busy');
      await a.set('d-busy', '"old"');
      const replica = replicaOf('d-busy');
      cluster.pauseReplication(replica);
      try {
        a.write(durableSet(a, 'd-busy', '"new"', durability(1, 10_000)));
        await sleep(100);
        expect(cluster.durability.inFlight).to.equal(1);
        const other = await b.set('d-busy', '"other"');
        expect(other.status).to.equal(Status.SYNC_WRITE_IN_PROGRESS);
        const sub = await b.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key: 'd-busy', vbucket: b.vb('d-busy'), value: encodeMutationSpecs([{ opcode: Opcode.SET, path: '', value: '1' }]) });
        expect(sub.status).to.equal(Status.SYNC_WRITE_IN_PROGRESS);
        expect((await b.get('d-busy')).value.toString()).to.equal('"old"');
        cluster.resumeReplication(replica);
        const [done] = await a.take(1);
        expect(done.status).to.equal(Status.SUCCESS);
        expect((await b.get('d-busy')).value.toString()).to.equal('"new"');
        expect((await b.set('d-busy', '"later"')).status).to.equal(Status.SUCCESS);
      } finally {
        cluster.resumeReplication(replica);
      }
    });

    it('with unordered execution the connection goes on: later requests answer first, the durable write when it commits', async () => {
      const vb = cluster.bucket('default').vbucketOf('d-unord');
      const a = await RawClient.connect(cluster.nodes[cluster.topology.chain(vb)[0]].ports.kv);
      clients.push(a);
      await a.hello([...FEATURES, HelloFeature.UNORDERED_EXECUTION]);
      await a.login('Administrator', 'password', 'default');
      await a.set('d-unord', '"old"');
      const replica = replicaOf('d-unord');
      cluster.pauseReplication(replica);
      try {
        const durable = durableSet(a, 'd-unord', '"new"', durability(1, 10_000));
        const plain = a.frame({ opcode: Opcode.SET, key: 'd-unord', extras: SET_EXTRAS, value: '"plain"', vbucket: vb });
        const get = a.frame({ opcode: Opcode.GET, key: 'd-unord', vbucket: vb });
        a.write(Buffer.concat([durable, plain, get]));
        const [busy, read] = await a.take(2);
        expect(busy.status).to.equal(Status.SYNC_WRITE_IN_PROGRESS);
        expect([read.status, read.value.toString()]).to.deep.equal([Status.SUCCESS, '"old"']);
        cluster.resumeReplication(replica);
        const [done] = await a.take(1);
        expect([done.status, done.opaque]).to.deep.equal([Status.SUCCESS, durable.readUInt32BE(12)]);
        expect(done.cas).to.equal(cluster.bucket('default').get('d-unord')!.cas);
        expect(cluster.bucket('default').get('d-unord')!.value.toString()).to.equal('"new"');
      } finally {
        cluster.resumeReplication(replica);
      }
    });

    it('a write no majority takes within its timeout is aborted and answered SYNC_WRITE_AMBIGUOUS; the connection goes on in order', async () => {
      const a = await clientFor('d-slow');
      await a.set('d-slow', '"old"');
      const replica = replicaOf('d-slow');
      cluster.pauseReplication(replica);
      try {
        const started = Date.now();
        a.write(Buffer.concat([durableSet(a, 'd-slow', '"new"', durability(1, 300)), a.frame({ opcode: Opcode.GET, key: 'd-slow', vbucket: a.vb('d-slow') })]));
        const [first, second] = await a.take(2, 5000);
        expect(first.status).to.equal(Status.SYNC_WRITE_AMBIGUOUS);
        expect(Date.now() - started).to.be.at.least(250);
        expect([second.status, second.value.toString()]).to.deep.equal([Status.SUCCESS, '"old"']);
        expect(cluster.durability.inFlight).to.equal(0);
      } finally {
        cluster.resumeReplication(replica);
      }
    });

    it('failing over the active node while a write waits: SYNC_WRITE_AMBIGUOUS (the replica never had it, so it is lost)', async () => {
      const other = await Cluster.start({ nodes: 3, replicas: 1, queryService: null, viewsService: null });
      try {
        const vb = other.bucket('default').vbucketOf('d-fo');
        const [active, replica] = other.topology.chain(vb);
        const a = await RawClient.connect(other.nodes[active].ports.kv);
        clients.push(a);
        await a.hello(FEATURES);
        await a.login('Administrator', 'password', 'default');
        await a.set('d-fo', '"old"');
        other.pauseReplication(replica);
        a.write(durableSet(a, 'd-fo', '"new"', durability(1, 10_000)));
        await sleep(100);
        other.failover(active);
        const [r] = await a.take(1, 5000);
        expect(r.status).to.equal(Status.SYNC_WRITE_AMBIGUOUS);
        expect(other.bucket('default').get('d-fo')!.value.toString()).to.equal('"old"');
      } finally {
        await other.stop();
      }
    });

    it('persistToMajority is answered once the write-ahead log has made the write durable', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-durable-'));
      const disk = await Cluster.start({ nodes: 2, replicas: 1, dataDir: dir, fsync: 'batch', fsyncIntervalMs: 200, queryService: null, viewsService: null });
      try {
        const vb = disk.bucket('default').vbucketOf('d-disk');
        const c = await RawClient.connect(disk.nodes[disk.topology.chain(vb)[0]].ports.kv);
        clients.push(c);
        await c.hello(FEATURES);
        await c.login('Administrator', 'password', 'default');
        const started = Date.now();
        const r = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: durability(3, 5000), key: 'd-disk', extras: SET_EXTRAS, value: '"on-disk-value"', vbucket: vb });
        expect(r.status).to.equal(Status.SUCCESS);
        expect(Date.now() - started).to.be.at.least(150);
        expect(fs.readFileSync(path.join(dir, 'default.dblog')).includes('on-disk-value')).to.equal(true);
      } finally {
        await disk.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('with a one-node chain for a one-replica bucket, a durable write is DURABILITY_IMPOSSIBLE', async () => {
      const lone = await Cluster.start({ nodes: 1, replicas: 1, queryService: null, viewsService: null });
      try {
        const c = await RawClient.connect(lone.nodes[0].ports.kv);
        clients.push(c);
        await c.hello(FEATURES);
        await c.login('Administrator', 'password', 'default');
        const r = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.DELETE, framingExtras: durability(1), key: 'x', vbucket: c.vb('x') });
        expect(r.status).to.equal(Status.DURABILITY_IMPOSSIBLE);
        expect((await c.set('x', '1')).status).to.equal(Status.SUCCESS);
      } finally {
        await lone.stop();
      }
    });

    it('the bucket’s durability minimum makes a plain write durable: it waits for the replica', async () => {
      const c = await clientFor('d-min', 'strict');
      const replica = replicaOf('d-min', 'strict');
      cluster.pauseReplication(replica);
      let answered: Packet | undefined;
      try {
        const waiting = c.set('d-min', '1').then((p) => (answered = p));
        await sleep(150);
        expect(answered).to.equal(undefined);
        expect(cluster.bucket('strict').get('d-min')).to.equal(undefined);
        cluster.resumeReplication(replica);
        await waiting;
        expect(answered!.status).to.equal(Status.SUCCESS);
        expect(cluster.bucket('strict').get('d-min')!.value.toString()).to.equal('1');
      } finally {
        cluster.resumeReplication(replica);
      }
    });
  });

  describe('through the official SDK', () => {
    let server: Cluster;
    let sdk: couchbase.Cluster;
    let coll: couchbase.Collection;

    before(async () => {
      server = await Cluster.start({ nodes: 2, replicas: 1, queryService: null, viewsService: null });
      sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password', timeouts: { kvTimeout: 5000, kvDurableTimeout: 5000 } });
      coll = sdk.bucket('default').defaultCollection();
    });

    after(async () => {
      await sdk?.close();
      await server?.stop();
    });

    it('every mutation takes a durability level: upsert, insert, replace, mutateIn, increment, append, remove', async () => {
      const lvl = { durabilityLevel: couchbase.DurabilityLevel.Majority };
      await coll.upsert('sdk-d', { v: 1 }, { durabilityLevel: couchbase.DurabilityLevel.PersistToMajority });
      await coll.insert('sdk-d2', { v: 1 }, lvl);
      await coll.replace('sdk-d', { v: 2 }, { durabilityLevel: couchbase.DurabilityLevel.MajorityAndPersistOnMaster });
      await coll.mutateIn('sdk-d', [couchbase.MutateInSpec.upsert('w', true)], lvl);
      await coll.binary().increment('sdk-n', 1, { initial: 5, ...lvl });
      await coll.binary().append('sdk-n', '0', lvl);
      expect((await coll.get('sdk-d')).content).to.deep.equal({ v: 2, w: true });
      expect(server.bucket('default').get('sdk-n')!.value.toString()).to.equal('50');
      await coll.remove('sdk-d2', lvl);
      expect((await coll.exists('sdk-d2')).exists).to.equal(false);
    });

    it('a replica that does not answer makes the write DurabilityAmbiguousError and leaves the document as it was', async () => {
      await coll.upsert('sdk-amb', { v: 1 });
      const replica = server.topology.chain(server.bucket('default').vbucketOf('sdk-amb'))[1];
      server.pauseReplication(replica);
      let err: unknown;
      try {
        await coll.upsert('sdk-amb', { v: 2 }, { durabilityLevel: couchbase.DurabilityLevel.Majority, timeout: 1500 });
      } catch (e) {
        err = e;
      } finally {
        server.resumeReplication(replica);
      }
      expect(err).to.be.instanceOf(couchbase.DurabilityAmbiguousError);
      expect((await coll.get('sdk-amb')).content).to.deep.equal({ v: 1 });
    });

    it('a bucket whose replicas cannot make a majority refuses with DurabilityImpossibleError', async () => {
      const lone = await Cluster.start({ nodes: 1, replicas: 1, queryService: null, viewsService: null });
      const c = await couchbase.connect(lone.connectionString, { username: 'Administrator', password: 'password' });
      try {
        let err: unknown;
        try {
          await c.bucket('default').defaultCollection().upsert('x', 1, { durabilityLevel: couchbase.DurabilityLevel.Majority });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(couchbase.DurabilityImpossibleError);
      } finally {
        await c.close();
        await lone.stop();
      }
    });
  });
});
