// One node's KV service: the listener, its connections, and what they need from the cluster
// (users, buckets, config JSON for this node, pushes on topology change).
import net from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import type { ServerClock } from '../service-types';
import type { DocumentStore } from '../store';
import type { Topology } from '../topology';
import { bucketConfig, globalConfig, type ConfigSource } from '../cluster-config';
import { KvConnection, type CommandTable, type DurableLog, type NodeContext } from './connection';
import { Feat } from './features';
import { commandTable } from './commands';
import type { SaslCredentials } from './sasl-session';
import type { DurabilityMonitor } from '../durability';
import { ANY } from '../rbac/permission';
import { MAX_PACKET_BYTES, kvLimits, type KvLimits } from './limits';
import { RangeScanRegistry } from './range-scans';

const debug = createDebug('deferbase:server');

export type { DurableLog } from './connection';
export type { KvLimits } from './limits';

/** What a node needs from its cluster. */
export interface ClusterCore extends ConfigSource {
  readonly clock: ServerClock;
  readonly log: DurableLog | undefined;
  readonly durability: DurabilityMonitor;
  readonly version: string;
  readonly startedAt: number;
  store(name: string): DocumentStore | undefined;
  /** The store node `node` serves `name` from (a memcached bucket's differs per node). */
  nodeStore(name: string, node: number): DocumentStore | undefined;
  stores(): DocumentStore[];
  /** Users' passwords, as SASL checks them. */
  readonly credentials: SaslCredentials;
  /**
   * The memcached privileges `user` holds on a collection of `bucket` (rbac/kv-privileges.ts;
   * default: the default collection; ANY for "some collection"); 0 for none.
   */
  kvPrivileges(user: string, bucket: string, scope?: string, collection?: string): number;
}

export interface KvNodeOptions {
  /** Largest frame body an authenticated connection may send before it is closed (default 30 MiB - 24, kv_engine's packet limit). */
  maxBodyLength?: number;
  /** Admission and flow-control limits (kv/limits.ts). */
  limits?: Partial<KvLimits>;
  /** The opcode table connections run (default: every command in ./commands). */
  commands?: CommandTable;
}

/** The composition root of one node's KV service: it hands each connection the command table. */
export class KvNode implements NodeContext {
  readonly index: number;
  readonly core: ClusterCore;
  readonly maxBodyLength: number;
  readonly limits: KvLimits;
  readonly connections = new Set<KvConnection>();
  /** Unsent output of all connections, as they last reported it. */
  outputBytes = 0;
  /** Connections closed at once because `limits.maxConnections` were open. */
  rejectedConnections = 0;
  private readonly commands: CommandTable;
  private server: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly configCache = new Map<string, { rev: number; json: Buffer }>();
  readonly rangeScans: RangeScanRegistry;
  port = 0;

  constructor(core: ClusterCore, index: number, opts: KvNodeOptions = {}) {
    this.core = core;
    this.index = index;
    this.maxBodyLength = opts.maxBodyLength ?? MAX_PACKET_BYTES - 24;
    this.limits = kvLimits(opts.limits);
    this.commands = opts.commands ?? commandTable;
    this.rangeScans = new RangeScanRegistry({ maxScans: this.limits.maxRangeScans, lifetimeMs: this.limits.rangeScanLifetimeMs }, () => core.clock.now());
  }

  get topology(): Topology {
    return this.core.topology;
  }

  get durability(): DurabilityMonitor {
    return this.core.durability;
  }

  get log(): DurableLog | undefined {
    return this.core.log;
  }

  get version(): string {
    return this.core.version;
  }

  listen(host: string, port: number): Promise<number> {
    this.server = net.createServer((socket) => this.accept(socket));
    return this.bind(this.server, host, port, 'KV').then((p) => (this.port = p));
  }

  /** The KV TLS port (kvSSL): the same connections, over TLS. */
  listenTls(host: string, secure: tls.SecureContextOptions): Promise<number> {
    this.tlsServer = tls.createServer(secure, (socket) => this.accept(socket));
    // A handshake that fails is the client's problem, not a reason to stop listening.
    this.tlsServer.on('tlsClientError', (err) => debug('node %d: TLS handshake failed: %s', this.index, err.message));
    return this.bind(this.tlsServer, host, 0, 'KV TLS');
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size >= this.limits.maxConnections) {
      // Couchbase Server's "disconnect" policy: accepted, then closed at once.
      this.rejectedConnections++;
      debug('node %d: KV connection from %s:%d closed: %d connections open (maxConnections)', this.index, socket.remoteAddress, socket.remotePort, this.connections.size);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.connections.add(new KvConnection(this, socket, this.commands));
  }

  private bind(server: net.Server, host: string, port: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const bound = (server.address() as net.AddressInfo).port;
        debug('node %d: %s listening on %s:%d', this.index, what, host, bound);
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    this.rangeScans.clear();
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
    const servers = [this.server, this.tlsServer].filter((s): s is net.Server => s !== undefined);
    this.server = undefined;
    this.tlsServer = undefined;
    return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
  }

  connectionClosed(conn: KvConnection): void {
    this.connections.delete(conn);
  }

  get credentials(): SaslCredentials {
    return this.core.credentials;
  }

  outputChanged(delta: number): void {
    this.outputBytes += delta;
  }

  kvPrivileges(user: string, bucket: string, scope?: string, collection?: string): number {
    return this.core.kvPrivileges(user, bucket, scope, collection);
  }

  /**
   * The bucket `user` may select, or undefined (missing and forbidden look the same): as in
   * kv_engine, any privilege on any of its collections lets a user select it.
   */
  bucketFor(user: string, name: string): DocumentStore | undefined {
    const store = this.core.nodeStore(name, this.index);
    if (store === undefined || this.core.kvPrivileges(user, name, ANY, ANY) === 0) return undefined;
    return store;
  }

  /**
   * Users, groups or buckets changed: each connection with a bucket selected gets the privileges
   * its user holds there now (all connections, or those of `username`), as kv_engine rebuilds a
   * connection's privilege context when the RBAC database is reloaded.
   */
  refreshPrivileges(username?: string): void {
    for (const conn of this.connections) {
      if (conn.store === undefined || conn.user === undefined || (username !== undefined && conn.user !== username)) continue;
      conn.resetPrivileges(~this.core.kvPrivileges(conn.user, conn.store.name));
    }
  }

  bucketConfigJson(name: string): Buffer {
    const rev = this.topology.rev;
    const cached = this.configCache.get(name);
    if (cached !== undefined && cached.rev === rev) return cached.json;
    const store = this.core.store(name);
    if (store === undefined) throw new Error(`no bucket ${name}`);
    const json = Buffer.from(JSON.stringify(bucketConfig(this.core, store, this.index)));
    this.configCache.set(name, { rev, json });
    return json;
  }

  globalConfigJson(): Buffer {
    const rev = this.topology.rev;
    const cached = this.configCache.get('');
    if (cached !== undefined && cached.rev === rev) return cached.json;
    const json = Buffer.from(JSON.stringify(globalConfig(this.core, this.index)));
    this.configCache.set('', { rev, json });
    return json;
  }

  /** Tells every connection that asked for clustermap notifications about the new config. */
  notifyConfigChange(): void {
    const rev = this.topology.rev;
    for (const conn of this.connections) {
      if (!conn.has(Feat.DUPLEX) || !conn.has(Feat.CLUSTERMAP_NOTIFY) || conn.pushedRev >= rev) continue;
      if (conn.store !== undefined) conn.pushConfig(rev, conn.store.name, this.bucketConfigJson(conn.store.name));
      else if (conn.user !== undefined) conn.pushConfig(rev, '', this.globalConfigJson());
    }
  }

  /** STAT groups: '' (general), 'vbucket', 'vbucket-seqno', 'memory', 'key'/'vkey'; undefined for an unknown group. */
  stats(group: string, arg: string | undefined, store: DocumentStore | undefined): Array<[string, string]> | undefined {
    const now = this.core.clock.now();
    if (group === '') {
      const out: Array<[string, string]> = [
        ['pid', String(process.pid)],
        ['uptime', String(Math.floor((now - this.core.startedAt) / 1000))],
        ['time', String(Math.floor(now / 1000))],
        ['version', this.version],
        ['curr_connections', String(this.connections.size)],
        ['max_conns', String(this.limits.maxConnections)],
        ['rejected_conns', String(this.rejectedConnections)],
      ];
      if (store !== undefined) {
        out.push(['curr_items', String(store.totalSize)], ['ep_bucket_type', 'persistent'], ['vb_active_num', String(this.countVbuckets(store, false))]);
      }
      return out;
    }
    if (store === undefined) return undefined;
    const topo = this.topology;
    if (group === 'key' || group === 'vkey') return arg === undefined ? undefined : this.keyStats(group, arg, store);
    if (group === 'memory') {
      // What the documents take (values and ids): the embedded store's own memory use.
      let bytes = 0;
      for (const doc of store.docs()) bytes += doc.value.length + Buffer.byteLength(doc.id);
      return [
        ['mem_used', String(bytes)],
        ['ep_kv_size', String(bytes)],
      ];
    }
    const wanted = arg === undefined ? undefined : Number(arg);
    if (group === 'vbucket') {
      const out: Array<[string, string]> = [];
      for (let vb = 0; vb < store.numVBuckets; vb++) {
        if (wanted !== undefined && vb !== wanted) continue;
        const state = topo.active(vb) === this.index ? 'active' : topo.isReplica(vb, this.index) ? 'replica' : 'dead';
        out.push([`vb_${vb}`, state]);
      }
      return out;
    }
    if (group === 'vbucket-seqno') {
      const out: Array<[string, string]> = [];
      for (let vb = 0; vb < store.numVBuckets; vb++) {
        if (wanted !== undefined && vb !== wanted) continue;
        if (topo.active(vb) !== this.index && !topo.isReplica(vb, this.index)) continue;
        out.push([`vb_${vb}:high_seqno`, String(store.vbucketSeqno(vb))], [`vb_${vb}:uuid`, String(store.vbucketUuid(vb))]);
      }
      return out;
    }
    return undefined;
  }

  /**
   * ep-engine's per-document stats, `key <id> <vbucket>` (and `vkey`, which also says the copy in
   * memory is the one on disk): undefined (KEY_ENOENT) for a missing document or a vBucket this
   * node does not hold.
   */
  private keyStats(group: 'key' | 'vkey', arg: string, store: DocumentStore): Array<[string, string]> | undefined {
    const cut = arg.lastIndexOf(' ');
    const id = cut < 0 ? arg : arg.slice(0, cut);
    const vb = cut < 0 ? store.vbucketOf(id) : Number(arg.slice(cut + 1));
    if (!Number.isInteger(vb) || vb !== store.vbucketOf(id)) return undefined;
    const state = this.topology.active(vb) === this.index ? 'active' : this.topology.isReplica(vb, this.index) ? 'replica' : undefined;
    const item = state === undefined ? undefined : store.live(id);
    if (item === undefined) return undefined;
    const out: Array<[string, string]> = [
      ['key_is_dirty', 'false'],
      ['key_exptime', String(item.expiry)],
      ['key_flags', String(item.flags)],
      ['key_cas', String(item.cas)],
      ['key_vb_state', state!],
    ];
    if (group === 'vkey') out.push(['key_valid', 'valid']);
    return out;
  }

  private countVbuckets(store: DocumentStore, replica: boolean): number {
    let n = 0;
    for (let vb = 0; vb < store.numVBuckets; vb++) {
      if (replica ? this.topology.isReplica(vb, this.index) : this.topology.active(vb) === this.index) n++;
    }
    return n;
  }
}
