// Typed errors, named after the Couchbase Python SDK 2.x (couchbase.exceptions). `rc` carries the
// libcouchbase 2.x error code the Python SDK exposes, `status` the memcached status when the
// server produced the error, `context`/`ref` the server's extended error text (XERROR).
import { Status } from '../protocol/status';

/** libcouchbase 2.x error codes, as `CouchbaseError.rc` reports them. */
export const ErrorCode = {
  SUCCESS: 0,
  AUTH_ERROR: 2,
  DELTA_BADVAL: 3,
  E2BIG: 4,
  EBUSY: 5,
  EINTERNAL: 6,
  EINVAL: 7,
  ENOMEM: 8,
  ERANGE: 9,
  ERROR: 10,
  ETMPFAIL: 11,
  KEY_EEXISTS: 12,
  KEY_ENOENT: 13,
  NETWORK_ERROR: 16,
  NOT_MY_VBUCKET: 17,
  NOT_STORED: 18,
  NOT_SUPPORTED: 19,
  UNKNOWN_COMMAND: 20,
  UNKNOWN_HOST: 21,
  PROTOCOL_ERROR: 22,
  ETIMEDOUT: 23,
  CONNECT_ERROR: 24,
  BUCKET_ENOENT: 25,
  CLIENT_ETMPFAIL: 27,
  EBADHANDLE: 28,
  INVALID_HOST_FORMAT: 31,
  DURABILITY_ETOOMANY: 33,
  NO_MATCHING_SERVER: 35,
  SASLMECH_UNAVAILABLE: 40,
  ECONNREFUSED: 44,
  ECONNRESET: 46,
  EMPTY_KEY: 53,
  SSL_ERROR: 54,
  CLIENT_FEATURE_UNAVAILABLE: 57,
  HTTP_ERROR: 59,
  DURABILITY_NO_MUTATION_TOKENS: 60,
  UNKNOWN_MEMCACHED_ERROR: 61,
  MUTATION_LOST: 62,
  QUERY_ERROR: 79,
  NOT_AUTHORIZED: 84,
  /** Not a libcouchbase code: the operation was cancelled by the caller or by close(). */
  CANCELLED: 0x4001,
  /** libcouchbase reports a locked key as a temporary failure; kept distinct for inspection. */
  KEY_LOCKED: 11,
} as const;

export interface ErrorInit {
  rc?: number;
  key?: string;
  status?: number;
  context?: string;
  ref?: string;
  cause?: unknown;
}

export class CouchbaseError extends Error {
  /** libcouchbase 2.x error code (see ErrorCode). */
  rc: number;
  /** The document key the failed operation was about, when there is one. */
  key: string | undefined;
  /** memcached status from the server, when the server answered. */
  status: number | undefined;
  /** Extended error context from the server (XERROR), e.g. "Requested resource is locked". */
  context: string | undefined;
  /** Extended error reference id from the server (XERROR), to look up in the server logs. */
  ref: string | undefined;
  /** For multi operations: every per-key result, failing or not. */
  allResults: unknown;

  static readonly defaultRc: number = ErrorCode.ERROR;

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.rc = init.rc ?? (new.target as typeof CouchbaseError).defaultRc;
    this.key = init.key;
    this.status = init.status;
    this.context = init.context;
    this.ref = init.ref;
    this.allResults = undefined;
    if (init.cause !== undefined) (this as { cause?: unknown }).cause = init.cause;
  }

  /** True for errors about the data (missing key, CAS mismatch...), not the transport. */
  get isData(): boolean {
    return false;
  }
  /** True for errors a retry later may cure. */
  get isTransient(): boolean {
    return false;
  }
  get isNetwork(): boolean {
    return false;
  }
}

// --- argument / client side ----------------------------------------------------------------
export class ArgumentError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}
export class ValueFormatError extends ArgumentError {}
export class NotSupportedError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NOT_SUPPORTED;
}
export class CancelledError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.CANCELLED;
}
export class ObjectDestroyedError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EBADHANDLE;
}

// --- data errors ---------------------------------------------------------------------------
export class NotFoundError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.KEY_ENOENT;
  override get isData(): boolean {
    return true;
  }
}
export class KeyExistsError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.KEY_EEXISTS;
  override get isData(): boolean {
    return true;
  }
}
export class NotStoredError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NOT_STORED;
  override get isData(): boolean {
    return true;
  }
}
export class DeltaBadvalError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DELTA_BADVAL;
  override get isData(): boolean {
    return true;
  }
}
export class TooBigError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.E2BIG;
  override get isData(): boolean {
    return true;
  }
}
export class CouchbaseRangeError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ERANGE;
}
export class InvalidError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}

// --- transient -----------------------------------------------------------------------------
export class TemporaryFailError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ETMPFAIL;
  override get isTransient(): boolean {
    return true;
  }
}
/** A locked document; a TemporaryFailError so code written for libcouchbase 2.x still matches. */
export class LockedError extends TemporaryFailError {
  static override readonly defaultRc: number = ErrorCode.KEY_LOCKED;
}
export class BusyError extends TemporaryFailError {
  static override readonly defaultRc: number = ErrorCode.EBUSY;
}
export class NoMemoryError extends TemporaryFailError {
  static override readonly defaultRc: number = ErrorCode.ENOMEM;
}
export class TimeoutError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ETIMEDOUT;
  override get isTransient(): boolean {
    return true;
  }
}

// --- network / server ----------------------------------------------------------------------
export class NetworkError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NETWORK_ERROR;
  override get isNetwork(): boolean {
    return true;
  }
}
export class ConnectError extends NetworkError {
  static override readonly defaultRc: number = ErrorCode.CONNECT_ERROR;
}
export class ProtocolError extends NetworkError {
  static override readonly defaultRc: number = ErrorCode.PROTOCOL_ERROR;
}
export class AuthError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.AUTH_ERROR;
}
export class BucketNotFoundError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.BUCKET_ENOENT;
}
export class InternalError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINTERNAL;
}
export class UnknownCommandError extends NotSupportedError {
  static override readonly defaultRc: number = ErrorCode.UNKNOWN_COMMAND;
}
export class DurabilityError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DURABILITY_ETOOMANY;
}

// --- classes the server's KV error map chooses (kv/error-map.ts) for statuses without a row ----
/** The server throttled the request (error map attribute "rate-limit"); retry later or slower. */
export class RateLimitedError extends TemporaryFailError {}
/** A limit of the bucket or scope was reached (attribute "system-constraint"), e.g. its size. */
export class QuotaLimitedError extends CouchbaseError {}

// --- HTTP services -------------------------------------------------------------------------
export class HTTPError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.HTTP_ERROR;
  /** HTTP status code, 0 when the request never got an answer. */
  httpStatus = 0;
}
export interface N1QLErrorEntry {
  code: number;
  msg: string;
  [extra: string]: unknown;
}
export class N1QLError extends HTTPError {
  static override readonly defaultRc: number = ErrorCode.QUERY_ERROR;
  /** First error code the query service reported (e.g. 3000 syntax error, 12003 keyspace not found). */
  code = 0;
  /** Its message. */
  msg = '';
  /** Every error entry of the response. */
  errors: N1QLErrorEntry[] = [];
  /** The response's meta (status, metrics, requestID...) when there was one. */
  meta: Record<string, unknown> | undefined;
}
export class ViewError extends HTTPError {
  /** `error` field of the views response, e.g. "not_found", "query_parse_error". */
  error = '';
  /** `reason` field of the views response. */
  reason = '';
}

export type ErrorClass = new (message: string, init?: ErrorInit) => CouchbaseError;

interface StatusRow {
  cls: ErrorClass;
  rc: number;
  advice: string;
}

// One row per memcached status the engine can be told. The message says what to do about it.
const STATUS_TABLE = new Map<number, StatusRow>([
  [Status.KEY_ENOENT, { cls: NotFoundError, rc: ErrorCode.KEY_ENOENT, advice: 'the document does not exist; insert it first or check the key' }],
  [Status.KEY_EEXISTS, { cls: KeyExistsError, rc: ErrorCode.KEY_EEXISTS, advice: 'the document exists or its CAS changed; re-read it and retry with the new CAS' }],
  [Status.E2BIG, { cls: TooBigError, rc: ErrorCode.E2BIG, advice: 'the value is larger than the server accepts (20 MiB by default); store a smaller value' }],
  [Status.EINVAL, { cls: InvalidError, rc: ErrorCode.EINVAL, advice: 'the server rejected the request arguments; check key length, expiry and flags' }],
  [Status.NOT_STORED, { cls: NotStoredError, rc: ErrorCode.NOT_STORED, advice: 'the document was not stored; append/prepend need an existing document' }],
  [Status.DELTA_BADVAL, { cls: DeltaBadvalError, rc: ErrorCode.DELTA_BADVAL, advice: 'the stored value is not a decimal number; counter() only works on numeric documents' }],
  [Status.NOT_MY_VBUCKET, { cls: TemporaryFailError, rc: ErrorCode.NOT_MY_VBUCKET, advice: 'the cluster topology kept changing until the timeout; retry once rebalance/failover settles' }],
  [Status.NO_BUCKET, { cls: BucketNotFoundError, rc: ErrorCode.BUCKET_ENOENT, advice: 'no bucket is selected on this connection; check the bucket name in the connection string' }],
  [Status.LOCKED, { cls: LockedError, rc: ErrorCode.KEY_LOCKED, advice: 'the document is locked; unlock it with the lock CAS or wait for the lock to expire' }],
  [Status.NOT_LOCKED, { cls: TemporaryFailError, rc: ErrorCode.ETMPFAIL, advice: 'the document is not locked; nothing to unlock' }],
  [Status.AUTH_STALE, { cls: AuthError, rc: ErrorCode.AUTH_ERROR, advice: 'the credentials became stale; reconnect' }],
  [Status.AUTH_ERROR, { cls: AuthError, rc: ErrorCode.AUTH_ERROR, advice: 'authentication failed; check username and password' }],
  [Status.ERANGE, { cls: CouchbaseRangeError, rc: ErrorCode.ERANGE, advice: 'a value is out of range' }],
  [Status.EACCESS, { cls: AuthError, rc: ErrorCode.NOT_AUTHORIZED, advice: 'the user lacks the privilege for this operation or bucket; grant it or use another user' }],
  [Status.NOT_INITIALIZED, { cls: TemporaryFailError, rc: ErrorCode.ETMPFAIL, advice: 'the node is still starting; retry shortly' }],
  [Status.UNKNOWN_FRAME_INFO, { cls: NotSupportedError, rc: ErrorCode.NOT_SUPPORTED, advice: 'the server does not understand a request option (frame info); drop the option' }],
  [Status.UNKNOWN_COMMAND, { cls: UnknownCommandError, rc: ErrorCode.UNKNOWN_COMMAND, advice: 'the server does not implement this operation' }],
  [Status.ENOMEM, { cls: NoMemoryError, rc: ErrorCode.ENOMEM, advice: 'the server is out of memory; retry later' }],
  [Status.NOT_SUPPORTED, { cls: NotSupportedError, rc: ErrorCode.NOT_SUPPORTED, advice: 'the server does not support this operation' }],
  [Status.EINTERNAL, { cls: InternalError, rc: ErrorCode.EINTERNAL, advice: 'the server hit an internal error; see the server log (ref)' }],
  [Status.EBUSY, { cls: BusyError, rc: ErrorCode.EBUSY, advice: 'the server is busy; retry later' }],
  [Status.ETMPFAIL, { cls: TemporaryFailError, rc: ErrorCode.ETMPFAIL, advice: 'temporary failure on the server; retry later' }],
]);

/** The error for a non-success memcached status. `context`/`ref` come from an XERROR body. */
export function errorForStatus(status: number, key: string | undefined, context?: string, ref?: string, override?: readonly [ErrorClass, string]): CouchbaseError {
  const shared = STATUS_TABLE.get(status);
  const row = override ? { cls: override[0], rc: shared ? shared.rc : ErrorCode.ERROR, advice: override[1] } : shared;
  const hex = '0x' + status.toString(16).padStart(2, '0');
  const where = key !== undefined ? ` (key "${key}")` : '';
  const detail = context ? `: ${context}` : '';
  if (row) {
    return new row.cls(`${row.advice}${where}${detail} [status ${hex}]`, { rc: row.rc, key, status, context, ref });
  }
  if (status >= 0xa0 && status <= 0xa3) {
    return new DurabilityError(`durability requirement failed${where}${detail} [status ${hex}]`, { key, status, context, ref });
  }
  return new CouchbaseError(`the server answered with unknown status ${hex}${where}${detail}`, {
    rc: ErrorCode.UNKNOWN_MEMCACHED_ERROR,
    key,
    status,
    context,
    ref,
  });
}

/** Parses a `{"error":{"context":"...","ref":"..."}}` XERROR body; undefined fields if absent. */
export function parseXerror(body: Buffer): { context?: string; ref?: string } {
  if (body.length === 0 || body[0] !== 0x7b /* { */) return {};
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { context?: unknown; ref?: unknown } };
    const e = parsed && parsed.error;
    if (!e || typeof e !== 'object') return {};
    return {
      context: typeof e.context === 'string' ? e.context : undefined,
      ref: typeof e.ref === 'string' ? e.ref : undefined,
    };
  } catch {
    return {};
  }
}
