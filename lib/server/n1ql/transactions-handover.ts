// An SDK transaction handing itself over to the query service at its first ctx.query(), with
// key-value writes it already staged (the transactions protocol as couchbase-cxx-client and
// gocbcore run it, and the query service resumes it). Each staged write lives in its document: a
// `txn` xattr naming the attempt and its ATR ({id: {txn, atmpt}, atr: {bkt, scp, coll, id}, op:
// {type, stgd}, aux: {uf: user flags}, restore: {...}}), a staged insert being a deleted document
// holding only that xattr; and the attempt has a PENDING entry in its ATR (the `attempts` xattr of
// a `_txn:atr-*` document). BEGIN WORK's txdata lists those writes ({bkt, scp, coll, id, cas,
// type}) and names the ATR. From then on the query service owns them:
// - the transaction's statements see the staged bodies (they seed its staged writes);
// - COMMIT marks the ATR entry COMMITTED with the documents (what a cleanup finding it after a
//   crash rolls forward), makes each staged body the document's (txn xattr gone, a staged insert
//   revived, a staged remove deleted), then removes the entry;
// - ROLLBACK, a failed COMMIT or expiry mark it ABORTED, take the txn xattrs off (a staged insert
//   stays deleted, the other documents as they were), then remove the entry.
// Either way the SDK's cleanup finds nothing left to do.
import type { BucketStore, StoredDoc, StoredDocumentState } from '../service-types';
import { QueryError } from './errors';
import { jsonText, parseJson } from './json';
import { isObject, type Value } from './value';

type KvStore = BucketStore & Required<Pick<BucketStore, 'tombstone' | 'putDocument'>>;
type StagedOp = 'insert' | 'replace' | 'remove';

/** One write the SDK staged, as the transaction takes it over. */
export interface HandedWrite {
  readonly store: BucketStore;
  readonly id: string;
  readonly op: StagedOp;
  /** The document's CAS with the staging on it (what txdata reports). */
  readonly cas: bigint;
  /** What the transaction sees: the staged body, null for a staged remove. */
  readonly doc: StoredDoc | null;
}

/** The flags of a JSON document under the SDKs' common flags (when the staging does not record them). */
const JSON_FLAGS = 0x02000000;
/** Where a CAS macro goes until the write's CAS exists. */
const CAS_MARK = '\u0000cas';
const MARK_TEXT = JSON.stringify(CAS_MARK);

const startError = (why: string): QueryError => new QueryError(17006, `Start Transaction statement error: ${why}`);

const isKvStore = (s: BucketStore | undefined): s is KvStore => s !== undefined && typeof s.tombstone === 'function' && typeof s.putDocument === 'function';

const str = (o: Record<string, Value>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/** A u64 as kv_engine's `${Mutation.CAS}` macro writes it: its bytes reversed, in hex. */
function casMacroText(cas: bigint): string {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64LE(cas & 0xffffffffffffffffn, 0);
  return '0x' + b.toString('hex');
}

/** The txn xattr of a document, parsed; undefined when it has none (or not an object). */
function txnOf(doc: { readonly xattrs?: ReadonlyMap<string, string> } | undefined): Record<string, Value> | undefined {
  const text = doc?.xattrs?.get('txn');
  if (text === undefined) return undefined;
  const v = parseJson(text);
  return isObject(v) ? v : undefined;
}

function withoutTxn(x: ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> | undefined {
  if (x === undefined || !x.has('txn')) return x;
  const next = new Map(x);
  next.delete('txn');
  return next.size === 0 ? undefined : next;
}

export class Handover {
  private constructor(
    /** The attempt id (the transaction's txid). */
    readonly attempt: string,
    private readonly atr: { readonly store: KvStore; readonly key: string },
    readonly writes: readonly HandedWrite[],
  ) {}

  /**
   * The writes txdata hands over, each checked against its document (still staged by this
   * attempt, at the CAS the SDK reported), and the attempt's ATR entry (still PENDING).
   * Undefined when txdata hands over no writes. Throws 17006 when any of it does not hold.
   */
  static take(txdata: unknown, bucketNamed: (name: string) => BucketStore | undefined): Handover | undefined {
    const data = typeof txdata === 'string' ? parseJson(txdata) : (txdata as Value);
    if (!isObject(data) || !Array.isArray(data.mutations) || data.mutations.length === 0) return undefined;
    const attempt = isObject(data.id) ? str(data.id, 'atmpt') : undefined;
    if (attempt === undefined) throw startError('txdata hands over mutations without the attempt id (txdata.id.atmpt)');
    const collection = (bkt: string | undefined, scp = '_default', coll = '_default'): KvStore => {
      const bucket = bkt === undefined ? undefined : bucketNamed(bkt);
      const store = bucket && (scp === '_default' && coll === '_default' ? bucket : bucket.collectionNamed?.(scp, coll));
      if (!isKvStore(store)) throw startError(`keyspace ${bkt ?? '?'}.${scp}.${coll} of the handed over transaction is not found`);
      return store;
    };
    const atrData = isObject(data.atr) ? data.atr : undefined;
    const atrKey = atrData && str(atrData, 'id');
    if (atrData === undefined || atrKey === undefined) throw startError('txdata hands over mutations without their ATR (txdata.atr)');
    const handover = new Handover(attempt, { store: collection(str(atrData, 'bkt'), str(atrData, 'scp'), str(atrData, 'coll')), key: atrKey }, data.mutations.map((m) => takeWrite(m, attempt, collection)));
    const state = handover.entry()?.st;
    if (state !== 'PENDING') throw startError(`the ATR entry of attempt ${attempt} is ${state === undefined ? 'not found' : String(state)}, not PENDING`);
    return handover;
  }

  /** The CAS a handed-over document has now, live or deleted (0n: gone altogether). */
  static casNow(store: BucketStore, id: string): bigint {
    return (store.get(id) ?? store.tombstone?.(id))?.cas ?? 0n;
  }

  /** Whether the attempt's ATR entry is still PENDING (nothing aborted it meanwhile). */
  get pending(): boolean {
    return this.entry()?.st === 'PENDING';
  }

  /** Marks the ATR entry COMMITTED, listing the handed-over documents by what was staged. */
  markCommitted(): void {
    this.updateEntry((e) => Object.assign(e, { st: 'COMMITTED', tsc: CAS_MARK, p: 0 }, this.docLists()));
  }

  /** Makes `doc` (null: deleted) the document's, the staging taken off. */
  unstage(store: BucketStore, id: string, doc: StoredDoc | null): void {
    const kv = store as KvStore;
    const live = kv.get(id);
    const now = live ?? kv.tombstone(id);
    if (doc === null) {
      if (live) kv.remove(id);
      else if (now) kv.putDocument(id, deleted(now.flags, withoutTxn(now.xattrs)), now.cas);
      return;
    }
    kv.putDocument(id, { value: doc.value, datatype: doc.datatype, flags: doc.flags, xattrs: withoutTxn(now?.xattrs), expiry: doc.expiry, deleted: false }, now?.cas ?? 0n);
  }

  /** Removes the ATR entry: the attempt is over. */
  complete(): void {
    this.updateEntry(() => undefined);
  }

  /** Undoes the staging (documents as before the transaction) and the ATR entry. */
  rollBack(): void {
    // A COMMITTED entry is decided: only a cleanup rolling it forward may finish it.
    const state = this.entry()?.st;
    if (state !== 'PENDING' && state !== 'ABORTED') return;
    this.updateEntry((e) => Object.assign(e, { st: 'ABORTED', tsrs: CAS_MARK }, this.docLists()));
    for (const w of this.writes) {
      const kv = w.store as KvStore;
      const live = kv.get(w.id);
      const now = live ?? kv.tombstone(w.id);
      // Only the staging this attempt put there: a document someone else wrote since stays theirs.
      const txn = txnOf(now);
      if (now === undefined || txn === undefined || !isObject(txn.id) || txn.id.atmpt !== this.attempt) continue;
      const x = withoutTxn(now.xattrs);
      kv.putDocument(w.id, live ? { value: live.value, datatype: live.datatype, flags: live.flags, xattrs: x, expiry: live.expiry, preserveExpiry: true, deleted: false } : deleted(now.flags, x), now.cas);
    }
    this.complete();
  }

  private docLists(): Record<string, Value> {
    const list = (op: StagedOp): Value[] =>
      this.writes.filter((w) => w.op === op).map((w) => ({ id: w.id, bkt: w.store.name, scp: w.store.scopeName ?? '_default', col: w.store.collectionName ?? '_default' }));
    return { ins: list('insert'), rep: list('replace'), rem: list('remove') };
  }

  private attempts(): { doc: StoredDoc; attempts: Record<string, Value> } | undefined {
    const doc = this.atr.store.get(this.atr.key);
    const text = doc?.xattrs?.get('attempts');
    const attempts = text === undefined ? undefined : parseJson(text);
    return doc && isObject(attempts) ? { doc, attempts } : undefined;
  }

  private entry(): Record<string, Value> | undefined {
    const e = this.attempts()?.attempts[this.attempt];
    return isObject(e) ? e : undefined;
  }

  /** Rewrites the attempt's entry (`change` returns undefined to remove it); CAS_MARK values become the write's CAS. */
  private updateEntry(change: (entry: Record<string, Value>) => Record<string, Value> | undefined): void {
    const found = this.attempts();
    const entry = found?.attempts[this.attempt];
    if (found === undefined || !isObject(entry)) return;
    const { doc, attempts } = found;
    const next = change({ ...entry });
    if (next === undefined) delete attempts[this.attempt];
    else attempts[this.attempt] = next;
    const text = jsonText(attempts)!;
    const xattrs = (t: string): ReadonlyMap<string, string> => new Map(doc.xattrs).set('attempts', t);
    this.atr.store.putDocument(
      this.atr.key,
      {
        value: doc.value,
        datatype: doc.datatype,
        flags: doc.flags,
        xattrs: xattrs(text),
        expiry: doc.expiry,
        preserveExpiry: true,
        deleted: false,
        stamp: text.includes(MARK_TEXT) ? (cas) => xattrs(text.split(MARK_TEXT).join(JSON.stringify(casMacroText(cas)))) : undefined,
      },
      doc.cas,
    );
  }
}

function deleted(flags: number, xattrs: ReadonlyMap<string, string> | undefined): StoredDocumentState {
  return { value: Buffer.alloc(0), datatype: 0, flags, xattrs, expiry: 0, deleted: true };
}

/** One entry of txdata.mutations, checked against its document. */
function takeWrite(m: Value, attempt: string, collection: (bkt: string | undefined, scp?: string, coll?: string) => KvStore): HandedWrite {
  if (!isObject(m)) throw startError('txdata.mutations holds an entry that is not an object');
  const id = str(m, 'id');
  const op = str(m, 'type')?.toLowerCase();
  const casText = str(m, 'cas');
  if (id === undefined || (op !== 'insert' && op !== 'replace' && op !== 'remove') || casText === undefined || !/^\d+$/.test(casText)) {
    throw startError(`txdata.mutations entry ${jsonText(m)} is not {bkt, scp, coll, id, cas, type}`);
  }
  const store = collection(str(m, 'bkt'), str(m, 'scp'), str(m, 'coll'));
  const live = store.get(id);
  const now = live ?? store.tombstone(id);
  const txn = txnOf(now);
  const staged = txn && isObject(txn.op) ? txn.op : undefined;
  if (now === undefined || txn === undefined || !isObject(txn.id) || txn.id.atmpt !== attempt || staged?.type !== op) {
    throw startError(`document ${id} does not carry the ${op} attempt ${attempt} staged`);
  }
  const cas = BigInt(casText);
  if (now.cas !== cas) throw startError(`document ${id} changed after attempt ${attempt} staged its ${op} (CAS ${now.cas}, staged at ${cas})`);
  if (op === 'remove') return { store, id, op, cas, doc: null };
  const aux = isObject(txn.aux) ? txn.aux : undefined;
  const doc: StoredDoc = {
    id,
    value: Buffer.from(jsonText(staged.stgd ?? null) ?? 'null'),
    flags: typeof aux?.uf === 'number' ? aux.uf : JSON_FLAGS,
    datatype: 1,
    cas,
    expiry: live?.expiry ?? 0,
    seqno: 0n,
    vbucket: live?.vbucket ?? 0,
  };
  return { store, id, op, cas, doc };
}
