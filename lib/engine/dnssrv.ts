// Seed hosts from DNS SRV records, as libcouchbase looks them up: for couchbase+dnssrv://name,
// and implicitly for a connection string naming one host without a port (the cluster's DNS may
// publish its nodes as _couchbase._tcp.name, or _couchbases._tcp.name for TLS). No answer means
// the name is a host itself: bootstrap goes on with it, after a debug line.
import * as dns from 'node:dns';
import * as net from 'node:net';
import createDebug from 'debug';
import type { ConnSpec, HostSpec } from './connstr';

const debug = createDebug('deferbase:engine');

/** The part of node:dns (or a dns.Resolver) used here; tests pass their own. */
export interface SrvResolver {
  resolveSrv(hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: dns.SrvRecord[]) => void): void;
}

/** True when the connection string asks for (or allows) a DNS SRV lookup of its one host. */
export function wantsSrvLookup(spec: ConnSpec): boolean {
  if (spec.dnssrv) return true;
  if (!spec.options.enable_dns_srv || spec.scheme === 'http' || spec.hosts.length !== 1) return false;
  const h = spec.hosts[0];
  // A port or a port type pins the host; an address or localhost has no SRV records to find.
  return !h.explicit && net.isIP(h.host) === 0 && h.host !== 'localhost';
}

/** The SRV name for `host`: _couchbase._tcp.host, or _couchbases._tcp.host with TLS. */
export function srvName(host: string, tls: boolean): string {
  return `${tls ? '_couchbases' : '_couchbase'}._tcp.${host}`;
}

/**
 * The seed hosts to bootstrap from: the SRV targets (by priority, then weight, as KV ports), or
 * the connection string's hosts when no lookup is wanted or it finds nothing within `timeoutMs`.
 * Calls back once, asynchronously or not.
 */
export function resolveSeeds(spec: ConnSpec, resolver: SrvResolver, timeoutMs: number, cb: (hosts: HostSpec[]) => void): void {
  if (!wantsSrvLookup(spec)) return cb(spec.hosts);
  const name = srvName(spec.hosts[0].host, spec.tls);
  let settled = false;
  const finish = (hosts: HostSpec[]): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    cb(hosts);
  };
  const timer = setTimeout(() => {
    debug('DNS SRV lookup of %s took longer than %d ms; bootstrapping from %s itself', name, timeoutMs, spec.hosts[0].host);
    finish(spec.hosts);
  }, timeoutMs);
  try {
    resolver.resolveSrv(name, (err, records) => {
      if (err || !Array.isArray(records) || records.length === 0) {
        debug('DNS SRV lookup of %s found no records (%s); bootstrapping from %s itself', name, err ? err.code ?? err.message : 'empty answer', spec.hosts[0].host);
        return finish(spec.hosts);
      }
      const sorted = [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      debug('DNS SRV %s: %s', name, sorted.map((r) => `${r.name}:${r.port}`).join(', '));
      finish(sorted.map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port, mode: 'kv', explicit: true })));
    });
  } catch (err) {
    debug('DNS SRV lookup of %s failed (%s); bootstrapping from %s itself', name, (err as Error).message, spec.hosts[0].host);
    finish(spec.hosts);
  }
}

/** Node's own resolver (the system's DNS servers). */
export const systemResolver: SrvResolver = { resolveSrv: (name, cb) => dns.resolveSrv(name, cb) };
