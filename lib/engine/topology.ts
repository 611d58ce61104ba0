// A cluster map reduced to what routing needs: which node owns (and which nodes replicate)
// each vBucket, and where each node's services listen.
import { vbucketOf } from '../protocol/vbucket';
import { parseConfig } from '../protocol/config';

/** The fields of a Couchbase terse bucket / cluster config this client reads. */
export interface RawConfig {
  rev?: number;
  revEpoch?: number;
  name?: string;
  uuid?: string;
  nodeLocator?: string;
  nodesExt?: Array<{ hostname?: string; thisNode?: boolean; services?: Record<string, number> }>;
  nodes?: Array<{ hostname?: string; ports?: { direct?: number }; couchApiBase?: string }>;
  vBucketServerMap?: { numReplicas?: number; serverList?: string[]; vBucketMap?: number[][]; hashAlgorithm?: string };
  clusterCapabilities?: Record<string, string[]>;
  bucketCapabilities?: string[];
}

export interface NodeServices {
  /** Host as the config names it ($HOST already substituted). */
  host: string;
  kv: number;
  kvSSL: number;
  mgmt: number;
  mgmtSSL: number;
  capi: number;
  capiSSL: number;
  n1ql: number;
  n1qlSSL: number;
}

/** Parses config JSON, replacing `$HOST` with the host the config came from. Throws on junk. */
export function parseConfigText(text: string, host: string): RawConfig {
  return parseConfig(text, host) as unknown as RawConfig;
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) return { host: s, port: 0 };
  return { host: m[1], port: Number(m[2]) };
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

export class Topology {
  readonly rev: number;
  readonly epoch: number;
  readonly bucket: string;
  readonly raw: RawConfig;
  /** KV servers, index-aligned with vBucketMap entries. Each entry is "host:kvport". */
  readonly servers: Array<{ host: string; port: number; id: string; services: NodeServices | null }>;
  /** Every node with its service ports. */
  readonly nodes: NodeServices[];
  readonly numVBuckets: number;
  readonly numReplicas: number;
  /** vbMap[vb * stride + i]: server index of copy i (0 master), -1 none. */
  private readonly vbMap: Int16Array;
  private readonly stride: number;

  constructor(raw: RawConfig, tls: boolean) {
    this.raw = raw;
    this.rev = typeof raw.rev === 'number' ? raw.rev : 0;
    this.epoch = typeof raw.revEpoch === 'number' ? raw.revEpoch : 0;
    this.bucket = raw.name ?? '';
    this.nodes = [];
    for (const n of raw.nodesExt ?? []) {
      const s = n.services ?? {};
      this.nodes.push({
        host: stripBrackets(n.hostname ?? '127.0.0.1'),
        kv: s.kv ?? 0,
        kvSSL: s.kvSSL ?? 0,
        mgmt: s.mgmt ?? 0,
        mgmtSSL: s.mgmtSSL ?? 0,
        capi: s.capi ?? 0,
        capiSSL: s.capiSSL ?? 0,
        n1ql: s.n1ql ?? 0,
        n1qlSSL: s.n1qlSSL ?? 0,
      });
    }
    if (this.nodes.length === 0 && raw.nodes) {
      // Legacy configs without nodesExt: "hostname" is host:mgmt, ports.direct the KV port.
      for (const n of raw.nodes) {
        const hp = splitHostPort(n.hostname ?? '');
        let capi = 0;
        if (n.couchApiBase) {
          const m = /:(\d+)\//.exec(n.couchApiBase);
          if (m) capi = Number(m[1]);
        }
        this.nodes.push({ host: hp.host, kv: n.ports?.direct ?? 0, kvSSL: 0, mgmt: hp.port, mgmtSSL: 0, capi, capiSSL: 0, n1ql: 0, n1qlSSL: 0 });
      }
    }
    const map = raw.vBucketServerMap;
    this.servers = [];
    if (map && Array.isArray(map.serverList)) {
      for (const entry of map.serverList) {
        const hp = splitHostPort(entry);
        const services = this.nodes.find((n) => n.host === hp.host && n.kv === hp.port) ?? null;
        let port = hp.port;
        if (tls) port = services && services.kvSSL ? services.kvSSL : port;
        this.servers.push({ host: hp.host, port, id: `${hp.host}:${port}`, services });
      }
    } else {
      // Cluster-level (GCCCP) config or memcached bucket: every KV node, no vBucket map.
      for (const n of this.nodes) {
        const port = tls ? n.kvSSL : n.kv;
        if (port) this.servers.push({ host: n.host, port, id: `${n.host}:${port}`, services: n });
      }
    }
    const rows = map?.vBucketMap ?? [];
    this.numVBuckets = rows.length;
    this.numReplicas = map?.numReplicas ?? 0;
    this.stride = this.numReplicas + 1;
    this.vbMap = new Int16Array(Math.max(1, rows.length * this.stride)).fill(-1);
    for (let vb = 0; vb < rows.length; vb++) {
      const row = rows[vb];
      for (let i = 0; i < this.stride && i < row.length; i++) this.vbMap[vb * this.stride + i] = row[i];
    }
  }

  get hasVBucketMap(): boolean {
    return this.numVBuckets > 0;
  }

  vbucketOf(key: string | Buffer): number {
    return vbucketOf(key, this.numVBuckets);
  }

  /** Server index of copy `index` (0 = master, 1.. replicas) of `vb`, or -1. */
  serverOf(vb: number, index: number): number {
    if (index > this.numReplicas) return -1;
    return this.vbMap[vb * this.stride + index];
  }

  /** (epoch, rev) ordering; a config not strictly newer is ignored. */
  isNewerThan(other: Topology | null): boolean {
    if (other === null) return true;
    if (this.epoch !== other.epoch) return this.epoch > other.epoch;
    return this.rev > other.rev;
  }

  /** Nodes offering `service` (plain or SSL port per `tls`). */
  nodesWith(service: 'n1ql' | 'capi' | 'mgmt', tls: boolean): Array<{ host: string; port: number }> {
    const out: Array<{ host: string; port: number }> = [];
    for (const n of this.nodes) {
      const port = tls ? n[`${service}SSL`] : n[service];
      if (port) out.push({ host: n.host, port });
    }
    return out;
  }
}
