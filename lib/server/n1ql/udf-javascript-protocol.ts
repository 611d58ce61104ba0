// Messages between the query service and its JavaScript function threads
// (udf-javascript-worker.ts). Only strings and numbers cross: the arguments go in as a JSON text,
// the result comes back as one, and the host parses it with its own JSON.

/** Shared between the host and a thread: the word the thread bumps after each answer, and when it started its current call. */
export interface ThreadMemory {
  /** Int32 word 0: answers posted so far, by every thread of the runner (the host waits on it). */
  readonly signal: SharedArrayBuffer;
  /** Float64 slot 0: when the thread started the call it is running (epoch ms), 0 while idle. */
  readonly started: SharedArrayBuffer;
}

export interface CallRequest {
  readonly id: number;
  /** The JavaScript function's name in its code. */
  readonly name: string;
  /** The code that defines it (the function's library text). */
  readonly code: string;
  /** The arguments, a JSON array. */
  readonly args: string;
  readonly timeoutMs: number;
}

/**
 * `result`: '=' + the JSON text of the value, '' for undefined (MISSING). `error`: why the call
 * failed, in words for the 10109 message; `timeout` when it ran past the limit.
 */
export type CallReply = { readonly id: number; readonly result: string } | { readonly id: number; readonly error: string; readonly timeout?: true };

/** The largest result a call may return, in characters (Couchbase's document size limit). */
export const MAX_RESULT_CHARS = 20 * 1024 * 1024;

/** A reason that stays readable in an error message. */
export const MAX_REASON_CHARS = 1000;
