// Adapter benchmark: one embedded cluster (in its own thread), one run, side by side:
//   - get / upsert throughput (128 in flight) and sequential per-op latency for the bare engine,
//     a second bare engine (the run's noise floor), the deferred flavour and the promise flavour.
//     Each subject runs in a process of its own (kept for a generation of rounds, then replaced),
//     against the same cluster, and the subjects take turns burst by burst (order rotating): a
//     process that mixes subjects puts V8's young generation into a state (about 5 MB promoted
//     per scavenge, 6-12 ms scavenges) that slows whichever subject runs after the switch, the
//     bare engine included. `--same-process` measures that way too. During this phase the
//     cluster's process and the subjects' processes each keep to a CPU of their own
//     (placement.ts), as a client and a server on two machines would.
//   - blocking get latency, and its overhead over the engine's own latency measured on the
//     engine's thread for the same calls (call by call), with the engine on the embedded
//     cluster's thread and in a worker of its own, on the fresh cluster and again after the
//     throughput phase;
//   - a blocking iteration of 1,000,000 N1QL rows in a child process, with its peak RSS.
// Usage: node dist/bench/adapters/index.js [--quick] [--kv-only] [--same-process] [--connstr URL] [--base=DIR]
//        (--kv-only skips the 1M-row iteration; --base=DIR adds the engine, deferred, promise and
//        blocking (own worker) of the build in DIR (a checkout of the previous main, built) as
//        subjects of the same run, and prints each one's ratio of this build to it; --connstr targets a cluster in another process,
//        e.g. `deferbase serve -p 0 -b bench`, instead of starting one in a thread;
//        BENCH_OPS=N sets the operations per throughput burst, 10,000 by default;
//        BENCH_BLOCKING_WARMUP=N the warm-up gets per blocking layout, 60,000 by default;
//        BENCH_TRACE=1 prints each round's get throughputs;
//        BENCH_PIN=0 leaves the throughput phase's CPUs to the scheduler)
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine } from '../../lib/engine';
import { Bucket as DeferredBucket } from '../../adapters/deferred';
import { Bucket as PromiseBucket } from '../../adapters/promise';
import { Bucket as BlockingBucket, startEmbedded } from '../../adapters/blocking';
import { throughputPlacement, type Placement } from './placement';

const QUICK = process.argv.includes('--quick');
const KV_ONLY = process.argv.includes('--kv-only');
const SAME_PROCESS = process.argv.includes('--same-process');
/** A built checkout of the previous main whose flavours run beside this build's (--base=DIR). */
const BASE = process.argv.find((a) => a.startsWith('--base='))?.slice('--base='.length) || undefined;
const THROUGHPUT_OPS = Number(process.env.BENCH_OPS) || 10_000;
/**
 * Generations of subject processes, and rounds per generation. A round runs one burst per
 * subject and operation, back to back, so each per-round ratio compares bursts taken a moment
 * apart: 70 such pairs per operation, against 11 rounds of fresh processes before, each paying a
 * process start and a warm-up.
 */
const GENERATIONS = 5;
const ROUNDS_PER_GENERATION = 14;
/** Bursts per operation and round with --same-process (their median is the round's figure), and its rounds. */
const BURSTS = QUICK ? 3 : 5;
const SAME_PROCESS_ROUNDS = QUICK ? 3 : 11;
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

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;
// A full GC before each measurement, only where subjects share a process: there it keeps one
// subject's garbage off the next one's bill. A fresh process has none, and a forced GC would shrink V8's young generation to
// its minimum, so a 10,000-op burst would run in the heap's warm-up regime (many small
// scavenges promoting the in-flight operations), which penalises per-call allocation far more
// than a running application sees: deferred/promise measured 0.82x that way, 0.93-0.99x without.
let forceGc = false;
const collect = (): void => {
  if (forceGc) fullGc();
};

const now = (): number => Number(process.hrtime.bigint()) / 1e3; // microseconds
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const quantile = (a: number[], q: number): number => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))];

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

/** `n`: samples; `slow`: how many took TAIL_US or more; `slowMean`: what they add to the mean. */
type Lat = { n: number; p50: number; p99: number; mean: number; slow: number; slowMean: number };

/** Where a blocking call counts as stalled (a scheduler event, not the channel's work; see blockingReport). */
const TAIL_US = 300;

function latency(op: Op, total: number): Promise<Lat> {
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

function summarize(samples: Float64Array): Lat {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  let slow = 0;
  let slowSum = 0;
  for (const s of sorted) {
    sum += s;
    if (s >= TAIL_US) {
      slow++;
      slowSum += s;
    }
  }
  const n = sorted.length;
  return { n, p50: sorted[Math.floor(n * 0.5)], p99: sorted[Math.floor(n * 0.99)], mean: sum / n, slow, slowMean: slowSum / n };
}

const fmt = (n: number, d = 1): string => n.toFixed(d).padStart(9);

/** Throughputs (ops/s, median of the bursts), the client process's CPU per get over its get bursts (us, all threads), latency. */
type Measured = { upsert: number; get: number; getCpu: number; lat: Lat };

const OWN_SUBJECTS = ['engine', 'engine #2', 'deferred', 'promise'] as const;
/** This build's subjects, then (with --base) the previous main's, named `base <subject>`. */
const SUBJECT_NAMES: readonly string[] = BASE ? [...OWN_SUBJECTS, 'base engine', 'base deferred', 'base promise'] : OWN_SUBJECTS;
type SubjectName = string;

/** This build's clients, or (for a `base ...` subject) the previous main's from BASE. */
function clients(name: SubjectName): { Engine: typeof Engine; DeferredBucket: typeof DeferredBucket; PromiseBucket: typeof PromiseBucket; BlockingBucket: typeof BlockingBucket } {
  if (!name.startsWith('base ')) return { Engine, DeferredBucket, PromiseBucket, BlockingBucket };
  const dist = path.resolve(BASE!, 'dist');
  return {
    Engine: (require(path.join(dist, 'lib/engine')) as { Engine: typeof Engine }).Engine,
    DeferredBucket: (require(path.join(dist, 'adapters/deferred')) as { Bucket: typeof DeferredBucket }).Bucket,
    PromiseBucket: (require(path.join(dist, 'adapters/promise')) as { Bucket: typeof PromiseBucket }).Bucket,
    BlockingBucket: (require(path.join(dist, 'adapters/blocking')) as { Bucket: typeof BlockingBucket }).Bucket,
  };
}

/** Connects one subject's client(s); `engine #2` is a second, separate bare engine (the noise floor). */
async function openSubject(name: SubjectName, connstr: string): Promise<{ subject: Subject; close(): Promise<void> }> {
  const { Engine, DeferredBucket, PromiseBucket } = clients(name);
  const kind = name.replace(/^base /, '');
  if (kind === 'engine' || kind === 'engine #2') {
    const engine = new Engine(connstr, CREDS);
    await new Promise<void>((res, rej) => engine.connect((err) => (err ? rej(err) : res())));
    return {
      subject: {
        name,
        get: (k, done) => engine.kv('get', k, null, (e) => done(e ?? undefined)),
        upsert: (k, done) => engine.kv('upsert', k, { value: VALUE }, (e) => done(e ?? undefined)),
      },
      close: () => new Promise<void>((res) => engine.close(() => res())),
    };
  }
  if (kind === 'deferred') {
    const deferred = new DeferredBucket(connstr, CREDS);
    await deferred.connect();
    return {
      subject: {
        name,
        get: (k, done) => void deferred.get(k).addCallbacks(() => done(), (f) => done(f)),
        upsert: (k, done) => void deferred.upsert(k, VALUE).addCallbacks(() => done(), (f) => done(f)),
      },
      close: async () => void deferred.close(),
    };
  }
  const promise = new PromiseBucket(connstr, CREDS);
  await promise.connect();
  return {
    subject: {
      name,
      get: (k, done) => void promise.get(k).then(() => done(), done),
      upsert: (k, done) => void promise.upsert(k, VALUE).then(() => done(), done),
    },
    close: () => promise.close(),
  };
}

async function warmUp(s: Subject): Promise<void> {
  // The first burst after 5,000 of each still ran 10-20% below the later ones (code not yet
  // optimized), in every subject; one process's successive 20,000-op get bursts read 105k,
  // 135k, 154k, then about 200k ops/s.
  for (let i = 0; i < 3; i++) {
    await throughput(s.upsert, 10_000);
    await throughput(s.get, 10_000);
  }
  await latency(s.get, 500);
}

async function measure(s: Subject, latencyOps: number): Promise<Measured> {
  const upserts: number[] = [];
  const gets: number[] = [];
  let getCpuUs = 0;
  for (let b = 0; b < BURSTS; b++) {
    collect();
    upserts.push(await throughput(s.upsert, THROUGHPUT_OPS));
    collect();
    const cpu0 = process.cpuUsage();
    gets.push(await throughput(s.get, THROUGHPUT_OPS));
    const cpu = process.cpuUsage(cpu0);
    getCpuUs += cpu.user + cpu.system;
  }
  collect();
  const lat = await latency(s.get, latencyOps);
  return { upsert: median(upserts), get: median(gets), getCpu: getCpuUs / (BURSTS * THROUGHPUT_OPS), lat };
}

/** What the parent asks a subject's process to do; each request gets one reply (see child()). */
type ChildRequest = { burst: 'upsert' | 'get' } | { latency: number } | { warmUp: true } | { close: true };
/** One throughput burst in a subject's process: ops/s and the process's CPU per operation (us, all threads). */
type Burst = { ops: number; cpu: number };

/**
 * Child mode: one subject in a process of its own, kept for a generation of rounds. It connects,
 * then answers the parent's requests one at a time over IPC: a warm-up, a throughput burst, a
 * latency run. Between requests it is idle, so the subject whose turn it is has the CPUs alone.
 */
async function child(name: SubjectName, connstr: string): Promise<void> {
  const { subject, close } = await openSubject(name, connstr);
  const send = (m: unknown): void => void process.send!(m);
  process.on('message', (req: ChildRequest) => {
    void (async () => {
      if ('warmUp' in req) {
        await warmUp(subject);
        send('warm');
      } else if ('burst' in req) {
        const cpu0 = process.cpuUsage();
        const ops = await throughput(subject[req.burst], THROUGHPUT_OPS);
        const cpu = process.cpuUsage(cpu0);
        send({ ops, cpu: (cpu.user + cpu.system) / THROUGHPUT_OPS } satisfies Burst);
      } else if ('latency' in req) send(await latency(subject.get, req.latency));
      else {
        await close();
        process.disconnect();
      }
    })().catch((err: Error) => {
      console.error(err);
      process.exit(1);
    });
  });
  send('connected');
}

/** A subject's process, seen from the parent: one request at a time, one reply each. */
class SubjectProcess {
  private readonly proc: ChildProcess;
  private failure: Error | null = null;
  private waiting: { resolve(v: unknown): void; reject(e: Error): void } | null = null;
  private stderr = '';

  constructor(
    readonly name: SubjectName,
    connstr: string,
    placement: Placement | null,
  ) {
    this.proc = fork(__filename, ['--subject', name, '--connstr', connstr, ...(BASE ? [`--base=${BASE}`] : [])], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], ...placement?.subjectFork });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.proc.on('message', (m) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(m);
    });
    this.proc.on('exit', (code, signal) => {
      this.failure = new Error(`subject ${name} exited (${signal ?? `code ${code}`}): ${this.stderr.slice(-2000)}`);
      this.waiting?.reject(this.failure);
      this.waiting = null;
    });
  }

  /** Resolves with the child's first message ('connected'). */
  connected(): Promise<unknown> {
    return this.next();
  }

  ask<T>(req: ChildRequest): Promise<T> {
    const reply = this.next() as Promise<T>;
    this.proc.send(req);
    return reply;
  }

  private next(): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  close(): Promise<void> {
    return new Promise((res) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return res();
      this.proc.once('exit', () => res());
      this.proc.send({ close: true } satisfies ChildRequest);
    });
  }
}

/** One round: a burst of each operation from every subject, back to back (so each ratio pairs bursts run a moment apart), then each subject's latency. */
type Round = Map<SubjectName, { upsert: Burst; get: Burst; lat: Lat }>;

/**
 * Throughput rounds over GENERATIONS generations of subject processes. Each generation forks a
 * process per subject and warms each one up in turn, then runs ROUNDS_PER_GENERATION rounds; the
 * order of the subjects rotates from round to round. New processes per generation keep one
 * process's luck (JIT, heap layout) from deciding a subject's figure.
 */
async function throughputRounds(connstr: string, placement: Placement | null, generations: number, roundsPerGeneration: number, latencyOps: number): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let g = 0; g < generations; g++) {
    const procs = SUBJECT_NAMES.map((n) => new SubjectProcess(n, connstr, placement));
    try {
      await Promise.all(procs.map((p) => p.connected()));
      for (const p of procs) await p.ask({ warmUp: true });
      for (let r = 0; r < roundsPerGeneration; r++) {
        const order = SUBJECT_NAMES.map((_, j) => procs[(r + j) % procs.length]);
        const ups = new Map<SubjectName, Burst>();
        const gets = new Map<SubjectName, Burst>();
        const lats = new Map<SubjectName, Lat>();
        for (const p of order) ups.set(p.name, await p.ask<Burst>({ burst: 'upsert' }));
        for (const p of order) gets.set(p.name, await p.ask<Burst>({ burst: 'get' }));
        for (const p of order) lats.set(p.name, await p.ask<Lat>({ latency: latencyOps }));
        rounds.push(new Map(SUBJECT_NAMES.map((n) => [n, { upsert: ups.get(n)!, get: gets.get(n)!, lat: lats.get(n)! }])));
        if (process.env.BENCH_TRACE) console.log(`  generation ${g + 1}, round ${r + 1}: get ${SUBJECT_NAMES.map((n) => Math.round(gets.get(n)!.ops)).join(' / ')}`);
      }
    } finally {
      await Promise.all(procs.map((p) => p.close()));
    }
  }
  return rounds;
}

type BlockingLayout = { name: string; total: Lat; engine: Lat; overhead: Lat; channel: Lat };

const BLOCK = 500;
/**
 * Gets per blocking layout before its measured blocks, made in blocks of the measured pattern
 * (blockingBlock), alternating between the layouts as the measured blocks do. A warm-up of plain
 * gets is not enough: the engineTime() call that collects a block's engine times takes other
 * paths through the codec and the worker's handler than a get does, so its first use after such
 * a warm-up deoptimized them, and the measured blocks paid for slow code and for TurboFan
 * recompiling it on V8's helper threads, which take a CPU from the two threads a blocking call
 * keeps busy. With the engine in its own worker and --trace-opt, after 30,000 plain gets: 11
 * compiles (81-99 ms) during 16 measured blocks, mean overhead 21.0-25.8 us; after 30,000 gets in
 * the measured pattern: no compile, no deopt, 8.4-8.5 us. 60,000 rather than 30,000 so that the
 * threads' first mark-compact (a 3.5-6 ms pause and 6-11 ms of incremental steps on the cluster's
 * thread, at about 10 MB of heap) also comes before the measured blocks: with 30,000 it fell in
 * them in 4 of 5 runs traced with --trace-gc, with 60,000 in the warm-up in 2 of 2.
 */
const BLOCKING_WARMUP = QUICK ? 10_000 : Number(process.env.BENCH_BLOCKING_WARMUP) || 60_000;
/** Gets that settle a layout after the other one's turn, before a block's timed gets. */
const SETTLE = 50;
const WARMUP_BLOCKS = Math.ceil(BLOCKING_WARMUP / (SETTLE + BLOCK));
/** Blocks of BLOCK calls per blocking layout and phase. */
const BLOCKS = Math.max(1, Math.floor(LATENCY_OPS / BLOCK));

/**
 * One block of blocking gets on `bucket`: SETTLE gets, then BLOCK timed ones; each timed call's
 * latency and the engine time the worker recorded for it (us).
 */
function blockingBlock(bucket: BlockingBucket, r: number): { samples: Float64Array; engine: Float64Array } {
  for (let i = 0; i < SETTLE; i++) bucket.get(`k${i}`);
  bucket.engineTime();
  const samples = new Float64Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const t = now();
    bucket.get(`k${(r * BLOCK + i) % 1000}`);
    samples[i] = now() - t;
  }
  const engine = bucket.engineTime().samples.map((ns) => ns / 1e3);
  return { samples, engine };
}

/**
 * Blocking gets, sequential by nature. The overhead is a call's latency minus the engine time
 * measured on the engine's own thread for that same call. Two layouts, alternating in blocks of
 * BLOCK calls so drifting machine load hits both alike: the engine on the embedded cluster's
 * thread (what a bucket on a startEmbedded() cluster gets; not for an external cluster) and the
 * engine in a worker of its own (what a bucket on any other cluster gets).
 */
function measureBlocking(connstr: string, external: boolean): BlockingLayout[] {
  const layouts: Array<{ name: string; bucket: BlockingBucket }> = [];
  try {
    if (!external) layouts.push({ name: "engine on the cluster's thread", bucket: new BlockingBucket(connstr, { ...CREDS, engineThread: 'cluster' }) });
    layouts.push({ name: 'engine in its own worker', bucket: new BlockingBucket(connstr, { ...CREDS, engineThread: 'own' }) });
    // The previous main's blocking flavour cannot share this build's cluster thread: its own worker only.
    if (BASE) layouts.push({ name: 'previous main (--base), engine in its own worker', bucket: new (clients('base blocking').BlockingBucket)(connstr, { ...CREDS, engineThread: 'own' }) });
    const perLayout = layouts.map(() => ({ total: [] as number[], engine: [] as number[], overhead: [] as number[], channel: [] as number[] }));
    for (const { bucket } of layouts) bucket.timeEngine();
    // The warm-up blocks, then the measured ones: the same calls, only the latter kept.
    for (let r = 0; r < WARMUP_BLOCKS + BLOCKS; r++) {
      for (let j = 0; j < layouts.length; j++) {
        const li = (r + j) % layouts.length;
        const { samples, engine } = blockingBlock(layouts[li].bucket, r);
        if (r < WARMUP_BLOCKS) continue;
        const out = perLayout[li];
        for (let i = 0; i < BLOCK; i++) {
          out.total.push(samples[i]);
          out.engine.push(engine[i]);
          out.overhead.push(samples[i] - engine[i]);
        }
      }
    }
    // Measured apart from the gets: answers this quick would skew what the spin learned.
    layouts.forEach(({ bucket }, li) => {
      for (let i = 0; i < 2000; i++) {
        const t = now();
        bucket.invoke('streamState', [0]);
        perLayout[li].channel.push(now() - t);
      }
    });
    return layouts.map(({ name }, i) => ({
      name,
      total: summarize(Float64Array.from(perLayout[i].total)),
      engine: summarize(Float64Array.from(perLayout[i].engine)),
      overhead: summarize(Float64Array.from(perLayout[i].overhead)),
      channel: summarize(Float64Array.from(perLayout[i].channel)),
    }));
  } finally {
    for (const { bucket } of layouts) bucket.close();
  }
}

function blockingReport(when: string, layouts: BlockingLayout[], engLat: number): string {
  const f = (l: Lat): string => `p50 ${l.p50.toFixed(1)}, mean ${l.mean.toFixed(1)}, p99 ${l.p99.toFixed(1)}`;
  const lines = [`\nblocking get, ${when} (us; ${BLOCKS} blocks of ${BLOCK} calls per layout, alternating)`];
  for (const l of layouts) {
    lines.push(`  ${l.name}:`);
    lines.push(`    blocking get: ${f(l.total)}  (${(1e6 / l.total.mean).toFixed(0)} ops/s)`);
    lines.push(`    engine time on the engine's thread, same calls: ${f(l.engine)}`);
    lines.push(`    => blocking overhead over the engine's own latency, call by call: ${f(l.overhead)}`);
    // What stalls add to the mean: a blocking call keeps two threads busy, so on a two-vCPU VM any
    // other thread that runs (V8's helpers, the kernel's) takes a CPU from it, often for a millisecond.
    const o = l.overhead;
    lines.push(`       calls ${TAIL_US} us or more over: ${o.slow} of ${o.n} (${((100 * o.slow) / o.n).toFixed(2)}%), adding ${o.slowMean.toFixed(1)} us to the mean`);
    lines.push(`    channel round trip alone (no engine): ${f(l.channel)}`);
    lines.push(`    blocking / bare engine sequential get (own process, mean ${engLat.toFixed(1)}): ${(l.total.mean / engLat).toFixed(2)}x`);
  }
  return lines.join('\n');
}


/** Prints one table; returns each subject's median per-round [upsert, get] ratio to the engine. */
function report(title: string, names: readonly string[], results: Map<string, Measured[]>, rounds: string): Map<string, [number, number]> {
  const ratios = new Map<string, [number, number]>();
  const base = results.get('engine')!;
  console.log(`\n${title}`);
  console.log(`throughput, ${IN_FLIGHT} in flight (ops/s; median of ${rounds}; 'vs eng' is the median of the per-round ratios), the client's CPU per get (us, its process), and sequential get latency (us)`);
  const head = ['upsert/s', 'vs eng', 'get/s', 'vs eng', 'cpu/get', 'vs eng', 'get p50', 'get p99'];
  const widths = [9, 10, 9, 10, 9, 10, 9, 9];
  console.log(`  ${'subject'.padEnd(10)} ${head.map((h, i) => h.padStart(widths[i])).join(' ')}`);
  for (const name of names) {
    const r = results.get(name)!;
    // Ratios within a round (the subjects ran back to back) are steadier than ratios of medians.
    const upRatio = median(r.map((m, i) => m.upsert / base[i].upsert));
    const getRatio = median(r.map((m, i) => m.get / base[i].get));
    // CPU per operation varies far less from process to process than ops/s does.
    const cpuRatio = median(r.map((m, i) => m.getCpu / base[i].getCpu));
    ratios.set(name, [upRatio, getRatio]);
    console.log(
      `  ${name.padEnd(10)} ${fmt(median(r.map((m) => m.upsert)), 0)} ${fmt(upRatio, 2)}x ${fmt(median(r.map((m) => m.get)), 0)} ${fmt(getRatio, 2)}x ${fmt(median(r.map((m) => m.getCpu)), 2)} ${fmt(cpuRatio, 2)}x ${fmt(median(r.map((m) => m.lat.p50)))} ${fmt(median(r.map((m) => m.lat.p99)))}`,
    );
  }
  // How far single rounds stray: the spread of the control subject is this run's noise.
  console.log(`  per-round ratios to the engine, 25th-75th percentile (min-max):`);
  for (const name of names.filter((n) => n !== 'engine')) {
    const r = results.get(name)!;
    const spread = (xs: number[]): string =>
      `${quantile(xs, 0.25).toFixed(2)}-${quantile(xs, 0.75).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    console.log(`    ${name.padEnd(10)} upsert ${spread(r.map((m, i) => m.upsert / base[i].upsert))}, get ${spread(r.map((m, i) => m.get / base[i].get))}`);
  }
  return ratios;
}

/**
 * This build against the previous main (--base), subject by subject: the median of the per-round
 * ratios (each pairs bursts run a moment apart) with their spread, and the client CPU per get.
 */
function baseReport(results: Map<string, Measured[]>): void {
  console.log(`\nthis build / previous main (${BASE}), per-round ratios: median, 25th-75th percentile (min-max)`);
  const spread = (xs: number[]): string => `${median(xs).toFixed(3)}x  ${quantile(xs, 0.25).toFixed(2)}-${quantile(xs, 0.75).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
  for (const name of ['engine', 'deferred', 'promise']) {
    const ours = results.get(name)!;
    const base = results.get(`base ${name}`)!;
    console.log(`  ${name.padEnd(9)} upsert ${spread(ours.map((m, i) => m.upsert / base[i].upsert))}   get ${spread(ours.map((m, i) => m.get / base[i].get))}   cpu/get ${spread(ours.map((m, i) => m.getCpu / base[i].getCpu))}`);
  }
  const control = results.get('engine #2')!;
  const eng = results.get('engine')!;
  console.log(`  (noise: engine #2 / engine, same build: get ${spread(control.map((m, i) => m.get / eng[i].get))})`);
}

/** Issue 8's targets, checked against this run's figures. */
class Targets {
  private readonly lines: string[] = [];

  check(what: string, value: string, ok: boolean): void {
    this.lines.push(`  ${ok ? 'met    ' : 'NOT met'}  ${what}: ${value}`);
  }

  print(): void {
    console.log('\ntargets, in this run');
    for (const l of this.lines) console.log(l);
  }
}

async function main(): Promise<void> {
  const external = process.argv.indexOf('--connstr');
  let cluster: { stop(): void; bucketConnstr(b: string): string };
  if (external > 0) {
    // A cluster in another process, e.g. `deferbase serve -p 0 -b bench` (bucket "bench").
    const target = process.argv[external + 1];
    console.log(`adapters bench${QUICK ? ' (quick)' : ''}: against ${target}`);
    cluster = { stop() {}, bucketConnstr: () => target };
  } else {
    console.log(`adapters bench${QUICK ? ' (quick)' : ''}: starting an embedded cluster in its own thread`);
    cluster = startEmbedded({ buckets: [{ name: 'bench' }] });
  }
  const connstr = cluster.bucketConnstr('bench');
  const targets = new Targets();
  try {
    // The documents every get reads.
    {
      const { subject, close } = await openSubject('engine', connstr);
      await throughput(subject.upsert, 1000);
      await close();
    }
    // Blocking first, on the fresh cluster; again after the throughput phase (both printed below).
    const blockingBefore = measureBlocking(connstr, external > 0);
    const generations = QUICK ? 1 : GENERATIONS;
    const perGeneration = QUICK ? 4 : ROUNDS_PER_GENERATION;
    const latencyOps = Math.max(100, Math.floor(LATENCY_OPS / (generations * perGeneration)));
    const where = throughputPlacement(external > 0);
    const placement = 'none' in where ? null : where;
    const placed = 'none' in where ? `not pinned to CPUs (${where.none})` : where.description;
    placement?.pinCluster();
    let rounds: Round[];
    try {
      rounds = await throughputRounds(connstr, placement, generations, perGeneration, latencyOps);
    } finally {
      placement?.release();
    }
    const results = new Map<string, Measured[]>(
      SUBJECT_NAMES.map((n) => [n, rounds.map((r) => { const m = r.get(n)!; return { upsert: m.upsert.ops, get: m.get.ops, getCpu: m.get.cpu, lat: m.lat }; })]),
    );
    const ratios = report(
      `each subject in a process of its own, ${generations} generation(s) of processes, one cluster${external > 0 ? ' in another process' : ' in a thread of this one'}; ${placed}`,
      SUBJECT_NAMES,
      results,
      `${rounds.length} rounds (${generations} x ${perGeneration}), each one burst of ${THROUGHPUT_OPS.toLocaleString('en-US')} per subject and operation`,
    );
    for (const name of ['deferred', 'promise'] as const) {
      const [up, get] = ratios.get(name)!;
      targets.check(`${name} within 10% of the bare engine (upsert, get)`, `${up.toFixed(3)}x, ${get.toFixed(3)}x`, up >= 0.9 && get >= 0.9);
    }
    if (BASE) baseReport(results);

    if (SAME_PROCESS) {
      // All subjects in this process, interleaved, each measurement after a full GC.
      forceGc = true;
      const opened = [];
      for (const n of SUBJECT_NAMES) opened.push(await openSubject(n, connstr));
      for (const o of opened) await warmUp(o.subject);
      const same = new Map<string, Measured[]>(SUBJECT_NAMES.map((n) => [n, []]));
      for (let r = 0; r < SAME_PROCESS_ROUNDS; r++) {
        for (let j = 0; j < opened.length; j++) {
          const o = opened[(r + j) % opened.length];
          same.get(o.subject.name)!.push(await measure(o.subject, latencyOps));
        }
      }
      for (const o of opened) await o.close();
      report('all subjects in one process (interleaved)', SUBJECT_NAMES, same, `${SAME_PROCESS_ROUNDS} rounds, each the median of ${BURSTS} bursts of ${THROUGHPUT_OPS.toLocaleString('en-US')}`);
    }
    const engLat = median(results.get('engine')!.map((m) => m.lat.mean));

    const blockingAfter = measureBlocking(connstr, external > 0);
    console.log(blockingReport('on the fresh cluster, before the throughput phase', blockingBefore, engLat));
    // Again on the cluster the throughput phase has worked hard (its heap and code are not as fresh).
    console.log(blockingReport('after the throughput phase', blockingAfter, engLat));
    for (const [when, layouts] of [['fresh cluster', blockingBefore], ['after throughput', blockingAfter]] as const) {
      for (const l of layouts) {
        const o = l.overhead;
        targets.check(`blocking get overhead under 10 us, ${l.name}, ${when} (p50, mean)`, `${o.p50.toFixed(1)}, ${o.mean.toFixed(1)} us`, o.p50 < 10 && o.mean < 10);
      }
    }

    // 1M rows through the blocking iterator, in a child process so its RSS is the client's alone.
    if (KV_ONLY) return targets.print();
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
      targets.check(`blocking iteration of ${r.n.toLocaleString()} rows under 200 MB peak RSS`, `${(r.maxRss / 2 ** 20).toFixed(0)} MB`, r.maxRss < 200 * 2 ** 20);
    }
    targets.print();
  } finally {
    cluster.stop();
  }
}

const subjectArg = process.argv.indexOf('--subject');
if (subjectArg > 0) {
  // A subject's process lives until the parent closes it (see child()).
  child(process.argv[subjectArg + 1] as SubjectName, process.argv[process.argv.indexOf('--connstr') + 1]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
