// Views (MapReduce over the capi port): query options encoded as the server expects them, and
// the request that streams rows (with include_docs fetched over KV, like the Python SDK does).
import { ArgumentError, ViewEngineError, ViewError } from '../errors';
import { secondsToMs } from '../connstr';
import { StreamRequest, type RowsHandler, type StreamControl } from './stream';
import { DocsAttacher } from './include-docs';
import type { ServiceHost } from './host';

export const STALE_OK = 'ok';
export const STALE_UPDATE_AFTER = 'update_after';
export const STALE_FALSE = 'false';
/** Python's name for stale=false: the index is updated before the query runs. */
export const STALE_UPDATE_BEFORE = STALE_FALSE;
/** The highest string a key range can end with (Python's STRING_RANGE_END, "\u0FFF"). */
export const STRING_RANGE_END = '\u0FFF';
export const ONERROR_CONTINUE = 'continue';
export const ONERROR_STOP = 'stop';

/**
 * Every Couchbase view query parameter, in the Python SDK's spellings (camelCase also accepted),
 * plus Python's sugar (mapkey_range, dockey_range, mapkey_single, mapkey_multi) and the client
 * options (include_docs, development / use_devmode, timeout, query: a ViewQuery to start from).
 */
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
  /** 'stop' (the default): errors from nodes fail the query (ViewEngineError); 'continue': rows come, errors are warnings. */
  on_error?: 'continue' | 'stop';
  debug?: boolean;
  /** Milliseconds (server-side). */
  connection_timeout?: number;
  /** [start, end?]: startkey and endkey (Python's mapkey_range). */
  mapkey_range?: unknown[];
  /** [start, end?]: startkey_docid and endkey_docid (Python's dockey_range). */
  dockey_range?: unknown[];
  /** The same as key. */
  mapkey_single?: unknown;
  /** The same as keys. */
  mapkey_multi?: unknown[];
  /** Fetch each row's document over KV and attach it as `row.doc` (a ValueResult). */
  include_docs?: boolean;
  /** Query the development design document (dev_ prefix). */
  development?: boolean;
  use_devmode?: boolean;
  /** Client-side timeout in seconds; default views_timeout. */
  timeout?: number;
  /** Python's streaming: rows are always streamed here; accepted for compatibility. */
  streaming?: boolean;
  /** A ViewQuery whose parameters these options add to (Python's query=). */
  query?: ViewQuery;
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
  mapkeyRange?: unknown[];
  dockeyRange?: unknown[];
  mapkeySingle?: unknown;
  mapkeyMulti?: unknown[];
  useDevmode?: boolean;
}

export interface ViewRow {
  id?: string;
  key: unknown;
  value: unknown;
  /** With include_docs: the document as a ValueResult (or a failed result with `error`). */
  doc?: unknown;
}

export type ViewMeta = { total_rows?: number; errors?: Array<{ from?: string; reason?: string }>; debug_info?: unknown } & Record<string, unknown>;

type Kind = 'json' | 'jarray' | 'bool' | 'uint' | 'string' | 'stale' | 'onerror' | 'range' | 'client';

interface Param {
  /** The server's name (for a range: the sugar's own name). */
  name: string;
  kind: Kind;
  /** A range's two server parameters. */
  range?: [string, string];
}

const P = (name: string, kind: Kind, range?: [string, string]): Param => ({ name, kind, range });
const KEY = P('key', 'json');
const KEYS = P('keys', 'jarray');
const STARTKEY = P('startkey', 'json');
const ENDKEY = P('endkey', 'json');
const STARTKEY_DOCID = P('startkey_docid', 'string');
const ENDKEY_DOCID = P('endkey_docid', 'string');
const MAPKEY_RANGE = P('mapkey_range', 'range', ['startkey', 'endkey']);
const DOCKEY_RANGE = P('dockey_range', 'range', ['startkey_docid', 'endkey_docid']);

const PARAMS: Record<string, Param> = {
  key: KEY,
  keys: KEYS,
  mapkey_single: KEY,
  mapkeySingle: KEY,
  mapkey_multi: KEYS,
  mapkeyMulti: KEYS,
  startkey: STARTKEY,
  startKey: STARTKEY,
  endkey: ENDKEY,
  endKey: ENDKEY,
  startkey_docid: STARTKEY_DOCID,
  startKeyDocId: STARTKEY_DOCID,
  endkey_docid: ENDKEY_DOCID,
  endKeyDocId: ENDKEY_DOCID,
  mapkey_range: MAPKEY_RANGE,
  mapkeyRange: MAPKEY_RANGE,
  dockey_range: DOCKEY_RANGE,
  dockeyRange: DOCKEY_RANGE,
  inclusive_end: P('inclusive_end', 'bool'),
  inclusiveEnd: P('inclusive_end', 'bool'),
  descending: P('descending', 'bool'),
  limit: P('limit', 'uint'),
  skip: P('skip', 'uint'),
  reduce: P('reduce', 'bool'),
  group: P('group', 'bool'),
  group_level: P('group_level', 'uint'),
  groupLevel: P('group_level', 'uint'),
  stale: P('stale', 'stale'),
  full_set: P('full_set', 'bool'),
  fullSet: P('full_set', 'bool'),
  on_error: P('on_error', 'onerror'),
  onError: P('on_error', 'onerror'),
  debug: P('debug', 'bool'),
  connection_timeout: P('connection_timeout', 'uint'),
  connectionTimeout: P('connection_timeout', 'uint'),
  include_docs: P('include_docs', 'client'),
  includeDocs: P('include_docs', 'client'),
  development: P('development', 'client'),
  use_devmode: P('development', 'client'),
  useDevmode: P('development', 'client'),
  timeout: P('timeout', 'client'),
  streaming: P('streaming', 'client'),
};

/** What the server's parameter names are, for messages. */
const SERVER_NAMES = [...new Set(Object.values(PARAMS).map((x) => x.name))];

export interface EncodedViewQuery {
  /** URL query string (without '?'). */
  query: string;
  /** POST body when `keys` was given, else null. */
  body: string | null;
  includeDocs: boolean;
  development: boolean;
  timeout: number | undefined;
  /** 'stop' unless on_error 'continue' was given: inline errors then fail the query. */
  onError: 'stop' | 'continue';
}

/** How parameters are read (Python's Query passthrough / unrecognized_ok / string base). */
export interface EncodeFlags {
  /** Values are sent as given, as strings, not JSON-encoded or checked (Python's passthrough). */
  passthrough?: boolean;
  /** Parameters this client does not know are sent as strings instead of refused (Python's unrecognized_ok). */
  unrecognizedOk?: boolean;
  /** A query string sent before the parameters (Python's Query.from_string). */
  base?: string;
}

function bad(message: string): never {
  throw new ArgumentError(message);
}

/** Python's _bool_param_handler: booleans, 'true'/'false', numbers by truth. */
function boolText(raw: string, value: unknown): string {
  if (typeof value === 'boolean') return String(value);
  if (value === 'true' || value === 'false') return value;
  if (typeof value === 'number') return value ? 'true' : 'false';
  return bad(`view parameter "${raw}" must be true or false (or 'true'/'false')`);
}

/** Python's _num_param_handler (no booleans), refusing negative counts. */
function uintText(raw: string, value: unknown): string {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return bad(`view parameter "${raw}" must be a whole number >= 0`);
  return String(n);
}

function jsonText(raw: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return bad(`view parameter "${raw}" cannot be JSON-encoded: ${(err as Error).message}`);
  }
  if (text === undefined) return bad(`view parameter "${raw}" cannot be JSON-encoded`);
  return text;
}

/** Python's _string_param_handler: strings and numbers, not booleans. */
function stringText(raw: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return bad(`view parameter "${raw}" must be a string (a document id)`);
}

/** Encodes view options as the views service expects; ArgumentError names a bad parameter. */
export function encodeViewQuery(params: ViewQueryOptions | null | undefined, flags: EncodeFlags = {}): EncodedViewQuery {
  const parts: string[] = [];
  let body: string | null = null;
  let includeDocs = false;
  let development = false;
  let timeout: number | undefined;
  let onError: 'stop' | 'continue' = 'stop';
  const seen = new Set<string>();
  const add = (name: string, text: string): void => {
    if (seen.has(name)) bad(`view parameter "${name}" was given twice`);
    seen.add(name);
    parts.push(flags.passthrough ? `${name}=${text}` : `${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  };
  for (const [raw, value] of Object.entries(params ?? {})) {
    if (value === undefined || raw === 'query') continue;
    const p = PARAMS[raw];
    if (!p) {
      if (flags.unrecognizedOk) {
        add(raw, stringText(raw, value));
        continue;
      }
      bad(`unknown view parameter "${raw}"; known: ${SERVER_NAMES.join(', ')} (set unrecognizedOk to send others)`);
    }
    if (p.kind === 'client') {
      if (p.name === 'include_docs') includeDocs = !!value;
      else if (p.name === 'development') development = !!value;
      else if (p.name === 'timeout') {
        if (typeof value !== 'number' || !(value > 0)) bad('view option "timeout" must be a positive number of seconds');
        timeout = value;
      }
      continue;
    }
    if (p.kind === 'range') {
      // Python's _set_range_common: [start] or [start, end] for the two server parameters
      if (!Array.isArray(value)) bad(`view parameter "${raw}" must be an array [start] or [start, end]`);
      if (value.length === 0) continue;
      if (value.length > 2) bad(`view parameter "${raw}" must have one or two elements`);
      const [startName, endName] = p.range!;
      const kind: Kind = startName === 'startkey' ? 'json' : 'string';
      const enc = (v: unknown): string => (flags.passthrough ? String(v) : kind === 'json' ? jsonText(raw, v) : stringText(raw, v));
      if (seen.has(startName) || seen.has(endName)) bad(`view parameter "${raw}" cannot be combined with ${startName} or ${endName}`);
      add(startName, enc(value[0]));
      if (value.length === 2 && value[1] !== undefined) add(endName, enc(value[1]));
      seen.add(raw);
      continue;
    }
    if (p.name === 'keys') {
      if (!Array.isArray(value)) bad(`view parameter "${raw}" must be an array`);
      if (seen.has('keys')) bad('view parameter "keys" was given twice');
      seen.add('keys');
      // Keys travel in a POST body, however many there are.
      body = JSON.stringify({ keys: value });
      continue;
    }
    if (flags.passthrough) {
      if (p.name === 'on_error') onError = String(value) === 'continue' ? 'continue' : 'stop';
      add(p.name, String(value));
      continue;
    }
    let text: string;
    switch (p.kind) {
      case 'json':
        text = jsonText(raw, value);
        break;
      case 'jarray':
        text = jsonText(raw, value);
        break;
      case 'bool':
        text = boolText(raw, value);
        break;
      case 'uint':
        text = uintText(raw, value);
        break;
      case 'string':
        text = stringText(raw, value);
        break;
      case 'stale':
        if (value === true || value === 'ok' || value === 'true') text = 'ok';
        else if (value === false || value === 'false') text = 'false';
        else if (value === 'update_after') text = 'update_after';
        else bad(`view parameter "stale" must be true/'ok', false/'false' or 'update_after'`);
        break;
      case 'onerror':
        if (value !== 'continue' && value !== 'stop') bad(`view parameter "on_error" must be 'continue' or 'stop'`);
        text = value;
        onError = value;
        break;
      default:
        bad(`view parameter "${raw}" cannot be encoded`);
    }
    add(p.name, text);
  }
  if (seen.has('key') && seen.has('keys')) bad('view parameters "key" and "keys" cannot be combined');
  const base = flags.base ?? '';
  const query = base && parts.length > 0 ? `${base}&${parts.join('&')}` : base || parts.join('&');
  return { query, body, includeDocs, development, timeout, onError };
}

/** The options a view runs with: a ViewQuery's (Python's query=) under the call's own, and its flags. */
function effectiveOptions(params: ViewQueryOptions | ViewQuery | null | undefined): [ViewQueryOptions, EncodeFlags] {
  if (params instanceof ViewQuery) return [params.options, params.flags];
  const given = params ?? {};
  const q = given.query;
  if (q === undefined) return [given, {}];
  if (!(q instanceof ViewQuery)) throw new ArgumentError('view option "query" must be a ViewQuery');
  const { query: _q, ...rest } = given;
  return [{ ...q.options, ...rest }, q.flags];
}

export function runView(engine: ServiceHost, ddoc: string, view: string, params: ViewQueryOptions | ViewQuery | null | undefined, handler: RowsHandler): StreamControl {
  if (typeof ddoc !== 'string' || ddoc.length === 0) throw new ArgumentError('view query needs a design document name');
  if (typeof view !== 'string' || view.length === 0) throw new ArgumentError('view query needs a view name');
  const [options, flags] = effectiveOptions(params);
  const enc = encodeViewQuery(options, flags);
  let name = ddoc.startsWith('_design/') ? ddoc.slice(8) : ddoc;
  if (enc.development && !name.startsWith('dev_')) name = `dev_${name}`;
  const path = `/${encodeURIComponent(engine.bucket)}/_design/${encodeURIComponent(name)}/_view/${encodeURIComponent(view)}${enc.query ? `?${enc.query}` : ''}`;
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
          // Errors from nodes inline in the answer: Python raises ViewEngineError unless on_error
          // is 'continue', in which case the rows stand and the errors are warnings (meta.errors).
          const errs = (meta as ViewMeta).errors;
          if (enc.onError === 'stop' && Array.isArray(errs) && errs.length > 0) {
            const e = new ViewEngineError(`view ${name}/${view} failed on ${errs[0].from ?? 'a node'}: ${errs[0].reason ?? 'unknown reason'} (on_error: 'continue' keeps the rows and warns instead)`);
            e.httpStatus = status;
            e.reason = String(errs[0].reason ?? '');
            e.errors = errs;
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

/** Python's Query property names (and their camelCase), readable and settable on a ViewQuery. */
const PROPERTY_NAMES = Object.keys(PARAMS).filter((k) => PARAMS[k].kind !== 'client');

/**
 * View query parameters kept as an object (Python's couchbase.views.params.Query): validated as
 * they are set, readable and settable by name (`q.limit = 10`, `q.mapkeyRange = ['a', 'b']`),
 * and accepted wherever view options are (`bucket.query(ddoc, view, q)` or `{ query: q, ... }`).
 * It may also name its design document and view.
 */
export class ViewQuery {
  /** The highest string a range can end with, as Python's STRING_RANGE_END gives it ("\u0FFF"). */
  static readonly STRING_RANGE_END = STRING_RANGE_END;

  readonly design: string | undefined;
  readonly view: string | undefined;
  /** Values go as given, as strings (Python's passthrough). */
  passthrough = false;
  /** Unknown parameters go as strings instead of being refused (Python's unrecognized_ok). */
  unrecognizedOk = false;
  private opts: ViewQueryOptions = {};
  private base = '';

  /** `new ViewQuery(options?)`, or `new ViewQuery(design, view, options?)`. */
  constructor(designOrOptions?: string | (ViewQueryOptions & { passthrough?: boolean; unrecognizedOk?: boolean }), view?: string, options: ViewQueryOptions & { passthrough?: boolean; unrecognizedOk?: boolean } = {}) {
    let o = options;
    if (typeof designOrOptions === 'string') {
      if (designOrOptions.length === 0) throw new ArgumentError('ViewQuery needs a design document name');
      if (typeof view !== 'string' || view.length === 0) throw new ArgumentError('ViewQuery needs a view name');
      this.design = designOrOptions;
      this.view = view;
    } else if (designOrOptions !== undefined) o = designOrOptions;
    const { passthrough, unrecognizedOk, ...params } = o;
    this.passthrough = passthrough === true;
    this.unrecognizedOk = unrecognizedOk === true;
    this.update(params);
  }

  /** A query from a ready query string, sent before any parameter set later (Python's from_string). */
  static fromString(text: string): ViewQuery {
    if (typeof text !== 'string') throw new ArgumentError('ViewQuery.fromString takes a query string');
    const q = new ViewQuery();
    q.base = text.replace(/^\?/, '');
    return q;
  }

  /** A ViewQuery from another (a copy), a query string or options (Python's from_any). */
  static fromAny(x: ViewQuery | string | ViewQueryOptions): ViewQuery {
    if (x instanceof ViewQuery) return x.update({}, true);
    if (typeof x === 'string') return ViewQuery.fromString(x);
    if (typeof x === 'object' && x !== null) return new ViewQuery(x);
    throw new ArgumentError('ViewQuery.fromAny takes a ViewQuery, a query string or options');
  }

  get options(): ViewQueryOptions {
    return { ...this.opts };
  }

  /** @internal How the parameters are read. */
  get flags(): EncodeFlags {
    return { passthrough: this.passthrough, unrecognizedOk: this.unrecognizedOk, base: this.base };
  }

  /**
   * Merges more options (validated; an undefined value removes an option); with `copy`, on a
   * copy of this query, which is returned (Python's update(copy=True, ...)).
   */
  update(options: ViewQueryOptions, copy = false): ViewQuery {
    const target = copy ? Object.assign(Object.create(ViewQuery.prototype) as ViewQuery, this, { opts: { ...this.opts } }) : this;
    const next: ViewQueryOptions = { ...target.opts, ...options };
    for (const k of Object.keys(next) as Array<keyof ViewQueryOptions>) if (next[k] === undefined) delete next[k];
    encodeViewQuery(next, target.flags);
    target.opts = next;
    return target;
  }

  /** The URL query string as sent (keys travel in the body). */
  get encoded(): string {
    return encodeViewQuery(this.opts, this.flags).query;
  }

  toString(): string {
    return `Query:'${this.encoded}'`;
  }
}

// q.limit, q.mapkeyRange, q.startkey_docid, ... as Python's Query properties.
for (const name of PROPERTY_NAMES) {
  Object.defineProperty(ViewQuery.prototype, name, {
    configurable: true,
    get(this: ViewQuery) {
      return (this.options as Record<string, unknown>)[name];
    },
    set(this: ViewQuery, value: unknown) {
      this.update({ [name]: value } as ViewQueryOptions);
    },
  });
}

export interface ViewQuery extends Omit<ViewQueryOptions, 'query' | 'include_docs' | 'includeDocs' | 'development' | 'use_devmode' | 'useDevmode' | 'timeout' | 'streaming'> {}

/** Python's name for it. */
export const Query = ViewQuery;
