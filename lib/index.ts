// 'deferbase': the public types every flavour shares (queries, results, errors, formats).
export {
  N1QLQuery,
  CONSISTENCY_NONE,
  CONSISTENCY_REQUEST,
  CONSISTENCY_STATEMENT,
  CONSISTENCY_AT_PLUS,
  type Consistency,
  type N1QLMeta,
  STALE_OK,
  STALE_FALSE,
  STALE_UPDATE_AFTER,
  ONERROR_CONTINUE,
  ONERROR_STOP,
  encodeViewQuery,
  ViewQuery,
  type ViewQueryOptions,
  type ViewRow,
  type ViewMeta,
  type RowsHandler,
  type StreamControl,
  type KvOptions,
  type OpName,
  type ConnOptions,
} from './engine';
export * from './engine/errors';
export * from './engine/results';
export {
  FMT_JSON,
  FMT_UTF8,
  FMT_BYTES,
  FMT_AUTO,
  FMT_PICKLE,
  FMT_LEGACY_MASK,
  FMT_COMMON_MASK,
  setJsonConverters,
  type JsonEncode,
  type JsonDecode,
  type Transcoder as TranscoderLike,
  type Encoded,
  type Format,
} from './engine/transcoder';
export * as SD from './engine/subdoc';
export { SubdocSpec, type SpecOptions, type SubdocOp } from './engine/subdoc';
export { Item, ItemCollection, ItemOptionDict, ItemSequence, type ItemOptions } from './engine/items';
export { N1qlIndex, type IndexCreateOptions, type IndexDropOptions, type IndexWatchOptions } from './engine/services/index-management';
export type { DesignOptions } from './engine/services/design-docs';
export type { PingReport, PingEntry, DiagnosticsReport, DiagnosticsEntry } from './engine/health';
export type { PythonTranscoder } from './engine/transcoder';
export { AuthDomain, NotReadyError, type AuthDomainName } from './engine/services/admin';
export { Transcoder } from './engine/python-transcoder';
export { lcbVersion, DEFERBASE_VERSION } from './engine/version';
export {
  AES256HMACSHA256Provider,
  InMemoryKeyStore,
  CryptoError,
  CryptoProviderNotFoundError,
  CryptoKeyError,
  CryptoSignatureError,
  CryptoExecutionError,
  DEFAULT_CRYPT_PREFIX,
  type CryptoProvider,
  type FieldSpec,
  type KeyStore,
  type AesProviderOptions,
} from './engine/field-encryption';
export { PasswordAuthenticator, ClassicAuthenticator, CertAuthenticator, type Authenticator } from './engine/auth';
export { MutationState, type TokenTracker } from './engine/mutation-state';
// Python's other names for N1QL consistency levels, its profile levels and view constants.
export { NOT_BOUNDED, REQUEST_PLUS, STATEMENT_PLUS, CONSISTENCY_UNBOUNDED, PROFILE_OFF, PROFILE_PHASES, PROFILE_TIMINGS } from './engine/services/n1ql';
export { Query, STALE_UPDATE_BEFORE, STRING_RANGE_END } from './engine/services/views';
export { COMPRESS_NONE, COMPRESS_IN, COMPRESS_OUT, COMPRESS_INOUT, COMPRESS_FORCE } from './engine/engine';
