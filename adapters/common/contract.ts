// What the flavours need from an engine, written down structurally so the adapters depend on
// the shape (undici's dispatcher/handler split) and a caller may bring its own engine.
// lib/engine's Engine satisfies it; engine-factory.ts adapts an engine of the older contract
// (kv() with a callback, no dispatchKv()).

export type Callback<T = unknown> = (err: Error | null | undefined, result?: T) => void;

/** Handler for a streamed N1QL or view response; rows arrive in batches as they are parsed. */
export interface RowsHandler {
  onRows(rows: unknown[]): void;
  onDone(meta: unknown): void;
  onError(err: Error): void;
}

/** Returned by a stream request: flow control and abort. */
export interface StreamControl {
  pause(): void;
  resume(): void;
  cancel(): void;
}

/**
 * Receives a KV call's outcome: an object the caller already has for the call (a flavour's own
 * Deferred or promise resolvers), so a call needs no callback closure.
 */
export interface KvHandler {
  kvDone(err: Error | null | undefined, result?: unknown): void;
}

export interface EngineLike {
  connect(cb: Callback<void>): void;
  close(cb?: Callback<void>): void;
  /**
   * Runs one KV operation, reporting to `handler.kvDone` once. Returns a handle whose cancel()
   * makes the engine report CancelledError at once.
   */
  dispatchKv(op: string, key: string, options: Record<string, unknown>, handler: KvHandler): unknown;
  kvMulti(op: string, keys: unknown, options: Record<string, unknown>, cb: Callback): unknown;
  n1ql(query: unknown, handler: RowsHandler): StreamControl;
  view(ddoc: string, view: string, params: Record<string, unknown>, handler: RowsHandler): StreamControl;
  // What lib/engine's Engine also offers; an engine without them makes those Bucket calls fail
  // with NotSupportedError.
  /** A management call by name (BucketManager methods, flush). */
  manage?(name: string, args: readonly unknown[], cb: Callback): void;
  ping?(cb: Callback): void;
  diagnostics?(): unknown;
  /** What the bucket reports about itself (name, TLS, nodes, replicas). */
  info?(): object;
  setting?(name: string): unknown;
  set?(name: string, value: unknown): void;
  addBucketCreds?(bucket: string, password: string): void;
  /** The latest mutation token of each vBucket written. */
  mutationTokens?(): unknown[];
}

/** An engine of the older contract: KV calls take a callback. */
export interface CallbackEngineLike extends Omit<EngineLike, 'dispatchKv'> {
  kv(op: string, key: string, options: Record<string, unknown>, cb: Callback): unknown;
  dispatchKv?: EngineLike['dispatchKv'];
}
