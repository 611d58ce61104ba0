// Connection strings as libcouchbase 2.x / the Python SDK 2.x parse them:
//   couchbase://h1,h2:11210,[::1]:11210=mcd/bucket?operation_timeout=2.5
//   couchbases://h1/bucket?certpath=/path/ca.pem           (TLS)
//   http://h1:8091,h2:8091/bucket                           (HTTP bootstrap ports)
// Durations are seconds as floats, the unit libcouchbase takes.
import { ArgumentError } from './errors';

export type Scheme = 'couchbase' | 'couchbases' | 'http';
/** Which protocol a host's port speaks: memcached (KV, CCCP bootstrap) or HTTP (REST bootstrap). */
export type PortMode = 'kv' | 'http';

export interface HostSpec {
  host: string;
  /** 0 when the string gave no port (the scheme's default applies). */
  port: number;
  mode: PortMode;
}

export type BootstrapOn = 'all' | 'both' | 'cccp' | 'http' | 'none';
export type SaslMech = 'PLAIN' | 'SCRAM-SHA1' | 'SCRAM-SHA256' | 'SCRAM-SHA512';

/** Every option the connection string (or the options object) accepts, typed. */
export interface ConnOptions {
  // Timeouts, seconds (floats) as libcouchbase takes them.
  operation_timeout: number;
  views_timeout: number;
  n1ql_timeout: number;
  http_timeout: number;
  durability_timeout: number;
  durability_interval: number;
  config_total_timeout: number;
  config_node_timeout: number;
  config_poll_interval: number;
  http_poll_interval: number;
  config_delay_throttle: number;
  retry_backoff: number;
  error_thresh_delay: number;
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
  network: string | undefined;
  // Features
  enable_tracing: boolean;
  detailed_errcodes: boolean;
  enable_errmap: boolean;
  fetch_mutation_tokens: boolean;
  dur_mutation_tokens: boolean;
  enable_clustermap_notification: boolean;
  enable_unordered_execution: boolean;
  select_bucket: boolean;
  tcp_nodelay: boolean;
  tcp_keepalive: boolean;
  randomize_nodes: boolean;
  compression: 'off' | 'on' | 'inflate_only' | 'force';
  unsafe_optimize: boolean;
  log_redaction: boolean;
  vb_noguess: boolean;
  retry_nmv_imm: boolean;
  error_thresh_count: number;
  console_log_level: number;
  ipv6: 'disabled' | 'allow' | 'only';
  /** Python's Bucket quiet: a missing key gives a result with success false instead of NotFoundError. */
  quiet: boolean;
}

export const DEFAULT_OPTIONS: Readonly<ConnOptions> = Object.freeze({
  operation_timeout: 2.5,
  views_timeout: 75,
  n1ql_timeout: 75,
  http_timeout: 75,
  durability_timeout: 5,
  durability_interval: 0.1,
  config_total_timeout: 5,
  config_node_timeout: 2,
  config_poll_interval: 2.5,
  http_poll_interval: 10,
  config_delay_throttle: 0.01,
  retry_backoff: 0.05,
  error_thresh_delay: 10,
  bootstrap_on: 'all',
  sasl_mech_force: undefined,
  certpath: undefined,
  truststorepath: undefined,
  keypath: undefined,
  ssl: 'off',
  username: undefined,
  password: undefined,
  client_string: undefined,
  network: undefined,
  enable_tracing: false,
  detailed_errcodes: true,
  enable_errmap: true,
  fetch_mutation_tokens: false,
  dur_mutation_tokens: true,
  enable_clustermap_notification: true,
  enable_unordered_execution: false,
  select_bucket: true,
  tcp_nodelay: true,
  tcp_keepalive: true,
  randomize_nodes: false,
  compression: 'off',
  unsafe_optimize: false,
  log_redaction: false,
  vb_noguess: false,
  retry_nmv_imm: true,
  error_thresh_count: 10,
  console_log_level: 0,
  ipv6: 'disabled',
  quiet: false,
} satisfies ConnOptions);

type Kind =
  | { t: 'seconds' }
  | { t: 'bool' }
  | { t: 'int'; min: number }
  | { t: 'string' }
  | { t: 'enum'; values: readonly string[] };

const SECONDS: Kind = { t: 'seconds' };
const BOOL: Kind = { t: 'bool' };
const STRING: Kind = { t: 'string' };

// One row per option: how its text is read. Aliases map older spellings onto the same option.
const OPTION_KINDS: { [K in keyof ConnOptions]: Kind } = {
  operation_timeout: SECONDS,
  views_timeout: SECONDS,
  n1ql_timeout: SECONDS,
  http_timeout: SECONDS,
  durability_timeout: SECONDS,
  durability_interval: SECONDS,
  config_total_timeout: SECONDS,
  config_node_timeout: SECONDS,
  config_poll_interval: SECONDS,
  http_poll_interval: SECONDS,
  config_delay_throttle: SECONDS,
  retry_backoff: SECONDS,
  error_thresh_delay: SECONDS,
  bootstrap_on: { t: 'enum', values: ['all', 'both', 'cccp', 'http', 'none'] },
  sasl_mech_force: { t: 'enum', values: ['PLAIN', 'SCRAM-SHA1', 'SCRAM-SHA256', 'SCRAM-SHA512'] },
  certpath: STRING,
  truststorepath: STRING,
  keypath: STRING,
  ssl: { t: 'enum', values: ['on', 'off', 'no_verify'] },
  username: STRING,
  password: STRING,
  client_string: STRING,
  network: STRING,
  enable_tracing: BOOL,
  detailed_errcodes: BOOL,
  enable_errmap: BOOL,
  fetch_mutation_tokens: BOOL,
  dur_mutation_tokens: BOOL,
  enable_clustermap_notification: BOOL,
  enable_unordered_execution: BOOL,
  select_bucket: BOOL,
  tcp_nodelay: BOOL,
  tcp_keepalive: BOOL,
  randomize_nodes: BOOL,
  compression: { t: 'enum', values: ['off', 'on', 'inflate_only', 'force'] },
  unsafe_optimize: BOOL,
  log_redaction: BOOL,
  vb_noguess: BOOL,
  retry_nmv_imm: BOOL,
  error_thresh_count: { t: 'int', min: 0 },
  console_log_level: { t: 'int', min: 0 },
  ipv6: { t: 'enum', values: ['disabled', 'allow', 'only'] },
  quiet: BOOL,
};

const ALIASES: Record<string, keyof ConnOptions> = {
  timeout: 'operation_timeout',
  kv_timeout: 'operation_timeout',
  query_timeout: 'n1ql_timeout',
  view_timeout: 'views_timeout',
  management_timeout: 'http_timeout',
  bootstrap_timeout: 'config_total_timeout',
  enable_mutation_tokens: 'fetch_mutation_tokens',
  randomize_bootstrap_nodes: 'randomize_nodes',
  truststore: 'truststorepath',
  cacert: 'certpath',
  user: 'username',
};

// Python SDK 2.x / libcouchbase options that are accepted but have no effect in this client.
const IGNORED = new Set(['config_cache', 'config_cache_ro', 'http_urlmode', 'wait_for_config', 'allow_static_config', 'ipv6_fallback', 'console_log_file', 'enable_dns_srv', 'dns_srv', 'dump_configuration', 'unordered_execution']);

/** Option names a connection string may carry (aliases and accepted no-ops included). */
export function knownOptionNames(): string[] {
  return [...Object.keys(OPTION_KINDS), ...Object.keys(ALIASES), ...IGNORED].sort();
}

export interface ConnSpec {
  scheme: Scheme;
  tls: boolean;
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

/**
 * Parses a connection string; `overrides` (the options object beside it) win over the string's
 * query parameters. Throws ArgumentError naming the part that is wrong.
 */
export function parseConnstr(input: string, overrides: ConnOptionsInput = {}): ConnSpec {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ArgumentError('connection string must be a non-empty string like "couchbase://host/bucket"');
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(input);
  let scheme: Scheme;
  let rest: string;
  if (!m) {
    if (input.includes('://')) throw new ArgumentError(`malformed scheme in connection string "${input}"`);
    // Like libcouchbase: a bare host list means couchbase://
    scheme = 'couchbase';
    rest = input;
  } else {
    const s = m[1].toLowerCase();
    if (s !== 'couchbase' && s !== 'couchbases' && s !== 'http') {
      throw new ArgumentError(`unknown scheme "${m[1]}://" in connection string; use couchbase://, couchbases:// or http://`);
    }
    scheme = s;
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
  const tls = scheme === 'couchbases';
  const hosts = parseHosts(hostPart, scheme);

  const options: ConnOptions = { ...DEFAULT_OPTIONS };
  if (tls) options.ssl = 'on';
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
      setOption(options, name, value, 'connection string');
    }
  }
  for (const name of Object.keys(overrides)) {
    const v = overrides[name];
    if (v === undefined) continue;
    setOption(options, name, v, 'options');
  }
  if (tls && options.ssl === 'off') throw new ArgumentError('ssl=off contradicts the couchbases:// scheme; use couchbase:// for plain TCP');
  if (!tls && options.ssl !== 'off') {
    throw new ArgumentError(`ssl=${options.ssl} needs the couchbases:// scheme`);
  }
  if (!tls && (options.certpath || options.truststorepath)) {
    throw new ArgumentError('certpath/truststorepath only apply to couchbases:// (TLS) connection strings');
  }
  return { scheme, tls, hosts, bucket: bucket || 'default', options, display: redact(input) };
}

function redact(s: string): string {
  return s.replace(/([?&]password=)[^&]*/i, '$1***');
}

function parseHosts(part: string, scheme: Scheme): HostSpec[] {
  if (part.length === 0) return [{ host: '127.0.0.1', port: 0, mode: scheme === 'http' ? 'http' : 'kv' }];
  const out: HostSpec[] = [];
  for (const raw of part.split(/[,;]/)) {
    const entry = raw.trim();
    if (entry.length === 0) throw new ArgumentError(`empty host in host list "${part}" of the connection string`);
    if (entry.includes('@')) throw new ArgumentError(`host "${entry}": put credentials in the username/password options, not in the host list`);
    let host: string;
    let portText = '';
    let modeText = '';
    let tail: string;
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']');
      if (close < 0) throw new ArgumentError(`host "${entry}": IPv6 address is missing its closing "]"`);
      host = entry.slice(1, close);
      if (!/^[0-9a-fA-F:.]+$/.test(host)) throw new ArgumentError(`host "${entry}": "${host}" is not an IPv6 address`);
      tail = entry.slice(close + 1);
      if (tail.length > 0 && tail[0] !== ':') throw new ArgumentError(`host "${entry}": expected ":port" after "]"`);
      tail = tail.slice(1);
    } else {
      const colon = entry.indexOf(':');
      if (colon >= 0 && entry.indexOf(':', colon + 1) >= 0) {
        throw new ArgumentError(`host "${entry}": write IPv6 addresses in brackets, e.g. [::1]:11210`);
      }
      host = colon >= 0 ? entry.slice(0, colon) : entry;
      tail = colon >= 0 ? entry.slice(colon + 1) : '';
      if (!/^[A-Za-z0-9._-]+$/.test(host)) throw new ArgumentError(`host "${entry}": "${host}" is not a valid host name`);
    }
    if (tail.length > 0) {
      const eq = tail.indexOf('=');
      portText = eq >= 0 ? tail.slice(0, eq) : tail;
      modeText = eq >= 0 ? tail.slice(eq + 1).toLowerCase() : '';
    }
    let port = 0;
    if (portText.length > 0) {
      if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
        throw new ArgumentError(`host "${entry}": port "${portText}" must be a number from 1 to 65535`);
      }
      port = Number(portText);
    }
    let mode: PortMode;
    if (modeText === '') {
      if (scheme === 'http') mode = 'http';
      // libcouchbase: the well-known REST ports given without a mode are HTTP bootstrap ports.
      else mode = port === DEFAULT_HTTP_PORT || port === DEFAULT_HTTP_TLS_PORT ? 'http' : 'kv';
    } else if (modeText === 'mcd' || modeText === 'cccp' || modeText === 'gcccp') {
      mode = 'kv';
    } else if (modeText === 'http') {
      mode = 'http';
    } else {
      throw new ArgumentError(`host "${entry}": unknown port type "=${modeText}"; use =mcd (KV) or =http`);
    }
    if (scheme === 'http' && mode === 'kv') throw new ArgumentError(`host "${entry}": http:// connection strings list HTTP ports only`);
    out.push({ host, port, mode });
  }
  return out;
}

function parseSeconds(name: string, v: unknown, where: string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ArgumentError(`${where}: ${name}=${v} must be a non-negative number of seconds`);
    return v;
  }
  if (typeof v !== 'string') throw new ArgumentError(`${where}: ${name} must be a number of seconds`);
  // libcouchbase takes "2.5" (seconds); newer SDKs also write "2500ms" / "2.5s" / "100us".
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|m|h)?\s*$/.exec(v);
  if (!m) throw new ArgumentError(`${where}: ${name}="${v}" is not a duration; give seconds like 2.5 (or 2500ms)`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'us':
      return n / 1e6;
    case 'ms':
      return n / 1000;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    default:
      return n;
  }
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

function setOption(options: ConnOptions, rawName: string, value: unknown, where: string): void {
  const name = (ALIASES[rawName] ?? rawName) as keyof ConnOptions;
  if (IGNORED.has(rawName)) return;
  const kind = OPTION_KINDS[name];
  if (!kind) {
    throw new ArgumentError(`${where}: unknown option "${rawName}"; known options are ${Object.keys(OPTION_KINDS).join(', ')}`);
  }
  const target = options as unknown as Record<string, unknown>;
  switch (kind.t) {
    case 'seconds':
      target[name] = parseSeconds(rawName, value, where);
      return;
    case 'bool':
      target[name] = parseBool(rawName, value, where);
      return;
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isInteger(n) || n < kind.min) throw new ArgumentError(`${where}: ${rawName}=${String(value)} must be an integer >= ${kind.min}`);
      target[name] = n;
      return;
    }
    case 'string':
      if (typeof value !== 'string') throw new ArgumentError(`${where}: ${rawName} must be a string`);
      target[name] = value;
      return;
    case 'enum': {
      const s = typeof value === 'string' ? value : String(value);
      const found = kind.values.find((x) => x.toLowerCase() === s.toLowerCase());
      if (found === undefined) throw new ArgumentError(`${where}: ${rawName}="${s}" must be one of ${kind.values.join(', ')}`);
      target[name] = found;
      return;
    }
  }
}

/** Seconds (libcouchbase unit) to whole milliseconds for timers. */
export function secondsToMs(s: number): number {
  return Math.max(1, Math.round(s * 1000));
}
