// Errors the views service answers with. Each carries the HTTP status and the CouchDB-style
// `{"error","reason"}` body Couchbase's view engine sends, so the HTTP layer has one place to turn
// any failure into a response.

export class ViewHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${error}: ${reason}`);
    this.name = 'ViewHttpError';
  }

  body(): string {
    return JSON.stringify({ error: this.error, reason: this.reason });
  }
}

/** 400 query_parse_error: a view query parameter the engine refuses. */
export function queryParseError(reason: string): ViewHttpError {
  return new ViewHttpError(400, 'query_parse_error', reason);
}

/** 400 bad_request: malformed input (JSON that does not parse, wrong shapes). */
export function badRequest(reason: string): ViewHttpError {
  return new ViewHttpError(400, 'bad_request', reason);
}

/** 404 not_found with Couchbase's reasons: `missing`, `deleted`, `missing_named_view`, `no_db_file`. */
export function notFound(reason: string): ViewHttpError {
  return new ViewHttpError(404, 'not_found', reason);
}

/** 400 invalid_design_document: a design document PUT that fails validation (bad map/reduce source...). */
export function invalidDesignDocument(reason: string): ViewHttpError {
  return new ViewHttpError(400, 'invalid_design_document', reason);
}

/** A map or reduce function failed; `docId` names the document for map errors. */
export class ViewFunctionError extends Error {
  constructor(
    message: string,
    readonly docId?: string,
  ) {
    super(message);
    this.name = 'ViewFunctionError';
  }
}
