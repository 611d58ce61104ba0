// Engine vs official `couchbase` SDK: get / upsert throughput with 128 operations in flight and
// p50 / p99 latency, against the same embedded cluster (in a child process), in one run.
// Rounds alternate between the clients so machine noise hits both alike.
//   node dist/bench/engine/index.js [opsPerRound=40000] [rounds=3]
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Engine } from '../../lib/engine/engine';
import { deflateSnappy } from '../../lib/protocol/snappy';

const IN_FLIGHT = 128;
const KEYS = 1000;
const OPS = Number(process.argv[2] ?? 40000);
const ROUNDS = Number(process.argv[3] ?? 3);
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

async function main(): Promise<void> {
  const child = spawn(process.execPath, [path.join(__dirname, 'server-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connstr = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  const auth = { username: 'Administrator', password: 'password' };

  const engine = new Engine(`${connstr}/default?operation_timeout=10`, auth);
  await new Promise<void>((res, rej) => engine.connect((e) => (e ? rej(e) : res())));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
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

  await snappyOnOff(connstr, auth);

  await new Promise<void>((res) => engine.close(() => res()));
  await sdkCluster.close();
  child.stdin!.end();
  await new Promise((res) => child.once('exit', res));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
