// txcouchbase-style Bucket: every operation returns a deferbase/defer Deferred. The Bucket
// connects as soon as it is built; operations issued before the connection is up wait for it.
import { Deferred } from '../../lib/defer';
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import type { CallbackEngineLike, EngineLike, KvHandler, RowsHandler, StreamControl } from '../common/contract';
import { BucketCore, type Pending } from '../common/core';
import { createEngine } from '../common/engine-factory';
import { defineKvMethods, type KvCallName, type KvMethodName, type KvOptions, type MethodSpec } from '../common/methods';
import { defineBucketDesignMethods, defineBucketProperties, defineFieldEncryption, type FieldEncryption, defineManagerMethods, withDurabilityContext, type BucketDesignMethod, type BucketProperties, type DurabilityOptions, type ManagerCalls, type ManagerMethodName } from '../common/bucket-api';
import { durabilityDefaults } from '../common/core';
import { ArgumentError, ObjectDestroyedError, PipelineError } from '../../lib/engine/errors';
import { applyFragments, type ItemOptionDict } from '../../lib/engine/items';
import type { HttpResult, MultiResult, MutationToken } from '../../lib/engine/results';
import { ViewQuery } from '../../lib/engine/services/views';
import { n1qlShaper, splitViewOptions, warnViewErrors, type N1QLRowOptions, type Shaper, type ViewRowOptions } from '../common/rows';
import type { DiagnosticsReport, PingReport } from '../../lib/engine/health';
import { defineCollections, type CollectionAccess, type CollectionOf } from '../common/collection';

export interface DeferredBucketOptions {
  username?: string;
  password?: string;
  /** Use this engine instead of creating one. */
  engine?: EngineLike | CallbackEngineLike;
  [engineOption: string]: unknown;
}

type DeferredKv = { [M in KvCallName]: (...args: KvArgs[M]) => Deferred<KvResults[M]> };

/**
 * Rows of a completed query; `meta` is the query's meta (status, metrics...) or the view's
 * total_rows. Like the object txcouchbase's n1qlQueryAll fires with, it also answers
 * `getSingleResult()` (the first row) and `execute()` (itself).
 */
export type RowList<T> = T[] & { meta: unknown; readonly metrics: unknown; getSingleResult(): T | undefined; execute(): RowList<T> };

/** bucket.collection('scope.collection'): the Bucket's KV methods in that collection. */
export type Collection = CollectionOf<DeferredKv, Bucket>;

export interface Bucket extends DeferredKv, BucketProperties, FieldEncryption, DeferredDesign, CollectionAccess<Collection> {}

/** txcouchbase's events: 'connect' (the connection is up or failed), '_dtor' (the bucket was closed). */
export type BucketEvent = 'connect' | '_dtor';

export class Bucket {
  /** The callback core shared with the other flavours (advanced use). */
  readonly core: BucketCore;
  private connectOutcome: { err: Error | null } | undefined;
  private readonly connectWaiters: Deferred<Bucket>[] = [];
  private readonly dtorWaiters: Deferred<Bucket>[] = [];
  private destroyed = false;

  constructor(connstr: string, options: DeferredBucketOptions = {}) {
    this.core = new BucketCore(createEngine(connstr, options), {
      closedError: () => new ObjectDestroyedError('the bucket was closed; open a new Bucket'),
    });
    this.core.connect((err) => {
      this.connectOutcome = { err: err ?? null };
      for (const d of this.connectWaiters.splice(0)) this.fireConnect(d);
    });
  }

  private fireConnect(d: Deferred<Bucket>): void {
    const { err } = this.connectOutcome!;
    if (err) d.errback(err);
    else d.callback(this);
  }

  /**
   * A new Deferred that fires with this bucket once connected (at once if already connected),
   * or fails with the connection error. Each call gets its own Deferred, as in txcouchbase.
   */
  connect(): Deferred<Bucket> {
    const d = new Deferred<Bucket>();
    this.registerDeferred('connect', d);
    return d;
  }

  /** Same as connect(). */
  get onConnect(): Deferred<Bucket> {
    return this.connect();
  }

  /** True once the connection is up. */
  get connected(): boolean {
    return this.core.connected;
  }

  /**
   * txcouchbase's registerDeferred: fire `d` on the named event: 'connect' (with this bucket, or
   * the connection error) or '_dtor' (with this bucket, once close() has released it).
   */
  registerDeferred(event: BucketEvent, d: Deferred<Bucket>): void {
    if (event === 'connect') {
      if (this.connectOutcome) this.fireConnect(d);
      else this.connectWaiters.push(d);
      return;
    }
    if (event === '_dtor') {
      if (this.destroyed) d.callback(this);
      else this.dtorWaiters.push(d);
      return;
    }
    throw new ArgumentError(`registerDeferred: no such event type "${String(event)}"; use "connect" or "_dtor"`);
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.core.closed;
  }

  /** @internal A management call (the BucketManager's, flush, ping) as a Deferred. */
  manageCall<T>(name: string, args: unknown[]): Deferred<T> {
    const d = new KvDeferred();
    d.pending = this.core.manage(name, args, d);
    return d as unknown as Deferred<T>;
  }

  /** Empties the bucket (its flush must be enabled); fires with the HttpResult. */
  flush(): Deferred<HttpResult> {
    return this.manageCall('flush', []);
  }

  /** The design document and N1QL index calls (Python's bucket_manager()). */
  bucketManager(): BucketManager {
    return new BucketManager(this);
  }

  /** Pings every KV, query and views node; fires with the report. */
  ping(): Deferred<PingReport> {
    return this.manageCall('ping', []);
  }

  /** The state of the KV connections (nothing is sent); fires with the report. */
  diagnostics(): Deferred<DiagnosticsReport> {
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
  protected runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown): Deferred<unknown> {
    const d = new KvDeferred();
    d.pending = this.core.run(spec, a0, a1, a2, a3, d);
    return d;
  }

  /** Fires with every row of a N1QL query (an array with the query meta as `.meta`); `rowFactory` shapes each row. */
  n1qlQueryAll<T = unknown>(query: unknown, options: N1QLRowOptions<T> = {}): Deferred<RowList<T>> {
    return collect<T>((h) => this.core.n1ql(query, h), n1qlShaper(options));
  }

  /** The latest mutation token of each vBucket written (with fetch_mutation_tokens): MutationState.addAll reads them. */
  mutationTokens(): MutationToken[] {
    return this.core.mutationTokens();
  }

  /**
   * Python's append_items: appends each item's `fragment` option to its document
   * (appendMulti); once it succeeded each item's value has its fragment added too.
   */
  appendItems(items: ItemOptionDict, options?: KvOptions): Deferred<MultiResult> {
    return this.appendMulti(items, options).addCallback((r) => {
      applyFragments(items, 'append');
      return r;
    });
  }

  /** Python's prepend_items: prependMulti of each item's `fragment`, then the items' values updated. */
  prependItems(items: ItemOptionDict, options?: KvOptions): Deferred<MultiResult> {
    return this.prependMulti(items, options).addCallback((r) => {
      applyFragments(items, 'prepend');
      return r;
    });
  }

  /** Pipelines are for blocking handles, as in Python (PipelineError on async ones). */
  pipeline(): never {
    throw new PipelineError('pipeline mode is not supported on async handles; chain the Deferreds, or use deferbase/blocking');
  }

  /**
   * Runs a N1QL query through a handler class: `new HandlerClass(bucket, query, ...args)`,
   * started at once and returned. The class overrides onRows/onDone/onError.
   */
  n1qlQueryEx<H extends N1QLRequest>(
    HandlerClass: new (query: unknown, parent: Bucket, ...args: any[]) => H,
    query: unknown,
    ...args: unknown[]
  ): H {
    // txcouchbase builds its itercls as cls(query, parent, ...); views as cls(parent, design, view, ...).
    const handler = new HandlerClass(query, this, ...args);
    handler.start();
    return handler;
  }

  /**
   * Fires with every row of a view query; with `includeDocs` each row carries `doc`. Options may
   * be a ViewQuery (or include `query: aViewQuery`); `rowProcessor` shapes the rows; with
   * `onError: 'continue'` errors from nodes are warnings.
   */
  queryAll<K = unknown, V = unknown>(ddoc: string, view: string, options: (ViewOptions & ViewRowOptions) | ViewQuery = {}): Deferred<RowList<ViewRow<K, V>>> {
    const { params, shape } = splitViewOptions(options, this);
    return collect<ViewRow<K, V>>((h) => this.core.view(ddoc, view, params, h), shape, warnViewErrors);
  }

  /** Runs a view query through a handler class: `new HandlerClass(bucket, ddoc, view, options)`. */
  queryEx<H extends ViewRequest>(
    HandlerClass: new (parent: Bucket, ddoc: string, view: string, options?: ViewOptions, ...args: any[]) => H,
    ddoc: string,
    view: string,
    options: ViewOptions = {},
    ...args: unknown[]
  ): H {
    const handler = new HandlerClass(this, ddoc, view, options, ...args);
    handler.start();
    return handler;
  }

  /** Closes the connection; fires when closed. Pending operations fail. */
  close(): Deferred<void> {
    const d = new Deferred<void>();
    this.core.close((err) => {
      if (err) d.errback(err);
      else d.callback(undefined);
      if (!this.destroyed) {
        this.destroyed = true;
        for (const w of this.dtorWaiters.splice(0)) w.callback(this);
      }
    });
    for (const w of this.connectWaiters.splice(0)) w.errback(new ObjectDestroyedError('the bucket was closed before it connected'));
    return d;
  }
}

defineBucketProperties(
  Bucket.prototype,
  (b, kind, name) => (kind === 'info' ? b.core.info()[name] : b.core.setting(name)),
  (b, name, value) => b.core.set(name, value),
);

type DeferredManager = { [M in ManagerMethodName]: (...args: ManagerCalls[M]['args']) => Deferred<ManagerCalls[M]['result']> };
type DeferredDesign = Pick<DeferredManager, BucketDesignMethod>;

export interface BucketManager extends DeferredManager {}

/** Design documents and N1QL indexes of a bucket (Python's BucketManager); every call is a Deferred. */
export class BucketManager {
  constructor(readonly bucket: Bucket) {}
}

defineManagerMethods(BucketManager.prototype, (m, name, args) => m.bucket.manageCall(name, args));

// runKv is protected: reached from outside the class body, hence the cast.
defineBucketDesignMethods(Bucket.prototype);
defineFieldEncryption(Bucket.prototype);

defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2, a3) =>
  (bucket as unknown as { runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown): Deferred<unknown> }).runKv(spec, a0, a1, a2, a3),
);
defineCollections(Bucket.prototype);

/**
 * The Deferred of one KV operation, which is also where the core delivers its outcome: one
 * object per call instead of a Deferred plus a canceller and a callback closure.
 */
class KvDeferred extends Deferred<unknown> implements KvHandler {
  /** The core's handle on the call; DROPPED once cancel() has dropped it. */
  pending: Pending | undefined = undefined;

  constructor() {
    super(cancelKv);
  }

  kvDone(err: Error | null | undefined, result?: unknown): void {
    // After cancel() the engine may still report its own CancelledError: not this Deferred's.
    if (this.pending === DROPPED || this.called) return;
    if (err) this.errback(err);
    else this.callback(result);
  }
}

const DROPPED: Pending = { cancel() {} };

// The canceller drops the operation (from the connect queue, or from the engine's pipeline);
// the Deferred then fails with CancelledError, as Twisted's cancel() does.
function cancelKv(d: Deferred<unknown>): void {
  const kv = d as KvDeferred;
  const pending = kv.pending;
  kv.pending = DROPPED;
  pending?.cancel();
}

function collect<T>(start: (h: RowsHandler) => StreamControl, shape?: Shaper, onMeta?: (meta: unknown) => void): Deferred<RowList<T>> {
  const rows: T[] = [];
  let control: StreamControl | undefined;
  const d = new Deferred<RowList<T>>(() => control?.cancel());
  control = start({
    onRows(batch) {
      if (d.called) return;
      let shaped = batch;
      if (shape !== undefined) {
        try {
          shaped = shape(batch);
        } catch (err) {
          control?.cancel();
          d.errback(err as Error);
          return;
        }
      }
      for (const r of shaped) rows.push(r as T);
    },
    onDone(meta) {
      if (d.called) return;
      onMeta?.(meta);
      const list = rows as RowList<T>;
      Object.defineProperty(list, 'meta', { value: meta, enumerable: false, writable: true });
      Object.defineProperty(list, 'getSingleResult', { value: () => list[0], enumerable: false });
      Object.defineProperty(list, 'execute', { value: () => list, enumerable: false });
      Object.defineProperty(list, 'metrics', { get: () => (meta as { metrics?: unknown } | null)?.metrics, enumerable: false });
      d.callback(list);
    },
    onError(err) {
      if (!d.called) d.errback(err);
    },
  });
  return d;
}

/**
 * Base of a streamed-query handler (txcouchbase's BatchedN1QLRequest / BatchedView). Subclass it,
 * forward the constructor's arguments to super, and override onRows, onDone and onError:
 *
 * ```ts
 * class RowsHandler extends N1QLRequest {
 *   deferred = new Deferred<void>();
 *   onRows(rows) { for (const row of rows) console.log('Got row', row); }
 *   onDone() { this.deferred.callback(undefined); }
 *   onError(err) { this.deferred.errback(err); }
 * }
 * bucket.n1qlQueryEx(RowsHandler, new N1QLQuery('SELECT ...')).deferred.addCallback(...)
 * ```
 * If onRows throws, the request is cancelled and onError receives the exception.
 */
export abstract class StreamRequest implements RowsHandler {
  /** The query's meta once onDone has been reached. */
  meta: unknown = undefined;
  private control: StreamControl | undefined;
  private started = false;
  private finished = false;

  constructor(readonly parent: Bucket) {}

  /** Called with each batch of rows, in order, as they are parsed off the socket. */
  abstract onRows(rows: unknown[]): void;
  /** Called once after the last row. */
  abstract onDone(meta?: unknown): void;
  /** Called once if the request fails (instead of onDone). */
  abstract onError(err: Error): void;

  protected abstract open(handler: RowsHandler): StreamControl;

  /** Sends the request (n1qlQueryEx/queryEx do this for you). Idempotent. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    const self = this;
    this.control = this.open({
      onRows(rows) {
        if (self.finished) return;
        try {
          self.onRows(rows);
        } catch (err) {
          self.finished = true;
          self.control?.cancel();
          self.onError(err as Error);
        }
      },
      onDone(meta) {
        if (self.finished) return;
        self.finished = true;
        self.meta = meta;
        self.onDone(meta);
      },
      onError(err) {
        if (self.finished) return;
        self.finished = true;
        self.onError(err);
      },
    });
    return this;
  }

  /** Stops reading rows until resume() (the server's socket is no longer read). */
  pause(): void {
    this.control?.pause();
  }

  resume(): void {
    this.control?.resume();
  }

  /** Aborts the request; neither onDone nor onError is called afterwards. */
  cancel(): void {
    this.finished = true;
    this.control?.cancel();
  }
}

/** Streamed N1QL query handler base; see StreamRequest. */
export abstract class N1QLRequest extends StreamRequest {
  readonly query: unknown;
  constructor(query: unknown, parent: Bucket, ..._extra: unknown[]) {
    super(parent);
    this.query = query;
  }
  protected open(handler: RowsHandler): StreamControl {
    return this.parent.core.n1ql(this.query, handler);
  }
}

/** Streamed view query handler base; see StreamRequest. With `includeDocs` rows carry `doc`. */
export abstract class ViewRequest extends StreamRequest {
  readonly design: string;
  readonly view: string;
  readonly options: ViewOptions;
  constructor(parent: Bucket, design: string, view: string, options: ViewOptions = {}, ..._extra: unknown[]) {
    super(parent);
    this.design = design;
    this.view = view;
    this.options = options;
  }
  protected open(handler: RowsHandler): StreamControl {
    return this.parent.core.view(this.design, this.view, this.options, handler);
  }
}
