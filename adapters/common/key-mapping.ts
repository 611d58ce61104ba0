// Python 2.5's encode_key/decode_key, applied where the user's transcoder lives (the calling
// thread): the key a call names goes through encodeKey before the call reaches the engine, and
// the keys of what comes back (Result.key, a MultiResult's keys, an error's key and allResults)
// through decodeKey. Only a transcoder that overrides them has a KeyCodec; without one none of
// this runs.
import { CouchbaseError } from '../../lib/engine/errors';
import { ItemCollection } from '../../lib/engine/items';
import { MultiResult, Result } from '../../lib/engine/results';
import type { KeyCodec } from '../../lib/engine/transcoder';
import type { KvHandler, RowsHandler } from './contract';
import type { MethodSpec } from './methods';

/**
 * The call's first argument with its keys encoded: the key itself, or for a *Multi call a list,
 * {key: value} object or Map with encoded keys. Items of an ItemCollection are the call's
 * results, so they carry the encoded key while the call runs; decodeOutcome gives them the
 * decoded one back. Anything that is not a key container is left for the core to refuse.
 */
export function encodeCallKeys(codec: KeyCodec, spec: MethodSpec, a0: unknown): unknown {
  if (spec.shape === 'stats') return a0; // stat groups, not document keys
  if (spec.shape !== 'multi') return codec.encode(a0);
  if (a0 instanceof ItemCollection) {
    const items = a0.dictItems().map(([item]) => item);
    const sent = items.map((item) => codec.encode(item.key));
    items.forEach((item, i) => (item.key = sent[i]));
    return a0;
  }
  if (a0 instanceof Map) return new Map([...a0].map(([k, v]) => [codec.encode(k), v]));
  if (Array.isArray(a0)) return a0.map((k) => codec.encode(k));
  if (a0 !== null && typeof a0 === 'object' && !Buffer.isBuffer(a0)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a0)) out[codec.encode(k)] = v;
    return out;
  }
  return a0;
}

/**
 * Decodes the keys of a call's result (or of its error) in place: a Result's key, a
 * MultiResult's keys (same object, same order) and each entry's key, an error's key and its
 * allResults. The items of an ItemCollection the call was given get their decoded key back
 * even when the call failed before any result.
 */
export function decodeOutcome(codec: KeyCodec, a0: unknown, outcome: unknown): void {
  const seen = new Set<Result>();
  if (outcome instanceof MultiResult) decodeMulti(codec, outcome, seen);
  else if (outcome instanceof Result) decodeResult(codec, outcome, seen);
  else if (outcome instanceof CouchbaseError) {
    if (outcome.allResults instanceof MultiResult) decodeMulti(codec, outcome.allResults, seen);
    if (typeof outcome.key === 'string') outcome.key = keyText(codec.decode(outcome.key));
  }
  if (a0 instanceof ItemCollection) for (const [item] of a0.dictItems()) decodeResult(codec, item, seen);
}

function decodeResult(codec: KeyCodec, r: Result, seen: Set<Result>): void {
  if (seen.has(r)) return;
  seen.add(r);
  r.key = codec.decode(r.key) as string;
}

function decodeMulti(codec: KeyCodec, m: MultiResult, seen: Set<Result>): void {
  const entries = [...m];
  m.clear();
  for (const [k, r] of entries) {
    if (r instanceof Result) decodeResult(codec, r, seen);
    m.set(codec.decode(k) as string, r);
  }
}

/** An error's key stays text (it goes into messages); a decoded key that is not a string is shown as one. */
function keyText(k: unknown): string {
  return typeof k === 'string' ? k : String(k);
}

/** Hands a call's outcome on with its keys decoded; a decodeKey that throws fails the call with its error. */
export class KeyDecodingHandler implements KvHandler {
  constructor(
    private readonly codec: KeyCodec,
    private readonly a0: unknown,
    private readonly inner: KvHandler,
  ) {}

  kvDone(err: Error | null | undefined, result?: unknown): void {
    try {
      decodeOutcome(this.codec, this.a0, err ?? result);
    } catch (e) {
      this.inner.kvDone(e as Error);
      return;
    }
    this.inner.kvDone(err, result);
  }
}

/** View rows with their document ids (and included documents' keys) decoded, as Python 2.5 decodes a row's docid. */
export function decodeViewRowKeys(codec: KeyCodec, rows: unknown): void {
  if (!Array.isArray(rows)) return;
  for (const row of rows) {
    const r = row as { id?: unknown; doc?: unknown } | null;
    if (r === null || typeof r !== 'object') continue;
    if (r.doc instanceof Result) r.doc.key = codec.decode(r.doc.key) as string;
    if (typeof r.id === 'string') r.id = codec.decode(r.id);
  }
}

/** Hands view rows on with decoded ids; a decodeKey that throws ends the stream with its error. */
export class ViewKeyDecodingHandler implements RowsHandler {
  private failed = false;

  constructor(
    private readonly codec: KeyCodec,
    private readonly inner: RowsHandler,
  ) {}

  onRows(rows: unknown[]): void {
    if (this.failed) return;
    try {
      decodeViewRowKeys(this.codec, rows);
    } catch (err) {
      this.failed = true;
      this.inner.onError(err as Error);
      return;
    }
    this.inner.onRows(rows);
  }

  onDone(meta: unknown): void {
    if (!this.failed) this.inner.onDone(meta);
  }

  onError(err: Error): void {
    if (!this.failed) this.inner.onError(err);
  }
}
