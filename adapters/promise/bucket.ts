// acouchbase-style Bucket: `await bucket.connect()`, every operation a Promise of the same
// result objects, and queries as async iterables whose iteration drives the socket.
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import type { CallbackEngineLike, EngineLike, KvHandler, RowsHandler, StreamControl } from '../common/contract';
import { BucketCore, type Pending } from '../common/core';
import { createEngine } from '../common/engine-factory';
import { callOptions, defineKvMethods, replaceOptions, type KvCallName, type KvMethodName, type KvOptions, type MethodSpec } from '../common/methods';
import { defineBucketDesignMethods, defineBucketProperties, defineFieldEncryption, type FieldEncryption, defineManagerMethods, withDurabilityContext, type BucketDesignMethod, type BucketProperties, type DurabilityOptions, type ManagerCalls, type ManagerMethodName } from '../common/bucket-api';
import { durabilityDefaults } from '../common/core';
import { AlreadyQueriedError, CancelledError, ObjectDestroyedError, PipelineError } from '../../lib/engine/errors';
import { ViewQuery } from '../../lib/engine/services/views';
import { n1qlShaper, splitViewOptions, warnViewErrors, type N1QLRowOptions, type Shaper, type ViewRowOptions } from '../common/rows';
import { applyFragments, type ItemOptionDict } from '../../lib/engine/items';
import type { HttpResult, MultiResult, MutationToken } from '../../lib/engine/results';
import type { DiagnosticsReport, PingReport } from '../../lib/engine/health';
import { defineCollections, type CollectionAccess, type CollectionOf } from '../common/collection';

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

type PromiseKv = { [M in KvCallName]: (...args: KvArgs[M]) => Promise<KvResults[M]> };

/** bucket.collection('scope.collection'): the Bucket's KV methods in that collection. */
export type Collection = CollectionOf<PromiseKv, Bucket>;

export interface Bucket extends PromiseKv, BucketProperties, FieldEncryption, PromiseDesign, CollectionAccess<Collection> {}

function abortError(signal: AbortSignal, what: string): CancelledError {
  return new CancelledError(`${what} was aborted`, { cause: signal.reason });
}

/**
 * The call's AbortSignal, and its arguments with `signal` taken out of the options object (the
 * engine refuses options it does not know); undefined when the call has no signal.
 */
function takeSignal(spec: MethodSpec, args: unknown[]): [AbortSignal, unknown[]] | undefined {
  const found = callOptions(spec, args);
  if (found === undefined || !('signal' in found[1])) return undefined;
  const { signal, ...rest } = found[1] as Abortable & Record<string, unknown>;
  return [signal as AbortSignal, replaceOptions(spec, args, found[0], rest)];
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

  /** True once close() was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /** @internal A management call (the BucketManager's, flush, ping) as a Promise. */
  manageCall<T>(name: string, args: unknown[]): Promise<T> {
    const p = new Promise(takeResolvers);
    this.core.manage(name, args, new PromiseSink());
    return p as Promise<T>;
  }

  /** Empties the bucket (its flush must be enabled); resolves with the HttpResult. */
  flush(): Promise<HttpResult> {
    return this.manageCall('flush', []);
  }

  /** The design document and N1QL index calls (Python's bucket_manager()). */
  bucketManager(): BucketManager {
    return new BucketManager(this);
  }

  /** Pings every KV, query and views node. */
  ping(): Promise<PingReport> {
    return this.manageCall('ping', []);
  }

  /** The state of the KV connections (nothing is sent). */
  diagnostics(): Promise<DiagnosticsReport> {
    return this.manageCall('diagnostics', []);
  }

  /**
   * Runs `fn` with a durability requirement on every mutation it starts (synchronously) that
   * names none (Python's `with bucket.durability(persist_to=..., replicate_to=...)`; both default
   * to -1, every copy); returns what `fn` returns.
   */
  durability<T>(options: DurabilityOptions, fn: () => T): T {
    const core = this.core;
    return withDurabilityContext(() => core.durability, (d) => (core.durability = d), durabilityDefaults(options), fn);
  }

  /** Credentials of another bucket, for cross-bucket N1QL (Python's add_bucket_creds). */
  addBucketCreds(bucket: string, password: string): void {
    this.core.addBucketCreds(bucket, password);
  }

  /** Runs a KV method (its KV_METHODS entry); the generated methods (upsert, get, ...) call this. */
  protected runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown): Promise<unknown> {
    // Only a call that gave a later argument can carry a signal: get(key) and upsert(key, v) pay nothing.
    if (a2 !== undefined || (a1 !== undefined && spec.shape !== 'keyValue')) {
      const taken = takeSignal(spec, [a0, a1, a2, a3]);
      if (taken !== undefined) return this.runAbortable(spec, taken[1], taken[0]);
    }
    const p = new Promise(takeResolvers);
    this.core.run(spec, a0, a1, a2, a3, new PromiseSink());
    return p;
  }

  private runAbortable(spec: MethodSpec, args: unknown[], signal: AbortSignal): Promise<unknown> {
    const p = new Promise(takeResolvers);
    if (signal.aborted) {
      nextReject(abortError(signal, spec.name));
      return p;
    }
    const sink = new AbortSink(signal, spec.name);
    sink.pending = this.core.run(spec, args[0], args[1], args[2], args[3], sink);
    return p;
  }

  /**
   * A N1QL query as an async iterable of rows: `for await (const row of bucket.n1qlQuery(q))`.
   * The request starts on the first iteration; `meta` is set after the last row. `rowFactory`
   * makes each row the caller's object (Python's row_factory).
   */
  n1qlQuery<T = unknown>(query: unknown, options: Abortable & StreamLimits & N1QLRowOptions<T> = {}): QueryRows<T> {
    const { rowFactory, ...rest } = options;
    return new QueryRows<T>((h) => this.core.n1ql(query, h), { ...rest, shape: n1qlShaper({ rowFactory }) });
  }

  /**
   * A view query as an async iterable of rows; with `includeDocs` each row carries `doc`. Options
   * may be a ViewQuery (or include `query: aViewQuery`); `rowProcessor` shapes the rows; with
   * `onError: 'continue'` errors from nodes are warnings (process 'warning' events).
   */
  query<K = unknown, V = unknown>(
    ddoc: string,
    view: string,
    options: (ViewOptions & Abortable & StreamLimits & ViewRowOptions) | ViewQuery = {},
  ): QueryRows<ViewRow<K, V>> {
    const { signal, highWater, lowWater, ...rest } = (options instanceof ViewQuery ? {} : options) as Abortable & StreamLimits;
    const { params, shape } = splitViewOptions(options instanceof ViewQuery ? options : rest, this);
    return new QueryRows<ViewRow<K, V>>((h) => this.core.view(ddoc, view, params, h), { signal, highWater, lowWater, shape, onMeta: warnViewErrors });
  }

  /** Every row of a N1QL query; the array carries the meta as `.meta`. */
  n1qlQueryAll<T = unknown>(query: unknown, options: Abortable & N1QLRowOptions<T> = {}): Promise<T[] & { meta: unknown }> {
    return this.n1qlQuery<T>(query, options).all();
  }

  /** Every row of a view query; the array carries the meta as `.meta`. */
  queryAll<K = unknown, V = unknown>(
    ddoc: string,
    view: string,
    options: (ViewOptions & Abortable & ViewRowOptions) | ViewQuery = {},
  ): Promise<ViewRow<K, V>[] & { meta: unknown }> {
    return this.query<K, V>(ddoc, view, options).all();
  }

  /** The latest mutation token of each vBucket written (with fetch_mutation_tokens): MutationState.addAll reads them. */
  mutationTokens(): MutationToken[] {
    return this.core.mutationTokens();
  }

  /**
   * Python's append_items: appends each item's `fragment` option to its document
   * (appendMulti); once it succeeded each item's value has its fragment added too.
   */
  async appendItems(items: ItemOptionDict, options?: KvOptions): Promise<MultiResult> {
    const r = await this.appendMulti(items, options);
    applyFragments(items, 'append');
    return r;
  }

  /** Python's prepend_items: prependMulti of each item's `fragment`, then the items' values updated. */
  async prependItems(items: ItemOptionDict, options?: KvOptions): Promise<MultiResult> {
    const r = await this.prependMulti(items, options);
    applyFragments(items, 'prepend');
    return r;
  }

  /** Pipelines are for blocking handles, as in Python (PipelineError on async ones). */
  pipeline(): never {
    throw new PipelineError('pipeline mode is not supported on async handles; await the operations, or use deferbase/blocking');
  }

  /** Closes the connection; pending operations fail. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.core.close((err) => (err ? reject(err) : resolve())));
  }
}

defineBucketProperties(
  Bucket.prototype,
  (b, kind, name) => (kind === 'info' ? b.core.info()[name] : b.core.setting(name)),
  (b, name, value) => b.core.set(name, value),
);

type PromiseManager = { [M in ManagerMethodName]: (...args: ManagerCalls[M]['args']) => Promise<ManagerCalls[M]['result']> };
type PromiseDesign = Pick<PromiseManager, BucketDesignMethod>;

export interface BucketManager extends PromiseManager {}

/** Design documents and N1QL indexes of a bucket (Python's BucketManager); every call is a Promise. */
export class BucketManager {
  constructor(readonly bucket: Bucket) {}
}

defineManagerMethods(BucketManager.prototype, (m, name, args) => m.bucket.manageCall(name, args));

// runKv is protected: reached from outside the class body, hence the cast.
defineBucketDesignMethods(Bucket.prototype);
defineFieldEncryption(Bucket.prototype);

defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2, a3) =>
  (bucket as unknown as { runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown): Promise<unknown> }).runKv(spec, a0, a1, a2, a3),
);
defineCollections(Bucket.prototype);

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
  private readonly shape: Shaper | undefined;
  private readonly onMeta: ((meta: unknown) => void) | undefined;

  constructor(
    private readonly start: (h: RowsHandler) => StreamControl,
    options: Abortable & StreamLimits & { shape?: Shaper; onMeta?: (meta: unknown) => void },
  ) {
    this.highWater = options.highWater ?? 2048;
    this.lowWater = options.lowWater ?? Math.floor(this.highWater / 4);
    this.signal = options.signal;
    this.shape = options.shape;
    this.onMeta = options.onMeta;
  }

  /** The query's metrics (from its meta), once the last row has been read. */
  get metrics(): unknown {
    return (this.meta as { metrics?: unknown } | undefined)?.metrics;
  }

  /** Runs the statement to its end, rows unread (Python's execute(): for statements run for their effect). */
  async execute(): Promise<this> {
    for await (const _ of this) {
      // drained
    }
    return this;
  }

  /** The first row, the request ended there (Python's get_single_result); undefined when there is none. */
  async getSingleResult(): Promise<T | undefined> {
    for await (const row of this) return row;
    return undefined;
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
    if (this.state === 'closed') throw new AlreadyQueriedError('these rows were already iterated; run the query again to read them again');
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
      onRows(raw) {
        if (self.ended || raw.length === 0) return;
        let rows = raw;
        if (self.shape !== undefined) {
          try {
            rows = self.shape(raw);
          } catch (err) {
            self.control?.cancel();
            return self.fail(err as Error);
          }
        }
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
        self.onMeta?.(meta);
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
