// The KV hot path: an operation is checked and encoded into its frame once (start), timed
// (launch), routed to the node owning its vBucket copy and written (route), and ended by its
// reply, its connection's loss, its deadline or a cancel (onReply / onLost / onExpire / cancel
// -> finish), which delivers the result to the caller's handler. Retries re-route the same frame.
// Composite operations (replica reads, observe, endure, stats) run beside it (composite/).
//
// Imports come from the defining modules, not barrels: a barrel's re-exports are getters, a call
// on every access.
import { Magic, HEADER_LENGTH, writeHeader, type Packet } from '../../protocol/packet';
import { Status } from '../../protocol/status';
import { DATATYPE_SNAPPY, deflateSnappy, inflateFrameValue, inflateSnappy } from '../../protocol/snappy';
import { nextOpaque, type KvConnection } from '../connection';
import { secondsToMs, type ConnOptions } from '../connstr';
import {
  ArgumentError,
  CancelledError,
  CouchbaseError,
  ErrorCode,
  NetworkError,
  NotFoundError,
  NotSupportedError,
  ObjectDestroyedError,
  NotMyVbucketError,
  TimeoutError,
  ValueFormatError,
  errorForStatus,
  parseXerror,
} from '../errors';
import { OperationResult, SubdocResult, ValueResult, type Result } from '../results';
import { FMT_JSON, type Transcoder } from '../transcoder';
import { awaitDurability, checkDurabilityPossible } from './composite/durability';
import type { DispatchHost, KvHost } from './host';
import { KvOp } from './op';
import { OPERATIONS } from './operations';
import { RetryReason, retryDelay } from './retry';
import createDebug from 'debug';
import { userData, type ThresholdTracer } from '../tracing';
import { readServerDuration } from '../../protocol/framing';
import { policyFor, refineByMap, retryBudgetMs, retryDelayMs, statusLabel } from './error-map';
import { FMT_BUCKET_DEFAULT, unknownOption, type BuildContext, type KvCallback, type KvHandle, type KvHandler, type KvOptions, type OpSpec } from './spec';
import { CollectionIds, withCollectionPrefix } from './collections';
import { leb128Length, writeLeb128, joinCollectionKey } from '../../protocol/leb128';

const debug = createDebug('deferbase:engine:kv');

/** Longest key Couchbase accepts, in UTF-8 bytes. */
const MAX_KEY_BYTES = 250;

/** Where route() stamps a request header's fields into the frame start() built. */
const enum Header {
  DATATYPE = 5,
  VBUCKET = 6,
  OPAQUE = 12,
}

/** A NOT_MY_VBUCKET body that starts with '{' is the node's cluster map. */
const OPEN_BRACE = 0x7b;

const DATATYPE_JSON = 0x01;

export class KvDispatcher implements KvHost {
  /** operation_timeout in ms (settable: Python's Bucket.timeout). */
  opTimeoutMs: number;
  readonly buildCtx: BuildContext;
  /** The format of stores that name none (Python's Bucket.default_format). */
  defaultFormat: number = FMT_JSON;
  /** Python's Bucket.quiet: a missing key is a result with success false, unless a call says otherwise. */
  quiet: boolean;
  /** libcouchbase's threshold logging tracer, while tracing is on (null: the hot path only tests this). */
  tracer: ThresholdTracer | null = null;
  /** compression=on|deflate_only|force: values of at least `compressMin` bytes go compressed... */
  private deflate = false;
  private compressMin = 0;
  /** ...when that saves at least this much... */
  private compressRatio = 1;
  /** ...once a node negotiated SNAPPY (others get them inflated at routing), or always with force. */
  private forceCompress = false;
  private snappyAgreed = false;
  /** The connections negotiated COLLECTIONS: keys are built with their collection id. */
  private collectionsAgreed = false;
  /** Ids of the bucket's named collections, asked for once (kv/collections.ts). */
  readonly collections: CollectionIds;

  /** Takes the compression options (at construction, and when Python's Bucket.compression* change). */
  configureCompression(o: Pick<ConnOptions, 'compression' | 'compression_min_size' | 'compression_min_ratio'>): void {
    this.deflate = o.compression === 'on' || o.compression === 'deflate_only' || o.compression === 'force';
    this.forceCompress = o.compression === 'force';
    this.compressMin = o.compression_min_size;
    this.compressRatio = o.compression_min_ratio;
  }

  /** A connection finished its handshake: once one takes compressed values, values are compressed. */
  connectionReady(conn: KvConnection): void {
    if (conn.snappy) this.snappyAgreed = true;
    this.collectionsAgreed = conn.collections;
  }
  /** Operations started before the first map: routed when it comes, failed if it never does. */
  private parked: KvOp[] = [];

  constructor(
    private readonly host: DispatchHost,
    private transcoder: Transcoder,
    bucket: string,
  ) {
    const o = host.options;
    this.opTimeoutMs = secondsToMs(o.operation_timeout);
    this.quiet = o.quiet;
    this.buildCtx = { transcoder, bucket, vbucket: 0, exposeTokens: o.fetch_mutation_tokens, passthrough: false, tokens: [] };
    this.configureCompression(o);
    this.collections = new CollectionIds({
      get topology() {
        return host.topology;
      },
      nodes: host.nodes,
      deadlines: host.deadlines,
      bucketName: bucket,
    });
  }

  // KvHost: what the composite operations read.
  get state(): string {
    return this.host.state;
  }
  get topology(): DispatchHost['topology'] {
    return this.host.topology;
  }
  get options(): DispatchHost['options'] {
    return this.host.options;
  }
  get nodes(): DispatchHost['nodes'] {
    return this.host.nodes;
  }
  get deadlines(): DispatchHost['deadlines'] {
    return this.host.deadlines;
  }

  /**
   * Returns the operation when one was launched, or a handle on one waiting for its collection's
   * id (undefined when it failed up front or is composite).
   */
  start(spec: OpSpec<KvHost>, key: string, value: unknown, opts: KvOptions, to: KvHandler): KvHandle | undefined {
    const host = this.host;
    if (host.state === 'closed') return failLater(to, new ObjectDestroyedError(`${spec.name}("${key}") on a closed engine`, { key }));
    if (host.state === 'failed') return failLater(to, host.connectError!);
    // Every option must be one the operation takes: a misspelt one must not be ignored.
    const accepts = spec.accepts;
    for (const name in opts) if (accepts[name] !== true) return failLater(to, unknownOption(spec, String(key), name));
    if (spec.divert !== null) spec = spec.divert(opts) ?? spec;
    if (spec.keyKind === 'statGroup') {
      if (typeof key !== 'string') return failLater(to, new ArgumentError('stats takes a group name string ("" for the default group)'));
      this.startComposite(spec, key, opts, to);
      return undefined;
    }
    if (typeof key !== 'string' || key.length === 0) return failLater(to, new ArgumentError(`${spec.name} needs a non-empty string key (got ${key === '' ? 'an empty string' : typeof key})`, { key: String(key), rc: ErrorCode.EMPTY_KEY }));
    let keyLen = key.length;
    // Fast path: ASCII keys have byteLength === length.
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0x7f) {
        keyLen = Buffer.byteLength(key, 'utf8');
        break;
      }
    }
    if (keyLen > MAX_KEY_BYTES) return failLater(to, new ArgumentError(`key "${key.slice(0, 40)}..." is ${keyLen} bytes; Couchbase keys are at most ${MAX_KEY_BYTES} bytes`, { key }));
    try {
      spec.validate(key, opts);
    } catch (err) {
      return failLater(to, err as CouchbaseError);
    }
    if (opts.timeout !== undefined && (typeof opts.timeout !== 'number' || !(opts.timeout > 0))) {
      return failLater(to, new ArgumentError(`timeout for key "${key}" must be a positive number of seconds`, { key }));
    }
    let cid = 0;
    if (opts.collection !== undefined) {
      try {
        cid = this.collections.idOf(opts.collection);
      } catch (err) {
        return failLater(to, err as CouchbaseError);
      }
      if (cid < 0) return this.startWhenResolved(spec, key, value, opts, to, opts.collection);
    }
    if (spec.run !== null) {
      this.startComposite(spec, key, opts, to);
      return undefined;
    }
    if (spec.durable && (opts.persistTo || opts.replicateTo) && host.topology) {
      const err =
        host.topology.ketama !== null
          ? new NotSupportedError(`${spec.name}("${key}"): persistTo/replicateTo are not supported on memcached bucket "${host.topology.bucket}": it keeps no replicas and nothing on disk`, { key })
          : checkDurabilityPossible(host.topology, key, opts);
      if (err) return failLater(to, err);
    }
    let payload: Buffer | null = null;
    let flags = 0;
    let datatype = 0;
    if (spec.value === 'value') {
      if (value === undefined) return failLater(to, new ValueFormatError(`${spec.name}("${key}") needs a value`, { key }));
      let format = opts.format ?? spec.defaultFormat;
      if (format === FMT_BUCKET_DEFAULT) format = this.defaultFormat;
      try {
        const enc = this.transcoder.encode(key, value, format);
        payload = enc.value;
        flags = enc.flags;
        datatype = enc.datatype;
      } catch (err) {
        return failLater(to, err instanceof CouchbaseError ? err : new ValueFormatError(String((err as Error).message), { key }));
      }
      if (this.deflate && payload.length >= this.compressMin && (this.snappyAgreed || this.forceCompress)) {
        const packed = deflateSnappy(payload);
        if (packed.length <= payload.length * this.compressRatio) {
          payload = packed;
          datatype |= DATATYPE_SNAPPY;
        }
      }
    } else if (spec.body !== null) {
      try {
        payload = spec.body(key, opts);
      } catch (err) {
        return failLater(to, err instanceof CouchbaseError ? err : new ArgumentError(String((err as Error).message), { key }));
      }
    }
    const opcode = spec.opcodeFor(opts);
    const extLen = spec.extrasLength(opts);
    const valLen = payload === null ? 0 : payload.length;
    // Connections with COLLECTIONS take every key after its collection's id (0: one zero byte).
    const prefix = !this.collectionsAgreed ? 0 : cid === 0 ? 1 : leb128Length(cid);
    const bodyLen = extLen + prefix + keyLen + valLen;
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + bodyLen);
    writeHeader(frame, 0, Magic.REQUEST, opcode, prefix + keyLen, extLen, datatype, 0, bodyLen, 0, spec.casOf(opts));
    if (extLen > 0) spec.writeExtras(frame, HEADER_LENGTH, opts, flags);
    let keyAt = HEADER_LENGTH + extLen;
    if (prefix === 1) frame[keyAt++] = cid;
    else if (prefix !== 0) keyAt = writeLeb128(frame, keyAt, cid);
    if (keyLen === key.length) {
      // ASCII (checked above): byte stores beat Buffer#write's checks and its call into C++.
      for (let i = 0; i < keyLen; i++) frame[keyAt + i] = key.charCodeAt(i);
    } else {
      frame.write(key, keyAt, keyLen, 'utf8');
    }
    if (payload !== null) payload.copy(frame, keyAt + keyLen);
    const op = new KvOp(this, spec, key, opts, frame, to);
    op.cid = cid;
    op.prefixed = prefix !== 0;
    this.launch(op, opts.timeout);
    return op;
  }

  /** start() once the id of `path` is known (looked up on a node, connecting first if need be). */
  private startWhenResolved(spec: OpSpec<KvHost>, key: string, value: unknown, opts: KvOptions, to: KvHandler, path: string): KvHandle {
    const waiting = new AwaitingCollection(spec.name, key, to);
    const timeoutMs = opts.timeout !== undefined ? secondsToMs(opts.timeout) : this.opTimeoutMs;
    const resolve = (): void =>
      this.collections.resolve(path, timeoutMs, (err) => {
        if (waiting.cancelled) return;
        if (err !== null) return to.kvDone(err, null);
        waiting.inner = this.start(spec, key, value, opts, to);
      });
    if (this.host.state === 'connected') resolve();
    else {
      this.host.connect((err) => {
        if (waiting.cancelled) return;
        if (err !== null) to.kvDone(err, null);
        else resolve();
      });
    }
    return waiting;
  }

  /** KvHost: `key`'s bytes for an operation of `opts` (its collection's id is known: start() saw to it). */
  collectionKey(key: string, opts: KvOptions): { bytes: Buffer; cid: number; prefixed: boolean } {
    const cid = opts.collection === undefined ? 0 : Math.max(this.collections.idOf(opts.collection), 0);
    if (!this.collectionsAgreed) return { bytes: Buffer.from(key, 'utf8'), cid, prefixed: false };
    return { bytes: joinCollectionKey(cid, key), cid, prefixed: true };
  }

  launch(op: KvOp, timeout: number | undefined): void {
    const host = this.host;
    op.deadline = Date.now() + (timeout !== undefined ? secondsToMs(timeout) : this.opTimeoutMs);
    if (this.tracer !== null) op.started = performance.now();
    host.deadlines.add(op);
    if (host.topology === null || host.state !== 'connected') {
      if (host.state === 'idle') host.connect();
      this.parked.push(op);
      return;
    }
    this.route(op);
  }

  /** Routes `op` to the node that owns its vBucket copy and writes it (or parks it on the node). */
  route(op: KvOp): void {
    const topo = this.host.topology!;
    let idx: number;
    if (topo.ketama === null) {
      op.vbucket = topo.vbucketOf(op.key);
      idx = topo.serverOf(op.vbucket, op.copy);
    } else {
      // Memcached bucket: the continuum names the node; there are no vBuckets nor replicas.
      op.vbucket = 0;
      idx = op.copy === 0 ? topo.ketamaServerOf(op.key) : -1;
    }
    if (idx < 0) {
      if (op.copy > 0) return this.finish(op, new NotFoundError(`no replica ${op.copy - 1} configured for key "${op.key}"`, { key: op.key, rc: ErrorCode.NO_MATCHING_SERVER }), null);
      this.host.requestConfig(true);
      return this.retryLater(op, RetryReason.NoMaster);
    }
    const server = topo.servers[idx];
    const node = this.host.nodes.get(server.id);
    if (!node) return this.retryLater(op, RetryReason.NodeUnknown);
    const conn = node.conn;
    if (conn === null || !conn.ready) {
      node.waiting.push(op);
      if (!conn && !node.reconnectTimer) this.host.nodes.open(node);
      return;
    }
    op.opaque = nextOpaque();
    let frame = op.frame;
    if (op.prefixed !== conn.collections) {
      // Built before this connection said whether it takes collection ids (or for one that does not).
      if (op.cid !== 0 && !conn.collections) {
        return this.finish(op, new NotSupportedError(`${op.spec.name}("${op.key}"): ${conn.host}:${conn.port} does not take collections (a server before 7.0, or enable_collections=false)`, { key: op.key }), null);
      }
      frame = op.frame = withCollectionPrefix(frame, op.prefixed ? op.cid : -1, conn.collections ? op.cid : -1);
      op.prefixed = conn.collections;
    }
    const datatype = frame[Header.DATATYPE];
    if (datatype !== 0) {
      // A server rejects datatype bits it did not acknowledge in HELLO with EINVAL.
      if ((datatype & DATATYPE_SNAPPY) !== 0 && !conn.snappy && !this.forceCompress) frame = op.frame = inflateFrameValue(frame);
      if (!conn.json && (datatype & DATATYPE_JSON) !== 0) frame[Header.DATATYPE] &= ~DATATYPE_JSON;
    }
    frame.writeUInt32BE(op.opaque, Header.OPAQUE);
    frame.writeUInt16BE(op.vbucket, Header.VBUCKET);
    op.conn = conn;
    op.attempts++;
    conn.send(op, frame);
  }

  private retryLater(op: KvOp, reason: RetryReason): void {
    this.retryIn(op, retryDelay(op, reason, this.host.options));
  }

  private retryIn(op: KvOp, ms: number): void {
    if (op.retryTimer) return;
    if (debug.enabled) debug('%s(%s) retry %d in %dms (last status 0x%s)', op.spec.name, userData(this.host.options.log_redaction, op.key), op.attempts, ms, (op.lastStatus >>> 0).toString(16));
    op.retryTimer = setTimeout(() => {
      op.retryTimer = null;
      if (!op.done && this.host.state === 'connected') this.route(op);
    }, ms);
  }

  onReply(op: KvOp, p: Packet, conn: KvConnection): void {
    if (op.done) return;
    op.conn = null;
    const status = p.status;
    if (status === Status.SUCCESS || status === op.spec.alsoBuilds) return this.finish(op, null, p, conn);
    op.lastStatus = status;
    if (status === Status.UNKNOWN_COLLECTION && op.opts.collection !== undefined && op.parent === null) return this.collectionChanged(op, p);
    if (status === Status.NOT_MY_VBUCKET) {
      let adopted = false;
      if ((p.datatype & DATATYPE_SNAPPY) !== 0 && !inflatePacket(p)) p.value = EMPTY;
      if (p.value.length > 0 && p.value[0] === OPEN_BRACE) adopted = this.host.applyConfigText(p.value.toString('utf8'), conn.host);
      if (!adopted) this.host.requestConfig(true);
      // Immediately when the map moved; otherwise back off so a confused node is not hammered.
      if (adopted && this.host.options.retry_nmv_imm) return this.route(op);
      return this.retryLater(op, RetryReason.NotMyVbucket);
    }
    // The error map decides: retry (within the time left), a newer map, a fresh connection.
    const policy = policyFor(conn.errorMap, status);
    if (policy.fetchConfig) this.host.requestConfig(true);
    if (policy.reconnect) {
      // Forgotten first: the connection's loss must not hand this operation back a second time.
      conn.forget(op.opaque);
      conn.destroy(new NetworkError(`${conn.host}:${conn.port} answered ${statusLabel(policy.entry, status)}; reconnecting`));
    }
    if (policy.retry) {
      const now = Date.now();
      if (op.retryStart === 0) op.retryStart = now;
      op.retryEntry = policy.entry;
      const spec = policy.entry?.retry;
      if (now - op.retryStart < retryBudgetMs(spec)) return this.retryIn(op, retryDelayMs(spec, op.attempts));
    }
    const x = conn.xerror ? parseXerror(p.value) : {};
    this.finish(op, refineByMap(errorForStatus(status, op.key, x.context, x.ref, op.spec.errors[status]), status, policy.entry), p, conn);
  }

  /**
   * The node does not know the collection under the id `op` used: as the SDKs do, ask for the id
   * again and resend under the new one; when there is none (or the same), the collection is gone.
   */
  private collectionChanged(op: KvOp, p: Packet): void {
    const path = op.opts.collection!;
    const gone = this.collections.notFound(path, p.status, p.value);
    this.collections.forget(path, op.cid);
    this.collections.resolve(path, Math.max(1, op.deadline - Date.now()), (err) => {
      if (op.done) return;
      const cid = err === null ? this.collections.idOf(path) : -1;
      if (err !== null || cid === op.cid) return this.finish(op, err ?? gone, null);
      op.frame = withCollectionPrefix(op.frame, op.prefixed ? op.cid : -1, op.prefixed ? cid : -1);
      op.cid = cid;
      this.route(op);
    });
  }

  /** A connection dropped while `op` was in flight. */
  onLost(op: KvOp, err: CouchbaseError): void {
    if (op.done) return;
    op.conn = null;
    const state = this.host.state;
    if (state === 'closed') return this.finish(op, err instanceof CancelledError ? err : new CancelledError('the engine was closed before the operation completed', { key: op.key }), null);
    if (op.spec.retrySafe && state === 'connected') return this.retryLater(op, RetryReason.SocketClosed);
    this.finish(op, new NetworkError(`${op.spec.name}("${op.key}") may or may not have been applied: ${err.message}`, { key: op.key, cause: err }), null);
  }

  cancel(op: KvOp): void {
    // finish() forgets the opaque (a late reply is dropped), unlinks the deadline and stops any
    // retry; an op still parked in a queue is skipped there because it is done.
    this.finish(op, new CancelledError(`${op.spec.name}("${op.key}") was cancelled`, { key: op.key }), null);
  }

  onExpire(op: KvOp): void {
    if (op.done) return;
    if (debug.enabled) debug('%s(%s) timed out after %d attempts', op.spec.name, userData(this.host.options.log_redaction, op.key), op.attempts);
    if (op.conn) op.conn.forget(op.opaque);
    if (op.lastStatus === Status.NOT_MY_VBUCKET) {
      // As libcouchbase reports a retried command that runs out of time: with the error that made
      // it retry (Python's NotMyVbucketError, a transient network error), not a bare timeout.
      const why = `${op.spec.name}("${op.key}") timed out while the cluster map kept changing; retry once rebalance or failover settles [status 0x07]`;
      return this.finish(op, new NotMyVbucketError(why, { key: op.key, rc: ErrorCode.NOT_MY_VBUCKET, status: Status.NOT_MY_VBUCKET }), null);
    }
    if (op.retryStart !== 0) {
      // As libcouchbase 2.x's retry queue fails a command that runs out of time while it retries:
      // with the error that made it retry (LCB_ETMPFAIL, Python's TemporaryFailError), the timeout
      // said in the message, not a bare LCB_ETIMEDOUT.
      const waited = ((Date.now() - op.retryStart) / 1000).toFixed(3);
      const context = `timed out after retrying for ${waited}s while the server kept answering ${statusLabel(op.retryEntry, op.lastStatus)}; raise operation_timeout or relieve the node`;
      return this.finish(op, refineByMap(errorForStatus(op.lastStatus, op.key, context, undefined, op.spec.errors[op.lastStatus]), op.lastStatus, op.retryEntry), null);
    }
    const why = op.attempts === 0 ? ' before a connection to its node was ready' : '';
    this.finish(op, new TimeoutError(`${op.spec.name}("${op.key}") timed out${why}; raise operation_timeout or check the cluster`, { key: op.key }), null);
  }

  /** Hands a finished operation's time to the threshold tracer (which keeps it if it was slow). */
  private traceFinished(op: KvOp, p: Packet | null, conn: KvConnection | null): void {
    const totalMs = performance.now() - op.started;
    const tracer = this.tracer!;
    if (totalMs < tracer.kvThresholdMs) return;
    const serverUs = p !== null && p.magic === Magic.ALT_RESPONSE ? readServerDuration(p.framingExtras) : -1;
    tracer.finished('kv', totalMs, {
      operation_name: op.spec.name,
      last_operation_id: `0x${op.opaque.toString(16)}`,
      last_local_id: conn?.id,
      last_remote_address: conn ? `${conn.host}:${conn.port}` : undefined,
      ...(serverUs >= 0 ? { server_us: Math.round(serverUs) } : {}),
    });
  }

  /** `via`: the connection the answer came on (the tracer names it). */
  finish(op: KvOp, err: CouchbaseError | null, p: Packet | null, via: KvConnection | null = null): void {
    if (op.done) return;
    if (p !== null && (p.datatype & DATATYPE_SNAPPY) !== 0 && err === null && !inflatePacket(p)) {
      err = new ValueFormatError(`${op.spec.name}("${op.key}"): the server sent a value flagged Snappy that does not inflate`, { key: op.key });
    }
    op.done = true;
    if (this.tracer !== null && op.started !== 0) this.traceFinished(op, p, via ?? op.conn);
    this.host.deadlines.remove(op);
    if (op.retryTimer) {
      clearTimeout(op.retryTimer);
      op.retryTimer = null;
    }
    if (op.conn) {
      op.conn.forget(op.opaque);
      op.conn = null;
    }
    if (op.parent !== null) return op.parent(op, err, p);
    const spec = op.spec;
    if (err !== null) {
      // Python's quiet=True: a missing key is a result with success false, not an error.
      if (spec.quietMiss && err instanceof NotFoundError && (op.opts.quiet ?? this.quiet)) return op.cb.kvDone(null, missResult(spec, op.key, err.rc));
      return op.cb.kvDone(err, null);
    }
    let result: Result;
    try {
      const ctx = this.buildCtx;
      ctx.vbucket = op.vbucket;
      result = spec.build!(op.key, p!, op.opts, ctx);
    } catch (e) {
      return op.cb.kvDone(e instanceof CouchbaseError ? e : new ValueFormatError((e as Error).message, { key: op.key }), null);
    }
    if (spec.durable && (op.opts.persistTo || op.opts.replicateTo)) {
      const to = op.cb;
      return awaitDurability(this, op.key, op.vbucket, op.opts, p!, spec.removes, result as OperationResult, (e, r) => to.kvDone(e, r));
    }
    op.cb.kvDone(null, result);
  }

  // --- the engine's connection state changes ---------------------------------------------------

  /** Connected: what was started before the first map goes out. */
  routeParked(): void {
    const queued = this.parked;
    this.parked = [];
    for (const op of queued) if (!op.done) this.route(op);
  }

  /** Operations a new map took off the nodes they waited on: routed again, or parked until connected. */
  reroute(ops: KvOp[]): void {
    if (this.host.state === 'connected') {
      for (const op of ops) if (!op.done) this.route(op);
    } else {
      this.parked.push(...ops);
    }
  }

  /** Fails every parked operation with `err` (bootstrap failed, or close()). */
  failParked(err: CouchbaseError): void {
    const queued = this.parked;
    this.parked = [];
    for (const op of queued) this.finish(op, err, null);
  }

  // --- composite operations ---------------------------------------------------------------------

  /** Replaces the transcoder (Python's Bucket.transcoder setter). */
  setTranscoder(t: Transcoder): void {
    this.transcoder = t;
    this.buildCtx.transcoder = t;
  }

  /** KvHost: another row of the table, started as a caller's call would be. */
  runOp(name: string, key: string, options: KvOptions, cb: KvCallback): void {
    const spec = (OPERATIONS as Record<string, OpSpec<KvHost>>)[name];
    this.start(spec, key, options.value, options, { kvDone: cb });
  }

  private startComposite(spec: OpSpec<KvHost>, key: string, opts: KvOptions, to: KvHandler): void {
    const quiet = spec.quietMiss && (opts.quiet ?? this.quiet);
    const cb: KvCallback = (err, result) => {
      if (quiet && err instanceof NotFoundError) return to.kvDone(null, missResult(spec, key, err.rc));
      to.kvDone(err, result);
    };
    const run = (): void => {
      const host = this.host;
      if (host.state !== 'connected' || !host.topology) return cb(host.connectError ?? new NetworkError('not connected'), null);
      // Replica reads, observe and durability need vBuckets: memcached buckets have none.
      if (host.topology.ketama !== null && spec.keyKind !== 'statGroup') {
        return cb(new NotSupportedError(`${spec.name}("${key}") is not supported on memcached bucket "${host.topology.bucket}": it keeps no replicas and nothing on disk`, { key }), null);
      }
      spec.run!(this, key, opts, cb);
    };
    // Composite runners may answer without I/O; keep callbacks asynchronous.
    if (this.host.state === 'connected') return process.nextTick(run);
    this.host.connect((err) => (err ? cb(err, null) : run()));
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * An operation waiting for its collection's id: cancel() before it starts drops it (the handler
 * hears CancelledError), after it cancels the operation itself.
 */
class AwaitingCollection implements KvHandle {
  cancelled = false;
  inner: KvHandle | undefined = undefined;
  constructor(
    private readonly name: string,
    private readonly key: string,
    private readonly to: KvHandler,
  ) {}
  cancel(): void {
    if (this.inner !== undefined) return this.inner.cancel();
    if (this.cancelled) return;
    this.cancelled = true;
    failLater(this.to, new CancelledError(`${this.name}("${this.key}") was cancelled`, { key: this.key }));
  }
}

/** Inflates a reply's Snappy value in place (datatype bit cleared); false when it is corrupt. */
function inflatePacket(p: Packet): boolean {
  try {
    p.value = inflateSnappy(p.value);
    p.datatype &= ~DATATYPE_SNAPPY;
    return true;
  } catch {
    return false;
  }
}

/** A missing key's result under quiet: success false, no error. */
export function missResult(spec: OpSpec, key: string, rc: number): Result {
  if (spec.result === 'value') return new ValueResult(key, undefined, 0n, 0, rc);
  if (spec.result === 'subdoc') return new SubdocResult(key, 0n, [], [], rc);
  return new OperationResult(key, 0n, rc);
}

function fail(to: KvHandler, err: CouchbaseError): void {
  to.kvDone(err, null);
}

/** Reports `err` to `to` on the next tick (the handler is always called asynchronously). */
export function failLater(to: KvHandler, err: CouchbaseError): undefined {
  process.nextTick(fail, to, err);
  return undefined;
}
