// The management REST API of one node (port "mgmt", 8091 on a real server): what SDKs and tools
// read to discover the cluster. HTTP basic auth on every route except `GET /`, and on each route
// the permission ns_server asks for (403 naming it otherwise).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentStore } from './store';
import { bucketConfig, globalConfig, servicePort } from './cluster-config';
import { handleCollectionsRest, type CollectionsRestHost } from './collections/rest';
import { withLocalHost } from './http-host';
import type { ClusterCore } from './kv/node';
import type { ServiceName } from './services';
import type { ConsoleCore } from './console/core';
import { otpNode } from './console/core';
import { membershipOf, isBalanced } from './console/controller';
import { authenticate as authenticateRequest, handleAuthed, handlePublic, unauthorized } from './console/routes';
import type { Identity } from './rbac/users';
import { handleRbac, type RbacHost } from './rbac/rest';
import { handleQuerySettingsRest, type QuerySettings } from './query-settings';
import { requirePermission } from './rbac/guard';
import { bucketPermission, clusterPermission } from './rbac/permission';
import { rawRamBytes } from './buckets-admin';

export interface MgmtCore extends ClusterCore, ConsoleCore, CollectionsRestHost {
  authenticate(authorization: string | undefined): Identity | null;
  /** Users, groups and the password policy (the /settings/rbac routes). */
  readonly rbac: RbacHost;
  /** Streaming config listeners (/pools/default/bs/<b>), told on every topology change. */
  readonly configStreams: Set<{ bucket: string; node: number; res: ServerResponse }>;
  /** The handler of `service` on a node, when it runs there (/pools/default/buckets/<b>/ddocs goes to capi). */
  serviceHandler(node: number, service: ServiceName): ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The query settings (/settings/querySettings/curlWhitelist). */
  readonly querySettings: QuerySettings;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // Over HTTP, ns_server answers "$HOST" (a node that never joined a cluster) with its own address.
  const text = typeof body === 'string' ? body : withLocalHost(JSON.stringify(body), res);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Whether `user` sees bucket `name` in listings (ns_server lists the buckets whose settings it may read). */
function userSees(user: Identity, bucket: string): boolean {
  return user.allows(bucketPermission(bucket, ['settings'], 'read'));
}

function nodeJson(core: MgmtCore, id: number, thisNode: number): Record<string, unknown> {
  const p = core.ports(id);
  const services = ['kv'];
  for (const svc of core.services) if (servicePort(p, svc) !== undefined) services.push(svc.mgmtName);
  const host = core.hostless ? '$HOST' : core.advertisedHost.includes(':') ? `[${core.advertisedHost}]` : core.advertisedHost;
  const node: Record<string, unknown> = {
    hostname: `${host}:${p.mgmt}`,
    // The address the node was set up with (what SDK test harnesses poll /pools/nodes for).
    configuredHostname: `${host}:${p.mgmt}`,
    ports: { direct: p.kv },
    services,
    status: 'healthy',
    otpNode: otpNode(core, id),
    clusterMembership: membershipOf(core, id),
    recoveryType: 'none',
    version: core.version,
    os: process.platform,
  };
  if (p.capi !== undefined) node.couchApiBase = `http://${host}:${p.capi}/`;
  const alt = core.alternateAddress?.(id);
  if (alt !== undefined) node.alternateAddresses = { [alt.network]: { hostname: alt.hostname, ports: alt.ports } };
  if (id === thisNode) node.thisNode = true;
  return node;
}

function verboseBucket(core: MgmtCore, store: DocumentStore, thisNode: number): Record<string, unknown> {
  const settings = core.bucketAdmin.settingsOf(store.name)!;
  const ram = rawRamBytes(settings);
  const type = settings.bucketType;
  return {
    ...bucketConfig(core, store, thisNode),
    bucketType: type,
    replicaNumber: type === 'memcached' ? 0 : settings.replicaNumber,
    threadsNumber: settings.threadsNumber,
    // Every field below is read with a hard `.at()` by couchbase-cxx-client's bucket manager.
    quota: { ram: ram * core.topology.members.length, rawRAM: ram },
    maxTTL: settings.maxTTL,
    compressionMode: settings.compressionMode,
    evictionPolicy: settings.evictionPolicy,
    conflictResolutionType: settings.conflictResolutionType,
    durabilityMinLevel: settings.durabilityMinLevel,
    // ns_server reports a storage backend for Couchbase buckets only.
    ...(type === 'membase' ? { storageBackend: settings.storageBackend, replicaIndex: settings.replicaIndex } : {}),
    ...(settings.driftAheadThresholdMs !== undefined ? { driftAheadThresholdMs: settings.driftAheadThresholdMs, driftBehindThresholdMs: settings.driftBehindThresholdMs } : {}),
    ...(settings.storageQuotaPercentage !== undefined && settings.storageBackend === 'magma' ? { storageQuotaPercentage: settings.storageQuotaPercentage } : {}),
    ...(type === 'ephemeral' ? { purgeInterval: settings.purgeInterval } : {}),
    uri: `/pools/default/buckets/${encodeURIComponent(store.name)}?bucket_uuid=${store.uuid}`,
    streamingUri: `/pools/default/bucketsStreaming/${encodeURIComponent(store.name)}?bucket_uuid=${store.uuid}`,
    nodes: core.topology.members.map((id) => nodeJson(core, id, thisNode)),
    basicStats: { itemCount: store.totalSize, opsPerSec: core.statsArchive.latest(store.name, 'ops'), memUsed: core.statsArchive.latest(store.name, 'mem_used') },
    stats: { uri: `/pools/default/buckets/${encodeURIComponent(store.name)}/stats` },
    controllers: settings.flushEnabled ? { flush: `/pools/default/buckets/${encodeURIComponent(store.name)}/controller/doFlush` } : {},
  };
}

/** Handles one management request for node `thisNode`. */
export function handleMgmt(core: MgmtCore, thisNode: number, req: IncomingMessage, res: ServerResponse): void | Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const open = handlePublic(core, req, res, path);
  if (open !== false) return open === true ? undefined : open;
  if (path === '/' && req.method === 'GET') return send(res, 200, {});
  const user = authenticateRequest(core, (h) => core.authenticate(h), req, res);
  if (user === null) return unauthorized(req, res);
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const rbac = handleRbac(core.rbac, user, req, res, parts);
  if (rbac !== false) return rbac === true ? undefined : rbac;
  const querySettings = handleQuerySettingsRest(core.querySettings, user, req, res, parts);
  if (querySettings !== false) return querySettings === true ? undefined : querySettings;
  const collections = handleCollectionsRest(core, user, req, res, parts);
  if (collections !== false) return collections === true ? undefined : collections;
  const routed = handleAuthed(core, thisNode, user, req, res, path, parts);
  if (routed !== false) return routed === true ? undefined : routed;

  if (req.method === 'GET') {
    if (path === '/pools') {
      return send(res, 200, {
        isAdminCreds: user.allows(clusterPermission(['admin'], 'write')),
        isEnterprise: true,
        implementationVersion: core.version,
        componentsVersion: { ns_server: core.version },
        pools: [{ name: 'default', uri: '/pools/default', streamingUri: '/poolsStreaming/default' }],
      });
    }
    // /pools/nodes answers in the /pools/default shape (SDK test harnesses wait on it).
    if (path === '/pools/default' || path === '/pools/nodes') {
      if (!requirePermission(user, res, clusterPermission(['pools'], 'read'))) return;
      const names = core.stores().filter((s) => userSees(user, s.name)).map((s) => s.name);
      return send(res, 200, {
        name: path === '/pools/nodes' ? 'nodes' : 'default',
        // Failed-over nodes stay listed (clusterMembership inactiveFailed) until added back, as in ns_server.
        nodes: core.nodeIds().map((id) => nodeJson(core, id, thisNode)),
        bucketNames: names.map((bucketName) => ({ bucketName })),
        buckets: { uri: `/pools/default/buckets?v=${core.topology.rev}` },
        rebalanceStatus: 'none',
        rebalanceProgressUri: '/pools/default/rebalanceProgress',
        controllers: {
          addNode: { uri: '/controller/addNode' },
          rebalance: { uri: '/controller/rebalance' },
          failOver: { uri: '/controller/failOver' },
          startGracefulFailover: { uri: '/controller/startGracefulFailover' },
          setRecoveryType: { uri: '/controller/setRecoveryType' },
        },
        balanced: isBalanced(core),
      });
    }
    if (path === '/pools/default/nodeServices') {
      if (requirePermission(user, res, clusterPermission(['pools'], 'read'))) send(res, 200, globalConfig(core, thisNode));
      return;
    }
    if (path === '/pools/default/buckets') {
      // skipMap=true (what Couchbase's console asks for) leaves out the vBucket maps.
      const skipMap = url.searchParams.get('skipMap') === 'true';
      return send(res, 200, core.stores().filter((s) => userSees(user, s.name)).map((s) => {
        const b = verboseBucket(core, s, thisNode);
        if (skipMap) delete b.vBucketServerMap;
        return b;
      }));
    }
    if (parts.length >= 4 && parts[0] === 'pools' && parts[1] === 'default') {
      const store = core.store(parts[3]);
      if (parts[2] === 'buckets' && parts.length === 5 && parts[4] === 'ddocs') {
        const views = core.serviceHandler(thisNode, 'capi');
        if (store === undefined) return send(res, 404, 'Requested resource not found.\r\n');
        if (!requirePermission(user, res, bucketPermission(store.name, ['views'], 'read'))) return;
        if (views === undefined) return send(res, 200, { rows: [] });
        // The views service checks the request's user again: forward it with a one-time credential.
        req.headers.authorization = 'Basic ' + Buffer.from(`${user.username}:${core.delegate(user.username)}`).toString('base64');
        return views(req, res);
      }
      if (parts.length !== 4) return send(res, 404, 'Not found.\r\n');
      if (store === undefined) return send(res, 404, 'Requested resource not found.\r\n');
      if (!['buckets', 'b', 'bs', 'bucketsStreaming'].includes(parts[2])) return send(res, 404, 'Not found.\r\n');
      if (!requirePermission(user, res, bucketPermission(store.name, ['settings'], 'read'))) return;
      if (parts[2] === 'buckets') return send(res, 200, verboseBucket(core, store, thisNode));
      if (parts[2] === 'b') return send(res, 200, bucketConfig(core, store, thisNode));
      if (parts[2] === 'bs' || parts[2] === 'bucketsStreaming') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write(withLocalHost(JSON.stringify(bucketConfig(core, store, thisNode)), res) + '\n\n\n\n');
        const entry = { bucket: store.name, node: thisNode, res };
        core.configStreams.add(entry);
        res.on('close', () => core.configStreams.delete(entry));
        return;
      }
    }
  }
  send(res, 404, 'Not found.\r\n');
}
