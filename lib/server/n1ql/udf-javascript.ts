// JavaScript user-defined functions (CREATE FUNCTION f(a) LANGUAGE JAVASCRIPT AS "function f(a)
// {...}"): the code runs on sandbox threads (udf-javascript-worker.ts), never on the thread that
// serves KV, N1QL and management, each function in a hardened realm of its own, with a heap
// limit per thread and a time limit per call that the host enforces from outside (a thread whose
// call is past its limit, or that broke its heap limit, is ended and replaced).
//
// Expressions are synchronous, so a call first waits a moment for its answer (most functions
// answer within a fraction of a millisecond). When the answer is slower and the evaluation can be
// repeated, the call suspends the statement (./pause.ts): the statement's driver awaits the answer
// while the event loop serves everyone else, and the expression is evaluated again. Where an
// evaluation cannot be repeated, the call waits for its answer synchronously, within its limit.
//
// Functions kept in external libraries (`AS "obj" AT "lib"`) need the library service, which the
// embedded cluster does not have: calling one reports that the library is missing.
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { isOutOfMemory, spawnSandboxThread } from '../sandbox/thread';
import { QueryError } from './errors';
import { jsonText, parseJson } from './json';
import { SUSPENDED, type Suspension } from './pause';
import type { FunctionDefinition } from './udf';
import type { CallReply, CallRequest, ThreadMemory } from './udf-javascript-protocol';
import type { Value } from './value';

const WORKER_FILE = path.join(__dirname, 'udf-javascript-worker.js');

export interface JavaScriptLimits {
  /** Milliseconds one call may run. */
  readonly timeoutMs: number;
  /** Heap of each function thread, in MB. */
  readonly memoryLimitMb: number;
  /** Threads that run calls at the same time. */
  readonly threads: number;
}

export const DEFAULT_JAVASCRIPT_LIMITS: JavaScriptLimits = { timeoutMs: 10_000, memoryLimitMb: 64, threads: 2 };

/** How long a call waits synchronously before it suspends the statement instead. */
const SYNC_WINDOW_MS = 2;
/** Time the host allows past a call's limit before it ends the thread (the thread stops a call at the limit itself). */
const GRACE_MS = 250;
/** Time a new thread may take to start its first call. */
const START_MS = 30_000;
/** An idle thread ends after this long (the next call starts one again). */
const IDLE_MS = 60_000;
/** How often a synchronous wait checks the process's growth (see waitSync). */
const RSS_POLL_MS = 20;

/** How a call ended: the function's result ('=' + JSON, '' for MISSING) or why it failed. */
type Outcome = { result: string } | { error: string };

class Call {
  outcome: Outcome | undefined;
  thread: FunctionThread | undefined;
  dispatchedAt = 0;
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor(
    readonly request: CallRequest,
    readonly def: FunctionDefinition,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  settle(outcome: Outcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.thread = undefined;
    this.resolve();
  }
}

class FunctionThread {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly started: Float64Array;
  current: Call | undefined;
  calls = 0;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(runner: JavaScriptRunner, signal: SharedArrayBuffer, memoryLimitMb: number) {
    const { port1, port2 } = new MessageChannel();
    const memory: ThreadMemory = { signal, started: new SharedArrayBuffer(8) };
    this.started = new Float64Array(memory.started);
    this.port = port1;
    this.worker = spawnSandboxThread(WORKER_FILE, { memoryLimitMb, workerData: { port: port2, memory }, transferList: [port2] });
    this.port.on('message', (reply: CallReply) => runner.answer(this, reply));
    this.worker.on('error', (err: Error & { code?: string }) => {
      runner.lost(this, isOutOfMemory(err) ? `the function used more than the memory limit of ${memoryLimitMb} MB` : `its thread failed: ${err.message}`);
    });
    this.worker.on('exit', () => runner.lost(this, 'its thread ended'));
    this.hold(false);
  }

  /** Keeps the process alive only while a call is owed. */
  hold(on: boolean): void {
    if (on) {
      this.worker.ref();
      this.port.ref();
    } else {
      this.worker.unref();
      this.port.unref();
    }
  }
}

/** A pool of function threads and the calls waiting for one. */
export class JavaScriptRunner {
  private readonly threads = new Set<FunctionThread>();
  private readonly queue: Call[] = [];
  private readonly signal = new SharedArrayBuffer(4);
  private readonly answers = new Int32Array(this.signal);
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(readonly limits: JavaScriptLimits = DEFAULT_JAVASCRIPT_LIMITS) {}

  /** Starts a call: on an idle thread now, or when one becomes free. */
  start(def: FunctionDefinition, args: string): Call {
    const call = new Call({ id: this.nextId++, name: def.name, code: def.text, args, timeoutMs: this.limits.timeoutMs }, def);
    this.queue.push(call);
    this.pump();
    return call;
  }

  /**
   * Waits up to `ms` for `call` to end, blocking this thread (the threads answer through shared
   * memory); true when it has. Limits are enforced meanwhile.
   */
  waitSync(call: Call, ms: number): boolean {
    const until = Date.now() + ms;
    // The heap watch (../sandbox/heap-watch.ts) cannot run while this thread blocks: meanwhile a
    // process that grows by more than a thread's memory limit has grown through the busy threads.
    const rssAtStart = process.memoryUsage.rss();
    for (;;) {
      const seen = Atomics.load(this.answers, 0);
      this.pump();
      if (call.outcome !== undefined) return true;
      const now = Date.now();
      if (now >= until) return false;
      Atomics.wait(this.answers, 0, seen, Math.max(1, Math.min(until, this.nextDeadline(), now + RSS_POLL_MS) - now));
      if (process.memoryUsage.rss() - rssAtStart > this.limits.memoryLimitMb * 1024 * 1024) {
        for (const t of [...this.threads]) if (t.current !== undefined) this.end(t, this.memoryText());
      }
    }
  }

  /** Ends every thread (calls still owed fail); a later call starts threads again. */
  close(): void {
    for (const t of [...this.threads]) this.end(t, 'the query service stopped');
    for (const c of this.queue.splice(0)) c.settle({ error: 'the query service stopped' });
    if (this.watchdog) clearTimeout(this.watchdog);
  }

  /** A thread's answer, from its port's events. */
  answer(thread: FunctionThread, reply: CallReply): void {
    if (this.settle(thread, reply)) this.pump();
  }

  /** A thread that died (heap limit, crash): its call fails with `why`. */
  lost(thread: FunctionThread, why: string): void {
    if (!this.threads.has(thread)) return;
    this.end(thread, why);
    this.pump();
  }

  private settle(thread: FunctionThread, reply: CallReply): boolean {
    const call = thread.current;
    if (call === undefined || reply.id !== call.request.id) return false;
    thread.current = undefined;
    call.settle('result' in reply ? { result: reply.result } : { error: reply.timeout ? this.timeoutText() : reply.error });
    this.idle(thread);
    return true;
  }

  /** Reads answers that arrived, ends threads past their limit, and hands queued calls to free threads. */
  private pump(): void {
    const now = Date.now();
    for (const t of [...this.threads]) {
      if (t.current === undefined) continue;
      // Read synchronously: while this thread blocks in waitSync, port events cannot run.
      for (let m = receiveMessageOnPort(t.port); m !== undefined; m = receiveMessageOnPort(t.port)) this.settle(t, m.message as CallReply);
      if (t.current !== undefined && now > this.deadlineOf(t)) this.end(t, t.started[0] > 0 ? this.timeoutText() : 'its thread did not start in time');
    }
    while (this.queue.length > 0) {
      const thread = this.freeThread();
      if (thread === undefined) break;
      const call = this.queue.shift()!;
      if (thread.idleTimer) clearTimeout(thread.idleTimer);
      thread.current = call;
      thread.calls++;
      call.thread = thread;
      call.dispatchedAt = Date.now();
      thread.hold(true);
      thread.port.postMessage(call.request);
    }
    this.armWatchdog();
  }

  /** When the thread's current call must have ended: its limit after it started, or the start-up allowance. */
  private deadlineOf(t: FunctionThread): number {
    const started = t.started[0];
    if (started > 0) return started + t.current!.request.timeoutMs + GRACE_MS;
    return t.current!.dispatchedAt + (t.calls === 1 ? START_MS : t.current!.request.timeoutMs) + GRACE_MS;
  }

  private nextDeadline(): number {
    let next = Infinity;
    for (const t of this.threads) if (t.current !== undefined) next = Math.min(next, this.deadlineOf(t));
    return next;
  }

  /** A timer for the earliest deadline, so limits hold while nobody waits synchronously. */
  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const next = this.nextDeadline();
    if (next === Infinity) return;
    this.watchdog = setTimeout(() => this.pump(), Math.max(1, next - Date.now() + 1));
    // A call owed keeps its thread referenced; the watchdog alone keeps nothing alive.
    this.watchdog.unref();
  }

  private freeThread(): FunctionThread | undefined {
    for (const t of this.threads) if (t.current === undefined) return t;
    if (this.threads.size >= this.limits.threads) return undefined;
    const t = new FunctionThread(this, this.signal, this.limits.memoryLimitMb);
    this.threads.add(t);
    return t;
  }

  private idle(t: FunctionThread): void {
    t.hold(false);
    t.idleTimer = setTimeout(() => {
      if (t.current === undefined) this.end(t, 'idle');
    }, IDLE_MS);
    t.idleTimer.unref();
  }

  private end(t: FunctionThread, why: string): void {
    this.threads.delete(t);
    if (t.idleTimer) clearTimeout(t.idleTimer);
    const call = t.current;
    t.current = undefined;
    call?.settle({ error: why });
    t.port.close();
    void t.worker.terminate().catch(() => undefined);
  }

  private memoryText(): string {
    return `the function used more than the memory limit of ${this.limits.memoryLimitMb} MB`;
  }

  private timeoutText(): string {
    return `the function ran past its time limit of ${this.limits.timeoutMs} ms`;
  }
}

let shared: JavaScriptRunner | undefined;

/** The runner of statements that do not come with one (queries run outside a query service). */
export function defaultRunner(): JavaScriptRunner {
  return (shared ??= new JavaScriptRunner());
}

function executionError(def: FunctionDefinition, why: string): QueryError {
  return new QueryError(10109, `Error executing function ${def.name} : (javascript) ${why} - cause: ${why}`);
}

function valueOf(def: FunctionDefinition, outcome: Outcome): Value {
  if ('error' in outcome) throw executionError(def, outcome.error);
  return outcome.result === '' ? undefined : parseJson(outcome.result.slice(1));
}

/** A JavaScript function definition as a function of its argument values. */
export function javascriptFunction(def: FunctionDefinition, runner: JavaScriptRunner): (args: Value[], ctx: Suspension) => Value {
  const key = `${def.namespace}:${def.bucket ?? ''}.${def.scope ?? ''}.${def.name}\u0000`;
  return (args, ctx) => {
    if (def.object !== undefined) throw executionError(def, `library ${def.library} not found`);
    const text = jsonText(args.map((a) => (a === undefined ? null : a)))!;
    const suspendable = ctx.canWait === true && ctx.retryable === true;
    // An answer that arrived while this evaluation was suspended.
    const kept = suspendable ? (ctx.jsAnswers?.get(key + text) as Call | undefined) : undefined;
    if (kept !== undefined) {
      if (kept.outcome !== undefined) return valueOf(def, kept.outcome);
      ctx.waitingFor = kept.done;
      throw SUSPENDED;
    }
    const call = runner.start(def, text);
    if (runner.waitSync(call, suspendable ? SYNC_WINDOW_MS : runner.limits.timeoutMs + START_MS)) return valueOf(def, call.outcome!);
    if (!suspendable) throw executionError(def, 'its thread did not answer');
    (ctx.jsAnswers ??= new Map()).set(key + text, call);
    ctx.waitingFor = call.done;
    throw SUSPENDED;
  };
}
