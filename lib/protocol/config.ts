// Cluster/bucket configuration JSON as Couchbase serves it over KV (GET_CLUSTER_CONFIG,
// NOT_MY_VBUCKET bodies, server pushes) and on /pools/default/b/<bucket>: the terse bucket
// config, and the global (GCCCP) config a bucket-less connection gets.
import { ProtocolError } from './packet';

/** Service ports of one node; a service is available iff its key is present. */
export interface NodeServices {
  kv?: number;
  kvSSL?: number;
  mgmt?: number;
  mgmtSSL?: number;
  capi?: number;
  capiSSL?: number;
  n1ql?: number;
  n1qlSSL?: number;
  fts?: number;
  ftsSSL?: number;
  cbas?: number;
  cbasSSL?: number;
  eventingAdminPort?: number;
  eventingSSL?: number;
  [service: string]: number | undefined;
}

export interface AlternateAddress {
  hostname: string;
  ports?: NodeServices;
}

/** One entry of `nodesExt`, index-aligned with `vBucketServerMap.serverList`. */
export interface NodeExt {
  services: NodeServices;
  /** Marks the node that served this config (the SDK requires exactly one). */
  thisNode?: boolean;
  /** Absent means "the host the client used to reach the server". */
  hostname?: string;
  nodeUUID?: string;
  serverGroup?: string;
  alternateAddresses?: Record<string, AlternateAddress>;
}

/** Legacy `nodes` entry, read only by clients that predate `nodesExt`. */
export interface LegacyNode {
  couchApiBase?: string;
  /** "host:mgmtPort". */
  hostname: string;
  ports: { direct?: number; [name: string]: number | undefined };
}

export interface VBucketServerMap {
  hashAlgorithm: string;
  numReplicas: number;
  /** "host:kvPort" per node, index-aligned with nodesExt. */
  serverList: string[];
  /** Row per vBucket: [active node index, replica indexes...], -1 = none. */
  vBucketMap: number[][];
  vBucketMapForward?: number[][];
}

export interface ClusterCapabilities {
  n1ql?: string[];
  search?: string[];
  [service: string]: string[] | undefined;
}

/** The global (GCCCP) config: what GET_CLUSTER_CONFIG returns without a selected bucket. */
export interface GlobalConfig {
  rev: number;
  revEpoch?: number;
  nodesExt: NodeExt[];
  clusterCapabilitiesVer?: number[];
  clusterCapabilities?: ClusterCapabilities;
}

/** The terse bucket config. */
export interface BucketConfig extends GlobalConfig {
  name: string;
  uuid?: string;
  bucketType?: string;
  /** "vbucket" for Couchbase buckets, "ketama" for memcached buckets. */
  nodeLocator: string;
  /** Hex string. */
  collectionsManifestUid?: string;
  bucketCapabilitiesVer?: string;
  bucketCapabilities?: string[];
  nodes?: LegacyNode[];
  vBucketServerMap?: VBucketServerMap;
  ddocs?: { uri: string };
}

export type AnyConfig = BucketConfig | GlobalConfig;

/** True for a bucket config (it names a bucket); false for a global config. */
export function isBucketConfig(c: AnyConfig): c is BucketConfig {
  return typeof (c as BucketConfig).name === 'string';
}

/**
 * Substitutes `$HOST` with the address the client used to reach the server. An IPv6 address is
 * bracketed where a port follows it ("$HOST:8091" -> "[::1]:8091").
 */
export function substituteHost(text: string, host: string): string {
  if (!text.includes('$HOST')) return text;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const withPort = bare.includes(':') ? `[${bare}]` : bare;
  return text.replace(/\$HOST(:)?/g, (_m, colon: string | undefined) => (colon ? `${withPort}:` : bare));
}

function fail(message: string): never {
  throw new ProtocolError('bad_config', message);
}

/**
 * Parses a config body (KV or REST), substituting `$HOST` with `host`. Checks the fields every
 * consumer relies on; throws `ProtocolError('bad_config')` otherwise.
 */
export function parseConfig(text: string | Buffer, host: string): AnyConfig {
  const raw = substituteHost(typeof text === 'string' ? text : text.toString('utf8'), host);
  let c: unknown;
  try {
    c = JSON.parse(raw);
  } catch (err) {
    fail(`config is not valid JSON: ${(err as Error).message}`);
  }
  if (c === null || typeof c !== 'object' || Array.isArray(c)) fail('config is not a JSON object');
  const cfg = c as Record<string, unknown>;
  // Servers before 5.0 (and memcached-only setups) send no "rev": it counts as revision 0, so
  // any config that has one replaces it.
  if (cfg.rev === undefined) cfg.rev = 0;
  else if (!Number.isInteger(cfg.rev)) fail('config "rev" is not an integer');
  if (cfg.revEpoch !== undefined && !Number.isInteger(cfg.revEpoch)) fail('config "revEpoch" is not an integer');
  if (cfg.nodesExt === undefined) {
    // Pre-nodesExt servers: derive nodesExt from the legacy fields so consumers see one shape.
    if (!Array.isArray(cfg.nodes)) fail('config has neither "nodesExt" nor "nodes"');
    cfg.nodesExt = (cfg.nodes as LegacyNode[]).map(legacyToExt);
  }
  if (!Array.isArray(cfg.nodesExt)) fail('config "nodesExt" is not an array');
  for (const n of cfg.nodesExt as unknown[]) {
    if (n === null || typeof n !== 'object' || typeof (n as NodeExt).services !== 'object' || (n as NodeExt).services === null) {
      fail('config "nodesExt" entry without "services"');
    }
  }
  if (cfg.name !== undefined) {
    if (typeof cfg.name !== 'string') fail('config "name" is not a string');
    const map = cfg.vBucketServerMap as VBucketServerMap | undefined;
    if (map !== undefined) {
      if (!Array.isArray(map.serverList) || !Array.isArray(map.vBucketMap)) {
        fail('config "vBucketServerMap" needs "serverList" and "vBucketMap" arrays');
      }
      const servers = map.serverList.length;
      for (const s of map.serverList) if (typeof s !== 'string') fail('config serverList entry is not a "host:port" string');
      // A row naming a server the list does not have would send operations nowhere.
      for (const row of map.vBucketMap) {
        if (!Array.isArray(row)) fail('config vBucketMap row is not an array');
        for (const i of row) if (!Number.isInteger(i) || i < -1 || i >= servers) fail(`config vBucketMap names server ${JSON.stringify(i)} of ${servers}`);
      }
    }
  }
  return cfg as unknown as AnyConfig;
}

function legacyToExt(n: LegacyNode): NodeExt {
  const colon = n.hostname.lastIndexOf(':');
  const hostname = colon > 0 ? n.hostname.slice(0, colon).replace(/^\[|\]$/g, '') : n.hostname;
  const services: NodeServices = {};
  if (colon > 0) services.mgmt = Number(n.hostname.slice(colon + 1));
  if (n.ports?.direct !== undefined) services.kv = n.ports.direct;
  if (n.couchApiBase) {
    const m = /:(\d+)\//.exec(n.couchApiBase);
    if (m) services.capi = Number(m[1]);
  }
  return { services, hostname };
}

/** Compares configs by (revEpoch, rev): negative if a is older, 0 if the same, positive if newer. */
export function compareConfigRevision(a: { rev: number; revEpoch?: number }, b: { rev: number; revEpoch?: number }): number {
  const ea = a.revEpoch ?? 0;
  const eb = b.revEpoch ?? 0;
  if (ea !== eb) return ea < eb ? -1 : 1;
  return a.rev === b.rev ? 0 : a.rev < b.rev ? -1 : 1;
}

/** True when `candidate` should replace `current`: strictly newer by (revEpoch, rev). */
export function isNewerConfig(candidate: { rev: number; revEpoch?: number }, current: { rev: number; revEpoch?: number } | undefined | null): boolean {
  return current == null || compareConfigRevision(candidate, current) > 0;
}
