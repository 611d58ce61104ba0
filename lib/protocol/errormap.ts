// The KV error map (GET_ERROR_MAP, 0xfe): per status code a name, a description and
// attributes that tell a client how to treat codes it has no built-in knowledge of.
import { ProtocolError } from './packet';
import { Status } from './status';

export interface ErrorMapRetry {
  strategy: 'constant' | 'linear' | 'exponential';
  /** Milliseconds between attempts (base for linear/exponential). */
  interval: number;
  /** Milliseconds to wait before the first retry. */
  after: number;
  /** Give up after this many milliseconds. */
  'max-duration': number;
  /** Upper bound on one interval, milliseconds. */
  ceil?: number;
}

export interface ErrorMapEntry {
  name: string;
  desc: string;
  attrs: string[];
  /** Version 2 only. */
  retry?: ErrorMapRetry;
}

export interface ErrorMap {
  version: number;
  revision: number;
  /** Keyed by status code in lowercase hex without "0x". */
  errors: Record<string, ErrorMapEntry>;
}

/** Attribute names a Couchbase client understands (see kv_engine's ErrorMap.md). */
export const ErrorAttribute = {
  SUCCESS: 'success',
  ITEM_ONLY: 'item-only',
  INVALID_INPUT: 'invalid-input',
  FETCH_CONFIG: 'fetch-config',
  CONN_STATE_INVALIDATED: 'conn-state-invalidated',
  AUTH: 'auth',
  SPECIAL_HANDLING: 'special-handling',
  SUPPORT: 'support',
  TEMP: 'temp',
  INTERNAL: 'internal',
  RETRY_NOW: 'retry-now',
  RETRY_LATER: 'retry-later',
  SUBDOC: 'subdoc',
  DCP: 'dcp',
  AUTO_RETRY: 'auto-retry',
  ITEM_LOCKED: 'item-locked',
  ITEM_DELETED: 'item-deleted',
  RATE_LIMIT: 'rate-limit',
  NO_RETRY: 'no-retry',
  SYSTEM_CONSTRAINT: 'system-constraint',
} as const;

const RETRY_SOON: ErrorMapRetry = { strategy: 'exponential', interval: 10, after: 0, 'max-duration': 5000, ceil: 500 };
const RETRY_LATER: ErrorMapRetry = { strategy: 'exponential', interval: 100, after: 100, 'max-duration': 10000, ceil: 1000 };

type Row = [code: number, name: string, desc: string, attrs: string[], retry?: ErrorMapRetry];

// Every status the embedded server can send, with the names and attributes a real 7.x server
// uses for them, so SDKs treat our answers the way they treat Couchbase's.
const ROWS: Row[] = [
  [Status.SUCCESS, 'SUCCESS', 'Success', ['success']],
  [Status.KEY_ENOENT, 'KEY_ENOENT', 'Not Found', ['item-only']],
  [Status.KEY_EEXISTS, 'KEY_EEXISTS', 'key already exists, or CAS mismatch', ['item-only']],
  [Status.E2BIG, 'E2BIG', 'Value is too big', ['item-only', 'invalid-input']],
  [Status.EINVAL, 'EINVAL', 'Invalid packet', ['internal', 'invalid-input']],
  [Status.NOT_STORED, 'NOT_STORED', 'Not Stored', ['item-only']],
  [Status.DELTA_BADVAL, 'DELTA_BADVAL', 'Existing document is not a number', ['item-only', 'invalid-input']],
  [Status.NOT_MY_VBUCKET, 'NOT_MY_VBUCKET', 'Server does not know about this vBucket', ['fetch-config', 'retry-now'], RETRY_SOON],
  [Status.NO_BUCKET, 'NO_BUCKET', 'Not connected to any bucket', ['conn-state-invalidated']],
  [Status.LOCKED, 'LOCKED', 'Requested resource is locked', ['item-locked', 'item-only', 'retry-now'], RETRY_SOON],
  [Status.NOT_LOCKED, 'NOT_LOCKED', 'Requested resource is not locked', ['item-only']],
  [Status.AUTH_STALE, 'AUTH_STALE', 'Reauthentication required', ['conn-state-invalidated', 'auth']],
  [Status.AUTH_ERROR, 'AUTH_ERROR', 'Authentication failed', ['conn-state-invalidated', 'auth']],
  [Status.AUTH_CONTINUE, 'AUTH_CONTINUE', 'Continue the authentication process', ['special-handling']],
  [Status.ERANGE, 'ERANGE', 'Invalid range requested', ['invalid-input']],
  [Status.EACCESS, 'EACCESS', 'Not authorized for command', ['support']],
  [Status.NOT_INITIALIZED, 'NOT_INITIALIZED', 'Server not initialized', ['conn-state-invalidated', 'retry-later'], RETRY_LATER],
  [Status.UNKNOWN_FRAME_INFO, 'UNKNOWN_FRAME_INFO', 'Unknown frame info identifier', ['support']],
  [Status.UNKNOWN_COMMAND, 'UNKNOWN_COMMAND', 'Unknown command', ['support']],
  [Status.ENOMEM, 'ENOMEM', 'No memory available to store the item, try later', ['temp', 'retry-later'], RETRY_LATER],
  [Status.NOT_SUPPORTED, 'NOT_SUPPORTED', 'Command not supported with the current bucket type or configuration', ['support']],
  [Status.EINTERNAL, 'EINTERNAL', 'Internal error, reconnect recommended', ['internal', 'conn-state-invalidated']],
  [Status.EBUSY, 'EBUSY', 'Busy, try again', ['temp', 'retry-now'], RETRY_SOON],
  [Status.ETMPFAIL, 'ETMPFAIL', 'Temporary failure, try again', ['temp', 'retry-now'], RETRY_SOON],
  [Status.XATTR_EINVAL, 'XATTR_EINVAL', 'Invalid extended attribute', ['invalid-input']],
  [Status.UNKNOWN_COLLECTION, 'UNKNOWN_COLLECTION', 'Operation specified an unknown collection', ['fetch-config', 'item-only']],
  [Status.NO_COLLECTIONS_MANIFEST, 'NO_COLLECTIONS_MANIFEST', 'No collections manifest has been set', ['retry-later'], RETRY_LATER],
  [Status.UNKNOWN_SCOPE, 'UNKNOWN_SCOPE', 'Operation specified an unknown scope', ['fetch-config', 'item-only']],
  [Status.DURABILITY_INVALID_LEVEL, 'DurabilityInvalidLevel', 'Durability level is invalid', ['invalid-input']],
  [Status.DURABILITY_IMPOSSIBLE, 'DurabilityImpossible', 'Durability requirements cannot be met', ['item-only', 'retry-later'], RETRY_LATER],
  [Status.SYNC_WRITE_IN_PROGRESS, 'SyncWriteInProgress', 'The key has a pending synchronous write', ['item-only', 'retry-later'], RETRY_LATER],
  [Status.SYNC_WRITE_AMBIGUOUS, 'SyncWriteAmbiguous', 'The synchronous write did not complete in time; its outcome is unknown', ['item-only']],
  [Status.SUBDOC_PATH_ENOENT, 'SUBDOC_PATH_ENOENT', 'Subdoc: path not found in document', ['subdoc', 'item-only']],
  [Status.SUBDOC_PATH_MISMATCH, 'SUBDOC_PATH_MISMATCH', 'Subdoc: path and document disagree on structure', ['subdoc', 'item-only']],
  [Status.SUBDOC_PATH_EINVAL, 'SUBDOC_PATH_EINVAL', 'Subdoc: invalid path', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_PATH_E2BIG, 'SUBDOC_PATH_E2BIG', 'Subdoc: path too long', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_DOC_E2DEEP, 'SUBDOC_PATH_E2DEEP', 'Subdoc: path too deep to parse', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_VALUE_CANTINSERT, 'SUBDOC_VALUE_CANTINSERT', 'Subdoc: value cannot be inserted', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_DOC_NOT_JSON, 'SUBDOC_DOC_NOTJSON', 'Subdoc: document is not JSON', ['subdoc', 'item-only']],
  [Status.SUBDOC_NUM_ERANGE, 'SUBDOC_NUM_ERANGE', 'Subdoc: existing number is out of range', ['subdoc', 'item-only']],
  [Status.SUBDOC_DELTA_EINVAL, 'SUBDOC_DELTA_EINVAL', 'Subdoc: invalid delta', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_PATH_EEXISTS, 'SUBDOC_PATH_EEXISTS', 'Subdoc: path already exists', ['subdoc', 'item-only']],
  [Status.SUBDOC_VALUE_ETOODEEP, 'SUBDOC_VALUE_ETOODEEP', 'Subdoc: value would make the document too deep', ['subdoc', 'invalid-input', 'item-only']],
  [Status.SUBDOC_INVALID_COMBO, 'SUBDOC_INVALID_COMBO', 'Subdoc: lookups and mutations mixed in one request', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_MULTI_PATH_FAILURE, 'SUBDOC_MULTI_PATH_FAILURE', 'Subdoc: some paths failed, see the per-path results', ['subdoc', 'special-handling']],
  [Status.SUBDOC_SUCCESS_DELETED, 'SUBDOC_SUCCESS_DELETED', 'Subdoc: success on a deleted document', ['item-deleted', 'success', 'subdoc']],
  [Status.SUBDOC_XATTR_INVALID_FLAG_COMBO, 'SUBDOC_XATTR_INVALID_FLAG_COMBO', 'Subdoc: invalid flag combination', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_XATTR_INVALID_KEY_COMBO, 'SUBDOC_XATTR_INVALID_KEY_COMBO', 'Subdoc: invalid combination of xattr keys', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_XATTR_UNKNOWN_MACRO, 'SUBDOC_XATTR_UNKNOWN_MACRO', 'Subdoc: unknown macro', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_XATTR_UNKNOWN_VATTR, 'SUBDOC_XATTR_UNKNOWN_VATTR', 'Subdoc: unknown virtual attribute', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_XATTR_CANT_MODIFY_VATTR, 'SUBDOC_XATTR_CANT_MODIFY_VATTR', 'Subdoc: virtual attributes cannot be modified', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_MULTI_PATH_FAILURE_DELETED, 'SUBDOC_MULTI_PATH_FAILURE_DELETED', 'Subdoc: some paths failed on a deleted document', ['item-deleted', 'subdoc', 'special-handling']],
  [Status.SUBDOC_INVALID_XATTR_ORDER, 'SUBDOC_INVALID_XATTR_ORDER', 'Subdoc: xattr paths must come first', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_XATTR_UNKNOWN_VATTR_MACRO, 'SUBDOC_XATTR_UNKNOWN_VATTR_MACRO', 'Subdoc: unknown virtual attribute macro', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_CAN_ONLY_REVIVE_DELETED_DOCUMENTS, 'SUBDOC_CAN_ONLY_REVIVE_DELETED_DOCUMENTS', 'Subdoc: only deleted documents can be revived', ['subdoc', 'invalid-input']],
  [Status.SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE, 'SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE', 'Subdoc: a deleted document cannot have a value', ['subdoc', 'invalid-input']],
];

function buildMap(): ErrorMap {
  const errors: Record<string, ErrorMapEntry> = {};
  for (const [code, name, desc, attrs, retry] of ROWS) {
    const entry: ErrorMapEntry = { name, desc, attrs };
    if (retry) entry.retry = retry;
    errors[code.toString(16)] = entry;
  }
  return { version: 2, revision: 1, errors };
}

/** The error map the embedded server serves (version 2). */
export const SERVER_ERROR_MAP: ErrorMap = buildMap();

/**
 * The JSON a server sends for GET_ERROR_MAP when the client understands at most `maxVersion`:
 * version 1 maps drop the `retry` objects. Throws RangeError for version 0.
 */
export function serializeErrorMap(map: ErrorMap, maxVersion: number): string {
  if (maxVersion < 1) throw new RangeError(`error map version ${maxVersion} does not exist`);
  if (maxVersion >= map.version) return JSON.stringify(map);
  const errors: Record<string, ErrorMapEntry> = {};
  for (const [k, e] of Object.entries(map.errors)) errors[k] = { name: e.name, desc: e.desc, attrs: e.attrs };
  return JSON.stringify({ version: Math.min(maxVersion, map.version), revision: map.revision, errors });
}

function bad(message: string): never {
  throw new ProtocolError('bad_error_map', message);
}

/**
 * Parses a GET_ERROR_MAP response body. Requires what clients rely on: `version`, `revision`,
 * `errors`, and `name`/`desc`/`attrs` on every entry keyed by a hex code.
 */
export function parseErrorMap(buf: Buffer | string): ErrorMap {
  let j: unknown;
  try {
    j = JSON.parse(typeof buf === 'string' ? buf : buf.toString('utf8'));
  } catch (err) {
    bad(`error map is not valid JSON: ${(err as Error).message}`);
  }
  if (j === null || typeof j !== 'object') bad('error map is not an object');
  const m = j as Record<string, unknown>;
  if (!Number.isInteger(m.version)) bad('error map has no integer "version"');
  if (!Number.isInteger(m.revision)) bad('error map has no integer "revision"');
  if (m.errors === null || typeof m.errors !== 'object' || Array.isArray(m.errors)) bad('error map has no "errors" object');
  for (const [k, e] of Object.entries(m.errors as Record<string, unknown>)) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(k)) bad(`error map key ${JSON.stringify(k)} is not a hex status code`);
    const entry = e as Record<string, unknown> | null;
    if (entry === null || typeof entry !== 'object') bad(`error map entry ${k} is not an object`);
    if (typeof entry.name !== 'string' || typeof entry.desc !== 'string') bad(`error map entry ${k} lacks name/desc`);
    if (!Array.isArray(entry.attrs) || entry.attrs.some((a) => typeof a !== 'string')) bad(`error map entry ${k} lacks attrs`);
  }
  return m as unknown as ErrorMap;
}

/** The attributes `map` gives `status` ([] when the map does not list it). */
export function errorAttributes(map: ErrorMap, status: number): string[] {
  const e = map.errors[status.toString(16)] ?? map.errors[status.toString(16).toUpperCase()];
  return e ? e.attrs : [];
}

/** The entry `map` has for `status`, if any. */
export function errorMapEntry(map: ErrorMap, status: number): ErrorMapEntry | undefined {
  return map.errors[status.toString(16)] ?? map.errors[status.toString(16).toUpperCase()];
}
