// N1QL: the query object the flavours share (Python's couchbase.n1ql.N1QLQuery), and the request
// that streams its rows.
import { ArgumentError, HTTPError, N1QLError, type CouchbaseError, type N1QLErrorEntry } from '../errors';
import type { MutationToken } from '../results';
import { MutationState } from '../mutation-state';
import { secondsToMs } from '../connstr';
import { StreamRequest, type RowsHandler, type StreamControl } from './stream';
import type { ServiceHost } from './host';

export const CONSISTENCY_NONE = 'not_bounded';
export const CONSISTENCY_REQUEST = 'request_plus';
export const CONSISTENCY_STATEMENT = 'statement_plus';
export const CONSISTENCY_AT_PLUS = 'at_plus';
/** Python's names for the same levels. */
export const NOT_BOUNDED = CONSISTENCY_NONE;
export const REQUEST_PLUS = CONSISTENCY_REQUEST;
export const STATEMENT_PLUS = CONSISTENCY_STATEMENT;
export const CONSISTENCY_UNBOUNDED = CONSISTENCY_NONE;
export type Consistency = typeof CONSISTENCY_NONE | typeof CONSISTENCY_REQUEST | typeof CONSISTENCY_STATEMENT | typeof CONSISTENCY_AT_PLUS;

export const PROFILE_OFF = 'off';
export const PROFILE_PHASES = 'phases';
export const PROFILE_TIMINGS = 'timings';
const PROFILES = [PROFILE_OFF, PROFILE_PHASES, PROFILE_TIMINGS];

export type N1QLMeta = {
  requestID?: string;
  clientContextID?: string;
  signature?: unknown;
  status?: string;
  metrics?: Record<string, unknown>;
  warnings?: N1QLErrorEntry[];
  errors?: N1QLErrorEntry[];
  prepared?: string;
  profile?: unknown;
} & Record<string, unknown>;

let contextSeq = 0;

/** A plain object: named parameters (Python's keyword arguments), not a positional value. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A N1QL statement with its options (Python SDK 2.x's N1QLQuery). Positional parameters follow
 * the statement; named ones are given as one object, as Python takes them as keyword arguments:
 *   new N1QLQuery('SELECT * FROM `b` WHERE a = $1', 42)
 *   new N1QLQuery('SELECT * FROM `b` WHERE type = $type AND id = $id', { type: 'airline', id: 0 })
 * (a single object argument is named parameters; pass `[obj]` through positionalParams() for an
 * object as $1).
 */
export class N1QLQuery {
  readonly statement: string;
  positional: unknown[] | undefined;
  named: Record<string, unknown> = {};
  /** not_bounded (default), request_plus, statement_plus, at_plus (see consistentWith). */
  consistency: Consistency = CONSISTENCY_NONE;
  /** false: prepare once, then execute the prepared plan (cached per engine). */
  adhoc = true;
  /**
   * A cluster-level query over several buckets: it carries the credentials of every bucket
   * added with Bucket.addBucketCreds (Python's cross_bucket).
   */
  crossBucket = false;
  /** Seconds; the query's own limit (the bucket's n1qlTimeout still applies when lower). */
  timeout: number | undefined;
  readonly: boolean | undefined;
  /** Echoed by the server as clientContextID; generated when not set. */
  clientContextId: string | undefined;
  scanCap: number | undefined;
  scanWait: number | undefined;
  pipelineBatch: number | undefined;
  pipelineCap: number | undefined;
  maxParallelism: number | undefined;
  private profileValue: 'off' | 'phases' | 'timings' | undefined;
  metrics: boolean | undefined;
  queryContext: string | undefined;
  /** Extra body fields sent verbatim (Python's set_option). */
  readonly raw: Record<string, unknown> = {};
  private scanVectors: Record<string, Record<string, [number, string]>> | MutationState | undefined;

  constructor(statement: string, ...params: unknown[]) {
    if (typeof statement !== 'string' || statement.trim().length === 0) {
      throw new ArgumentError('N1QLQuery needs a statement string');
    }
    this.statement = statement;
    if (params.length === 1 && isPlainObject(params[0])) {
      this.positional = undefined;
      this.namedParams(params[0]);
    } else {
      this.positional = params.length > 0 ? params : undefined;
    }
  }

  /** Python's profile: 'off', 'phases' or 'timings' (anything else is a TypeError, as in Python). */
  get profile(): 'off' | 'phases' | 'timings' | undefined {
    return this.profileValue;
  }
  set profile(v: 'off' | 'phases' | 'timings' | undefined) {
    if (v !== undefined && !PROFILES.includes(v)) throw new TypeError(`Profile option must be one of: ${PROFILES.join(', ')}`);
    this.profileValue = v;
  }

  positionalParams(args: unknown[]): this {
    this.positional = [...args];
    return this;
  }

  namedParams(params: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(params)) this.named[k] = v;
    return this;
  }

  /** Sets a raw body field (e.g. 'pretty', false). */
  setOption(name: string, value: unknown): this {
    this.raw[name] = value;
    return this;
  }

  /**
   * at_plus consistency: the query waits until the index has seen these mutations (a
   * MutationState, or the mutation tokens themselves). As in Python, it cannot be combined with
   * request_plus / statement_plus, and an empty state is refused (TypeError).
   */
  consistentWith(state: MutationState | Iterable<MutationToken>): this {
    if (this.consistency !== CONSISTENCY_NONE && this.consistency !== CONSISTENCY_AT_PLUS) {
      throw new TypeError('consistentWith is not valid with other consistency options');
    }
    let s: MutationState;
    if (state instanceof MutationState) s = state;
    else {
      s = new MutationState();
      for (const t of state ?? []) s.addResults(t);
    }
    if (s.isEmpty) throw new TypeError('consistentWith: the state is empty (no mutation tokens; fetch_mutation_tokens=true?)');
    // Kept by reference, as Python keeps it: mutations added to the state later count too.
    this.scanVectors = s;
    this.consistency = CONSISTENCY_AT_PLUS;
    return this;
  }

  /** The query's limit given the bucket's n1qlTimeout: the lower of the two (Python's rule). */
  effectiveTimeout(bucketTimeoutS: number): number {
    return this.timeout !== undefined && this.timeout > 0 ? Math.min(this.timeout, bucketTimeoutS) : bucketTimeoutS;
  }

  /** The JSON request body (without prepared-statement rewriting). */
  body(defaultTimeoutS: number): Record<string, unknown> {
    const b: Record<string, unknown> = { statement: this.statement };
    if (this.positional) b.args = this.positional;
    for (const [k, v] of Object.entries(this.named)) b[k.startsWith('$') ? k : `$${k}`] = v;
    const timeout = this.effectiveTimeout(defaultTimeoutS);
    b.timeout = `${Math.max(1, Math.round(timeout * 1000))}ms`;
    if (this.consistency !== CONSISTENCY_NONE) b.scan_consistency = this.consistency;
    if (this.scanVectors) b.scan_vectors = this.scanVectors instanceof MutationState ? this.scanVectors.scanVectors : this.scanVectors;
    if (this.scanWait !== undefined) b.scan_wait = `${Math.round(this.scanWait * 1000)}ms`;
    if (this.readonly !== undefined) b.readonly = this.readonly;
    b.client_context_id = this.clientContextId ?? `deferbase-${process.pid}-${++contextSeq}`;
    if (this.scanCap !== undefined) b.scan_cap = String(this.scanCap);
    if (this.pipelineBatch !== undefined) b.pipeline_batch = String(this.pipelineBatch);
    if (this.pipelineCap !== undefined) b.pipeline_cap = String(this.pipelineCap);
    if (this.maxParallelism !== undefined) b.max_parallelism = String(this.maxParallelism);
    if (this.profileValue !== undefined) b.profile = this.profileValue;
    if (this.metrics !== undefined) b.metrics = this.metrics;
    if (this.queryContext !== undefined) b.query_context = this.queryContext;
    for (const [k, v] of Object.entries(this.raw)) b[k] = v;
    return b;
  }

  /** The encoded body as sent (Python's `encoded`). */
  get encoded(): string {
    return JSON.stringify(this.body(75));
  }

  toString(): string {
    return `N1QLQuery(${JSON.stringify(this.statement)})`;
  }
}

function n1qlErrorOf(status: number, meta: N1QLMeta): CouchbaseError | null {
  const errors = Array.isArray(meta.errors) ? meta.errors : [];
  if (meta.status === 'success' && errors.length === 0) return null;
  if (meta.status === undefined && errors.length === 0 && status >= 200 && status < 300) return null;
  const first = errors[0] ?? { code: 0, msg: `query ended with status "${String(meta.status)}"` };
  const err = new N1QLError(`N1QL error ${first.code}: ${first.msg}`);
  err.code = Number(first.code) || 0;
  err.msg = String(first.msg ?? '');
  err.errors = errors;
  err.meta = meta;
  err.httpStatus = status;
  return err;
}

/** Engine-wide cache of prepared statement names (statement -> name [+ encoded plan]). */
export type PreparedCache = Map<string, { name: string; plan?: string }>;

// Plan errors that mean the cached prepared statement is gone or stale: re-prepare once.
const STALE_PREPARED = new Set([4040, 4050, 4070]);

export function runN1QL(engine: ServiceHost, query: N1QLQuery | string, handler: RowsHandler, cache: PreparedCache): StreamControl {
  const q = typeof query === 'string' ? new N1QLQuery(query) : query;
  if (!(q instanceof N1QLQuery)) throw new ArgumentError('a N1QL query is a N1QLQuery or a statement string');
  const defaultTimeout = engine.options.n1ql_timeout;
  const timeoutS = q.effectiveTimeout(defaultTimeout);
  const base = q.body(defaultTimeout);
  // A cluster-level query carries the credentials of the buckets it may read (Python's cross_bucket).
  if (q.crossBucket) {
    const creds = engine.crossBucketCreds();
    if (creds.length > 0) base.creds = creds;
  }
  // The client gives the server's own timeout a little slack before giving up itself.
  const timeoutMs = secondsToMs(timeoutS) + 500;

  const make = (body: Record<string, unknown>, inner: RowsHandler): StreamRequest =>
    new StreamRequest(engine, {
      service: 'n1ql',
      method: 'POST',
      path: '/query/service',
      body: JSON.stringify(body),
      contentType: 'application/json',
      timeoutMs,
      rowsKey: 'results',
      errorOf: (status, meta) => n1qlErrorOf(status, meta as N1QLMeta),
      errorForBadBody: (status, text) => {
        const e = new HTTPError(`query service answered HTTP ${status} without a JSON body${text ? `: ${text.slice(0, 200)}` : ''}`);
        e.httpStatus = status;
        return e;
      },
    }, inner);

  if (q.adhoc) return make(base, handler).start();

  // Prepared flow: enhanced (PREPARE + auto_execute) when the cluster says it supports it.
  const stmt = q.statement;
  const proxy = new ProxyControl();
  const enhanced = (): boolean => {
    const caps = engine.topology?.raw.clusterCapabilities?.n1ql;
    return Array.isArray(caps) && caps.includes('enhancedPreparedStatements');
  };
  const execute = (retry: boolean): void => {
    const known = cache.get(stmt);
    const body: Record<string, unknown> = { ...base };
    let learning = false;
    if (known) {
      delete body.statement;
      body.prepared = known.name;
      if (known.plan) body.encoded_plan = known.plan;
    } else if (enhanced()) {
      body.statement = `PREPARE ${stmt}`;
      body.auto_execute = true;
      learning = true;
    } else {
      return prepareLegacy();
    }
    let rowsSeen = false;
    proxy.attach(
      make(body, {
        onRows: (rows) => {
          rowsSeen = true;
          handler.onRows(rows);
        },
        onDone: (meta) => {
          if (learning && typeof meta.prepared === 'string') cache.set(stmt, { name: meta.prepared });
          handler.onDone(meta);
        },
        onError: (err) => {
          if (retry && !rowsSeen && err instanceof N1QLError && STALE_PREPARED.has(err.code)) {
            cache.delete(stmt);
            return execute(false);
          }
          handler.onError(err);
        },
      }).start(),
    );
  };
  const prepareLegacy = (): void => {
    let row: { name?: string; encoded_plan?: string } | undefined;
    proxy.attach(
      make({ ...base, statement: `PREPARE ${stmt}`, args: undefined }, {
        onRows: (rows) => {
          row ??= rows[0] as typeof row;
        },
        onDone: () => {
          if (!row || typeof row.name !== 'string') return handler.onError(new N1QLError('PREPARE returned no statement name'));
          cache.set(stmt, { name: row.name, plan: row.encoded_plan });
          execute(false);
        },
        onError: (err) => handler.onError(err),
      }).start(),
    );
  };
  execute(true);
  return proxy;
}

/** A control that follows whichever request is current (prepare, then execute). */
class ProxyControl implements StreamControl {
  private current: StreamControl | null = null;
  private paused = false;
  private cancelled = false;
  attach(c: StreamControl): void {
    this.current = c;
    if (this.cancelled) c.cancel();
    else if (this.paused) c.pause();
  }
  get done(): boolean {
    return this.current ? this.current.done : false;
  }
  pause(): void {
    this.paused = true;
    this.current?.pause();
  }
  resume(): void {
    this.paused = false;
    this.current?.resume();
  }
  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
  }
}
