// `deferbase pillowfight CONNSTR`: a load generator in the manner of cbc-pillowfight. Keeps K
// operations in flight (gets and sets over a fixed key space, in a seeded order), shows a live
// progress bar with ops/s, and ends with a latency histogram. Each flavour is one driver row.
import type { CommandSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CONNECTION_FLAGS, closeEngine, connectEngine, targetOf, type Target } from '../connect';
import { Histogram, renderHistogram } from '../histogram';
import { describeError, printJson } from '../output';
import { ProgressBar, formatRate } from '../progress';
import type { CliIo } from '../io';
import { prng } from '../../server/samples/prng';

export const FLAVOURS = ['engine', 'deferred', 'promise', 'blocking'] as const;
export type Flavour = (typeof FLAVOURS)[number];

export const pillowfightSpec: CommandSpec = {
  name: 'pillowfight',
  summary: 'Generate KV load (gets and sets) and report throughput and a latency histogram.',
  positionals: [{ name: 'CONNSTR', required: false, help: 'cluster to load (the string `deferbase serve` prints works)' }],
  flags: [
    { name: 'flavour', type: 'string', choices: FLAVOURS, default: 'engine', help: 'which API issues the operations' },
    { name: 'ops', short: 'n', type: 'int', min: 1, default: 10000, meta: 'N', help: 'operations to run (after populating)' },
    { name: 'in-flight', short: 'k', type: 'int', min: 1, max: 65536, default: 16, meta: 'K', help: 'operations kept in flight (blocking: 1)' },
    { name: 'set-ratio', short: 'r', type: 'number', min: 0, max: 1, default: 0.5, meta: 'R', help: 'share of operations that are sets (0..1)' },
    { name: 'value-size', short: 'm', type: 'int', min: 8, max: 20 * 1024 * 1024, default: 256, meta: 'BYTES', help: 'size of each stored JSON document' },
    { name: 'keys', type: 'int', min: 1, default: 1000, meta: 'N', help: 'number of distinct keys' },
    { name: 'key-prefix', type: 'string', default: 'pillowfight:', meta: 'PREFIX', help: 'key prefix' },
    { name: 'seed', type: 'int', default: 1, meta: 'N', help: 'seed of the operation order' },
    { name: 'populate', type: 'bool', default: true, help: 'store every key once before the run (--no-populate to skip)' },
    { name: 'json', type: 'bool', help: 'print the results as JSON (progress still goes to stderr)' },
    ...CONNECTION_FLAGS,
  ],
  notes: ['example: deferbase pillowfight couchbase://127.0.0.1:11210 --flavour promise --ops 50000 --in-flight 64'],
};

/** The callback shape every driver exposes, whatever its flavour's async type. */
interface Driver {
  /** Asynchronous drivers: start one op, call `done` when it ends. */
  op?(set: boolean, key: string, value: unknown, done: (err: unknown) => void): void;
  /** The blocking driver: run one op now (throws on failure). */
  opSync?(set: boolean, key: string, value: unknown): void;
  close(): Promise<void>;
}

type DriverFactory = (target: Target) => Promise<Driver>;

// Adapters are loaded only for the flavour asked for (the blocking one starts a worker thread).
const DRIVERS: Record<Flavour, DriverFactory> = {
  async engine(target) {
    const engine = await connectEngine(target);
    return {
      op: (set, key, value, done) => engine.kv(set ? 'upsert' : 'get', key, set ? { value } : null, done),
      close: () => closeEngine(engine),
    };
  },
  async deferred(target) {
    const { Bucket } = await import('../../../adapters/deferred');
    const bucket = new Bucket(target.connstr, { ...target.options });
    await new Promise<void>((resolve, reject) => bucket.connect().addCallbacks(() => resolve(), (f) => reject(f.value)));
    return {
      op: (set, key, value, done) => {
        const d = set ? bucket.upsert(key, value) : bucket.get(key);
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
      op: (set, key, value, done) => {
        (set ? bucket.upsert(key, value) : bucket.get(key)).then(() => done(null), done);
      },
      close: () => bucket.close().catch(() => undefined),
    };
  },
  async blocking(target) {
    const { Bucket } = await import('../../../adapters/blocking');
    const bucket = new Bucket(target.connstr, { ...target.options });
    return {
      opSync: (set, key, value) => {
        if (set) bucket.upsert(key, value);
        else bucket.get(key);
      },
      close: async () => bucket.close(),
    };
  },
};

/** A JSON document whose encoding is exactly `size` bytes. */
export function documentOfSize(size: number): Record<string, string> {
  // {"pillowfight":""} is 18 bytes; the string fills the rest.
  const fill = Math.max(0, size - 18);
  return { pillowfight: 'x'.repeat(fill) };
}

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
  inFlight: number;
  valueSize: number;
  /** Latency in microseconds. */
  latencyUs: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
}

interface Plan {
  ops: number;
  inFlight: number;
  setRatio: number;
  keys: string[];
  value: unknown;
  seed: number;
}

class Fight {
  readonly histogram = new Histogram();
  readonly errorsByName: Record<string, number> = {};
  firstError: string | undefined;
  errors = 0;
  gets = 0;
  sets = 0;
  completed = 0;
  private readonly rnd: () => number;

  constructor(
    private readonly plan: Plan,
    private readonly bar: ProgressBar,
  ) {
    this.rnd = prng(plan.seed);
  }

  private next(): { set: boolean; key: string } {
    const set = this.rnd() < this.plan.setRatio;
    const key = this.plan.keys[Math.floor(this.rnd() * this.plan.keys.length)];
    if (set) this.sets++;
    else this.gets++;
    return { set, key };
  }

  private finishOne(startedAt: number, err: unknown): void {
    this.histogram.record((performance.now() - startedAt) * 1000);
    if (err) {
      this.errors++;
      const name = (err as Error).name ?? 'Error';
      this.errorsByName[name] = (this.errorsByName[name] ?? 0) + 1;
      this.firstError ??= describeError(err);
    }
    this.completed++;
    this.bar.update(this.completed, this.errors ? `${this.errors} errors` : undefined);
  }

  runAsync(driver: Driver): Promise<void> {
    return new Promise((resolve) => {
      let started = 0;
      const launch = (): void => {
        const { set, key } = this.next();
        started++;
        const t0 = performance.now();
        driver.op!(set, key, this.plan.value, (err) => {
          this.finishOne(t0, err);
          if (started < this.plan.ops) launch();
          else if (this.completed === this.plan.ops) resolve();
        });
      };
      const first = Math.min(this.plan.inFlight, this.plan.ops);
      for (let i = 0; i < first; i++) launch();
    });
  }

  runSync(driver: Driver): void {
    for (let i = 0; i < this.plan.ops; i++) {
      const { set, key } = this.next();
      const t0 = performance.now();
      let error: unknown = null;
      try {
        driver.opSync!(set, key, this.plan.value);
      } catch (err) {
        error = err;
      }
      this.finishOne(t0, error);
    }
  }
}

/** Stores every key once so the gets of the run find documents. */
async function populate(driver: Driver, plan: Plan, io: CliIo): Promise<void> {
  const bar = new ProgressBar({ label: 'populating', total: plan.keys.length, stream: io.stderr, unit: 'ops' });
  let failure: unknown;
  if (driver.opSync) {
    for (let i = 0; i < plan.keys.length; i++) {
      driver.opSync(true, plan.keys[i], plan.value);
      bar.update(i + 1);
    }
  } else {
    await new Promise<void>((resolve) => {
      let next = 0;
      let done = 0;
      const launch = (): void => {
        const key = plan.keys[next++];
        driver.op!(true, key, plan.value, (err) => {
          if (err) failure ??= err;
          bar.update(++done);
          if (next < plan.keys.length && failure === undefined) launch();
          else if (done === next) resolve();
        });
      };
      for (let i = 0; i < Math.min(plan.inFlight, plan.keys.length); i++) launch();
    });
  }
  bar.finish();
  if (failure !== undefined) throw failure;
}

export async function runPillowfight(args: ParsedArgs, io: CliIo): Promise<number> {
  const v = args.values;
  const flavour = v.flavour as Flavour;
  let inFlight = v['in-flight'] as number;
  if (flavour === 'blocking') {
    if (args.given.has('in-flight') && inFlight !== 1) {
      throw new UsageError('--in-flight: the blocking flavour runs one operation at a time; leave it out or give 1', pillowfightSpec);
    }
    inFlight = 1;
  }
  const prefix = v['key-prefix'] as string;
  const keyCount = v.keys as number;
  const keys = Array.from({ length: keyCount }, (_, i) => `${prefix}${i}`);
  const plan: Plan = {
    ops: v.ops as number,
    inFlight,
    setRatio: v['set-ratio'] as number,
    keys,
    value: documentOfSize(v['value-size'] as number),
    seed: v.seed as number,
  };
  const target = targetOf(args, io.env, args.positionals.CONNSTR);
  let driver: Driver;
  try {
    driver = await DRIVERS[flavour](target);
  } catch (err) {
    io.stderr.write(`deferbase pillowfight: cannot connect to ${target.connstr}: ${describeError(err)}\n`);
    return 1;
  }
  try {
    if (v.populate === true) {
      try {
        await populate(driver, plan, io);
      } catch (err) {
        io.stderr.write(`deferbase pillowfight: populating failed: ${describeError(err)}\n`);
        return 1;
      }
    }
    const bar = new ProgressBar({ label: `pillowfight ${flavour}`, total: plan.ops, stream: io.stderr, unit: 'ops' });
    const fight = new Fight(plan, bar);
    const t0 = performance.now();
    if (driver.opSync) fight.runSync(driver);
    else await fight.runAsync(driver);
    const seconds = (performance.now() - t0) / 1000;
    bar.finish(fight.errors ? `${fight.errors} errors` : undefined);
    const s = fight.histogram.summary();
    const report: PillowfightReport = {
      flavour,
      ops: fight.completed,
      gets: fight.gets,
      sets: fight.sets,
      errors: fight.errors,
      errorsByName: fight.errorsByName,
      firstError: fight.firstError,
      seconds,
      opsPerSecond: seconds > 0 ? fight.completed / seconds : 0,
      inFlight,
      valueSize: v['value-size'] as number,
      latencyUs: { min: s.min, mean: Math.round(s.mean), p50: s.p50, p90: s.p90, p99: s.p99, p999: s.p999, max: s.max },
    };
    if (v.json === true) printJson(io.stdout, report, 2);
    else {
      const lines = [
        `${report.ops} ops (${report.gets} gets, ${report.sets} sets) in ${seconds.toFixed(2)}s: ${formatRate(report.opsPerSecond)} ops/s, ${inFlight} in flight, flavour ${flavour}`,
      ];
      if (report.errors > 0) lines.push(`errors: ${report.errors} (${Object.entries(report.errorsByName).map(([n, c]) => `${n} ${c}`).join(', ')}); first: ${report.firstError}`);
      io.stdout.write(lines.join('\n') + '\n' + renderHistogram(fight.histogram));
    }
    return report.errors > 0 ? 1 : 0;
  } finally {
    await driver.close();
  }
}
