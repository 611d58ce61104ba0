// The callback core every flavour wraps: one engine, a queue for operations issued before the
// connection is up, cancellation, and the stream plumbing (views' includeDocs) that is the same
// whatever async type a flavour hands back. Flavours add only their async type on top.
import createDebug from 'debug';
import type { Callback, EngineLike, KvSink, StreamControl, StreamHandler } from './contract';
import { NO_OPTIONS, normaliseInto, specOf, type KvCallTarget, type MethodSpec } from './methods';

export type { KvSink } from './contract';

const debug = createDebug('deferbase:adapters');

type ConnState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';

/** A pending operation; cancel() drops it (its callback is never called afterwards). */
export interface Pending {
  cancel(): void;
}

interface Waiter {
  run(): void;
  fail(err: Error): void;
}

/** Raised for operations on a bucket that was closed. */
export type ClosedErrorFactory = () => Error;

export interface CoreOptions {
  /** Builds the error given to operations issued after close(). */
  closedError: ClosedErrorFactory;
}

export class BucketCore {
  private state: ConnState = 'idle';
  private connectError: Error | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly connectCallbacks: Callback<void>[] = [];
  /** The engine reports to handler objects (EngineLike.dispatchKv): run() then needs no request object. */
  private readonly dispatches: boolean;

  constructor(
    readonly engine: EngineLike,
    private readonly opts: CoreOptions,
  ) {
    this.dispatches = typeof engine.dispatchKv === 'function';
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Starts connecting (once); `cb` fires when the connection is up or has failed. */
  connect(cb?: Callback<void>): void {
    if (cb) {
      if (this.state === 'connected') return void queueMicrotask(() => cb(null));
      if (this.state === 'failed' || this.state === 'closed') {
        const err = this.state === 'closed' ? this.opts.closedError() : this.connectError!;
        return void queueMicrotask(() => cb(err));
      }
      this.connectCallbacks.push(cb);
    }
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    debug('connecting');
    this.engine.connect((err) => {
      if (this.state === 'closed') return;
      if (err) {
        this.state = 'failed';
        this.connectError = err;
        debug('connect failed: %s', err.message);
      } else {
        this.state = 'connected';
        debug('connected');
      }
      const waiters = [...this.waiters];
      this.waiters.clear();
      for (const w of waiters) err ? w.fail(err) : w.run();
      const cbs = this.connectCallbacks.splice(0);
      for (const c of cbs) c(err ?? null);
    });
  }

  /** Runs `run` once connected; `fail` gets the connect error. Starts connecting if idle. */
  private whenReady(run: () => void, fail: (err: Error) => void): Pending | undefined {
    switch (this.state) {
      case 'connected':
        run();
        return undefined;
      case 'failed':
        fail(this.connectError!);
        return undefined;
      case 'closed':
        fail(this.opts.closedError());
        return undefined;
      default: {
        const w: Waiter = { run, fail };
        this.waiters.add(w);
        this.connect();
        return { cancel: () => void this.waiters.delete(w) };
      }
    }
  }

  /** Runs a Bucket KV method (see KV_METHODS) with its raw arguments. */
  call(method: string, args: readonly unknown[], cb: Callback): Pending {
    return this.start(method, undefined, args[0], args[1], args[2], null, cb);
  }

  /**
   * The flavours' per-operation entry: call(), with the arguments as the method received them
   * and the outcome going to `sink.kvDone` (no arguments array, no callback closure). The sink
   * hears once; after cancel() it may still hear a CancelledError, which it ignores. `spec`,
   * the method's KV_METHODS entry, saves looking it up by name.
   */
  run(method: string, a0: unknown, a1: unknown, a2: unknown, sink: KvSink, spec?: MethodSpec): Pending {
    return this.start(method, spec, a0, a1, a2, sink, null);
  }

  private start(method: string, known: MethodSpec | undefined, a0: unknown, a1: unknown, a2: unknown, sink: KvSink | null, cb: Callback | null): Pending {
    let spec: MethodSpec;
    if (known !== undefined) spec = known;
    else {
      try {
        spec = specOf(method);
      } catch (err) {
        return failLater(sink, cb, err as Error);
      }
    }
    if (sink !== null && this.dispatches && this.state === 'connected' && spec.shape !== 'multi') return this.dispatch(spec, method, a0, a1, a2, sink);
    const req = new KvRequest(this.engine, spec, sink, cb);
    try {
      normaliseInto(req, spec, method, a0, a1, a2);
    } catch (err) {
      queueMicrotask(() => req.finish(err as Error));
      return req;
    }
    if (this.state === 'connected') req.run();
    else req.queued = this.whenReady(() => req.run(), (err) => req.finish(err));
    return req;
  }

  /**
   * A single-key call on a connected engine that reports to handler objects: the engine gets the
   * sink itself, so the call allocates no request object and no closure, and the engine's own
   * handle is what cancels it.
   */
  private dispatch(spec: MethodSpec, method: string, a0: unknown, a1: unknown, a2: unknown, sink: KvSink): Pending {
    const call = SCRATCH;
    try {
      normaliseInto(call, spec, method, a0, a1, a2);
    } catch (err) {
      return failLater(sink, null, err as Error);
    }
    const key = call.key as string;
    const options = call.options;
    call.key = undefined;
    call.options = NO_OPTIONS;
    try {
      return asHandle(this.engine.dispatchKv!(spec.op, key, options, sink)) ?? NOTHING_TO_CANCEL;
    } catch (err) {
      return failLater(sink, null, err as Error);
    }
  }

  /** Streams a N1QL query. The control works before the connection is up too. */
  n1ql(query: unknown, handler: StreamHandler): StreamControl {
    return this.stream(handler, (h) => this.engine.n1ql(query, h));
  }

  /**
   * Streams a view query. `includeDocs` (or `include_docs`) fetches each row's document with
   * one getMulti per batch and sets it as `row.doc` (a ValueResult, or the error's result for a
   * row whose document is gone), keeping row order and holding the stream while it fetches.
   */
  view(ddoc: string, view: string, options: Record<string, unknown> | undefined, handler: StreamHandler): StreamControl {
    const params: Record<string, unknown> = { ...(options ?? {}) };
    const includeDocs = Boolean(params.includeDocs ?? params.include_docs);
    delete params.includeDocs;
    delete params.include_docs;
    const target = includeDocs ? new DocFetcher(this, handler) : handler;
    const control = this.stream(target, (h) => this.engine.view(ddoc, view, params, h));
    if (target instanceof DocFetcher) target.attach(control);
    return control;
  }

  private stream(handler: StreamHandler, start: (h: StreamHandler) => StreamControl): StreamControl {
    return new DeferredStart(handler, (h) => this.whenReady(
      () => h.started(start(h)),
      (err) => h.onError(err),
    ));
  }

  /** Closes the engine; queued operations fail with the closed error. */
  close(cb?: Callback<void>): void {
    if (this.state === 'closed') {
      if (cb) queueMicrotask(() => cb(null));
      return;
    }
    this.state = 'closed';
    const err = this.opts.closedError();
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w.fail(err);
    for (const c of this.connectCallbacks.splice(0)) c(err);
    this.engine.close((e) => cb?.(e ?? null));
  }
}

function asHandle(h: unknown): Pending | undefined {
  return h !== null && typeof h === 'object' && typeof (h as Pending).cancel === 'function' ? (h as Pending) : undefined;
}

const NOTHING_TO_CANCEL: Pending = { cancel() {} };

function failLater(sink: KvSink | null, cb: Callback | null, err: Error): Pending {
  queueMicrotask(() => (sink ? sink.kvDone(err) : cb!(err)));
  return NOTHING_TO_CANCEL;
}

/** One KV call: its outcome is delivered at most once, and never after cancel(). */
class KvRequest implements Pending {
  done = false;
  key: unknown = undefined;
  options: Record<string, unknown> = NO_OPTIONS;
  queued: Pending | undefined = undefined;
  /** The engine's handle on the sent operation (single-key calls). */
  inFlight: Pending | undefined = undefined;
  /** The engine calls this: the one closure a call allocates. */
  readonly finish: Callback;

  constructor(
    private readonly engine: EngineLike,
    private readonly spec: MethodSpec,
    sink: KvSink | null,
    cb: Callback | null,
  ) {
    this.finish = (err, result) => {
      if (this.done) return;
      this.done = true;
      if (sink !== null) sink.kvDone(err, result);
      else cb!(err, result);
    };
  }

  run(): void {
    if (this.done) return;
    const spec = this.spec;
    try {
      if (spec.shape === 'multi') this.engine.kvMulti(spec.op, this.key, this.options, this.finish);
      else this.inFlight = asHandle(this.engine.kv(spec.op, this.key as string, this.options, this.finish));
    } catch (err) {
      this.finish(err as Error);
    }
  }

  /**
   * Drops the call: out of the connect queue if still there, and out of the engine's pipeline
   * if it was sent (the engine forgets it, so a late answer is dropped there).
   */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.queued?.cancel();
    this.inFlight?.cancel();
  }
}

/** Where dispatch() normalises a call's arguments (read at once, then cleared: nothing is retained). */
const SCRATCH: KvCallTarget = { key: undefined, options: NO_OPTIONS };

/**
 * A stream control that exists before the engine's own does: pause/resume/cancel issued while
 * waiting for the connection are remembered and applied when the request starts.
 */
class DeferredStart implements StreamControl, StreamHandler {
  private inner: StreamControl | undefined;
  private paused = false;
  private cancelled = false;
  private finished = false;
  private readonly pending: Pending | undefined;

  constructor(
    private readonly handler: StreamHandler,
    begin: (self: DeferredStart) => Pending | undefined,
  ) {
    this.pending = begin(this);
  }

  started(inner: StreamControl): void {
    if (this.cancelled) {
      inner.cancel();
      return;
    }
    this.inner = inner;
    if (this.paused) inner.pause();
  }

  onRows(rows: unknown[]): void {
    if (!this.cancelled && !this.finished) this.handler.onRows(rows);
  }

  onDone(meta: unknown): void {
    if (this.cancelled || this.finished) return;
    this.finished = true;
    this.handler.onDone(meta);
  }

  onError(err: Error): void {
    if (this.cancelled || this.finished) return;
    this.finished = true;
    this.handler.onError(err);
  }

  pause(): void {
    this.paused = true;
    this.inner?.pause();
  }

  resume(): void {
    this.paused = false;
    this.inner?.resume();
  }

  /** Aborts the request; the handler hears nothing more. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.pending?.cancel();
    this.inner?.cancel();
  }
}

/** Wraps a view handler to attach each row's document before the rows go on. */
class DocFetcher implements StreamHandler {
  private control: StreamControl | undefined;
  /** Batches (and the final outcome) in arrival order; fetched docs are filled in place. */
  private readonly queue: Array<{ rows?: unknown[]; ready: boolean; done?: { meta: unknown }; error?: Error }> = [];
  private inFlight = 0;

  constructor(
    private readonly core: BucketCore,
    private readonly handler: StreamHandler,
  ) {}

  attach(control: StreamControl): void {
    this.control = control;
  }

  onRows(rows: unknown[]): void {
    const entry = { rows, ready: false };
    this.queue.push(entry);
    const ids: string[] = [];
    for (const r of rows) {
      const id = (r as { id?: unknown }).id;
      if (typeof id === 'string') ids.push(id);
    }
    if (ids.length === 0) {
      entry.ready = true;
      this.flush();
      return;
    }
    this.inFlight++;
    // Hold the socket while fetching so a slow KV side does not buffer the whole view.
    if (this.inFlight === 1) this.control?.pause();
    this.core.call('getMulti', [[...new Set(ids)], { quiet: true }], (err, result) => {
      this.inFlight--;
      const docs = result as Map<string, unknown> | undefined;
      for (const r of rows) {
        const row = r as { id?: unknown; doc?: unknown };
        if (typeof row.id !== 'string') continue;
        const doc = docs?.get(row.id);
        row.doc = doc ?? (err ? { key: row.id, error: err, success: false } : undefined);
      }
      entry.ready = true;
      if (this.inFlight === 0) this.control?.resume();
      this.flush();
    });
  }

  onDone(meta: unknown): void {
    this.queue.push({ ready: true, done: { meta } });
    this.flush();
  }

  onError(err: Error): void {
    this.queue.push({ ready: true, error: err });
    this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].ready) {
      const e = this.queue.shift()!;
      if (e.rows) this.handler.onRows(e.rows);
      else if (e.done) this.handler.onDone(e.done.meta);
      else if (e.error) this.handler.onError(e.error);
    }
  }
}
