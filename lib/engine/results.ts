// Result objects shaped like the Python SDK 2.x ones (couchbase.result).
import { ErrorCode, errorForRc, type CouchbaseError } from './errors';

export interface MutationToken {
  vbucket: number;
  vbuuid: bigint;
  seqno: bigint;
  bucket: string;
}

export class Result {
  key: string;
  /** libcouchbase error code; 0 on success. */
  rc: number;
  /** The error, for failed entries of a MultiResult (single operations call back with it). */
  error: CouchbaseError | undefined;
  constructor(key: string, rc = 0) {
    this.key = key;
    this.rc = rc;
    this.error = undefined;
  }
  get success(): boolean {
    return this.rc === 0;
  }
  /** Python's errstr: what went wrong, '' on success. */
  get errstr(): string {
    if (this.rc === 0) return '';
    return this.error?.message ?? `libcouchbase error 0x${this.rc.toString(16)}`;
  }
}

/** Outcome of a mutation (upsert, insert, remove, touch, unlock, ...). */
export class OperationResult extends Result {
  cas: bigint;
  mutationToken: MutationToken | undefined;
  constructor(key: string, cas: bigint, rc = 0) {
    super(key, rc);
    this.cas = cas;
    this.mutationToken = undefined;
  }
}

/** Outcome of a read (get, lock, getReplica) or of counter (value is the new number). */
export class ValueResult extends OperationResult {
  value: unknown;
  flags: number;
  constructor(key: string, value: unknown, cas: bigint, flags: number, rc = 0) {
    super(key, cas, rc);
    this.value = value;
    this.flags = flags;
  }
}

export interface ObserveInfo {
  /** 0x00 found not persisted, 0x01 persisted, 0x80 not found, 0x81 logically deleted. */
  flags: number;
  cas: bigint;
  fromMaster: boolean;
  /** Index of the server in the current config. */
  server: number;
}

export const ObserveState = { FOUND: 0x00, PERSISTED: 0x01, NOT_FOUND: 0x80, LOGICALLY_DELETED: 0x81 } as const;

/** observe(): one entry per node that holds a copy (master first). */
export class ObserveResult extends Result {
  value: ObserveInfo[];
  constructor(key: string, value: ObserveInfo[], rc = 0) {
    super(key, rc);
    this.value = value;
  }
}

/** One stat's value: a number when it is an integer (as Python converts it), else its text. */
export type StatValue = string | number | bigint;

/** stats(): `value[statName][server] = value`, like the Python SDK's dict of dicts. */
export class StatsResult extends Result {
  value: Record<string, Record<string, StatValue>>;
  constructor(key: string, value: Record<string, Record<string, StatValue>>) {
    super(key, 0);
    this.value = value;
  }
}

/** Per-key results of a *Multi call. Failing keys are entries with `success === false`. */
export class MultiResult<R extends Result = Result> extends Map<string, R> {
  get allOk(): boolean {
    for (const r of this.values()) if (!r.success) return false;
    return true;
  }
  /** The failed entries only. */
  failures(): Map<string, R> {
    const out = new Map<string, R>();
    for (const [k, r] of this) if (!r.success) out.set(k, r);
    return out;
  }
}

/** One spec's outcome in a SubdocResult: [rc, value] (rc 0 on success; Python's `(err, value)`). */
export type SubdocEntry = [rc: number, value: unknown];

/**
 * The outcome of lookupIn / mutateIn / retrieveIn (Python's SubdocResult): one entry per spec,
 * read by index or by path. `at()` and iteration throw the spec's error for a failed entry;
 * `get()` never throws; `exists()` answers an SD.exists spec. For a lookup, a path that is not
 * there does not fail the call: the result's rc is SubdocMultipleErrors' and `success` false.
 */
export class SubdocResult extends OperationResult {
  /** The paths of the specs, in order. */
  paths: string[];
  /** Each spec's [rc, value], in order (empty for a failed mutation). */
  results: SubdocEntry[];
  constructor(key: string, cas: bigint, paths: string[], results: SubdocEntry[], rc = 0) {
    super(key, cas, rc);
    this.paths = paths;
    this.results = results;
  }

  private indexOf(pathOrIndex: string | number): number {
    if (typeof pathOrIndex === 'number') {
      if (!Number.isInteger(pathOrIndex) || pathOrIndex < 0 || pathOrIndex >= this.results.length) {
        throw new RangeError(`no spec ${pathOrIndex}: this result has ${this.results.length}`);
      }
      return pathOrIndex;
    }
    const i = this.paths.indexOf(pathOrIndex);
    if (i < 0 || i >= this.results.length) throw new RangeError(`no spec with path "${pathOrIndex}" in this result`);
    return i;
  }

  private raise(i: number): never {
    const rc = this.results[i][0];
    throw errorForRc(rc, `sub-document path "${this.paths[i]}" of key "${this.key}" failed`, { key: this.key, objextra: this.paths[i] });
  }

  /** Python's `get(path_or_index, default)`: `[rc, value]`, the value `dflt` when the spec failed. */
  get(pathOrIndex: string | number, dflt?: unknown): SubdocEntry {
    const [rc, value] = this.results[this.indexOf(pathOrIndex)];
    return [rc, rc === 0 ? value : dflt];
  }

  /** Python's `result[path_or_index]`: the spec's value; throws its error when it failed. */
  at(pathOrIndex: string | number): unknown {
    const i = this.indexOf(pathOrIndex);
    if (this.results[i][0] !== 0) this.raise(i);
    return this.results[i][1];
  }

  /** Whether the path exists (an SD.exists or SD.get spec); throws for failures other than a missing path. */
  exists(pathOrIndex: string | number): boolean {
    const i = this.indexOf(pathOrIndex);
    const rc = this.results[i][0];
    if (rc === 0) return true;
    if (rc === ErrorCode.SUBDOC_PATH_ENOENT) return false;
    this.raise(i);
  }

  /** Python's `path in result`. */
  contains(pathOrIndex: string | number): boolean {
    return this.exists(pathOrIndex);
  }

  /** Each spec's value in order; throws the error of the first failed spec met. */
  *[Symbol.iterator](): IterableIterator<unknown> {
    for (let i = 0; i < this.results.length; i++) {
      if (this.results[i][0] !== 0) this.raise(i);
      yield this.results[i][1];
    }
  }

  /** How many specs were sent. */
  get commandCount(): number {
    return this.paths.length;
  }

  /** How many results came back (for a failed mutation, none). */
  get resultCount(): number {
    return this.results.length;
  }

  /** Whether the document could be read (Python's access_ok): success, or only paths failed. */
  get accessOk(): boolean {
    return this.rc === 0 || this.rc === ErrorCode.SUBDOC_MULTI_FAILURE;
  }
}

/** The outcome of an HTTP management call (Python's HttpResult): the body, the status, the headers. */
export class HttpResult extends Result {
  /** The body: parsed JSON when it is JSON, else its text. */
  value: unknown;
  httpStatus: number;
  url: string;
  headers: Record<string, string>;
  constructor(url: string, httpStatus: number, value: unknown, headers: Record<string, string>) {
    super(url, httpStatus >= 200 && httpStatus < 300 ? 0 : ErrorCode.HTTP_ERROR);
    this.url = url;
    this.httpStatus = httpStatus;
    this.value = value;
    this.headers = headers;
  }
}

