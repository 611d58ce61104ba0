// Views benchmark: index build over 100,000 beer-sample documents, an incremental update after
// 1,000 mutations, and a 100,000-row streamed view query (rows/s and peak RSS), for this build
// and, side by side in the same run, for a baseline build of the previous main (`--baseline=DIR`,
// default /work/base when it holds a build; `--baseline=` turns it off).
//
// Every measurement runs in a fresh child process, subjects alternating round by round, so one
// subject's heap or JIT state never helps or hurts the other, and the machine's drift over the
// run falls on both. The figures are per round; the ratios (this build / baseline, > 1 = this
// build is faster) are the median of the per-round ratios with their range. Build figures give
// wall time and the process's CPU time (every thread's: the sandbox threads of this build count).
// The index-build rate the views report themselves (designDocStatus().build) is printed for this
// build.
//
// Run: node dist/bench/views/index.js [docs] [--rounds=N] [--baseline=DIR] [--quick]
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = args.includes('--quick');
const DOCS = Number(args.find((a) => !a.startsWith('--')) ?? (QUICK ? 20_000 : 100_000));
const ROUNDS = Number(flag('rounds') ?? (QUICK ? 1 : 3));
const MUTATIONS = 1_000;
const THIS_BUILD = path.resolve(__dirname, '..', '..');
const DEFAULT_BASELINE = '/work/base/dist';

interface BuildResult {
  docs: number;
  buildMs: number;
  buildCpuMs: number;
  parseMs: number;
  /** The rate the views report for their last build, when the build reports one. */
  reportedRate: number | undefined;
  updateMs: number[];
}

interface QueryResult {
  rows: number;
  bytes: number;
  /** Median of QUERIES runs of the same query in the child (the first also compiles the query path). */
  queryMs: number;
  queryCpuMs: number;
  rssBefore: number;
  peak: number;
}

const QUERIES = 3;

// The modules of one build (this one or the baseline's), loaded from its dist directory; both
// builds have the same API for what is used here.
interface Build {
  DocumentStore: new (o: { name: string; numVBuckets: number }) => any;
  views: {
    putDesignDoc(store: unknown, name: string, body: unknown): unknown;
    waitForIndexes(store: unknown): Promise<void>;
    createViewsService(ctx: unknown): { handle(req: http.IncomingMessage, res: http.ServerResponse): void; close?(): void };
    designDocStatus?(store: unknown, name: string): { build?: { docsPerSecond: number } } | undefined;
  };
  samples: { beerSampleDocs(o: { scale: number }): Iterable<{ id: string; value: unknown }>; beerSampleDesignDocs: Record<string, unknown> };
}

function load(root: string): Build {
  return {
    DocumentStore: require(path.join(root, 'lib/server/store.js')).DocumentStore,
    views: require(path.join(root, 'lib/server/views/index.js')),
    samples: require(path.join(root, 'lib/server/samples/beer-sample.js')),
  };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function loadStore(b: Build): any {
  const store = new b.DocumentStore({ name: 'beer-sample', numVBuckets: 1024 });
  for (const { id, value } of b.samples.beerSampleDocs({ scale: DOCS / 7303 })) store.write(id, Buffer.from(JSON.stringify(value)), 'upsert');
  return store;
}

/** Child: builds the index, then five rounds of 1,000 mutations each followed by an update. */
async function buildChild(b: Build): Promise<BuildResult> {
  const store = loadStore(b);
  // The least any indexer must do: read every body as JSON.
  let t = process.hrtime.bigint();
  for (const doc of store.docs()) JSON.parse(doc.value.toString('utf8'));
  const parseMs = ms(t);

  const cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  b.views.putDesignDoc(store, 'beer', b.samples.beerSampleDesignDocs.beer);
  await b.views.waitForIndexes(store);
  const buildMs = ms(t);
  const used = process.cpuUsage(cpu);
  const reportedRate = b.views.designDocStatus?.(store, 'beer')?.build?.docsPerSecond;

  // Updates that move keys, new documents, deletes.
  const ids = [...store.docs()].map((d: { id: string }) => d.id);
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const updateMs: number[] = [];
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
    await b.views.waitForIndexes(store);
    updateMs.push(ms(t));
  }
  return { docs: store.size, buildMs, buildCpuMs: (used.user + used.system) / 1000, parseMs, reportedRate, updateMs };
}

/** Streams the 100k-row query once; rows are counted as they go by ({"id" starts each), never buffered: the RSS is the server's. */
function streamOnce(port: number): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/beer-sample/_design/beer/_view/brewery_beers', agent: false, auth: 'Administrator:password' }, (res) => {
        // The views API answers 401 without credentials: a query that counted no rows measured nothing.
        if (res.statusCode !== 200) return reject(new Error(`view query answered HTTP ${res.statusCode}`));
        let rows = 0;
        let bytes = 0;
        // The last bytes of a chunk, where a match could begin; shorter than a match, so none is counted twice.
        let carry = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          const buf = Buffer.concat([carry, chunk]);
          for (let i = buf.indexOf('{"id"'); i >= 0; i = buf.indexOf('{"id"', i + 1)) rows++;
          carry = buf.subarray(Math.max(0, buf.length - 4));
        });
        res.on('end', () => resolve({ rows, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Child: serves the views over HTTP and streams the 100k-row query to itself QUERIES times. */
async function queryChild(b: Build): Promise<QueryResult> {
  const store = loadStore(b);
  b.views.putDesignDoc(store, 'beer', b.samples.beerSampleDesignDocs.beer);
  await b.views.waitForIndexes(store);
  const handler = b.views.createViewsService({
    clock: { now: () => Date.now() },
    bucket: (n: string) => (n === store.name ? store : undefined),
    buckets: () => [store],
    // Every permission (the service asks `allows`; older builds read `buckets`).
    authenticate: () => ({ username: 'bench', buckets: '*', allows: () => true }),
    nodeIndex: 0,
  });
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const wall: number[] = [];
  const cpu: number[] = [];
  let rows = 0;
  let bytes = 0;
  for (let q = 0; q < QUERIES; q++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    ({ rows, bytes } = await streamOnce(port));
    wall.push(ms(t));
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  server.close();
  handler.close?.();
  return { rows, bytes, queryMs: median(wall), queryCpuMs: median(cpu), rssBefore, peak };
}

function runChild<T>(root: string, part: 'build' | 'query'): Promise<T> {
  const child = fork(__filename, [String(DOCS), `--child=${part}`, `--root=${root}`], { execArgv: ['--expose-gc'] });
  return new Promise<T>((resolve, reject) => {
    child.once('message', (msg) => resolve(msg as T));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`${part} child for ${root} exited with ${code}`)));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[], digits = 2): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
const mb = (n: number) => (n / 1048576).toFixed(0) + ' MB';

function describe(root: string): string {
  const dir = path.dirname(root);
  try {
    return execFileSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim().slice(0, 70);
  } catch {
    return dir;
  }
}

async function main(): Promise<void> {
  const child = flag('child');
  if (child) {
    const b = load(flag('root')!);
    process.send!(child === 'build' ? await buildChild(b) : await queryChild(b));
    return;
  }
  const baselineFlag = flag('baseline');
  const baseline = baselineFlag ?? (fs.existsSync(path.join(DEFAULT_BASELINE, 'lib/server/views/index.js')) ? DEFAULT_BASELINE : '');
  const subjects: Array<[string, string]> = [['this build', THIS_BUILD]];
  if (baseline) subjects.push(['baseline', path.resolve(baseline)]);
  console.log(`views bench: ${DOCS} beer-sample documents (${(DOCS / 7303).toFixed(1)}x scale), ${ROUNDS} round(s), each measurement in a fresh process`);
  for (const [name, root] of subjects) console.log(`  ${name}: ${root} (${describe(root)})`);
  if (!baseline) console.log('  no baseline build: pass --baseline=DIR (a dist directory of the previous main) for ratios');

  const builds = new Map<string, BuildResult[]>(subjects.map(([n]) => [n, []]));
  const queries = new Map<string, QueryResult[]>(subjects.map(([n]) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which subject goes first, so neither always runs on a machine the other warmed.
    const order = round % 2 === 0 ? subjects : [...subjects].reverse();
    for (const [name, root] of order) builds.get(name)!.push(await runChild<BuildResult>(root, 'build'));
    for (const [name, root] of order) queries.get(name)!.push(await runChild<QueryResult>(root, 'query'));
  }

  for (const [name] of subjects) {
    const b = builds.get(name)!;
    const q = queries.get(name)!;
    console.log(`\n${name}:`);
    console.log(
      `  index build (ddoc beer: brewery_beers + by_location): ${range(b.map((r) => r.buildMs), 0)} ms wall, ` +
        `${range(b.map((r) => (r.docs / r.buildMs) * 1000), 0)} docs/s (target >= 50,000); CPU ${range(b.map((r) => r.buildCpuMs), 0)} ms (all threads)`,
    );
    const reported = b.map((r) => r.reportedRate).filter((x): x is number => x !== undefined);
    if (reported.length > 0) console.log(`  index-build rate the views report (designDocStatus().build): ${range(reported, 0)} docs/s`);
    console.log(`  baseline JSON.parse of every body: ${range(b.map((r) => r.parseMs), 0)} ms; build/parse ratio ${range(b.map((r) => r.buildMs / r.parseMs))}x`);
    const upd = b.map((r) => median(r.updateMs));
    console.log(`  incremental update after ${MUTATIONS} mutations: median ${range(upd, 1)} ms (${((median(upd) * 1000) / MUTATIONS).toFixed(0)} us/mutation)`);
    console.log(
      `  streamed query (brewery_beers, ${q[0].rows} rows, ${mb(q[0].bytes)}, median of ${QUERIES} per process): ${range(q.map((r) => r.queryMs), 0)} ms, ` +
        `${range(q.map((r) => (r.rows / r.queryMs) * 1000), 0)} rows/s, CPU ${range(q.map((r) => r.queryCpuMs), 0)} ms; ` +
        `peak RSS +${mb(median(q.map((r) => r.peak - r.rssBefore)))} over ${mb(median(q.map((r) => r.rssBefore)))}`,
    );
  }

  if (subjects.length === 2) {
    const cur = builds.get('this build')!;
    const base = builds.get('baseline')!;
    const cq = queries.get('this build')!;
    const bq = queries.get('baseline')!;
    const ratio = (f: (i: number) => number) => range([...Array(ROUNDS).keys()].map(f));
    console.log('\nthis build / baseline, per round (> 1: this build is faster or leaner), median (range):');
    console.log(`  index build rate (wall):   ${ratio((i) => base[i].buildMs / cur[i].buildMs)}x`);
    console.log(`  index build CPU time:      ${ratio((i) => base[i].buildCpuMs / cur[i].buildCpuMs)}x`);
    console.log(`  incremental update:        ${ratio((i) => median(base[i].updateMs) / median(cur[i].updateMs))}x`);
    console.log(`  streamed query rows/s:     ${ratio((i) => bq[i].queryMs / cq[i].queryMs)}x`);
    console.log(`  streamed query CPU time:   ${ratio((i) => bq[i].queryCpuMs / cq[i].queryCpuMs)}x`);
    console.log(`  streamed query peak RSS:   ${ratio((i) => Math.max(1, bq[i].peak - bq[i].rssBefore) / Math.max(1, cq[i].peak - cq[i].rssBefore))}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
