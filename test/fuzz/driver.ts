// Runs the fuzzers against a target process: fuzzed KV connections and HTTP requests, several
// at a time, with a health probe (a fresh authenticated KV set+get and a management GET) every
// few hundred inputs. A crash is the target process ending; a hang is a probe that gets no
// answer in time. Each input has its own seed (`seed:index`), so a finding is replayed alone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { vbucketOf } from '../../lib/protocol';
import { Rng } from './rng';
import { connectionScript, handshake, request } from './kv-frames';
import { BASIC, httpRequest, type HttpService } from './http-requests';

export interface FuzzOptions {
  seed: number;
  /** Stop after this many inputs (KV connections + HTTP requests) ... */
  inputs?: number;
  /** ... or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Inputs in flight at once (default 8). */
  concurrency?: number;
  /** Inputs between health probes (default 250). */
  probeEvery?: number;
  /** How long a probe may take before it counts as a hang (default 5000 ms). */
  probeTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Finding {
  kind: 'crash' | 'hang';
  /** `seed:index` of the inputs in flight or sent since the last good probe. */
  inputs: string[];
  detail: string;
}

export interface FuzzReport {
  seed: number;
  kvConnections: number;
  framesSent: number;
  kvBytesSent: number;
  httpRequests: Record<HttpService, number>;
  httpStatus: Record<string, number>;
  crashes: number;
  hangs: number;
  findings: Finding[];
  /** `seed:index` of HTTP inputs answered 5xx (an internal error is not a crash, but is a bug). */
  serverErrors: string[];
  peakRssKb: number;
  elapsedMs: number;
}

interface Ports {
  kv: number;
  mgmt: number;
  query: number;
  views: number;
}

class Target {
  child!: ChildProcess;
  ports!: Ports;
  exited: string | undefined;
  private stderrTail = '';
  peakRssKb = 0;

  async start(): Promise<void> {
    const script = path.join(__dirname, 'target.js');
    this.exited = undefined;
    this.stderrTail = '';
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
    child.on('exit', (code, signal) => {
      this.exited = `exit code ${code}, signal ${signal}; stderr: ${this.stderrTail.trim().slice(-1500)}`;
    });
    this.ports = await new Promise<Ports>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out += d;
        const m = /READY (\{.*\})\n/.exec(out);
        if (m) resolve(JSON.parse(m[1]) as Ports);
      });
      child.once('exit', () => reject(new Error(`fuzz target ended before it was ready: ${this.stderrTail}`)));
    });
  }

  /** Peak resident memory of the target so far (VmHWM), in kB. */
  sampleRss(): void {
    try {
      const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m) this.peakRssKb = Math.max(this.peakRssKb, Number(m[1]));
    } catch {
      // not Linux, or the process is gone
    }
  }

  stop(): Promise<void> {
    if (this.exited !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

/** Writes a KV connection's script and reads until the server closes or goes quiet. */
function runKv(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let quiet: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(quiet);
      socket.destroy();
      resolve();
    };
    const arm = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 150);
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', arm);
    socket.on('connect', () => {
      for (const c of chunks) if (!socket.destroyed) socket.write(c);
      arm();
    });
  });
}

/** Sends one raw HTTP request; resolves with the status (0: none) within `ms`. */
function runHttp(port: number, bytes: Buffer, ms = 2000): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    let status = 0;
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (status === 0) {
        head += d;
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (m) status = Number(m[1]);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(status);
    });
    socket.on('connect', () => socket.end(bytes));
  });
}

/** A fresh client does what any application does first; false (with why) when it cannot. */
async function probe(ports: Ports, timeoutMs: number): Promise<string | undefined> {
  const kv = new Promise<string | undefined>((resolve) => {
    const socket = net.connect(ports.kv, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`KV probe: no GET answer within ${timeoutMs} ms`);
    }, timeoutMs);
    let buf = Buffer.alloc(0);
    socket.on('error', (e) => {
      clearTimeout(timer);
      resolve(`KV probe: ${e.message}`);
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 24) {
        const len = 24 + buf.readUInt32BE(8);
        if (buf.length < len) break;
        const opaque = buf.readUInt32BE(12);
        const status = buf.readUInt16BE(6);
        const body = buf.subarray(24 + buf[4] + buf.readUInt16BE(2), len).toString();
        buf = buf.subarray(len);
        if (opaque === 0xabcd0002) {
          clearTimeout(timer);
          socket.destroy();
          resolve(status === 0 && body === '{"probe":true}' ? undefined : `KV probe: GET answered status ${status} body ${body.slice(0, 80)}`);
        }
      }
    });
    socket.on('connect', () => {
      const vb = vbucketOf('fuzz-probe', 64);
      socket.write(
        Buffer.concat([
          handshake('Administrator', 'password', 'default', [0x01]),
          request(0x01, { key: 'fuzz-probe', extras: Buffer.alloc(8), value: '{"probe":true}', datatype: 1, vbucket: vb, opaque: 0xabcd0001 }),
          request(0x00, { key: 'fuzz-probe', vbucket: vb, opaque: 0xabcd0002 }),
        ]),
      );
    });
  });
  const mgmtBytes = Buffer.from(`GET /pools HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: ${BASIC}\r\n\r\n`);
  const [kvProblem, mgmtStatus] = await Promise.all([kv, runHttp(ports.mgmt, mgmtBytes, timeoutMs)]);
  if (kvProblem !== undefined) return kvProblem;
  if (mgmtStatus !== 200) return `management probe: GET /pools answered ${mgmtStatus || 'nothing'}`;
  return undefined;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => undefined);
  const concurrency = opts.concurrency ?? 8;
  const probeEvery = opts.probeEvery ?? 250;
  const probeTimeoutMs = opts.probeTimeoutMs ?? 5000;
  const deadline = opts.seconds === undefined ? Infinity : Date.now() + opts.seconds * 1000;
  const maxInputs = opts.inputs ?? Infinity;
  const report: FuzzReport = {
    seed: opts.seed,
    kvConnections: 0,
    framesSent: 0,
    kvBytesSent: 0,
    httpRequests: { mgmt: 0, query: 0, views: 0 },
    httpStatus: {},
    crashes: 0,
    hangs: 0,
    findings: [],
    serverErrors: [],
    peakRssKb: 0,
    elapsedMs: 0,
  };
  const started = Date.now();
  const target = new Target();
  await target.start();
  let index = 0;
  let sinceProbe: string[] = [];

  const one = async (i: number): Promise<void> => {
    const r = new Rng((opts.seed * 1_000_003 + i) >>> 0);
    const ports = target.ports;
    if (r.chance(0.65)) {
      const script = connectionScript(r, { user: 'Administrator', password: 'password', bucket: 'default' });
      report.kvConnections++;
      report.framesSent += script.frames;
      for (const c of script.chunks) report.kvBytesSent += c.length;
      await runKv(ports.kv, script.chunks);
    } else {
      const service = r.pick(['mgmt', 'query', 'views'] as const);
      report.httpRequests[service]++;
      const status = await runHttp(ports[service], httpRequest(r, service));
      const key = `${service} ${status || 'none'}`;
      report.httpStatus[key] = (report.httpStatus[key] ?? 0) + 1;
      if (status >= 500 && report.serverErrors.length < 50) report.serverErrors.push(`${service} ${opts.seed}:${i}`);
    }
  };

  while (index < maxInputs && Date.now() < deadline) {
    const batch: Promise<void>[] = [];
    const first = index;
    for (let k = 0; k < concurrency && index < maxInputs; k++, index++) {
      sinceProbe.push(`${opts.seed}:${index}`);
      batch.push(one(index));
    }
    await Promise.all(batch);
    target.sampleRss();
    const probeDue = Math.floor(index / probeEvery) !== Math.floor(first / probeEvery) || index >= maxInputs || Date.now() >= deadline;
    if (target.exited === undefined && !probeDue) continue;
    const problem = target.exited === undefined ? await probe(target.ports, probeTimeoutMs) : undefined;
    if (target.exited !== undefined) {
      report.crashes++;
      report.findings.push({ kind: 'crash', inputs: sinceProbe, detail: target.exited });
      log(`crash after input ${index}: ${target.exited}`);
    } else if (problem !== undefined) {
      report.hangs++;
      report.findings.push({ kind: 'hang', inputs: sinceProbe, detail: problem });
      log(`hang after input ${index}: ${problem}`);
    } else {
      sinceProbe = [];
      continue;
    }
    sinceProbe = [];
    target.sampleRss();
    await target.stop();
    await target.start();
  }
  target.sampleRss();
  report.peakRssKb = target.peakRssKb;
  await target.stop();
  report.elapsedMs = Date.now() - started;
  return report;
}
