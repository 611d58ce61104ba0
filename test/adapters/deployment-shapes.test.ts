// Each deployment shape the embedded cluster can take, once through every flavour (deferred,
// promise, blocking): the cluster runs on a worker thread of its own, so that the blocking
// flavour's calls can wait on it.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ClusterOptions } from '../../lib/server';
import { DRIVERS } from './helpers/flavours';
import { startClusterThread, type ClusterThread } from '../server/helpers/cluster-worker';

const USER = { username: 'Administrator', password: 'password' };

interface Shape {
  name: string;
  options: ClusterOptions;
  /** The connection string (bucket and options included) a client outside would use. */
  connstr(c: ClusterThread, caFile: string): string;
  query: boolean;
}

const SHAPES: Shape[] = [
  { name: 'single node without a hostname', options: { users: [USER] }, connstr: (c) => `${c.connectionString}/default`, query: true },
  {
    name: 'nodes behind NAT, reached at their alternate addresses',
    options: { nodes: 2, users: [USER], advertiseHost: '127.0.0.9', alternateAddresses: { hostname: '127.0.0.1' } },
    connstr: (c) => `${c.alternateConnectionString}/default`,
    query: true,
  },
  {
    name: 'memcached bucket on three nodes',
    options: { nodes: 3, users: [USER], buckets: [{ name: 'cache', bucketType: 'memcached' }], services: { n1ql: null, capi: null } },
    connstr: (c) => `${c.connectionString}/cache`,
    query: false,
  },
  {
    name: 'TLS (couchbases://) with a generated certificate',
    options: { nodes: 2, users: [USER], tls: true },
    connstr: (c, ca) => `${c.tlsConnectionString}/default?certpath=${encodeURIComponent(ca)}`,
    query: true,
  },
  {
    name: 'snappy forced on every value',
    options: { users: [USER], services: { n1ql: null, capi: null } },
    connstr: (c) => `${c.connectionString}/default?compression=force&compression_min_size=0`,
    query: false,
  },
];

describe('deployment shapes through every flavour', function () {
  this.timeout(60_000);
  for (const shape of SHAPES) {
    describe(shape.name, () => {
      let cluster: ClusterThread;
      let caFile = '';
      before(async () => {
        cluster = await startClusterThread(shape.options);
        if (cluster.certificate) {
          caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-shape-')), 'ca.pem');
          fs.writeFileSync(caFile, cluster.certificate);
        }
      });
      after(async () => {
        await cluster?.stop();
        if (caFile) fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
      });

      for (const driver of DRIVERS) {
        it(`${driver.name}: stores, reads, counts and removes${shape.query ? ', and queries' : ''}`, async () => {
          const h = driver.open('real', { connstr: shape.connstr(cluster, caFile), ...USER });
          try {
            const k = (s: string): string => `${driver.name}-${s}`;
            const doc = { shape: shape.name, list: Array.from({ length: 50 }, (_, i) => `item-${i}`) };
            await h.call('upsert', k('doc'), doc);
            expect((await h.call('get', k('doc'))).value).to.deep.equal(doc);
            const many: Record<string, unknown> = {};
            for (let i = 0; i < 20; i++) many[k(`m${i}`)] = { i };
            await h.call('upsertMulti', many);
            const got = await h.call('getMulti', Object.keys(many));
            expect(got.get(k('m13')).value).to.deep.equal({ i: 13 });
            expect((await h.call('counter', k('n'), { initial: 5 })).value).to.equal(5);
            expect((await h.call('counter', k('n'), { delta: 2 })).value).to.equal(7);
            await h.call('remove', k('doc'));
            let missing: unknown;
            try {
              await h.call('get', k('doc'));
            } catch (err) {
              missing = err;
            }
            expect((missing as Error).name).to.equal('NotFoundError');
            if (shape.query) {
              const r = await h.n1ql('SELECT 40 + 2 AS answer');
              expect(r.rows).to.deep.equal([{ answer: 42 }]);
            }
          } finally {
            await h.close();
          }
        });
      }
    });
  }
});
