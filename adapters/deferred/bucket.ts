// txcouchbase-style Bucket: every operation returns a deferbase/defer Deferred. The Bucket
// connects as soon as it is built; operations issued before the connection is up wait for it.
import { Deferred } from '../../lib/defer';
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import type { CallbackEngineLike, EngineLike, KvHandler, RowsHandler, StreamControl } from '../common/contract';
import { BucketCore, type Pending } from '../common/core';
import { createEngine } from '../common/engine-factory';
import { defineKvMethods, type KvMethodName, type MethodSpec } from '../common/methods';
import { ObjectDestroyedError } from '../../lib/engine/errors';

export interface DeferredBucketOptions {
  username?: string;
  password?: string;
  /** Use this engine instead of creating one. */
  engine?: EngineLike | CallbackEngineLike;
  [engineOption: string]: unknown;
}

type DeferredKv = { [M in KvMethodName]: (...args: KvArgs[M]) => Deferred<KvResults[M]> };

/** Rows of a completed query; `meta` is the query's meta (status, metrics...) or the view's total_rows. */
export type RowList<T> = T[] & { meta: unknown };

export interface Bucket extends DeferredKv {}

export class Bucket {
  /** The callback core shared with the other flavours (advanced use). */
  readonly core: BucketCore;
  private connectOutcome: { err: Error | null } | undefined;
  private readonly connectWaiters: Deferred<Bucket>[] = [];

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

  /** txcouchbase's registerDeferred: fire `d` on the named event ('connect'). */
  registerDeferred(event: 'connect', d: Deferred<Bucket>): void {
    if (event !== 'connect') throw new TypeError(`registerDeferred: unknown event "${String(event)}"; only "connect" exists`);
    if (this.connectOutcome) this.fireConnect(d);
    else this.connectWaiters.push(d);
  }

  /** Runs a KV method (its KV_METHODS entry); the generated methods (upsert, get, ...) call this. */
  protected runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): Deferred<unknown> {
    const d = new KvDeferred();
    d.pending = this.core.run(spec, a0, a1, a2, d);
    return d;
  }

  /** Fires with every row of a N1QL query (an array with the query meta as `.meta`). */
  n1qlQueryAll<T = unknown>(query: unknown): Deferred<RowList<T>> {
    return collect<T>((h) => this.core.n1ql(query, h));
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

  /** Fires with every row of a view query; with `includeDocs` each row carries `doc`. */
  queryAll<K = unknown, V = unknown>(ddoc: string, view: string, options: ViewOptions = {}): Deferred<RowList<ViewRow<K, V>>> {
    return collect<ViewRow<K, V>>((h) => this.core.view(ddoc, view, options, h));
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
    this.core.close((err) => (err ? d.errback(err) : d.callback(undefined)));
    for (const w of this.connectWaiters.splice(0)) w.errback(new ObjectDestroyedError('the bucket was closed before it connected'));
    return d;
  }
}

// runKv is protected: reached from outside the class body, hence the cast.
defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2) =>
  (bucket as unknown as { runKv(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): Deferred<unknown> }).runKv(spec, a0, a1, a2),
);

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

function collect<T>(start: (h: RowsHandler) => StreamControl): Deferred<RowList<T>> {
  const rows: T[] = [];
  let control: StreamControl | undefined;
  const d = new Deferred<RowList<T>>(() => control?.cancel());
  control = start({
    onRows(batch) {
      for (const r of batch) rows.push(r as T);
    },
    onDone(meta) {
      if (d.called) return;
      Object.defineProperty(rows, 'meta', { value: meta, enumerable: false, writable: true });
      d.callback(rows as RowList<T>);
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
