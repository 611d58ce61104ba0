// A blocking Bucket's own transcoder runs in the calling thread: a transcoder is code (an object
// with encode/decode functions), and code cannot cross to the worker thread. The caller encodes
// each document before sending it and decodes each one it receives; the worker's engine uses a
// WorkerTranscoder in pass-through mode, which hands the bytes on untouched. The same happens
// when setJsonConverters() put other JSON functions in place (they are code too), and for a
// document the channel cannot carry (one that refers to itself): the caller encodes it, with the
// error the other flavours give when it cannot. Errors take the paths they take in-process:
// an encode error is carried to the engine and thrown there, so a *Multi call fails that key
// only; a decode error fails a single-key call and marks the entry of a *Multi call or of a
// view row's doc.
import { CouchbaseError, ValueFormatError } from '../../lib/engine/errors';
import { opSpec } from '../../lib/engine/kv/operations';
import { Item, ItemCollection, ItemOptionDict } from '../../lib/engine/items';
import { MultiResult, ValueResult, type Result } from '../../lib/engine/results';
import { defaultTranscoder, FMT_JSON, type Encoded, type Transcoder } from '../../lib/engine/transcoder';
import { KV_METHODS, optionsIndex, type KvMethodName } from '../common/methods';

/** A document's bytes and flags, as a transcoder made them or the server returned them. */
export class EncodedValue {
  constructor(
    readonly bytes: Buffer,
    readonly flags: number,
    readonly datatype: number,
    /** The format the call asked to read with (undefined: as the flags say). */
    readonly format: number | undefined,
  ) {}
}

/** An encode that failed in the caller; the worker's engine throws `error` where it would have encoded. */
export class EncodeFailure {
  constructor(readonly error: Error) {}
}

/**
 * The worker's transcoder: documents the caller encoded (or failed to) pass through; others are
 * encoded with the default transcoder, unless the caller transcodes everything (`passThrough`),
 * in which case what is read also goes back as bytes for the caller to decode.
 */
export class WorkerTranscoder implements Transcoder {
  constructor(public passThrough: boolean) {}

  encode(key: string, value: unknown, format: number): Encoded {
    if (value instanceof EncodedValue) return { value: value.bytes, flags: value.flags, datatype: value.datatype };
    if (value instanceof EncodeFailure) throw value.error;
    if (this.passThrough) throw new ValueFormatError(`value for key "${key}" reached the worker unencoded (a blocking-flavour bug; please report it)`, { key });
    return defaultTranscoder.encode(key, value, format);
  }

  decode(key: string, value: Buffer, flags: number, format?: number): unknown {
    // A copy: the frame the value points into is reused by the socket reader.
    if (this.passThrough) return new EncodedValue(Buffer.from(value), flags, 0, format);
    return defaultTranscoder.decode(key, value, flags, format);
  }
}

/** The caller's side of a custom transcoder (or of the default one, for documents the channel cannot carry). */
export class CallerTranscoding {
  constructor(readonly transcoder: Transcoder) {}

  /** The arguments of `method` with every document encoded (the array is a copy when anything changed). */
  encodeArgs(method: KvMethodName, args: unknown[], defaultFormat = FMT_JSON): unknown[] {
    const spec = KV_METHODS[method];
    // The engine's own table says which operations carry a document, and in which format by default.
    const op = opSpec(spec.op);
    if (op.creates !== null) return this.encodeEmptyDocument(args, optionsIndex(spec, args[0], args[1]), op.creates);
    if (op.value !== 'value') return args;
    const options = args[optionsIndex(spec, args[0], args[1])] as { format?: number; value?: unknown } | undefined;
    const format = options?.format ?? (op.defaultFormat < 0 ? defaultFormat : op.defaultFormat);
    if (spec.shape === 'keyValue') {
      const key = args[0];
      if (typeof key !== 'string') return args; // the core rejects it with its own message
      const out = args.slice();
      out[1] = this.encode(key, args[1], format);
      return out;
    }
    // *Multi: {key: value} / Map entries, items, or a list of keys sharing options.value.
    const keys = args[0];
    const out = args.slice();
    if (keys instanceof ItemCollection) {
      // Stand-in items carrying the encoded documents; the caller's own items get the outcome.
      out[0] = new ItemOptionDict(keys.dictItems().map(([item, o]) => [standIn(item, this.encode(item.key, item.value, format)), o]));
    } else if (keys instanceof Map) {
      const m = new Map<unknown, unknown>();
      for (const [k, v] of keys) m.set(k, typeof k === 'string' ? this.encode(k, v, format) : v);
      out[0] = m;
    } else if (keys !== null && typeof keys === 'object' && !Array.isArray(keys)) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(keys)) o[k] = this.encode(k, v, format);
      out[0] = o;
    } else if (Array.isArray(keys) && options && typeof options === 'object' && 'value' in options) {
      // One value for every key: encoded per key, since a transcoder may look at the key.
      const o: Record<string, unknown> = {};
      for (const k of keys) if (typeof k === 'string') o[k] = this.encode(k, options.value, format);
      out[0] = o;
    }
    return out;
  }

  /**
   * A data-structure call with `create: true`: the empty document it inserts for a missing key
   * is encoded here, with this transcoder, as Python's create=True inserts it through the
   * bucket's transcoder (the worker's engine cannot run it). It is encoded on every such call,
   * before anyone knows whether the key is missing: the caller cannot be asked mid-call.
   */
  private encodeEmptyDocument(args: unknown[], at: number, shape: 'map' | 'list'): unknown[] {
    const key = args[0];
    const options = args[at] as { create?: unknown } | undefined;
    if (typeof key !== 'string' || options?.create !== true) return args;
    const out = args.slice();
    out[at] = { ...options, create: this.encode(key, shape === 'map' ? {} : [], FMT_JSON) };
    return out;
  }

  private encode(key: string, value: unknown, format: number): EncodedValue | EncodeFailure | undefined {
    // No value: left for the engine, which refuses it before it would encode anything.
    if (value === undefined) return undefined;
    try {
      const e = this.transcoder.encode(key, value, format);
      return new EncodedValue(e.value, e.flags, e.datatype, undefined);
    } catch (err) {
      return new EncodeFailure(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** A KV call's result with its documents decoded; a single-key call throws a decode error. */
  decodeResult(result: unknown): unknown {
    if (result instanceof MultiResult) {
      this.decodeEntries(result);
      // As the engine does: a key that failed (here: whose document would not decode) fails the call.
      for (const r of result.values()) {
        if (r.error !== undefined) {
          r.error.allResults = result;
          throw r.error;
        }
      }
      return result;
    }
    if (result instanceof ValueResult && result.value instanceof EncodedValue) {
      const err = this.decodeInto(result);
      if (err) throw err;
    }
    return result;
  }

  /** Decodes every entry of a MultiResult in place (a failed call's `allResults` too). */
  decodeEntries(result: MultiResult | undefined): void {
    if (result === undefined) return;
    for (const [k, r] of result) {
      const done = this.decodeEntry(r);
      if (done !== r) result.set(k, done as Result);
    }
  }

  /** View rows with includeDocs: each row's `doc` decoded, or failed as getMulti fails a key. */
  decodeRows(rows: unknown): void {
    if (!Array.isArray(rows)) return;
    for (const row of rows) {
      const r = row as { doc?: unknown } | null;
      if (r && typeof r === 'object' && r.doc instanceof ValueResult) r.doc = this.decodeEntry(r.doc);
    }
  }

  private decodeEntry(r: unknown): unknown {
    if (!(r instanceof ValueResult) || !(r.value instanceof EncodedValue)) return r;
    const err = this.decodeInto(r);
    if (!err) return r;
    // What the engine's multi makes of a key whose value would not decode.
    const failed = new ValueResult(r.key, undefined, 0n, 0, err.rc);
    failed.error = err;
    return failed;
  }

  /** Decodes `r.value` in place; returns the error instead when the transcoder throws. */
  private decodeInto(r: ValueResult): CouchbaseError | undefined {
    const enc = r.value as EncodedValue;
    try {
      r.value = this.transcoder.decode(r.key, enc.bytes, enc.flags, enc.format);
      return undefined;
    } catch (e) {
      return e instanceof CouchbaseError ? e : new ValueFormatError((e as Error).message, { key: r.key });
    }
  }
}

/** An item whose value the caller encoded; stands in for the caller's item on the channel. */
function standIn(item: Item, value: unknown): Item {
  const copy = new Item(item.key, value);
  copy.cas = item.cas;
  return copy;
}

