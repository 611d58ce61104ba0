// What the server's KV error map (GET_ERROR_MAP, fetched at HELLO time) says about a status the
// server answered with: whether to send the operation again and after how long, whether to ask
// for a newer map, whether the connection is spent, and — for a status the engine has no row for —
// which error class the caller gets. kv_engine's docs/ErrorMap.md defines the attributes.
import { ErrorAttribute, errorMapEntry, type ErrorMap, type ErrorMapEntry, type ErrorMapRetry } from '../../protocol/errormap';
import { Status, statusName } from '../../protocol/status';
import {
  AuthError,
  CouchbaseError,
  ErrorCode,
  InternalError,
  InvalidError,
  LockedError,
  NotSupportedError,
  QuotaLimitedError,
  RateLimitedError,
  TemporaryFailError,
  type ErrorClass,
} from '../errors';

/** What to do about one non-success status. */
export interface StatusPolicy {
  /** Send again (after retryDelayMs) while the operation's time lasts. */
  retry: boolean;
  /** Ask the cluster for a newer map. */
  fetchConfig: boolean;
  /** The connection is no good any more: close it, the node reconnects. */
  reconnect: boolean;
  /** The map's entry for the status, if it has one. */
  entry: ErrorMapEntry | undefined;
}

const NONE: StatusPolicy = Object.freeze({ retry: false, fetchConfig: false, reconnect: false, entry: undefined });

/**
 * The policy for `status`. Without an error map only the statuses every server means as "not
 * now" are retried (ETMPFAIL, EBUSY). A locked document is never retried: Python SDK 2.x code
 * expects to hear about the lock at once.
 */
export function policyFor(map: ErrorMap | null, status: number): StatusPolicy {
  const entry = map === null ? undefined : errorMapEntry(map, status);
  const always = status === Status.ETMPFAIL || status === Status.EBUSY;
  if (entry === undefined) return always ? RETRY_ONLY : status === Status.AUTH_STALE ? RECONNECT_RETRY : NONE;
  const has = (a: string): boolean => entry.attrs.includes(a);
  const locked = has(ErrorAttribute.ITEM_LOCKED) || status === Status.LOCKED;
  const stale = status === Status.AUTH_STALE;
  return {
    retry: !locked && (always || stale || has(ErrorAttribute.RETRY_NOW) || has(ErrorAttribute.RETRY_LATER) || has(ErrorAttribute.AUTO_RETRY)),
    fetchConfig: has(ErrorAttribute.FETCH_CONFIG),
    reconnect: stale || has(ErrorAttribute.CONN_STATE_INVALIDATED),
    entry,
  };
}

const RETRY_ONLY: StatusPolicy = Object.freeze({ retry: true, fetchConfig: false, reconnect: false, entry: undefined });
const RECONNECT_RETRY: StatusPolicy = Object.freeze({ retry: true, fetchConfig: false, reconnect: true, entry: undefined });

/** Without a retry spec: couchbase-cxx-client's controlled backoff, 1 ms growing to 1 s. */
const BACKOFF_MS = [1, 10, 50, 100, 500, 1000];

/**
 * Milliseconds before retry number `n` (1 = the first) of a status whose entry carries `spec`
 * (error map version 2), or the default backoff.
 */
export function retryDelayMs(spec: ErrorMapRetry | undefined, n: number): number {
  if (spec === undefined) return BACKOFF_MS[Math.min(n, BACKOFF_MS.length) - 1];
  if (n === 1 && spec.after > 0) return spec.after;
  const interval = Math.max(1, spec.interval);
  const k = spec.after > 0 ? n - 1 : n;
  let d: number;
  if (spec.strategy === 'linear') d = interval * k;
  else if (spec.strategy === 'exponential') d = interval * 2 ** Math.min(20, k - 1);
  else d = interval;
  return spec.ceil !== undefined && spec.ceil > 0 ? Math.min(d, spec.ceil) : d;
}

/** How long retries of `spec` may go on (ms) before the status is reported; Infinity without one. */
export function retryBudgetMs(spec: ErrorMapRetry | undefined): number {
  return spec !== undefined && spec['max-duration'] > 0 ? spec['max-duration'] : Infinity;
}

// The class the attributes give a status the engine has no row for, strongest attribute first.
const BY_ATTRIBUTE: Array<[string, ErrorClass]> = [
  [ErrorAttribute.ITEM_LOCKED, LockedError],
  [ErrorAttribute.RATE_LIMIT, RateLimitedError],
  [ErrorAttribute.SYSTEM_CONSTRAINT, QuotaLimitedError],
  [ErrorAttribute.AUTH, AuthError],
  [ErrorAttribute.TEMP, TemporaryFailError],
  [ErrorAttribute.INVALID_INPUT, InvalidError],
  [ErrorAttribute.SUPPORT, NotSupportedError],
  [ErrorAttribute.INTERNAL, InternalError],
];

/**
 * `err` (what the status table made of `status`) refined by the map: a status the table does not
 * know gets the class its attributes say and the map's name and description in its message.
 */
export function refineByMap(err: CouchbaseError, status: number, entry: ErrorMapEntry | undefined): CouchbaseError {
  if (entry === undefined || err.rc !== ErrorCode.UNKNOWN_MEMCACHED_ERROR) return err;
  const found = BY_ATTRIBUTE.find(([attr]) => entry.attrs.includes(attr));
  const cls = found ? found[1] : CouchbaseError;
  const hex = '0x' + status.toString(16).padStart(2, '0');
  const where = err.key !== undefined ? ` (key "${err.key}")` : '';
  const detail = err.context ? `: ${err.context}` : '';
  const refined = new cls(`the server answered ${entry.name}: ${entry.desc}${where}${detail} [status ${hex}]`, {
    key: err.key,
    status,
    context: err.context,
    ref: err.ref,
  });
  if (cls === CouchbaseError) refined.rc = ErrorCode.UNKNOWN_MEMCACHED_ERROR;
  return refined;
}

/** The status as the map (or the protocol's table) names it, for messages. */
export function statusLabel(entry: ErrorMapEntry | undefined, status: number): string {
  return `${entry ? entry.name : statusName(status)} (0x${status.toString(16).padStart(2, '0')})`;
}
