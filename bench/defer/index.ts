// Benchmarks for deferbase/defer, measured side by side in one run:
//   1. a 10-callback Deferred chain fired synchronously vs a 10-then Promise chain
//   2. inlineCallbacks over 1,000 yields vs the same async function with await
//   3. memory per pending Deferred vs per pending Promise (child `node --expose-gc`)
// Run: node dist/bench/defer/index.js   (after the build)

import { spawnSync } from 'node:child_process';
import { Deferred, inlineCallbacks, succeed } from '../../lib/defer';

const ROUNDS = 7;

function inc(x: number): number {
  return x + 1;
}

/**
 * Run `body` (which does `ops` operations) repeatedly for ~ms of this
 * process's CPU time; operations per CPU-second. CPU time, not wall time:
 * the machine is shared and wall time mostly measures the other tenants.
 */
async function rate(ms: number, ops: number, body: () => void | Promise<void>): Promise<number> {
  let done = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < ms) {
    await body();
    done += ops;
    const used = process.cpuUsage(start);
    elapsed = (used.user + used.system) / 1000;
  }
  return (done / elapsed) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const BATCH = 1000;
let sink = 0;

function deferredChains(): void {
  for (let i = 0; i < BATCH; i++) {
    const d = new Deferred<number>();
    d.addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc);
    d.addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc);
    d.callback(i);
    sink += d.result as number;
  }
}

const tails: Promise<number>[] = new Array(BATCH);
async function promiseChains(): Promise<void> {
  for (let i = 0; i < BATCH; i++) {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => (resolve = r));
    tails[i] = p.then(inc).then(inc).then(inc).then(inc).then(inc).then(inc).then(inc).then(inc).then(inc).then(inc);
    resolve(i);
  }
  const all = await Promise.all(tails);
  sink += all[BATCH - 1];
}

const YIELDS = 1000;
const icYieldDeferreds = inlineCallbacks(function* () {
  let s = 0;
  for (let i = 0; i < YIELDS; i++) s += (yield succeed(i)) as number;
  return s;
});
async function asyncAwaitPromises(): Promise<number> {
  let s = 0;
  for (let i = 0; i < YIELDS; i++) s += await Promise.resolve(i);
  return s;
}
const icYieldValues = inlineCallbacks(function* () {
  let s = 0;
  for (let i = 0; i < YIELDS; i++) s += (yield i) as number;
  return s;
});
async function asyncAwaitValues(): Promise<number> {
  let s = 0;
  for (let i = 0; i < YIELDS; i++) s += await i;
  return s;
}

async function sideBySide(
  title: string,
  unit: string,
  a: [string, number, () => void | Promise<void>],
  b: [string, number, () => void | Promise<void>],
): Promise<void> {
  const ra: number[] = [];
  const rb: number[] = [];
  const ratios: number[] = [];
  // warm up both, then alternate rounds so both see the same machine noise
  await rate(150, a[1], a[2]);
  await rate(150, b[1], b[2]);
  for (let r = 0; r < ROUNDS; r++) {
    const x = await rate(200, a[1], a[2]);
    const y = await rate(200, b[1], b[2]);
    ra.push(x);
    rb.push(y);
    ratios.push(x / y);
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`\n${title}`);
  console.log(`  ${a[0].padEnd(44)} ${fmt(median(ra)).padStart(14)} ${unit}/s`);
  console.log(`  ${b[0].padEnd(44)} ${fmt(median(rb)).padStart(14)} ${unit}/s`);
  console.log(`  ratio (median of ${ROUNDS} paired rounds)           ${median(ratios).toFixed(2)}x`);
}

// --- memory (runs in a child with --expose-gc) ---------------------------------

function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const N = 200_000;
  const noop = () => undefined;
  const measure = (make: (i: number) => unknown): number => {
    const keep: unknown[] = new Array(N).fill(null);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) keep[i] = make(i);
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    if (keep.length !== N) throw new Error('unreachable');
    return (after - before) / N;
  };
  const rows: [string, number][] = [];
  // alternate and repeat; report the median
  const cases: [string, (i: number) => unknown][] = [
    ['pending Deferred (new Deferred())', () => new Deferred()],
    ['pending Promise (new Promise(executor))', () => new Promise(noop)],
    ['pending Promise + its resolve/reject kept', () => {
      let res: unknown;
      let rej: unknown;
      const p = new Promise((a, b) => {
        res = a;
        rej = b;
      });
      return [p, res, rej];
    }],
    ['pending Deferred with 1 callback', () => new Deferred().addCallback(noop)],
    ['pending Promise with 1 then()', () => {
      const p = new Promise(noop);
      p.then(noop);
      return p;
    }],
  ];
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < 3; r++) cases.forEach(([, make], k) => samples[k].push(measure(make)));
  cases.forEach(([name], k) => rows.push([name, median(samples[k])]));
  process.stdout.write(JSON.stringify(rows));
}

async function main(): Promise<void> {
  if (process.argv.includes('--memory-child')) {
    memoryChild();
    return;
  }
  console.log(`deferbase/defer benchmarks (node ${process.version}, ${ROUNDS} paired rounds each, rates per CPU-second)`);

  await sideBySide(
    '1. 10-callback chain fired synchronously (chains)',
    'chains',
    ['Deferred: 10 x addCallback, callback()', BATCH, deferredChains],
    ['Promise: 10 x then(), resolve(), await', BATCH, promiseChains],
  );

  await sideBySide(
    `2. ${YIELDS.toLocaleString('en-US')} sequential waits (runs)`,
    'runs',
    ['inlineCallbacks: yield succeed(i)', 1, () => {
      sink += successValue(icYieldDeferreds());
    }],
    ['async function: await Promise.resolve(i)', 1, async () => {
      sink += await asyncAwaitPromises();
    }],
  );
  await sideBySide(
    `2b. ${YIELDS.toLocaleString('en-US')} sequential waits on plain values (runs)`,
    'runs',
    ['inlineCallbacks: yield i', 1, () => {
      sink += successValue(icYieldValues());
    }],
    ['async function: await i', 1, async () => {
      sink += await asyncAwaitValues();
    }],
  );

  const child = spawnSync(process.execPath, ['--expose-gc', __filename, '--memory-child'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
  const rows = JSON.parse(child.stdout) as [string, number][];
  console.log('\n3. memory per pending object (200,000 live instances, after gc; median of 3)');
  for (const [name, bytes] of rows) console.log(`  ${name.padEnd(44)} ${bytes.toFixed(1).padStart(8)} bytes`);
  const d = rows[0][1];
  console.log(`  Deferred / bare Promise                      ${(d / rows[1][1]).toFixed(2)}x`);
  console.log(`  Deferred / Promise with its resolvers        ${(d / rows[2][1]).toFixed(2)}x`);
  console.log(`  Deferred+callback / Promise+then             ${(rows[3][1] / rows[4][1]).toFixed(2)}x`);
  if (sink === 42) console.log('');
}

function successValue(d: Deferred<number>): number {
  if (!d.called) throw new Error('inlineCallbacks run did not finish synchronously');
  return d.result as number;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
