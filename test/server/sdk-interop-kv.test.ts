// The official Couchbase Node.js SDK 4.7's KV surface against the embedded cluster (3 nodes,
// 1 replica): sub-document replica reads, range scans, and the Collection / BinaryCollection
// calls with their options and error classes, each checked against what a 7.6 server does.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

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
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({ nodes: 3, replicas: 1, users: [AUTH], queryService: null, viewsService: null });
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
});
