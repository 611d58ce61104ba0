// The embedded cluster: N nodes on loopback ports sharing one DocumentStore per bucket. Nodes
// differ only in which vBuckets they own; topology changes (failover, rebalance) bump the config
// revision and are pushed to clients that asked for clustermap notifications.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import type { HttpServiceFactory, HttpServiceHandler, ServerClock, ServiceContext, ServiceNode, ServiceUser } from './service-types';
import { systemClock } from './clock';
import { DocumentStore } from './store';
import { Topology } from './topology';
import { KvNode, type ClusterCore, type DurableLog, type KvLimits } from './kv/node';
import { handleMgmt, type MgmtCore } from './mgmt';
import { bucketConfig, servicePort, type AlternateAddress, type NodePorts } from './cluster-config';
import { PortForwarder } from './forwarder';
import { checkPrivateKey, selfSignedCertificate } from './tls/certificate';
import { withLocalHost } from './http-host';
import { DiskLog, type FsyncPolicy } from './persistence';
import { DurabilityMonitor, durabilityLevelOf } from './durability';
import { guardHttp, type HttpServiceKind } from './http-guard';
import { defaultSettings, loadBucketRegistry, saveBucketRegistry, bucketNameProblem, type BucketHost, type BucketSettings } from './buckets-admin';
import { StatsArchive } from './stats/sampler';
import { bucketSource, serviceSource } from './stats/sources';
import { ServiceCounters, countedService } from './stats/service-counters';
import { UiSessions } from './console/sessions';
import { defaultConsoleDir } from './console/static';
import type { ConsoleCore } from './console/core';
import { chooseServices, type ServiceChoice, type ServiceDef, type ServiceName } from './services';
import { declaredRoles, UserRegistry, type DeclaredUser, type Identity } from './rbac/users';
import { parseRole, roleProblem, formatRole, type KeyspaceCatalog, type RoleRef } from './rbac/role-spec';
import { kvPrivileges, DEFAULT_COLLECTION, DEFAULT_SCOPE } from './rbac/kv-privileges';
import { defaultPasswordPolicy, type RbacHost } from './rbac/rest';
import { QuerySettings } from './query-settings';
import { Delegations } from './rbac/delegation';
import { serviceSecurity } from './rbac/service-security';
import type { SaslCredentials } from './kv/sasl-session';
import { Manifest, type CollectionsOp, type CollectionsResult } from './collections/manifest';
import { changeCollections, type CollectionsHost } from './collections/admin';

const debug = createDebug('deferbase:server');

export interface ClusterUser {
  username: string;
  password: string;
  /**
   * Couchbase roles (`admin`, `data_reader[travel-sample]`, `query_select[b:s:c]`, ...). A user
   * given neither roles nor buckets gets `admin`, as users given at start always could do anything.
   */
  roles?: readonly string[];
  /** Buckets this user gets `bucket_full_access` on ('*': `admin`). */
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
  /**
   * Users and their roles. Default: the cluster administrator `Administrator` / `password` (role
   * `admin`). With `dataDir`, users and groups created or changed over REST are kept there and
   * come back after a restart (a user given here keeps its changes from earlier runs).
   */
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
  /**
   * TLS listeners beside the plain ones, advertised as kvSSL, mgmtSSL, n1qlSSL and capiSSL
   * (for couchbases://): `true` for a self-signed certificate made at start (see
   * `cluster.certificate`), or the PEM certificate and key to use.
   */
  tls?: boolean | { cert: string | Buffer; key: string | Buffer };
  /**
   * The address the config names every node by (default `host`), as a node in Docker or in a
   * Kubernetes pod names itself. With an address this machine does not serve (e.g. 127.0.0.9),
   * clients can only come in through `alternateAddresses`, as from outside a NAT.
   */
  advertiseHost?: string;
  /**
   * Advertises every node at `hostname` on the alternate network `network` (default
   * "external"), each of its ports through a forwarding port of its own there (what a NAT or a
   * Kubernetes node port does): clients outside use network=external (or auto with a seed there).
   */
  alternateAddresses?: { hostname: string; network?: string };
}

export interface ClusterNode {
  readonly index: number;
  readonly ports: NodePorts;
}

const VERSION = '7.6.0-deferbase';

class ServiceListener {
  private server: http.Server | undefined;
  private tlsServer: http.Server | undefined;
  port = 0;
  constructor(
    readonly handler: HttpServiceHandler,
    private readonly kind: HttpServiceKind,
  ) {}

  listen(host: string, port = 0): Promise<number> {
    const server = http.createServer(guardHttp(this.kind, (req, res) => this.handler.handle(req, res)));
    this.server = server;
    return listenOn(server, host, port).then((p) => (this.port = p));
  }

  /** A TLS listener for the same service (its SSL port). */
  listenTls(host: string, secure: tls.SecureContextOptions): Promise<number> {
    const server = https.createServer(secure, guardHttp(this.kind, (req, res) => this.handler.handle(req, res)));
    this.tlsServer = server;
    return listenOn(server, host, 0);
  }

  close(): Promise<void> {
    this.handler.close?.();
    return Promise.all([closeHttp(this.server), closeHttp(this.tlsServer)]).then(() => undefined);
  }
}

function listenOn(server: net.Server, host: string, port: number): Promise<number> {
  if (server instanceof http.Server) {
    server.keepAliveTimeout = 5000;
    // A client may end its side of the connection once its request is sent; Node's default then
    // aborts the requests still being handled and closes without an answer. Answer, then close.
    (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp(server: http.Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export class Cluster implements ClusterCore, MgmtCore, ConsoleCore {
  readonly host: string;
  /** The address configs name the nodes by (`advertiseHost`, default `host`). */
  readonly advertisedHost: string;
  /** With `tls`: the certificate the TLS listeners present (PEM), for clients to trust. */
  readonly certificate: string | undefined;
  readonly topology: Topology;
  /** Durable writes in flight across the replicas (durability.ts). */
  readonly durability: DurabilityMonitor;
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
  /** Memcached buckets: each node's own store (a real node keeps its keys only), by node id. */
  private readonly nodeStores = new Map<string, DocumentStore[]>();
  private readonly secure: tls.SecureContextOptions | undefined;
  private readonly advertiseGiven: boolean;
  private readonly alternate: { hostname: string; network: string } | undefined;
  /** Per node: its alternate ports by service name, and the forwarders behind them. */
  private readonly altPorts: Array<Record<string, number>> = [];
  private readonly forwarders: PortForwarder[] = [];
  private readonly settings = new Map<string, BucketSettings>();
  /** Buckets created at run time (kept in `dataDir`/buckets.json). */
  private readonly runtimeBuckets = new Set<string>();
  private dataDir: string | undefined;
  private nodeOptions: ClusterOptions = {};
  private readonly declaredUsers: DeclaredUser[];
  /** Users and groups (rbac/users.ts); made in boot(), once buckets kept in `dataDir` are back. */
  private userRegistry!: UserRegistry;
  /** One-time credentials the console forwards its requests to a service with. */
  private readonly delegations: Delegations;
  /** Which buckets, scopes and collections exist, as roles name them. */
  readonly keyspaces: KeyspaceCatalog;
  /** Users, groups and the password policy, as the RBAC REST API manages them. */
  readonly rbac: RbacHost;
  /** The query settings ns_server keeps (/settings/querySettings/curlWhitelist). */
  readonly querySettings = new QuerySettings();
  /** Scopes and collections, as the REST API and N1QL change them (collections/admin.ts). */
  readonly collectionsAdmin: CollectionsHost;
  /** SASL's view of the users: hashed passwords and SCRAM keys. */
  readonly credentials: SaslCredentials;
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
    this.advertisedHost = opts.advertiseHost ?? this.host;
    this.advertiseGiven = opts.advertiseHost !== undefined;
    if (opts.alternateAddresses !== undefined) {
      const { hostname, network = 'external' } = opts.alternateAddresses;
      if (net.isIP(hostname) === 0) throw new Error(`alternateAddresses.hostname must be an address the forwarders can listen on, got ${JSON.stringify(hostname)}`);
      this.alternate = { hostname, network };
    }
    if (opts.tls) {
      const names = [this.host, this.advertisedHost, 'localhost', ...(this.alternate ? [this.alternate.hostname] : [])];
      const material = opts.tls === true ? selfSignedCertificate(names) : opts.tls;
      checkPrivateKey(material.key);
      this.secure = { cert: material.cert, key: material.key };
      this.certificate = material.cert.toString();
    }
    this.clock = opts.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.services = chooseServices(opts);
    const numVBuckets = opts.numVBuckets ?? 1024;
    this.topology = new Topology(opts.nodes ?? 1, opts.replicas ?? 0, numVBuckets);
    this.durability = new DurabilityMonitor(this.topology);
    this.sessions = new UiSessions(this.clock);
    this.statsArchive = new StatsArchive(this.clock);
    this.statsArchive.addSource('@query', serviceSource(this.queryCounters));
    this.consoleDir = opts.consoleDir === null ? undefined : opts.consoleDir ?? defaultConsoleDir();
    const topology = this.topology;
    this.bucketAdmin = {
      get kvNodeCount() {
        return topology.members.length;
      },
      settingsOf: (name) => this.settings.get(name),
      bucketNames: () => [...this.storeMap.keys()],
      createBucket: (settings) => this.createBucket(settings),
      updateBucket: (settings) => this.updateBucket(settings),
      deleteBucket: (name) => this.deleteBucket(name),
    };
    for (const b of opts.buckets ?? [{ name: 'default' }]) {
      if (this.storeMap.has(b.name)) throw new Error(`bucket ${b.name} given twice`);
      if (!/^[A-Za-z0-9._%-]{1,100}$/.test(b.name)) throw new Error(`invalid bucket name ${JSON.stringify(b.name)}`);
      const settings = defaultSettings(b.name, this.topology.replicas, b);
      if (settings.replicaNumber > this.topology.replicas) throw new Error(`bucket ${b.name}: replicaNumber ${settings.replicaNumber} is more than the cluster's replicas (${this.topology.replicas})`);
      this.addStore(settings);
    }
    this.declaredUsers = declareUsers(opts.users);
    this.delegations = new Delegations(this.clock);
    this.keyspaces = {
      hasBucket: (b) => this.storeMap.has(b),
      hasScope: (b, s) => this.storeMap.get(b)?.manifest.scope(s) !== undefined,
      hasCollection: (b, s, c) => this.storeMap.get(b)?.manifest.collection(s, c) !== undefined,
      scopeUid: (b, s) => this.storeMap.get(b)?.manifest.scope(s)?.uid,
      collectionUid: (b, s, c) => this.storeMap.get(b)?.manifest.collection(s, c)?.uid,
    };
    this.collectionsAdmin = {
      store: (b) => this.storeMap.get(b),
      magma: (b) => {
        const settings = this.settings.get(b);
        return settings?.bucketType === 'membase' && settings.storageBackend === 'magma';
      },
      countsOutside: (b) => {
        let scopes = 0;
        let collections = 0;
        for (const [name, store] of this.storeMap) {
          if (name === b) continue;
          const counts = store.manifest.counts;
          scopes += counts.scopes;
          collections += counts.collections;
        }
        return { scopes, collections };
      },
      collectionsChanged: (b) => {
        debug('bucket %s: collections manifest %s', b, this.storeMap.get(b)?.manifest.uid.toString(16));
        // Roles naming the collections may grant more or less now; connections recompute theirs.
        this.userRegistry.keyspacesChanged();
        // The bucket config carries the manifest uid: a new revision, pushed to those who asked.
        this.topology.rev++;
        this.configChanged();
      },
    };
    const cluster = this;
    this.rbac = {
      get users() {
        return cluster.userRegistry;
      },
      keyspaces: this.keyspaces,
      passwordPolicy: defaultPasswordPolicy(),
    };
    this.credentials = {
      verifyPlain: (user, password) => this.userRegistry.authenticate(user, password) !== undefined,
      scram: (mech, user) => this.userRegistry.scram(mech, user),
    };
  }

  private addStore(settings: BucketSettings): DocumentStore {
    const store = new DocumentStore({ name: settings.name, numVBuckets: this.topology.numVBuckets, clock: this.clock });
    applySettings(store, settings);
    // Magma buckets keep history on their collections by default; memcached buckets have no collections.
    if (settings.bucketType === 'membase' && settings.storageBackend === 'magma') store.useManifest(Manifest.fresh({ historyDefault: true }));
    if (settings.bucketType === 'memcached') {
      store.useManifest(Manifest.defaultOnly());
      store.nodeLocator = 'ketama';
      // Node 0 holds this one; the others get theirs when first asked (nodeStore).
      this.nodeStores.set(settings.name, [store]);
    }
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
      // Buckets created (or changed) over REST in an earlier run come back with their settings.
      for (const settings of loadBucketRegistry(opts.dataDir)) {
        this.runtimeBuckets.add(settings.name);
        const store = this.storeMap.get(settings.name);
        if (store === undefined) this.addStore(settings);
        else {
          this.settings.set(settings.name, settings);
          applySettings(store, settings);
        }
      }
      // Ephemeral and memcached buckets keep nothing on disk: they come back empty, as after a real restart.
      this.diskLog = DiskLog.open(opts.dataDir, [...this.storeMap.values()].filter((s) => this.persists(s.name)), {
        fsync: opts.fsync ?? 'batch',
        intervalMs: opts.fsyncIntervalMs ?? 2,
        strictRecovery: opts.strictRecovery,
      });
      this.log = this.diskLog;
    }
    this.openUsers(opts.dataDir);
    this.nodeOptions = opts;
    const nodeCount = this.topology.members.length;
    for (let i = 0; i < nodeCount; i++) await this.startNode(i);
    this.expiryTimer = setInterval(() => {
      for (const store of this.storeMap.values()) if (store.nodeLocator === 'vbucket') store.expirePass();
      for (const stores of this.nodeStores.values()) for (const store of stores) store?.expirePass();
    }, 1000);
    this.expiryTimer.unref();
    this.statsArchive.start();
    debug('cluster started: %s', this.connectionString);
  }

  /** The users given at start (their roles checked now that every bucket is known), then those `dataDir` kept. */
  private openUsers(dataDir: string | undefined): void {
    for (const u of this.declaredUsers) {
      for (const r of u.roles) {
        const problem = roleProblem(r, this.keyspaces);
        if (problem !== undefined) throw new Error(`user ${u.username}: cannot grant role ${formatRole(r)} (${problem})`);
      }
    }
    this.userRegistry = new UserRegistry(this.keyspaces, this.clock, this.declaredUsers, dataDir);
    this.userRegistry.onChange((username, change) => {
      for (const node of this.kvNodes) node.refreshPrivileges(username);
      if (username !== undefined && change !== 'roles') this.sessions.revokeUser(username);
    });
  }

  /** Starts node `i`'s listeners: KV, management, and the query and views services. */
  private async startNode(i: number): Promise<void> {
    const opts = this.nodeOptions;
    {
      const node = new KvNode(this, i, { maxBodyLength: opts.maxBodyLength, limits: opts.kvLimits });
      this.kvNodes.push(node);
      const kv = await node.listen(this.host, opts.kvPort !== undefined ? opts.kvPort + i : 0);
      const mgmtHandler = guardHttp('mgmt', (req, res) => handleMgmt(this, i, req, res));
      const mgmtServer = http.createServer(mgmtHandler);
      this.mgmtServers.push(mgmtServer);
      const mgmt = await listenOn(mgmtServer, this.host, opts.mgmtPort !== undefined ? opts.mgmtPort + i : 0);
      const ports: NodePorts = { kv, mgmt };
      this.nodePorts.push(ports);
      if (this.secure !== undefined) {
        ports.kvSSL = await node.listenTls(this.host, this.secure);
        const mgmtTls = https.createServer(this.secure, mgmtHandler);
        this.mgmtServers.push(mgmtTls);
        ports.mgmtSSL = await listenOn(mgmtTls, this.host, 0);
      }
      const ctx = this.serviceContext(i);
      const listeners = new Map<string, ServiceListener>();
      this.serviceListeners.push(listeners);
      for (const def of this.services) {
        const handler = def.factory(ctx);
        const listener = new ServiceListener(def.countedAsQuery === true ? countedService(handler, this.queryCounters) : handler, def.guard);
        listeners.set(def.name, listener);
        ports[def.name as ServiceName] = await listener.listen(this.host);
        if (this.secure !== undefined) ports[`${def.name as ServiceName}SSL`] = await listener.listenTls(this.host, this.secure);
      }
      if (this.alternate !== undefined) await this.forwardPorts(i, ports);
    }
  }

  /** Opens a forwarding port on the alternate address for each of the node's ports. */
  private async forwardPorts(node: number, ports: NodePorts): Promise<void> {
    const alt: Record<string, number> = {};
    for (const [name, port] of Object.entries(ports) as Array<[string, number | undefined]>) {
      if (port === undefined) continue;
      const f = await PortForwarder.listen(this.alternate!.hostname, { host: this.host, port });
      this.forwarders.push(f);
      alt[name] = f.port;
    }
    this.altPorts[node] = alt;
  }

  // ---- public surface ---------------------------------------------------------------------------

  /** `couchbase://host:kv1,host:kv2,...` over every node that is a member. */
  get connectionString(): string {
    return 'couchbase://' + this.topology.members.map((id) => `${this.host}:${this.nodePorts[id].kv}`).join(',');
  }

  /** With `tls`: `couchbases://host:kvSSL1,...` (clients trust `certificate`). */
  get tlsConnectionString(): string {
    if (this.secure === undefined) throw new Error('the cluster was started without tls');
    return 'couchbases://' + this.topology.members.map((id) => `${this.host}:${this.nodePorts[id].kvSSL}`).join(',');
  }

  /** With `alternateAddresses`: the members' forwarded KV ports (`couchbases://` ones with `tls`). */
  alternateConnectionString(secure = false): string {
    if (this.alternate === undefined) throw new Error('the cluster was started without alternateAddresses');
    const port = secure ? 'kvSSL' : 'kv';
    return `${secure ? 'couchbases' : 'couchbase'}://` + this.topology.members.map((id) => `${this.alternate!.hostname}:${this.altPorts[id][port]}`).join(',');
  }

  /** Connections the alternate-address forwarders accepted so far (tests check clients came that way). */
  get forwardedConnections(): number {
    return this.forwarders.reduce((n, f) => n + f.accepted, 0);
  }

  /** A single node that never joined a cluster names itself by no hostname in its configs. */
  get hostless(): boolean {
    return this.kvNodes.length <= 1 && !this.advertiseGiven;
  }

  alternateAddress(node: number): AlternateAddress | undefined {
    const ports = this.altPorts[node];
    return this.alternate === undefined || ports === undefined ? undefined : { network: this.alternate.network, hostname: this.alternate.hostname, ports };
  }

  get nodes(): ClusterNode[] {
    return this.nodePorts.map((ports, index) => ({ index, ports: { ...ports } }));
  }

  /**
   * The bucket's document store (shared by all nodes); for a memcached bucket, the store of
   * node `node` (default 0): each node keeps only the keys clients put there.
   */
  bucket(name: string, node?: number): DocumentStore {
    const store = node === undefined ? this.storeMap.get(name) : this.nodeStore(name, node);
    if (store === undefined) throw new Error(`no bucket named ${JSON.stringify(name)}`);
    return store;
  }

  /** The store node `node` serves bucket `name` from. */
  nodeStore(name: string, node: number): DocumentStore | undefined {
    const own = this.nodeStores.get(name);
    if (own === undefined) return this.storeMap.get(name);
    if (node < 0 || node >= Math.max(this.kvNodes.length, 1)) return undefined;
    if (own[node] === undefined) {
      own[node] = new DocumentStore({ name, numVBuckets: this.topology.numVBuckets, clock: this.clock, uuid: own[0].uuid });
      own[node].useManifest(Manifest.defaultOnly());
      own[node].nodeLocator = 'ketama';
    }
    return own[node];
  }

  /**
   * Creates, changes or drops a scope or collection of `bucket` (what the REST API and N1QL do);
   * dropping one deletes its documents. Throws a StoreError (ETMPFAIL) when the change cannot be
   * made durable with `dataDir`.
   */
  changeCollections(bucket: string, op: CollectionsOp): CollectionsResult {
    return changeCollections(this.collectionsAdmin, bucket, op);
  }

  /** Empties a bucket on every node (POST .../controller/doFlush). */
  flushBucket(name: string): void {
    for (const store of this.nodeStores.get(name) ?? [this.storeMap.get(name)]) store?.flush();
  }

  /**
   * Holds back replication to `node`, as a slow or partitioned replica would: durable writes that
   * need its acknowledgement wait (and time out as ambiguous) until resumeReplication().
   */
  pauseReplication(node: number): void {
    this.durability.pauseReplication(node);
  }

  resumeReplication(node: number): void {
    this.durability.resumeReplication(node);
  }

  /** Fails a node over: its vBuckets move to replicas, clients are told. */
  failover(nodeIndex: number): void {
    this.topology.failover(nodeIndex);
    // A memcached bucket's keys on that node are gone with it.
    for (const stores of this.nodeStores.values()) stores[nodeIndex]?.flush();
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
    const store = this.addStore(settings);
    if (this.persists(settings.name)) this.diskLog?.addStore(store);
    this.runtimeBuckets.add(settings.name);
    this.saveRegistry();
    this.userRegistry.keyspacesChanged();
    debug('bucket %s created (%s)', settings.name, settings.bucketType);
    this.topology.rev++; // the bucket list is part of the cluster's config
    this.configChanged();
    return store;
  }

  /**
   * New settings for a bucket (POST /pools/default/buckets/<b>): quota, replicas, flush, max TTL,
   * durability minimum, ... (its name, type and storage stay). A change of replicas changes the
   * bucket's map, so the config revision moves and clients are told.
   */
  updateBucket(settings: BucketSettings): void {
    const old = this.settings.get(settings.name);
    const store = this.storeMap.get(settings.name);
    if (old === undefined || store === undefined) throw new Error(`no bucket named ${JSON.stringify(settings.name)}`);
    if (settings.bucketType !== old.bucketType) throw new Error(`bucket ${settings.name}: the type of a bucket cannot change`);
    this.settings.set(settings.name, settings);
    applySettings(store, settings);
    this.runtimeBuckets.add(settings.name);
    this.saveRegistry();
    debug('bucket %s updated', settings.name);
    if (settings.replicaNumber !== old.replicaNumber) {
      this.topology.rev++;
      this.configChanged();
    }
  }

  /** Whether a bucket's documents go to the write-ahead log (ephemeral buckets keep nothing on disk). */
  /** Ephemeral and memcached buckets keep nothing on disk, as in Couchbase Server. */
  private persists(name: string): boolean {
    const type = this.settings.get(name)?.bucketType;
    return type !== 'ephemeral' && type !== 'memcached';
  }

  /**
   * Removes a bucket and its data (DELETE /pools/default/buckets/<b>): KV connections that have
   * it selected are closed (as memcached does), its config streams end, its files go.
   */
  deleteBucket(name: string): void {
    const store = this.storeMap.get(name);
    if (store === undefined) throw new Error(`no bucket named ${JSON.stringify(name)}`);
    const persisted = this.persists(name);
    this.storeMap.delete(name);
    const own = this.nodeStores.get(name) ?? [];
    this.nodeStores.delete(name);
    this.settings.delete(name);
    this.statsArchive.removeSource(name);
    for (const node of this.kvNodes) {
      for (const conn of [...node.connections]) if (conn.store === store || own.includes(conn.store!)) conn.destroy();
    }
    for (const s of [...this.configStreams]) {
      if (s.bucket !== name) continue;
      s.res.end();
      this.configStreams.delete(s);
    }
    if (persisted) this.diskLog?.removeStore(store);
    if (this.runtimeBuckets.delete(name) || this.dataDir !== undefined) this.saveRegistry();
    this.userRegistry.bucketDeleted(name);
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
    this.durability.close();
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    for (const s of this.configStreams) s.res.end();
    this.configStreams.clear();
    await Promise.all(this.forwarders.map((f) => f.close()));
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

  kvPrivileges(user: string, bucket: string, scope?: string, collection?: string): number {
    const identity = this.userRegistry.identity(user);
    if (identity === undefined || !this.storeMap.has(bucket)) return 0;
    return kvPrivileges(identity, bucket, scope, collection);
  }

  /** The user an `Authorization: Basic ...` header names, when its password is right; null otherwise. */
  authenticate(authorization: string | undefined): Identity | null {
    if (authorization === undefined || !/^basic /i.test(authorization)) return null;
    const text = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    const username = text.slice(0, colon);
    const secret = text.slice(colon + 1);
    if (this.delegations.redeem(username, secret)) return this.userRegistry.identity(username) ?? null;
    return this.checkPassword(username, secret);
  }

  checkPassword(username: string, password: string): Identity | null {
    return this.userRegistry.authenticate(username, password) ?? null;
  }

  /** The user named `username` as it is now (a console session resolves its user on every request). */
  identity(username: string): Identity | undefined {
    return this.userRegistry.identity(username);
  }

  delegate(username: string): string {
    return this.delegations.issue(username);
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
      changeCollections: (bucket, op) => this.changeCollections(bucket, op),
      nodes: () => this.serviceNodes(nodeIndex),
      security: serviceSecurity(this.rbac),
      querySettings: this.querySettings,
    };
  }

  /** The cluster's nodes as system:nodes lists them: `host:mgmt`, their ports and services. */
  private serviceNodes(thisNode: number): ServiceNode[] {
    const host = this.advertisedHost.includes(':') ? `[${this.advertisedHost}]` : this.advertisedHost;
    return this.topology.members.map((id) => {
      const p = this.nodePorts[id];
      const ports: Record<string, number> = {};
      for (const [k, v] of Object.entries(p)) if (typeof v === 'number') ports[k] = v;
      const services = ['kv', ...this.services.filter((svc) => servicePort(p, svc) !== undefined).map((svc) => svc.mgmtName)];
      return { name: `${host}:${p.mgmt}`, ports, services: [...new Set(services)].sort(), thisNode: id === thisNode };
    });
  }

  private configChanged(): void {
    debug('config rev %d: members %o', this.topology.rev, this.topology.members);
    this.durability.topologyChanged();
    for (const node of this.kvNodes) node.notifyConfigChange();
    for (const s of this.configStreams) {
      const store = this.storeMap.get(s.bucket);
      if (store !== undefined) s.res.write(withLocalHost(JSON.stringify(bucketConfig(this, store, s.node)), s.res) + '\n\n\n\n');
    }
  }
}

/** What the KV front end enforces of a bucket's settings. */
function applySettings(store: DocumentStore, settings: BucketSettings): void {
  store.maxTtl = settings.maxTTL;
  store.replicas = settings.replicaNumber;
  store.durabilityMinLevel = durabilityLevelOf(settings.durabilityMinLevel);
  store.ephemeral = settings.bucketType === 'ephemeral';
}

/** The users the options declare (default: the administrator), with their roles parsed. */
function declareUsers(users: readonly ClusterUser[] | undefined): DeclaredUser[] {
  if (users === undefined) return [{ username: 'Administrator', password: 'password', domain: 'admin', roles: [{ name: 'admin', params: [] }] }];
  const seen = new Set<string>();
  return users.map((u) => {
    if (seen.has(u.username)) throw new Error(`user ${u.username} given twice`);
    seen.add(u.username);
    let roles: RoleRef[] | undefined;
    if (u.roles !== undefined) {
      roles = u.roles.map((text) => {
        const r = parseRole(text);
        if ('error' in r) throw new Error(`user ${u.username}: unknown or malformed role ${JSON.stringify(text)} (Couchbase role names: admin, ro_admin, bucket_admin[b], data_reader[b], query_select[b:s:c], ...)`);
        return r;
      });
    }
    // A user given without roles or buckets is an administrator, as it always was here: ns_server's
    // `admin` domain (what /whoami reports; /settings/rbac/users lists local users only).
    const administrator = roles === undefined && (u.buckets === undefined || u.buckets === '*');
    return { username: u.username, password: u.password, domain: administrator ? ('admin' as const) : ('local' as const), roles: declaredRoles(u.buckets, roles) };
  });
}
