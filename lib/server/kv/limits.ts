// What one node's KV front end admits and buffers: frame sizes before and after authentication,
// the time a connection has to authenticate, the number of connections, and how much unsent
// output a connection (and all of them together) may hold before their requests stop being read.

/** kv_engine's max_packet_size: a frame (header and body) past it closes the connection. */
export const MAX_PACKET_BYTES = 30 * 1024 * 1024;

/**
 * kv_engine's limit for a frame from a connection that has not authenticated: enough for HELLO and
 * SASL, too little for a peer to make the server hold megabytes it will never be allowed to use.
 */
export const MAX_UNAUTHENTICATED_FRAME_BYTES = 16 * 1024;

/** A connection's unsent output is always allowed to reach this, whatever the others hold. */
export const OUTPUT_FLOOR_BYTES = 64 * 1024;

export interface KvLimits {
  /**
   * Connections one node holds at once. Past it a new connection is accepted and closed at once
   * (Couchbase Server's "disconnect" policy) and counted in STAT `rejected_conns`. Default 60,000,
   * Couchbase Server's.
   */
  maxConnections: number;
  /** How long a connection may stay unauthenticated before it is closed, ms (default 30,000). */
  authTimeoutMs: number;
  /** Unsent answers one connection may hold before its requests stop being read (default 4 MiB). */
  connectionOutputBytes: number;
  /**
   * Unsent answers of all of a node's connections together. Past it, each connection may hold only
   * 64 KiB more: clients that read their answers keep being served, and those that do not stop
   * being read (default 128 MiB).
   */
  totalOutputBytes: number;
  /** Range scans one node keeps open per bucket; past it RANGE_SCAN_CREATE answers EBUSY (default 1,024). */
  maxRangeScans: number;
  /** How long a range scan lives after it was created, ms: kv_engine's range_scan_max_lifetime (default 60,000). */
  rangeScanLifetimeMs: number;
}

export const DEFAULT_KV_LIMITS: Readonly<KvLimits> = Object.freeze({
  maxConnections: 60_000,
  authTimeoutMs: 30_000,
  connectionOutputBytes: 4 * 1024 * 1024,
  totalOutputBytes: 128 * 1024 * 1024,
  maxRangeScans: 1024,
  rangeScanLifetimeMs: 60_000,
});

/** The limits with `given` over the defaults; throws a TypeError naming a value that is not a positive number. */
export function kvLimits(given: Partial<KvLimits> = {}): KvLimits {
  const out = { ...DEFAULT_KV_LIMITS };
  for (const name of Object.keys(DEFAULT_KV_LIMITS) as Array<keyof KvLimits>) {
    const v = given[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`kvLimits.${name} must be a positive number, got ${String(v)}`);
    out[name] = v;
  }
  return out;
}
