// Python's couchbase.admin.Admin: an administrative connection to a cluster (libcouchbase's
// LCB_TYPE_CLUSTER handle) whose calls go to the management REST API. It needs no bucket: the
// management ports come from the connection string (http://host:8091, host=http) or, for KV
// hosts, from the cluster-level map a node serves after the handshake (GET_CLUSTER_CONFIG with
// no bucket selected). Each method is one row of ADMIN_METHODS, so every flavour derives its
// Admin from the same table, as it does its BucketManager from MANAGER_METHODS.
import { KvConnection } from '../connection';
import { DEFAULT_HTTP_PORT, DEFAULT_HTTP_TLS_PORT, DEFAULT_KV_PORT, DEFAULT_KV_TLS_PORT, parseConnstr, type ConnSpec } from '../connstr';
import { ArgumentError, AuthError, CouchbaseError, HTTPError, NetworkError } from '../errors';
import { HttpAgents, type HttpAuth, type HttpTarget } from '../http';
import { addressFamily, buildTlsOptions, connectionSettings } from '../options';
import type { HttpResult } from '../results';
import { httpRequest, type HttpCall } from './http-request';
import type { HttpMethod } from '../http';

type Cb = (err: CouchbaseError | null, result: unknown) => void;

/** Python's couchbase.auth_domain.AuthDomain. */
export const AuthDomain = { Local: 'local', External: 'external' } as const;
export type AuthDomainName = (typeof AuthDomain)[keyof typeof AuthDomain];

/** A bucket did not get healthy on every node within wait_ready's timeout (Python's admin.NotReadyError). */
export class NotReadyError extends CouchbaseError {}

export interface AdminOptions {
  /** A connection string to the cluster instead of host and port (what Cluster.clusterManager() passes). */
  connectionString?: string;
  /** Passed on as the connection string's ipv6 option. */
  ipv6?: 'disabled' | 'allow' | 'only';
}

/** The connection string an Admin(username, password, host, port, options) talks to. */
export function adminConnstr(host: unknown, port: unknown, options: AdminOptions = {}): string {
  let connstr = options.connectionString;
  if (connstr === undefined) {
    const h = host === undefined || host === null ? 'localhost' : host;
    const p = port === undefined || port === null ? DEFAULT_HTTP_PORT : port;
    if (typeof h !== 'string' || h === '') throw new ArgumentError('Admin(username, password, host, port): host must be a host name or address');
    if (!Number.isInteger(p) || (p as number) <= 0 || (p as number) > 65535) throw new ArgumentError(`Admin(username, password, host, port): port must be a port number, got ${String(p)}`);
    connstr = `http://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${String(p)}`;
  }
  if (options.ipv6 !== undefined) connstr += `${connstr.includes('?') ? '&' : '?'}ipv6=${options.ipv6}`;
  return connstr;
}

/** The management endpoints of a cluster and the HTTP calls to them. */
export class AdminClient {
  readonly spec: ConnSpec;
  readonly auth: HttpAuth;
  readonly agents: HttpAgents;
  private readonly tlsOptions;
  private targets: HttpTarget[] | null = null;
  private next = 0;
  private waiting: Array<(err: CouchbaseError | null) => void> | null = null;
  private closed = false;

  constructor(connstr: string, username: string, password: string) {
    if (typeof username !== 'string' || typeof password !== 'string') throw new ArgumentError('Admin needs a username and a password (the cluster administrator\'s, or a user with the roles the calls need)');
    this.spec = parseConnstr(connstr);
    this.auth = { username, password };
    this.tlsOptions = this.spec.tls ? buildTlsOptions(this.spec) : null;
    this.agents = new HttpAgents(this.tlsOptions, addressFamily(this.spec.options));
  }

  get options(): ConnSpec['options'] {
    return this.spec.options;
  }

  /** Finds the management endpoints (once), then checks the credentials on one of them. */
  whenConnected(fn: (err: CouchbaseError | null) => void): void {
    if (this.closed) return process.nextTick(fn, new NetworkError('the Admin connection was closed'));
    if (this.targets !== null) return process.nextTick(fn, null);
    if (this.waiting !== null) {
      this.waiting.push(fn);
      return;
    }
    this.waiting = [fn];
    this.resolve(0, [], (err, targets) => {
      const finish = (e: CouchbaseError | null): void => {
        const waiting = this.waiting ?? [];
        this.waiting = null;
        if (e === null) this.targets = targets;
        for (const w of waiting) w(e);
      };
      if (err) return finish(err);
      // As libcouchbase's cluster handle does on connect: an authenticated request, so that bad
      // credentials fail here (AuthError) and not on the first call.
      this.targets = targets;
      httpRequest(this, { service: 'mgmt', method: 'GET', path: '/pools/default' }, (e) => {
        this.targets = null;
        if (e && e instanceof HTTPError && e.httpStatus === 401) return finish(new AuthError(`the cluster refused the credentials of "${this.auth.username}"; check username and password`, { cause: e }));
        finish(e && !(e instanceof HTTPError) ? e : null);
      });
    });
  }

  /** A management endpoint, round robin. */
  serviceTarget(): HttpTarget | null {
    if (this.targets === null || this.targets.length === 0) return null;
    return this.targets[this.next++ % this.targets.length];
  }

  request(call: Omit<HttpCall, 'service'>, cb: (err: CouchbaseError | null, result: HttpResult | null) => void): void {
    httpRequest(this, { ...call, service: 'mgmt' }, cb);
  }

  close(): void {
    this.closed = true;
    this.targets = null;
    this.agents.destroy();
  }

  /** Management endpoints from host `i` of the connection string on: HTTP hosts as they are, KV hosts through the map they serve. */
  private resolve(i: number, problems: string[], cb: (err: CouchbaseError | null, targets: HttpTarget[]) => void): void {
    const hosts = this.spec.hosts;
    if (i >= hosts.length) return cb(new NetworkError(`no management endpoint found from ${this.spec.display}: ${problems.join('; ')}`), []);
    const h = hosts[i];
    const httpPort = this.spec.tls ? DEFAULT_HTTP_TLS_PORT : DEFAULT_HTTP_PORT;
    if (this.spec.scheme === 'http' || h.mode === 'http' || !h.port) {
      return cb(null, [{ host: h.host, port: h.mode === 'http' && h.port ? h.port : this.spec.scheme === 'http' && h.port ? h.port : httpPort, tls: this.tlsOptions }]);
    }
    const port = h.port || (this.spec.tls ? DEFAULT_KV_TLS_PORT : DEFAULT_KV_PORT);
    const conn = new KvConnection({ host: h.host, port, ...connectionSettings(this.spec, this.auth, this.tlsOptions), bucket: null });
    let settled = false;
    conn.on('ready', (text: string | null) => {
      settled = true;
      conn.destroy(null);
      const targets = text ? this.mgmtTargets(text, h.host) : [];
      if (targets.length > 0) return cb(null, targets);
      problems.push(`${h.host}:${port} served no cluster map naming a management port`);
      this.resolve(i + 1, problems, cb);
    });
    conn.on('close', (err: CouchbaseError | null) => {
      if (settled) return;
      settled = true;
      if (err instanceof AuthError) return cb(err, []);
      problems.push(`${h.host}:${port}: ${err ? err.message : 'closed during the handshake'}`);
      this.resolve(i + 1, problems, cb);
    });
  }

  /** The management ports a cluster map's nodesExt names. */
  private mgmtTargets(text: string, seed: string): HttpTarget[] {
    let map: { nodesExt?: Array<{ hostname?: string; services?: Record<string, number> }> };
    try {
      map = JSON.parse(text.replace(/\$HOST/g, seed));
    } catch {
      return [];
    }
    const out: HttpTarget[] = [];
    for (const n of map.nodesExt ?? []) {
      const port = this.spec.tls ? n.services?.mgmtSSL : n.services?.mgmt;
      if (typeof port === 'number') out.push({ host: n.hostname ?? seed, port, tls: this.tlsOptions });
    }
    return out;
  }
}

// ---- the calls ------------------------------------------------------------------------------

type Row = (client: AdminClient, args: readonly unknown[], cb: Cb) => void;

const METHODS: readonly HttpMethod[] = ['GET', 'PUT', 'POST', 'DELETE'];

/** Python's _mk_formstr. */
function form(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

function optionsArg<T extends object>(what: string, v: unknown, allowed: readonly string[]): T {
  if (v === undefined || v === null) return {} as T;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ArgumentError(`${what}: options must be an object`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new ArgumentError(`${what}: unknown option "${k}"; it takes ${allowed.join(', ')}`);
  return v as T;
}

function nameArg(what: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new ArgumentError(`${what} needs a name (a non-empty string)`);
  return v;
}

const bucketPath = (name: string): string => `/pools/default/buckets/${encodeURIComponent(name)}`;

function userPath(domain: unknown, userid?: unknown): string {
  if (domain !== AuthDomain.Local && domain !== AuthDomain.External) throw new ArgumentError(`Unknown Authentication Domain ${JSON.stringify(domain)}: use AuthDomain.Local or AuthDomain.External`);
  const base = `/settings/rbac/users/${domain}`;
  return userid === undefined ? base : `${base}/${encodeURIComponent(nameArg('the user call', userid))}`;
}

const FORM = 'application/x-www-form-urlencoded';

interface HttpRequestOptions {
  method?: string;
  content?: string | Buffer;
  contentType?: string;
}

const httpRequestRow: Row = (c, a, cb) => {
  const path = a[0];
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ArgumentError('httpRequest(path, ...): path must start with "/"');
  const o: HttpRequestOptions = typeof a[1] === 'object' && a[1] !== null ? optionsArg('httpRequest', a[1], ['method', 'content', 'contentType']) : { method: a[1] as string | undefined, content: a[2] as string | undefined, contentType: a[3] as string | undefined };
  const method = (o.method ?? 'GET') as HttpMethod;
  if (!METHODS.includes(method)) throw new ArgumentError(`Unknown HTTP Method ${JSON.stringify(o.method)}: use GET, PUT, POST or DELETE`);
  const body = o.content === undefined || o.content === null ? undefined : Buffer.isBuffer(o.content) ? o.content.toString('utf8') : String(o.content);
  c.request({ method, path, body, contentType: o.contentType ?? 'application/json' }, cb);
};

interface BucketCreateOptions {
  bucketType?: string;
  bucketPassword?: string;
  replicas?: number;
  ramQuota?: number;
  flushEnabled?: boolean;
}

const bucketCreate: Row = (c, a, cb) => {
  const name = nameArg('bucketCreate', a[0]);
  const o = optionsArg<BucketCreateOptions>('bucketCreate', a[1], ['bucketType', 'bucketPassword', 'replicas', 'ramQuota', 'flushEnabled']);
  const type = o.bucketType ?? 'couchbase';
  // Python also sends authType=sasl and saslPassword; servers since 5.0 have no bucket
  // passwords (RBAC users instead), so they go only when a password is given.
  const body = form({
    name,
    bucketType: type,
    authType: o.bucketPassword ? 'sasl' : undefined,
    saslPassword: o.bucketPassword || undefined,
    flushEnabled: o.flushEnabled ? 1 : 0,
    ramQuotaMB: o.ramQuota ?? 1024,
    replicaNumber: ['couchbase', 'membase', 'ephemeral'].includes(type) ? (o.replicas ?? 0) : undefined,
  });
  c.request({ method: 'POST', path: '/pools/default/buckets', body, contentType: FORM }, cb);
};

interface BucketUpdateOptions {
  bucketPassword?: string;
  replicas?: number;
  ramQuota?: number;
  flushEnabled?: boolean;
}

/** Python's bucket_update(name, current, ...): unchanged settings are taken from `current` (bucketInfo()'s result). */
const bucketUpdate: Row = (c, a, cb) => {
  const name = nameArg('bucketUpdate', a[0]);
  const cur = ((a[1] as HttpResult | undefined)?.value ?? a[1]) as Record<string, unknown> | undefined;
  if (cur === null || typeof cur !== 'object') throw new ArgumentError('bucketUpdate(name, current, options): current is what bucketInfo(name) gave');
  const o = optionsArg<BucketUpdateOptions>('bucketUpdate', a[2], ['bucketPassword', 'replicas', 'ramQuota', 'flushEnabled']);
  const quota = cur.quota as { ram?: number; rawRAM?: number } | undefined;
  const perNodeMB = quota?.rawRAM !== undefined ? quota.rawRAM / 1024 / 1024 : undefined;
  const body = form({
    authType: o.bucketPassword !== undefined ? 'sasl' : undefined,
    saslPassword: o.bucketPassword,
    replicaNumber: cur.bucketType === 'memcached' ? undefined : (o.replicas ?? (cur.replicaNumber as number | undefined)),
    ramQuotaMB: o.ramQuota || (perNodeMB !== undefined ? Math.round(perNodeMB) : undefined),
    flushEnabled: o.flushEnabled === undefined ? undefined : o.flushEnabled ? 1 : 0,
    // Only servers that still have a proxy port report one (Python sends it back as it came).
    proxyPort: typeof cur.proxyPort === 'number' ? cur.proxyPort : undefined,
  });
  c.request({ method: 'POST', path: bucketPath(name), body, contentType: FORM }, cb);
};

interface WaitReadyOptions {
  timeout?: number;
  sleepInterval?: number;
}

/** Python's wait_ready: bucket_info until every node of the bucket says healthy, or the timeout. */
const waitReady: Row = (c, a, cb) => {
  const name = nameArg('waitReady', a[0]);
  const o = optionsArg<WaitReadyOptions>('waitReady', a[1], ['timeout', 'sleepInterval']);
  const end = Date.now() + (o.timeout ?? 5) * 1000;
  const interval = (o.sleepInterval ?? 0.2) * 1000;
  const probe = (): void => {
    c.request({ method: 'GET', path: bucketPath(name) }, (err, r) => {
      let failure: CouchbaseError | null = err;
      if (failure === null) {
        const nodes = ((r!.value as { nodes?: Array<{ status?: string }> }).nodes ?? []) as Array<{ status?: string }>;
        if (nodes.length > 0 && nodes.every((n) => n.status === 'healthy')) return cb(null, r);
        failure = new NotReadyError(`not all nodes of bucket "${name}" are healthy yet`);
      }
      if (Date.now() + interval > end) return cb(failure, null);
      setTimeout(probe, interval);
    });
  };
  probe();
};

const userUpsert: Row = (c, a, cb) => {
  const [domain, userid] = a;
  const o = (typeof a[2] === 'object' && a[2] !== null ? optionsArg('userUpsert', a[2], ['password', 'roles', 'name']) : { password: a[2], roles: a[3], name: a[4] }) as { password?: string; roles?: unknown; name?: string };
  const path = userPath(domain, userid);
  if (!Array.isArray(o.roles) || o.roles.length === 0) throw new ArgumentError('Roles must be a non-empty list');
  if (o.password && domain === AuthDomain.External) throw new ArgumentError('External domains must not have passwords');
  const roles = o.roles.map((r) => {
    if (typeof r === 'string') return r;
    if (Array.isArray(r) && r.length === 2) return `${String(r[0])}[${String(r[1])}]`;
    throw new ArgumentError(`a role is a name or a [role, bucket] pair, got ${JSON.stringify(r)}`);
  });
  c.request({ method: 'PUT', path, body: form({ roles: roles.join(','), password: o.password || undefined, name: o.name || undefined }), contentType: FORM }, cb);
};

const get = (path: (a: readonly unknown[]) => string): Row => (c, a, cb) => c.request({ method: 'GET', path: path(a) }, cb);
const del = (path: (a: readonly unknown[]) => string): Row => (c, a, cb) => c.request({ method: 'DELETE', path: path(a) }, cb);

const bucketRemove = del((a) => bucketPath(nameArg('bucketRemove', a[0])));
const usersGet = get((a) => userPath(a[0]));
const userGet = get((a) => userPath(a[0], a[1]));
const userRemove = del((a) => userPath(a[0], a[1]));

/** The Admin's methods by name (Python's aliases in camelCase included). */
export const ADMIN_METHODS = {
  httpRequest: httpRequestRow,
  bucketCreate,
  bucketRemove,
  bucketDelete: bucketRemove,
  bucketInfo: get((a) => bucketPath(nameArg('bucketInfo', a[0]))),
  bucketUpdate,
  waitReady,
  usersGet,
  userGet,
  userUpsert,
  userRemove,
  getUsers: usersGet,
  getUser: userGet,
  upsertUser: userUpsert,
  removeUser: userRemove,
} satisfies Record<string, Row>;

export type AdminMethodName = keyof typeof ADMIN_METHODS;

/** Runs an Admin call by name; bad arguments fail through `cb`, as the call's own errors do. */
export function runAdmin(client: AdminClient, name: string, args: readonly unknown[], cb: Cb): void {
  const row = Object.prototype.hasOwnProperty.call(ADMIN_METHODS, name) ? (ADMIN_METHODS as Record<string, Row>)[name] : undefined;
  if (row === undefined) return process.nextTick(cb, new ArgumentError(`unknown Admin call "${name}"`), null);
  try {
    row(client, args, cb);
  } catch (err) {
    process.nextTick(cb, err as CouchbaseError, null);
  }
}
