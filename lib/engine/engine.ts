// The engine: the facade the flavours and the CLI hold. It keeps the connection state machine
// (idle -> connecting -> connected | failed -> closed) and orchestrates bootstrap (bootstrap.ts),
// the nodes (nodes.ts) and the cluster map (config.ts); KV operations run on the pipeline
// below, N1QL and views in services/. Callback based; adapters wrap it.
import createDebug from 'debug';
import EventEmitter from 'eventemitter3';
import type * as tls from 'node:tls';
import { Magic, HEADER_LENGTH, writeHeader, type Packet } from '../protocol/packet';
import { Opcode } from '../protocol/opcodes';
import { Status } from '../protocol/status';
import { encodeObserveRequest } from '../protocol/extras';
import { encodeRequest, nextOpaque, type KvConnection } from './connection';
import { parseConnstr, secondsToMs, type ConnSpec, type ConnOptionsInput } from './connstr';
import { DeadlineQueue, type Expirable } from './deadlines';
import {
  ArgumentError,
  CancelledError,
  CouchbaseError,
  DurabilityError,
  ErrorCode,
  NetworkError,
  NotFoundError,
  ObjectDestroyedError,
  TimeoutError,
  ValueFormatError,
  errorForStatus,
  parseXerror,
} from './errors';
import { HttpAgents, type HttpAuth, type HttpTarget } from './http';
import { OPERATIONS, opSpec, type BuildContext, type KvOptions, type OpName, type OpSpec } from './kv/operations';
import { KvOp, SETTLED, type KvCallback, type KvHandle, type KvHandler, type KvReceiver, type MultiCallback } from './kv/op';
import { sendToServer } from './kv/node-request';
import { MultiResult, ObserveResult, OperationResult, Result, StatsResult, ValueResult, type ObserveInfo } from './results';
import type { Topology } from './topology';
import { defaultTranscoder, type Transcoder } from './transcoder';
import { buildTlsOptions, connectionSettings } from './options';
import { Bootstrap } from './bootstrap';
import { NodeSet, type NodeState } from './nodes';
import { ClusterConfig } from './config';
import { runN1QL, type N1QLQuery, type PreparedCache } from './services/n1ql';
import { runView, type ViewQueryOptions } from './services/views';
import type { ServiceName } from './services/host';
import type { RowsHandler, StreamControl } from './services/stream';

export type { KvCallback, KvHandle, KvHandler, MultiCallback } from './kv/op';

const debug = createDebug('deferbase:engine');

function deliver(to: KvReceiver, err: CouchbaseError | null, result: Result | null): void {
  if (typeof to === 'function') to(err, result);
  else to.kvDone(err, result);
}

/** A receiver as a callback, for the composite operations (rare; they take callbacks). */
function asCallback(to: KvReceiver): KvCallback {
  return typeof to === 'function' ? to : (err, result) => to.kvDone(err, result);
}

export interface EngineOptions extends ConnOptionsInput {
  /** Replaces the common-flags transcoder. */
  transcoder?: Transcoder;
}

export interface EngineEvents {
  connect: () => void;
  error: (err: CouchbaseError) => void;
  /** A newer cluster map was adopted. */
  config: (config: Topology) => void;
  close: () => void;
}

type EngineState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';

export class Engine extends EventEmitter<EngineEvents> {
  readonly spec: ConnSpec;
  readonly bucket: string;
  readonly transcoder: Transcoder;
  state: EngineState = 'idle';
  topology: Topology | null = null;
  readonly tlsOptions: tls.ConnectionOptions | null;
  readonly auth: HttpAuth;

  /** @internal Every timed KV operation and node request. */
  readonly deadlines = new DeadlineQueue<Expirable>((n) => n.onExpire());
  /** @internal */
  readonly agents: HttpAgents;
  /** @internal */
  readonly nodes: NodeSet;
  private readonly config: ClusterConfig;
  private readonly bootstrap: Bootstrap;
  private preConfig: KvOp[] = [];
  private connectCallbacks: Array<(err: CouchbaseError | null) => void> = [];
  private readonly opTimeoutMs: number;
  private readonly buildCtx: BuildContext;
  private readonly streams = new Set<{ cancel(): void }>();
  private connectError: CouchbaseError | null = null;
  private readonly prepared: PreparedCache = new Map();
  private serviceCursor = 0;

  constructor(connstr: string, options: EngineOptions = {}) {
    super();
    const { transcoder, ...rest } = options;
    this.spec = parseConnstr(connstr, rest);
    const o = this.spec.options;
    this.bucket = this.spec.bucket;
    this.transcoder = transcoder ?? defaultTranscoder;
    this.opTimeoutMs = secondsToMs(o.operation_timeout);
    this.auth = { username: o.username ?? this.bucket, password: o.password ?? '' };
    this.tlsOptions = this.spec.tls ? buildTlsOptions(this.spec) : null;
    this.agents = new HttpAgents(this.tlsOptions);
    this.buildCtx = { transcoder: this.transcoder, bucket: this.bucket, vbucket: 0, exposeTokens: o.fetch_mutation_tokens };
    this.nodes = new NodeSet(connectionSettings(this.spec, this.auth, this.tlsOptions), this);
    this.config = new ClusterConfig(this);
    this.bootstrap = new Bootstrap(this);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get options(): ConnSpec['options'] {
    return this.spec.options;
  }

  // --- lifecycle ----------------------------------------------------------------------------

  /** Bootstraps: first config over KV (CCCP), else over HTTP; then one connection per node. */
  connect(cb?: (err: CouchbaseError | null) => void): void {
    if (cb) this.connectCallbacks.push(cb);
    if (this.state === 'connected') return this.settleConnect(null);
    if (this.state === 'failed') return this.settleConnect(this.connectError);
    if (this.state === 'closed') return this.settleConnect(new ObjectDestroyedError('connect() on a closed engine; create a new one'));
    if (this.state === 'connecting') return;
    this.state = 'connecting';
    this.bootstrap.start((err, topo, httpTarget) => {
      if (err) return this.failConnect(err);
      // Without CCCP the map keeps coming over HTTP.
      this.config.httpTarget = httpTarget;
      this.config.adopt(topo!);
      this.finishConnect();
    });
  }

  private finishConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'connected';
    this.bootstrap.finished();
    this.config.startPolling();
    const queued = this.preConfig;
    this.preConfig = [];
    for (const op of queued) if (!op.done) this.dispatch(op);
    debug('connected to %s (rev %d, %d servers)', this.spec.display, this.topology?.rev, this.topology?.servers.length);
    this.emit('connect');
    this.settleConnect(null);
  }

  private failConnect(err: CouchbaseError): void {
    if (this.state !== 'connecting') return;
    this.state = 'failed';
    this.connectError = err;
    this.nodes.dropAll();
    this.bootstrap.stop();
    const queued = this.preConfig;
    this.preConfig = [];
    for (const op of queued) this.finish(op, err, null);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.settleConnect(err);
  }

  private settleConnect(err: CouchbaseError | null): void {
    const cbs = this.connectCallbacks;
    this.connectCallbacks = [];
    for (const cb of cbs) process.nextTick(cb, err);
  }

  /** Closes every connection and stream; operations still pending fail with CancelledError. */
  close(cb?: (err: CouchbaseError | null) => void): void {
    if (this.state === 'closed') {
      if (cb) process.nextTick(cb, null);
      return;
    }
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    this.config.stopPolling();
    const cancelled = new CancelledError('the engine was closed before the operation completed');
    for (const s of [...this.streams]) s.cancel();
    this.streams.clear();
    this.bootstrap.stop();
    this.nodes.closeAll(cancelled, (op) => this.finish(op, cancelled, null));
    for (const op of this.preConfig) this.finish(op, cancelled, null);
    this.preConfig = [];
    // Whatever is still timed (ops waiting to retry, node requests) ends now, not never.
    for (const n of this.deadlines.clear()) {
      if (n instanceof KvOp) {
        n.dlLinked = false;
        this.finish(n, cancelled, null);
      } else (n as Expirable & { onLost?(e: CouchbaseError): void }).onLost?.(cancelled);
    }
    this.agents.destroy();
    if (wasConnecting) {
      this.connectError = new CancelledError('close() was called while connecting');
      this.settleConnect(this.connectError);
    }
    this.emit('close');
    if (cb) process.nextTick(cb, null);
  }

  // --- what bootstrap, the nodes and the map keeper need ----------------------------------------

  /** @internal */
  get connecting(): boolean {
    return this.state === 'connecting';
  }

  /** @internal */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** @internal */
  parseTopology(text: string, host: string): Topology | null {
    return this.config.parse(text, host);
  }

  /** @internal A newer map: parked operations go where it says. */
  mapAdopted(topo: Topology, rerouted: KvOp[]): void {
    if (this.state === 'connected') {
      for (const op of rerouted) if (!op.done) this.dispatch(op);
    } else {
      this.preConfig.push(...rerouted);
    }
    this.emit('config', topo);
  }

  /** @internal */
  nodeReady(node: NodeState, config: string | null): void {
    if (config) this.config.apply(config, node.host);
    this.nodes.flushWaiting(node);
  }

  /** @internal */
  configPushed(text: string, host: string): void {
    if (text.length > 0) this.config.apply(text, host);
    else this.config.request(true);
  }

  /** @internal */
  nodeLost(node: NodeState, err: CouchbaseError | null): void {
    if (this.listenerCount('error') > 0 && err) this.emit('error', err);
    this.nodes.scheduleReconnect(node);
    // The node may have been failed over: ask the others for a newer map now.
    this.config.request(true);
  }

  /** @internal */
  redispatch(op: KvOp): void {
    this.dispatch(op);
  }

  // --- KV -----------------------------------------------------------------------------------

  /** Runs one KV operation from the table. `options.value` carries the document for stores. */
  kv(op: OpName, key: string, options: KvOptions | null | undefined, cb: KvCallback): KvHandle {
    return this.dispatchKv(op, key, options, cb);
  }

  /**
   * kv() with the outcome going to `handler.kvDone` (or to a callback): undici's dispatch(opts,
   * handler). The handler is called once, asynchronously; after cancel() it gets CancelledError.
   */
  dispatchKv(op: OpName, key: string, options: KvOptions | null | undefined, handler: KvHandler | KvCallback): KvHandle {
    const spec = (OPERATIONS as Record<string, OpSpec | undefined>)[op];
    const opts = options ?? EMPTY_OPTS;
    if (spec === undefined) {
      failLater(handler, new ArgumentError(`unknown operation "${op}"; known: ${Object.keys(OPERATIONS).join(', ')}`));
      return SETTLED;
    }
    return this.start(spec, key, opts.value, opts, handler) ?? SETTLED;
  }

  /**
   * Runs `op` for many keys at once, pipelined. `keys` is a list of keys, or a map / plain object
   * of key -> value (stores), key -> cas (unlock) or key -> per-key options (other ops). The
   * callback always gets a MultiResult: a failing key is an entry with success === false and
   * `error` set; it never fails the batch.
   */
  kvMulti(op: OpName, keys: Iterable<string> | Map<string, unknown> | Record<string, unknown>, options: KvOptions | null | undefined, cb: MultiCallback): void {
    const spec = (OPERATIONS as Record<string, OpSpec | undefined>)[op];
    if (spec === undefined) return failLater(cb, new ArgumentError(`unknown operation "${op}"`));
    const opts = options ?? EMPTY_OPTS;
    let entries: Array<[string, unknown]>;
    if (keys instanceof Map) entries = [...keys.entries()] as Array<[string, unknown]>;
    else if (typeof keys === 'string') return failLater(cb, new ArgumentError(`${op}Multi takes a list or map of keys, not a single string`));
    else if (keys !== null && typeof keys === 'object' && typeof (keys as Iterable<string>)[Symbol.iterator] === 'function') entries = [...(keys as Iterable<string>)].map((k) => [k, undefined]);
    else if (keys !== null && typeof keys === 'object') entries = Object.entries(keys);
    else return failLater(cb, new ArgumentError(`${op}Multi takes a list or map of keys`));
    const multi = new MultiResult();
    let remaining = entries.length;
    if (remaining === 0) return process.nextTick(cb, null, multi);
    const makeCb = (key: string): KvCallback => (err, res) => {
      if (err) {
        const failed = spec.value === 'none' && (op === 'get' || op === 'lock' || op === 'getReplica' || op === 'counter') ? new ValueResult(key, undefined, 0n, 0, err.rc) : new OperationResult(key, 0n, err.rc);
        failed.error = err;
        multi.set(key, failed);
      } else multi.set(key, res!);
      if (--remaining === 0) cb(null, multi);
    };
    for (const [key, v] of entries) {
      let perKey: KvOptions = opts;
      let value: unknown = opts.value;
      if (v !== undefined) {
        if (spec.value === 'value') value = v;
        else if (op === 'unlock') perKey = { ...opts, cas: v instanceof OperationResult ? v.cas : (v as bigint) };
        else if (typeof v === 'object' && v !== null && !(v instanceof Result)) perKey = { ...opts, ...(v as KvOptions) };
        else if (v instanceof OperationResult && op === 'remove') perKey = { ...opts, cas: v.cas };
      }
      this.start(spec, key, value, perKey, makeCb(key));
    }
  }

  /** Returns the operation when one was launched (undefined when it failed up front or is composite). */
  private start(spec: OpSpec, key: string, value: unknown, opts: KvOptions, cb: KvReceiver): KvOp | undefined {
    if (this.state === 'closed') return failLater(cb, new ObjectDestroyedError(`${spec.name}("${key}") on a closed engine`, { key }));
    if (this.state === 'failed') return failLater(cb, this.connectError!);
    if (spec.name === 'stats') {
      if (typeof key !== 'string') return failLater(cb, new ArgumentError('stats takes a group name string ("" for the default group)'));
      this.startComposite(spec, key, opts, asCallback(cb));
      return undefined;
    }
    if (typeof key !== 'string' || key.length === 0) return failLater(cb, new ArgumentError(`${spec.name} needs a non-empty string key (got ${key === '' ? 'an empty string' : typeof key})`, { key: String(key), rc: ErrorCode.EMPTY_KEY }));
    let keyLen = key.length;
    // Fast path: ASCII keys have byteLength === length.
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0x7f) {
        keyLen = Buffer.byteLength(key, 'utf8');
        break;
      }
    }
    if (keyLen > 250) return failLater(cb, new ArgumentError(`key "${key.slice(0, 40)}..." is ${keyLen} bytes; Couchbase keys are at most 250 bytes`, { key }));
    try {
      spec.validate(key, opts);
    } catch (err) {
      return failLater(cb, err as CouchbaseError);
    }
    if (opts.timeout !== undefined && (typeof opts.timeout !== 'number' || !(opts.timeout > 0))) {
      return failLater(cb, new ArgumentError(`timeout for key "${key}" must be a positive number of seconds`, { key }));
    }
    if (spec.composite) {
      this.startComposite(spec, key, opts, asCallback(cb));
      return undefined;
    }
    if (spec.durable && (opts.persistTo || opts.replicateTo) && this.topology) {
      const err = this.checkDurabilityPossible(key, opts);
      if (err) return failLater(cb, err);
    }
    let payload: Buffer | null = null;
    let flags = 0;
    let datatype = 0;
    if (spec.value === 'value') {
      if (value === undefined) return failLater(cb, new ValueFormatError(`${spec.name}("${key}") needs a value`, { key }));
      try {
        const enc = this.transcoder.encode(key, value, opts.format ?? spec.defaultFormat);
        payload = enc.value;
        flags = enc.flags;
        datatype = enc.datatype;
      } catch (err) {
        return failLater(cb, err instanceof CouchbaseError ? err : new ValueFormatError(String((err as Error).message), { key }));
      }
    }
    const opcode = spec.opcodeFor(opts);
    const extLen = spec.extrasLength(opts);
    const valLen = payload === null ? 0 : payload.length;
    const bodyLen = extLen + keyLen + valLen;
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + bodyLen);
    writeHeader(frame, 0, Magic.REQUEST, opcode, keyLen, extLen, datatype, 0, bodyLen, 0, spec.casOf(opts));
    if (extLen > 0) spec.writeExtras(frame, HEADER_LENGTH, opts, flags);
    const keyAt = HEADER_LENGTH + extLen;
    if (keyLen === key.length) {
      // ASCII (checked above): byte stores beat Buffer#write's checks and its call into C++.
      for (let i = 0; i < keyLen; i++) frame[keyAt + i] = key.charCodeAt(i);
    } else {
      frame.write(key, keyAt, keyLen, 'utf8');
    }
    if (payload !== null) payload.copy(frame, keyAt + keyLen);
    const op = new KvOp(this, spec, key, opts, frame, cb);
    this.launch(op, opts.timeout);
    return op;
  }

  private launch(op: KvOp, timeout: number | undefined): void {
    op.deadline = Date.now() + (timeout !== undefined ? secondsToMs(timeout) : this.opTimeoutMs);
    this.deadlines.add(op);
    if (this.topology === null || this.state !== 'connected') {
      if (this.state === 'idle') this.connect();
      this.preConfig.push(op);
      return;
    }
    this.dispatch(op);
  }

  /** Routes `op` to the node that owns its vBucket copy and writes it (or parks it). */
  private dispatch(op: KvOp): void {
    const topo = this.topology!;
    op.vbucket = topo.vbucketOf(op.key);
    const idx = topo.serverOf(op.vbucket, op.copy);
    if (idx < 0) {
      if (op.copy > 0) return this.finish(op, new NotFoundError(`no replica ${op.copy - 1} configured for key "${op.key}"`, { key: op.key, rc: ErrorCode.NO_MATCHING_SERVER }), null);
      // vBucket without a master (mid-failover): wait for a newer map.
      this.config.request(true);
      return this.retryLater(op, 50);
    }
    const server = topo.servers[idx];
    const node = this.nodes.get(server.id);
    if (!node) return this.retryLater(op, 25);
    const conn = node.conn;
    if (conn === null || !conn.ready) {
      node.waiting.push(op);
      if (!conn && !node.reconnectTimer) this.nodes.open(node);
      return;
    }
    op.opaque = nextOpaque();
    const frame = op.frame;
    frame.writeUInt32BE(op.opaque, 12);
    frame.writeUInt16BE(op.vbucket, 6);
    // A server that did not acknowledge HELLO JSON rejects datatype JSON with EINVAL.
    if (!conn.json && frame[5] !== 0) frame[5] = 0;
    op.conn = conn;
    op.attempts++;
    conn.send(op, frame);
  }

  private retryLater(op: KvOp, ms: number): void {
    if (op.retryTimer) return;
    op.retryTimer = setTimeout(() => {
      op.retryTimer = null;
      if (!op.done && this.state === 'connected') this.dispatch(op);
    }, ms);
  }

  /** @internal */
  onReply(op: KvOp, p: Packet, conn: KvConnection): void {
    if (op.done) return;
    op.conn = null;
    const status = p.status;
    if (status === Status.SUCCESS) return this.finish(op, null, p);
    op.lastStatus = status;
    if (status === Status.NOT_MY_VBUCKET) {
      let adopted = false;
      if (p.value.length > 0 && p.value[0] === 0x7b) adopted = this.config.apply(p.value.toString('utf8'), conn.host);
      if (!adopted) this.config.request(true);
      // Immediately when the map moved; otherwise back off so a confused node is not hammered.
      if (adopted && this.spec.options.retry_nmv_imm) return this.dispatch(op);
      return this.retryLater(op, Math.min(500, secondsToMs(this.spec.options.retry_backoff) * Math.min(16, op.attempts)));
    }
    const x = conn.xerror ? parseXerror(p.value) : {};
    this.finish(op, errorForStatus(status, op.key, x.context, x.ref, op.spec.errors[status]), p);
  }

  /** @internal A connection dropped while `op` was in flight. */
  onLost(op: KvOp, err: CouchbaseError): void {
    if (op.done) return;
    op.conn = null;
    if (this.state === 'closed') return this.finish(op, err instanceof CancelledError ? err : new CancelledError('the engine was closed before the operation completed', { key: op.key }), null);
    if (op.spec.retrySafe && this.state === 'connected') return this.retryLater(op, 10);
    this.finish(op, new NetworkError(`${op.spec.name}("${op.key}") may or may not have been applied: ${err.message}`, { key: op.key, cause: err }), null);
  }

  /** @internal */
  cancel(op: KvOp): void {
    // finish() forgets the opaque (a late reply is dropped), unlinks the deadline and stops any
    // retry; an op still parked in a queue is skipped there because it is done.
    this.finish(op, new CancelledError(`${op.spec.name}("${op.key}") was cancelled`, { key: op.key }), null);
  }

  /** @internal */
  onExpire(op: KvOp): void {
    if (op.done) return;
    if (op.conn) op.conn.forget(op.opaque);
    const why = op.lastStatus === Status.NOT_MY_VBUCKET ? ' while the cluster map kept changing (NOT_MY_VBUCKET)' : op.attempts === 0 ? ' before a connection to its node was ready' : '';
    this.finish(op, new TimeoutError(`${op.spec.name}("${op.key}") timed out${why}; raise operation_timeout or check the cluster`, { key: op.key }), null);
  }

  private finish(op: KvOp, err: CouchbaseError | null, p: Packet | null): void {
    if (op.done) return;
    op.done = true;
    this.deadlines.remove(op);
    if (op.retryTimer) {
      clearTimeout(op.retryTimer);
      op.retryTimer = null;
    }
    if (op.conn) {
      op.conn.forget(op.opaque);
      op.conn = null;
    }
    if (op.parent !== null) return op.parent(op, err, p);
    if (err !== null) {
      // Python's quiet=True: a missing key is a result with success false, not an error.
      if (op.opts.quiet && err instanceof NotFoundError) {
        if (op.spec.name === 'get') return deliver(op.cb, null, new ValueResult(op.key, undefined, 0n, 0, err.rc));
        if (op.spec.name === 'remove') return deliver(op.cb, null, new OperationResult(op.key, 0n, err.rc));
      }
      return deliver(op.cb, err, null);
    }
    let result: Result;
    try {
      const ctx = this.buildCtx;
      ctx.vbucket = op.vbucket;
      result = op.spec.build(op.key, p!, op.opts, ctx);
    } catch (e) {
      return deliver(op.cb, e instanceof CouchbaseError ? e : new ValueFormatError((e as Error).message, { key: op.key }), null);
    }
    if (op.spec.durable && (op.opts.persistTo || op.opts.replicateTo)) {
      return this.awaitDurability(op.key, op.vbucket, op.opts, p!, op.spec.name === 'remove', result as OperationResult, asCallback(op.cb));
    }
    deliver(op.cb, null, result);
  }

  // --- composite operations -------------------------------------------------------------------

  private startComposite(spec: OpSpec, key: string, opts: KvOptions, cb: KvCallback): void {
    const run = (): void => {
      if (this.state !== 'connected' || !this.topology) return cb(this.connectError ?? new NetworkError('not connected'), null);
      switch (spec.name) {
        case 'getReplica':
          return this.getReplica(key, opts, cb);
        case 'observe':
          return this.observe(key, opts, cb);
        case 'endure':
          return this.endure(key, opts, cb);
        case 'stats':
          return this.stats(key, opts, cb);
        default:
          return cb(new ArgumentError(`unknown composite ${spec.name}`), null);
      }
    };
    // Composite runners may answer without I/O; keep callbacks asynchronous.
    if (this.state === 'connected') return process.nextTick(run);
    this.connect((err) => (err ? cb(err, null) : run()));
  }

  private replicaOp(key: string, copy: number, opts: KvOptions, parent: NonNullable<KvOp['parent']>): KvOp {
    const keyLen = Buffer.byteLength(key);
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + keyLen);
    writeHeader(frame, 0, Magic.REQUEST, Opcode.GET_REPLICA, keyLen, 0, 0, 0, keyLen, 0, 0n);
    frame.write(key, HEADER_LENGTH, keyLen, 'utf8');
    const op = new KvOp(this, REPLICA_GET, key, opts, frame, noopCb);
    op.copy = copy;
    op.parent = parent;
    return op;
  }

  private getReplica(key: string, opts: KvOptions, cb: KvCallback): void {
    const topo = this.topology!;
    const copies: number[] = [];
    if (opts.replica === undefined || opts.replica === 'any') for (let i = 1; i <= topo.numReplicas; i++) copies.push(i);
    else copies.push(opts.replica + 1);
    const vb = topo.vbucketOf(key);
    const live = copies.filter((c) => topo.serverOf(vb, c) >= 0);
    if (live.length === 0) {
      return cb(new NotFoundError(`no replica of key "${key}" is configured (numReplicas=${topo.numReplicas})`, { key, rc: ErrorCode.NO_MATCHING_SERVER }), null);
    }
    let remaining = live.length;
    let settled = false;
    let lastErr: CouchbaseError | null = null;
    const ops: KvOp[] = [];
    const parent = (op: KvOp, err: CouchbaseError | null, p: Packet | null): void => {
      remaining--;
      if (settled) return;
      if (err === null) {
        settled = true;
        for (const o of ops) if (o !== op) this.finish(o, new CancelledError('another replica answered'), null);
        try {
          const ctx = this.buildCtx;
          ctx.vbucket = op.vbucket;
          return cb(null, REPLICA_GET.build(key, p!, opts, ctx));
        } catch (e) {
          return cb(e as CouchbaseError, null);
        }
      }
      if (!lastErr || !(err instanceof NotFoundError)) lastErr = err;
      if (remaining === 0) {
        settled = true;
        cb(lastErr, null);
      }
    };
    for (const c of live) ops.push(this.replicaOp(key, c, opts, parent));
    for (const op of ops) this.launch(op, opts.timeout);
  }

  private observeOnce(key: string, vb: number, masterOnly: boolean, timeoutMs: number, cb: (err: CouchbaseError | null, infos: ObserveInfo[]) => void): void {
    const topo = this.topology!;
    const body = encodeObserveRequest([{ vbucket: vb, key: Buffer.from(key, 'utf8') }]);
    const infos: ObserveInfo[] = [];
    const targets: number[] = [];
    for (let c = 0; c <= (masterOnly ? 0 : topo.numReplicas); c++) {
      const s = topo.serverOf(vb, c);
      if (s >= 0) targets.push(s);
    }
    if (targets.length === 0) return process.nextTick(cb, new NetworkError(`no node owns the vBucket of key "${key}"`, { key }), infos);
    let remaining = targets.length;
    let masterErr: CouchbaseError | null = null;
    targets.forEach((server, i) => {
      sendToServer(this, server, (opaque) => encodeRequest(Opcode.OBSERVE, '', body, opaque, undefined, vb), timeoutMs, (err, p) => {
        if (err || !p || p.status !== Status.SUCCESS) {
          if (i === 0) masterErr = err ?? errorForStatus(p!.status, key);
        } else {
          const v = p.value;
          // vbid(2) keylen(2) key state(1) cas(8)
          if (v.length >= 4) {
            const kl = v.readUInt16BE(2);
            if (v.length >= 4 + kl + 9) infos.push({ flags: v[4 + kl], cas: v.readBigUInt64BE(5 + kl), fromMaster: i === 0, server });
          }
        }
        if (--remaining === 0) {
          infos.sort((a, b) => Number(b.fromMaster) - Number(a.fromMaster));
          cb(masterErr, infos);
        }
        return true;
      });
    });
  }

  private observe(key: string, opts: KvOptions, cb: KvCallback): void {
    const vb = this.topology!.vbucketOf(key);
    const timeoutMs = opts.timeout ? secondsToMs(opts.timeout) : this.opTimeoutMs;
    this.observeOnce(key, vb, !!opts.masterOnly, timeoutMs, (err, infos) => {
      if (err) return cb(err, null);
      cb(null, new ObserveResult(key, infos));
    });
  }

  private checkDurabilityPossible(key: string, opts: KvOptions): CouchbaseError | null {
    const topo = this.topology!;
    const persist = opts.persistTo === -1 ? topo.numReplicas + 1 : (opts.persistTo ?? 0);
    const replicate = opts.replicateTo === -1 ? topo.numReplicas : (opts.replicateTo ?? 0);
    if (persist > topo.numReplicas + 1 || replicate > topo.numReplicas) {
      return new DurabilityError(`key "${key}": persistTo=${persist}/replicateTo=${replicate} asks for more copies than the bucket has (${topo.numReplicas} replicas); lower them`, { key });
    }
    return null;
  }

  private endure(key: string, opts: KvOptions, cb: KvCallback): void {
    const err = this.checkDurabilityPossible(key, opts);
    if (err) return cb(err, null);
    const vb = this.topology!.vbucketOf(key);
    this.pollDurability(key, vb, opts, opts.cas ?? 0n, null, !!opts.checkRemoved, (e) => cb(e, e ? null : new OperationResult(key, opts.cas ?? 0n)));
  }

  /** After a successful mutation: poll until persistTo/replicateTo hold (or durability_timeout). */
  private awaitDurability(key: string, vb: number, opts: KvOptions, p: Packet, removed: boolean, result: OperationResult, cb: KvCallback): void {
    const token = p.extras.length === 16 ? { vbuuid: p.extras.readBigUInt64BE(0), seqno: p.extras.readBigUInt64BE(8) } : null;
    this.pollDurability(key, vb, opts, p.cas, token, removed, (err) => {
      if (err) {
        err.allResults = result;
        return cb(err, null);
      }
      cb(null, result);
    });
  }

  private pollDurability(
    key: string,
    vb: number,
    opts: KvOptions,
    cas: bigint,
    token: { vbuuid: bigint; seqno: bigint } | null,
    removed: boolean,
    done: (err: CouchbaseError | null) => void,
  ): void {
    const o = this.spec.options;
    const deadline = Date.now() + (opts.timeout ? secondsToMs(opts.timeout) : secondsToMs(o.durability_timeout));
    const interval = secondsToMs(o.durability_interval);
    const round = (): void => {
      if (this.state !== 'connected' || !this.topology) return done(new NetworkError('the engine disconnected before durability was reached', { key }));
      const topo = this.topology;
      const persistWanted = opts.persistTo === -1 ? topo.numReplicas + 1 : (opts.persistTo ?? 0);
      const replicateWanted = opts.replicateTo === -1 ? topo.numReplicas : (opts.replicateTo ?? 0);
      const check = (persisted: number, replicated: number): void => {
        if (persisted >= persistWanted && replicated >= replicateWanted) return done(null);
        if (Date.now() + interval > deadline) {
          return done(new TimeoutError(`key "${key}" was written, but persistTo=${persistWanted}/replicateTo=${replicateWanted} was not reached in time (persisted on ${persisted}, replicated to ${replicated}); raise durability_timeout`, { key }));
        }
        setTimeout(round, interval);
      };
      const timeoutMs = Math.max(1, deadline - Date.now());
      if (token) {
        this.observeSeqnoRound(vb, token, timeoutMs, check);
      } else {
        this.observeOnce(key, vb, false, timeoutMs, (_err, infos) => {
          let persisted = 0;
          let replicated = 0;
          for (const info of infos) {
            let has: boolean;
            let onDisk: boolean;
            if (removed) {
              has = info.flags === 0x80 || info.flags === 0x81;
              onDisk = info.flags === 0x80;
            } else {
              has = (info.flags === 0x00 || info.flags === 0x01) && (cas === 0n || info.cas === cas);
              onDisk = has && info.flags === 0x01;
            }
            if (onDisk) persisted++;
            if (has && !info.fromMaster) replicated++;
          }
          check(persisted, replicated);
        });
      }
    };
    round();
  }

  private observeSeqnoRound(vb: number, token: { vbuuid: bigint; seqno: bigint }, timeoutMs: number, cb: (persisted: number, replicated: number) => void): void {
    const topo = this.topology!;
    const targets: number[] = [];
    for (let c = 0; c <= topo.numReplicas; c++) {
      const s = topo.serverOf(vb, c);
      if (s >= 0) targets.push(s);
    }
    let persisted = 0;
    let replicated = 0;
    let remaining = targets.length;
    if (remaining === 0) return process.nextTick(cb, 0, 0);
    const value = Buffer.allocUnsafe(8);
    value.writeBigUInt64BE(token.vbuuid, 0);
    targets.forEach((server, i) => {
      sendToServer(this, server, (opaque) => encodeRequest(Opcode.OBSERVE_SEQNO, '', value, opaque, undefined, vb), timeoutMs, (err, p) => {
        if (!err && p && p.status === Status.SUCCESS && p.value.length >= 27) {
          const persistedSeqno = p.value.readBigUInt64BE(11);
          const currentSeqno = p.value.readBigUInt64BE(19);
          if (persistedSeqno >= token.seqno) persisted++;
          if (i > 0 && currentSeqno >= token.seqno) replicated++;
        }
        if (--remaining === 0) cb(persisted, replicated);
        return true;
      });
    });
  }

  private stats(group: string, opts: KvOptions, cb: KvCallback): void {
    const topo = this.topology!;
    const value: Record<string, Record<string, string>> = {};
    let remaining = topo.servers.length;
    let firstErr: CouchbaseError | null = null;
    let okCount = 0;
    const timeoutMs = opts.timeout ? secondsToMs(opts.timeout) : this.opTimeoutMs;
    if (remaining === 0) return process.nextTick(cb, null, new StatsResult(group, value));
    topo.servers.forEach((server, i) => {
      sendToServer(this, i, (opaque) => encodeRequest(Opcode.STAT, group, '', opaque), timeoutMs, (err, p) => {
        if (err || !p || p.status !== Status.SUCCESS) {
          if (!firstErr) firstErr = err ?? errorForStatus(p!.status, group);
        } else if (p.key.length > 0) {
          const name = p.key.toString('utf8');
          (value[name] ??= {})[server.id] = p.value.toString('utf8');
          return false;
        } else okCount++;
        if (--remaining === 0) {
          if (okCount === 0 && firstErr) cb(firstErr, null);
          else cb(null, new StatsResult(group, value));
        }
        return true;
      });
    });
  }

  // --- streams ------------------------------------------------------------------------------

  /**
   * Runs a N1QL query on a node of the query service. Rows reach `handler.onRows` in batches as
   * they are parsed off the socket; then onDone(meta) or onError(err) (N1QLError: code, msg).
   */
  n1ql(query: N1QLQuery | string, handler: RowsHandler): StreamControl {
    try {
      return runN1QL(this, query, handler, this.prepared);
    } catch (err) {
      return failedStream(handler, err);
    }
  }

  /** Queries a view (design document `ddoc`, view `view`) on a node of the views service. */
  view(ddoc: string, view: string, params: ViewQueryOptions | null | undefined, handler: RowsHandler): StreamControl {
    try {
      return runView(this, ddoc, view, params, handler);
    } catch (err) {
      return failedStream(handler, err);
    }
  }

  /** @internal Registers a running stream so close() cancels it. */
  trackStream(s: { cancel(): void }): () => void {
    this.streams.add(s);
    return () => this.streams.delete(s);
  }

  /** @internal Runs `fn` once a map is known (connecting first if needed). */
  whenConnected(fn: (err: CouchbaseError | null) => void): void {
    if (this.state === 'connected') return fn(null);
    if (this.state === 'closed') return process.nextTick(fn, new ObjectDestroyedError('the engine is closed'));
    this.connect(fn);
  }

  /** @internal Picks a node offering `service` (round robin). */
  serviceTarget(service: ServiceName): HttpTarget | null {
    const topo = this.topology;
    if (!topo) return null;
    const list = topo.nodesWith(service, this.spec.tls);
    if (list.length === 0) return null;
    const pick = list[this.serviceCursor++ % list.length];
    return { host: pick.host, port: pick.port, tls: this.tlsOptions };
  }
}

const EMPTY_OPTS: KvOptions = Object.freeze({}) as KvOptions;
const REPLICA_GET: OpSpec = { ...OPERATIONS.get, name: 'getReplica', opcode: Opcode.GET_REPLICA, composite: false, opcodeFor: () => Opcode.GET_REPLICA, extrasLength: () => 0 };

function noopCb(): void {}

/** A stream that never started (bad arguments): reports the error asynchronously, like any other. */
function failedStream(handler: RowsHandler, err: unknown): StreamControl {
  const e = err instanceof CouchbaseError ? err : new ArgumentError((err as Error).message);
  const control = { done: false, pause() {}, resume() {}, cancel() {} };
  process.nextTick(() => {
    control.done = true;
    handler.onError(e);
  });
  return control;
}

function failLater(to: KvReceiver | MultiCallback, err: CouchbaseError): undefined {
  process.nextTick(deliver, to, err, null);
  return undefined;
}

export { opSpec };
