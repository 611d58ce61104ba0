// What the connection string's options mean for each KV connection: the HELLO features asked
// for, the SASL mechanisms offered, TLS material, and the rest of a connection's settings.
import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { HelloFeature } from '../protocol/hello';
import { secondsToMs, type ConnOptions, type ConnSpec, type SaslMech } from './connstr';
import type { ConnectionOptions } from './connection';
import { ArgumentError } from './errors';
import type { HttpAuth } from './http';

const AGENT = 'deferbase/0.1.0';

/** What every KV connection of an engine shares: all of ConnectionOptions but where it goes. */
export type ConnectionSettings = Omit<ConnectionOptions, 'host' | 'port'>;

export function helloFeatures(o: ConnOptions): number[] {
  // XATTR always, as libcouchbase asks for it: sub-document specs with `xattr` need it.
  const f: number[] = [HelloFeature.SELECT_BUCKET, HelloFeature.JSON, HelloFeature.XATTR];
  if (o.tcp_nodelay) f.push(HelloFeature.TCP_NODELAY);
  if (o.fetch_mutation_tokens || o.dur_mutation_tokens) f.push(HelloFeature.MUTATION_SEQNO);
  if (o.detailed_errcodes) f.push(HelloFeature.XERROR);
  if (o.enable_clustermap_notification) f.push(HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION);
  if (o.enable_unordered_execution) f.push(HelloFeature.UNORDERED_EXECUTION);
  if (o.enable_tracing) f.push(HelloFeature.TRACING);
  // Every mode but off asks: inflate_only so the server may answer compressed, the others to send so.
  if (o.compression !== 'off') f.push(HelloFeature.SNAPPY);
  if (o.enable_collections) f.push(HelloFeature.COLLECTIONS);
  return f;
}

/** The address family name resolution may pick (ipv6=disabled: IPv4 only; only: IPv6 only). */
export function addressFamily(o: ConnOptions): 0 | 4 | 6 {
  return o.ipv6 === 'disabled' ? 4 : o.ipv6 === 'only' ? 6 : 0;
}

/** The mechanisms to try, strongest first; PLAIN only over TLS unless forced. */
export function saslMechanisms(spec: ConnSpec): SaslMech[] {
  const o = spec.options;
  if (o.sasl_mech_force) return [o.sasl_mech_force];
  if (spec.tls) return ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1', 'PLAIN'];
  return ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1'];
}

export function connectionSettings(spec: ConnSpec, auth: HttpAuth, tlsOptions: tls.ConnectionOptions | null): ConnectionSettings {
  const o = spec.options;
  return {
    tls: tlsOptions,
    bucket: o.select_bucket ? spec.bucket : null,
    username: auth.username,
    password: auth.password,
    saslMechs: saslMechanisms(spec),
    features: helloFeatures(o),
    agent: o.client_string ? `${AGENT} ${o.client_string}` : AGENT,
    connectTimeoutMs: secondsToMs(o.config_node_timeout),
    fetchErrorMap: o.enable_errmap,
    tcpNoDelay: o.tcp_nodelay,
    tcpKeepAlive: o.tcp_keepalive,
    family: addressFamily(o),
  };
}

/** TLS material named by truststorepath / certpath / keypath, and ssl=no_verify. */
export function buildTlsOptions(spec: ConnSpec): tls.ConnectionOptions {
  const o = spec.options;
  const out: tls.ConnectionOptions = {};
  const read = (p: string, what: string): Buffer => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new ArgumentError(`cannot read ${what} "${p}": ${(err as Error).message}`);
    }
  };
  if (o.truststorepath) out.ca = read(o.truststorepath, 'truststorepath');
  if (o.certpath) {
    if (o.keypath) {
      out.cert = read(o.certpath, 'certpath');
      out.key = read(o.keypath, 'keypath');
    } else if (!o.truststorepath) out.ca = read(o.certpath, 'certpath');
  }
  if (o.ssl === 'no_verify') out.rejectUnauthorized = false;
  return out;
}
