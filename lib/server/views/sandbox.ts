// The host side of a design document's sandbox: one worker thread per design document, started
// with a heap limit, running its map and reduce functions in a realm of their own (see
// sandbox-worker.ts and sandbox-runner.ts).
//
// Why a worker thread and not a JS engine compiled to WASM (QuickJS): both isolate the realm and
// both can stop a runaway function, but a worker runs the functions on V8's JIT, so indexing
// keeps its speed (an interpreter is several times slower per document), and it takes the work
// off the event loop that KV, N1QL and management share. Its limits: node:vm's timeout stops a
// function that spins (a watchdog here ends the thread should that ever fail), resourceLimits
// end the thread when the heap passes the memory limit, and the globals that hold memory
// outside the heap or run code later are removed from the realm.
//
// A function past a limit costs only its own design document: a document that times out is
// skipped and reported (Couchbase's behaviour), and past `maxTimeouts` such documents, on a heap
// overflow, a thread that dies or output that fails the host's checks, the sandbox fails: every
// request is refused with SandboxFailedError and the reason stays readable in `failure`.
import path from 'node:path';
import vm from 'node:vm';
import type { Worker } from 'node:worker_threads';
import debugFactory from 'debug';
import { isOutOfMemory, spawnSandboxThread } from '../sandbox/thread';
import { ViewFunctionError } from './errors';
import { decodeMapOutput, decodeReduceOutput, InvalidSandboxOutput, type MapOutput } from './sandbox-output';
import { functionExpression, type InitRequest, type MapRequest, type ReduceRequest, type SandboxReply } from './sandbox-protocol';
import { DEFAULT_FUNCTION_TIMEOUT_MS, DEFAULT_MAX_TIMEOUTS, DEFAULT_MEMORY_LIMIT_MB } from './sandbox-limits';

export type { MapOutput } from './sandbox-output';

const debug = debugFactory('deferbase:views:sandbox');

const WORKER_FILE = path.join(__dirname, 'sandbox-worker.js');
/** Extra time the watchdog allows over the function limits (thread start-up on a loaded machine). */
const GRACE_MS = 30_000;
/** An idle sandbox thread ends after this long by default; the next request starts it again. */
const IDLE_MS = 60_000;

/** What a map function sees of one document. */
export interface MapInput {
  readonly id: string;
  /** The body bytes (a view of the stored value, not a copy). */
  readonly body: Buffer;
  /** The body is JSON (the map gets it parsed); otherwise the map gets it as base64 text. */
  readonly json: boolean;
  readonly rev: string;
  readonly seq: number;
  readonly vb: number;
  readonly expiration: number;
  readonly flags: number;
}

export interface SandboxOptions {
  /** Milliseconds one document may spend in the map functions (and one reduce call in a reduce). */
  timeoutMs?: number;
  /** Heap of the design document's sandbox thread, in MB; past it the design document fails. */
  memoryLimitMb?: number;
  /** Documents whose map may run past the time limit before the design document fails. */
  maxTimeouts?: number;
  /** Milliseconds after which an idle sandbox thread ends (the next request starts it again). */
  idleMs?: number;
}

/** The functions of one design document, in view order. */
export interface SandboxFunctions {
  /** Name used in stack traces and failure reasons (`bucket/_design/name`). */
  readonly name: string;
  readonly views: ReadonlyArray<{ readonly name: string; readonly map: string; readonly reduce: string | undefined }>;
}

/** The sandbox stopped; `reason` says why (and what limit it passed). */
export class SandboxFailedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SandboxFailedError';
  }
}

/** A function of the design document did not compile; `reason` is Couchbase's text naming the view. */
export class SandboxCompileError extends SandboxFailedError {
  override name = 'SandboxCompileError';
}

/** Checks that `source` parses as a JS expression, without running any of it; returns the error text or ''. */
export function checkFunctionSyntax(source: string): string {
  try {
    new vm.Script(`(${functionExpression(source)}\n)`, { filename: 'check.js' });
    return '';
  } catch (err) {
    const e = err as Error;
    return `${e.name ?? 'SyntaxError'}: ${e.message}`;
  }
}

interface Pending {
  resolve(reply: SandboxReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class ViewSandbox {
  readonly timeoutMs: number;
  readonly memoryLimitMb: number;
  readonly maxTimeouts: number;
  readonly idleMs: number;
  readonly mapCount: number;
  /** Resolves once every function compiled; rejects with SandboxCompileError or SandboxFailedError. */
  readonly ready: Promise<void>;
  private readonly maps: string[];
  private readonly reduces: string[] = [];
  private readonly reduceIndex = new Map<string, number>();
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private timeouts = 0;
  private failed: { reason: string; at: Date } | undefined;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;

  /** With `failure`, the sandbox starts failed and runs nothing (a stored design document that no longer validates). */
  constructor(
    private readonly fns: SandboxFunctions,
    options: SandboxOptions = {},
    failure?: string,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    this.maxTimeouts = Math.max(1, options.maxTimeouts ?? DEFAULT_MAX_TIMEOUTS);
    this.idleMs = options.idleMs ?? IDLE_MS;
    this.maps = fns.views.map((v) => v.map);
    this.mapCount = this.maps.length;
    for (const v of fns.views) {
      if (v.reduce === undefined || v.reduce.startsWith('_') || this.reduceIndex.has(v.reduce)) continue;
      this.reduceIndex.set(v.reduce, this.reduces.length);
      this.reduces.push(v.reduce);
    }
    if (failure !== undefined) {
      this.failed = { reason: failure, at: new Date() };
      this.ready = Promise.reject(new SandboxFailedError(failure));
    } else {
      this.ready = this.start();
    }
    // Callers that never wait on `ready` read the failure from `failure` instead.
    this.ready.catch(() => undefined);
  }

  /** Why the sandbox stopped, and when; undefined while it works. */
  get failure(): { readonly reason: string; readonly at: Date } | undefined {
    return this.failed;
  }

  /** Whether a thread is running (it ends when idle and starts again on demand). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Documents stopped at the time limit so far. */
  get timeoutCount(): number {
    return this.timeouts;
  }

  /**
   * Runs every map function over `docs`; one MapOutput per document, in order. When the batch
   * makes the sandbox fail (too many documents past the time limit) the outputs stop at the
   * document that did it; a sandbox that had already failed rejects with SandboxFailedError.
   */
  async map(docs: readonly MapInput[]): Promise<MapOutput[]> {
    const out: MapOutput[] = [];
    let from = 0;
    while (from < docs.length) {
      const part = docs.slice(from);
      const { bodies, ends } = packBodies(part);
      const msg: Omit<MapRequest, 'id'> = {
        t: 'map',
        metas: part.map(metaText),
        bodies,
        ends,
        types: part.map((d) => (d.json ? 0 : 1)),
        timeoutsLeft: this.maxTimeouts - this.timeouts,
      };
      const reply = await this.request(msg, (part.length + 2) * this.timeoutMs, [bodies.buffer as ArrayBuffer]);
      if (!('timeouts' in reply) || typeof reply.text !== 'string' || !Number.isInteger(reply.timeouts) || reply.timeouts < 0) {
        throw this.fail(`the sandbox answered a map request with ${faultOf(reply)}`);
      }
      let outputs: MapOutput[];
      try {
        outputs = decodeMapOutput(reply.text, part.length, this.mapCount);
      } catch (err) {
        if (err instanceof InvalidSandboxOutput) throw this.fail(err.message);
        throw err;
      }
      for (const o of outputs) out.push(o);
      from += outputs.length;
      this.timeouts += reply.timeouts;
      if (this.timeouts >= this.maxTimeouts) {
        // The documents mapped so far (the timed-out ones among them) are still reported.
        this.fail(`its map functions ran past the time limit of ${this.timeoutMs} ms on ${this.timeouts} documents`);
        break;
      }
    }
    return out;
  }

  /**
   * Runs the JS reduce `source` over `jobs` ([keys | null, values, rereduce] each) in one call;
   * throws ViewFunctionError with the exception text (or 'timeout'), SandboxFailedError when the
   * sandbox stopped.
   */
  async reduce(source: string, jobs: ReadonlyArray<readonly [unknown[] | null, unknown[], boolean]>): Promise<unknown[]> {
    if (this.failed) throw new SandboxFailedError(this.failed.reason);
    const idx = this.reduceIndex.get(source);
    if (idx === undefined) throw new ViewFunctionError(`reduce function not compiled: ${source.slice(0, 40)}`);
    const reply = await this.request<ReduceRequest>({ t: 'reduce', input: JSON.stringify([idx, jobs]) }, 2 * this.timeoutMs);
    if (!('text' in reply) || typeof reply.text !== 'string') throw this.fail(`the sandbox answered a reduce request with ${faultOf(reply)}`);
    try {
      return decodeReduceOutput(reply.text, jobs.length);
    } catch (err) {
      if (err instanceof InvalidSandboxOutput) throw this.fail(err.message);
      throw err;
    }
  }

  /** Ends the thread; pending and later requests are refused. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWorker();
    this.rejectAll(new SandboxFailedError('the design document was replaced or removed'));
  }

  private async start(): Promise<void> {
    const reply = await this.request<InitRequest>(
      { t: 'init', name: this.fns.name, maps: this.maps, reduces: this.reduces, timeoutMs: this.timeoutMs },
      (this.maps.length + this.reduces.length + 1) * this.timeoutMs,
    );
    if (!('errors' in reply) || !Array.isArray(reply.errors) || reply.errors.length !== this.maps.length + this.reduces.length) {
      throw this.fail(`the sandbox answered its start with ${faultOf(reply)}`);
    }
    const bad = reply.errors.findIndex((e) => typeof e !== 'string' || e !== '');
    if (bad < 0) return;
    const reason = String(reply.errors[bad]);
    const text =
      bad < this.maps.length
        ? `Syntax error in the map function of the view \`${this.fns.views[bad].name}': ${reason}`
        : `Syntax error in the reduce function of the view \`${this.fns.views.find((v) => v.reduce === this.reduces[bad - this.maps.length])?.name ?? ''}': ${reason}`;
    throw this.fail(text, SandboxCompileError);
  }

  private spawn(): Worker {
    const worker = spawnSandboxThread(WORKER_FILE, { memoryLimitMb: this.memoryLimitMb });
    worker.on('message', (reply: SandboxReply) => this.onReply(worker, reply));
    worker.on('error', (err: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      if (isOutOfMemory(err)) this.fail(`its functions used more than the memory limit of ${this.memoryLimitMb} MB`);
      else this.fail(`its sandbox thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(`its sandbox thread exited unexpectedly (code ${code})`);
    });
    return worker;
  }

  private request<M extends InitRequest | MapRequest | ReduceRequest>(msg: Omit<M, 'id'>, budgetMs: number, transfer: ArrayBuffer[] = []): Promise<SandboxReply> {
    if (this.failed) return Promise.reject(new SandboxFailedError(this.failed.reason));
    if (this.closed) return Promise.reject(new SandboxFailedError('the design document was replaced or removed'));
    let worker = this.worker;
    if (worker === null) {
      try {
        worker = this.worker = this.spawn();
      } catch (err) {
        return Promise.reject(this.fail(`its sandbox thread could not start: ${(err as Error).message}`));
      }
      // A thread ended while idle starts again with the same functions.
      if (msg.t !== 'init') void this.start().catch(() => undefined);
    }
    const id = this.nextId++;
    const limit = budgetMs + GRACE_MS;
    return new Promise<SandboxReply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`its sandbox did not answer within ${limit} ms`), limit);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      // Referenced only while it owes an answer, so an idle sandbox never keeps the process alive.
      worker.ref();
      worker.postMessage({ ...msg, id }, transfer);
    });
  }

  private onReply(worker: Worker, reply: SandboxReply): void {
    if (worker !== this.worker) return;
    const id = typeof reply === 'object' && reply !== null ? reply.id : undefined;
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      this.fail('the sandbox answered a request it was not asked');
      return;
    }
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if (this.pending.size === 0) {
      worker.unref();
      if (this.idleTimer) this.idleTimer.refresh();
      else {
        this.idleTimer = setTimeout(() => this.retire(), this.idleMs);
        this.idleTimer.unref();
      }
    }
    p.resolve(reply);
  }

  /** Ends an idle thread to give its memory back; not a failure. A busy one is looked at again later. */
  private retire(): void {
    if (this.pending.size > 0) this.idleTimer?.refresh();
    else this.stopWorker();
  }

  private stopWorker(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate().catch(() => undefined);
  }

  private rejectAll(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** Stops the sandbox for good; returns the error requests are refused with. */
  private fail(reason: string, Kind: typeof SandboxFailedError = SandboxFailedError): SandboxFailedError {
    if (!this.failed && !this.closed) {
      this.failed = { reason, at: new Date() };
      debug('%s stopped: %s', this.fns.name, reason);
      this.stopWorker();
      this.rejectAll(new Kind(reason));
    }
    return new Kind(this.failed?.reason ?? reason);
  }
}

/** The bodies back to back in a buffer of their own (so it can be transferred), and where each ends. */
function packBodies(docs: readonly MapInput[]): { bodies: Uint8Array; ends: number[] } {
  let total = 0;
  for (const d of docs) total += d.body.length;
  const bodies = Buffer.allocUnsafeSlow(total);
  const ends: number[] = new Array(docs.length);
  let at = 0;
  for (let i = 0; i < docs.length; i++) {
    at += docs[i].body.copy(bodies, at);
    ends[i] = at;
  }
  return { bodies, ends };
}

function metaText(d: MapInput): string {
  return `[${JSON.stringify(d.id)},${JSON.stringify(d.rev)},${d.seq},${d.vb},${d.expiration},${d.flags}]`;
}

function faultOf(reply: SandboxReply): string {
  return 'fault' in reply && typeof reply.fault === 'string' ? `a fault: ${reply.fault}` : 'an unexpected message';
}
