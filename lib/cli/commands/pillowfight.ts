// `deferbase pillowfight CONNSTR`: a load generator with cbc-pillowfight's options. Each of
// --num-threads connections runs --num-cycles cycles of --batch-size operations (gets and sets
// over --num-items keys, in a seeded random order or --sequential), optionally under a global
// --rate-limit, shows a live progress bar, and ends with percentiles from an HDR histogram
// (--timings adds the bar chart). Each flavour is one driver row.
import type { CommandSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CONNECTION_FLAGS, closeEngine, connectEngine, targetOf, type Target } from '../connect';
import { LatencyRecorder, renderPercentiles, renderTimings } from '../histogram';
import { describeError, printJson } from '../output';
import { ProgressBar, formatRate } from '../progress';
import type { CliIo } from '../io';
import { prng } from '../../server/samples/prng';

export const FLAVOURS = ['engine', 'deferred', 'promise', 'blocking'] as const;
export type Flavour = (typeof FLAVOURS)[number];

export const pillowfightSpec: CommandSpec = {
  name: 'pillowfight',
  summary: 'Generate KV load (gets and sets) as cbc-pillowfight does; report throughput and latency percentiles.',
  positionals: [{ name: 'CONNSTR', required: false, help: 'cluster to load (the string `deferbase serve` prints works)' }],
  flags: [
    ...CONNECTION_FLAGS,
    { name: 'flavour', type: 'string', choices: FLAVOURS, default: 'engine', help: 'which API issues the operations' },
    { name: 'num-items', short: 'I', type: 'int', min: 1, default: 1000, meta: 'N', help: 'number of distinct keys' },
    { name: 'min-size', short: 'm', type: 'int', min: 18, max: 20 * 1024 * 1024, default: 50, meta: 'BYTES', help: 'smallest JSON document' },
    { name: 'max-size', short: 'M', type: 'int', min: 18, max: 20 * 1024 * 1024, default: 5120, meta: 'BYTES', help: 'largest JSON document (sizes are spread evenly between)' },
    { name: 'set-pct', short: 'r', type: 'number', min: 0, max: 100, default: 33, meta: 'PCT', help: 'percentage of operations that are sets' },
    { name: 'num-threads', short: 't', type: 'int', min: 1, max: 256, default: 1, meta: 'N', help: 'concurrent connections, each with its own batches' },
    { name: 'batch-size', short: 'B', type: 'int', min: 1, max: 65536, default: 100, meta: 'N', help: 'operations each connection keeps in flight per cycle (blocking: 1)' },
    { name: 'num-cycles', short: 'c', type: 'int', min: -1, default: 100, meta: 'N', help: 'cycles per connection; -1 runs until Ctrl-C' },
    { name: 'sequential', type: 'bool', help: 'walk the keys in order (each connection its own share) instead of at random' },
    { name: 'start-at', type: 'int', min: 0, default: 0, meta: 'N', help: 'number of the first key' },
    { name: 'key-prefix', short: 'p', type: 'string', default: 'pillowfight:', meta: 'PREFIX', help: 'key prefix' },
    { name: 'rate-limit', type: 'number', min: 0, default: 0, meta: 'OPS', help: 'at most OPS operations per second over all connections (0: no limit)' },
    { name: 'expiry', short: 'e', type: 'int', min: 0, default: 0, meta: 'SECONDS', help: 'expiry of the documents set' },
    { name: 'population', type: 'bool', default: true, help: 'store every key once before the run (--no-population to skip)' },
    { name: 'populate-only', type: 'bool', help: 'store every key once, then stop' },
    { name: 'timings', short: 'T', type: 'bool', help: 'print the latency histogram as bars' },
    { name: 'seed', type: 'int', default: 1, meta: 'N', help: 'seed of the operation order' },
    { name: 'json', type: 'bool', help: 'print the results as JSON (progress still goes to stderr)' },
  ],
  notes: ['example: deferbase pillowfight couchbase://127.0.0.1:11210 -t 4 -B 64 -c 500 -r 20 -m 256 -M 1024 --rate-limit 20000 -T'],
};

/** The callback shape every driver exposes, whatever its flavour's async type. */
interface Driver {
  /** Asynchronous drivers: start one op, call `done` when it ends. */
  op?(set: boolean, key: string, value: unknown, expiry: number, done: (err: unknown) => void): void;
  /** The blocking driver: run one op now (throws on failure). */
  opSync?(set: boolean, key: string, value: unknown, expiry: number): void;
  close(): Promise<void>;
}

type DriverFactory = (target: Target) => Promise<Driver>;

// Adapters are loaded only for the flavour asked for (the blocking one starts a worker thread).
const DRIVERS: Record<Flavour, DriverFactory> = {
  async engine(target) {
    const engine = await connectEngine(target);
    return {
      op: (set, key, value, expiry, done) => engine.kv(set ? 'upsert' : 'get', key, set ? { value, ttl: expiry } : null, done),
      close: () => closeEngine(engine),
    };
  },
  async deferred(target) {
    const { Bucket } = await import('../../../adapters/deferred');
    const bucket = new Bucket(target.connstr, { ...target.options });
    await new Promise<void>((resolve, reject) => bucket.connect().addCallbacks(() => resolve(), (f) => reject(f.value)));
    return {
      op: (set, key, value, expiry, done) => {
        const d = set ? bucket.upsert(key, value, { ttl: expiry }) : bucket.get(key);
        d.addCallbacks(
          () => done(null),
          (f) => done(f.value),
        );
      },
      close: () => new Promise<void>((resolve) => bucket.close().addBoth(() => resolve())),
    };
  },
  async promise(target) {
    const { Bucket } = await import('../../../adapters/promise');
    const bucket = new Bucket(target.connstr, { ...target.options });
    await bucket.connect();
    return {
      op: (set, key, value, expiry, done) => {
        (set ? bucket.upsert(key, value, { ttl: expiry }) : bucket.get(key)).then(() => done(null), done);
      },
      close: () => bucket.close().catch(() => undefined),
    };
  },
  async blocking(target) {
    const { Bucket } = await import('../../../adapters/blocking');
    const bucket = new Bucket(target.connstr, { ...target.options });
    return {
      opSync: (set, key, value, expiry) => {
        if (set) bucket.upsert(key, value, { ttl: expiry });
        else bucket.get(key);
      },
      close: async () => bucket.close(),
    };
  },
};

export interface PillowfightReport {
  flavour: Flavour;
  ops: number;
  gets: number;
  sets: number;
  errors: number;
  errorsByName: Record<string, number>;
  firstError?: string;
  seconds: number;
  opsPerSecond: number;
  threads: number;
  batchSize: number;
  minSize: number;
  maxSize: number;
  numItems: number;
  /** Latency in microseconds, from an HDR histogram with 3 significant digits. */
  latencyUs: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
}

interface Plan {
  cycles: number;
  batch: number;
  setPct: number;
  keys: string[];
  /** Documents of sizes spread evenly over [min-size, max-size]; each set picks one. */
  values: unknown[];
  sequential: boolean;
  expiry: number;
  seed: number;
  threads: number;
}

/** The whole run's counters; each connection records into its own histogram, merged at the end. */
class Tally {
  readonly errorsByName: Record<string, number> = {};
  firstError: string | undefined;
  errors = 0;
  gets = 0;
  sets = 0;
  completed = 0;
  stopped = false;
  constructor(readonly bar: ProgressBar) {}
  done(err: unknown): void {
    if (err) {
      this.errors++;
      const name = (err as Error).name ?? 'Error';
      this.errorsByName[name] = (this.errorsByName[name] ?? 0) + 1;
      this.firstError ??= describeError(err);
    }
    this.completed++;
    this.bar.update(this.completed, this.errors ? `${this.errors} errors` : undefined);
  }
}

/** Spaces operations out to `rate` per second over all connections (0: no limit). */
class RateLimit {
  private issued = 0;
  private readonly start = performance.now();
  constructor(private readonly rate: number) {}
  /** Milliseconds to wait before `n` more operations may start. */
  delayFor(n: number): number {
    if (this.rate <= 0) return 0;
    const due = ((this.issued + n) / this.rate) * 1000;
    this.issued += n;
    return Math.max(0, due - (performance.now() - this.start));
  }
}

/** A document whose JSON encoding is exactly `size` bytes (at least 18). */
export function documentOfSize(size: number): Record<string, string> {
  // {"pillowfight":""} is 18 bytes; the string fills the rest.
  return { pillowfight: 'x'.repeat(Math.max(0, size - 18)) };
}

function valuesFor(min: number, max: number): unknown[] {
  const n = min === max ? 1 : Math.min(64, max - min + 1);
  return Array.from({ length: n }, (_, i) => documentOfSize(Math.round(min + ((max - min) * i) / Math.max(1, n - 1))));
}

/** One connection's run: `cycles` batches of `batch` operations, each batch waited for. */
async function runConnection(driver: Driver, plan: Plan, index: number, tally: Tally, limit: RateLimit, latency: LatencyRecorder): Promise<void> {
  const rnd = prng(plan.seed * 7919 + index);
  const share = Math.ceil(plan.keys.length / plan.threads);
  let seq = index * share;
  const next = (): { set: boolean; key: string; value: unknown } => {
    const set = rnd() * 100 < plan.setPct;
    const key = plan.sequential ? plan.keys[seq++ % plan.keys.length] : plan.keys[Math.floor(rnd() * plan.keys.length)];
    if (set) tally.sets++;
    else tally.gets++;
    return { set, key, value: set ? plan.values[Math.floor(rnd() * plan.values.length)] : undefined };
  };
  for (let cycle = 0; plan.cycles < 0 || cycle < plan.cycles; cycle++) {
    if (tally.stopped) return;
    const wait = limit.delayFor(plan.batch);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (driver.opSync) {
      const { set, key, value } = next();
      const t0 = performance.now();
      let error: unknown = null;
      try {
        driver.opSync(set, key, value, plan.expiry);
      } catch (err) {
        error = err;
      }
      latency.record((performance.now() - t0) * 1000);
      tally.done(error);
      // Let a Ctrl-C and the progress bar through between synchronous operations.
      if (cycle % 256 === 255) await new Promise((r) => setImmediate(r));
      continue;
    }
    await new Promise<void>((resolve) => {
      let left = plan.batch;
      for (let i = 0; i < plan.batch; i++) {
        const { set, key, value } = next();
        const t0 = performance.now();
        driver.op!(set, key, value, plan.expiry, (err) => {
          latency.record((performance.now() - t0) * 1000);
          tally.done(err);
          if (--left === 0) resolve();
        });
      }
    });
  }
}

/** Stores every key once so the gets of the run find documents. */
async function populate(driver: Driver, plan: Plan, io: CliIo): Promise<void> {
  const bar = new ProgressBar({ label: 'populating', total: plan.keys.length, stream: io.stderr, unit: 'ops' });
  let failure: unknown;
  const value = (i: number): unknown => plan.values[i % plan.values.length];
  if (driver.opSync) {
    for (let i = 0; i < plan.keys.length; i++) {
      driver.opSync(true, plan.keys[i], value(i), plan.expiry);
      bar.update(i + 1);
    }
  } else {
    await new Promise<void>((resolve) => {
      let next = 0;
      let done = 0;
      const launch = (): void => {
        const i = next++;
        driver.op!(true, plan.keys[i], value(i), plan.expiry, (err) => {
          if (err) failure ??= err;
          bar.update(++done);
          if (next < plan.keys.length && failure === undefined) launch();
          else if (done === next) resolve();
        });
      };
      for (let i = 0; i < Math.min(plan.batch, plan.keys.length); i++) launch();
    });
  }
  bar.finish();
  if (failure !== undefined) throw failure;
}

export async function runPillowfight(args: ParsedArgs, io: CliIo): Promise<number> {
  const v = args.values;
  const flavour = v.flavour as Flavour;
  let batch = v['batch-size'] as number;
  const threads = v['num-threads'] as number;
  const minSize = v['min-size'] as number;
  const maxSize = v['max-size'] as number;
  const cycles = v['num-cycles'] as number;
  if (minSize > maxSize) throw new UsageError(`--min-size ${minSize} is larger than --max-size ${maxSize}`, pillowfightSpec);
  if (cycles === 0) throw new UsageError('--num-cycles: give a positive number, or -1 to run until Ctrl-C', pillowfightSpec);
  if (flavour === 'blocking') {
    if (args.given.has('batch-size') && batch !== 1) throw new UsageError('--batch-size: the blocking flavour runs one operation at a time; leave it out or give 1', pillowfightSpec);
    if (threads !== 1) throw new UsageError('--num-threads: the blocking flavour blocks its one thread; use another flavour for concurrent connections', pillowfightSpec);
    batch = 1;
  }
  const prefix = v['key-prefix'] as string;
  const start = v['start-at'] as number;
  const plan: Plan = {
    cycles,
    batch,
    setPct: v['set-pct'] as number,
    keys: Array.from({ length: v['num-items'] as number }, (_, i) => `${prefix}${start + i}`),
    values: valuesFor(minSize, maxSize),
    sequential: v.sequential === true,
    expiry: v.expiry as number,
    seed: v.seed as number,
    threads,
  };
  const target = targetOf(args, io.env, args.positionals.CONNSTR);
  const drivers: Driver[] = [];
  try {
    for (let i = 0; i < threads; i++) drivers.push(await DRIVERS[flavour](target));
  } catch (err) {
    io.stderr.write(`deferbase pillowfight: cannot connect to ${target.connstr}: ${describeError(err)}\n`);
    await Promise.all(drivers.map((d) => d.close()));
    return 1;
  }
  try {
    if (v.population === true || v['populate-only'] === true) {
      try {
        await populate(drivers[0], plan, io);
      } catch (err) {
        io.stderr.write(`deferbase pillowfight: populating failed: ${describeError(err)}\n`);
        return 1;
      }
      if (v['populate-only'] === true) return 0;
    }
    const total = cycles < 0 ? 0 : threads * cycles * (flavour === 'blocking' ? 1 : batch);
    const bar = new ProgressBar({ label: `pillowfight ${flavour}`, total, stream: io.stderr, unit: 'ops' });
    const tally = new Tally(bar);
    const off = io.onStop(() => (tally.stopped = true));
    const limit = new RateLimit(v['rate-limit'] as number);
    const recorders = drivers.map(() => new LatencyRecorder());
    const t0 = performance.now();
    try {
      await Promise.all(drivers.map((d, i) => runConnection(d, plan, i, tally, limit, recorders[i])));
    } finally {
      off();
    }
    const seconds = (performance.now() - t0) / 1000;
    bar.finish(tally.errors ? `${tally.errors} errors` : undefined);
    const latency = recorders[0];
    for (const r of recorders.slice(1)) latency.add(r);
    const s = latency.summary();
    const report: PillowfightReport = {
      flavour,
      ops: tally.completed,
      gets: tally.gets,
      sets: tally.sets,
      errors: tally.errors,
      errorsByName: tally.errorsByName,
      firstError: tally.firstError,
      seconds,
      opsPerSecond: seconds > 0 ? tally.completed / seconds : 0,
      threads,
      batchSize: batch,
      minSize,
      maxSize,
      numItems: plan.keys.length,
      latencyUs: { min: s.min, mean: Math.round(s.mean), p50: s.p50, p90: s.p90, p99: s.p99, p999: s.p999, max: s.max },
    };
    if (v.json === true) printJson(io.stdout, report, 2);
    else {
      const lines = [
        `${report.ops} ops (${report.gets} gets, ${report.sets} sets) in ${seconds.toFixed(2)}s: ${formatRate(report.opsPerSecond)} ops/s, ${threads} connection${threads === 1 ? '' : 's'} x ${batch} in flight, flavour ${flavour}`,
      ];
      if (report.errors > 0) lines.push(`errors: ${report.errors} (${Object.entries(report.errorsByName).map(([n, c]) => `${n} ${c}`).join(', ')}); first: ${report.firstError}`);
      io.stdout.write(lines.join('\n') + '\n' + renderPercentiles(latency) + (v.timings === true ? renderTimings(latency) : ''));
    }
    return report.errors > 0 ? 1 : 0;
  } finally {
    await Promise.all(drivers.map((d) => d.close()));
  }
}
