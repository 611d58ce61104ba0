// acouchbase-style Bucket: `await bucket.connect()`, every operation a Promise of the same
// result objects, and queries as async iterables whose iteration drives the socket.
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import type { CallbackEngineLike, EngineLike, KvHandler, RowsHandler, StreamControl } from '../common/contract';
import { BucketCore, type Pending } from '../common/core';
import { createEngine } from '../common/engine-factory';
import { defineKvMethods, optionsIndex, type KvMethodName, type MethodSpec } from '../common/methods';
import { CancelledError, ObjectDestroyedError } from '../../lib/engine/errors';

export interface PromiseBucketOptions {
  username?: string;
  password?: string;
  /** Use this engine instead of creating one. */
  engine?: EngineLike | CallbackEngineLike;
  [engineOption: string]: unknown;
}

/** Per-call option of every method: abort the operation (it rejects with CancelledError). */
export interface Abortable {
  signal?: AbortSignal;
}

type PromiseKv = { [M in KvMethodName]: (...args: KvArgs[M]) => Promise<KvResults[M]> };

export interface Bucket extends PromiseKv {}

function abortError(signal: AbortSignal, what: string): CancelledError {
  return new CancelledError(`${what} was aborted`, { cause: signal.reason });
}

/** A call's options argument, if it carries `signal` (then the engine must not see it). */
function signalOf(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): AbortSignal | undefined {
  const i = optionsIndex(spec, a0, a1);
  const o = i === 0 ? a0 : i === 1 ? a1 : a2;
  if (typeof o !== 'object' || o === null || !('signal' in o)) return undefined;
  return (o as Abortable).signal;
}

/** The call's arguments with `signal` taken out of its options object. */
function withoutSignal(spec: MethodSpec, args: unknown[]): unknown[] {
  const i = optionsIndex(spec, args[0], args[1]);
  const { signal: _signal, ...rest } = args[i] as Abortable & Record<string, unknown>;
  const out = args.slice();
  out[i] = rest;
  return out;
}

// `new Promise` wants an executor; this one is shared (it only hands the resolvers out), so a
// call allocates no executor closure.
let nextResolve: (v: unknown) => void = () => {};
let nextReject: (e: unknown) => void = () => {};
function takeResolvers(resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

/** Where the core delivers one call's outcome: the call's promise resolvers. */
class PromiseSink implements KvHandler {
  readonly resolve = nextResolve;
  readonly reject = nextReject;

  kvDone(err: Error | null | undefined, result?: unknown): void {
    if (err) this.reject(err);
    else this.resolve(result);
  }
}

/**
 * A call with an AbortSignal: its resolvers, and the listener that cancels the call and rejects
 * with CancelledError when the signal aborts first.
 */
class AbortSink implements KvHandler {
  readonly resolve = nextResolve;
  readonly reject = nextReject;
  pending: Pending | undefined = undefined;

  constructor(
    private readonly signal: AbortSignal,
    private readonly method: KvMethodName,
  ) {
    signal.addEventListener('abort', this, { once: true });
  }

  handleEvent(): void {
    // Rejected first: cancelling makes the engine report its own CancelledError at once.
    this.reject(abortError(this.signal, this.method));
    this.pending?.cancel();
  }

  kvDone(err: Error | null | undefined, result?: unknown): void {
    this.signal.removeEventListener('abort', this);
    if (err) this.reject(err);
    else this.resolve(result);
  }
}

export class Bucket {
  /** The callback core shared with the other flavours (advanced use). */
  readonly core: BucketCore;

  constructor(connstr: string, options: PromiseBucketOptions = {}) {
    this.core = new BucketCore(createEngine(connstr, options), {
      closedError: () => new ObjectDestroyedError('the bucket was closed; open a new Bucket'),
    });
  }

  /** Connects (once); resolves with this bucket. Operations issued before it wait for it. */
  connect(): Promise<this> {
    return new Promise((resolve, reject) => this.core.connect((err) => (err ? reject(err) : resolve(this))));
  }

  get connected(): boolean {
    return this.core.connected;
  }

  /** Runs a KV method (its KV_METHODS entry); the generated methods (upsert, get, ...) call this. */
  protected runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): Promise<unknown> {
    const signal = signalOf(spec, a0, a1, a2);
    if (signal) return this.runAbortable(spec, withoutSignal(spec, [a0, a1, a2]), signal);
    const p = new Promise(takeResolvers);
    this.core.run(spec, a0, a1, a2, new PromiseSink());
    return p;
  }

  private runAbortable(spec: MethodSpec, args: unknown[], signal: AbortSignal): Promise<unknown> {
    const p = new Promise(takeResolvers);
    if (signal.aborted) {
      nextReject(abortError(signal, spec.name));
      return p;
    }
    const sink = new AbortSink(signal, spec.name);
    sink.pending = this.core.run(spec, args[0], args[1], args[2], sink);
    return p;
  }

  /**
   * A N1QL query as an async iterable of rows: `for await (const row of bucket.n1qlQuery(q))`.
   * The request starts on the first iteration; `meta` is set after the last row.
   */
  n1qlQuery<T = unknown>(query: unknown, options: Abortable & StreamLimits = {}): QueryRows<T> {
    return new QueryRows<T>((h) => this.core.n1ql(query, h), options);
  }

  /** A view query as an async iterable of rows; with `includeDocs` each row carries `doc`. */
  query<K = unknown, V = unknown>(
    ddoc: string,
    view: string,
    options: ViewOptions & Abortable & StreamLimits = {},
  ): QueryRows<ViewRow<K, V>> {
    const { signal, highWater, lowWater, ...params } = options;
    return new QueryRows<ViewRow<K, V>>((h) => this.core.view(ddoc, view, params, h), { signal, highWater, lowWater });
  }

  /** Every row of a N1QL query; the array carries the meta as `.meta`. */
  n1qlQueryAll<T = unknown>(query: unknown, options: Abortable = {}): Promise<T[] & { meta: unknown }> {
    return this.n1qlQuery<T>(query, options).all();
  }

  /** Every row of a view query; the array carries the meta as `.meta`. */
  queryAll<K = unknown, V = unknown>(
    ddoc: string,
    view: string,
    options: ViewOptions & Abortable = {},
  ): Promise<ViewRow<K, V>[] & { meta: unknown }> {
    return this.query<K, V>(ddoc, view, options).all();
  }

  /** Closes the connection; pending operations fail. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.core.close((err) => (err ? reject(err) : resolve())));
  }
}

// runKv is protected: reached from outside the class body, hence the cast.
defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2) =>
  (bucket as unknown as { runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): Promise<unknown> }).runKv(spec, a0, a1, a2),
);

export interface StreamLimits {
  /** Rows buffered ahead of the consumer before the socket is paused (default 2048). */
  highWater?: number;
  /** Buffered rows at which reading resumes (default highWater / 4). */
  lowWater?: number;
}

/**
 * Rows of a streamed query. Iterating pulls rows; while the consumer is behind by `highWater`
 * rows the engine stops reading the socket. Leaving the loop early (break, return, throw)
 * cancels the request. Iterate once.
 */
export class QueryRows<T> implements AsyncIterable<T>, AsyncIterator<T> {
  /** The query's meta (status, metrics, ...), set once the last row has been read. */
  meta: unknown = undefined;
  private control: StreamControl | undefined;
  private batches: T[][] = [];
  private offset = 0;
  private queued = 0;
  private paused = false;
  private ended = false;
  private error: Error | undefined;
  private waiter: { resolve: () => void } | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly start: (h: RowsHandler) => StreamControl,
    options: Abortable & StreamLimits,
  ) {
    this.highWater = options.highWater ?? 2048;
    this.lowWater = options.lowWater ?? Math.floor(this.highWater / 4);
    this.signal = options.signal;
  }

  /** Rows buffered and not yet read (for flow-control inspection). */
  get bufferedRows(): number {
    return this.queued;
  }

  /** Whether the engine is currently paused because the consumer is behind. */
  get isPaused(): boolean {
    return this.paused;
  }

  [Symbol.asyncIterator](): this {
    if (this.state === 'closed') throw new Error('these rows were already iterated; run the query again to read them again');
    this.open();
    return this;
  }

  private open(): void {
    if (this.state !== 'new') return;
    this.state = 'open';
    if (this.signal) {
      if (this.signal.aborted) {
        this.fail(abortError(this.signal, 'the query'));
        return;
      }
      this.onAbort = () => {
        this.control?.cancel();
        this.fail(abortError(this.signal!, 'the query'));
      };
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    const self = this;
    this.control = this.start({
      onRows(rows) {
        if (self.ended || rows.length === 0) return;
        self.batches.push(rows as T[]);
        self.queued += rows.length;
        if (!self.paused && self.queued >= self.highWater) {
          self.paused = true;
          self.control?.pause();
        }
        self.wake();
      },
      onDone(meta) {
        if (self.ended) return;
        self.meta = meta;
        self.ended = true;
        self.detachSignal();
        self.wake();
      },
      onError(err) {
        self.fail(err);
      },
    });
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.error = err;
    this.ended = true;
    this.detachSignal();
    this.wake();
  }

  private detachSignal(): void {
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }

  async next(): Promise<IteratorResult<T>> {
    this.open();
    for (;;) {
      if (this.state === 'closed') return { done: true, value: undefined };
      const b = this.batches[0];
      if (b) {
        const row = b[this.offset++];
        if (this.offset === b.length) {
          this.batches.shift();
          this.offset = 0;
        }
        this.queued--;
        if (this.paused && this.queued <= this.lowWater) {
          this.paused = false;
          this.control?.resume();
        }
        return { done: false, value: row };
      }
      if (this.ended) {
        this.state = 'closed';
        if (this.error) {
          const err = this.error;
          this.error = undefined;
          throw err;
        }
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.waiter = { resolve }));
    }
  }

  /** Called by `break`/`return` in a for-await loop: cancels the request if rows remain. */
  async return(): Promise<IteratorResult<T>> {
    if (this.state === 'open' && !this.ended) {
      this.ended = true;
      this.control?.cancel();
      this.detachSignal();
    }
    this.state = 'closed';
    this.batches = [];
    this.queued = 0;
    return { done: true, value: undefined };
  }

  /** Reads every remaining row into an array carrying the meta as `.meta`. */
  async all(): Promise<T[] & { meta: unknown }> {
    const out: T[] = [];
    for await (const row of this) out.push(row);
    Object.defineProperty(out, 'meta', { value: this.meta, enumerable: false, writable: true });
    return out as T[] & { meta: unknown };
  }
}
