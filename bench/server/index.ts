// KV throughput of the embedded cluster's single node vs Debian's memcached, side by side.
// A raw pipelined binary-protocol client (window 256) does GET and SET on 1 and 4 connections.
// Both servers run in their own process (the embedded node in a child Node process started by
// this script), so the client's own CPU does not count against either. Besides throughput it
// reports each server's CPU time per operation (from /proc), which other load on a shared
// machine disturbs much less than throughput.
// Usage: node dist/bench/server/index.js [seconds-per-run=2] [rounds=2] [--data-dir] [--base=DIR]
//   --data-dir  also measures the node with persistence (a temporary dataDir, fsync 'batch')
//   --base=DIR  also measures the build in DIR (a checkout of the previous main, built) in the
//               same rounds, alternating, and prints this build's throughput as a ratio of it
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Magic, Opcode, encodePacket, encodePlain, vbucketOf } from '../../lib/protocol';

const WINDOW = 256;
const KEYS = 10000;
const VALUE = Buffer.alloc(100, 'v');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SECONDS = Number(args[0] ?? 2);
const ROUNDS = Number(args[1] ?? 2);
const WITH_DATA_DIR = process.argv.includes('--data-dir');
const BASE = process.argv.find((a) => a.startsWith('--base='))?.slice('--base='.length);

type Op = 'get' | 'set';

function buildFrames(op: Op, count: number, start: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key-${(start + i) % KEYS}`;
    const vbucket = vbucketOf(key, 1024);
    if (op === 'get') frames.push(encodePacket({ magic: Magic.REQUEST, opcode: Opcode.GET, key, vbucket, opaque: i }));
    else frames.push(encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SET, key, vbucket, opaque: i, extras: Buffer.alloc(8), value: VALUE }));
  }
  return Buffer.concat(frames);
}

/** One connection, optionally authenticated, that counts responses without decoding them. */
class BenchConn {
  private leftover: Buffer | null = null;
  private onFrames: (n: number, errors: number) => void = () => undefined;
  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let buf = chunk;
      if (this.leftover !== null) {
        buf = Buffer.concat([this.leftover, chunk]);
        this.leftover = null;
      }
      let off = 0;
      let n = 0;
      let errors = 0;
      while (buf.length - off >= 24) {
        const total = 24 + buf.readUInt32BE(off + 8);
        if (buf.length - off < total) break;
        if (buf[off + 6] !== 0 || buf[off + 7] !== 0) errors++;
        off += total;
        n++;
      }
      if (off < buf.length) this.leftover = buf.subarray(off);
      if (n > 0) this.onFrames(n, errors);
    });
  }

  static connect(port: number): Promise<BenchConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new BenchConn(s)));
      s.once('error', reject);
    });
  }

  /** Sends frames and waits for `expect` responses. */
  roundTrip(frames: Buffer, expect: number): Promise<number> {
    return new Promise((resolve) => {
      let got = 0;
      let errors = 0;
      this.onFrames = (n, e) => {
        got += n;
        errors += e;
        if (got >= expect) resolve(errors);
      };
      this.socket.write(frames);
    });
  }

  /** Keeps WINDOW requests in flight for `ms`; returns completed operations. */
  run(batches: Buffer[], perBatch: number, ms: number): Promise<{ ops: number; errors: number }> {
    return new Promise((resolve) => {
      let outstanding = 0;
      let done = 0;
      let errors = 0;
      let next = 0;
      let stopping = false;
      const send = (): void => {
        while (!stopping && outstanding + perBatch <= WINDOW) {
          this.socket.write(batches[next]);
          next = (next + 1) % batches.length;
          outstanding += perBatch;
        }
      };
      this.onFrames = (n, e) => {
        outstanding -= n;
        done += n;
        errors += e;
        if (stopping) {
          if (outstanding === 0) resolve({ ops: done, errors });
          return;
        }
        send();
      };
      setTimeout(() => {
        stopping = true;
        if (outstanding === 0) resolve({ ops: done, errors });
      }, ms);
      send();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function openConns(port: number, n: number, auth: boolean): Promise<BenchConn[]> {
  const conns: BenchConn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await BenchConn.connect(port);
    if (auth) {
      const errors = await c.roundTrip(
        Buffer.concat([
          encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain('Administrator', 'password') }),
          encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SELECT_BUCKET, key: 'default' }),
        ]),
        2,
      );
      if (errors !== 0) throw new Error('bench: login failed');
    }
    conns.push(c);
  }
  return conns;
}

const PER_BATCH = 64;
const batchesFor = (op: Op): Buffer[] => Array.from({ length: KEYS / PER_BATCH }, (_, i) => buildFrames(op, PER_BATCH, i * PER_BATCH));
const BATCHES: Record<Op, Buffer[]> = { get: batchesFor('get'), set: batchesFor('set') };

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is none. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Throughput, and the server's CPU time per operation (ns): the figure a loaded machine disturbs least. */
async function measure(port: number, auth: boolean, op: Op, connections: number, pid?: number): Promise<{ opsPerSec: number; cpuNsPerOp: number }> {
  const conns = await openConns(port, connections, auth);
  try {
    const cpu0 = cpuSeconds(pid);
    const results = await Promise.all(conns.map((c) => c.run(BATCHES[op], PER_BATCH, SECONDS * 1000)));
    const cpu = cpuSeconds(pid) - cpu0;
    const errors = results.reduce((a, r) => a + r.errors, 0);
    if (errors !== 0) throw new Error(`bench: ${errors} error responses for ${op}`);
    const ops = results.reduce((a, r) => a + r.ops, 0);
    return { opsPerSec: ops / SECONDS, cpuNsPerOp: (cpu * 1e9) / ops };
  } finally {
    for (const c of conns) c.close();
  }
}

async function preload(port: number, auth: boolean): Promise<void> {
  const [c] = await openConns(port, 1, auth);
  for (const batch of BATCHES.set) {
    const errors = await c.roundTrip(batch, PER_BATCH);
    if (errors !== 0) throw new Error('bench: preload failed');
  }
  c.close();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startMemcached(): Promise<{ port: number; proc: ChildProcess } | undefined> {
  if (spawnSync('sh', ['-c', 'command -v memcached']).status !== 0) return undefined;
  const port = await freePort();
  const proc = spawn('memcached', ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '256', '-t', '1', '-u', 'root'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      const c = await BenchConn.connect(port);
      c.close();
      return { port, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill();
  return undefined;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(11);
}

/** The embedded single node of the build whose lib/server is `lib`, in a child process (`--serve` mode). */
function startEmbedded(lib: string, dataDir: string | undefined): Promise<{ port: number; proc: ChildProcess }> {
  const serveArgs = ['--serve', `--lib=${lib}`, ...(dataDir ? [`--dir=${dataDir}`] : [])];
  const proc = spawn(process.execPath, [...process.execArgv, __filename, ...serveArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), proc });
    });
    proc.once('exit', (code) => reject(new Error(`embedded server exited (${code})`)));
  });
}

async function serve(): Promise<void> {
  const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const { Cluster } = require(flag('lib')!) as typeof import('../../lib/server');
  const dataDir = flag('dir');
  const cluster = await Cluster.start({ nodes: 1, queryService: null, viewsService: null, ...(dataDir ? { dataDir, fsync: 'batch' as const } : {}) });
  process.stdout.write(`PORT ${cluster.nodes[0].ports.kv}\n`);
  const stop = (): void => void cluster.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

interface Subject {
  name: string;
  port: number;
  auth: boolean;
  proc?: ChildProcess;
  /** Best ops/s per row, every round's ops/s, and every round's server CPU ns per op. */
  best: Map<string, number>;
  rounds: Map<string, number[]>;
  cpu: Map<string, number[]>;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ratio(a: number, b: number): string {
  return `${((a / b) * 100).toFixed(0)}%`;
}

/** Median and range of the per-round ratios a[i]/b[i]. */
function spread(a: number[], b: number[]): string {
  const r = a.map((x, i) => x / b[i]).sort((x, y) => x - y);
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  return `${pct(r[Math.floor(r.length / 2)])} (${pct(r[0])}-${pct(r[r.length - 1])})`;
}

async function main(): Promise<void> {
  const dirs: string[] = [];
  const subjects: Subject[] = [];
  const add = async (name: string, lib: string, persistent: boolean): Promise<void> => {
    const dir = persistent ? fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-bench-')) : undefined;
    if (dir) dirs.push(dir);
    const e = await startEmbedded(lib, dir);
    subjects.push({ name, port: e.port, auth: true, proc: e.proc, best: new Map(), rounds: new Map(), cpu: new Map() });
  };
  const here = path.join(__dirname, '..', '..', 'lib', 'server');
  const base = BASE === undefined ? undefined : path.join(path.resolve(BASE), 'dist', 'lib', 'server');
  try {
    for (const persistent of WITH_DATA_DIR ? [false, true] : [false]) {
      const suffix = persistent ? ' +dataDir' : '';
      await add(`embedded${suffix}`, here, persistent);
      if (base) await add(`base${suffix}`, base, persistent);
    }
    const mc = await startMemcached();
    if (mc) subjects.push({ name: 'memcached', port: mc.port, auth: false, proc: mc.proc, best: new Map(), rounds: new Map(), cpu: new Map() });
    for (const s of subjects) await preload(s.port, s.auth);
    console.log(`KV benchmark: window ${WINDOW}, ${SECONDS}s per run, best of ${ROUNDS} rounds, ${VALUE.length}-byte values`);
    if (!mc) console.log('memcached not installed: embedded figures only (apt-get install memcached)');
    if (WITH_DATA_DIR) console.log("+dataDir: persistence on (fsync 'batch', group commit every 2 ms)");
    const rows: string[] = [];
    for (const op of ['get', 'set'] as Op[]) {
      for (const conns of [1, 4]) {
        const row = `${op.toUpperCase().padEnd(4)} ${String(conns).padStart(5)}`;
        rows.push(row);
        for (let r = 0; r < ROUNDS; r++) {
          // Rotate which subject goes first, so drift on a noisy machine hits every one.
          for (let i = 0; i < subjects.length; i++) {
            const s = subjects[(i + r) % subjects.length];
            const m = await measure(s.port, s.auth, op, conns, s.proc?.pid);
            s.best.set(row, Math.max(s.best.get(row) ?? 0, m.opsPerSec));
            s.rounds.set(row, [...(s.rounds.get(row) ?? []), m.opsPerSec]);
            s.cpu.set(row, [...(s.cpu.get(row) ?? []), m.cpuNsPerOp]);
          }
        }
      }
    }
    const embedded = subjects.filter((s) => s.name.startsWith('embedded'));
    console.log(`op   conns  ${subjects.map((s) => s.name.padStart(18)).join('')}`);
    for (const row of rows) console.log(`${row}  ${subjects.map((s) => fmt(s.best.get(row)!).padStart(18)).join('')}`);
    const memcached = subjects.find((s) => s.name === 'memcached');
    if (memcached) {
      console.log('\nembedded as a share of memcached (best of each):');
      for (const row of rows) console.log(`${row}  ${embedded.map((s) => `${s.name}: ${ratio(s.best.get(row)!, memcached.best.get(row)!)}`).join('   ')}`);
    }
    console.log(`\nserver CPU per operation, ns (median of rounds)\nop   conns  ${subjects.map((s) => s.name.padStart(18)).join('')}`);
    for (const row of rows) console.log(`${row}  ${subjects.map((s) => fmt(median(s.cpu.get(row)!)).padStart(18)).join('')}`);
    if (base) {
      const against = (s: Subject): Subject => subjects.find((x) => x.name === s.name.replace('embedded', 'base'))!;
      console.log('\nthis build / base, per round in the same run: median (min-max)');
      console.log('throughput:');
      for (const row of rows) console.log(`${row}  ${embedded.map((s) => `${s.name}: ${spread(s.rounds.get(row)!, against(s).rounds.get(row)!)}`).join('   ')}`);
      console.log('server CPU per operation, base / this build (above 100%: this build uses less):');
      for (const row of rows) console.log(`${row}  ${embedded.map((s) => `${s.name}: ${spread(against(s).cpu.get(row)!, s.cpu.get(row)!)}`).join('   ')}`);
    }
  } finally {
    for (const s of subjects) s.proc?.kill(s.name === 'memcached' ? 'SIGKILL' : 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

(process.argv.includes('--serve') ? serve() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
