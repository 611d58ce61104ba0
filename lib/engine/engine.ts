// The engine: the facade the flavours and the CLI hold. It keeps the connection state machine
// (idle -> connecting -> connected | failed -> closed) and orchestrates bootstrap (bootstrap.ts),
// the nodes (nodes.ts), the cluster map (config.ts), the KV pipeline (kv/dispatcher.ts) and the
// HTTP services (services/). Callback based; adapters wrap it. The members marked @internal are
// what those modules see of it (kv/host.ts, services/host.ts, ...); they are not published.
import createDebug from 'debug';
import EventEmitter from 'eventemitter3';
import { randomBytes } from 'node:crypto';
import type * as tls from 'node:tls';
import { parseConnstr, type CompressionMode, type ConnSpec, type ConnOptionsInput } from './connstr';
import { DeadlineQueue, type Expirable } from './deadlines';
import { ArgumentError, CancelledError, ConnectError, CouchbaseError, ObjectDestroyedError, TimeoutError } from './errors';
import { HttpAgents, type HttpAuth, type HttpTarget } from './http';
import { OPERATIONS, opSpec, type KvOptions, type OpName, type OpSpec } from './kv/operations';
import { KvOp, SETTLED } from './kv/op';
import type { KvCallback, KvHandle, KvHandler, MultiCallback } from './kv/spec';
import { KvDispatcher, failLater } from './kv/dispatcher';
import { kvMulti, type MultiKeys } from './kv/multi';
import type { KvHost } from './kv/host';
import { authority, type Topology } from './topology';
import { defaultTranscoder, FMT_AUTO, FMT_BYTES, FMT_JSON, FMT_UTF8, toTranscoder, type PythonTranscoder, type Transcoder } from './transcoder';
import { diagnostics, ping, type DiagnosticsReport, type PingReport } from './health';
import { runManage } from './services/manage';
import type { KvConnection } from './connection';
import { ThresholdTracer, type TracingSettings } from './tracing';
import { Magic, type Packet } from '../protocol/packet';
import { readServerDuration } from '../protocol/framing';
import { opcodeName } from '../protocol/opcodes';
import type { MutationToken } from './results';
import { addressFamily, buildTlsOptions, connectionSettings } from './options';
import { Bootstrap } from './bootstrap';
import { NodeSet, type NodeState } from './nodes';
import { ClusterConfig } from './config';
import { systemResolver, type SrvResolver } from './dnssrv';
import { runN1QL, type N1QLQuery, type PreparedCache } from './services/n1ql';
import { runView, type ViewQueryOptions } from './services/views';
import type { ServiceName } from './services/host';
import type { RowsHandler, StreamControl } from './services/stream';

export type { KvCallback, KvHandle, KvHandler, MultiCallback } from './kv/spec';

const debug = createDebug('deferbase:engine');

export interface EngineOptions extends ConnOptionsInput {
  /** Replaces the common-flags transcoder (a Transcoder, Python's encodeValue/decodeValue shape, or a class of either). */
  transcoder?: Transcoder | PythonTranscoder | (new () => Transcoder | PythonTranscoder);
  /** Where DNS SRV names are looked up (default: node:dns, the system's DNS servers). */
  srvResolver?: SrvResolver;
}

/** What a Bucket reports about itself (Python's Bucket properties). */
export interface EngineInfo {
  /** The bucket's name. */
  bucket: string;
  /** Whether the connection is TLS (couchbases://). */
  isSsl: boolean;
  /** The KV nodes of the current map, as `host:port`. */
  serverNodes: string[];
  /** The replicas the bucket is configured with (0 before the first map). */
  configuredReplicaCount: number;
  connected: boolean;
  closed: boolean;
}

/** The settings a Bucket may change while open (Python's settable Bucket properties). */
export interface EngineSettings {
  /** operation_timeout, seconds. */
  timeout: number;
  viewsTimeout: number;
  n1qlTimeout: number;
  quiet: boolean;
  defaultFormat: number;
  dataPassthrough: boolean;
  transcoder: Transcoder;
  /** Python's COMPRESS_* value (set: that or a connection-string mode, 'on', 'inflate_only'...). */
  compression: number;
  /** Values shorter than this many bytes are sent as they are. */
  compressionMinSize: number;
  /** A compressed value is sent only if at most this fraction of the original. */
  compressionMinRatio: number;
  /** libcouchbase's threshold logging tracer (seconds; queue sizes are counts): setting one turns tracing on. */
  tracingThresholdKv: number;
  tracingThresholdN1ql: number;
  tracingThresholdView: number;
  tracingThresholdFts: number;
  tracingThresholdAnalytics: number;
  tracingThresholdQueueSize: number;
  tracingThresholdQueueFlushInterval: number;
  tracingOrphanedQueueSize: number;
  tracingOrphanedQueueFlushInterval: number;
  /** Wrap user data in the engine's log lines in <ud>...</ud> (log_redaction). */
  redaction: boolean;
}

/** The tracer's Bucket properties and the connection-string options they are. */
const TRACING_SETTINGS = {
  tracingThresholdKv: 'tracing_threshold_kv',
  tracingThresholdN1ql: 'tracing_threshold_n1ql',
  tracingThresholdView: 'tracing_threshold_view',
  tracingThresholdFts: 'tracing_threshold_fts',
  tracingThresholdAnalytics: 'tracing_threshold_analytics',
  tracingThresholdQueueSize: 'tracing_threshold_queue_size',
  tracingThresholdQueueFlushInterval: 'tracing_threshold_queue_flush_interval',
  tracingOrphanedQueueSize: 'tracing_orphaned_queue_size',
  tracingOrphanedQueueFlushInterval: 'tracing_orphaned_queue_flush_interval',
} as const satisfies Partial<Record<keyof EngineSettings, keyof TracingSettings>>;

export type SettingName = keyof EngineSettings;

/** Python's (libcouchbase's) compression modes, as Bucket.compression takes and gives them. */
export const COMPRESS_NONE = 0;
export const COMPRESS_IN = 1;
export const COMPRESS_OUT = 2;
export const COMPRESS_INOUT = 3;
export const COMPRESS_FORCE = 4;
const COMPRESSION_MODES: ReadonlyArray<[number, CompressionMode]> = [
  [COMPRESS_NONE, 'off'],
  [COMPRESS_IN, 'inflate_only'],
  [COMPRESS_OUT, 'deflate_only'],
  [COMPRESS_INOUT, 'on'],
  [COMPRESS_FORCE, 'force'],
];

const FORMATS = new Set([FMT_JSON, FMT_UTF8, FMT_BYTES, FMT_AUTO]);

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
  /** @internal */
  readonly srvResolver: SrvResolver;
  /** @internal Why connect() failed (operations then fail with it). */
  connectError: CouchbaseError | null = null;
  private readonly config: ClusterConfig;
  private readonly bootstrap: Bootstrap;
  private readonly pipeline: KvDispatcher;
  private connectCallbacks: Array<(err: CouchbaseError | null) => void> = [];
  private readonly streams = new Set<{ cancel(): void }>();
  private readonly prepared: PreparedCache = new Map();
  private serviceCursor = 0;
  /** Other buckets' credentials for cross-bucket N1QL (Python's add_bucket_creds). */
  private readonly bucketCreds = new Map<string, string>();
  /** @internal This client's id in ping and diagnostics reports. */
  readonly clientId = randomBytes(8).toString('hex');

  constructor(connstr: string, options: EngineOptions = {}) {
    super();
    const { transcoder, srvResolver, ...rest } = options;
    this.spec = parseConnstr(connstr, rest);
    this.srvResolver = srvResolver ?? systemResolver;
    const o = this.spec.options;
    this.bucket = this.spec.bucket;
    // Python's Bucket(transcoder=...) takes its Transcoder interface too (encode_value/decode_value).
    this.transcoder = transcoder === undefined ? defaultTranscoder : toTranscoder(transcoder);
    this.auth = { username: o.username ?? this.bucket, password: o.password ?? '' };
    this.tlsOptions = this.spec.tls ? buildTlsOptions(this.spec) : null;
    this.agents = new HttpAgents(this.tlsOptions, addressFamily(o));
    this.nodes = new NodeSet(connectionSettings(this.spec, this.auth, this.tlsOptions), this);
    this.config = new ClusterConfig(this);
    this.bootstrap = new Bootstrap(this);
    this.pipeline = new KvDispatcher(this, this.transcoder, this.bucket);
    if (o.enable_tracing) this.startTracer();
  }

  /** @internal The threshold logging tracer, while tracing is on. */
  tracer: ThresholdTracer | null = null;

  /** Starts the threshold tracer, or has it take changed settings. */
  private startTracer(): void {
    if (this.state === 'closed') return;
    if (this.tracer !== null) return this.tracer.reconfigure();
    this.tracer = new ThresholdTracer(this.spec.options);
    this.pipeline.tracer = this.tracer;
  }

  /** @internal A reply no operation waited for any more: the tracer's orphans. */
  orphanReply(p: Packet, conn: KvConnection): void {
    const tracer = this.tracer;
    if (tracer === null) return;
    const serverUs = p.magic === Magic.ALT_RESPONSE ? readServerDuration(p.framingExtras) : -1;
    tracer.orphan('kv', {
      operation_name: opcodeName(p.opcode),
      last_operation_id: `0x${p.opaque.toString(16)}`,
      last_local_id: conn.id,
      last_remote_address: `${conn.host}:${conn.port}`,
      ...(serverUs >= 0 ? { server_us: Math.round(serverUs) } : {}),
    });
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
      this.checkReachable();
    });
  }

  /**
   * While connecting, with a map: connected once a node that owns data (the master of a vBucket,
   * or a server of the continuum) has a ready connection; failed once every such node could not
   * be reached. connect() never reports success for a cluster this client cannot use.
   */
  private checkReachable(): void {
    const topo = this.topology;
    if (this.state !== 'connecting' || topo === null) return;
    // A map that gives no node any vBucket yet (mid-failover): wait for a newer one.
    let allFailed = topo.dataServers.size > 0;
    for (const i of topo.dataServers) {
      const node = this.nodes.get(topo.servers[i].id);
      if (node?.conn?.ready) return this.finishConnect();
      if (!node || node.everReady || node.lastError === null) allFailed = false;
    }
    if (allFailed) this.failConnect(this.unreachable(topo, false));
  }

  /**
   * Why the data nodes of `topo` could not be used: each as the config names it ("config names
   * node 172.17.0.2:11210, unreachable from here"), what to try, then each one's failure.
   */
  private unreachable(topo: Topology, timedOut: boolean): CouchbaseError {
    const named: string[] = [];
    const causes: string[] = [];
    for (const i of topo.dataServers) {
      const s = topo.servers[i];
      const node = this.nodes.get(s.id);
      if (node?.conn?.ready) continue;
      const at = s.named === authority(s.host, s.port) ? '' : ` (at ${authority(s.host, s.port)}${topo.network === 'default' ? '' : ` on network "${topo.network}"`})`;
      named.push(`${s.named}${at}`);
      causes.push(node?.lastError ? node.lastError.message : timedOut ? `no answer within config_total_timeout (${this.spec.options.config_total_timeout}s)` : 'not tried');
      if (named.length === 3) break;
    }
    const alternates = (topo.raw.nodesExt ?? []).some((n) => n.alternateAddresses && Object.keys(n.alternateAddresses).length > 0);
    const hint =
      topo.network === 'default'
        ? `; if the cluster is behind NAT or in Kubernetes, try network=external${alternates ? ' (its nodes have alternate addresses)' : ''}`
        : `; check that the addresses of network "${topo.network}" are reachable from here, or try network=default`;
    if (named.length === 0) return new TimeoutError(`bucket "${this.bucket}": the cluster map gave no node any vBucket within config_total_timeout (${this.spec.options.config_total_timeout}s); is the bucket still being created, or every node failed over?`);
    const nodes = `config names node${named.length > 1 ? 's' : ''} ${named.join(', ')}, unreachable from here`;
    return new ConnectError(`bucket "${this.bucket}": ${nodes}${hint} [${causes.join('; ')}]`);
  }

  /** @internal What bootstrap fails with when config_total_timeout passes. */
  bootstrapTimeout(): CouchbaseError {
    const o = this.spec.options;
    if (this.topology !== null) return this.unreachable(this.topology, true);
    return new TimeoutError(`no cluster map from ${this.spec.display} within config_total_timeout (${o.config_total_timeout}s); check hosts, ports and that the bucket exists`);
  }

  private finishConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'connected';
    this.bootstrap.finished();
    const ready = this.nodes.ready();
    if (ready.length > 0) this.pipeline.connectionReady(ready[0].conn!);
    this.config.startPolling();
    this.pipeline.routeParked();
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
    this.pipeline.failParked(err);
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
    const kv = this.pipeline;
    this.nodes.closeAll(cancelled, (op) => kv.finish(op, cancelled, null));
    kv.failParked(cancelled);
    // Whatever is still timed (ops waiting to retry, node requests) ends now, not never.
    for (const n of this.deadlines.clear()) {
      if (n instanceof KvOp) {
        n.dlLinked = false;
        kv.finish(n, cancelled, null);
      } else (n as Expirable & { onLost?(e: CouchbaseError): void }).onLost?.(cancelled);
    }
    this.agents.destroy();
    if (this.tracer !== null) {
      this.tracer.stop();
      this.pipeline.tracer = this.tracer = null;
    }
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
    this.pipeline.reroute(rerouted);
    this.emit('config', topo);
  }

  /** @internal */
  nodeReady(node: NodeState, config: string | null): void {
    if (node.conn) this.pipeline.connectionReady(node.conn);
    if (config) this.config.apply(config, node.host);
    this.nodes.flushWaiting(node);
    this.checkReachable();
  }

  /** @internal */
  configPushed(text: string, host: string): void {
    if (text.length > 0) this.config.apply(text, host);
    else this.config.request(true);
  }

  /** @internal */
  nodeLost(node: NodeState, err: CouchbaseError | null): void {
    if (this.listenerCount('error') > 0 && err && this.state !== 'connecting') this.emit('error', err);
    this.nodes.scheduleReconnect(node);
    this.checkReachable();
    // The node may have been failed over: ask the others for a newer map now.
    this.config.request(true);
  }

  /** @internal */
  redispatch(op: KvOp): void {
    this.pipeline.route(op);
  }

  /** @internal */
  requestConfig(urgent: boolean): void {
    this.config.request(urgent);
  }

  /** @internal */
  applyConfigText(text: string, host: string): boolean {
    return this.config.apply(text, host);
  }

  // --- KV -----------------------------------------------------------------------------------

  /** Runs one KV operation from the table. `options.value` carries the document for stores. */
  kv(op: OpName, key: string, options: KvOptions | null | undefined, cb: KvCallback): KvHandle {
    return this.dispatchKv(op, key, options, new CallbackHandler(cb));
  }

  /**
   * kv() with the outcome going to `handler.kvDone` (or to a callback): undici's dispatch(opts,
   * handler). The handler is called once, asynchronously; after cancel() it gets CancelledError.
   */
  dispatchKv(op: OpName, key: string, options: KvOptions | null | undefined, handler: KvHandler | KvCallback): KvHandle {
    const to = typeof handler === 'function' ? new CallbackHandler(handler) : handler;
    const spec = (OPERATIONS as Record<string, OpSpec<KvHost> | undefined>)[op];
    const opts = options ?? EMPTY_OPTS;
    if (spec === undefined) {
      failLater(to, new ArgumentError(`unknown operation "${op}"; known: ${Object.keys(OPERATIONS).join(', ')}`));
      return SETTLED;
    }
    return this.pipeline.start(spec, key, opts.value, opts, to) ?? SETTLED;
  }

  /**
   * Runs `op` for many keys at once, pipelined. `keys` is a list of keys, or a map / plain object
   * of key -> value (stores), key -> cas (unlock) or key -> per-key options (other ops). The
   * callback always gets a MultiResult: a failing key is an entry with success === false and
   * `error` set; it never fails the batch.
   */
  kvMulti(op: OpName, keys: MultiKeys, options: KvOptions | null | undefined, cb: MultiCallback): void {
    kvMulti(this.pipeline, op, keys, options, cb);
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

  // --- management, health, settings ----------------------------------------------------------

  /** Runs a management call (services/manage.ts: the BucketManager's methods and flush) by name. */
  manage(name: string, args: readonly unknown[], cb: (err: CouchbaseError | null, result: unknown) => void): void {
    runManage(this, name, args, cb);
  }

  /** Pings every KV, query and views node (Python's Bucket.ping). */
  ping(cb: (err: CouchbaseError | null, report: PingReport | null) => void): void {
    ping(this, cb);
  }

  /** The state of the KV connections, without sending anything (Python's Bucket.diagnostics). */
  diagnostics(): DiagnosticsReport {
    return diagnostics(this);
  }

  /** What the bucket reports about itself. */
  info(): EngineInfo {
    const topo = this.topology;
    return {
      bucket: this.bucket,
      isSsl: this.spec.tls,
      serverNodes: topo ? topo.servers.map((s) => s.id) : [],
      configuredReplicaCount: topo ? topo.numReplicas : 0,
      connected: this.state === 'connected',
      closed: this.state === 'closed',
    };
  }

  /** A setting's current value. */
  setting<N extends SettingName>(name: N): EngineSettings[N] {
    const o = this.spec.options;
    const kv = this.pipeline;
    const values: EngineSettings = {
      timeout: kv.opTimeoutMs / 1000,
      viewsTimeout: o.views_timeout,
      n1qlTimeout: o.n1ql_timeout,
      quiet: kv.quiet,
      defaultFormat: kv.defaultFormat,
      dataPassthrough: kv.buildCtx.passthrough,
      transcoder: kv.buildCtx.transcoder,
      compression: COMPRESSION_MODES.find(([, m]) => m === o.compression)![0],
      compressionMinSize: o.compression_min_size,
      compressionMinRatio: o.compression_min_ratio,
      tracingThresholdKv: o.tracing_threshold_kv,
      tracingThresholdN1ql: o.tracing_threshold_n1ql,
      tracingThresholdView: o.tracing_threshold_view,
      tracingThresholdFts: o.tracing_threshold_fts,
      tracingThresholdAnalytics: o.tracing_threshold_analytics,
      tracingThresholdQueueSize: o.tracing_threshold_queue_size,
      tracingThresholdQueueFlushInterval: o.tracing_threshold_queue_flush_interval,
      tracingOrphanedQueueSize: o.tracing_orphaned_queue_size,
      tracingOrphanedQueueFlushInterval: o.tracing_orphaned_queue_flush_interval,
      redaction: o.log_redaction,
    };
    if (!Object.prototype.hasOwnProperty.call(values, name)) throw new ArgumentError(`unknown bucket setting "${String(name)}"; known: ${Object.keys(values).join(', ')}`);
    return values[name];
  }

  /** Changes a setting while open (Python's settable Bucket properties); ArgumentError for a bad value. */
  set<N extends SettingName>(name: N, value: EngineSettings[N]): void {
    const o = this.spec.options;
    const kv = this.pipeline;
    const seconds = (): number => {
      if (typeof value !== 'number' || !(value > 0)) throw new ArgumentError(`${name} must be a positive number of seconds`);
      return value;
    };
    if (Object.prototype.hasOwnProperty.call(TRACING_SETTINGS, name)) {
      const option = TRACING_SETTINGS[name as keyof typeof TRACING_SETTINGS];
      const count = option.endsWith('_size');
      if (typeof value !== 'number' || !(value >= 0) || (count && !Number.isInteger(value)) || (!count && option.endsWith('_interval') && value === 0)) {
        throw new ArgumentError(`${name} must be ${count ? 'a count (an integer >= 0)' : option.endsWith('_interval') ? 'a positive number of seconds' : 'a number of seconds >= 0'}`);
      }
      o[option] = value;
      o.enable_tracing = true;
      this.startTracer();
      return;
    }
    switch (name) {
      case 'redaction':
        o.log_redaction = Boolean(value);
        return;
      case 'timeout':
        kv.opTimeoutMs = seconds() * 1000;
        return;
      case 'viewsTimeout':
        o.views_timeout = seconds();
        return;
      case 'n1qlTimeout':
        o.n1ql_timeout = seconds();
        return;
      case 'quiet':
        kv.quiet = Boolean(value);
        return;
      case 'defaultFormat':
        if (!FORMATS.has(value as number)) throw new ArgumentError('defaultFormat must be FMT_JSON, FMT_UTF8, FMT_BYTES or FMT_AUTO');
        kv.defaultFormat = value as number;
        return;
      case 'dataPassthrough':
        kv.buildCtx.passthrough = Boolean(value);
        return;
      case 'transcoder':
        try {
          // null / undefined: back to the default one (Python's transcoder = None)
          kv.setTranscoder(value === null || value === undefined ? defaultTranscoder : toTranscoder(value));
        } catch (err) {
          throw new ArgumentError((err as Error).message);
        }
        return;
      case 'compression': {
        // Snappy is negotiated when connecting: a mode set later changes what is sent compressed.
        const given: unknown = value;
        const mode = COMPRESSION_MODES.find(([n, m]) => n === given || m === given);
        if (!mode) throw new ArgumentError(`compression must be one of COMPRESS_NONE, COMPRESS_IN, COMPRESS_OUT, COMPRESS_INOUT, COMPRESS_FORCE (0-4) or ${COMPRESSION_MODES.map(([, m]) => `'${m}'`).join(', ')}`);
        o.compression = mode[1];
        kv.configureCompression(o);
        return;
      }
      case 'compressionMinSize':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ArgumentError('compressionMinSize must be a whole number of bytes >= 0');
        o.compression_min_size = value;
        kv.configureCompression(o);
        return;
      case 'compressionMinRatio':
        if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new ArgumentError('compressionMinRatio must be a number in (0, 1]');
        o.compression_min_ratio = value;
        kv.configureCompression(o);
        return;
      default:
        throw new ArgumentError(`unknown bucket setting "${String(name)}"`);
    }
  }

  /** The latest mutation token of each vBucket this bucket wrote to (with fetch_mutation_tokens; MutationState.addAll). */
  mutationTokens(): MutationToken[] {
    return this.pipeline.buildCtx.tokens.filter((t): t is MutationToken => t !== undefined);
  }

  /** Credentials of another bucket, sent with cross-bucket N1QL queries (Python's add_bucket_creds). */
  addBucketCreds(bucket: string, password: string): void {
    if (typeof bucket !== 'string' || bucket.length === 0) throw new ArgumentError('addBucketCreds(bucket, password): bucket must be a non-empty string');
    if (typeof password !== 'string') throw new ArgumentError('addBucketCreds(bucket, password): password must be a string');
    this.bucketCreds.set(bucket, password);
  }

  /**
   * @internal The credentials a cross-bucket query carries besides the request's own user: the
   * added buckets', and this bucket's when it was opened the classic way (as a user named after
   * it), as libcouchbase's multi-bucket authentication sends them.
   */
  crossBucketCreds(): Array<{ user: string; pass: string }> {
    const out = this.auth.username === this.bucket ? [{ user: `local:${this.bucket}`, pass: this.auth.password }] : [];
    for (const [b, p] of this.bucketCreds) if (b !== this.bucket) out.push({ user: `local:${b}`, pass: p });
    return out;
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

/** A callback as a handler: how kv() and a callback given to dispatchKv() join the one path. */
class CallbackHandler implements KvHandler {
  constructor(private readonly cb: KvCallback) {}
  kvDone(err: CouchbaseError | null, result: Parameters<KvCallback>[1]): void {
    this.cb(err, result);
  }
}

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

export { opSpec };
