// Views (MapReduce over the capi port): query options encoded as the server expects them, and
// the request that streams rows (with include_docs fetched over KV, like the Python SDK does).
import { ArgumentError, ViewError, type CouchbaseError } from '../errors';
import { secondsToMs } from '../connstr';
import { StreamRequest, type RowsHandler, type StreamControl } from './stream';
import { DocsAttacher } from './include-docs';
import type { ServiceHost } from './host';

export const STALE_OK = 'ok';
export const STALE_UPDATE_AFTER = 'update_after';
export const STALE_FALSE = 'false';
export const ONERROR_CONTINUE = 'continue';
export const ONERROR_STOP = 'stop';

/** Every Couchbase view query parameter, in the Python SDK's spellings (camelCase also accepted). */
export interface ViewQueryOptions {
  key?: unknown;
  keys?: unknown[];
  startkey?: unknown;
  endkey?: unknown;
  startkey_docid?: string;
  endkey_docid?: string;
  inclusive_end?: boolean;
  descending?: boolean;
  limit?: number;
  skip?: number;
  reduce?: boolean;
  group?: boolean;
  group_level?: number;
  /** true/'ok', false/'false', 'update_after'. */
  stale?: boolean | 'ok' | 'false' | 'update_after';
  full_set?: boolean;
  on_error?: 'continue' | 'stop';
  debug?: boolean;
  /** Milliseconds (server-side). */
  connection_timeout?: number;
  /** Fetch each row's document over KV and attach it as `row.doc` (a ValueResult). */
  include_docs?: boolean;
  /** Query the development design document (dev_ prefix). */
  development?: boolean;
  /** Client-side timeout in seconds; default views_timeout. */
  timeout?: number;
  // camelCase aliases
  startKey?: unknown;
  endKey?: unknown;
  startKeyDocId?: string;
  endKeyDocId?: string;
  inclusiveEnd?: boolean;
  groupLevel?: number;
  fullSet?: boolean;
  onError?: 'continue' | 'stop';
  connectionTimeout?: number;
  includeDocs?: boolean;
}

export interface ViewRow {
  id?: string;
  key: unknown;
  value: unknown;
  /** With include_docs: the document as a ValueResult (or a failed result with `error`). */
  doc?: unknown;
}

export type ViewMeta = { total_rows?: number; errors?: Array<{ from?: string; reason?: string }>; debug_info?: unknown } & Record<string, unknown>;

type Kind = 'json' | 'bool' | 'uint' | 'string' | 'stale' | 'onerror' | 'client';

const PARAMS: Record<string, { name: string; kind: Kind }> = {
  key: { name: 'key', kind: 'json' },
  keys: { name: 'keys', kind: 'json' },
  startkey: { name: 'startkey', kind: 'json' },
  startKey: { name: 'startkey', kind: 'json' },
  endkey: { name: 'endkey', kind: 'json' },
  endKey: { name: 'endkey', kind: 'json' },
  startkey_docid: { name: 'startkey_docid', kind: 'string' },
  startKeyDocId: { name: 'startkey_docid', kind: 'string' },
  endkey_docid: { name: 'endkey_docid', kind: 'string' },
  endKeyDocId: { name: 'endkey_docid', kind: 'string' },
  inclusive_end: { name: 'inclusive_end', kind: 'bool' },
  inclusiveEnd: { name: 'inclusive_end', kind: 'bool' },
  descending: { name: 'descending', kind: 'bool' },
  limit: { name: 'limit', kind: 'uint' },
  skip: { name: 'skip', kind: 'uint' },
  reduce: { name: 'reduce', kind: 'bool' },
  group: { name: 'group', kind: 'bool' },
  group_level: { name: 'group_level', kind: 'uint' },
  groupLevel: { name: 'group_level', kind: 'uint' },
  stale: { name: 'stale', kind: 'stale' },
  full_set: { name: 'full_set', kind: 'bool' },
  fullSet: { name: 'full_set', kind: 'bool' },
  on_error: { name: 'on_error', kind: 'onerror' },
  onError: { name: 'on_error', kind: 'onerror' },
  debug: { name: 'debug', kind: 'bool' },
  connection_timeout: { name: 'connection_timeout', kind: 'uint' },
  connectionTimeout: { name: 'connection_timeout', kind: 'uint' },
  include_docs: { name: 'include_docs', kind: 'client' },
  includeDocs: { name: 'include_docs', kind: 'client' },
  development: { name: 'development', kind: 'client' },
  timeout: { name: 'timeout', kind: 'client' },
};

export interface EncodedViewQuery {
  /** URL query string (without '?'). */
  query: string;
  /** POST body when `keys` was given, else null. */
  body: string | null;
  includeDocs: boolean;
  development: boolean;
  timeout: number | undefined;
}

/** Encodes view options as the views service expects; ArgumentError names a bad parameter. */
export function encodeViewQuery(params: ViewQueryOptions | null | undefined): EncodedViewQuery {
  const parts: string[] = [];
  let body: string | null = null;
  let includeDocs = false;
  let development = false;
  let timeout: number | undefined;
  const seen = new Set<string>();
  for (const [raw, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    const p = PARAMS[raw];
    if (!p) throw new ArgumentError(`unknown view parameter "${raw}"; known: ${[...new Set(Object.values(PARAMS).map((x) => x.name))].join(', ')}`);
    if (seen.has(p.name)) throw new ArgumentError(`view parameter "${p.name}" was given twice`);
    seen.add(p.name);
    let text: string;
    switch (p.kind) {
      case 'json':
        if (p.name === 'keys') {
          if (!Array.isArray(value)) throw new ArgumentError('view parameter "keys" must be an array');
          body = JSON.stringify({ keys: value });
          continue;
        }
        try {
          text = JSON.stringify(value);
        } catch (err) {
          throw new ArgumentError(`view parameter "${raw}" cannot be JSON-encoded: ${(err as Error).message}`);
        }
        if (text === undefined) throw new ArgumentError(`view parameter "${raw}" cannot be JSON-encoded`);
        break;
      case 'bool':
        if (typeof value !== 'boolean') throw new ArgumentError(`view parameter "${raw}" must be true or false`);
        text = String(value);
        break;
      case 'uint':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ArgumentError(`view parameter "${raw}" must be a whole number >= 0`);
        text = String(value);
        break;
      case 'string':
        if (typeof value !== 'string') throw new ArgumentError(`view parameter "${raw}" must be a string (a document id)`);
        text = value;
        break;
      case 'stale':
        if (value === true || value === 'ok') text = 'ok';
        else if (value === false || value === 'false') text = 'false';
        else if (value === 'update_after') text = 'update_after';
        else throw new ArgumentError(`view parameter "stale" must be true/'ok', false/'false' or 'update_after'`);
        break;
      case 'onerror':
        if (value !== 'continue' && value !== 'stop') throw new ArgumentError(`view parameter "on_error" must be 'continue' or 'stop'`);
        text = value;
        break;
      case 'client':
        if (p.name === 'include_docs') includeDocs = !!value;
        else if (p.name === 'development') development = !!value;
        else {
          if (typeof value !== 'number' || !(value > 0)) throw new ArgumentError('view option "timeout" must be a positive number of seconds');
          timeout = value;
        }
        continue;
    }
    parts.push(`${p.name}=${encodeURIComponent(text)}`);
  }
  if (seen.has('key') && seen.has('keys')) throw new ArgumentError('view parameters "key" and "keys" cannot be combined');
  return { query: parts.join('&'), body, includeDocs, development, timeout };
}

export function runView(engine: ServiceHost, ddoc: string, view: string, params: ViewQueryOptions | null | undefined, handler: RowsHandler): StreamControl {
  if (typeof ddoc !== 'string' || ddoc.length === 0) throw new ArgumentError('view query needs a design document name');
  if (typeof view !== 'string' || view.length === 0) throw new ArgumentError('view query needs a view name');
  const enc = encodeViewQuery(params);
  let name = ddoc.startsWith('_design/') ? ddoc.slice(8) : ddoc;
  if (enc.development && !name.startsWith('dev_')) name = `dev_${name}`;
  const path = `/${encodeURIComponent(engine.bucket)}/_design/${encodeURIComponent(name)}/_view/${encodeURIComponent(view)}${enc.query ? `?${enc.query}` : ''}`;
  const stopOnError = (params as ViewQueryOptions | undefined)?.on_error === 'stop' || (params as ViewQueryOptions | undefined)?.onError === 'stop';
  // A row whose document is gone gets the failed result (success false, `error` set).
  const docs = enc.includeDocs ? new DocsAttacher(engine, 'error', handler) : null;
  const req = new StreamRequest(
    engine,
    {
      service: 'capi',
      method: enc.body !== null ? 'POST' : 'GET',
      path,
      body: enc.body,
      contentType: 'application/json',
      timeoutMs: secondsToMs(enc.timeout ?? engine.options.views_timeout),
      rowsKey: 'rows',
      errorOf(status, meta) {
        if (status >= 200 && status < 300) {
          const errs = (meta as ViewMeta).errors;
          if (stopOnError && Array.isArray(errs) && errs.length > 0) {
            const e = new ViewError(`view ${name}/${view} failed on ${errs[0].from ?? 'a node'}: ${errs[0].reason ?? 'unknown reason'}`);
            e.httpStatus = status;
            e.reason = String(errs[0].reason ?? '');
            return e;
          }
          return null;
        }
        const error = String(meta.error ?? 'error');
        const reason = String(meta.reason ?? '');
        const advice = status === 404 ? '; check the design document and view names (and development: true for dev_ views)' : status === 400 ? '; check the query parameters' : '';
        const e = new ViewError(`view ${name}/${view}: ${error}${reason ? ` (${reason})` : ''}${advice}`);
        e.httpStatus = status;
        e.error = error;
        e.reason = reason;
        return e;
      },
      errorForBadBody(status, text) {
        const e = new ViewError(`views service answered HTTP ${status} without a JSON body${text ? `: ${text.slice(0, 200)}` : ''}`);
        e.httpStatus = status;
        return e;
      },
    },
    docs ?? handler,
  ).start();
  if (docs === null) return req;
  docs.attach(req);
  return docs;
}

/**
 * A view query kept as an object (Python's couchbase.views.params.Query): design document, view
 * and options, validated as they are set. Run it with engine.view(q.design, q.view, q.options, h).
 */
export class ViewQuery {
  readonly design: string;
  readonly view: string;
  private opts: ViewQueryOptions;

  constructor(design: string, view: string, options: ViewQueryOptions = {}) {
    if (typeof design !== 'string' || design.length === 0) throw new ArgumentError('ViewQuery needs a design document name');
    if (typeof view !== 'string' || view.length === 0) throw new ArgumentError('ViewQuery needs a view name');
    encodeViewQuery(options);
    this.design = design;
    this.view = view;
    this.opts = { ...options };
  }

  get options(): ViewQueryOptions {
    return { ...this.opts };
  }

  /** Merges more options (validated; an undefined value removes an option). */
  update(options: ViewQueryOptions): this {
    const next: ViewQueryOptions = { ...this.opts, ...options };
    for (const k of Object.keys(next) as Array<keyof ViewQueryOptions>) if (next[k] === undefined) delete next[k];
    encodeViewQuery(next);
    this.opts = next;
    return this;
  }

  /** The URL query string as sent (without keys, which travel in the body). */
  get encoded(): string {
    return encodeViewQuery(this.opts).query;
  }
}
