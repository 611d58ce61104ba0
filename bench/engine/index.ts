// Engine vs official `couchbase` SDK: get / upsert throughput with 128 operations in flight and
// p50 / p99 latency, against the same embedded cluster (in a child process), in one run.
// Rounds alternate between the clients so machine noise hits both alike.
//   node dist/bench/engine/index.js [opsPerRound=40000] [rounds=3]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Engine } from '../../lib/engine/engine';
import { deflateSnappy } from '../../lib/protocol/snappy';

const IN_FLIGHT = 128;
const KEYS = 1000;
const OPS = Number(process.argv[2] ?? 40000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** Which comparisons to run: `sdk` (engine vs the official SDK), `collections` (named vs default), `snappy`. */
const SECTIONS = new Set((process.argv[4] ?? 'sdk,collections,snappy').split(','));
const DOC = { name: 'benchmark document', n: 42, tags: ['a', 'b', 'c'], nested: { ok: true } };

interface Figures {
  opsPerSec: number;
  p50: number;
  p99: number;
}

type Op = 'get' | 'upsert';

/** Runs `total` ops keeping IN_FLIGHT outstanding; `issue(i, done)` starts op i. */
function drive(total: number, issue: (i: number, done: (err: unknown) => void) => void): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const lat = new Float64Array(total);
    let started = 0;
    let finished = 0;
    const t0 = process.hrtime.bigint();
    const launch = (): void => {
      const i = started++;
      const s = process.hrtime.bigint();
      issue(i, (err) => {
        if (err) return reject(err);
        lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
        finished++;
        if (started < total) launch();
        else if (finished === total) {
          const secs = Number(process.hrtime.bigint() - t0) / 1e9;
          lat.sort();
          resolve({ opsPerSec: total / secs, p50: lat[Math.floor(total * 0.5)], p99: lat[Math.floor(total * 0.99)] });
        }
      });
    };
    for (let k = 0; k < IN_FLIGHT && started < total; k++) launch();
  });
}

/** A JSON document of about `bytes` bytes, with the repetition real documents have. */
function jsonDoc(bytes: number): Record<string, unknown> {
  const items: unknown[] = [];
  const doc = { type: 'order', customer: 'customer-4711', items };
  for (let i = 0; JSON.stringify(doc).length < bytes; i++) {
    items.push({ sku: `SKU-${(i * 7919) % 100000}`, name: `product ${i} of the catalogue`, qty: (i % 5) + 1, price: ((i * 37) % 1000) / 10, tags: ['new', 'sale', 'blue'].slice(0, 1 + (i % 3)) });
  }
  return doc;
}

/** Snappy on vs off for 16 KiB JSON values: upsert and get, each engine with keys of its own. */
async function snappyOnOff(connstr: string, auth: { username: string; password: string }): Promise<void> {
  const doc = jsonDoc(16 * 1024);
  const size = Buffer.byteLength(JSON.stringify(doc));
  const packed = deflateSnappy(Buffer.from(JSON.stringify(doc))).length;
  const ops = Math.max(2000, Math.floor(OPS / 4));
  const engines: Record<'on' | 'off', Engine> = {
    on: new Engine(`${connstr}/default?operation_timeout=10&compression=on`, auth),
    off: new Engine(`${connstr}/default?operation_timeout=10&compression=off`, auth),
  };
  for (const e of Object.values(engines)) await new Promise<void>((res, rej) => e.connect((err) => (err ? rej(err) : res())));
  const runOn = (mode: 'on' | 'off', op: Op): Promise<Figures> =>
    drive(ops, (i, done) => {
      const key = `snappy-${mode}-${i % KEYS}`;
      if (op === 'get') engines[mode].kv('get', key, null, done);
      else engines[mode].kv('upsert', key, { value: doc }, done);
    });
  for (const mode of ['on', 'off'] as const) await runOn(mode, 'upsert');
  const results: Record<string, Figures[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const op of ['upsert', 'get'] as Op[]) {
      for (const mode of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) (results[`${op}-${mode}`] ??= []).push(await runOn(mode, op));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`snappy on vs off, ${size}-byte JSON values (${packed} bytes compressed, ${((100 * packed) / size).toFixed(0)}%), ${ops} ops/round, ${ROUNDS} rounds`);
  for (const op of ['upsert', 'get'] as Op[]) {
    const on = results[`${op}-on`];
    const off = results[`${op}-off`];
    const t = (xs: Figures[]): number => median(xs.map((x) => x.opsPerSec));
    const p = (xs: Figures[], k: 'p50' | 'p99'): number => median(xs.map((x) => x[k]));
    console.log(
      `${op.padEnd(6)} on ${t(on).toFixed(0).padStart(7)} ops/s p50 ${p(on, 'p50').toFixed(2)} ms p99 ${p(on, 'p99').toFixed(2)} ms | off ${t(off).toFixed(0).padStart(7)} ops/s p50 ${p(off, 'p50').toFixed(2)} ms p99 ${p(off, 'p99').toFixed(2)} ms | on/off x${(t(on) / t(off)).toFixed(2)}`,
    );
  }
  for (const e of Object.values(engines)) await new Promise<void>((res) => e.close(() => res()));
}

/** CPU time a process has used, µs (Linux /proc; 0 where there is none). */
function processCpuMicros(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, the 12th and 13th fields after the command, in clock ticks (100 per second).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

/**
 * A get on a named collection against one on the default collection: the same engine, the same
 * documents in each, rounds alternating which goes first. Read per round: throughput, and the CPU
 * time per get of the client and the server together (steadier than throughput on a shared
 * machine: other load does not add to it); the ratios' median and spread over the rounds.
 */
async function namedVsDefault(engine: Engine, serverPid: number): Promise<void> {
  const named = { collection: 'bench.items' };
  const put = (key: string, opts: Record<string, unknown>): Promise<void> => new Promise((res, rej) => engine.kv('upsert', key, { value: DOC, ...opts }, (e) => (e ? rej(e) : res())));
  for (let i = 0; i < KEYS; i++) {
    await put(`bench-${i}`, named);
    await put(`bench-${i}`, {});
  }
  const run = async (opts: typeof named | null): Promise<Figures & { cpuPerOp: number }> => {
    const client = process.cpuUsage();
    const server = processCpuMicros(serverPid);
    const f = await drive(OPS, (i, done) => engine.kv('get', `bench-${i % KEYS}`, opts, done));
    const used = process.cpuUsage(client);
    return { ...f, cpuPerOp: (used.user + used.system + processCpuMicros(serverPid) - server) / OPS };
  };
  await run(named);
  await run(null);
  const rounds = Math.max(ROUNDS * 4, 12);
  const throughput: number[] = [];
  const cpu: number[] = [];
  const per = { named: [] as number[], dflt: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0 ? named : null;
    const a = await run(first);
    const b = await run(first === null ? named : null);
    const [n, d] = first === null ? [b, a] : [a, b];
    throughput.push(n.opsPerSec / d.opsPerSec);
    cpu.push(d.cpuPerOp / n.cpuPerOp);
    per.named.push(n.cpuPerOp);
    per.dflt.push(d.cpuPerOp);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const iqr = (xs: number[]): string => {
    const s = [...xs].sort((x, y) => x - y);
    return `${s[Math.floor(s.length / 4)].toFixed(3)}..${s[Math.floor((3 * s.length) / 4)].toFixed(3)}`;
  };
  console.log(`get on a named collection vs the default collection, ${OPS} ops/round, ${rounds} rounds, ${IN_FLIGHT} in flight`);
  console.log(`  CPU per get (client + server): named ${median(per.named).toFixed(2)} us, default ${median(per.dflt).toFixed(2)} us; default/named x${median(cpu).toFixed(3)} (IQR ${iqr(cpu)})`);
  console.log(`  throughput named/default x${median(throughput).toFixed(3)} (IQR ${iqr(throughput)})`);
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [path.join(__dirname, 'server-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connstr = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  const auth = { username: 'Administrator', password: 'password' };

  const engine = new Engine(`${connstr}/default?operation_timeout=10`, auth);
  await new Promise<void>((res, rej) => engine.connect((e) => (e ? rej(e) : res())));
  if (SECTIONS.has('sdk')) await engineVsSdk(connstr, auth, engine);
  if (SECTIONS.has('collections')) await namedVsDefault(engine, child.pid!);
  if (SECTIONS.has('snappy')) await snappyOnOff(connstr, auth);

  await new Promise<void>((res) => engine.close(() => res()));
  child.stdin!.end();
  await new Promise((res) => child.once('exit', res));
}

/** The engine against the official SDK: get and upsert, rounds alternating which client goes first. */
async function engineVsSdk(connstr: string, auth: { username: string; password: string }, engine: Engine): Promise<void> {  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const couchbase = require('couchbase') as typeof import('couchbase');
  const sdkCluster = await couchbase.connect(connstr, { ...auth, timeouts: { kvTimeout: 10000 } });
  const coll = sdkCluster.bucket('default').defaultCollection();

  for (let i = 0; i < KEYS; i++) await coll.upsert(`bench-${i}`, DOC);

  const engineRun = (op: Op): Promise<Figures> =>
    drive(OPS, (i, done) => {
      const key = `bench-${i % KEYS}`;
      if (op === 'get') engine.kv('get', key, null, done);
      else engine.kv('upsert', key, { value: DOC }, done);
    });
  const sdkRun = (op: Op): Promise<Figures> =>
    drive(OPS, (i, done) => {
      const key = `bench-${i % KEYS}`;
      const p = op === 'get' ? coll.get(key) : coll.upsert(key, DOC);
      p.then(() => done(null), done);
    });

  // warm-up
  await engineRun('get');
  await sdkRun('get');

  const results: Record<string, { engine: Figures[]; sdk: Figures[] }> = { get: { engine: [], sdk: [] }, upsert: { engine: [], sdk: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const op of ['get', 'upsert'] as Op[]) {
      const first = r % 2 === 0;
      if (first) results[op].engine.push(await engineRun(op));
      results[op].sdk.push(await sdkRun(op));
      if (!first) results[op].engine.push(await engineRun(op));
    }
  }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`engine vs couchbase SDK ${require('couchbase/package.json').version}: ${OPS} ops/round, ${ROUNDS} rounds, ${IN_FLIGHT} in flight, 1-node embedded cluster in a child process`);
  for (const op of ['get', 'upsert'] as Op[]) {
    const e = results[op].engine;
    const s = results[op].sdk;
    const et = median(e.map((x) => x.opsPerSec));
    const st = median(s.map((x) => x.opsPerSec));
    const e50 = median(e.map((x) => x.p50));
    const s50 = median(s.map((x) => x.p50));
    const e99 = median(e.map((x) => x.p99));
    const s99 = median(s.map((x) => x.p99));
    console.log(
      `${op.padEnd(6)} engine ${et.toFixed(0).padStart(7)} ops/s p50 ${e50.toFixed(2)} ms p99 ${e99.toFixed(2)} ms | sdk ${st.toFixed(0).padStart(7)} ops/s p50 ${s50.toFixed(2)} ms p99 ${s99.toFixed(2)} ms | throughput x${(et / st).toFixed(2)}, p99 ratio engine/sdk ${(e99 / s99).toFixed(2)}`,
    );
  }

  await sdkCluster.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
