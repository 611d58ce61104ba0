// *Multi: one operation per key, all pipelined; one MultiResult at the end, where a failing key is
// an entry with success false and `error` set (it never fails the batch).
import { ArgumentError, type CouchbaseError } from '../errors';
import { MultiResult, OperationResult, Result, ValueResult } from '../results';
import type { KvDispatcher } from './dispatcher';
import { failLater } from './dispatcher';
import { OPERATIONS } from './operations';
import type { KvHost } from './host';
import type { KvHandler, KvOptions, MultiCallback, OpSpec } from './spec';

export type MultiKeys = Iterable<string> | Map<string, unknown> | Record<string, unknown>;

const EMPTY_OPTS: KvOptions = Object.freeze({}) as KvOptions;

/** Collects the keys' outcomes; `cb` gets the MultiResult when the last one is in. */
class Batch {
  readonly multi = new MultiResult();
  constructor(
    public remaining: number,
    readonly spec: OpSpec,
    readonly cb: MultiCallback,
  ) {}
}

/** One key's handler. */
class BatchEntry implements KvHandler {
  constructor(
    private readonly batch: Batch,
    private readonly key: string,
  ) {}

  kvDone(err: CouchbaseError | null, res: Result | null): void {
    const b = this.batch;
    if (err) {
      const failed = b.spec.result === 'value' ? new ValueResult(this.key, undefined, 0n, 0, err.rc) : new OperationResult(this.key, 0n, err.rc);
      failed.error = err;
      b.multi.set(this.key, failed);
    } else b.multi.set(this.key, res!);
    if (--b.remaining === 0) b.cb(null, b.multi);
  }
}

function failBatch(cb: MultiCallback, err: CouchbaseError): void {
  failLater({ kvDone: (e) => cb(e, null) }, err);
}

/**
 * Runs `op` for many keys at once, pipelined. `keys` is a list of keys, or a map / plain object
 * of key -> value (stores), key -> cas (unlock) or key -> per-key options (other ops).
 */
export function kvMulti(kv: KvDispatcher, op: string, keys: MultiKeys, options: KvOptions | null | undefined, cb: MultiCallback): void {
  const spec = (OPERATIONS as Record<string, OpSpec<KvHost> | undefined>)[op];
  if (spec === undefined) return failBatch(cb, new ArgumentError(`unknown operation "${op}"`));
  const opts = options ?? EMPTY_OPTS;
  let entries: Array<[string, unknown]>;
  if (keys instanceof Map) entries = [...keys.entries()] as Array<[string, unknown]>;
  else if (typeof keys === 'string') return failBatch(cb, new ArgumentError(`${op}Multi takes a list or map of keys, not a single string`));
  else if (keys !== null && typeof keys === 'object' && typeof (keys as Iterable<string>)[Symbol.iterator] === 'function') entries = [...(keys as Iterable<string>)].map((k) => [k, undefined]);
  else if (keys !== null && typeof keys === 'object') entries = Object.entries(keys);
  else return failBatch(cb, new ArgumentError(`${op}Multi takes a list or map of keys`));
  const batch = new Batch(entries.length, spec, cb);
  if (entries.length === 0) return process.nextTick(cb, null, batch.multi);
  for (const [key, v] of entries) {
    let perKey: KvOptions = opts;
    let value: unknown = opts.value;
    if (v !== undefined) {
      switch (spec.multiValue) {
        case 'document':
          value = v;
          break;
        case 'cas':
          perKey = { ...opts, cas: v instanceof OperationResult ? v.cas : (v as bigint) };
          break;
        case 'options':
        case 'optionsOrResult':
          if (typeof v === 'object' && v !== null && !(v instanceof Result)) perKey = { ...opts, ...(v as KvOptions) };
          else if (spec.multiValue === 'optionsOrResult' && v instanceof OperationResult) perKey = { ...opts, cas: v.cas };
          break;
      }
    }
    kv.start(spec, key, value, perKey, new BatchEntry(batch, key));
  }
}
