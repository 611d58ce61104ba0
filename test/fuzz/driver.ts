// Runs the fuzzers against a target process: fuzzed KV connections and HTTP requests, several
// at a time, with a health probe (a fresh authenticated KV set+get and a management GET) every
// few hundred inputs. Attacks that hold connections open (slow-loris, floods of connections,
// clients that never read) run beside the rest, two at a time, so probes meet them. A crash is the
// target process ending; a hang is a probe that gets no answer in time. Each input has its own
// seed (`seed:index`), so a finding is replayed alone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { vbucketOf } from '../../lib/protocol';
import { Rng } from './rng';
import { handshake, request } from './kv-frames';
import { BASIC, type HttpService } from './http-requests';
import { AUTH, isLasting, pickInput, type FuzzInput } from './inputs';

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
  /** Send only inputs of these kinds (the others are drawn, so indexes stay, but not sent). */
  only?: ReadonlyArray<FuzzInput['kind']>;
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
  /** Of kvConnections: slow-loris, never-reading, and opened in floods. */
  slowLoris: number;
  deaf: number;
  flooded: number;
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

export interface Ports {
  kv: number;
  mgmt: number;
  query: number;
  views: number;
}

export class Target {
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
export function runKv(port: number, chunks: Buffer[]): Promise<void> {
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

/** An unauthenticated connection that writes its chunks `gapMs` apart, until they are out or the server closes it. */
export function runLoris(port: number, chunks: Buffer[], gapMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const next = (): void => {
      if (socket.destroyed) return done();
      if (i === chunks.length) {
        timer = setTimeout(done, 100);
        return;
      }
      socket.write(chunks[i++]);
      timer = setTimeout(next, gapMs);
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', next);
  });
}

/** Writes everything and reads nothing for `holdMs`. */
export function runDeaf(port: number, chunks: Buffer[], holdMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      timer = setTimeout(done, holdMs);
    });
  });
}

/** `n` connections at once, the first `authenticated` logging in; all closed once each is open or refused. */
export async function runFlood(port: number, n: number, authenticated: number): Promise<void> {
  const hello = handshake(AUTH.user, AUTH.password, AUTH.bucket, []);
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
      const timer = setTimeout(resolve, 1000);
      const settle = (): void => {
        clearTimeout(timer);
        resolve();
      };
      socket.on('error', settle);
      socket.on('close', settle);
      socket.on('connect', () => {
        if (i < authenticated) socket.write(hello);
        setTimeout(settle, 50);
      });
    })),
  );
  for (const s of sockets) s.destroy();
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
export async function probe(ports: Ports, timeoutMs: number): Promise<string | undefined> {
  // A flood of connections may fill the node: refused at once (closed before any answer), it tries again.
  let kvProblem: string | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    kvProblem = await kvProbe(ports, timeoutMs);
    if (kvProblem !== REFUSED) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const mgmtBytes = Buffer.from(`GET /pools HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: ${BASIC}\r\n\r\n`);
  const mgmtStatus = await runHttp(ports.mgmt, mgmtBytes, timeoutMs);
  if (kvProblem !== undefined) return kvProblem;
  if (mgmtStatus !== 200) return `management probe: GET /pools answered ${mgmtStatus || 'nothing'}`;
  return undefined;
}

const REFUSED = 'KV probe: connection closed before any answer';

function kvProbe(ports: Ports, timeoutMs: number): Promise<string | undefined> {
  return new Promise<string | undefined>((resolve) => {
    const socket = net.connect(ports.kv, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`KV probe: no GET answer within ${timeoutMs} ms`);
    }, timeoutMs);
    let buf = Buffer.alloc(0);
    let answered = false;
    socket.on('error', (e) => {
      clearTimeout(timer);
      resolve(answered ? `KV probe: ${e.message}` : REFUSED);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answered ? 'KV probe: closed before the GET answer' : REFUSED);
    });
    socket.on('data', (d: Buffer) => {
      answered = true;
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
          handshake('Administrator', 'password', 'fuzz-probe', [0x01]),
          request(0x01, { key: 'fuzz-probe', extras: Buffer.alloc(8), value: '{"probe":true}', datatype: 1, vbucket: vb, opaque: 0xabcd0001 }),
          request(0x00, { key: 'fuzz-probe', vbucket: vb, opaque: 0xabcd0002 }),
        ]),
      );
    });
  });
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
    slowLoris: 0,
    deaf: 0,
    flooded: 0,
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

  const run = async (input: FuzzInput, i: number): Promise<void> => {
    const t0 = Date.now();
    try {
      await send(input, i);
    } finally {
      if (process.env.FUZZ_SLOW && Date.now() - t0 > Number(process.env.FUZZ_SLOW)) log(`slow input ${opts.seed}:${i} (${input.kind}): ${Date.now() - t0} ms`);
    }
  };
  const send = async (input: FuzzInput, i: number): Promise<void> => {
    const ports = target.ports;
    if (input.kind === 'http') {
      const { service } = input;
      report.httpRequests[service]++;
      const status = await runHttp(ports[service], input.bytes);
      const key = `${service} ${status || 'none'}`;
      report.httpStatus[key] = (report.httpStatus[key] ?? 0) + 1;
      if (status >= 500 && report.serverErrors.length < 50) report.serverErrors.push(`${service} ${opts.seed}:${i}`);
      return;
    }
    if (input.kind === 'flood') {
      report.kvConnections += input.connections;
      report.flooded += input.connections;
      report.framesSent += input.authenticated * 3;
      return runFlood(ports.kv, input.connections, input.authenticated);
    }
    report.kvConnections++;
    report.framesSent += input.frames;
    for (const c of input.chunks) report.kvBytesSent += c.length;
    if (input.kind === 'loris') {
      report.slowLoris++;
      return runLoris(ports.kv, input.chunks, input.gapMs);
    }
    if (input.kind === 'deaf') {
      report.deaf++;
      return runDeaf(ports.kv, input.chunks, input.holdMs);
    }
    return runKv(ports.kv, input.chunks);
  };

  // Lasting attacks run beside the batches, LANES at a time; the rest wait their turn in a queue.
  const LANES = 3;
  const waiting: Array<() => Promise<void>> = [];
  let running = 0;
  let lastingDone: () => void = () => undefined;
  const startNext = (): void => {
    while (running < LANES && waiting.length > 0) {
      running++;
      void waiting.shift()!().finally(() => {
        running--;
        startNext();
        if (running === 0 && waiting.length === 0) lastingDone();
      });
    }
  };
  const beside = (start: () => Promise<void>): void => {
    waiting.push(start);
    startNext();
  };
  const allLastingDone = (): Promise<void> => (running === 0 && waiting.length === 0 ? Promise.resolve() : new Promise((r) => (lastingDone = r)));

  while (index < maxInputs && Date.now() < deadline) {
    const batch: Promise<void>[] = [];
    const first = index;
    for (let k = 0; k < concurrency && index < maxInputs; k++, index++) {
      sinceProbe.push(`${opts.seed}:${index}`);
      const i = index;
      const input = pickInput(new Rng((opts.seed * 1_000_003 + i) >>> 0));
      if (opts.only !== undefined && !opts.only.includes(input.kind)) {
        k--; // a skipped input takes no place in the batch
        continue;
      }
      if (isLasting(input)) beside(() => run(input, i));
      else batch.push(run(input, i));
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
  await allLastingDone();
  target.sampleRss();
  report.peakRssKb = target.peakRssKb;
  await target.stop();
  report.elapsedMs = Date.now() - started;
  return report;
}
