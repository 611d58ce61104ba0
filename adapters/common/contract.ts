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
}

/** An engine of the older contract: KV calls take a callback. */
export interface CallbackEngineLike extends Omit<EngineLike, 'dispatchKv'> {
  kv(op: string, key: string, options: Record<string, unknown>, cb: Callback): unknown;
  dispatchKv?: EngineLike['dispatchKv'];
}
