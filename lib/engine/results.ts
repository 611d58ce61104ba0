// Result objects shaped like the Python SDK 2.x ones (couchbase.result).
import type { CouchbaseError } from './errors';

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

/** stats(): `value[statName][server] = text`, like the Python SDK's dict of dicts. */
export class StatsResult extends Result {
  value: Record<string, Record<string, string>>;
  constructor(key: string, value: Record<string, Record<string, string>>) {
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
