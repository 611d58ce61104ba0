// *Multi: one operation per key, all pipelined, one MultiResult at the end. As in the Python SDK,
// a key that fails fails the call: the error is the first failing key's (in the order the keys
// were given), with `allResults` holding every key's result. Under quiet (the call's, else the
// bucket's) a missing key of get/remove/lookupIn is a result with success false, not a failure.
//
// The per-key values of a {key: value} object or Map mean what Python makes of them: the
// document for stores, a CAS (or a result, whose CAS is used) for remove/unlock/endure, a ttl for
// get/touch/lock, a delta for counter; a plain object is that key's options. Item collections
// carry keys, documents, CAS and per-item options, and the items get the outcome.
import { ArgumentError, type CouchbaseError } from '../errors';
import { Item, ItemCollection, type ItemOptions } from '../items';
import { MultiResult, OperationResult, Result, SubdocResult, ValueResult } from '../results';
import type { KvDispatcher } from './dispatcher';
import { failLater } from './dispatcher';
import { OPERATIONS } from './operations';
import type { KvHost } from './host';
import type { KvHandler, KvOptions, MultiCallback, OpSpec } from './spec';

export type MultiKeys = Iterable<string> | Map<string, unknown> | Record<string, unknown> | ItemCollection;

const EMPTY_OPTS: KvOptions = Object.freeze({}) as KvOptions;

/** Collects the keys' outcomes; `cb` gets the MultiResult (or the first failure) when the last is in. */
class Batch {
  readonly multi = new MultiResult();
  constructor(
    public remaining: number,
    readonly spec: OpSpec,
    readonly cb: MultiCallback,
  ) {}

  done(): void {
    const multi = this.multi;
    for (const r of multi.values()) {
      const err = r.error;
      if (err !== undefined) {
        err.allResults = multi;
        return this.cb(err, null);
      }
    }
    this.cb(null, multi);
  }
}

/** One key's handler; with an item, the item takes the outcome and stands for the key. */
class BatchEntry implements KvHandler {
  constructor(
    private readonly batch: Batch,
    private readonly key: string,
    private readonly item: Item | undefined,
  ) {}

  kvDone(err: CouchbaseError | null, res: Result | null): void {
    const b = this.batch;
    let r: Result;
    if (err) {
      r = failedResult(b.spec, this.key, err);
    } else r = res ?? new OperationResult(this.key, 0n);
    b.multi.set(this.key, this.item !== undefined ? fillItem(this.item, r) : r);
    if (--b.remaining === 0) b.done();
  }
}

function failedResult(spec: OpSpec, key: string, err: CouchbaseError): Result {
  const r = spec.result === 'value' ? new ValueResult(key, undefined, 0n, 0, err.rc) : spec.result === 'subdoc' ? new SubdocResult(key, 0n, [], [], err.rc) : new OperationResult(key, 0n, err.rc);
  r.error = err;
  return r;
}

/** Copies an outcome into the caller's item (Python updates items in place). */
function fillItem(item: Item, r: Result): Item {
  item.rc = r.rc;
  item.error = r.error;
  if (r instanceof OperationResult) {
    if (r.rc === 0) item.cas = r.cas;
    item.mutationToken = r.mutationToken;
  }
  if (r instanceof ValueResult && r.rc === 0) {
    item.value = r.value;
    item.flags = r.flags;
  }
  return item;
}

function failBatch(cb: MultiCallback, err: CouchbaseError): void {
  failLater({ kvDone: (e) => cb(e, null) }, err);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What a per-key value means for `spec`: the document, or these options for the key. */
function perKey(spec: OpSpec, op: string, key: string, v: unknown, opts: KvOptions): KvOptions {
  if (v === undefined || v === null) return opts;
  if (isPlainObject(v)) return { ...opts, ...(v as KvOptions) };
  const kind = spec.multiValue;
  if (v instanceof Result) {
    if (kind === 'cas' && v instanceof OperationResult) return { ...opts, cas: v.cas };
    throw new ArgumentError(`${op}Multi: the value for key "${key}" is a result, which ${op} cannot use; give ${kind === 'options' ? 'options' : `a ${kind}`} or options`, { key });
  }
  if (kind === 'options') throw new ArgumentError(`${op}Multi: the value for key "${key}" must be an options object (got ${typeof v})`, { key });
  return { ...opts, [kind]: v };
}

/** An item's options for `spec`: its own, its CAS where the operation takes one (unless ignoreCas). */
function itemOptions(spec: OpSpec, item: Item, own: ItemOptions | undefined, opts: KvOptions): KvOptions {
  const out: KvOptions & { ignoreCas?: boolean } = own ? { ...opts, ...own } : { ...opts };
  const ignoreCas = out.ignoreCas === true;
  delete out.ignoreCas;
  if (spec.accepts.cas === true && !ignoreCas && item.cas !== 0n && out.cas === undefined) out.cas = item.cas;
  return out;
}

/**
 * Runs `op` for many keys at once, pipelined. `keys` is a list of keys, a map / plain object of
 * key -> per-key value, or an ItemCollection.
 */
export function kvMulti(kv: KvDispatcher, op: string, keys: MultiKeys, options: KvOptions | null | undefined, cb: MultiCallback): void {
  const spec = (OPERATIONS as Record<string, OpSpec<KvHost> | undefined>)[op];
  if (spec === undefined) return failBatch(cb, new ArgumentError(`unknown operation "${op}"`));
  const opts = options ?? EMPTY_OPTS;
  // [key, value (document or per-key value), item]
  let entries: Array<[string, unknown, Item | undefined, ItemOptions | undefined]>;
  if (keys instanceof ItemCollection) {
    entries = keys.dictItems().map(([item, o]) => [item.key, item.value, item, o]);
  } else if (keys instanceof Map) {
    entries = [...keys.entries()].map(([k, v]) => [k as string, v, undefined, undefined]);
  } else if (typeof keys === 'string') {
    return failBatch(cb, new ArgumentError(`${op}Multi takes a list or map of keys, not a single string`));
  } else if (keys !== null && typeof keys === 'object' && typeof (keys as Iterable<string>)[Symbol.iterator] === 'function') {
    entries = [...(keys as Iterable<string>)].map((k) => [k, undefined, undefined, undefined]);
  } else if (keys !== null && typeof keys === 'object') {
    entries = Object.entries(keys).map(([k, v]) => [k, v, undefined, undefined]);
  } else {
    return failBatch(cb, new ArgumentError(`${op}Multi takes a list or map of keys`));
  }
  const batch = new Batch(entries.length, spec, cb);
  if (entries.length === 0) return process.nextTick(cb, null, batch.multi);
  // The MultiResult lists the keys in the order given, whatever order the answers come in.
  for (const [key] of entries) batch.multi.set(key, undefined as unknown as Result);
  for (const [key, v, item, own] of entries) {
    const to = new BatchEntry(batch, key, item);
    let perKeyOpts: KvOptions;
    let value: unknown = opts.value;
    try {
      if (item !== undefined) {
        if (spec.multiValue === 'fragment') {
          // append/prepend of items add each item's `fragment` option, not its value (Python's rule)
          const { fragment, ...rest } = own ?? {};
          if (fragment === undefined) throw new ArgumentError(`${op}Multi with items: give each item a 'fragment' option (what to ${op}); the item's value is the whole document`, { key });
          value = fragment;
          perKeyOpts = itemOptions(spec, item, rest, opts);
        } else {
          perKeyOpts = itemOptions(spec, item, own, opts);
          if (spec.value === 'value') value = v;
        }
      } else if (spec.multiValue === 'document' || spec.multiValue === 'fragment') {
        perKeyOpts = opts;
        if (v !== undefined) value = v;
      } else {
        perKeyOpts = perKey(spec, op, key, v, opts);
      }
    } catch (err) {
      failLater(to, err as CouchbaseError);
      continue;
    }
    kv.start(spec, key, value, perKeyOpts, to);
  }
}
