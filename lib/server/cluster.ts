// The embedded cluster: N nodes on loopback ports sharing one DocumentStore per bucket. Nodes
// differ only in which vBuckets they own; topology changes (failover, rebalance) bump the config
// revision and are pushed to clients that asked for clustermap notifications.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import createDebug from 'debug';
import type { HttpServiceFactory, HttpServiceHandler, ServerClock, ServiceContext, ServiceUser } from './service-types';
import { systemClock } from './clock';
import { DocumentStore } from './store';
import { Topology } from './topology';
import { KvNode, type ClusterCore, type DurableLog, type KvLimits } from './kv/node';
import { handleMgmt, type MgmtCore } from './mgmt';
import { bucketConfig, type NodePorts } from './cluster-config';
import { DiskLog, type FsyncPolicy } from './persistence';
import { guardHttp, type HttpServiceKind } from './http-guard';
import { defaultSettings, loadBucketRegistry, saveBucketRegistry, bucketNameProblem, type BucketHost, type BucketSettings } from './buckets-admin';
import { StatsArchive } from './stats/sampler';
import { bucketSource, serviceSource } from './stats/sources';
import { ServiceCounters, countedService } from './stats/service-counters';
import { UiSessions } from './console/sessions';
import { defaultConsoleDir } from './console/static';
import type { ConsoleCore } from './console/core';
import { chooseServices, type ServiceChoice, type ServiceDef, type ServiceName } from './services';

const debug = createDebug('deferbase:server');

export interface ClusterUser {
  username: string;
  password: string;
  /** Buckets this user may use; default '*' (all). */
  buckets?: readonly string[] | '*';
}

export interface ClusterOptions {
  /** Number of nodes (default 1). */
  nodes?: number;
  /** Replicas per vBucket (default 0; at most 3). */
  replicas?: number;
  /** Buckets to create (default one named `default`); settings not given take ns_server's defaults. */
  buckets?: Array<{ name: string } & Partial<Omit<BucketSettings, 'name'>>>;
  /** vBuckets per bucket (default 1024). */
  numVBuckets?: number;
  /** Default: one user `Administrator` / `password` with access to every bucket. */
  users?: ClusterUser[];
  /** Time source for expiry, locks and CAS; tests pass a ManualClock. */
  clock?: ServerClock;
  /** Keep every bucket on disk in this directory (off by default). */
  dataDir?: string;
  /** When acknowledged writes reach the disk: 'always' (fsync each), 'batch' (group commit), 'none'. Default 'batch'. */
  fsync?: FsyncPolicy;
  /** Group-commit window for fsync 'batch', ms (default 2). */
  fsyncIntervalMs?: number;
  /**
   * With `dataDir`: refuse to start when a log has damaged records, instead of recovering every
   * good record around them (reported on stderr, the damaged file kept as `*.corrupt`).
   */
  strictRecovery?: boolean;
  /** HTTP services by name (`n1ql`, `capi`): a factory replaces the default, `null` turns it off. */
  services?: ServiceChoice;
  /** N1QL service factory; `null` turns the default off (same as `services.n1ql`). */
  queryService?: HttpServiceFactory | null;
  /** Views service factory; `null` turns the default off (same as `services.capi`). */
  viewsService?: HttpServiceFactory | null;
  /** Address every listener binds and the config advertises (default 127.0.0.1). */
  host?: string;
  /** KV port of node 0; node i gets kvPort + i. Default: OS-picked. */
  kvPort?: number;
  /** Management port of node 0; node i gets mgmtPort + i. Default: OS-picked. */
  mgmtPort?: number;
  /**
   * Largest frame body an authenticated KV connection may send before it is closed (default
   * 30 MiB - 24: kv_engine's packet limit; values past 20 MiB in smaller frames get E2BIG).
   */
  maxBodyLength?: number;
  /** Limits of every node's KV front end: connections, authentication time, unsent output (kv/limits.ts). */
  kvLimits?: Partial<KvLimits>;
  /** Folder of the bundled web console served under /ui/ (default: the one `npm run build` made); `null` turns it off. */
  consoleDir?: string | null;
}

export interface ClusterNode {
  readonly index: number;
  readonly ports: NodePorts;
}

const VERSION = '7.6.0-deferbase';

class ServiceListener {
  private server: http.Server | undefined;
  port = 0;
  constructor(
    readonly handler: HttpServiceHandler,
    private readonly kind: HttpServiceKind,
  ) {}

  listen(host: string, port = 0): Promise<number> {
    const server = http.createServer(guardHttp(this.kind, (req, res) => this.handler.handle(req, res)));
    server.keepAliveTimeout = 5000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        this.port = (server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    this.handler.close?.();
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

export class Cluster implements ClusterCore, MgmtCore, ConsoleCore {
  readonly host: string;
  readonly topology: Topology;
  readonly clock: ServerClock;
  readonly version = VERSION;
  readonly startedAt: number;
  log: DurableLog | undefined;
  readonly configStreams = new Set<{ bucket: string; node: number; res: http.ServerResponse }>();
  /** The HTTP services every node runs (services.ts), as the options chose them. */
  readonly services: readonly ServiceDef[];

  /** Web console sessions (POST /uilogin), accepted by the management API beside Basic auth. */
  readonly sessions: UiSessions;
  /** Per-second samples behind GET /pools/default/buckets/<b>/stats. */
  readonly statsArchive: StatsArchive;
  /** Requests to the query service of every node (the `@query` stats). */
  readonly queryCounters = new ServiceCounters();
  readonly consoleDir: string | undefined;
  /** Bucket management (create, delete, settings) as the REST API and the console use it. */
  readonly bucketAdmin: BucketHost;

  private readonly storeMap = new Map<string, DocumentStore>();
  private readonly settings = new Map<string, BucketSettings>();
  /** Buckets created at run time (kept in `dataDir`/buckets.json). */
  private readonly runtimeBuckets = new Set<string>();
  private dataDir: string | undefined;
  private nodeOptions: ClusterOptions = {};
  private readonly users = new Map<string, ClusterUser>();
  private readonly kvNodes: KvNode[] = [];
  private readonly mgmtServers: http.Server[] = [];
  private readonly nodePorts: NodePorts[] = [];
  /** Per node: its service listeners by service name. */
  private readonly serviceListeners: Array<Map<string, ServiceListener>> = [];
  private diskLog: DiskLog | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(opts: ClusterOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.clock = opts.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.services = chooseServices(opts);
    const numVBuckets = opts.numVBuckets ?? 1024;
    this.topology = new Topology(opts.nodes ?? 1, opts.replicas ?? 0, numVBuckets);
    this.sessions = new UiSessions(this.clock);
    this.statsArchive = new StatsArchive(this.clock);
    this.statsArchive.addSource('@query', serviceSource(this.queryCounters));
    this.consoleDir = opts.consoleDir === null ? undefined : opts.consoleDir ?? defaultConsoleDir();
    this.bucketAdmin = {
      maxReplicas: this.topology.replicas,
      settingsOf: (name) => this.settings.get(name),
      bucketNames: () => [...this.storeMap.keys()],
      createBucket: (settings) => this.createBucket(settings),
      deleteBucket: (name) => this.deleteBucket(name),
    };
    for (const b of opts.buckets ?? [{ name: 'default' }]) {
      if (this.storeMap.has(b.name)) throw new Error(`bucket ${b.name} given twice`);
      if (!/^[A-Za-z0-9._%-]{1,100}$/.test(b.name)) throw new Error(`invalid bucket name ${JSON.stringify(b.name)}`);
      const settings = defaultSettings(b.name, this.topology.replicas, b);
      if (settings.replicaNumber > this.topology.replicas) throw new Error(`bucket ${b.name}: replicaNumber ${settings.replicaNumber} is more than the cluster's replicas (${this.topology.replicas})`);
      this.addStore(settings);
    }
    for (const u of opts.users ?? [{ username: 'Administrator', password: 'password' }]) this.users.set(u.username, u);
  }

  private addStore(settings: BucketSettings): DocumentStore {
    const store = new DocumentStore({ name: settings.name, numVBuckets: this.topology.numVBuckets, clock: this.clock });
    if (settings.bucketType === 'memcached') store.nodeLocator = 'ketama';
    this.storeMap.set(settings.name, store);
    this.settings.set(settings.name, settings);
    this.statsArchive.addSource(settings.name, bucketSource(store, store.counters));
    return store;
  }

  /** Starts every node's listeners (and loads `dataDir` first when given). */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(opts);
    try {
      await cluster.boot(opts);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private async boot(opts: ClusterOptions): Promise<void> {
    if (opts.dataDir !== undefined) {
      this.dataDir = opts.dataDir;
      // Buckets created over REST in an earlier run come back with their settings.
      for (const settings of loadBucketRegistry(opts.dataDir)) {
        this.runtimeBuckets.add(settings.name);
        if (!this.storeMap.has(settings.name)) this.addStore(settings);
      }
      this.diskLog = DiskLog.open(opts.dataDir, [...this.storeMap.values()], {
        fsync: opts.fsync ?? 'batch',
        intervalMs: opts.fsyncIntervalMs ?? 2,
        strictRecovery: opts.strictRecovery,
      });
      this.log = this.diskLog;
    }
    this.nodeOptions = opts;
    const nodeCount = this.topology.members.length;
    for (let i = 0; i < nodeCount; i++) await this.startNode(i);
    this.expiryTimer = setInterval(() => {
      for (const store of this.storeMap.values()) store.expirePass();
    }, 1000);
    this.expiryTimer.unref();
    this.statsArchive.start();
    debug('cluster started: %s', this.connectionString);
  }

  /** Starts node `i`'s listeners: KV, management, and the query and views services. */
  private async startNode(i: number): Promise<void> {
    const opts = this.nodeOptions;
    {
      const node = new KvNode(this, i, { maxBodyLength: opts.maxBodyLength, limits: opts.kvLimits });
      this.kvNodes.push(node);
      const kv = await node.listen(this.host, opts.kvPort !== undefined ? opts.kvPort + i : 0);
      const mgmtServer = http.createServer(guardHttp('mgmt', (req, res) => handleMgmt(this, i, req, res)));
      this.mgmtServers.push(mgmtServer);
      const mgmt = await new Promise<number>((resolve, reject) => {
        mgmtServer.once('error', reject);
        mgmtServer.listen(opts.mgmtPort !== undefined ? opts.mgmtPort + i : 0, this.host, () => {
          mgmtServer.off('error', reject);
          resolve((mgmtServer.address() as AddressInfo).port);
        });
      });
      const ports: NodePorts = { kv, mgmt };
      this.nodePorts.push(ports);
      const ctx = this.serviceContext(i);
      const listeners = new Map<string, ServiceListener>();
      this.serviceListeners.push(listeners);
      for (const def of this.services) {
        const handler = def.factory(ctx);
        const listener = new ServiceListener(def.countedAsQuery === true ? countedService(handler, this.queryCounters) : handler, def.guard);
        listeners.set(def.name, listener);
        ports[def.name as ServiceName] = await listener.listen(this.host);
      }
    }
  }

  // ---- public surface ---------------------------------------------------------------------------

  /** `couchbase://host:kv1,host:kv2,...` over every node that is a member. */
  get connectionString(): string {
    return 'couchbase://' + this.topology.members.map((id) => `${this.host}:${this.nodePorts[id].kv}`).join(',');
  }

  get nodes(): ClusterNode[] {
    return this.nodePorts.map((ports, index) => ({ index, ports: { ...ports } }));
  }

  /** The bucket's document store (shared by all nodes). */
  bucket(name: string): DocumentStore {
    const store = this.storeMap.get(name);
    if (store === undefined) throw new Error(`no bucket named ${JSON.stringify(name)}`);
    return store;
  }

  /** Fails a node over: its vBuckets move to replicas, clients are told. */
  failover(nodeIndex: number): void {
    this.topology.failover(nodeIndex);
    this.configChanged();
  }

  /** Brings a failed-over node back into the member list; call rebalance() to give it vBuckets. */
  addBack(nodeIndex: number): void {
    if (nodeIndex < 0 || nodeIndex >= this.kvNodes.length) throw new RangeError(`no node ${nodeIndex}`);
    this.topology.addBack(nodeIndex);
    this.configChanged();
  }

  /** Spreads vBuckets evenly over the member nodes, clients are told. */
  rebalance(): void {
    this.topology.rebalance();
    this.configChanged();
  }

  /**
   * Starts one more node on this host (OS-picked ports unless kvPort/mgmtPort were given) and
   * makes it a member; it holds no vBucket until the next rebalance(). Clients are told.
   */
  async addNode(): Promise<number> {
    if (this.stopped) throw new Error('the cluster is stopped');
    const id = this.kvNodes.length;
    await this.startNode(id);
    this.topology.addBack(id);
    this.configChanged();
    return id;
  }

  /** Every node this cluster runs (members and failed-over ones), by id. */
  nodeIds(): number[] {
    return this.nodePorts.map((_, i) => i);
  }

  /**
   * Adds a bucket while the cluster runs (POST /pools/default/buckets): its store, its log when
   * the cluster keeps a `dataDir`, its stats; the config revision moves and every client that
   * asked for config pushes gets the new one.
   */
  createBucket(settings: BucketSettings): DocumentStore {
    const problem = bucketNameProblem(settings.name, [...this.storeMap.keys()]);
    if (problem !== undefined) throw new Error(`${problem}: ${JSON.stringify(settings.name)}`);
    if (settings.replicaNumber > this.topology.replicas) throw new RangeError(`replicaNumber ${settings.replicaNumber} is more than the cluster's replicas (${this.topology.replicas})`);
    const store = this.addStore(settings);
    this.diskLog?.addStore(store);
    this.runtimeBuckets.add(settings.name);
    this.saveRegistry();
    debug('bucket %s created (%s)', settings.name, settings.bucketType);
    this.topology.rev++; // the bucket list is part of the cluster's config
    this.configChanged();
    return store;
  }

  /**
   * Removes a bucket and its data (DELETE /pools/default/buckets/<b>): KV connections that have
   * it selected are closed (as memcached does), its config streams end, its files go.
   */
  deleteBucket(name: string): void {
    const store = this.storeMap.get(name);
    if (store === undefined) throw new Error(`no bucket named ${JSON.stringify(name)}`);
    this.storeMap.delete(name);
    this.settings.delete(name);
    this.statsArchive.removeSource(name);
    for (const node of this.kvNodes) {
      for (const conn of [...node.connections]) if (conn.store === store) conn.destroy();
    }
    for (const s of [...this.configStreams]) {
      if (s.bucket !== name) continue;
      s.res.end();
      this.configStreams.delete(s);
    }
    this.diskLog?.removeStore(store);
    if (this.runtimeBuckets.delete(name) || this.dataDir !== undefined) this.saveRegistry();
    debug('bucket %s deleted', name);
    this.topology.rev++;
    this.configChanged();
  }

  private saveRegistry(): void {
    if (this.dataDir === undefined) return;
    saveBucketRegistry(this.dataDir, [...this.runtimeBuckets].map((n) => this.settings.get(n)).filter((s): s is BucketSettings => s !== undefined));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.statsArchive.stop();
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    for (const s of this.configStreams) s.res.end();
    this.configStreams.clear();
    await Promise.all(this.kvNodes.map((n) => n.close()));
    await Promise.all(this.serviceListeners.flatMap((listeners) => [...listeners.values()].map((l) => l.close())));
    await Promise.all(
      this.mgmtServers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
    this.diskLog?.close();
    debug('cluster stopped');
  }

  // ---- ClusterCore ------------------------------------------------------------------------------

  ports(node: number): NodePorts {
    return this.nodePorts[node];
  }

  store(name: string): DocumentStore | undefined {
    return this.storeMap.get(name);
  }

  stores(): DocumentStore[] {
    return [...this.storeMap.values()];
  }

  lookupPassword(user: string): string | undefined {
    return this.users.get(user)?.password;
  }

  canAccess(user: string, bucket: string): boolean {
    const u = this.users.get(user);
    if (u === undefined) return false;
    const b = u.buckets ?? '*';
    return b === '*' || b.includes(bucket);
  }

  authenticate(authorization: string | undefined): ServiceUser | null {
    if (authorization === undefined || !/^basic /i.test(authorization)) return null;
    const text = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    return this.checkPassword(text.slice(0, colon), text.slice(colon + 1));
  }

  checkPassword(username: string, password: string): ServiceUser | null {
    const u = this.users.get(username);
    if (u === undefined || u.password !== password) return null;
    return { username: u.username, buckets: u.buckets ?? '*' };
  }

  settingsOf(bucket: string): BucketSettings | undefined {
    return this.settings.get(bucket);
  }

  serviceHandler(node: number, service: ServiceName): ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined {
    const l = this.serviceListeners[node]?.get(service);
    return l === undefined ? undefined : (req, res) => l.handler.handle(req, res);
  }

  private serviceContext(nodeIndex: number): ServiceContext {
    return {
      clock: this.clock,
      // memcached buckets hold no indexes and answer no queries, as in Couchbase Server.
      bucket: (name) => {
        const store = this.storeMap.get(name);
        return store?.nodeLocator === 'vbucket' ? store : undefined;
      },
      buckets: () => [...this.storeMap.values()].filter((s) => s.nodeLocator === 'vbucket'),
      authenticate: (h) => this.authenticate(h),
      nodeIndex,
      trackWrites: () => this.diskLog?.track() ?? (() => Promise.resolve()),
    };
  }

  private configChanged(): void {
    debug('config rev %d: members %o', this.topology.rev, this.topology.members);
    for (const node of this.kvNodes) node.notifyConfigChange();
    for (const s of this.configStreams) {
      const store = this.storeMap.get(s.bucket);
      if (store !== undefined) s.res.write(JSON.stringify(bucketConfig(this, store, s.node)) + '\n\n\n\n');
    }
  }
}
