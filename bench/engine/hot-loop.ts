// The KV hot path on its own, for V8's tools rather than for figures: N gets (or upserts) with 128
// in flight against an embedded cluster in a child process, nothing else in this process.
//   node --trace-deopt dist/bench/engine/hot-loop.js [ops=1000000] [get|upsert] [scope.collection]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/engine/hot-loop.js
// bench/README.md says what to look for.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Engine } from '../../lib/engine/engine';
import type { KvHandler } from '../../lib/engine/kv/spec';

const IN_FLIGHT = 128;
const KEYS = 1000;
const OPS = Number(process.argv[2] ?? 1_000_000);
const OP = (process.argv[3] ?? 'get') as 'get' | 'upsert';
/** A named collection to work in (server-child.js makes `bench.items`); default: the default collection. */
const COLLECTION = process.argv[4];
const DOC = { name: 'benchmark document', n: 42, tags: ['a', 'b', 'c'], nested: { ok: true } };

/** `total` operations, IN_FLIGHT at a time, all reporting to one handler object. */
function loop(engine: Engine, total: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const options = OP === 'upsert' ? { value: DOC, collection: COLLECTION } : COLLECTION === undefined ? null : { collection: COLLECTION };
    const handler: KvHandler = {
      kvDone(err) {
        if (err) return reject(err);
        finished++;
        if (started < total) next();
        else if (finished === total) resolve();
      },
    };
    const next = (): void => {
      engine.dispatchKv(OP, `bench-${started++ % KEYS}`, options, handler);
    };
    for (let k = 0; k < IN_FLIGHT && k < total; k++) next();
  });
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [path.join(__dirname, 'server-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connstr = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  const engine = new Engine(`${connstr}/default?operation_timeout=10`, { username: 'Administrator', password: 'password' });
  await new Promise<void>((res, rej) => engine.connect((e) => (e ? rej(e) : res())));
  for (let i = 0; i < KEYS; i++) {
    await new Promise<void>((res, rej) => engine.kv('upsert', `bench-${i}`, { value: DOC, collection: COLLECTION }, (e) => (e ? rej(e) : res())));
  }
  // Warm up with the measured operation itself, so the loop starts on code optimised for it.
  await loop(engine, Math.min(OPS, 50_000));
  // Deopts printed after this line happened in the measured loop (--trace-deopt writes to stdout too).
  console.log(`--- ${OPS} ${OP}s, ${IN_FLIGHT} in flight ---`);
  const t0 = process.hrtime.bigint();
  await loop(engine, OPS);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${OPS} ${OP}s in ${secs.toFixed(2)} s: ${(OPS / secs).toFixed(0)} ops/s`);
  await new Promise<void>((res) => engine.close(() => res()));
  child.stdin!.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
