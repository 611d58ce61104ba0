// The CAPI (views) REST front end of one node: design documents and view queries, with the
// status codes and `{"error","reason"}` bodies of Couchbase's port 8092. Responses stream: rows
// are written in ~16 KiB chunks and the writer waits for 'drain' whenever the socket is full.
import type { IncomingMessage, ServerResponse } from 'node:http';
import debugFactory from 'debug';
import type { BucketStore, HttpServiceHandler, ServiceContext } from '../service-types';
import { bucketViews, restoreBucketViews, type BucketViews, type ViewsOptions } from './bucket-views';
import { designDocsListing } from './listing';
import { badRequest, notFound, ViewHttpError } from './errors';
import { parseViewQuery } from './query-params';
import { runViewQuery, type QueryOutput } from './query';
import { bucketPermission, formatPermission } from '../rbac/permission';

const debug = debugFactory('deferbase:views:http');

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const FLUSH_BYTES = 16 * 1024;
const WELCOME = JSON.stringify({ couchdb: 'Welcome', version: 'v4.5.1-deferbase', couchbase: '7.0.0-deferbase' });

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ViewHttpError(413, 'too_large', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJsonBody(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw badRequest('invalid UTF-8 JSON');
  }
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) {
      resolve();
      return;
    }
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes a query result with backpressure; ends the response. */
export async function streamQuery(res: ServerResponse, out: QueryOutput): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'must-revalidate' });
  let buf = out.header;
  let first = true;
  /** Adds a row; true when the buffer is due to be written. */
  const add = (row: string): boolean => {
    buf += first ? row : ',\r\n' + row;
    first = false;
    return buf.length >= FLUSH_BYTES;
  };
  /** Writes the buffer, waiting for 'drain' when the socket is full; false once the client went away (no more rows are produced). */
  const flush = async (): Promise<boolean> => {
    if (res.destroyed) return false;
    const more = res.write(buf);
    buf = '';
    if (!more) await waitForDrain(res);
    return !(res.destroyed || res.writableEnded);
  };
  const rows = out.rows;
  if (typeof (rows as AsyncIterator<string> & { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
    // Rows that wait for a sandbox (custom reduces).
    const it = rows as AsyncIterator<string>;
    for (let step = await it.next(); !step.done; step = await it.next()) if (add(step.value) && !(await flush())) return;
  } else {
    const it = rows as Iterator<string>;
    for (let step = it.next(); !step.done; step = it.next()) if (add(step.value) && !(await flush())) return;
  }
  res.end(buf + out.trailer());
}

/** Path segments, with `_design%2Fname` (as management tools send it) split like `_design/name`. */
function segments(pathname: string): string[] {
  const parts = pathname.split('/').filter((p) => p !== '');
  const out: string[] = [];
  for (const p of parts) {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      throw badRequest(`invalid path segment: ${p}`);
    }
    if (d.startsWith('_design/') && out.length === 1) out.push('_design', d.slice('_design/'.length));
    else out.push(d);
  }
  return out;
}

export class ViewsHttpHandler implements HttpServiceHandler {
  private readonly held = new Set<BucketViews>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly options: ViewsOptions = {},
  ) {
    // Design documents kept from an earlier run start indexing now, in the background, not at the first query.
    for (const views of restoreBucketViews(ctx.buckets(), options)) this.hold(views);
  }

  /** Ends the sandbox threads of the buckets this node served once no other node serves them. */
  close(): void {
    for (const views of this.held) views.release(this);
    this.held.clear();
  }

  private hold(views: BucketViews): BucketViews {
    if (!this.held.has(views)) {
      views.hold(this);
      this.held.add(views);
    }
    return views;
  }

  private views(store: BucketStore): BucketViews {
    return this.hold(bucketViews(store, this.options));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (err instanceof ViewHttpError) {
        sendJson(res, err.status, err.body());
        return;
      }
      debug('internal error on %s %s: %O', req.method, req.url, err);
      sendJson(res, 500, JSON.stringify({ error: 'error', reason: String((err as Error)?.message ?? err) }));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = segments(url.pathname);
    const method = req.method ?? 'GET';
    if (parts.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') throw new ViewHttpError(405, 'method_not_allowed', 'Only GET,HEAD allowed');
      sendJson(res, 200, WELCOME);
      return;
    }
    const user = this.ctx.authenticate(req.headers.authorization);
    if (!user) {
      sendJson(res, 401, JSON.stringify({ error: 'unauthorized', reason: 'Authentication is required for this request' }), {
        'WWW-Authenticate': 'Basic realm="Couchbase Server Admin / REST"',
      });
      return;
    }
    if (parts.length === 5 && parts[0] === 'pools' && parts[1] === 'default' && parts[2] === 'buckets' && parts[4] === 'ddocs') {
      // The management port forwards its ddocs listing here when this node runs views.
      const store = this.ctx.bucket(parts[3]);
      if (!store || !user.allows(bucketPermission(parts[3], ['views'], 'read'))) {
        sendJson(res, 404, JSON.stringify({ error: 'not_found', reason: 'Requested resource not found.' }));
        return;
      }
      this.views(store);
      sendJson(res, 200, JSON.stringify(designDocsListing(store)));
      return;
    }
    const bucketName = parts[0];
    const store = this.ctx.bucket(bucketName);
    if (!store) throw notFound('no_db_file');
    if (parts[1] !== '_design' || parts.length < 3) throw notFound('missing');
    const ddocName = parts[2];
    // Reading views and design documents needs views read (views_reader); writing design
    // documents needs views write (views_admin, bucket_full_access, admin), as in ns_server.
    const write = parts.length === 3 && method !== 'GET' && method !== 'HEAD';
    const permission = bucketPermission(bucketName, ['views'], write ? 'write' : 'read');
    if (!user.allows(permission)) throw new ViewHttpError(403, 'forbidden', `Forbidden. User needs the following permissions: ${formatPermission(permission)}`);
    if (parts.length === 3) {
      await this.designDoc(req, res, method, store, ddocName);
      return;
    }
    if (parts.length === 5 && parts[3] === '_view') {
      if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
        throw new ViewHttpError(405, 'method_not_allowed', 'Only GET,POST,HEAD allowed');
      }
      await this.viewQuery(req, res, method, store, ddocName, parts[4], url);
      return;
    }
    throw notFound('missing');
  }

  private async designDoc(req: IncomingMessage, res: ServerResponse, method: string, store: BucketStore, name: string): Promise<void> {
    const views = this.views(store);
    const id = `_design/${name}`;
    switch (method) {
      case 'GET':
      case 'HEAD': {
        const ddoc = views.get(name);
        if (!ddoc) throw notFound(views.wasDeleted(name) ? 'deleted' : 'missing');
        sendJson(res, 200, JSON.stringify(ddoc.ddoc.body), {
          'X-Couchbase-Meta': JSON.stringify({ id, rev: ddoc.rev, type: 'json' }),
        });
        return;
      }
      case 'PUT': {
        const body = parseJsonBody(await readBody(req));
        const ddoc = await views.putChecked(name, body);
        debug('design document %s/%s stored (rev %s)', store.name, id, ddoc.rev);
        sendJson(res, 201, JSON.stringify({ ok: true, id }));
        return;
      }
      case 'DELETE': {
        if (!views.delete(name)) throw notFound(views.wasDeleted(name) ? 'deleted' : 'missing');
        sendJson(res, 200, JSON.stringify({ ok: true, id }));
        return;
      }
      default:
        throw new ViewHttpError(405, 'method_not_allowed', 'Only DELETE,GET,HEAD,PUT allowed');
    }
  }

  private async viewQuery(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    store: BucketStore,
    ddocName: string,
    viewName: string,
    url: URL,
  ): Promise<void> {
    let body: Record<string, unknown> | undefined;
    if (method === 'POST') {
      const raw = await readBody(req);
      if (raw.length > 0) {
        const parsed = parseJsonBody(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('Request body must be a JSON object');
        body = parsed as Record<string, unknown>;
      }
    }
    const views = this.views(store);
    const group = views.get(ddocName);
    if (!group) throw notFound(views.wasDeleted(ddocName) ? 'deleted' : 'missing');
    const view = group.views.get(viewName);
    if (!view) throw notFound('missing_named_view');
    const args = parseViewQuery([...url.searchParams], body, view.reducer !== undefined, method === 'POST');
    // update_after would answer first and index afterwards; applying the pending batch is
    // synchronous and cheap here, so it indexes first like stale=false (the answer is fresher).
    if (args.stale === 'ok') await group.ensureBuilt();
    else await group.refresh();
    // The design document may have been replaced while we waited.
    if (views.get(ddocName) !== group) throw notFound('missing');
    await streamQuery(res, runViewQuery(store, group, view, args));
  }
}
