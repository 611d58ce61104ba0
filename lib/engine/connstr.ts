// Connection strings as libcouchbase 2.x (under the Python SDK 2.x) parses them:
//   couchbase://h1,h2:11210,[::1]:11210=mcd/bucket?operation_timeout=2.5
//   couchbases://h1/bucket?certpath=/path/ca.pem           (TLS; or couchbase://h1?ssl=on)
//   couchbase+dnssrv://cluster.example.com/bucket          (seeds from DNS SRV)
//   http://h1:8091,h2:8091/bucket                           (HTTP bootstrap ports)
//   h1:8091,h2/bucket                                       (no scheme: ports are HTTP ports)
// Timeouts take Go-style durations anywhere ("2.5s", "5ms3us"); a bare number is seconds for
// libcouchbase's option names and milliseconds for the SDK 3 names (kv_timeout, ...), as each
// reads it. Every option is acted on: one the engine cannot honour is refused, by name.
import { ArgumentError } from './errors';

export type Scheme = 'couchbase' | 'couchbases' | 'http';
/** Which protocol a host's port speaks: memcached (KV, CCCP bootstrap) or HTTP (REST bootstrap). */
export type PortMode = 'kv' | 'http';

export interface HostSpec {
  host: string;
  /** 0 when the string gave no port (the scheme's default applies). */
  port: number;
  mode: PortMode;
  /** The string pinned the port or its type: no implicit DNS SRV lookup for this host. */
  explicit?: boolean;
}

export type BootstrapOn = 'all' | 'both' | 'cccp' | 'http' | 'none';
export type SaslMech = 'PLAIN' | 'SCRAM-SHA1' | 'SCRAM-SHA256' | 'SCRAM-SHA512';
export type CompressionMode = 'on' | 'off' | 'inflate_only' | 'deflate_only' | 'force';
export type Ipv6Policy = 'disabled' | 'allow' | 'only';

/** Every option the connection string (or the options object) accepts, typed. */
export interface ConnOptions {
  // Timeouts, seconds (floats) as libcouchbase takes them.
  operation_timeout: number;
  views_timeout: number;
  /** Management requests (design documents, index DDL, flush): libcouchbase's http_timeout. */
  http_timeout: number;
  n1ql_timeout: number;
  durability_timeout: number;
  durability_interval: number;
  config_total_timeout: number;
  config_node_timeout: number;
  config_poll_interval: number;
  /** How often a map that came over HTTP (no CCCP) is fetched again. */
  http_poll_interval: number;
  config_delay_throttle: number;
  retry_backoff: number;
  /** How long the DNS SRV lookup of the seed host may take before bootstrap uses the host itself. */
  dns_srv_timeout: number;
  // Bootstrap / auth / TLS
  bootstrap_on: BootstrapOn;
  sasl_mech_force: SaslMech | undefined;
  certpath: string | undefined;
  truststorepath: string | undefined;
  keypath: string | undefined;
  /** `no_verify` accepts any server certificate (tests only). */
  ssl: 'on' | 'off' | 'no_verify';
  username: string | undefined;
  password: string | undefined;
  client_string: string | undefined;
  /** Addresses to use: `auto` (guess from the seed host), `default` (the nodes' own), `external`, ... */
  network: string;
  /** Look the single seed host up as a DNS SRV name first (when it has no port). */
  enable_dns_srv: boolean;
  /** Which address families name resolution may give: IPv4 only, both, or IPv6 only. */
  ipv6: Ipv6Policy;
  // Features
  detailed_errcodes: boolean;
  enable_errmap: boolean;
  fetch_mutation_tokens: boolean;
  dur_mutation_tokens: boolean;
  enable_clustermap_notification: boolean;
  enable_unordered_execution: boolean;
  /** Negotiate collections (HELLO): needed by bucket.collection(); false keeps keys unprefixed (servers before 7.0). */
  enable_collections: boolean;
  /**
   * libcouchbase's threshold logging tracer: operations over their service's threshold and
   * orphaned responses reported every flush interval (DEBUG=deferbase:tracing), and the server's
   * receive-to-send duration asked on every response (HELLO TRACING; DEBUG=deferbase:trace).
   * Giving any tracing_* option turns it on.
   */
  enable_tracing: boolean;
  /** Seconds an operation of each service may take before the tracer reports it. */
  tracing_threshold_kv: number;
  tracing_threshold_n1ql: number;
  tracing_threshold_view: number;
  tracing_threshold_fts: number;
  tracing_threshold_analytics: number;
  /** How many of the slowest operations each report keeps, and how often (seconds) it is made. */
  tracing_threshold_queue_size: number;
  tracing_threshold_queue_flush_interval: number;
  tracing_orphaned_queue_size: number;
  tracing_orphaned_queue_flush_interval: number;
  /** Wrap user data (keys, view paths) in <ud>...</ud> in the engine's log lines. */
  log_redaction: boolean;
  select_bucket: boolean;
  tcp_nodelay: boolean;
  tcp_keepalive: boolean;
  randomize_nodes: boolean;
  /** Snappy: negotiate it and inflate what comes compressed; `on`/`deflate_only`/`force` also compress. */
  compression: CompressionMode;
  /**
   * Values smaller than this (bytes) are sent as they are. 1 KiB here, where libcouchbase says
   * 32: a call into the Snappy codec costs a few microseconds from JavaScript, more than a small
   * value saves (a 78-byte document: 3.7 us of client CPU per upsert instead of 2.1).
   */
  compression_min_size: number;
  /** A compressed value is sent only if it is at most this fraction of the original. */
  compression_min_ratio: number;
  retry_nmv_imm: boolean;
  /** Python's Bucket quiet: a missing key gives a result with success false instead of NotFoundError. */
  quiet: boolean;
}

export const DEFAULT_OPTIONS: Readonly<ConnOptions> = Object.freeze({
  operation_timeout: 2.5,
  views_timeout: 75,
  http_timeout: 75,
  n1ql_timeout: 75,
  durability_timeout: 5,
  durability_interval: 0.1,
  config_total_timeout: 5,
  config_node_timeout: 2,
  config_poll_interval: 2.5,
  http_poll_interval: 10,
  config_delay_throttle: 0.01,
  retry_backoff: 0.05,
  dns_srv_timeout: 0.5,
  bootstrap_on: 'all',
  sasl_mech_force: undefined,
  certpath: undefined,
  truststorepath: undefined,
  keypath: undefined,
  ssl: 'off',
  username: undefined,
  password: undefined,
  client_string: undefined,
  network: 'auto',
  enable_dns_srv: true,
  ipv6: 'allow',
  detailed_errcodes: true,
  enable_errmap: true,
  fetch_mutation_tokens: false,
  dur_mutation_tokens: true,
  enable_clustermap_notification: true,
  enable_unordered_execution: false,
  enable_collections: true,
  enable_tracing: false,
  // libcouchbase 2.10's defaults
  tracing_threshold_kv: 0.5,
  tracing_threshold_n1ql: 1,
  tracing_threshold_view: 1,
  tracing_threshold_fts: 1,
  tracing_threshold_analytics: 1,
  tracing_threshold_queue_size: 128,
  tracing_threshold_queue_flush_interval: 10,
  tracing_orphaned_queue_size: 128,
  tracing_orphaned_queue_flush_interval: 10,
  log_redaction: false,
  select_bucket: true,
  tcp_nodelay: true,
  tcp_keepalive: true,
  randomize_nodes: false,
  compression: 'on',
  compression_min_size: 1024,
  compression_min_ratio: 0.83,
  retry_nmv_imm: true,
  quiet: false,
} satisfies ConnOptions);

type Kind =
  | { t: 'duration'; unit: 's' | 'ms' }
  | { t: 'bool' }
  | { t: 'int'; min: number }
  | { t: 'ratio' }
  | { t: 'string'; pattern?: RegExp; what?: string }
  | { t: 'enum'; values: readonly string[] };

const SECONDS: Kind = { t: 'duration', unit: 's' };
const MILLIS: Kind = { t: 'duration', unit: 'ms' };
const BOOL: Kind = { t: 'bool' };
const STRING: Kind = { t: 'string' };

// One row per option: how its text is read.
const OPTION_KINDS: { [K in keyof ConnOptions]: Kind } = {
  operation_timeout: SECONDS,
  views_timeout: SECONDS,
  http_timeout: SECONDS,
  n1ql_timeout: SECONDS,
  durability_timeout: SECONDS,
  durability_interval: SECONDS,
  config_total_timeout: SECONDS,
  config_node_timeout: SECONDS,
  config_poll_interval: SECONDS,
  http_poll_interval: SECONDS,
  config_delay_throttle: SECONDS,
  retry_backoff: SECONDS,
  dns_srv_timeout: MILLIS,
  bootstrap_on: { t: 'enum', values: ['all', 'both', 'cccp', 'http', 'none'] },
  sasl_mech_force: { t: 'enum', values: ['PLAIN', 'SCRAM-SHA1', 'SCRAM-SHA256', 'SCRAM-SHA512'] },
  certpath: STRING,
  truststorepath: STRING,
  keypath: STRING,
  ssl: { t: 'enum', values: ['on', 'off', 'no_verify'] },
  username: STRING,
  password: STRING,
  client_string: STRING,
  network: { t: 'string', pattern: /^[A-Za-z0-9_.-]+$/, what: 'auto, default, external or the name of another alternate-address network' },
  enable_dns_srv: BOOL,
  ipv6: { t: 'enum', values: ['disabled', 'allow', 'only'] },
  detailed_errcodes: BOOL,
  enable_errmap: BOOL,
  fetch_mutation_tokens: BOOL,
  dur_mutation_tokens: BOOL,
  enable_clustermap_notification: BOOL,
  enable_unordered_execution: BOOL,
  enable_collections: BOOL,
  enable_tracing: BOOL,
  tracing_threshold_kv: SECONDS,
  tracing_threshold_n1ql: SECONDS,
  tracing_threshold_view: SECONDS,
  tracing_threshold_fts: SECONDS,
  tracing_threshold_analytics: SECONDS,
  tracing_threshold_queue_size: { t: 'int', min: 0 },
  tracing_threshold_queue_flush_interval: SECONDS,
  tracing_orphaned_queue_size: { t: 'int', min: 0 },
  tracing_orphaned_queue_flush_interval: SECONDS,
  log_redaction: BOOL,
  select_bucket: BOOL,
  tcp_nodelay: BOOL,
  tcp_keepalive: BOOL,
  randomize_nodes: BOOL,
  compression: { t: 'enum', values: ['on', 'off', 'inflate_only', 'deflate_only', 'force'] },
  compression_min_size: { t: 'int', min: 0 },
  compression_min_ratio: { t: 'ratio' },
  retry_nmv_imm: BOOL,
  quiet: BOOL,
};

/**
 * Other names for the options above: libcouchbase's own synonyms, and the SDK 3 names (their
 * bare numbers are milliseconds: `kind` says how the value is read when it differs).
 */
const ALIASES: Record<string, { to: keyof ConnOptions; kind?: Kind; map?: Record<string, string> }> = {
  timeout: { to: 'operation_timeout' },
  dnssrv: { to: 'enable_dns_srv' },
  dns_srv: { to: 'enable_dns_srv' },
  unordered_execution: { to: 'enable_unordered_execution' },
  user: { to: 'username' },
  pass: { to: 'password' },
  truststore: { to: 'truststorepath' },
  cacert: { to: 'certpath' },
  // SDK 3 (couchbase-cxx-client's connection string)
  kv_timeout: { to: 'operation_timeout', kind: MILLIS },
  kv_durable_timeout: { to: 'durability_timeout', kind: MILLIS },
  query_timeout: { to: 'n1ql_timeout', kind: MILLIS },
  view_timeout: { to: 'views_timeout', kind: MILLIS },
  management_timeout: { to: 'http_timeout', kind: MILLIS },
  connect_timeout: { to: 'config_node_timeout', kind: MILLIS },
  bootstrap_timeout: { to: 'config_total_timeout', kind: MILLIS },
  config_poll_floor: { to: 'config_delay_throttle', kind: MILLIS },
  enable_mutation_tokens: { to: 'fetch_mutation_tokens' },
  enable_tcp_keep_alive: { to: 'tcp_keepalive' },
  randomize_bootstrap_nodes: { to: 'randomize_nodes' },
  user_agent_extra: { to: 'client_string' },
  trust_certificate: { to: 'certpath' },
  enable_compression: { to: 'compression', kind: BOOL, map: { true: 'on', false: 'off' } },
  tls_verify: { to: 'ssl', kind: { t: 'enum', values: ['peer', 'none'] }, map: { peer: 'on', none: 'no_verify' } },
  ip_protocol: { to: 'ipv6', kind: { t: 'enum', values: ['any', 'force_ipv4', 'force_ipv6'] }, map: { any: 'allow', force_ipv4: 'disabled', force_ipv6: 'only' } },
};

/**
 * Options libcouchbase (or an SDK 3) knows but this engine does not act on, with why. Refused
 * rather than accepted and ignored; a value that asks for what the engine does anyway is fine.
 */
const NOT_ACTED: Record<string, { why: string; honoured?: string[] }> = {
  error_thresh_count: { why: 'the engine refreshes the map on every failure hint (NOT_MY_VBUCKET, lost connections) instead of counting errors' },
  error_thresh_delay: { why: 'the engine refreshes the map on every failure hint instead of counting errors' },
  config_cache: { why: 'the engine keeps no config cache file' },
  config_cache_ro: { why: 'the engine keeps no config cache file' },
  http_urlmode: { why: 'the engine fetches maps from /pools/default/b/<bucket> only' },
  console_log_file: { why: 'logging goes through the debug module: set DEBUG=deferbase:*' },
  console_log_level: { why: 'logging goes through the debug module: set DEBUG=deferbase:*', honoured: ['0'] },
  dump_configuration: { why: 'logging goes through the debug module: set DEBUG=deferbase:*' },
  unsafe_optimize: { why: 'the engine has no unsafe optimisations', honoured: ['false'] },
  wait_for_config: { why: 'connect() always waits for the cluster map', honoured: ['true'] },
  allow_static_config: { why: 'the engine always takes its map from the cluster' },
  retry_policy: { why: 'retries follow the error map and operation_timeout' },
  retry_nmv_delay: { why: 'NOT_MY_VBUCKET retries back off by retry_backoff' },
  vb_noguess: { why: 'the engine never guesses a vBucket owner: it fetches the map', honoured: ['true'] },
  vb_noremap: { why: 'the engine never remaps vBuckets itself', honoured: ['true'] },
  send_hello: { why: 'the engine always negotiates features with HELLO', honoured: ['true'] },
  enable_durable_write: { why: 'durability is persistTo/replicateTo (observe-based)', honoured: ['false'] },
  sync_dtor: { why: 'close() is asynchronous' },
  readj_ts_wait: { why: 'timeouts run from the call' },
  http_poolsize: { why: 'HTTP connections are pooled by Node agents' },
  http_pool_timeout: { why: 'HTTP connections are pooled by Node agents' },
  read_chunk_size: { why: 'sockets are read by Node' },
  metrics: { why: 'the engine keeps no metrics', honoured: ['false'] },
  bucket_cred: { why: 'give username and password' },
  vbguess_persist: { why: 'the engine never guesses a vBucket owner' },
  persistence_timeout_floor: { why: 'durability waits for durability_timeout' },
  enable_tls: { why: 'use couchbases:// (or ssl=on) for TLS' },
  show_queries: { why: 'the engine does not log query text' },
  enable_metrics: { why: 'the engine keeps no metrics', honoured: ['false'] },
};

/** Option names a connection string may carry (aliases included). */
export function knownOptionNames(): string[] {
  return [...Object.keys(OPTION_KINDS), ...Object.keys(ALIASES)].sort();
}

export interface ConnSpec {
  scheme: Scheme;
  tls: boolean;
  /** couchbase+dnssrv:// (couchbases+dnssrv://): the one host is a DNS SRV name. */
  dnssrv: boolean;
  hosts: HostSpec[];
  bucket: string;
  options: ConnOptions;
  /** The string as given (password removed). */
  display: string;
}

/** Input accepted for options passed beside the string: typed values or their string spellings. */
export type ConnOptionsInput = { [K in keyof ConnOptions]?: ConnOptions[K] | string } & Record<string, unknown>;

export const DEFAULT_KV_PORT = 11210;
export const DEFAULT_KV_TLS_PORT = 11207;
export const DEFAULT_HTTP_PORT = 8091;
export const DEFAULT_HTTP_TLS_PORT = 18091;

interface SchemeInfo {
  scheme: Scheme;
  tls: boolean;
  dnssrv: boolean;
  /** A bare port in the host list is of this type (libcouchbase's "implicit port"). */
  implicit: PortMode;
}

const SCHEMES: Record<string, SchemeInfo> = {
  couchbase: { scheme: 'couchbase', tls: false, dnssrv: false, implicit: 'kv' },
  couchbases: { scheme: 'couchbases', tls: true, dnssrv: false, implicit: 'kv' },
  'couchbase+dnssrv': { scheme: 'couchbase', tls: false, dnssrv: true, implicit: 'kv' },
  'couchbases+dnssrv': { scheme: 'couchbases', tls: true, dnssrv: true, implicit: 'kv' },
  http: { scheme: 'http', tls: false, dnssrv: false, implicit: 'http' },
};

/** Port types a host may carry ("host:port=mcd"): what they speak and whether they need TLS. */
const PORT_TYPES: Record<string, { mode: PortMode; tls: boolean }> = {
  mcd: { mode: 'kv', tls: false },
  cccp: { mode: 'kv', tls: false },
  gcccp: { mode: 'kv', tls: false },
  mcds: { mode: 'kv', tls: true },
  http: { mode: 'http', tls: false },
  https: { mode: 'http', tls: true },
};

/**
 * Parses a connection string; `overrides` (the options object beside it) win over the string's
 * query parameters. Throws ArgumentError naming the part that is wrong and what is accepted.
 */
export function parseConnstr(input: string, overrides: ConnOptionsInput = {}): ConnSpec {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ArgumentError('connection string must be a non-empty string like "couchbase://host/bucket"');
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(input);
  let info: SchemeInfo;
  let rest: string;
  if (!m) {
    if (input.includes('://')) throw new ArgumentError(`malformed scheme in connection string "${input}"`);
    // Like libcouchbase: a bare host list bootstraps as couchbase://, its bare ports being HTTP ports.
    info = { scheme: 'couchbase', tls: false, dnssrv: false, implicit: 'http' };
    rest = input;
  } else {
    const found = SCHEMES[m[1].toLowerCase()];
    if (found === undefined) {
      throw new ArgumentError(`unknown scheme "${m[1]}://" in connection string; use ${Object.keys(SCHEMES).map((s) => `${s}://`).join(', ')}`);
    }
    info = found;
    rest = m[2];
  }

  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let hostPart = rest;
  let bucket = '';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    hostPart = rest.slice(0, slash);
    const b = rest.slice(slash + 1);
    if (b.includes('/')) throw new ArgumentError(`bucket part "${b}" of the connection string must not contain "/"`);
    try {
      bucket = decodeURIComponent(b);
    } catch {
      throw new ArgumentError(`bucket part "${b}" of the connection string is not valid percent-encoding`);
    }
  }

  const options: ConnOptions = { ...DEFAULT_OPTIONS };
  const given = new Set<string>();
  if (info.tls) options.ssl = 'on';
  if (query.length > 0) {
    for (const pair of query.split('&')) {
      if (pair.length === 0) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ArgumentError(`option "${pair}" in the connection string needs the form name=value`);
      let name: string;
      let value: string;
      try {
        name = decodeURIComponent(pair.slice(0, eq));
        value = decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
      } catch {
        throw new ArgumentError(`option "${pair}" in the connection string is not valid percent-encoding`);
      }
      if (value.length === 0) throw new ArgumentError(`option "${name}" in the connection string has an empty value; give one or leave the option out`);
      given.add(setOption(options, name, value, 'connection string'));
    }
  }
  for (const name of Object.keys(overrides)) {
    const v = overrides[name];
    if (v === undefined) continue;
    given.add(setOption(options, name, v, 'options'));
  }
  if (info.tls && options.ssl === 'off') throw new ArgumentError(`ssl=off contradicts the ${info.scheme}:// scheme; use couchbase:// for plain TCP`);
  if (info.dnssrv && given.has('enable_dns_srv') && !options.enable_dns_srv) {
    throw new ArgumentError('dnssrv=false contradicts the +dnssrv scheme; drop one of them');
  }
  // libcouchbase: ssl=on (or no_verify) on couchbase:// turns TLS on too.
  const tls = options.ssl !== 'off';
  if (!tls && (options.certpath || options.truststorepath || options.keypath)) {
    throw new ArgumentError('certpath/truststorepath/keypath only apply to TLS: use couchbases:// (or add ssl=on)');
  }
  if (options.keypath && !options.certpath) throw new ArgumentError('keypath needs certpath (the client certificate it belongs to)');
  const hosts = parseHosts(hostPart, info, tls);
  if (info.dnssrv) {
    if (hosts.length !== 1) throw new ArgumentError(`${m![1]}:// takes exactly one host (the DNS SRV name), got ${hosts.length}`);
    if (hosts[0].explicit) throw new ArgumentError(`${m![1]}:// takes a DNS SRV name without a port: "${hostPart}"`);
  }
  const scheme: Scheme = info.scheme === 'couchbase' && tls ? 'couchbases' : info.scheme;
  return { scheme, tls, dnssrv: info.dnssrv, hosts, bucket: bucket || 'default', options, display: redact(input) };
}

function redact(s: string): string {
  return s.replace(/([?&](?:password|pass)=)[^&]*/gi, '$1***');
}

function parseHosts(part: string, info: SchemeInfo, tls: boolean): HostSpec[] {
  if (part.length === 0) return [{ host: '127.0.0.1', port: 0, mode: info.scheme === 'http' ? 'http' : 'kv' }];
  const implicitPort = info.implicit === 'http' ? (tls ? DEFAULT_HTTP_TLS_PORT : DEFAULT_HTTP_PORT) : tls ? DEFAULT_KV_TLS_PORT : DEFAULT_KV_PORT;
  const out: HostSpec[] = [];
  for (const raw of part.split(/[,;]/)) {
    const entry = raw.trim();
    if (entry.length === 0) throw new ArgumentError(`empty host in host list "${part}" of the connection string`);
    if (entry.includes('@')) throw new ArgumentError(`host "${entry}": put credentials in the username/password options, not in the host list`);
    let host: string;
    let tail: string;
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']');
      if (close < 0) throw new ArgumentError(`host "${entry}": IPv6 address is missing its closing "]"`);
      host = entry.slice(1, close);
      if (!/^[0-9a-fA-F:.]+$/.test(host)) throw new ArgumentError(`host "${entry}": "${host}" is not an IPv6 address`);
      tail = entry.slice(close + 1);
      if (tail.length > 0 && tail[0] !== ':' && tail[0] !== '=') throw new ArgumentError(`host "${entry}": expected ":port" after "]"`);
      if (tail[0] === ':') tail = tail.slice(1);
    } else {
      const colon = entry.indexOf(':');
      if (colon >= 0 && entry.indexOf(':', colon + 1) >= 0) {
        throw new ArgumentError(`host "${entry}": write IPv6 addresses in brackets, e.g. [::1]:11210`);
      }
      const eq = entry.indexOf('=');
      const end = colon >= 0 ? colon : eq >= 0 ? eq : entry.length;
      host = entry.slice(0, end);
      tail = entry.slice(colon >= 0 ? colon + 1 : end);
      if (!/^[A-Za-z0-9._-]+$/.test(host)) throw new ArgumentError(`host "${entry}": "${host}" is not a valid host name`);
    }
    // tail: "", "port", "port=type" or "=type" (a type without a port: that type's default port).
    const eq = tail.indexOf('=');
    const portText = eq >= 0 ? tail.slice(0, eq) : tail;
    const typeText = eq >= 0 ? tail.slice(eq + 1).toLowerCase() : '';
    let port = 0;
    if (portText.length > 0) {
      if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
        throw new ArgumentError(`host "${entry}": port "${portText}" must be a number from 1 to 65535`);
      }
      port = Number(portText);
    }
    if (eq >= 0) {
      const type = PORT_TYPES[typeText];
      if (type === undefined) {
        const hint = typeText === 'mccompat' ? ' (memcached-compatible ports are not supported)' : '';
        throw new ArgumentError(`host "${entry}": unknown port type "=${typeText}"${hint}; use ${Object.keys(PORT_TYPES).map((t) => `=${t}`).join(', ')}`);
      }
      if (type.tls && !tls) throw new ArgumentError(`host "${entry}": port type =${typeText} is a TLS port; use couchbases:// (or ssl=on)`);
      if (info.scheme === 'http' && type.mode === 'kv') throw new ArgumentError(`host "${entry}": http:// connection strings list HTTP ports only`);
      out.push({ host, port, mode: type.mode, explicit: true });
      continue;
    }
    if (port === 0 || port === implicitPort || (info.implicit === 'kv' && port === (tls ? DEFAULT_HTTP_TLS_PORT : DEFAULT_HTTP_PORT))) {
      // The scheme's own port, or libcouchbase's "honest couchbase://host:8091 mistake": the host
      // is typeless and bootstraps on the default ports of both kinds.
      out.push({ host, port: port === implicitPort ? port : 0, mode: info.implicit });
      continue;
    }
    out.push({ host, port, mode: info.implicit, explicit: true });
  }
  return out;
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * Reads a duration as seconds: a Go-style duration ("2.5s", "1m30s", "5ms3us") or a bare number
 * in `unit`. Returns undefined when the text is neither.
 */
export function parseDuration(text: string, unit: 's' | 'ms'): number | undefined {
  const t = text.trim();
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return Number(t) * (unit === 'ms' ? 1e-3 : 1);
  if (t.length === 0) return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    at = re.lastIndex;
  }
  return at === t.length ? total : undefined;
}

function parseTimeout(name: string, v: unknown, where: string, unit: 's' | 'ms'): number {
  const what = unit === 's' ? 'seconds' : 'milliseconds';
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ArgumentError(`${where}: ${name}=${v} must be a non-negative number of ${what}`);
    return unit === 'ms' ? v / 1000 : v;
  }
  const s = typeof v === 'string' ? parseDuration(v, unit) : undefined;
  if (s === undefined) {
    throw new ArgumentError(`${where}: ${name}="${String(v)}" is not a duration; give ${what} like ${unit === 's' ? '2.5' : '2500'} or a duration like 2500ms, 2.5s, 1m30s`);
  }
  return s;
}

function parseBool(name: string, v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === 'on' || s === '1' || s === 'yes') return true;
    if (s === 'false' || s === 'off' || s === '0' || s === 'no') return false;
  }
  throw new ArgumentError(`${where}: ${name}=${String(v)} must be true or false`);
}

/** Reads `value` by `kind` (throws ArgumentError naming `name`). */
function readValue(kind: Kind, name: string, value: unknown, where: string): unknown {
  switch (kind.t) {
    case 'duration':
      return parseTimeout(name, value, where, kind.unit);
    case 'bool':
      return parseBool(name, value, where);
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isInteger(n) || n < kind.min) throw new ArgumentError(`${where}: ${name}=${String(value)} must be an integer >= ${kind.min}`);
      return n;
    }
    case 'ratio': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
      if (!(n >= 0 && n <= 1)) throw new ArgumentError(`${where}: ${name}=${String(value)} must be a number from 0 to 1`);
      return n;
    }
    case 'string':
      if (typeof value !== 'string') throw new ArgumentError(`${where}: ${name} must be a string`);
      if (kind.pattern && !kind.pattern.test(value)) throw new ArgumentError(`${where}: ${name}="${value}" must be ${kind.what}`);
      return value;
    case 'enum': {
      const s = typeof value === 'string' ? value : String(value);
      const found = kind.values.find((x) => x.toLowerCase() === s.toLowerCase());
      if (found === undefined) throw new ArgumentError(`${where}: ${name}="${s}" must be one of ${kind.values.join(', ')}`);
      return found;
    }
  }
}

/** Sets one option; returns the name of the option it set. */
function setOption(options: ConnOptions, rawName: string, value: unknown, where: string): keyof ConnOptions {
  const refused = NOT_ACTED[rawName];
  if (refused) {
    const text = typeof value === 'boolean' ? String(value) : String(value).toLowerCase();
    const asBool = text === 'on' || text === '1' ? 'true' : text === 'off' || text === '0' ? 'false' : text;
    if (!refused.honoured?.includes(text) && !refused.honoured?.includes(asBool)) {
      throw new ArgumentError(`${where}: option "${rawName}" is not supported by this client: ${refused.why}`);
    }
    return rawName as keyof ConnOptions;
  }
  const alias = ALIASES[rawName];
  const name = alias ? alias.to : (rawName as keyof ConnOptions);
  const kind = alias?.kind ?? OPTION_KINDS[name];
  if (!kind) {
    throw new ArgumentError(`${where}: unknown option "${rawName}"; known options are ${knownOptionNames().join(', ')}`);
  }
  let v = readValue(kind, rawName, value, where);
  if (alias?.map) v = alias.map[String(v)];
  (options as unknown as Record<string, unknown>)[name] = v;
  // As in libcouchbase, where tracing is on unless turned off: giving a tracing_* setting means
  // the threshold tracer should run.
  if (name.startsWith('tracing_')) options.enable_tracing = true;
  return name;
}

/** Seconds (libcouchbase unit) to whole milliseconds for timers. */
export function secondsToMs(s: number): number {
  return Math.max(1, Math.round(s * 1000));
}
