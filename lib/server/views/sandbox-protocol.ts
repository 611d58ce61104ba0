// Messages between the host (sandbox.ts) and a design document's sandbox thread
// (sandbox-worker.ts). Only strings and numbers cross: the documents go in as JSON texts, the
// rows and reductions come back as JSON texts the host parses and validates itself.

export interface InitRequest {
  readonly t: 'init';
  readonly id: number;
  /** Name for stack traces and the context (`bucket/_design/name`). */
  readonly name: string;
  readonly maps: readonly string[];
  readonly reduces: readonly string[];
  readonly timeoutMs: number;
}

export interface MapRequest {
  readonly t: 'map';
  readonly id: number;
  /** Per document: JSON `[id, rev, seq, vb, expiration, flags]`. */
  readonly metas: readonly string[];
  /** Every document's body bytes, back to back (transferred, not copied). */
  readonly bodies: Uint8Array;
  /** Per document: where its body ends in `bodies`. */
  readonly ends: readonly number[];
  /** Per document: 0 when the body is JSON (handed to the map parsed), 1 when binary (handed over as base64). */
  readonly types: readonly number[];
  /** Documents that may still time out before the request stops (the design document fails at 0). */
  readonly timeoutsLeft: number;
}

export interface ReduceRequest {
  readonly t: 'reduce';
  readonly id: number;
  /** JSON `[reduceIndex, [[keys or null, values, rereduce], ...]]`. */
  readonly input: string;
}

export type SandboxRequest = InitRequest | MapRequest | ReduceRequest;

/**
 * `init`: `errors[i]` is '' or why function i (maps first, then reduces) did not compile.
 * `map`: `text` is JSON `[processed, docIndex, viewIndex, key, value, ...]` (a failed document is
 * `docIndex, -1, reason, viewIndex` when its map threw or timed out, `-2` when what it emitted
 * broke a limit) and `timeouts` counts documents stopped at the time limit.
 * `reduce`: `text` is a JSON list of reductions, or `!reason`.
 */
export type SandboxReply =
  | { readonly id: number; readonly errors: readonly string[] }
  | { readonly id: number; readonly text: string; readonly timeouts: number }
  | { readonly id: number; readonly text: string }
  | { readonly id: number; readonly fault: string };

/** The reason a map gets for a document stopped at the time limit (Couchbase's text). */
export const TIMEOUT_REASON = 'timeout';

/**
 * A function's source as it is wrapped for compiling: without trailing blanks and semicolons,
 * which are common in hand-written design documents and harmless to Couchbase but would break
 * the parentheses around it. A loop, not a regular expression: a source is untrusted input.
 */
export function functionExpression(source: string): string {
  let end = source.length;
  while (end > 0) {
    const c = source.charCodeAt(end - 1);
    if (c === 0x3b || c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029) end--;
    else break;
  }
  return source.slice(0, end);
}
