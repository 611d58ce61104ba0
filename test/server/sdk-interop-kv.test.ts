// The official Couchbase Node.js SDK 4.7's KV surface against the embedded cluster (3 nodes,
// 1 replica): sub-document replica reads, range scans, and the Collection / BinaryCollection
// calls with their options and error classes, each checked against what a 7.6 server does.
// The cluster runs on a thread of its own: the SDK's scan() blocks the calling thread until the
// server has answered its first requests.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { startClusterThread, type ClusterThread } from './helpers/cluster-worker';

const AUTH = { username: 'app', password: 'app-password' };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('server interop: the official SDK KV surface', function () {
  this.timeout(30000);
  let server: ClusterThread;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await startClusterThread({ nodes: 3, replicas: 1, users: [AUTH], queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, { ...AUTH, timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    coll = sdk.bucket('default').defaultCollection();
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  describe('sub-document replica reads', () => {
    it('lookupInAnyReplica reads the paths, from the active or a replica', async () => {
      await coll.upsert('sr', { x: 1, arr: [1, 2, 3] });
      const res = await coll.lookupInAnyReplica('sr', [couchbase.LookupInSpec.get('x'), couchbase.LookupInSpec.count('arr'), couchbase.LookupInSpec.exists('nope')]);
      expect(res.content.map((e) => e.value)).to.deep.equal([1, 3, false]);
      expect(res.isReplica).to.be.a('boolean');
    });

    it('lookupInAllReplicas answers from the active and from each replica (the replica with the ReplicaRead flag)', async () => {
      const up = await coll.upsert('sr-all', { v: 'x' });
      const all = await coll.lookupInAllReplicas('sr-all', [couchbase.LookupInSpec.get('v')]);
      expect(all.map((r) => r.isReplica).sort()).to.deep.equal([false, true]);
      for (const r of all) {
        expect(r.content[0].value).to.equal('x');
        expect(r.cas.toString()).to.equal(up.cas.toString());
      }
    });

    it('lookupInAnyReplica of a missing document fails with DocumentUnretrievableError', async () => {
      expect(await failure(coll.lookupInAnyReplica('sr-missing', [couchbase.LookupInSpec.get('v')]))).to.be.instanceOf(couchbase.DocumentUnretrievableError);
    });
  });

  describe('range scans', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `scan::${String(i).padStart(3, '0')}`);
    let tokens: couchbase.MutationState;

    before(async () => {
      tokens = new couchbase.MutationState();
      for (const id of ids) tokens.add((await coll.upsert(id, { n: Number(id.slice(6)) }, { expiry: id.endsWith('7') ? 3600 : 0 })).token!);
      for (let i = 0; i < 5; i++) await coll.upsert(`other::${i}`, { i });
    });

    const idsOf = (results: couchbase.ScanResult[]): string[] => results.map((r) => r.id).sort();

    it('RangeScan returns every document between the terms, inclusive, with content and CAS', async () => {
      const res = await coll.scan(new couchbase.RangeScan(new couchbase.ScanTerm('scan::010'), new couchbase.ScanTerm('scan::019')));
      expect(idsOf(res)).to.deep.equal(ids.slice(10, 20));
      for (const r of res) {
        const got = await coll.get(r.id);
        expect(r.content).to.deep.equal(got.content);
        expect(r.cas!.toString()).to.equal(got.cas.toString());
      }
    });

    it('RangeScan with exclusive terms leaves the terms out', async () => {
      const res = await coll.scan(new couchbase.RangeScan(new couchbase.ScanTerm('scan::010', true), new couchbase.ScanTerm('scan::019', true)));
      expect(idsOf(res)).to.deep.equal(ids.slice(11, 19));
    });

    it('PrefixScan with idsOnly returns the ids alone', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('other::'), { idsOnly: true });
      expect(idsOf(res)).to.deep.equal(['other::0', 'other::1', 'other::2', 'other::3', 'other::4']);
      expect(res.every((r) => r.content === undefined)).to.equal(true);
    });

    it('reports each document\'s expiry as the server keeps it', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('scan::00'));
      const byId = new Map(res.map((r) => [r.id, r]));
      expect(byId.get('scan::007')!.expiryTime).to.be.closeTo(Date.now() / 1000 + 3600, 60);
      expect(byId.get('scan::006')!.expiryTime ?? 0).to.equal(0);
    });

    it('a scan of an empty range returns nothing (the vBuckets answer KEY_ENOENT)', async () => {
      expect(await coll.scan(new couchbase.PrefixScan('nothing-here'))).to.deep.equal([]);
    });

    it('SamplingScan returns at most its limit of existing documents, the same ones for the same seed', async () => {
      const a = await coll.scan(new couchbase.SamplingScan(7, 42));
      const b = await coll.scan(new couchbase.SamplingScan(7, 42));
      expect(a.length).to.be.within(1, 7);
      expect(idsOf(a)).to.deep.equal(idsOf(b));
      const known = new Set((await coll.scan(new couchbase.RangeScan(), { idsOnly: true })).map((r) => r.id));
      for (const r of a) expect(known.has(r.id), r.id).to.equal(true);
      for (const r of a) expect(r.content).to.deep.equal((await coll.get(r.id)).content);
    });

    it('with consistentWith, small batches and parallel vBuckets, still returns every document once', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('scan::'), { consistentWith: tokens, batchItemLimit: 1, batchByteLimit: 10, concurrency: 8 });
      expect(idsOf(res)).to.deep.equal(ids);
    });

    it('streams results as they arrive', async () => {
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        // scan() returns a StreamableScanPromise, though its declaration says Promise
        (coll.scan(new couchbase.PrefixScan('scan::03')) as unknown as couchbase.StreamableScanPromise<couchbase.ScanResult[], couchbase.ScanResult>)
          .on('result', (r: couchbase.ScanResult) => seen.push(r.id))
          .on('end', () => resolve())
          .on('error', reject);
      });
      expect(seen.sort()).to.deep.equal(ids.slice(30, 40));
    });
  });
});
