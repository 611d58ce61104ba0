// The config JSON clients bootstrap from (PROTOCOL.md §4): terse bucket configs (CCCP, REST
// /pools/default/b/<b>, NOT_MY_VBUCKET bodies, pushes) and the global GCCCP config.
import type { Topology } from './topology';
import type { ServiceDef, ServiceName } from './services';

/**
 * A node's ports: KV, management, one per HTTP service it runs (services.ts), and their TLS
 * twins (`kvSSL`, `n1qlSSL`, ...) when the cluster listens with TLS too.
 */
export type NodePorts = { kv: number; mgmt: number; kvSSL?: number; mgmtSSL?: number } & { [S in ServiceName]?: number } & { [S in `${ServiceName}SSL`]?: number };

/** A node's address on an alternate network, as nodesExt[].alternateAddresses.<network> carries it. */
export interface AlternateAddress {
  readonly network: string;
  readonly hostname: string;
  /** Its ports by service name (kv, kvSSL, mgmt, n1ql, ...). */
  readonly ports: Readonly<Record<string, number>>;
}

/** What the config is built from; the cluster implements it. */
export interface ConfigSource {
  /** The address the config names the nodes by. */
  readonly advertisedHost: string;
  /**
   * A single node that never joined a cluster: the config names it by no hostname ("$HOST" in
   * serverList and nodes[]), the client standing in the address it reached it at, as ns_server does.
   */
  readonly hostless: boolean;
  readonly topology: Topology;
  /** The HTTP services the nodes run. */
  readonly services: readonly ServiceDef[];
  ports(node: number): NodePorts;
  /** The node's alternate address, if the cluster advertises one. */
  alternateAddress?(node: number): AlternateAddress | undefined;
  /** A bucket's type and replica count when they differ from the cluster's (buckets-admin.ts). */
  settingsOf?(bucket: string): { readonly bucketType: 'membase' | 'memcached' | 'ephemeral'; readonly replicaNumber: number } | undefined;
}

/** The port of `service` on a node, when it runs there. */
export function servicePort(ports: NodePorts, service: ServiceDef): number | undefined {
  return ports[service.name as ServiceName];
}

const BUCKET_CAPABILITIES = [
  'collections',
  'durableWrite',
  'tombstonedUserXAttrs',
  'couchapi',
  'subdoc.ReplaceBodyWithXattr',
  'subdoc.DocumentMacroSupport',
  'subdoc.ReviveDocument',
  'subdoc.AccessDeleted',
  'subdoc.ReplicaRead',
  'rangeScan',
  'dcp',
  'cbhello',
  'touch',
  'cccp',
  'nodesExt',
  'xattr',
];

/** The name the config gives the nodes: "$HOST" for a node that never joined a cluster. */
function hostName(src: ConfigSource): string {
  return src.hostless ? '$HOST' : src.advertisedHost.includes(':') ? `[${src.advertisedHost}]` : src.advertisedHost;
}

function nodesExt(src: ConfigSource, thisNode: number): Record<string, unknown>[] {
  return src.topology.members.map((id) => {
    const p = src.ports(id);
    const services: Record<string, number> = { kv: p.kv, mgmt: p.mgmt };
    if (p.kvSSL !== undefined) services.kvSSL = p.kvSSL;
    if (p.mgmtSSL !== undefined) services.mgmtSSL = p.mgmtSSL;
    for (const svc of src.services) {
      const port = servicePort(p, svc);
      if (port !== undefined) services[svc.name] = port;
      const tls = p[`${svc.name as ServiceName}SSL`];
      if (tls !== undefined) services[`${svc.name}SSL`] = tls;
    }
    const ext: Record<string, unknown> = { services };
    if (id === thisNode) ext.thisNode = true;
    if (!src.hostless) ext.hostname = src.advertisedHost;
    const alt = src.alternateAddress?.(id);
    if (alt !== undefined) ext.alternateAddresses = { [alt.network]: { hostname: alt.hostname, ports: alt.ports } };
    return ext;
  });
}

function clusterCapabilities(src: ConfigSource): Record<string, unknown> {
  const capabilities: Record<string, readonly string[]> = {};
  for (const svc of src.services) {
    if (svc.clusterCapabilities === undefined) continue;
    if (src.topology.members.some((id) => servicePort(src.ports(id), svc) !== undefined)) capabilities[svc.name] = svc.clusterCapabilities;
  }
  return { clusterCapabilitiesVer: [1, 0], clusterCapabilities: capabilities };
}

/** What a bucket config says of the bucket itself: its name, uuid and collections manifest's uid. */
export interface ConfigBucket {
  readonly name: string;
  readonly uuid: string;
  readonly manifest?: { readonly uid: number };
}

/** Terse bucket config as node `thisNode` serves it. */
export function bucketConfig(src: ConfigSource, bucket: ConfigBucket, thisNode: number): Record<string, unknown> {
  const t = src.topology;
  const settings = src.settingsOf?.(bucket.name);
  if (settings?.bucketType === 'memcached') return memcachedConfig(src, bucket, thisNode);
  // A bucket may have fewer replicas than the chains carry (its map shows only the first ones) or
  // more than the nodes can hold (the missing ones are -1, as in ns_server's map).
  const replicas = settings?.replicaNumber ?? t.replicas;
  // Ephemeral buckets have no views.
  const views = settings?.bucketType !== 'ephemeral';
  const host = hostName(src);
  const hostPort = (id: number): string => `${host}:${src.ports(id).kv}`;
  const map = t.vbucketMap();
  return {
    rev: t.rev,
    revEpoch: t.revEpoch,
    name: bucket.name,
    uuid: bucket.uuid,
    bucketType: 'membase',
    nodeLocator: 'vbucket',
    collectionsManifestUid: (bucket.manifest?.uid ?? 0).toString(16),
    bucketCapabilitiesVer: '',
    bucketCapabilities: views ? BUCKET_CAPABILITIES : BUCKET_CAPABILITIES.filter((c) => c !== 'couchapi'),
    ddocs: { uri: `/pools/default/buckets/${encodeURIComponent(bucket.name)}/ddocs` },
    nodes: t.members.map((id) => {
      const p = src.ports(id);
      const node: Record<string, unknown> = { hostname: `${host}:${p.mgmt}`, ports: { direct: p.kv } };
      if (p.capi !== undefined && views) node.couchApiBase = `http://${host}:${p.capi}/${encodeURIComponent(bucket.name)}%2B${bucket.uuid}`;
      return node;
    }),
    nodesExt: nodesExt(src, thisNode),
    vBucketServerMap: {
      hashAlgorithm: 'CRC',
      numReplicas: replicas,
      serverList: t.members.map(hostPort),
      vBucketMap: replicas === t.replicas ? map : map.map((row) => (replicas < t.replicas ? row.slice(0, 1 + replicas) : [...row, ...new Array<number>(replicas - t.replicas).fill(-1)])),
    },
    ...clusterCapabilities(src),
  };
}

/** A memcached bucket's config: nodes placed on a ketama ring by the client, no vBucket map. */
function memcachedConfig(src: ConfigSource, bucket: ConfigBucket, thisNode: number): Record<string, unknown> {
  const t = src.topology;
  return {
    rev: t.rev,
    revEpoch: t.revEpoch,
    name: bucket.name,
    uuid: bucket.uuid,
    bucketType: 'memcached',
    nodeLocator: 'ketama',
    bucketCapabilitiesVer: '',
    bucketCapabilities: ['cbhello', 'nodesExt'],
    nodes: t.members.map((id) => {
      const p = src.ports(id);
      return { hostname: `${hostName(src)}:${p.mgmt}`, ports: { direct: p.kv } };
    }),
    nodesExt: nodesExt(src, thisNode),
    ...clusterCapabilities(src),
  };
}

/** GCCCP config: no bucket, just the nodes and their services. */
export function globalConfig(src: ConfigSource, thisNode: number): Record<string, unknown> {
  return {
    rev: src.topology.rev,
    revEpoch: src.topology.revEpoch,
    nodesExt: nodesExt(src, thisNode),
    ...clusterCapabilities(src),
  };
}
