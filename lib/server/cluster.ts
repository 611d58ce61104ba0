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
import { KvNode, type ClusterCore, type DurableLog } from './kv/node';
import { handleMgmt, type MgmtCore } from './mgmt';
import { bucketConfig, type NodePorts } from './cluster-config';
import { DiskLog, type FsyncPolicy } from './persistence';
import { guardHttp, type HttpServiceKind } from './http-guard';
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
  buckets?: Array<{ name: string }>;
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
  /** Largest frame body a KV connection accepts before it is closed (default 20 MiB + 1 KiB). */
  maxBodyLength?: number;
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

export class Cluster implements ClusterCore, MgmtCore {
  readonly host: string;
  readonly topology: Topology;
  readonly clock: ServerClock;
  readonly version = VERSION;
  readonly startedAt: number;
  log: DurableLog | undefined;
  readonly configStreams = new Set<{ bucket: string; node: number; res: http.ServerResponse }>();
  /** The HTTP services every node runs (services.ts), as the options chose them. */
  readonly services: readonly ServiceDef[];

  private readonly storeMap = new Map<string, DocumentStore>();
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
    for (const b of opts.buckets ?? [{ name: 'default' }]) {
      if (this.storeMap.has(b.name)) throw new Error(`bucket ${b.name} given twice`);
      if (!/^[A-Za-z0-9._%-]{1,100}$/.test(b.name)) throw new Error(`invalid bucket name ${JSON.stringify(b.name)}`);
      this.storeMap.set(b.name, new DocumentStore({ name: b.name, numVBuckets, clock: this.clock }));
    }
    for (const u of opts.users ?? [{ username: 'Administrator', password: 'password' }]) this.users.set(u.username, u);
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
      this.diskLog = DiskLog.open(opts.dataDir, [...this.storeMap.values()], {
        fsync: opts.fsync ?? 'batch',
        intervalMs: opts.fsyncIntervalMs ?? 2,
      });
      this.log = this.diskLog;
    }
    const nodeCount = this.topology.members.length;
    for (let i = 0; i < nodeCount; i++) {
      const node = new KvNode(this, i, { maxBodyLength: opts.maxBodyLength });
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
        const listener = new ServiceListener(def.factory(ctx), def.guard);
        listeners.set(def.name, listener);
        ports[def.name as ServiceName] = await listener.listen(this.host);
      }
    }
    this.expiryTimer = setInterval(() => {
      for (const store of this.storeMap.values()) store.expirePass();
    }, 1000);
    this.expiryTimer.unref();
    debug('cluster started: %s', this.connectionString);
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

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
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
    const u = this.users.get(text.slice(0, colon));
    if (u === undefined || u.password !== text.slice(colon + 1)) return null;
    return { username: u.username, buckets: u.buckets ?? '*' };
  }

  serviceHandler(node: number, service: ServiceName): ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined {
    const l = this.serviceListeners[node]?.get(service);
    return l === undefined ? undefined : (req, res) => l.handler.handle(req, res);
  }

  private serviceContext(nodeIndex: number): ServiceContext {
    return {
      clock: this.clock,
      bucket: (name) => this.storeMap.get(name),
      buckets: () => [...this.storeMap.values()],
      authenticate: (h) => this.authenticate(h),
      nodeIndex,
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
