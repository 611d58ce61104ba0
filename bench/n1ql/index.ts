// N1QL engine benchmark on 100,000 generated travel-sample documents. Prints latency/throughput
// per query shape and peak RSS, measured in a child process so the parent's memory stays out of it.
//   node dist/bench/n1ql/index.js            (parent: runs the child and prints the report)
import { fork } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentStore } from '../../lib/server/store';
import { createQueryService } from '../../lib/server/n1ql';
import { userWithBuckets } from '../../lib/server/rbac/users';
import { parse } from '../../lib/server/n1ql/parser';
import { runStatement } from '../../lib/server/n1ql/statement';
import { PreparedCache } from '../../lib/server/n1ql/prepared';
import { PAUSE } from '../../lib/server/n1ql/pause';
import type { Value } from '../../lib/server/n1ql/value';
import { travelSampleDocs } from '../../lib/server/samples/travel-sample';

const TARGET_DOCS = 100_000;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(0) + ' MB';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function load(): DocumentStore {
  const store = new DocumentStore({ name: 'bench', numVBuckets: 1024 });
  const scale = TARGET_DOCS / 31591;
  let n = 0;
  for (const { id, value } of travelSampleDocs({ scale, seed: 42 })) {
    store.write(id, Buffer.from(JSON.stringify(value)), 'upsert', { datatype: 1 });
    if (++n >= TARGET_DOCS) break;
  }
  return store;
}

function engine(store: DocumentStore) {
  const prepareds = new PreparedCache();
  const env = { bucket: (n: string) => (n === 'bench' ? store : undefined), buckets: () => [store], canAccess: () => true, denied: () => undefined, functionDenied: () => undefined, sequenceDenied: () => undefined };
  return (stmt: string, args: Value[] = []): Value[] => {
    const r = runStatement(parse(stmt), { env, ctx: { now: Date.now(), positional: args, named: {}, checkDeadline: () => undefined }, readonly: false, prepareds, user: 'bench' });
    const rows = [...r.rows].filter((v): v is Value => v !== PAUSE);
    if (r.errors.length) throw new Error(JSON.stringify(r.errors));
    return rows;
  };
}

function time<T>(f: () => T): [number, T] {
  const t = process.hrtime.bigint();
  const v = f();
  return [Number(process.hrtime.bigint() - t) / 1e6, v];
}

function series(label: string, n: number, f: (i: number) => Value[]): { p50: number; p99: number; rows: number } {
  const xs: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const [ms, r] = time(() => f(i));
    xs.push(ms);
    rows = r.length;
  }
  const out = { p50: percentile(xs, 50), p99: percentile(xs, 99), rows };
  console.log(`  ${label.padEnd(44)} p50 ${out.p50.toFixed(3).padStart(8)} ms   p99 ${out.p99.toFixed(3).padStart(8)} ms   rows ${rows}`);
  return out;
}

async function child(): Promise<void> {
  const baseRss = process.memoryUsage().rss;
  const [loadMs, store] = time(load);
  const storeRss = process.memoryUsage().rss;
  const q = engine(store);
  const [ixMs] = time(() => {
    q('CREATE PRIMARY INDEX ON bench');
    q('CREATE INDEX ix_type_id ON bench(type, id)');
  });
  console.log(`  loaded ${store.size} docs in ${loadMs.toFixed(0)} ms (RSS ${mb(storeRss)}, the DocumentStore alone), 2 indexes built in ${ixMs.toFixed(0)} ms, RSS ${mb(process.memoryUsage().rss)}`);
  const routes = q('SELECT RAW MIN(id) FROM bench WHERE type = "route"')[0] as number;

  const point = series('point lookup, indexed (type, id)', 500, (i) => q('SELECT * FROM bench WHERE type = "route" AND id = $1', [routes + ((i * 7919) % 70000)]));
  const scanPoint = series('same lookup without an index (primary scan)', 3, (i) => q('SELECT * FROM bench WHERE id + 0 = $1 AND type = "route"', [routes + i]));
  series('range over indexed field, 1,000 rows', 20, (i) => q('SELECT META().id, distance FROM bench WHERE type = "route" AND id >= $1 AND id < $1 + 1000', [routes + i * 100]));
  const [coldMs, cold] = time(() => q('SELECT RAW COUNT(*) FROM bench WHERE distance > 5000'));
  console.log(`  full-scan filter, first run                      ${coldMs.toFixed(1)} ms   (${cold[0]} matches)`);
  const scan = series('full-scan filter over 100,000 docs (warm)', 5, () => q('SELECT RAW COUNT(*) FROM bench WHERE distance > 5000'));
  series('GROUP BY airline over routes', 3, () => q('SELECT airline, COUNT(*) AS n, AVG(distance) AS d FROM bench WHERE type = "route" GROUP BY airline'));
  series('ORDER BY distance DESC LIMIT 10 (top-k)', 3, () => q('SELECT META().id, distance FROM bench WHERE type = "route" ORDER BY distance DESC LIMIT 10'));
  console.log(`  ratio primary-scan / indexed point lookup      ${(scanPoint.p50 / point.p50).toFixed(0)}x`);

  // HTTP: point lookups through the service, then one 1,000,000-row streamed result.
  const ctx = {
    clock: { now: () => Date.now() },
    bucket: (n: string) => (n === 'bench' ? store : undefined),
    buckets: () => [store],
    nodeIndex: 0,
    authenticate: () => userWithBuckets('bench', '*'),
  };
  const handler = createQueryService(ctx);
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (body: unknown, onData?: (c: Buffer) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent, method: 'POST', path: '/query/service', headers: { 'content-type': 'application/json' } }, (res) => {
        res.on('data', (c: Buffer) => onData?.(c));
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const httpLat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = process.hrtime.bigint();
    await post({ statement: 'SELECT * FROM bench WHERE type = "route" AND id = $1', args: [routes + ((i * 104729) % 70000)] });
    httpLat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  console.log(`  ${'point lookup over HTTP (keep-alive)'.padEnd(44)} p50 ${percentile(httpLat, 50).toFixed(3).padStart(8)} ms   p99 ${percentile(httpLat, 99).toFixed(3).padStart(8)} ms`);

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let bytes = 0;
  let commas = 0;
  const t0 = process.hrtime.bigint();
  await post({ statement: 'SELECT r.id, i FROM bench r UNNEST ARRAY_RANGE(0, 10) AS i' }, (c) => {
    bytes += c.length;
    for (let k = c.indexOf(0x2c); k >= 0; k = c.indexOf(0x2c, k + 1)) commas++;
  });
  const streamMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`  streamed 1,000,000 rows over HTTP: ${streamMs.toFixed(0)} ms (${((1e6 / streamMs) * 1000).toFixed(0)} rows/s), ${mb(bytes)} of JSON`);
  const rssAfter = process.memoryUsage().rss;
  gc?.();
  console.log(`  live heap after GC: ${mb(heapBefore)} before the stream, ${mb(process.memoryUsage().heapUsed)} after`);
  console.log(`  RSS before the stream ${mb(rssBefore)}, after ${mb(rssAfter)}; peak RSS of the whole run ${mb(peak)} (store + parsed-doc cache + engine)`);
  void commas;
  agent.destroy();
  server.close();
  handler.close?.();
  process.send?.({ point: point.p50, scan: scan.p50, peak, growth: rssAfter - rssBefore, base: baseRss });
}

/** A 1,000,000-row stream from an empty cluster: the streaming path's own memory. */
async function streamOnly(): Promise<void> {
  const store = new DocumentStore({ name: 'bench', numVBuckets: 64 });
  const ctx = { clock: { now: () => Date.now() }, bucket: () => undefined, buckets: () => [store], nodeIndex: 0, authenticate: () => userWithBuckets('b', '*') };
  const handler = createQueryService(ctx);
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/query/service', headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ statement: 'SELECT a AS i, a * 2 AS twice FROM ARRAY_RANGE(0, 1000) AS a UNNEST ARRAY_RANGE(0, 1000) AS b' }));
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`  stream-only process: 1,000,000 rows (${mb(bytes)}) in ${ms.toFixed(0)} ms; RSS at start ${mb(base)}, peak ${mb(peak)}`);
  server.close();
  process.send?.({ streamPeak: peak });
}

if (process.argv[2] === 'stream-only') {
  streamOnly().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (process.argv[2] === 'child') {
  child().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  console.log(`n1ql benchmark: ${TARGET_DOCS.toLocaleString('en')} generated travel-sample documents (child process)`);
  const c = fork(__filename, ['child'], { stdio: 'inherit', execArgv: ['--expose-gc'] });
  let result: { point: number; scan: number; peak: number; growth: number; base: number } | undefined;
  c.on('message', (m: typeof result) => (result = m));
  c.on('exit', (code) => {
    if (code !== 0 || !result) process.exit(code ?? 1);
    const s = fork(__filename, ['stream-only'], { stdio: 'inherit' });
    let streamPeak = 0;
    s.on('message', (m: { streamPeak: number }) => (streamPeak = m.streamPeak));
    s.on('exit', (sc) => {
      const m = result!;
      console.log('targets:');
      console.log(`  indexed point lookup p50 < 1 ms: ${m.point.toFixed(3)} ms ${m.point < 1 ? 'OK' : 'MISSED'}`);
      console.log(`  100k full-scan filter < 200 ms (warm): ${m.scan.toFixed(1)} ms ${m.scan < 200 ? 'OK' : 'MISSED'}`);
      console.log(`  1M-row stream peak RSS < 200 MB: stream-only process ${mb(streamPeak)} ${streamPeak < 200 * 1048576 ? 'OK' : 'MISSED'}; with the 100k-doc bucket in the same process ${mb(m.peak)} (DocumentStore alone ${'>'}200 MB), RSS growth during that stream ${mb(m.growth)}`);
      process.exit(sc ?? 1);
    });
  });
}
