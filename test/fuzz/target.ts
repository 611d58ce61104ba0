// The fuzzers' target: an embedded cluster in a process of its own (so a crash is seen as the
// process ending, not as the test runner dying), with documents, a design document and a
// primary index to give every service something to chew on. Prints `READY {ports}`.
// Its KV limits are the defaults but two, so that the fuzz run reaches them: a 2 s authentication
// timeout (slow-loris connections last up to ~2.5 s) and 1,000 connections (floods open up to 700).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Cluster, type DocumentStore } from '../../lib/server';
import { defaultSettings } from '../../lib/server/buckets-admin';

function post(port: number, urlPath: string, method: string, body: string, type: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method, headers: { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64'), 'content-type': type } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function seed(store: DocumentStore): void {
  for (let i = 0; i < 200; i++) {
    store.write(`doc-${i}`, Buffer.from(JSON.stringify({ n: i, name: `name ${i}`, a: { b: [i, i + 1] }, tags: ['x', 'y'] })), 'upsert');
  }
  // for the clients that never read (kv-frames.ts LARGE_DOCS) and the sub-document depth limits
  store.write('fuzz-1m', Buffer.from(JSON.stringify({ fill: 'x'.repeat(1024 * 1024) })), 'upsert');
  store.write('fuzz-12k', Buffer.from(JSON.stringify({ fill: 'x'.repeat(12 * 1024) })), 'upsert');
  store.write('deep-32', Buffer.from('{"a":'.repeat(31) + '{}' + '}'.repeat(31)), 'upsert');
  store.write('deep-100k', Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), 'upsert');
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-fuzz-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  // 'fuzz-probe' is the health probe's: no generated input names it, so none deletes or flushes it.
  const cluster = await Cluster.start({
    numVBuckets: 64,
    dataDir,
    fsync: 'none',
    buckets: [{ name: 'default' }, { name: 'fuzz-probe' }],
    kvLimits: { authTimeoutMs: 2000, maxConnections: 1000 },
  });
  seed(cluster.bucket('default'));
  // The management fuzzer may flush or delete 'default' (an administrator may): bring it back.
  setInterval(() => {
    if (cluster.store('default') === undefined) {
      cluster.createBucket(defaultSettings('default', 0, { flushEnabled: false }));
    }
    const store = cluster.bucket('default');
    if (store.get('fuzz-12k') === undefined) seed(store);
  }, 500).unref();
  const { n1ql, capi, kv, mgmt } = cluster.nodes[0].ports;
  await post(capi!, '/default/_design/fz', 'PUT', JSON.stringify({ views: { v: { map: 'function (doc, meta) { emit(meta.id, null); }' }, by_n: { map: 'function (doc) { emit(doc.n, 1); }', reduce: '_count' } } }), 'application/json');
  await post(n1ql!, '/query/service', 'POST', JSON.stringify({ statement: 'CREATE PRIMARY INDEX ON `default`' }), 'application/json');
  process.stdout.write(`READY ${JSON.stringify({ kv, mgmt, query: n1ql, views: capi })}\n`);
}

main().catch((err) => {
  process.stderr.write(`target failed to start: ${(err as Error).stack}\n`);
  process.exit(1);
});
