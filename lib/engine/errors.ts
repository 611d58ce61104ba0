// Typed errors: the hierarchy of the Couchbase Python SDK 2.x (couchbase.exceptions), with the
// same names and the same catchable bases. `rc` carries the libcouchbase 2.x error code the
// Python SDK exposes, `status` the memcached status when the server produced the error,
// `context`/`ref` the server's extended error text (XERROR).
//
// Python derives the categories (data, transient, network, fatal, input, internal) from the
// error code, and raises classes that inherit both the named class and the category bases
// (`except CouchbaseDataError` catches a NotFoundError). JavaScript has single inheritance, so
// the category bases answer `instanceof` by the error's code instead (Symbol.hasInstance):
// `err instanceof CouchbaseTransientError` is true for any error whose rc libcouchbase types as
// transient, whatever its class.
import { Status } from '../protocol/status';

/** libcouchbase 2.x error codes, as `CouchbaseError.rc` reports them. */
export const ErrorCode = {
  SUCCESS: 0x00,
  AUTH_CONTINUE: 0x01,
  AUTH_ERROR: 0x02,
  DELTA_BADVAL: 0x03,
  E2BIG: 0x04,
  EBUSY: 0x05,
  EINTERNAL: 0x06,
  EINVAL: 0x07,
  ENOMEM: 0x08,
  ERANGE: 0x09,
  ERROR: 0x0a,
  ETMPFAIL: 0x0b,
  KEY_EEXISTS: 0x0c,
  KEY_ENOENT: 0x0d,
  DLOPEN_FAILED: 0x0e,
  DLSYM_FAILED: 0x0f,
  NETWORK_ERROR: 0x10,
  NOT_MY_VBUCKET: 0x11,
  NOT_STORED: 0x12,
  NOT_SUPPORTED: 0x13,
  UNKNOWN_COMMAND: 0x14,
  UNKNOWN_HOST: 0x15,
  PROTOCOL_ERROR: 0x16,
  ETIMEDOUT: 0x17,
  CONNECT_ERROR: 0x18,
  BUCKET_ENOENT: 0x19,
  CLIENT_ENOMEM: 0x1a,
  CLIENT_ETMPFAIL: 0x1b,
  EBADHANDLE: 0x1c,
  SERVER_BUG: 0x1d,
  INVALID_HOST_FORMAT: 0x1f,
  INVALID_CHAR: 0x20,
  DURABILITY_ETOOMANY: 0x21,
  DUPLICATE_COMMANDS: 0x22,
  NO_MATCHING_SERVER: 0x23,
  SASLMECH_UNAVAILABLE: 0x28,
  ECONNREFUSED: 0x2c,
  ESOCKSHUTDOWN: 0x2d,
  ECONNRESET: 0x2e,
  ENETUNREACH: 0x31,
  EMPTY_KEY: 0x35,
  SSL_ERROR: 0x36,
  SSL_CANTVERIFY: 0x37,
  CLIENT_FEATURE_UNAVAILABLE: 0x39,
  OPTIONS_CONFLICT: 0x3a,
  HTTP_ERROR: 0x3b,
  DURABILITY_NO_MUTATION_TOKENS: 0x3c,
  UNKNOWN_MEMCACHED_ERROR: 0x3d,
  MUTATION_LOST: 0x3e,
  SUBDOC_PATH_ENOENT: 0x3f,
  SUBDOC_PATH_MISMATCH: 0x40,
  SUBDOC_PATH_EINVAL: 0x41,
  SUBDOC_PATH_E2BIG: 0x42,
  SUBDOC_DOC_E2DEEP: 0x43,
  SUBDOC_VALUE_CANTINSERT: 0x44,
  SUBDOC_DOC_NOTJSON: 0x45,
  SUBDOC_NUM_ERANGE: 0x46,
  SUBDOC_BAD_DELTA: 0x47,
  SUBDOC_PATH_EEXISTS: 0x48,
  SUBDOC_MULTI_FAILURE: 0x49,
  SUBDOC_VALUE_E2DEEP: 0x4a,
  EINVAL_MCD: 0x4b,
  EMPTY_PATH: 0x4c,
  UNKNOWN_SDCMD: 0x4d,
  ENO_COMMANDS: 0x4e,
  QUERY_ERROR: 0x4f,
  GENERIC_TMPERR: 0x50,
  GENERIC_SUBDOCERR: 0x51,
  GENERIC_CONSTRAINT_ERR: 0x52,
  NAMESERVER_ERROR: 0x53,
  NOT_AUTHORIZED: 0x54,
  SUBDOC_INVALID_COMBO: 0x55,
  SUBDOC_MULTI_PATH_FAILURE: 0x56,
  SUBDOC_SUCCESS_DELETED: 0x57,
  SUBDOC_XATTR_INVALID_FLAG_COMBO: 0x58,
  SUBDOC_XATTR_INVALID_KEY_COMBO: 0x59,
  SUBDOC_XATTR_UNKNOWN_MACRO: 0x5a,
  SUBDOC_XATTR_UNKNOWN_VATTR: 0x5b,
  SUBDOC_XATTR_CANT_MODIFY_VATTR: 0x5c,
  /** A scope or collection the server does not know (libcouchbase 2.10's LCB_COLLECTION_UNKNOWN). */
  COLLECTION_UNKNOWN: 0x5f,
  DURABILITY_INVALID_LEVEL: 0x63,
  DURABILITY_IMPOSSIBLE: 0x64,
  DURABILITY_SYNC_WRITE_IN_PROGRESS: 0x65,
  DURABILITY_SYNC_WRITE_AMBIGUOUS: 0x66,
  /** Not a libcouchbase code: the operation was cancelled by the caller or by close(). */
  CANCELLED: 0x4001,
  /** libcouchbase reports a locked key as a temporary failure; kept distinct for inspection. */
  KEY_LOCKED: 0x0b,
} as const;

/** libcouchbase's error categories (LCB_ERRTYPE_*), as `CouchbaseError.categories` reports them. */
export const ErrorType = {
  INPUT: 1 << 0,
  NETWORK: 1 << 1,
  FATAL: 1 << 2,
  TRANSIENT: 1 << 3,
  DATAOP: 1 << 4,
  INTERNAL: 1 << 5,
  PLUGIN: 1 << 6,
  SRVLOAD: 1 << 7,
  SRVGEN: 1 << 8,
  SUBDOC: 1 << 9,
  DURABILITY: 1 << 10,
} as const;

const { INPUT, NETWORK, FATAL, TRANSIENT, DATAOP, INTERNAL, PLUGIN, SRVGEN, SUBDOC, DURABILITY } = ErrorType;
const C = ErrorCode;

// libcouchbase's own table (error.h, LCB_XERR): the categories of each code.
const TYPES = new Map<number, number>([
  [C.COLLECTION_UNKNOWN, INPUT],
  [C.AUTH_CONTINUE, INTERNAL | FATAL | SRVGEN],
  [C.AUTH_ERROR, FATAL | INPUT],
  [C.DELTA_BADVAL, INPUT | DATAOP | SRVGEN],
  [C.E2BIG, INPUT | DATAOP | SRVGEN],
  [C.EBUSY, TRANSIENT | SRVGEN],
  [C.EINTERNAL, INTERNAL],
  [C.EINVAL, INPUT],
  [C.ENOMEM, TRANSIENT | SRVGEN],
  [C.ERANGE, INPUT | DATAOP | SRVGEN],
  [C.ETMPFAIL, TRANSIENT | SRVGEN],
  [C.KEY_EEXISTS, DATAOP | SRVGEN],
  [C.KEY_ENOENT, DATAOP | SRVGEN],
  [C.DLOPEN_FAILED, INPUT | FATAL | PLUGIN],
  [C.DLSYM_FAILED, INPUT | FATAL | PLUGIN],
  [C.NETWORK_ERROR, NETWORK],
  [C.NOT_MY_VBUCKET, NETWORK | TRANSIENT | SRVGEN],
  [C.NOT_STORED, DATAOP | SRVGEN],
  [C.UNKNOWN_COMMAND, SRVGEN],
  [C.UNKNOWN_HOST, NETWORK | INPUT],
  [C.PROTOCOL_ERROR, NETWORK],
  [C.ETIMEDOUT, NETWORK | TRANSIENT],
  [C.CONNECT_ERROR, NETWORK],
  [C.BUCKET_ENOENT, INPUT | FATAL],
  [C.CLIENT_ENOMEM, FATAL],
  [C.CLIENT_ETMPFAIL, TRANSIENT],
  [C.EBADHANDLE, INPUT],
  [C.INVALID_HOST_FORMAT, INPUT],
  [C.INVALID_CHAR, INPUT],
  [C.DURABILITY_ETOOMANY, INPUT],
  [C.DUPLICATE_COMMANDS, INPUT],
  [C.NO_MATCHING_SERVER, TRANSIENT],
  [C.SASLMECH_UNAVAILABLE, INPUT | FATAL],
  [C.ECONNREFUSED, NETWORK | TRANSIENT],
  [C.ESOCKSHUTDOWN, NETWORK | TRANSIENT],
  [C.ECONNRESET, NETWORK | TRANSIENT],
  [C.ENETUNREACH, NETWORK | TRANSIENT],
  [C.EMPTY_KEY, INPUT],
  [C.SSL_ERROR, FATAL],
  [C.SSL_CANTVERIFY, FATAL],
  [C.CLIENT_FEATURE_UNAVAILABLE, INPUT],
  [C.OPTIONS_CONFLICT, INPUT],
  [C.DURABILITY_NO_MUTATION_TOKENS, INPUT],
  [C.UNKNOWN_MEMCACHED_ERROR, SRVGEN],
  [C.MUTATION_LOST, SRVGEN],
  [C.SUBDOC_PATH_ENOENT, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_PATH_MISMATCH, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_PATH_EINVAL, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_PATH_E2BIG, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_DOC_E2DEEP, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_VALUE_CANTINSERT, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_DOC_NOTJSON, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_NUM_ERANGE, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_BAD_DELTA, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_PATH_EEXISTS, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_MULTI_FAILURE, DATAOP | SRVGEN | SUBDOC],
  [C.SUBDOC_VALUE_E2DEEP, INPUT | SRVGEN | SUBDOC],
  [C.EINVAL_MCD, SRVGEN | INTERNAL],
  [C.EMPTY_PATH, INPUT],
  [C.UNKNOWN_SDCMD, INPUT],
  [C.ENO_COMMANDS, INPUT],
  [C.QUERY_ERROR, SRVGEN],
  [C.GENERIC_TMPERR, TRANSIENT | SRVGEN],
  [C.GENERIC_SUBDOCERR, SUBDOC | SRVGEN],
  [C.GENERIC_CONSTRAINT_ERR, INPUT | SRVGEN],
  [C.NAMESERVER_ERROR, NETWORK],
  [C.NOT_AUTHORIZED, INPUT | SRVGEN],
  [C.SUBDOC_INVALID_COMBO, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_MULTI_PATH_FAILURE, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_SUCCESS_DELETED, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_XATTR_INVALID_FLAG_COMBO, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_XATTR_INVALID_KEY_COMBO, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_XATTR_UNKNOWN_MACRO, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_XATTR_UNKNOWN_VATTR, INPUT | SRVGEN | SUBDOC],
  [C.SUBDOC_XATTR_CANT_MODIFY_VATTR, INPUT | SRVGEN | SUBDOC],
  [C.DURABILITY_INVALID_LEVEL, DURABILITY | INPUT | SRVGEN],
  [C.DURABILITY_IMPOSSIBLE, DURABILITY | SRVGEN],
  [C.DURABILITY_SYNC_WRITE_IN_PROGRESS, DURABILITY | SRVGEN | TRANSIENT],
  [C.DURABILITY_SYNC_WRITE_AMBIGUOUS, DURABILITY | SRVGEN],
]);

/** The categories (ErrorType bits) libcouchbase gives an error code; 0 for none. */
export function errorTypeOf(rc: number): number {
  return TYPES.get(rc) ?? 0;
}

export interface ErrorInit {
  rc?: number;
  key?: string;
  status?: number;
  context?: string;
  ref?: string;
  cause?: unknown;
  /** Python's `objextra`: the object the error is about (a path, a query error entry...). */
  objextra?: unknown;
}

/** Per-key results of a multi operation, as an error's `allResults` holds them. */
interface ResultLike {
  key: string;
  success: boolean;
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
  /**
   * For multi operations: every key's result (a MultiResult), the failing ones included. For a
   * mutation whose durability requirement failed: its result.
   */
  allResults: unknown;
  /** Python's `objextra`: the object the error is about (a sub-document path, a query error entry). */
  objextra: unknown;

  static readonly defaultRc: number = ErrorCode.ERROR;

  /** Python's class-level `CODE`: the libcouchbase code this class stands for. */
  static get CODE(): number {
    return this.defaultRc;
  }

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.rc = init.rc ?? (new.target as typeof CouchbaseError).defaultRc;
    this.key = init.key;
    this.status = init.status;
    this.context = init.context;
    this.ref = init.ref;
    this.allResults = undefined;
    this.objextra = init.objextra;
    if (init.cause !== undefined) (this as { cause?: unknown }).cause = init.cause;
  }

  /** The class Python raises for a libcouchbase code (CouchbaseError itself for codes it does not name). */
  static rcToExctype(rc: number): typeof CouchbaseError {
    return classForRc(rc);
  }

  /** Python's `inner_cause`: the error that caused this one. */
  get innerCause(): unknown {
    return (this as { cause?: unknown }).cause;
  }

  /** The ErrorType bits of `rc` (Python's `categories`). */
  get categories(): number {
    return errorTypeOf(this.rc);
  }
  /** True for negative replies about the data (missing key, CAS mismatch...), not the transport. */
  get isData(): boolean {
    return (this.categories & DATAOP) !== 0;
  }
  /** True for errors a retry later may cure. */
  get isTransient(): boolean {
    return (this.categories & TRANSIENT) !== 0;
  }
  /** True for errors of the network transport. */
  get isNetwork(): boolean {
    return (this.categories & NETWORK) !== 0;
  }
  /** True for errors that likely need a new Bucket. */
  get isFatal(): boolean {
    return (this.categories & FATAL) !== 0;
  }
  /** True for errors caused by the input (arguments, key, document shape). */
  get isInput(): boolean {
    return (this.categories & INPUT) !== 0;
  }

  /** Python's split_results(): the multi operation's results as `[ok, failed]` maps of key -> result. */
  splitResults<R extends ResultLike = ResultLike>(): [Map<string, R>, Map<string, R>] {
    return splitResults<R>(this);
  }
}

/**
 * The results of a failed multi operation (its error's `allResults`) as `[ok, failed]` maps of
 * key -> result (Python's `CouchbaseError.split_results()`).
 */
export function splitResults<R extends ResultLike = ResultLike>(err: unknown): [Map<string, R>, Map<string, R>] {
  const ok = new Map<string, R>();
  const failed = new Map<string, R>();
  const all = (err as { allResults?: unknown } | null)?.allResults;
  if (all instanceof Map) {
    for (const [k, r] of all as Map<string, R>) (r.success ? ok : failed).set(k, r);
  }
  return [ok, failed];
}

/** A category base: `instanceof` is true for its subclasses and for any error whose rc has its category. */
function category(cls: typeof CouchbaseError, bits: number): void {
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: typeof CouchbaseError, v: unknown): boolean {
      if (Function.prototype[Symbol.hasInstance].call(this, v)) return true;
      return this === cls && v instanceof CouchbaseError && (errorTypeOf(v.rc) & bits) !== 0;
    },
  });
}

// --- the category bases (Python: chosen by the error code's libcouchbase categories) --------
/** The SDK itself went wrong. */
export class InternalSDKError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINTERNAL;
}
export class CouchbaseInternalError extends InternalSDKError {}
/** Errors of the network transport: connect, DNS, timeouts, resets. */
export class CouchbaseNetworkError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NETWORK_ERROR;
}
/** Errors caused by the input: arguments, keys, document shape. */
export class CouchbaseInputError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}
/** Errors that are likely to go away: retry later. */
export class CouchbaseTransientError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ETMPFAIL;
}
/** Errors that likely need a new Bucket (bad credentials, missing bucket, TLS). */
export class CouchbaseFatalError extends CouchbaseError {}
/** Negative replies about the data: a missing key, a CAS mismatch, a path that is not there. */
export class CouchbaseDataError extends CouchbaseError {}
category(CouchbaseInternalError, INTERNAL);
category(CouchbaseNetworkError, NETWORK);
category(CouchbaseInputError, INPUT);
category(CouchbaseTransientError, TRANSIENT);
category(CouchbaseFatalError, FATAL);
category(CouchbaseDataError, DATAOP);

// --- argument / client side ----------------------------------------------------------------
export class ArgumentError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}
/** A value could not be encoded or decoded in the format asked for (also an ArgumentError, as in deferbase before). */
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
/** An operation the pipeline does not allow (pipelines are for the blocking flavour, one at a time). */
export class PipelineError extends CouchbaseError {}
/** Access from another thread was detected (Python's lockmode); kept for code that catches it. */
export class ObjectThreadError extends CouchbaseError {}
/** The handle cannot do this kind of operation. */
export class BadHandleError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EBADHANDLE;
}
export class ClientNoMemoryError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.CLIENT_ENOMEM;
}
/** The client could not schedule the operation yet (not bootstrapped). */
export class ClientTemporaryFailError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.CLIENT_ETMPFAIL;
}
/** libcouchbase's generic error. */
export class LibcouchbaseError extends CouchbaseError {}
/** Plugin loading errors of libcouchbase; a JavaScript client loads no plugins, so never raised. */
export class DlopenFailedError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DLOPEN_FAILED;
}
export class DlsymFailedError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DLSYM_FAILED;
}
/** A cluster-level call needs an open bucket (Python's couchbase.cluster.NoBucketError). */
export class NoBucketError extends CouchbaseError {}
/** A N1QL or view result was iterated a second time. */
export class AlreadyQueriedError extends CouchbaseError {}
/** MutationState was given a result without a mutation token (fetch_mutation_tokens off?). */
export class MissingTokenError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DURABILITY_NO_MUTATION_TOKENS;
}

// --- data errors ---------------------------------------------------------------------------
export class NotFoundError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.KEY_ENOENT;
}
export class KeyExistsError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.KEY_EEXISTS;
}
export class NotStoredError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NOT_STORED;
}
export class DeltaBadvalError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DELTA_BADVAL;
}
export class TooBigError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.E2BIG;
}
/** Python's `RangeError` (renamed: JavaScript has its own). */
export class CouchbaseRangeError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ERANGE;
}
export class InvalidError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}

// --- sub-document (Python: one class per libcouchbase sub-document code) ---------------------
export class SubdocPathNotFoundError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_PATH_ENOENT;
}
export class SubdocPathExistsError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_PATH_EEXISTS;
}
export class SubdocPathInvalidError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_PATH_EINVAL;
}
export class SubdocPathMismatchError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_PATH_MISMATCH;
}
export class DocumentNotJsonError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_DOC_NOTJSON;
}
export class DocumentTooDeepError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_DOC_E2DEEP;
}
export class SubdocNumberTooBigError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_NUM_ERANGE;
}
export class SubdocValueTooDeepError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_VALUE_E2DEEP;
}
export class SubdocCantInsertValueError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_VALUE_CANTINSERT;
}
export class SubdocBadDeltaError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_BAD_DELTA;
}
/** One or more specs failed; inspect each (SubdocResult.get(i)). */
export class SubdocMultipleErrors extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.SUBDOC_MULTI_FAILURE;
}
export class SubdocEmptyPathError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EMPTY_PATH;
}
/**
 * A data-structure entry that is not there (listGet of a missing index, mapGet of a missing map
 * key): Python raises IndexError; here it is also a SubdocPathNotFoundError.
 */
export class IndexError extends SubdocPathNotFoundError {}

// --- transient -----------------------------------------------------------------------------
export class TemporaryFailError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.ETMPFAIL;
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
}

// --- network / server ----------------------------------------------------------------------
export class NetworkError extends CouchbaseNetworkError {
  static override readonly defaultRc: number = ErrorCode.NETWORK_ERROR;
}
// Python's ConnectError, UnknownHostError and ProtocolError derive from CouchbaseNetworkError
// directly; here they are NetworkErrors too (as they were), which catches a superset.
export class ConnectError extends NetworkError {
  static override readonly defaultRc: number = ErrorCode.CONNECT_ERROR;
}
export class UnknownHostError extends NetworkError {
  static override readonly defaultRc: number = ErrorCode.UNKNOWN_HOST;
}
export class ProtocolError extends NetworkError {
  static override readonly defaultRc: number = ErrorCode.PROTOCOL_ERROR;
}
/** The node that got the request does not own its vBucket (a topology change the retries did not outlast). */
export class NotMyVbucketError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.NOT_MY_VBUCKET;
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
/** A synchronous-durability requirement failed on the server. */
/** The scope or collection an operation names does not exist (or the user may not see it). */
export class CollectionNotFoundError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.COLLECTION_UNKNOWN;
}
export class DurabilityError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.DURABILITY_IMPOSSIBLE;
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
  /** Python's `n1ql_errcode`. */
  get n1qlErrcode(): number {
    return this.code;
  }
}
export class ViewError extends HTTPError {
  /** `error` field of the views response, e.g. "not_found", "query_parse_error". */
  error = '';
  /** `reason` field of the views response. */
  reason = '';
}
/** Errors a view reported inline (its `errors` array) while on_error was not 'continue'. */
export class ViewEngineError extends ViewError {
  /** Every inline error entry ({from, reason}). */
  errors: Array<{ from?: string; reason?: string }> = [];
}

/** A data-structure queue had nothing to pop (Python's couchbase.exceptions.QueueEmpty). */
export class QueueEmpty extends Error {
  constructor(message = 'the queue is empty') {
    super(message);
    this.name = 'QueueEmpty';
  }
}

// Python's _LCB_ERRNO_MAP: the class raised for each code it names.
const RC_CLASSES = new Map<number, typeof CouchbaseError>([
  [C.AUTH_ERROR, AuthError],
  [C.DELTA_BADVAL, DeltaBadvalError],
  [C.E2BIG, TooBigError],
  [C.EBUSY, BusyError],
  [C.ENOMEM, NoMemoryError],
  [C.ETMPFAIL, TemporaryFailError],
  [C.KEY_EEXISTS, KeyExistsError],
  [C.KEY_ENOENT, NotFoundError],
  [C.DLOPEN_FAILED, DlopenFailedError],
  [C.DLSYM_FAILED, DlsymFailedError],
  [C.NETWORK_ERROR, NetworkError],
  [C.NOT_MY_VBUCKET, NotMyVbucketError],
  [C.NOT_STORED, NotStoredError],
  [C.NOT_SUPPORTED, NotSupportedError],
  [C.UNKNOWN_HOST, UnknownHostError],
  [C.PROTOCOL_ERROR, ProtocolError],
  [C.ETIMEDOUT, TimeoutError],
  [C.CONNECT_ERROR, ConnectError],
  [C.BUCKET_ENOENT, BucketNotFoundError],
  [C.EBADHANDLE, BadHandleError],
  [C.INVALID_HOST_FORMAT, InvalidError],
  [C.INVALID_CHAR, InvalidError],
  [C.EINVAL, InvalidError],
  [C.DURABILITY_ETOOMANY, ArgumentError],
  [C.DUPLICATE_COMMANDS, ArgumentError],
  [C.CLIENT_ETMPFAIL, ClientTemporaryFailError],
  [C.HTTP_ERROR, HTTPError],
  [C.SUBDOC_PATH_ENOENT, SubdocPathNotFoundError],
  [C.SUBDOC_PATH_EEXISTS, SubdocPathExistsError],
  [C.SUBDOC_PATH_EINVAL, SubdocPathInvalidError],
  [C.SUBDOC_DOC_E2DEEP, DocumentTooDeepError],
  [C.SUBDOC_DOC_NOTJSON, DocumentNotJsonError],
  [C.SUBDOC_VALUE_E2DEEP, SubdocValueTooDeepError],
  [C.SUBDOC_PATH_MISMATCH, SubdocPathMismatchError],
  [C.SUBDOC_VALUE_CANTINSERT, SubdocCantInsertValueError],
  [C.SUBDOC_BAD_DELTA, SubdocBadDeltaError],
  [C.SUBDOC_NUM_ERANGE, SubdocNumberTooBigError],
  [C.EMPTY_PATH, SubdocEmptyPathError],
  [C.SUBDOC_MULTI_FAILURE, SubdocMultipleErrors],
  [C.EINTERNAL, InternalError],
  [C.UNKNOWN_COMMAND, UnknownCommandError],
  [C.ERANGE, CouchbaseRangeError],
  [C.QUERY_ERROR, N1QLError],
]);

function classForRc(rc: number): typeof CouchbaseError {
  return RC_CLASSES.get(rc) ?? CouchbaseError;
}

/** An error of the class Python raises for `rc` (Python's exc_from_rc). */
export function errorForRc(rc: number, message: string, init: Omit<ErrorInit, 'rc'> = {}): CouchbaseError {
  const cls = classForRc(rc) as unknown as ErrorClass;
  return new cls(message, { ...init, rc });
}

/** The network error a failed socket gives (lcb's detailed error codes): DNS failures are UnknownHostError. */
export function socketError(message: string, cause: NodeJS.ErrnoException): CouchbaseError {
  switch (cause.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UnknownHostError(message, { cause });
    case 'ECONNREFUSED':
      return new ConnectError(message, { rc: ErrorCode.ECONNREFUSED, cause });
    case 'ECONNRESET':
      return new NetworkError(message, { rc: ErrorCode.ECONNRESET, cause });
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new ConnectError(message, { rc: ErrorCode.ENETUNREACH, cause });
    default:
      return new ConnectError(message, { cause });
  }
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
  [Status.NOT_MY_VBUCKET, { cls: NotMyVbucketError, rc: ErrorCode.NOT_MY_VBUCKET, advice: 'the cluster topology kept changing until the timeout; retry once rebalance/failover settles' }],
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
  // Sub-document: per-path statuses (and the whole-request ones) as libcouchbase reports them.
  [Status.SUBDOC_PATH_ENOENT, { cls: SubdocPathNotFoundError, rc: ErrorCode.SUBDOC_PATH_ENOENT, advice: 'the path does not exist in the document' }],
  [Status.SUBDOC_PATH_MISMATCH, { cls: SubdocPathMismatchError, rc: ErrorCode.SUBDOC_PATH_MISMATCH, advice: 'the path does not match the document (an array index into an object, or the reverse)' }],
  [Status.SUBDOC_PATH_EINVAL, { cls: SubdocPathInvalidError, rc: ErrorCode.SUBDOC_PATH_EINVAL, advice: 'the path is malformed, or not valid for this operation' }],
  [Status.SUBDOC_PATH_E2BIG, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_PATH_E2BIG, advice: 'the path has too many components (at most 32)' }],
  [Status.SUBDOC_DOC_E2DEEP, { cls: DocumentTooDeepError, rc: ErrorCode.SUBDOC_DOC_E2DEEP, advice: 'the document nests too deeply for sub-document operations' }],
  [Status.SUBDOC_VALUE_CANTINSERT, { cls: SubdocCantInsertValueError, rc: ErrorCode.SUBDOC_VALUE_CANTINSERT, advice: 'the value cannot be inserted there (not valid JSON, or not a primitive for arrayAddUnique)' }],
  [Status.SUBDOC_DOC_NOT_JSON, { cls: DocumentNotJsonError, rc: ErrorCode.SUBDOC_DOC_NOTJSON, advice: 'the document is not JSON; sub-document operations need a JSON document' }],
  [Status.SUBDOC_NUM_ERANGE, { cls: SubdocNumberTooBigError, rc: ErrorCode.SUBDOC_NUM_ERANGE, advice: 'the counter would leave the 64-bit range' }],
  [Status.SUBDOC_DELTA_EINVAL, { cls: SubdocBadDeltaError, rc: ErrorCode.SUBDOC_BAD_DELTA, advice: 'the delta must be a non-zero integer' }],
  [Status.SUBDOC_PATH_EEXISTS, { cls: SubdocPathExistsError, rc: ErrorCode.SUBDOC_PATH_EEXISTS, advice: 'the path (or the value, for arrayAddUnique) already exists' }],
  [Status.SUBDOC_VALUE_ETOODEEP, { cls: SubdocValueTooDeepError, rc: ErrorCode.SUBDOC_VALUE_E2DEEP, advice: 'the value would make the document nest too deeply' }],
  [Status.SUBDOC_INVALID_COMBO, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_INVALID_COMBO, advice: 'these specs cannot be combined in one request' }],
  [Status.SUBDOC_MULTI_PATH_FAILURE, { cls: SubdocMultipleErrors, rc: ErrorCode.SUBDOC_MULTI_FAILURE, advice: 'one or more paths failed; inspect each result' }],
  [Status.SUBDOC_XATTR_INVALID_FLAG_COMBO, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_XATTR_INVALID_FLAG_COMBO, advice: 'these extended-attribute flags cannot be combined' }],
  [Status.SUBDOC_XATTR_INVALID_KEY_COMBO, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_XATTR_INVALID_KEY_COMBO, advice: 'only one extended attribute may be accessed per request' }],
  [Status.SUBDOC_XATTR_UNKNOWN_MACRO, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_XATTR_UNKNOWN_MACRO, advice: 'the server knows no such macro' }],
  [Status.SUBDOC_XATTR_UNKNOWN_VATTR, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_XATTR_UNKNOWN_VATTR, advice: 'the server knows no such virtual attribute' }],
  [Status.SUBDOC_XATTR_CANT_MODIFY_VATTR, { cls: CouchbaseError, rc: ErrorCode.SUBDOC_XATTR_CANT_MODIFY_VATTR, advice: 'virtual attributes cannot be modified' }],
  [Status.UNKNOWN_COLLECTION, { cls: CollectionNotFoundError, rc: ErrorCode.COLLECTION_UNKNOWN, advice: 'the collection does not exist in the bucket; create it first or check its name' }],
  [Status.UNKNOWN_SCOPE, { cls: CollectionNotFoundError, rc: ErrorCode.COLLECTION_UNKNOWN, advice: 'the scope does not exist in the bucket; create it first or check its name' }],
  // Synchronous durability (server-side).
  [0xa0, { cls: DurabilityError, rc: ErrorCode.DURABILITY_INVALID_LEVEL, advice: 'the server does not know this durability level' }],
  [0xa1, { cls: DurabilityError, rc: ErrorCode.DURABILITY_IMPOSSIBLE, advice: 'the durability requirement cannot be met with the nodes available' }],
  [0xa2, { cls: DurabilityError, rc: ErrorCode.DURABILITY_SYNC_WRITE_IN_PROGRESS, advice: 'a synchronous write of this key is in progress; retry' }],
  [0xa3, { cls: DurabilityError, rc: ErrorCode.DURABILITY_SYNC_WRITE_AMBIGUOUS, advice: 'the synchronous write may or may not have been applied' }],
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
