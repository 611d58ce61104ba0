// Bootstrap: the first cluster map, from the connection string's hosts in turn — over KV
// (CCCP: the map a node serves at the end of its handshake) and then over HTTP
// (/pools/default/b/<bucket>), as bootstrap_on allows — within config_total_timeout.
import type * as tls from 'node:tls';
import type { KvConnection } from './connection';
import { DEFAULT_HTTP_PORT, DEFAULT_HTTP_TLS_PORT, DEFAULT_KV_PORT, DEFAULT_KV_TLS_PORT, secondsToMs, type ConnSpec, type HostSpec } from './connstr';
import { ArgumentError, AuthError, BucketNotFoundError, ErrorCode, NetworkError, UnknownHostError, type CouchbaseError } from './errors';
import { httpGetJson, type HttpAgents, type HttpAuth, type HttpTarget } from './http';
import type { NodeSet } from './nodes';
import { resolveSeeds, type SrvResolver } from './dnssrv';
import type { Topology } from './topology';

export interface Candidate {
  kind: 'kv' | 'http';
  host: string;
  port: number;
}

/**
 * Where to ask for the first map, in order: KV ports first, then management ports. A host the
 * string gave no port type (libcouchbase's "typeless" host) is tried on both kinds of port.
 */
export function bootstrapCandidates(spec: ConnSpec, hosts: readonly HostSpec[] = spec.hosts): Candidate[] {
  const o = spec.options;
  const candidates: Candidate[] = [];
  const cccp = o.bootstrap_on === 'all' || o.bootstrap_on === 'both' || o.bootstrap_on === 'cccp';
  const viaHttp = o.bootstrap_on === 'all' || o.bootstrap_on === 'both' || o.bootstrap_on === 'http';
  if (cccp) {
    for (const h of hosts) {
      if (h.mode !== 'kv' && (h.explicit || spec.scheme === 'http')) continue;
      const port = h.mode === 'kv' && h.port ? h.port : spec.tls ? DEFAULT_KV_TLS_PORT : DEFAULT_KV_PORT;
      candidates.push({ kind: 'kv', host: h.host, port });
    }
  }
  if (viaHttp) {
    for (const h of hosts) {
      const port = h.mode === 'http' && h.port ? h.port : spec.tls ? DEFAULT_HTTP_TLS_PORT : DEFAULT_HTTP_PORT;
      if (!candidates.some((c) => c.kind === 'http' && c.host === h.host && c.port === port)) candidates.push({ kind: 'http', host: h.host, port });
    }
  }
  if (o.randomize_nodes) candidates.sort(() => Math.random() - 0.5);
  return candidates;
}

/** What bootstrap needs from the engine. */
export interface BootstrapHost {
  readonly spec: ConnSpec;
  readonly bucket: string;
  readonly auth: HttpAuth;
  readonly tlsOptions: tls.ConnectionOptions | null;
  readonly agents: HttpAgents;
  readonly nodes: NodeSet;
  /** Still connecting: an answer that arrives after the engine gave up or closed is dropped. */
  readonly connecting: boolean;
  /** Where DNS SRV names are looked up. */
  readonly srvResolver: SrvResolver;
  parseTopology(text: string, host: string): Topology | null;
  /** What to fail with when config_total_timeout passes before the engine is connected. */
  bootstrapTimeout(): CouchbaseError;
}

/** The first map, and where to refresh it over HTTP when it did not come over KV. */
export type BootstrapDone = (err: CouchbaseError | null, topo: Topology | null, httpTarget: HttpTarget | null) => void;

export class Bootstrap {
  /** Bootstrap sockets not yet adopted as a node's connection (closed if bootstrap ends). */
  private readonly conns = new Set<KvConnection>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly host: BootstrapHost) {}

  /**
   * Finds the seed hosts (DNS SRV when the string asks for it), then tries each candidate in
   * turn. `done` is called once with the map, or with why there is none; when the engine has not
   * called finished() within config_total_timeout it is called (again) with the host's timeout
   * error, which says what was still missing.
   */
  start(done: BootstrapDone): void {
    const { spec } = this.host;
    const o = spec.options;
    this.timer = setTimeout(() => {
      this.timer = null;
      done(this.host.bootstrapTimeout(), null, null);
    }, secondsToMs(o.config_total_timeout));
    resolveSeeds(spec, this.host.srvResolver, secondsToMs(o.dns_srv_timeout), (hosts) => {
      if (this.host.connecting) this.tryCandidates(bootstrapCandidates(spec, hosts), done);
    });
  }

  private tryCandidates(candidates: Candidate[], done: BootstrapDone): void {
    const { spec } = this.host;
    if (candidates.length === 0) {
      return done(new ArgumentError(`bootstrap_on=${spec.options.bootstrap_on} leaves no host to bootstrap from in "${spec.display}"`), null, null);
    }
    const errors: string[] = [];
    let last: CouchbaseError | null = null;
    const tryNext = (i: number): void => {
      if (!this.host.connecting) return;
      if (i >= candidates.length) {
        // The code of the last host's failure (ECONNREFUSED...), as libcouchbase's detailed codes
        // give it; a name that does not resolve is UnknownHostError, as Python raises it.
        const message = `could not bootstrap from any host of ${spec.display}: ${errors.join('; ')}`;
        const rc = last !== null && last.isNetwork ? last.rc : ErrorCode.CONNECT_ERROR;
        const cls = last instanceof UnknownHostError ? UnknownHostError : NetworkError;
        return done(new cls(message, { rc, cause: last ?? undefined }), null, null);
      }
      const c = candidates[i];
      const next = (err: CouchbaseError): void => {
        last = err;
        errors.push(`${c.kind} ${c.host}:${c.port}: ${err.message}`);
        // Wrong credentials or bucket will not get better on another node.
        if (err instanceof AuthError || err instanceof BucketNotFoundError) return done(err, null, null);
        tryNext(i + 1);
      };
      if (c.kind === 'kv') this.overKv(c.host, c.port, next, done);
      else this.overHttp(c.host, c.port, next, done);
    };
    tryNext(0);
  }

  /** Bootstrap is over: the config_total_timeout timer stops. */
  finished(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Bootstrap is abandoned: the timer stops and the sockets no node adopted close. */
  stop(): void {
    this.finished();
    for (const c of [...this.conns]) c.destroy(null);
  }

  private overKv(host: string, port: number, onFail: (err: CouchbaseError) => void, done: BootstrapDone): void {
    const conn = this.host.nodes.newConnection(host, port);
    this.conns.add(conn);
    let settled = false;
    conn.on('ready', (text) => {
      settled = true;
      this.conns.delete(conn);
      if (!this.host.connecting) return conn.destroy(null);
      const topo = text ? this.host.parseTopology(text, host) : null;
      if (!topo || !topo.hasVBucketMap) {
        conn.destroy(null);
        return onFail(new NetworkError(`${host}:${port} served no usable bucket config (CCCP)`));
      }
      // Keep the bootstrap socket as that node's connection when the map names it.
      this.host.nodes.adopt(topo, host, port, conn);
      done(null, topo, null);
    });
    conn.on('close', (err) => {
      this.conns.delete(conn);
      if (!settled && this.host.connecting) onFail(err ?? new NetworkError(`${host}:${port} closed during bootstrap`));
    });
  }

  private overHttp(host: string, port: number, onFail: (err: CouchbaseError) => void, done: BootstrapDone): void {
    const h = this.host;
    const target: HttpTarget = { host, port, tls: h.tlsOptions };
    const path = `/pools/default/b/${encodeURIComponent(h.bucket)}`;
    httpGetJson(h.agents, target, path, h.auth, secondsToMs(h.spec.options.config_node_timeout), (err, status, body) => {
      if (!h.connecting) return;
      if (err) return onFail(err);
      if (status === 401) return onFail(new AuthError(`authentication as "${h.auth.username}" failed on ${host}:${port}; check username and password`));
      if (status === 404) return onFail(new BucketNotFoundError(`bucket "${h.bucket}" does not exist on ${host}:${port}; check the bucket name`));
      if (status !== 200) return onFail(new NetworkError(`GET ${path} on ${host}:${port} answered HTTP ${status}`));
      const topo = h.parseTopology(body, host);
      if (!topo || !topo.hasVBucketMap) return onFail(new NetworkError(`${host}:${port} served no usable bucket config over HTTP`));
      // The cluster did not serve maps over KV: keep refreshing them over HTTP.
      done(null, topo, target);
    });
  }
}
