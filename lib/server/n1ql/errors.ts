// Errors the query service reports, with Couchbase's codes. Everything the engine throws on
// purpose is a QueryError; anything else reaching the service is reported as 5000.

import { posColumn, posLine, type SourcePos } from './ast';

export interface ErrorReason {
  [k: string]: unknown;
}

export class QueryError extends Error {
  readonly code: number;
  readonly reason?: ErrorReason;

  constructor(code: number, msg: string, reason?: ErrorReason) {
    super(msg);
    this.name = 'QueryError';
    this.code = code;
    this.reason = reason;
  }

  /** The `errors[]` entry of the response. */
  toJSON(): { code: number; msg: string; reason?: ErrorReason } {
    return this.reason ? { code: this.code, msg: this.message, reason: this.reason } : { code: this.code, msg: this.message };
  }
}

/** ABORT(msg): 5011, keeping the message's text for a user-defined function to report (10109). */
export class AbortError extends QueryError {
  constructor(readonly text: string) {
    super(5011, `Abort: ${text}. - cause: ${text}`);
  }
}

/**
 * A failure inside an expression (a bad regular expression, an unknown parameter). The stage
 * evaluating the expression reports it as Couchbase does: 5010 "Error evaluating <term>."
 * with this as the cause.
 */
export class EvaluationCause extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'EvaluationCause';
  }
}

/** The 5010 error for a cause raised while evaluating `term` (projection, filter, ...). */
export function evaluationError(cause: EvaluationCause, term: string): QueryError {
  return new QueryError(ErrorCode.EVALUATION, `Error evaluating ${term}. - cause: ${cause.message}`);
}

/** Runs `f`, turning an evaluation failure into the 5010 error of `term`. */
export function evaluating<T>(term: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EvaluationCause) throw evaluationError(err, term);
    throw err;
  }
}

/** Codes used across the engine. */
export const ErrorCode = {
  READONLY: 1000,
  NO_STATEMENT: 1050,
  UNRECOGNIZED_PARAMETER: 1065,
  BAD_PARAMETER: 1065,
  TIMEOUT: 1080,
  SYNTAX: 3000,
  SEMANTIC: 3100,
  PLAN: 4000,
  NO_TERM_NAME: 4010,
  DUPLICATE_ALIAS: 4020,
  AMBIGUOUS_REFERENCE: 3080,
  NOT_GROUP_KEY: 4210,
  INDEX_EXISTS: 4300,
  AMBIGUOUS_META: 4310,
  NO_SUCH_PREPARED: 4040,
  EXECUTION: 5000,
  EVALUATION: 5010,
  RANGE: 5035,
  MEMORY_QUOTA: 5500,
  AUTH: 10000,
  KEYSPACE_NOT_FOUND: 12003,
  INDEX_NOT_FOUND: 12004,
  DML: 12009,
  SECONDARY_INDEX_NOT_FOUND: 12016,
  INSUFFICIENT_CREDENTIALS: 13014,
} as const;

/** HTTP status the service answers with, chosen from the first error (as Couchbase does). */
export function httpStatusFor(code: number): number {
  if (code === ErrorCode.AUTH || code === ErrorCode.INSUFFICIENT_CREDENTIALS) return 401;
  if (code === ErrorCode.KEYSPACE_NOT_FOUND) return 404;
  if (code === ErrorCode.TIMEOUT) return 500;
  if (code === ErrorCode.INDEX_EXISTS) return 409;
  if (code >= 1000 && code < 5000) return 400;
  if (code === ErrorCode.DML) return 200;
  return 500;
}

/** " (near line 1, column 8)": where a name was written, as Couchbase appends it to some messages. */
export function nearText(at: SourcePos | undefined): string {
  return at === undefined ? '' : ` (near line ${posLine(at)}, column ${posColumn(at)})`;
}

export function syntaxError(msg: string): QueryError {
  return new QueryError(ErrorCode.SYNTAX, msg);
}

export function executionError(msg: string): QueryError {
  return new QueryError(ErrorCode.EXECUTION, msg);
}
