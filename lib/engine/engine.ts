// The engine: bootstrap, topology, routing, the KV pipeline with timeouts and retries, and the
// entry points for the HTTP streams. Callback based; adapters wrap it.
import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import createDebug from 'debug';
import EventEmitter from 'eventemitter3';
import { Magic, HEADER_LENGTH, writeHeader, type Packet } from '../protocol/packet';
import { Opcode } from '../protocol/opcodes';
import { Status } from '../protocol/status';
import { HelloFeature } from '../protocol/hello';
import { encodeObserveRequest } from '../protocol/extras';
import { KvConnection, encodeRequest, nextOpaque, type PendingRequest } from './connection';
import { parseConnstr, secondsToMs, DEFAULT_KV_PORT, DEFAULT_KV_TLS_PORT, DEFAULT_HTTP_PORT, DEFAULT_HTTP_TLS_PORT, type ConnSpec, type ConnOptionsInput, type SaslMech } from './connstr';
import { DeadlineQueue, type DeadlineNode } from './deadlines';
import {
  ArgumentError,
  AuthError,
  BucketNotFoundError,
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
import { HttpAgents, httpGetJson, type HttpTarget, type HttpAuth } from './http';
import { OPERATIONS, opSpec, type BuildContext, type KvOptions, type OpName, type OpSpec } from './kv/operations';
import { MultiResult, ObserveResult, OperationResult, Result, StatsResult, ValueResult, type ObserveInfo } from './results';
import { Topology, parseConfigText } from './topology';
import { defaultTranscoder, type Transcoder } from './transcoder';
import { runN1QL, type N1QLQuery, type PreparedCache } from './services/n1ql';
import { runView, type ViewQueryOptions } from './services/views';
import type { RowsHandler, StreamControl } from './services/stream';

const debug = createDebug('deferbase:engine');

export type KvCallback<R extends Result = Result> = (err: CouchbaseError | null, result: R | null) => void;
export type MultiCallback = (err: CouchbaseError | null, result: MultiResult | null) => void;

/**
 * Receives a KV operation's outcome, in place of a callback (see dispatchKv): an object the
 * caller already has for the call, such as its Deferred, so the call needs no closure.
 */
export interface KvHandler<R extends Result = Result> {
  kvDone(err: CouchbaseError | null, result: R | null): void;
}

/** Where an operation's outcome goes: a callback or a handler object. */
type KvReceiver = KvCallback | KvHandler;

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

type Expirable = DeadlineNode & { onExpire(): void };

/** One KV operation in flight; it is its own pending entry and its own deadline node. */
class KvOp implements PendingRequest, Expirable {
  deadline = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlLinked = false;
  opaque = 0;
  vbucket = 0;
  /** 0 = master, n = replica n. */
  copy = 0;
  attempts = 0;
  lastStatus = -1;
  done = false;
  conn: KvConnection | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  /** Receives the outcome instead of `cb` (composite operations). */
  parent: ((op: KvOp, err: CouchbaseError | null, p: Packet | null) => void) | null = null;
  constructor(
    readonly engine: Engine,
    readonly spec: OpSpec,
    readonly key: string,
    readonly opts: KvOptions,
    readonly frame: Buffer,
    readonly cb: KvReceiver,
  ) {}
  onPacket(p: Packet, conn: KvConnection): boolean {
    this.engine._onReply(this, p, conn);
    return true;
  }
  onLost(err: CouchbaseError): void {
    this.engine._onLost(this, err);
  }
  onExpire(): void {
    this.engine._onExpire(this);
  }
  /** KvHandle: removes the operation (from the pipeline, its deadline and retry timer) and fails it with CancelledError. */
  cancel(): void {
    this.engine._cancel(this);
  }
}

/** What `engine.kv()` returns: `cancel()` removes a pending operation and fails it with CancelledError. */
export interface KvHandle {
  cancel(): void;
}

/** For calls that have already failed (or finished) when kv() returns: nothing left to cancel. */
const SETTLED: KvHandle = { cancel() {} };

/** A request to one specific node (observe, stats, config fetch); not rerouted. */
class NodeRequest implements PendingRequest, Expirable {
  deadline = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlLinked = false;
  opaque = nextOpaque();
  conn: KvConnection | null = null;
  done = false;
  constructor(
    readonly engine: Engine,
    /** Return false while more packets belong to this request (STAT). */
    readonly handler: (err: CouchbaseError | null, p: Packet | null) => boolean,
  ) {}
  onPacket(p: Packet): boolean {
    if (this.done) return true;
    const last = this.handler(null, p);
    if (last) this.finish();
    return last;
  }
  onLost(err: CouchbaseError): void {
    if (this.done) return;
    this.finish();
    this.handler(err, null);
  }
  onExpire(): void {
    if (this.done) return;
    this.done = true;
    if (this.conn) this.conn.forget(this.opaque);
    this.handler(new TimeoutError('the node did not answer in time'), null);
  }
  private finish(): void {
    this.done = true;
    this.engine._deadlines.remove(this);
  }
}

interface NodeState {
  id: string;
  host: string;
  port: number;
  conn: KvConnection | null;
  /** Operations routed here while the connection is not ready. */
  waiting: KvOp[];
  backoffMs: number;
  reconnectTimer: NodeJS.Timeout | null;
  removed: boolean;
}

type EngineState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed';

const MAX_BACKOFF_MS = 2000;

export class Engine extends EventEmitter<EngineEvents> {
  readonly spec: ConnSpec;
  readonly bucket: string;
  readonly transcoder: Transcoder;
  state: EngineState = 'idle';
  topology: Topology | null = null;
  /** @internal */
  readonly _deadlines = new DeadlineQueue<Expirable>((n) => n.onExpire());
  /** @internal */
  readonly _agents: HttpAgents;
  readonly tlsOptions: tls.ConnectionOptions | null;
  readonly auth: HttpAuth;

  private readonly nodes = new Map<string, NodeState>();
  private preConfig: KvOp[] = [];
  private connectCallbacks: Array<(err: CouchbaseError | null) => void> = [];
  private pollTimer: NodeJS.Timeout | null = null;
  private lastConfigRequest = 0;
  private pollCursor = 0;
  private readonly opTimeoutMs: number;
  private readonly buildCtx: BuildContext;
  private readonly features: number[];
  private readonly saslMechs: SaslMech[];
  private bootstrapTimer: NodeJS.Timeout | null = null;
  private readonly streams = new Set<{ cancel(): void }>();
  private connectError: CouchbaseError | null = null;

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
    this._agents = new HttpAgents(this.tlsOptions);
    this.buildCtx = { transcoder: this.transcoder, bucket: this.bucket, vbucket: 0, exposeTokens: o.fetch_mutation_tokens };
    const f: number[] = [HelloFeature.SELECT_BUCKET, HelloFeature.JSON];
    if (o.tcp_nodelay) f.push(HelloFeature.TCP_NODELAY);
    if (o.fetch_mutation_tokens || o.dur_mutation_tokens) f.push(HelloFeature.MUTATION_SEQNO);
    if (o.detailed_errcodes) f.push(HelloFeature.XERROR);
    if (o.enable_clustermap_notification) f.push(HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION);
    if (o.enable_unordered_execution) f.push(HelloFeature.UNORDERED_EXECUTION);
    this.features = f;
    if (o.sasl_mech_force) this.saslMechs = [o.sasl_mech_force];
    else if (this.spec.tls) this.saslMechs = ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1', 'PLAIN'];
    else this.saslMechs = ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1'];
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
    const o = this.spec.options;
    const candidates: Array<{ kind: 'kv' | 'http'; host: string; port: number }> = [];
    const cccp = o.bootstrap_on === 'all' || o.bootstrap_on === 'both' || o.bootstrap_on === 'cccp';
    const viaHttp = o.bootstrap_on === 'all' || o.bootstrap_on === 'both' || o.bootstrap_on === 'http';
    if (cccp) for (const h of this.spec.hosts) if (h.mode === 'kv') candidates.push({ kind: 'kv', host: h.host, port: h.port || (this.spec.tls ? DEFAULT_KV_TLS_PORT : DEFAULT_KV_PORT) });
    if (viaHttp) {
      for (const h of this.spec.hosts) {
        const port = h.mode === 'http' && h.port ? h.port : this.spec.tls ? DEFAULT_HTTP_TLS_PORT : DEFAULT_HTTP_PORT;
        if (!candidates.some((c) => c.kind === 'http' && c.host === h.host && c.port === port)) candidates.push({ kind: 'http', host: h.host, port });
      }
    }
    if (o.randomize_nodes) candidates.sort(() => Math.random() - 0.5);
    if (candidates.length === 0) {
      return this.failConnect(new ArgumentError(`bootstrap_on=${o.bootstrap_on} leaves no host to bootstrap from in "${this.spec.display}"`));
    }
    const totalMs = secondsToMs(o.config_total_timeout);
    this.bootstrapTimer = setTimeout(() => {
      this.failConnect(new TimeoutError(`no cluster map from ${this.spec.display} within config_total_timeout (${o.config_total_timeout}s); check hosts, ports and that the bucket exists`));
    }, totalMs);
    const errors: string[] = [];
    const tryNext = (i: number): void => {
      if (this.state !== 'connecting') return;
      if (i >= candidates.length) {
        return this.failConnect(new NetworkError(`could not bootstrap from any host of ${this.spec.display}: ${errors.join('; ')}`, { rc: ErrorCode.CONNECT_ERROR }));
      }
      const c = candidates[i];
      const next = (err: CouchbaseError): void => {
        errors.push(`${c.kind} ${c.host}:${c.port}: ${err.message}`);
        // Wrong credentials or bucket will not get better on another node.
        if (err instanceof AuthError || err instanceof BucketNotFoundError) return this.failConnect(err);
        tryNext(i + 1);
      };
      if (c.kind === 'kv') this.bootstrapKv(c.host, c.port, next);
      else this.bootstrapHttp(c.host, c.port, next);
    };
    tryNext(0);
  }

  /** Bootstrap sockets not yet adopted as a node's connection (closed if bootstrap ends). */
  private readonly bootstrapConns = new Set<KvConnection>();

  private bootstrapKv(host: string, port: number, onFail: (err: CouchbaseError) => void): void {
    const conn = this.newConnection(host, port);
    this.bootstrapConns.add(conn);
    let settled = false;
    conn.on('ready', (text) => {
      settled = true;
      this.bootstrapConns.delete(conn);
      if (this.state !== 'connecting') return conn.destroy(null);
      const topo = text ? this.parseTopology(text, host) : null;
      if (!topo || !topo.hasVBucketMap) {
        conn.destroy(null);
        return onFail(new NetworkError(`${host}:${port} served no usable bucket config (CCCP)`));
      }
      // Keep the bootstrap socket as that node's connection when the map names it.
      const id = `${host}:${port}`;
      const node = this.nodeState(id, host, port);
      node.conn = conn;
      this.wireConnection(node, conn);
      this.adoptTopology(topo);
      this.finishConnect();
    });
    conn.on('close', (err) => {
      this.bootstrapConns.delete(conn);
      if (!settled && this.state === 'connecting') onFail(err ?? new NetworkError(`${host}:${port} closed during bootstrap`));
    });
  }

  private bootstrapHttp(host: string, port: number, onFail: (err: CouchbaseError) => void): void {
    const target: HttpTarget = { host, port, tls: this.tlsOptions };
    const path = `/pools/default/b/${encodeURIComponent(this.bucket)}`;
    httpGetJson(this._agents, target, path, this.auth, secondsToMs(this.spec.options.config_node_timeout), (err, status, body) => {
      if (this.state !== 'connecting') return;
      if (err) return onFail(err);
      if (status === 401) return onFail(new AuthError(`authentication as "${this.auth.username}" failed on ${host}:${port}; check username and password`));
      if (status === 404) return onFail(new BucketNotFoundError(`bucket "${this.bucket}" does not exist on ${host}:${port}; check the bucket name`));
      if (status !== 200) return onFail(new NetworkError(`GET ${path} on ${host}:${port} answered HTTP ${status}`));
      const topo = this.parseTopology(body, host);
      if (!topo || !topo.hasVBucketMap) return onFail(new NetworkError(`${host}:${port} served no usable bucket config over HTTP`));
      // The cluster did not serve maps over KV: keep refreshing them over HTTP.
      this.httpConfigTarget = target;
      this.adoptTopology(topo);
      this.finishConnect();
    });
  }

  /** Set when the map came over HTTP (no CCCP): refreshes then use the REST endpoint too. */
  private httpConfigTarget: HttpTarget | null = null;
  private httpConfigInFlight = false;

  private fetchHttpConfig(): void {
    if (this.httpConfigInFlight || this.state !== 'connected') return;
    const mgmt = this._serviceTarget('mgmt') ?? this.httpConfigTarget!;
    this.httpConfigInFlight = true;
    const path = `/pools/default/b/${encodeURIComponent(this.bucket)}`;
    httpGetJson(this._agents, mgmt, path, this.auth, secondsToMs(this.spec.options.config_node_timeout), (err, status, body) => {
      this.httpConfigInFlight = false;
      if (!err && status === 200) this.applyConfigText(body, mgmt.host);
      else debug('HTTP config refresh from %s:%d failed: %s', mgmt.host, mgmt.port, err ? err.message : `HTTP ${status}`);
    });
  }

  private finishConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'connected';
    if (this.bootstrapTimer) clearTimeout(this.bootstrapTimer);
    this.bootstrapTimer = null;
    const o = this.spec.options;
    this.pollTimer = setInterval(() => this.poll(), secondsToMs(o.config_poll_interval));
    this.pollTimer.unref();
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
    if (this.bootstrapTimer) clearTimeout(this.bootstrapTimer);
    this.bootstrapTimer = null;
    for (const node of this.nodes.values()) this.dropNode(node, null);
    this.nodes.clear();
    for (const c of [...this.bootstrapConns]) c.destroy(null);
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
    if (this.bootstrapTimer) clearTimeout(this.bootstrapTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.bootstrapTimer = this.pollTimer = null;
    const cancelled = new CancelledError('the engine was closed before the operation completed');
    for (const s of [...this.streams]) s.cancel();
    this.streams.clear();
    for (const c of [...this.bootstrapConns]) c.destroy(null);
    const nodes = [...this.nodes.values()];
    this.nodes.clear();
    for (const node of nodes) {
      node.removed = true;
      for (const op of node.waiting) this.finish(op, cancelled, null);
      node.waiting = [];
      this.dropNode(node, cancelled);
    }
    for (const op of this.preConfig) this.finish(op, cancelled, null);
    this.preConfig = [];
    // Whatever is still timed (ops waiting to retry, node requests) ends now, not never.
    for (const n of this._deadlines.clear()) {
      if (n instanceof KvOp) {
        n.dlLinked = false;
        this.finish(n, cancelled, null);
      } else if (n instanceof NodeRequest) n.onLost(cancelled);
    }
    this._agents.destroy();
    if (wasConnecting) {
      this.connectError = new CancelledError('close() was called while connecting');
      this.settleConnect(this.connectError);
    }
    this.emit('close');
    if (cb) process.nextTick(cb, null);
  }

  // --- connections and topology ---------------------------------------------------------------

  private newConnection(host: string, port: number): KvConnection {
    const o = this.spec.options;
    return new KvConnection({
      host,
      port,
      tls: this.tlsOptions,
      bucket: o.select_bucket ? this.bucket : null,
      username: this.auth.username,
      password: this.auth.password,
      saslMechs: this.saslMechs,
      features: this.features,
      agent: o.client_string ? `deferbase/0.1.0 ${o.client_string}` : 'deferbase/0.1.0',
      connectTimeoutMs: secondsToMs(o.config_node_timeout),
      fetchErrorMap: o.enable_errmap,
      tcpNoDelay: o.tcp_nodelay,
      tcpKeepAlive: o.tcp_keepalive,
    });
  }

  private nodeState(id: string, host: string, port: number): NodeState {
    let node = this.nodes.get(id);
    if (!node) {
      node = { id, host, port, conn: null, waiting: [], backoffMs: 0, reconnectTimer: null, removed: false };
      this.nodes.set(id, node);
    }
    return node;
  }

  private wireConnection(node: NodeState, conn: KvConnection): void {
    conn.on('config', (text) => {
      if (text.length > 0) this.applyConfigText(text, conn.host);
      else this.requestConfig(true);
    });
    conn.on('close', (err, pending) => {
      if (node.conn === conn) node.conn = null;
      const lost = err ?? new NetworkError(`connection to ${node.id} closed`);
      for (const req of pending) (req as PendingRequest & { onLost?(e: CouchbaseError): void }).onLost?.(lost);
      if (this.state === 'closed' || node.removed) return;
      debug('lost %s: %s', node.id, lost.message);
      if (this.listenerCount('error') > 0 && err) this.emit('error', err);
      this.scheduleReconnect(node);
      // The node may have been failed over: ask the others for a newer map now.
      this.requestConfig(true);
    });
  }

  private openConnection(node: NodeState): void {
    if (node.conn || node.removed || this.state === 'closed') return;
    const conn = this.newConnection(node.host, node.port);
    node.conn = conn;
    conn.on('ready', (text) => {
      if (node.conn !== conn) return;
      node.backoffMs = 0;
      if (text) this.applyConfigText(text, node.host);
      this.flushWaiting(node);
    });
    this.wireConnection(node, conn);
  }

  private scheduleReconnect(node: NodeState): void {
    if (node.reconnectTimer || node.removed) return;
    node.backoffMs = Math.min(MAX_BACKOFF_MS, node.backoffMs === 0 ? 25 : node.backoffMs * 2);
    node.reconnectTimer = setTimeout(() => {
      node.reconnectTimer = null;
      this.openConnection(node);
    }, node.backoffMs);
  }

  private dropNode(node: NodeState, err: CouchbaseError | null): void {
    node.removed = true;
    if (node.reconnectTimer) clearTimeout(node.reconnectTimer);
    node.reconnectTimer = null;
    const conn = node.conn;
    node.conn = null;
    if (conn) conn.destroy(err ?? new NetworkError(`node ${node.id} left the cluster map`));
  }

  private flushWaiting(node: NodeState): void {
    const conn = node.conn;
    if (!conn || !conn.ready || node.waiting.length === 0) return;
    const list = node.waiting;
    node.waiting = [];
    for (const op of list) if (!op.done) this.dispatch(op);
  }

  private parseTopology(text: string, host: string): Topology | null {
    try {
      return new Topology(parseConfigText(text, host), this.spec.tls);
    } catch (err) {
      debug('unparsable config from %s: %s', host, (err as Error).message);
      return null;
    }
  }

  /** @internal Applies config text if it is newer; returns whether it was adopted. */
  applyConfigText(text: string, host: string): boolean {
    const topo = this.parseTopology(text, host);
    if (!topo || !topo.hasVBucketMap) return false;
    return this.adoptTopology(topo);
  }

  private adoptTopology(topo: Topology): boolean {
    const cur = this.topology;
    if (!topo.isNewerThan(cur)) return false;
    if (cur && cur.numVBuckets !== topo.numVBuckets) {
      debug('ignoring config rev %d: vBucket count changed %d -> %d', topo.rev, cur.numVBuckets, topo.numVBuckets);
      return false;
    }
    this.topology = topo;
    debug('adopted config rev %d epoch %d (%d servers)', topo.rev, topo.epoch, topo.servers.length);
    const wanted = new Set<string>();
    for (const s of topo.servers) wanted.add(s.id);
    const rerouted: KvOp[] = [];
    for (const [id, node] of this.nodes) {
      if (wanted.has(id)) continue;
      this.nodes.delete(id);
      rerouted.push(...node.waiting);
      node.waiting = [];
      this.dropNode(node, null);
    }
    for (const s of topo.servers) {
      const node = this.nodeState(s.id, s.host, s.port);
      if (!node.conn && !node.reconnectTimer) this.openConnection(node);
    }
    // Ops parked on a node may now belong to another one.
    for (const node of this.nodes.values()) {
      if (node.waiting.length === 0) continue;
      rerouted.push(...node.waiting);
      node.waiting = [];
    }
    if (this.state === 'connected') {
      for (const op of rerouted) if (!op.done) this.dispatch(op);
    } else {
      this.preConfig.push(...rerouted);
    }
    this.emit('config', topo);
    return true;
  }

  /** Fetches the map from a ready node (throttled unless `urgent` after a throttle window). */
  private requestConfig(urgent: boolean): void {
    if (this.state !== 'connected') return;
    const now = Date.now();
    const throttle = secondsToMs(this.spec.options.config_delay_throttle);
    if (now - this.lastConfigRequest < (urgent ? throttle : throttle * 5)) return;
    this.lastConfigRequest = now;
    if (this.httpConfigTarget) return this.fetchHttpConfig();
    const ready = [...this.nodes.values()].filter((n) => n.conn && n.conn.ready);
    if (ready.length === 0) return;
    const node = ready[this.pollCursor++ % ready.length];
    const conn = node.conn!;
    const req = new NodeRequest(this, (err, p) => {
      if (!err && p && p.status === Status.SUCCESS && p.value.length > 0) this.applyConfigText(p.value.toString('utf8'), conn.host);
      return true;
    });
    req.deadline = now + secondsToMs(this.spec.options.config_node_timeout);
    req.conn = conn;
    this._deadlines.add(req);
    conn.send(req, encodeRequest(Opcode.GET_CLUSTER_CONFIG, '', '', req.opaque));
  }

  private poll(): void {
    if (this.httpConfigTarget) {
      this.lastConfigRequest = 0;
      return this.requestConfig(false);
    }
    // Nodes that push maps (DUPLEX + CLUSTERMAP_CHANGE_NOTIFICATION) need no polling.
    for (const n of this.nodes.values()) {
      if (n.conn && n.conn.ready && !n.conn.pushConfigs) {
        this.lastConfigRequest = 0;
        return this.requestConfig(false);
      }
    }
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
    this._deadlines.add(op);
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
      this.requestConfig(true);
      return this.retryLater(op, 50);
    }
    const server = topo.servers[idx];
    const node = this.nodes.get(server.id);
    if (!node) return this.retryLater(op, 25);
    const conn = node.conn;
    if (conn === null || !conn.ready) {
      node.waiting.push(op);
      if (!conn && !node.reconnectTimer) this.openConnection(node);
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
  _onReply(op: KvOp, p: Packet, conn: KvConnection): void {
    if (op.done) return;
    op.conn = null;
    const status = p.status;
    if (status === Status.SUCCESS) return this.finish(op, null, p);
    op.lastStatus = status;
    if (status === Status.NOT_MY_VBUCKET) {
      let adopted = false;
      if (p.value.length > 0 && p.value[0] === 0x7b) adopted = this.applyConfigText(p.value.toString('utf8'), conn.host);
      if (!adopted) this.requestConfig(true);
      // Immediately when the map moved; otherwise back off so a confused node is not hammered.
      if (adopted && this.spec.options.retry_nmv_imm) return this.dispatch(op);
      return this.retryLater(op, Math.min(500, secondsToMs(this.spec.options.retry_backoff) * Math.min(16, op.attempts)));
    }
    const x = conn.xerror ? parseXerror(p.value) : {};
    this.finish(op, errorForStatus(status, op.key, x.context, x.ref, op.spec.errors[status]), p);
  }

  /** @internal A connection dropped while `op` was in flight. */
  _onLost(op: KvOp, err: CouchbaseError): void {
    if (op.done) return;
    op.conn = null;
    if (this.state === 'closed') return this.finish(op, err instanceof CancelledError ? err : new CancelledError('the engine was closed before the operation completed', { key: op.key }), null);
    if (op.spec.retrySafe && this.state === 'connected') return this.retryLater(op, 10);
    this.finish(op, new NetworkError(`${op.spec.name}("${op.key}") may or may not have been applied: ${err.message}`, { key: op.key, cause: err }), null);
  }

  /** @internal */
  _cancel(op: KvOp): void {
    // finish() forgets the opaque (a late reply is dropped), unlinks the deadline and stops any
    // retry; an op still parked in a queue is skipped there because it is done.
    this.finish(op, new CancelledError(`${op.spec.name}("${op.key}") was cancelled`, { key: op.key }), null);
  }

  /** @internal */
  _onExpire(op: KvOp): void {
    if (op.done) return;
    if (op.conn) op.conn.forget(op.opaque);
    const why = op.lastStatus === Status.NOT_MY_VBUCKET ? ' while the cluster map kept changing (NOT_MY_VBUCKET)' : op.attempts === 0 ? ' before a connection to its node was ready' : '';
    this.finish(op, new TimeoutError(`${op.spec.name}("${op.key}") timed out${why}; raise operation_timeout or check the cluster`, { key: op.key }), null);
  }

  private finish(op: KvOp, err: CouchbaseError | null, p: Packet | null): void {
    if (op.done) return;
    op.done = true;
    this._deadlines.remove(op);
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

  /** Sends a frame to the server at `index` of the current map; `handler` sees each reply. */
  private sendToServer(index: number, build: (opaque: number) => Buffer, timeoutMs: number, handler: (err: CouchbaseError | null, p: Packet | null) => boolean): void {
    const topo = this.topology!;
    const server = topo.servers[index];
    const node = server && this.nodes.get(server.id);
    const req = new NodeRequest(this, handler);
    if (!node || !node.conn || !node.conn.ready) {
      process.nextTick(() => handler(new NetworkError(`node ${server ? server.id : index} is not connected`), null));
      return;
    }
    req.conn = node.conn;
    req.deadline = Date.now() + timeoutMs;
    this._deadlines.add(req);
    node.conn.send(req, build(req.opaque));
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
      this.sendToServer(server, (opaque) => encodeRequest(Opcode.OBSERVE, '', body, opaque, undefined, vb), timeoutMs, (err, p) => {
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
      this.sendToServer(server, (opaque) => encodeRequest(Opcode.OBSERVE_SEQNO, '', value, opaque, undefined, vb), timeoutMs, (err, p) => {
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
      this.sendToServer(i, (opaque) => encodeRequest(Opcode.STAT, group, '', opaque), timeoutMs, (err, p) => {
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

  private readonly prepared: PreparedCache = new Map();

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
  _trackStream(s: { cancel(): void }): () => void {
    this.streams.add(s);
    return () => this.streams.delete(s);
  }

  /** @internal Runs `fn` once a map is known (connecting first if needed). */
  _whenConnected(fn: (err: CouchbaseError | null) => void): void {
    if (this.state === 'connected') return fn(null);
    if (this.state === 'closed') return process.nextTick(fn, new ObjectDestroyedError('the engine is closed'));
    this.connect(fn);
  }

  private serviceCursor = 0;
  /** @internal Picks a node offering `service` (round robin). */
  _serviceTarget(service: 'n1ql' | 'capi' | 'mgmt'): HttpTarget | null {
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

function buildTlsOptions(spec: ConnSpec): tls.ConnectionOptions {
  const o = spec.options;
  const out: tls.ConnectionOptions = {};
  const read = (p: string, what: string): Buffer => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new ArgumentError(`cannot read ${what} "${p}": ${(err as Error).message}`);
    }
  };
  if (o.truststorepath) out.ca = read(o.truststorepath, 'truststorepath');
  if (o.certpath) {
    if (o.keypath) {
      out.cert = read(o.certpath, 'certpath');
      out.key = read(o.keypath, 'keypath');
    } else if (!o.truststorepath) out.ca = read(o.certpath, 'certpath');
  }
  if (o.ssl === 'no_verify') out.rejectUnauthorized = false;
  return out;
}

export { opSpec };
