// KV throughput of the embedded cluster's single node vs Debian's memcached, side by side.
// A raw pipelined binary-protocol client (window 256) does GET and SET on 1 and 4 connections.
// Both servers run in their own process (the embedded node in a child Node process started by
// this script), so the client's own CPU does not count against either.
// Usage: node dist/bench/server/index.js [seconds-per-run=2] [rounds=2]
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Cluster } from '../../lib/server';
import { Magic, Opcode, encodePacket, encodePlain, vbucketOf } from '../../lib/protocol';

const WINDOW = 256;
const KEYS = 10000;
const VALUE = Buffer.alloc(100, 'v');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SECONDS = Number(args[0] ?? 2);
const ROUNDS = Number(args[1] ?? 2);

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

async function measure(port: number, auth: boolean, op: Op, connections: number): Promise<number> {
  const conns = await openConns(port, connections, auth);
  try {
    const results = await Promise.all(conns.map((c) => c.run(BATCHES[op], PER_BATCH, SECONDS * 1000)));
    const errors = results.reduce((a, r) => a + r.errors, 0);
    if (errors !== 0) throw new Error(`bench: ${errors} error responses for ${op}`);
    return results.reduce((a, r) => a + r.ops, 0) / SECONDS;
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

/** The embedded single node in a child process (`--serve` mode of this script). */
function startEmbedded(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...process.execArgv, __filename, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const cluster = await Cluster.start({ nodes: 1, queryService: null, viewsService: null });
  process.stdout.write(`PORT ${cluster.nodes[0].ports.kv}\n`);
  const stop = (): void => void cluster.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(): Promise<void> {
  const embedded = await startEmbedded();
  const kv = embedded.port;
  const mc = await startMemcached();
  try {
    await preload(kv, true);
    if (mc) await preload(mc.port, false);
    console.log(`KV benchmark: window ${WINDOW}, ${SECONDS}s per run, best of ${ROUNDS} rounds, ${VALUE.length}-byte values`);
    if (!mc) console.log('memcached not installed: embedded figures only (apt-get install memcached)');
    console.log('op   conns    embedded ops/s   memcached ops/s   ratio');
    for (const op of ['get', 'set'] as Op[]) {
      for (const conns of [1, 4]) {
        let best = 0;
        let bestMc = 0;
        for (let r = 0; r < ROUNDS; r++) {
          // Alternate which server goes first, so drift on a noisy machine hits both.
          if (mc && r % 2 === 1) bestMc = Math.max(bestMc, await measure(mc.port, false, op, conns));
          best = Math.max(best, await measure(kv, true, op, conns));
          if (mc && r % 2 === 0) bestMc = Math.max(bestMc, await measure(mc.port, false, op, conns));
        }
        const ratio = mc ? `${((best / bestMc) * 100).toFixed(0)}%` : '-';
        console.log(`${op.toUpperCase().padEnd(4)} ${String(conns).padStart(5)}  ${fmt(best)}       ${mc ? fmt(bestMc) : '          -'}     ${ratio}`);
      }
    }
  } finally {
    mc?.proc.kill();
    embedded.proc.kill('SIGTERM');
  }
}

(process.argv.includes('--serve') ? serve() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
