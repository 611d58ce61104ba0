// A cluster map reduced to what routing needs: which node owns (and which nodes replicate) each
// vBucket, or for a memcached bucket the ketama continuum; and where each node's services listen
// from here — on its own address, its TLS ports, or its alternate ("external") address.
//
// Read the way libcouchbase reads a config (vbucket.c): a nodesExt entry without "hostname" is
// the host the config came from; serverList and nodesExt are index-aligned, but a server is
// matched to its nodesExt entry by host and plain KV port first; a node's identity is its
// internal "host:port" whichever address the client uses, so that the same node keeps its
// connection across configs.
import { vbucketOf } from '../protocol/vbucket';
import { parseConfig } from '../protocol/config';
import { KetamaContinuum } from '../protocol/ketama';

type Ports = Record<string, number | undefined>;

/** The fields of a Couchbase terse bucket / cluster config this client reads. */
export interface RawConfig {
  rev?: number;
  revEpoch?: number;
  name?: string;
  uuid?: string;
  nodeLocator?: string;
  nodesExt?: Array<{ hostname?: string; thisNode?: boolean; services?: Ports; alternateAddresses?: Record<string, { hostname?: string; ports?: Ports }> }>;
  nodes?: Array<{ hostname?: string; ports?: { direct?: number }; couchApiBase?: string }>;
  vBucketServerMap?: { numReplicas?: number; serverList?: string[]; vBucketMap?: number[][]; hashAlgorithm?: string };
  clusterCapabilities?: Record<string, string[]>;
  bucketCapabilities?: string[];
}

export type ServiceName = 'kv' | 'mgmt' | 'capi' | 'n1ql';

/** How one node is reached for each service, from this client. */
export interface NodeServices {
  /** The node's own (internal) host, as the config names it ($HOST and missing names resolved). */
  readonly host: string;
  /** Where this client connects: the internal host, or the alternate address of the network chosen. */
  readonly address: string;
  /** Plain and TLS ports the node listens on; alternate ports when the network has them. */
  readonly kv: number;
  readonly kvSSL: number;
  readonly mgmt: number;
  readonly mgmtSSL: number;
  readonly capi: number;
  readonly capiSSL: number;
  readonly n1ql: number;
  readonly n1qlSSL: number;
  /** The node's own plain and TLS KV ports (identity and the ketama continuum use them). */
  readonly internalKv: number;
  readonly internalKvSSL: number;
}

/** One KV server of the map. */
export interface Server {
  /** Identity: the node's internal "host:port" (stable across configs and networks). */
  readonly id: string;
  /** Where to connect (0 port: the config gives no port this client can use). */
  readonly host: string;
  readonly port: number;
  /** How the config names the node, for messages ("172.17.0.2:11210"). */
  readonly named: string;
  readonly services: NodeServices | null;
}

/** How a map is read: TLS or not, the network chosen, and the host the config came from. */
export interface TopologyContext {
  tls: boolean;
  /** 'default' (the nodes' own addresses) or an alternate network's name ('external'). */
  network: string;
  /** The host the config came from: stands for nodes without a hostname. */
  source: string;
}

/** Parses config JSON, replacing `$HOST` with the host the config came from. Throws on junk. */
export function parseConfigText(text: string, host: string): RawConfig {
  return parseConfig(text, host) as unknown as RawConfig;
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (!m) return { host: stripBrackets(s), port: 0 };
  return { host: m[1], port: Number(m[2]) };
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** "host:port" with IPv6 hosts in brackets, as libcouchbase writes an authority. */
export function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The network a client reaching the cluster through `seed` should use, as libcouchbase guesses it:
 * 'default' when a node's own hostname is the seed, else the alternate network whose hostname is.
 */
export function guessNetwork(raw: RawConfig, seed: string): string {
  const nodes = raw.nodesExt ?? [];
  for (const n of nodes) {
    if (n.hostname !== undefined && stripBrackets(n.hostname) === seed) return 'default';
  }
  for (const n of nodes) {
    for (const [name, alt] of Object.entries(n.alternateAddresses ?? {})) {
      if (alt && typeof alt.hostname === 'string' && stripBrackets(alt.hostname) === seed) return name;
    }
  }
  return 'default';
}

function port(ports: Ports | undefined, name: string): number {
  const v = ports?.[name];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 ? v : 0;
}

function nodeServices(host: string, services: Ports, alt: { hostname?: string; ports?: Ports } | undefined): NodeServices {
  // An alternate address takes its ports where it gives them and the node's own otherwise.
  const pick = (name: string): number => (alt && port(alt.ports, name)) || port(services, name);
  return {
    host,
    address: alt && typeof alt.hostname === 'string' ? stripBrackets(alt.hostname) : host,
    kv: pick('kv'),
    kvSSL: pick('kvSSL'),
    mgmt: pick('mgmt'),
    mgmtSSL: pick('mgmtSSL'),
    capi: pick('capi'),
    capiSSL: pick('capiSSL'),
    n1ql: pick('n1ql'),
    n1qlSSL: pick('n1qlSSL'),
    internalKv: port(services, 'kv'),
    internalKvSSL: port(services, 'kvSSL'),
  };
}

export class Topology {
  readonly rev: number;
  readonly epoch: number;
  readonly bucket: string;
  readonly raw: RawConfig;
  readonly network: string;
  /** KV servers, index-aligned with the vBucketMap's server indexes (or the continuum's). */
  readonly servers: Server[];
  /** Every node with its service ports. */
  readonly nodes: NodeServices[];
  readonly numVBuckets: number;
  readonly numReplicas: number;
  /** Memcached buckets: the continuum over `servers` (null for vBucket maps). */
  readonly ketama: KetamaContinuum | null;
  /** Indexes of the servers that own data: the master of some vBucket, or on the continuum. */
  readonly dataServers: ReadonlySet<number>;
  /** vbMap[vb * stride + i]: server index of copy i (0 master), -1 none. */
  private readonly vbMap: Int16Array;
  private readonly stride: number;

  constructor(raw: RawConfig, ctx: TopologyContext) {
    this.raw = raw;
    this.rev = typeof raw.rev === 'number' ? raw.rev : 0;
    this.epoch = typeof raw.revEpoch === 'number' ? raw.revEpoch : 0;
    this.bucket = raw.name ?? '';
    this.network = ctx.network;
    const tls = ctx.tls;
    const ext = Array.isArray(raw.nodesExt) ? raw.nodesExt : [];
    this.nodes = ext.map((n) => {
      const host = typeof n.hostname === 'string' && n.hostname !== '' ? stripBrackets(n.hostname) : ctx.source;
      const alt = ctx.network === 'default' ? undefined : n.alternateAddresses?.[ctx.network];
      return nodeServices(host, n.services ?? {}, alt);
    });
    const map = raw.vBucketServerMap;
    this.ketama = null;
    this.servers = [];
    const serverOfNode = (n: NodeServices, named: string, plainPort: number): Server => {
      const idPort = plainPort || n.internalKvSSL;
      return { id: authority(n.host, idPort), host: n.address, port: tls ? n.kvSSL : n.kv || plainPort, named, services: n };
    };
    if (map && Array.isArray(map.serverList)) {
      map.serverList.forEach((entry, i) => {
        const hp = splitHostPort(entry);
        const n = this.matchNode(hp.host, hp.port, i);
        if (n) this.servers.push(serverOfNode(n, entry, hp.port));
        // No nodesExt (pre-3.0 configs): the entry is all there is; TLS has no port to go by.
        else this.servers.push({ id: authority(hp.host, hp.port), host: hp.host, port: tls ? 0 : hp.port, named: entry, services: null });
      });
    } else {
      // Memcached buckets (and cluster-level configs): every data node. libcouchbase counts a
      // nodesExt entry past the end of "nodes" as not (yet) serving the bucket.
      const members = Array.isArray(raw.nodes) ? raw.nodes.length : this.nodes.length;
      this.nodes.forEach((n, i) => {
        if (i >= members || (!n.internalKv && !n.internalKvSSL)) return;
        this.servers.push(serverOfNode(n, authority(n.host, n.internalKv || n.internalKvSSL), n.internalKv));
      });
      if (raw.nodeLocator === 'ketama') {
        // The continuum is built over the plain KV authority, as libcouchbase does, whatever
        // port (TLS, alternate) the client connects to: every SDK then agrees on a key's node.
        this.ketama = new KetamaContinuum(this.servers.map((s) => s.id));
      }
    }
    const rows = map?.vBucketMap ?? [];
    this.numVBuckets = rows.length;
    this.numReplicas = map?.numReplicas ?? 0;
    this.stride = this.numReplicas + 1;
    this.vbMap = new Int16Array(Math.max(1, rows.length * this.stride)).fill(-1);
    const owners = new Set<number>();
    for (let vb = 0; vb < rows.length; vb++) {
      const row = rows[vb];
      for (let i = 0; i < this.stride && i < row.length; i++) this.vbMap[vb * this.stride + i] = row[i];
      if (row[0] >= 0) owners.add(row[0]);
    }
    if (this.ketama) this.servers.forEach((_, i) => owners.add(i));
    this.dataServers = owners;
  }

  /** The nodesExt entry of serverList entry `index` ("host:port"): by host and plain port, else by index. */
  private matchNode(host: string, plain: number, index: number): NodeServices | null {
    const same = (n: NodeServices): boolean => n.host === host && n.internalKv === plain;
    const byIndex = this.nodes[index];
    if (byIndex && same(byIndex)) return byIndex;
    const found = this.nodes.filter(same);
    if (found.length === 1) return found[0];
    // TLS-only configs list "host:0": the entry at the same index, when it is that host.
    if (byIndex && byIndex.host === host) return byIndex;
    return found[0] ?? null;
  }

  /** The map can route keys: a vBucket map, or a continuum with servers. */
  get hasVBucketMap(): boolean {
    return this.numVBuckets > 0 || (this.ketama !== null && this.ketama.size > 0);
  }

  vbucketOf(key: string | Buffer): number {
    return this.numVBuckets === 0 ? 0 : vbucketOf(key, this.numVBuckets);
  }

  /** Server index of copy `index` (0 = master, 1.. replicas) of `vb`, or -1. */
  serverOf(vb: number, index: number): number {
    if (index > this.numReplicas || this.numVBuckets === 0) return -1;
    return this.vbMap[vb * this.stride + index];
  }

  /** Memcached buckets: the server index owning `key` on the continuum, or -1. */
  ketamaServerOf(key: string): number {
    return this.ketama === null ? -1 : this.ketama.serverOf(key);
  }

  /** (epoch, rev) ordering; a config not strictly newer is ignored. */
  isNewerThan(other: Topology | null): boolean {
    if (other === null) return true;
    if (this.epoch !== other.epoch) return this.epoch > other.epoch;
    return this.rev > other.rev;
  }

  /** Nodes offering `service` (plain or SSL port per `tls`), at the addresses this client uses. */
  nodesWith(service: Exclude<ServiceName, 'kv'>, tls: boolean): Array<{ host: string; port: number }> {
    const out: Array<{ host: string; port: number }> = [];
    for (const n of this.nodes) {
      const p = tls ? n[`${service}SSL`] : n[service];
      if (p) out.push({ host: n.address, port: p });
    }
    return out;
  }
}
