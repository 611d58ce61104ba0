// Adapter benchmark: one embedded cluster (in its own thread), one run, side by side:
//   - get / upsert throughput (128 in flight) and sequential per-op latency for the bare engine,
//     the deferred flavour and the promise flavour;
//   - blocking get latency, and its overhead over the engine's own latency measured inside
//     the worker for the same calls;
//   - a blocking iteration of 1,000,000 N1QL rows in a child process, with its peak RSS.
// Usage: node dist/bench/adapters/index.js [--quick] [--kv-only]  (--kv-only skips the 1M-row iteration)
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine } from '../../lib/engine';
import { Bucket as DeferredBucket } from '../../adapters/deferred';
import { Bucket as PromiseBucket } from '../../adapters/promise';
import { Bucket as BlockingBucket, startEmbedded } from '../../adapters/blocking';

const QUICK = process.argv.includes('--quick');
const KV_ONLY = process.argv.includes('--kv-only');
const THROUGHPUT_OPS = QUICK ? 10_000 : 20_000;
const LATENCY_OPS = QUICK ? 2_000 : 8_000;
const IN_FLIGHT = 128;
const ROWS = QUICK ? 200_000 : 1_000_000;
const CREDS = { username: 'Administrator', password: 'password' };
const VALUE = { name: 'bench', n: 42, tags: ['a', 'b', 'c'] };

/** One operation in the flavour's own idiom, reporting completion through `done`. */
type Op = (key: string, done: (err?: unknown) => void) => void;

interface Subject {
  name: string;
  get: Op;
  upsert: Op;
}

// A full collection before each measurement, so no subject pays for the garbage the one before it left.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const now = (): number => Number(process.hrtime.bigint()) / 1e3; // microseconds

function throughput(op: Op, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let completed = 0;
    const t0 = now();
    const next = (err?: unknown): void => {
      if (err) return reject(err);
      if (issued < total) {
        const i = issued++;
        op(`k${i % 1000}`, onDone);
      }
    };
    const onDone = (err?: unknown): void => {
      if (err) return reject(err);
      if (++completed === total) resolve(total / ((now() - t0) / 1e6));
      else next();
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });
}

function latency(op: Op, total: number): Promise<{ p50: number; p99: number; mean: number }> {
  const samples = new Float64Array(total);
  return new Promise((resolve, reject) => {
    let i = 0;
    let t = 0;
    const step = (err?: unknown): void => {
      if (err) return reject(err);
      if (i > 0) samples[i - 1] = now() - t;
      if (i === total) return resolve(summarize(samples));
      t = now();
      op(`k${i++ % 1000}`, step);
    };
    step();
  });
}

function summarize(samples: Float64Array): { p50: number; p99: number; mean: number } {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return { p50: sorted[Math.floor(sorted.length * 0.5)], p99: sorted[Math.floor(sorted.length * 0.99)], mean: sum / sorted.length };
}

const fmt = (n: number, d = 1): string => n.toFixed(d).padStart(9);

async function main(): Promise<void> {
  console.log(`adapters bench${QUICK ? ' (quick)' : ''}: starting an embedded cluster in its own thread`);
  const cluster = startEmbedded({ buckets: [{ name: 'bench' }] });
  const connstr = cluster.bucketConnstr('bench');
  try {
    const engine = new Engine(connstr, CREDS);
    await new Promise<void>((res, rej) => engine.connect((err) => (err ? rej(err) : res())));
    // A second bare engine with its own connections, like each flavour has: its ratio to the
    // first is the noise floor of this run (machine load, connection placement).
    const control = new Engine(connstr, CREDS);
    await new Promise<void>((res, rej) => control.connect((err) => (err ? rej(err) : res())));
    const deferred = new DeferredBucket(connstr, CREDS);
    await deferred.connect();
    const promise = new PromiseBucket(connstr, CREDS);
    await promise.connect();

    const subjects: Subject[] = [
      {
        name: 'engine',
        get: (k, done) => engine.kv('get', k, null, (e) => done(e ?? undefined)),
        upsert: (k, done) => engine.kv('upsert', k, { value: VALUE }, (e) => done(e ?? undefined)),
      },
      {
        name: 'engine #2',
        get: (k, done) => control.kv('get', k, null, (e) => done(e ?? undefined)),
        upsert: (k, done) => control.kv('upsert', k, { value: VALUE }, (e) => done(e ?? undefined)),
      },
      {
        name: 'deferred',
        get: (k, done) => void deferred.get(k).addCallbacks(() => done(), (f) => done(f)),
        upsert: (k, done) => void deferred.upsert(k, VALUE).addCallbacks(() => done(), (f) => done(f)),
      },
      {
        name: 'promise',
        get: (k, done) => void promise.get(k).then(() => done(), done),
        upsert: (k, done) => void promise.upsert(k, VALUE).then(() => done(), done),
      },
    ];
    // Same warm-up for every subject (and the documents every get reads exist).
    for (const s of subjects) {
      await throughput(s.upsert, 5000);
      await throughput(s.get, 5000);
      await latency(s.get, 500);
    }

    // Rounds interleave the subjects, and the order rotates each round, so drifting machine
    // load and heap state hit them alike; every measurement starts after a full GC.
    const results = new Map<string, { get: number[]; upsert: number[]; lat: { p50: number; p99: number; mean: number }[] }>();
    for (const s of subjects) results.set(s.name, { get: [], upsert: [], lat: [] });
    const rounds = QUICK ? 3 : 5;
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < subjects.length; j++) {
        const s = subjects[(r + j) % subjects.length];
        const res = results.get(s.name)!;
        if (process.env.BENCH_TRACE) console.log(`  round ${r + 1}: ${s.name}`);
        collect();
        res.upsert.push(await throughput(s.upsert, THROUGHPUT_OPS));
        collect();
        res.get.push(await throughput(s.get, THROUGHPUT_OPS));
        collect();
        res.lat.push(await latency(s.get, Math.floor(LATENCY_OPS / rounds)));
      }
    }
    const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const base = results.get('engine')!;
    console.log(`\nthroughput, ${IN_FLIGHT} in flight (ops/s; median of ${rounds} rounds; 'vs eng' is the median of the per-round ratios) and sequential get latency (us)`);
    console.log('  subject       upsert/s   vs eng      get/s   vs eng    get p50    get p99');
    for (const s of subjects) {
      const r = results.get(s.name)!;
      const up = median(r.upsert);
      const gt = median(r.get);
      // Ratios within a round (the subjects ran back to back) are steadier than ratios of medians.
      const upRatio = median(r.upsert.map((v, i) => v / base.upsert[i]));
      const getRatio = median(r.get.map((v, i) => v / base.get[i]));
      const p50 = median(r.lat.map((l) => l.p50));
      const p99 = median(r.lat.map((l) => l.p99));
      console.log(
        `  ${s.name.padEnd(10)} ${fmt(up, 0)} ${fmt(upRatio, 2)}x ${fmt(gt, 0)} ${fmt(getRatio, 2)}x ${fmt(p50)} ${fmt(p99)}`,
      );
    }

    // Blocking: sequential by nature. Its overhead is its latency minus the engine time the
    // worker itself measured for the same calls.
    const blocking = new BlockingBucket(connstr, CREDS);
    try {
      for (let i = 0; i < 500; i++) blocking.get(`k${i % 1000}`);
      blocking.engineTime();
      const samples = new Float64Array(LATENCY_OPS);
      for (let i = 0; i < LATENCY_OPS; i++) {
        const t = now();
        blocking.get(`k${i % 1000}`);
        samples[i] = now() - t;
      }
      const eng = blocking.engineTime();
      const bl = summarize(samples);
      const engineMean = eng.ns / eng.calls / 1e3;
      const rt = new Float64Array(LATENCY_OPS);
      for (let i = 0; i < LATENCY_OPS; i++) {
        const t = now();
        blocking.invoke('streamState', [0]);
        rt[i] = now() - t;
      }
      const bare = summarize(rt);
      const engLat = median(base.lat.map((l) => l.mean));
      console.log('\nblocking get (us)');
      console.log(`  blocking get: mean ${bl.mean.toFixed(1)}, p50 ${bl.p50.toFixed(1)}, p99 ${bl.p99.toFixed(1)}  (${(1e6 / bl.mean).toFixed(0)} ops/s)`);
      console.log(`  engine time inside the worker for the same gets: mean ${engineMean.toFixed(1)}`);
      console.log(`  => blocking overhead over the engine's own latency: ${(bl.mean - engineMean).toFixed(1)} us per get`);
      console.log(`  channel round trip alone (no engine): mean ${bare.mean.toFixed(1)}, p50 ${bare.p50.toFixed(1)}, p99 ${bare.p99.toFixed(1)}`);
      console.log(`  bare engine sequential get on the main thread: mean ${engLat.toFixed(1)} (blocking / engine = ${(bl.mean / engLat).toFixed(2)}x)`);
    } finally {
      blocking.close();
    }
    deferred.close();
    await promise.close();
    await new Promise<void>((res) => engine.close(() => res()));
    await new Promise<void>((res) => control.close(() => res()));

    // 1M rows through the blocking iterator, in a child process so its RSS is the client's alone.
    if (KV_ONLY) return;
    const script = `
      const { Bucket, N1QLQuery } = require(${JSON.stringify(require.resolve('../../adapters/blocking'))});
      const b = new Bucket(${JSON.stringify(connstr)}, ${JSON.stringify(CREDS)});
      const rss0 = process.memoryUsage().rss;
      const t0 = Date.now();
      let n = 0, sum = 0;
      for (const row of b.n1qlQuery(new N1QLQuery('SELECT RAW i FROM ARRAY_RANGE(0, ${ROWS}) AS i'))) { n++; sum += row; }
      const ms = Date.now() - t0;
      b.close();
      console.log(JSON.stringify({ n, sum, ms, rss0, maxRss: process.resourceUsage().maxRSS * 1024 }));
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 600_000 });
    if (child.status !== 0) {
      console.log(`\nblocking 1M-row iteration failed: ${child.stderr.slice(0, 2000)}`);
    } else {
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { n: number; ms: number; rss0: number; maxRss: number };
      console.log(`\nblocking iteration of ${r.n.toLocaleString()} N1QL rows (child process)`);
      console.log(`  ${r.ms} ms (${Math.round(r.n / (r.ms / 1000)).toLocaleString()} rows/s), RSS after connect ${(r.rss0 / 2 ** 20).toFixed(0)} MB, peak RSS ${(r.maxRss / 2 ** 20).toFixed(0)} MB`);
    }
  } finally {
    cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
