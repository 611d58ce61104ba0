// The limits a design document's functions run under, shared by the host side (sandbox.ts), the
// worker (sandbox-worker.ts) and the code inside the sandbox realm (sandbox-runner.ts).

/** Milliseconds one document may spend in the map functions (and one reduce call in a reduce). */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 5000;

/** Heap (old generation) of one design document's sandbox thread, in MB. */
export const DEFAULT_MEMORY_LIMIT_MB = 128;

/** Documents whose map ran past the time limit before the whole design document is stopped. */
export const DEFAULT_MAX_TIMEOUTS = 3;

/** Couchbase's limits on what one document may emit (couchdb's mapreduce: key size, max_kv_size_per_doc, keys per doc). */
export const MAX_KEY_BYTES = 4096;
export const MAX_KV_BYTES_PER_DOC = 1024 * 1024;
export const MAX_ROWS_PER_DOC = 65535;
/** Nesting of an emitted key or value (collation and JSON encoding recurse on the host). */
export const MAX_EMIT_DEPTH = 256;
/** A reduce result larger than this is refused with Couchbase's "reduction too large". */
export const MAX_REDUCTION_BYTES = 64 * 1024;

/** Characters of map output one request may return before the batch stops and is resumed. */
export const MAP_OUTPUT_BUDGET_CHARS = 16 * 1024 * 1024;
