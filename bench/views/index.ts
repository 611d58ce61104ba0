// Views benchmark: index build over 100,000 documents, an incremental update after 1,000
// mutations, and a 100,000-row streamed view query (rows/s and peak RSS, measured in a child
// process so the figure is the query's own). The machine is shared and noisy, so each figure
// comes with a baseline measured in the same run: the build against plain JSON.parse of every
// document body, the incremental update against the full build.
//
// Run: node dist/bench/views/index.js [docs]
import { fork } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentStore } from '../../lib/server/store';
import type { ServiceContext } from '../../lib/server/service-types';
import { createViewsService, putDesignDoc, waitForIndexes } from '../../lib/server/views';
import { beerSampleDesignDocs, beerSampleDocs } from '../../lib/server/samples/beer-sample';

const DOCS = Number(process.argv[2] ?? 100_000);
const MUTATIONS = 1_000;

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function loadStore(n: number): DocumentStore {
  const store = new DocumentStore({ name: 'beer-sample', numVBuckets: 1024 });
  for (const { id, value } of beerSampleDocs({ scale: n / 7303 })) store.write(id, Buffer.from(JSON.stringify(value)), 'upsert');
  return store;
}

async function buildAndUpdate(): Promise<void> {
  const store = loadStore(DOCS);
  console.log(`documents: ${store.size} (beer-sample shapes, ${(DOCS / 7303).toFixed(1)}x scale)`);

  // Baseline: the least any indexer must do, reading every body as JSON.
  let t = process.hrtime.bigint();
  for (const doc of store.docs()) JSON.parse(doc.value.toString('utf8'));
  const parseMs = ms(t);

  t = process.hrtime.bigint();
  putDesignDoc(store, 'beer', beerSampleDesignDocs.beer);
  await waitForIndexes(store);
  const buildMs = ms(t);
  const rate = (store.size / buildMs) * 1000;
  console.log(`index build (ddoc beer: brewery_beers + by_location): ${buildMs.toFixed(0)} ms, ${rate.toFixed(0)} docs/s (target >= 50,000)`);
  console.log(`  baseline JSON.parse of every body: ${parseMs.toFixed(0)} ms; build/parse ratio ${(buildMs / parseMs).toFixed(2)}x`);

  // 1,000 mutations (updates that move keys, new documents, deletes), five rounds: the median
  // says more than one round on a shared machine.
  const ids = [...store.docs()].map((d) => d.id);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < MUTATIONS; i++) {
      const r = rnd();
      if (r < 0.1) {
        const id = ids[Math.floor(rnd() * ids.length)];
        if (store.get(id)) store.remove(id);
      } else if (r < 0.3) {
        store.write(`new-beer-${round}-${i}`, Buffer.from(JSON.stringify({ type: 'beer', name: `New ${i}`, brewery_id: ids[Math.floor(rnd() * ids.length)] })), 'upsert');
      } else {
        const id = ids[Math.floor(rnd() * ids.length)];
        store.write(id, Buffer.from(JSON.stringify({ type: 'brewery', name: `Renamed ${i}`, city: 'Gent', state: 'Oost-Vlaanderen', country: 'Belgium' })), 'upsert');
      }
    }
    t = process.hrtime.bigint();
    await waitForIndexes(store);
    rounds.push(ms(t));
  }
  const sorted = [...rounds].sort((a, b) => a - b);
  const median = sorted[2];
  console.log(
    `incremental update after ${MUTATIONS} mutations: median ${median.toFixed(1)} ms (${((median * 1000) / MUTATIONS).toFixed(0)} us/mutation), ` +
      `min ${sorted[0].toFixed(1)} ms, max ${sorted[4].toFixed(1)} ms; full build / median update ratio ${(buildMs / median).toFixed(0)}x`,
  );
}

/** Child: serves the views over HTTP and streams one 100k-row query to itself without buffering it. */
async function queryChild(): Promise<void> {
  const store = loadStore(DOCS);
  putDesignDoc(store, 'beer', beerSampleDesignDocs.beer);
  await waitForIndexes(store);
  const ctx: ServiceContext = {
    clock: { now: () => Date.now() },
    bucket: (n) => (n === store.name ? store : undefined),
    buckets: () => [store],
    authenticate: () => ({ username: 'bench', buckets: '*' }),
    nodeIndex: 0,
  };
  const handler = createViewsService(ctx);
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t = process.hrtime.bigint();
  const { rows, bytes } = await new Promise<{ rows: number; bytes: number }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/beer-sample/_design/beer/_view/brewery_beers', agent: false }, (res) => {
        let rows = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(0x7b); i >= 0; i = chunk.indexOf(0x7b, i + 1)) if (chunk[i + 1] === 0x22 && chunk[i + 2] === 0x69) rows++; // {"id
        });
        res.on('end', () => resolve({ rows, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  const queryMs = ms(t);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  server.close();
  process.send!({ rows, bytes, queryMs, rssBefore, peak, maxRss: process.resourceUsage().maxRSS * 1024 });
}

async function streamedQuery(): Promise<void> {
  const child = fork(__filename, [String(DOCS), '--query-child'], { execArgv: ['--expose-gc'] });
  const m = await new Promise<{ rows: number; bytes: number; queryMs: number; rssBefore: number; peak: number; maxRss: number }>((resolve, reject) => {
    child.once('message', (msg) => resolve(msg as never));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`query child exited with ${code}`)));
  });
  const mb = (n: number) => (n / 1048576).toFixed(0) + ' MB';
  console.log(`streamed query (brewery_beers, ${m.rows} rows, ${mb(m.bytes)}): ${m.queryMs.toFixed(0)} ms, ${((m.rows / m.queryMs) * 1000).toFixed(0)} rows/s`);
  console.log(`  child RSS before query ${mb(m.rssBefore)}, peak during query ${mb(m.peak)} (+${mb(m.peak - m.rssBefore)}; response body is ${mb(m.bytes)})`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--query-child')) return queryChild();
  await buildAndUpdate();
  await streamedQuery();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
