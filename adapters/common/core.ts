// The core every flavour wraps: one engine, a queue for operations issued before the
// connection is up, cancellation, and the stream plumbing that is the same whatever async type a
// flavour hands back. Every KV call takes one path: run(spec, a0, a1, a2, handler) -> the
// engine's dispatchKv (or kvMulti) -> handler.kvDone. Flavours add only their async type on top.
import createDebug from 'debug';
import { ArgumentError, NotSupportedError } from '../../lib/engine/errors';
import type { MutationToken } from '../../lib/engine/results';
import { DocsAttacher } from '../../lib/engine/services/include-docs';
import { ViewQuery } from '../../lib/engine/services/views';
import type { Callback, EngineLike, KvHandler, RowsHandler, StreamControl } from './contract';
import type { KeyCodec } from '../../lib/engine/transcoder';
import { encodeCallKeys, KeyDecodingHandler, ViewKeyDecodingHandler } from './key-mapping';
import { NO_OPTIONS, normaliseInto, specOf, type KvCallTarget, type MethodSpec } from './methods';

export type { KvHandler } from './contract';

const debug = createDebug('deferbase:adapters');

type ConnState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';

/** A pending operation; cancel() drops it (its handler hears nothing of it afterwards). */
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

/** A durability() context's requirements (Python's DurabilityContext). */
export interface DurabilityDefaults {
  persistTo: number;
  replicateTo: number;
  /** Seconds to wait for them (0: durability_timeout). */
  timeout?: number;
}

export class BucketCore {
  private state: ConnState = 'idle';
  /** The durability every mutation started now gets unless it names its own (null outside a context). */
  durability: DurabilityDefaults | null = null;
  private connectError: Error | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly connectCallbacks: Callback<void>[] = [];
  /** The transcoder's key methods, when it overrides them (null: keys go as given). */
  private keys: KeyCodec | null = null;

  constructor(
    readonly engine: EngineLike,
    private readonly opts: CoreOptions,
  ) {
    this.keysFromTranscoder();
  }

  /** Reads the engine's transcoder's key methods (at start and whenever Bucket.transcoder changes). */
  private keysFromTranscoder(): void {
    const t = this.engine.setting?.('transcoder') as { keys?: KeyCodec } | undefined;
    this.keys = t?.keys ?? null;
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

  /**
   * Runs a Bucket KV method by name with its raw arguments, reporting to a callback (advanced
   * use; the flavours call run()).
   */
  call(method: string, args: readonly unknown[], cb: Callback): Pending {
    let spec: MethodSpec;
    try {
      spec = specOf(method);
    } catch (err) {
      return failLater(new CallbackHandler(cb), err as Error);
    }
    return this.run(spec, args[0], args[1], args[2], args[3], new CallbackHandler(cb));
  }

  /**
   * The one entry of every KV call: the method's table entry (KV_METHODS), its arguments as the
   * method received them, and the object its outcome goes to (`handler.kvDone`, once; after
   * cancel() it may still hear a CancelledError, which it ignores).
   */
  run(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown, handler: KvHandler): Pending {
    if (this.keys !== null) return this.runKeyed(this.keys, spec, a0, a1, a2, a3, handler);
    return this.runAsGiven(spec, a0, a1, a2, a3, handler);
  }

  /** A call through the transcoder's encodeKey, its outcome through decodeKey (Python 2.5's encode_key/decode_key). */
  private runKeyed(keys: KeyCodec, spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown, handler: KvHandler): Pending {
    let sent: unknown;
    try {
      sent = encodeCallKeys(keys, spec, a0);
    } catch (err) {
      return failLater(handler, err as Error);
    }
    return this.runAsGiven(spec, sent, a1, a2, a3, new KeyDecodingHandler(keys, a0, handler));
  }

  private runAsGiven(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown, handler: KvHandler): Pending {
    if (this.state === 'connected' && spec.shape !== 'multi') return this.dispatch(spec, a0, a1, a2, a3, handler);
    const req = new KvRequest(this.engine, spec, handler);
    try {
      normaliseInto(req, spec, a0, a1, a2, a3);
      if (this.durability !== null && spec.durable) req.options = withDurability(req.options, this.durability);
    } catch (err) {
      queueMicrotask(() => req.kvDone(err as Error));
      return req;
    }
    if (this.state === 'connected') req.run();
    else req.queued = this.whenReady(() => req.run(), (err) => req.kvDone(err));
    return req;
  }

  /**
   * A single-key call on a connected engine: the engine gets the handler itself, so the call
   * allocates no request object and no closure, and the engine's own handle is what cancels it.
   */
  private dispatch(spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown, handler: KvHandler): Pending {
    const call = SCRATCH;
    try {
      normaliseInto(call, spec, a0, a1, a2, a3);
    } catch (err) {
      return failLater(handler, err as Error);
    }
    const key = call.key as string;
    let options = call.options;
    call.key = undefined;
    call.options = NO_OPTIONS;
    if (this.durability !== null && spec.durable) options = withDurability(options, this.durability);
    try {
      return asHandle(this.engine.dispatchKv(spec.op, key, options, handler)) ?? NOTHING_TO_CANCEL;
    } catch (err) {
      return failLater(handler, err as Error);
    }
  }

  /**
   * A management call (BucketManager's methods, flush) or ping, once connected; the outcome goes
   * to `handler.kvDone` as a KV call's does.
   */
  manage(name: string, args: readonly unknown[], handler: KvHandler): Pending {
    const engine = this.engine;
    const req = new CallRequest(handler);
    const run = (): void => {
      if (req.done) return;
      const cb: Callback = (err, result) => req.kvDone(err, result);
      try {
        if (name === 'ping') {
          if (!engine.ping) throw new NotSupportedError('this engine has no ping()');
          engine.ping(cb);
        } else if (name === 'diagnostics') {
          if (!engine.diagnostics) throw new NotSupportedError('this engine has no diagnostics()');
          const report = engine.diagnostics();
          queueMicrotask(() => cb(null, report));
        } else {
          if (!engine.manage) throw new NotSupportedError(`this engine has no management calls (${name})`);
          engine.manage(name, args, cb);
        }
      } catch (err) {
        req.kvDone(err as Error);
      }
    };
    // diagnostics reports the connections as they are, connected or not
    if (name === 'diagnostics' && this.state !== 'closed') run();
    else req.queued = this.whenReady(run, (err) => req.kvDone(err));
    return req;
  }

  /** What the bucket reports about itself (Python's read-only Bucket properties). */
  info(): Record<string, unknown> {
    if (!this.engine.info) throw new NotSupportedError('this engine reports no bucket information');
    return this.engine.info() as Record<string, unknown>;
  }

  /** A settable Bucket property's value. */
  setting(name: string): unknown {
    if (!this.engine.setting) throw new NotSupportedError(`this engine has no setting "${name}"`);
    return this.engine.setting(name);
  }

  /** Changes a settable Bucket property. */
  set(name: string, value: unknown): void {
    if (!this.engine.set) throw new NotSupportedError(`this engine cannot change "${name}"`);
    this.engine.set(name, value);
    if (name === 'transcoder') this.keysFromTranscoder();
  }

  /** The latest mutation token of each vBucket written (for MutationState.addAll). */
  mutationTokens(): MutationToken[] {
    if (!this.engine.mutationTokens) throw new NotSupportedError('this engine keeps no mutation tokens');
    return this.engine.mutationTokens() as MutationToken[];
  }

  /** Credentials of another bucket for cross-bucket N1QL. */
  addBucketCreds(bucket: string, password: string): void {
    if (!this.engine.addBucketCreds) throw new NotSupportedError('this engine takes no bucket credentials');
    this.engine.addBucketCreds(bucket, password);
  }

  /** Streams a N1QL query. The control works before the connection is up too. */
  n1ql(query: unknown, handler: RowsHandler): StreamControl {
    return this.stream(handler, (h) => this.engine.n1ql(query, h));
  }

  /**
   * Streams a view query. `includeDocs` (or `include_docs`) sets each row's document as
   * `row.doc` (lib/engine/services/include-docs.ts: one getMulti per batch, rows in order, the
   * stream held while it fetches); a row whose document is gone gets a result with success false
   * and no error, as getMulti(..., { quiet: true }) gives.
   */
  view(ddoc: string, view: string, options: Record<string, unknown> | ViewQuery | undefined, rowsHandler: RowsHandler): StreamControl {
    // Rows' document ids through decodeKey (included documents are fetched with the ids as sent).
    const handler = this.keys === null ? rowsHandler : new ViewKeyDecodingHandler(this.keys, rowsHandler);
    const params: Record<string, unknown> = options instanceof ViewQuery ? { query: options } : { ...(options ?? {}) };
    // include_docs may come in the options or in their ViewQuery: the documents are fetched here
    const q = params.query instanceof ViewQuery ? params.query : undefined;
    const qo = (q?.options ?? {}) as Record<string, unknown>;
    const includeDocs = Boolean(params.includeDocs ?? params.include_docs ?? qo.includeDocs ?? qo.include_docs);
    delete params.includeDocs;
    delete params.include_docs;
    if (q !== undefined && (qo.includeDocs !== undefined || qo.include_docs !== undefined)) params.query = q.update({ includeDocs: undefined, include_docs: undefined }, true);
    if (!includeDocs) return this.stream(handler, (h) => this.engine.view(ddoc, view, params, h));
    const docs = new DocsAttacher(this.engine, 'quiet', handler);
    docs.attach(this.stream(docs, (h) => this.engine.view(ddoc, view, params, h)));
    return docs;
  }

  private stream(handler: RowsHandler, start: (h: RowsHandler) => StreamControl): StreamControl {
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

/** A call's options with the context's durability, unless the call names its own. */
function withDurability(options: Record<string, unknown>, d: DurabilityDefaults): Record<string, unknown> {
  if (options.persistTo !== undefined || options.replicateTo !== undefined) return options;
  const out: Record<string, unknown> = { ...options, persistTo: d.persistTo, replicateTo: d.replicateTo };
  if (d.timeout && out.timeout === undefined) out.timeout = d.timeout;
  return out;
}

/** Checks a durability() context's requirements (Python's DurabilityContext: -1 = every copy). */
export function durabilityDefaults(o: { persistTo?: number; replicateTo?: number; timeout?: number } = {}): DurabilityDefaults {
  const persistTo = o.persistTo ?? -1;
  const replicateTo = o.replicateTo ?? -1;
  for (const [name, v] of [['persistTo', persistTo], ['replicateTo', replicateTo]] as const) {
    if (!Number.isInteger(v) || v < -1 || v > 4) throw new ArgumentError(`durability(): ${name} must be an integer from -1 (all) to 4`);
  }
  if (o.timeout !== undefined && (typeof o.timeout !== 'number' || o.timeout < 0)) throw new ArgumentError('durability(): timeout must be a number of seconds >= 0');
  for (const k of Object.keys(o)) if (k !== 'persistTo' && k !== 'replicateTo' && k !== 'timeout') throw new ArgumentError(`durability() does not take the option "${k}"; it takes: persistTo, replicateTo, timeout`);
  return { persistTo, replicateTo, timeout: o.timeout };
}

function asHandle(h: unknown): Pending | undefined {
  return h !== null && typeof h === 'object' && typeof (h as Pending).cancel === 'function' ? (h as Pending) : undefined;
}

const NOTHING_TO_CANCEL: Pending = { cancel() {} };

function failLater(handler: KvHandler, err: Error): Pending {
  queueMicrotask(() => handler.kvDone(err));
  return NOTHING_TO_CANCEL;
}

/** A callback as a handler (call()). */
class CallbackHandler implements KvHandler {
  constructor(private readonly cb: Callback) {}
  kvDone(err: Error | null | undefined, result?: unknown): void {
    this.cb(err, result);
  }
}

/**
 * One KV call that waits for the connection, or a *Multi call: its outcome reaches the handler at
 * most once, and never after cancel().
 */
class KvRequest implements Pending, KvHandler {
  done = false;
  key: unknown = undefined;
  options: Record<string, unknown> = NO_OPTIONS;
  queued: Pending | undefined = undefined;
  /** The engine's handle on the sent operation (single-key calls). */
  inFlight: Pending | undefined = undefined;

  constructor(
    private readonly engine: EngineLike,
    private readonly spec: MethodSpec,
    private readonly handler: KvHandler,
  ) {}

  kvDone(err: Error | null | undefined, result?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.handler.kvDone(err, result);
  }

  run(): void {
    if (this.done) return;
    const spec = this.spec;
    try {
      if (spec.shape === 'multi') this.engine.kvMulti(spec.op, this.key, this.options, (err, result) => this.kvDone(err, result));
      else this.inFlight = asHandle(this.engine.dispatchKv(spec.op, this.key as string, this.options, this));
    } catch (err) {
      this.kvDone(err as Error);
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

/** A call other than KV (management, ping) whose outcome reaches the handler at most once. */
class CallRequest implements Pending, KvHandler {
  done = false;
  queued: Pending | undefined = undefined;

  constructor(private readonly handler: KvHandler) {}

  kvDone(err: Error | null | undefined, result?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.handler.kvDone(err, result);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.queued?.cancel();
  }
}

/** Where dispatch() normalises a call's arguments (read at once, then cleared: nothing is retained). */
const SCRATCH: KvCallTarget = { key: undefined, options: NO_OPTIONS };

/**
 * A stream control that exists before the engine's own does: pause/resume/cancel issued while
 * waiting for the connection are remembered and applied when the request starts.
 */
class DeferredStart implements StreamControl, RowsHandler {
  private inner: StreamControl | undefined;
  private paused = false;
  private cancelled = false;
  private finished = false;
  private readonly pending: Pending | undefined;

  constructor(
    private readonly handler: RowsHandler,
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
