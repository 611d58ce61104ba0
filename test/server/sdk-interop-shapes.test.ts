// The official Couchbase Node.js SDK (couchbase 4.x, couchbase-cxx-client inside) against the
// embedded cluster in each deployment shape: the reference client for what the server serves.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as couchbase from 'couchbase';
import { Cluster, type ClusterOptions } from '../../lib/server';

const USER = { username: 'Administrator', password: 'password' };
const BIG = { list: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['red', 'green', 'blue'] })) };

interface Shape {
  name: string;
  options: ClusterOptions;
  connstr(c: Cluster): string;
  bucket: string;
  sdk?: (c: Cluster, caFile: string) => Partial<couchbase.ConnectOptions>;
  /** The SDK runs KV operations on the bucket (default true). */
  kv?: boolean;
  check?: (c: Cluster, coll: couchbase.Collection, sdk: couchbase.Cluster) => Promise<void>;
}

const SHAPES: Shape[] = [
  {
    name: 'a single node without a hostname',
    options: { users: [USER], services: { capi: null } },
    connstr: (c) => c.connectionString,
    bucket: 'default',
    check: async (c, coll) => {
      // SNAPPY: the SDK compresses a large document and reads it back; the node kept it as sent.
      await coll.upsert('big', BIG);
      expect((await coll.get('big')).content).to.deep.equal(BIG);
      expect(c.bucket('default').live('big')!.snappy).to.be.instanceOf(Buffer);
    },
  },
  {
    name: 'nodes behind NAT, reached at their alternate addresses',
    options: { nodes: 2, replicas: 1, users: [USER], advertiseHost: '127.0.0.9', alternateAddresses: { hostname: '127.0.0.1' }, services: { capi: null } },
    connstr: (c) => c.alternateConnectionString(),
    bucket: 'default',
    check: async (c, coll) => {
      const before = c.forwardedConnections;
      const r = await coll.getAnyReplica('k1');
      expect(r.content).to.deep.equal({ v: 1 });
      expect(c.forwardedConnections).to.be.at.least(before);
      expect(c.forwardedConnections).to.be.greaterThan(0);
    },
  },
  {
    name: 'TLS with a generated certificate',
    options: { nodes: 2, users: [USER], tls: true, services: { capi: null } },
    connstr: (c) => c.tlsConnectionString,
    bucket: 'default',
    sdk: (_c, ca) => ({ security: { trustStorePath: ca } }),
  },
  {
    // couchbase-cxx-client reads a ketama config but has no ketama locator: it opens the bucket
    // and manages it, and routes no key (retry reason node_not_available), against a real
    // server as here. So the SDK's part is the bucket, not its keys (the engine covers those).
    name: 'a memcached bucket on two nodes',
    options: { nodes: 2, users: [USER], buckets: [{ name: 'default' }, { name: 'cache', bucketType: 'memcached' }], services: { n1ql: null, capi: null } },
    connstr: (c) => c.connectionString,
    bucket: 'cache',
    kv: false,
    check: async (_c, _coll, sdk) => {
      const b = await sdk.buckets().getBucket('cache');
      expect(b.bucketType).to.equal(couchbase.BucketType.Memcached);
      expect(b.numReplicas).to.equal(0);
      const all = await sdk.buckets().getAllBuckets();
      expect(all.map((x) => [x.name, x.bucketType]).sort()).to.deep.equal([
        ['cache', couchbase.BucketType.Memcached],
        ['default', couchbase.BucketType.Couchbase],
      ]);
    },
  },
];

describe('server interop with the official SDK in every deployment shape', function () {
  this.timeout(60_000);
  for (const shape of SHAPES) {
    describe(shape.name, () => {
      let server: Cluster;
      let sdk: couchbase.Cluster;
      let coll: couchbase.Collection;
      let caFile = '';
      before(async () => {
        server = await Cluster.start(shape.options);
        if (server.certificate) {
          caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-sdk-ca-')), 'ca.pem');
          fs.writeFileSync(caFile, server.certificate);
        }
        sdk = await couchbase.connect(shape.connstr(server), {
          ...USER,
          timeouts: { kvTimeout: 5000, connectTimeout: 15000 },
          ...(shape.sdk?.(server, caFile) ?? {}),
        });
        coll = sdk.bucket(shape.bucket).defaultCollection();
      });
      after(async () => {
        await sdk?.close();
        await server?.stop();
        if (caFile) fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
      });

      if (shape.kv !== false) it('upserts, gets, replaces with CAS, counts and removes', async () => {
        for (let i = 0; i < 10; i++) await coll.upsert(`k${i}`, { v: i });
        const got = await coll.get('k1');
        expect(got.content).to.deep.equal({ v: 1 });
        await coll.replace('k1', { v: 1 }, { cas: got.cas });
        let mismatch: unknown;
        try {
          await coll.replace('k1', { v: 2 }, { cas: got.cas });
        } catch (e) {
          mismatch = e;
        }
        expect(mismatch).to.be.instanceOf(couchbase.CasMismatchError);
        expect((await coll.binary().increment('ctr', 1, { initial: 10 })).value).to.equal(10);
        await coll.remove('k9');
        let missing: unknown;
        try {
          await coll.get('k9');
        } catch (e) {
          missing = e;
        }
        expect(missing).to.be.instanceOf(couchbase.DocumentNotFoundError);
      });

      if (shape.check) it('behaves as that shape does', async () => shape.check!(server, coll, sdk));

      if (shape.options.services?.n1ql !== null) {
        it('runs a N1QL query on the query service the config names', async () => {
          const r = await sdk.query('SELECT 6 * 7 AS answer');
          expect(r.rows).to.deep.equal([{ answer: 42 }]);
        });
      }
    });
  }
});
