// One guard in front of every HTTP listener of the embedded cluster (management, query, views).
//
// A request must never end the process. The guard checks the request target before any handler
// sees it (a malformed one is answered 400 here), runs the handler inside a try, catches a
// promise it returns, and listens for stream errors on the request and the response, which
// Node would otherwise raise as uncaught 'error' events. Every failure is answered in the shape
// of the service that was called, and logged with `debug`.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import createDebug from 'debug';

const debug = createDebug('deferbase:server:http');

/** The error body each service answers with, as Couchbase Server words it. */
interface ErrorShape {
  /** A request the service cannot read: bad request target, bad escapes. */
  badRequest(message: string): unknown;
  /** A handler that failed: the request was readable, the server could not answer it. */
  internal(message: string): unknown;
}

const SHAPES = {
  // ns_server's validation errors: `{"errors": {"<field>": "<message>"}}`, `_` for the request.
  mgmt: {
    badRequest: (msg) => ({ errors: { _: msg } }),
    internal: (msg) => ({ errors: { _: msg } }),
  },
  // The query service's response envelope; 1040 is E_SERVICE_BAD_VALUE ("Error processing ..."),
  // 5000 its internal error.
  query: {
    badRequest: (msg) => ({ errors: [{ code: 1040, msg }], status: 'fatal' }),
    internal: (msg) => ({ errors: [{ code: 5000, msg }], status: 'fatal' }),
  },
  // CAPI (the views port) answers in CouchDB's shape.
  views: {
    badRequest: (msg) => ({ error: 'bad_request', reason: msg }),
    internal: (msg) => ({ error: 'error', reason: msg }),
  },
} satisfies Record<string, ErrorShape>;

export type HttpServiceKind = keyof typeof SHAPES;

/**
 * Why a request target cannot be served, or undefined when it can. Origin-form targets only
 * (`/path?query`), plus `*` for OPTIONS; every path segment must percent-decode.
 */
export function targetProblem(target: string | undefined): string | undefined {
  if (target === undefined || target === '') return 'empty request target';
  if (target === '*') return undefined;
  if (target[0] !== '/') return `request target must start with "/": ${JSON.stringify(target.slice(0, 100))}`;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  for (const segment of path.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return `malformed percent-escape in path segment ${JSON.stringify(segment.slice(0, 100))}`;
    }
  }
  return undefined;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Wraps a service's handler so that no request can end the process. A valid target reaches
 * `handle` with leading slashes collapsed to one (`//[` is a path, never a protocol-relative
 * URL), so handlers may parse `new URL(req.url, base)` safely.
 */
export function guardHttp(
  kind: HttpServiceKind,
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): RequestListener {
  const shape: ErrorShape = SHAPES[kind];
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    debug('%s handler failed on %s %s: %O', kind, req.method, req.url, err);
    try {
      reply(res, 500, shape.internal(err instanceof Error ? err.message : String(err)));
    } catch (replyErr) {
      debug('%s: could not answer the failure: %O', kind, replyErr);
      res.destroy();
    }
  };
  return (req, res) => {
    req.on('error', (err) => debug('%s request stream error: %s', kind, err.message));
    res.on('error', (err) => debug('%s response stream error: %s', kind, err.message));
    const problem = targetProblem(req.url);
    if (problem !== undefined) {
      debug('%s: 400 for %s %j: %s', kind, req.method, req.url, problem);
      reply(res, 400, shape.badRequest(problem));
      req.resume();
      return;
    }
    if (req.url!.startsWith('//')) req.url = req.url!.replace(/^\/+/, '/');
    try {
      const done = handle(req, res);
      if (done !== undefined && typeof (done as Promise<void>).then === 'function') {
        (done as Promise<void>).then(undefined, (err: unknown) => fail(req, res, err));
      }
    } catch (err) {
      fail(req, res, err);
    }
  };
}
