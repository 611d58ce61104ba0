// One bucket's documents, shared by every node of the embedded cluster (nodes only decide who
// owns which vBucket; there is one logical copy, so replicas are always in sync).
//
// Every KV operation the front end serves lives here, with the semantics of ep-engine: CAS as a
// hybrid logical clock, per-vBucket seqnos and UUIDs, expiry in the server clock, locks with
// timeouts. N1QL DML goes through write()/remove(), which are the same code paths as KV
// SET/ADD/REPLACE/DELETE, so both front ends see identical behaviour.
import { randomBytes } from 'node:crypto';
import type {
  BucketMetadata,
  BucketStore,
  MutationEvent,
  ServerClock,
  StoredDoc,
  StoreErrorLike,
  StoreWriteMode,
  StoreWriteOptions,
} from './service-types';
import { systemClock } from './clock';
import { vbucketOf } from '../protocol/vbucket';
import { KvCounters } from './stats/kv-counters';
import { isJsonText } from './json-syntax';
import { decodeXattrBlob, systemXattrsOf, type Xattrs } from './xattrs';
import { Manifest, DEFAULT_COLLECTION, DEFAULT_SCOPE, type CollectionDef } from './collections/manifest';

/** The memcached statuses a store operation can fail with (same codes as lib/protocol Status). */
export const StoreStatus = {
  KEY_ENOENT: 0x01,
  KEY_EEXISTS: 0x02,
  E2BIG: 0x03,
  EINVAL: 0x04,
  NOT_STORED: 0x05,
  DELTA_BADVAL: 0x06,
  LOCKED: 0x09,
  NOT_LOCKED: 0x0e,
  /** The write-ahead log could not take or keep the write (disk full or failing); nothing changed. */
  ETMPFAIL: 0x86,
  /** The key has a durable (sync) write in flight: no other write until it commits or aborts. */
  SYNC_WRITE_IN_PROGRESS: 0xa2,
} as const;

const STATUS_TEXT: Record<number, string> = {
  0x01: 'document not found',
  0x02: 'document exists or CAS mismatch',
  0x03: 'value too large',
  0x04: 'invalid argument',
  0x05: 'not stored',
  0x06: 'value is not a number',
  0x09: 'document is locked',
  0x0e: 'document is not locked',
  0x86: 'temporary failure',
  0xa2: 'a durable write to this document is in progress',
};

/** A store operation that failed; `status` is the memcached status a KV client gets. */
export class StoreError extends Error implements StoreErrorLike {
  readonly status: number;
  readonly key: string;
  constructor(status: number, key: string, message?: string, options?: { cause?: unknown }) {
    super(message ?? `${STATUS_TEXT[status] ?? `status 0x${status.toString(16)}`}: ${JSON.stringify(key)}`, options);
    this.name = 'StoreError';
    this.status = status;
    this.key = key;
  }
}

export const MAX_KEY_BYTES = 250;
export const MAX_VALUE_BYTES = 20 * 1024 * 1024;
/** Relative expiries are at most 30 days; larger numbers are absolute Unix seconds. */
export const RELATIVE_EXPIRY_LIMIT = 30 * 24 * 3600;
export const DEFAULT_LOCK_SECONDS = 15;
export const MAX_LOCK_SECONDS = 30;
export const DATATYPE_JSON = 0x01;
export const DATATYPE_XATTR = 0x04;

/** A live document plus its lock state (lock state never creates a mutation). */
export class Item implements StoredDoc {
  /** Lock expiry in server-clock ms; 0 when unlocked. The lock CAS is `cas` while locked. */
  lockUntil = 0;
  /**
   * The value as the client sent it Snappy-compressed (the bucket's "passive" compression mode):
   * handed as it is to readers that negotiated SNAPPY. `value` is always the inflated document.
   */
  snappy: Buffer | undefined = undefined;
  /**
   * The CAS the replicas hold: the last mutation's. GET_LOCKED gives the active copy a new CAS
   * (the lock's) without a mutation, so nothing of it reaches the replicas.
   */
  replicaCas: bigint;
  constructor(
    readonly id: string,
    readonly value: Buffer,
    readonly flags: number,
    readonly datatype: number,
    readonly cas: bigint,
    readonly expiry: number,
    readonly seqno: bigint,
    readonly vbucket: number,
    /** Extended attributes (xattrs.ts); undefined for a document without any. Never part of `value`. */
    readonly xattrs: Xattrs | undefined,
    /** kv_engine's rev seqno: 1 for a new document, one more with each mutation (`$document.revid`, GET_META). */
    readonly rev: bigint,
  ) {
    this.replicaCas = cas;
  }
}

/**
 * What remains of a deleted document: enough for GET_META, OBSERVE and the log, plus the xattrs a
 * deleted document keeps (its system xattrs, or whatever a mutation with AccessDeleted or
 * CreateAsDeleted gave it), which sub-document operations with AccessDeleted read and change.
 */
export interface Tombstone {
  readonly id: string;
  readonly cas: bigint;
  readonly seqno: bigint;
  readonly vbucket: number;
  readonly flags: number;
  /** The body's datatype: a deleted document has no body, so 0. */
  readonly datatype: number;
  readonly xattrs?: Xattrs;
  /** The deletion is a mutation: the revision after the live document's. */
  readonly rev: bigint;
}

/**
 * A whole new state for a document, as a sub-document mutation computes it: a live document, or a
 * deleted one (a tombstone holding only xattrs).
 */
export interface DocumentState {
  readonly value: Buffer;
  readonly datatype: number;
  readonly flags: number;
  readonly xattrs: Xattrs | undefined;
  /** Expiry as memcached takes it (0, relative seconds, or absolute). */
  readonly expiry: number;
  readonly preserveExpiry?: boolean;
  readonly deleted: boolean;
  /** Fills in what depends on the new CAS and seqno (macro expansion): returns the final xattrs. */
  readonly stamp?: (cas: bigint, seqno: bigint) => Xattrs | undefined;
}

/** GET_META's view of a document, live or deleted. */
export interface DocMeta {
  readonly deleted: boolean;
  readonly flags: number;
  readonly expiry: number;
  /** The vBucket sequence number of its last change. */
  readonly seqno: bigint;
  /** Its revision (rev seqno): what GET_META reports as its seqno. */
  readonly rev: bigint;
  readonly datatype: number;
  readonly cas: bigint;
}

/**
 * The write-ahead log as the store sees it (persistence.ts). Every change goes to the log before
 * memory changes: set/remove either take the record or throw (a StoreError, ETMPFAIL), and then
 * nothing changed. A `deferred` log makes records durable later, in groups: the store keeps what
 * each change replaced until the log calls logDurable() (kept) or logFailed() (undone).
 */
export interface StoreLog {
  readonly deferred: boolean;
  /** `cid`: the document's collection (0, the default collection, in logs written before collections). */
  set(doc: Item, cid: number): void;
  remove(tomb: Tombstone, cid: number): void;
}

/**
 * A bucket's service metadata, held as JSON text so every reader gets its own copy and a value
 * that cannot be serialised fails at `set`, with or without a disk behind it. `sink` (see
 * persistence.ts) gets the whole new content before it is committed; if it throws, nothing changes.
 */
export class MetadataMap implements BucketMetadata {
  private readonly values = new Map<string, string>();
  sink: ((all: ReadonlyMap<string, string>) => void) | undefined;

  get(name: string): unknown | undefined {
    const text = this.values.get(name);
    return text === undefined ? undefined : JSON.parse(text);
  }

  set(name: string, value: unknown | undefined): void {
    const text = value === undefined ? undefined : JSON.stringify(value);
    if (value !== undefined && text === undefined) throw new TypeError(`metadata ${JSON.stringify(name)}: value is not JSON-serialisable`);
    if (text === this.values.get(name)) return;
    const next = new Map(this.values);
    if (text === undefined) next.delete(name);
    else next.set(name, text);
    this.sink?.(next);
    if (text === undefined) this.values.delete(name);
    else this.values.set(name, text);
  }

  /** Every name and its JSON text. */
  entries(): ReadonlyMap<string, string> {
    return this.values;
  }

  /** Puts back what was read from disk: no sink call. */
  restore(name: string, text: string): void {
    JSON.parse(text);
    this.values.set(name, text);
  }
}

/**
 * A durable write (kv_engine's SyncWrite) between its prepare and its commit or abort. While the
 * store is given one (`stage()`), the next change is prepared instead of applied: it takes its CAS
 * and a seqno, readers keep seeing the committed document, and other writes to the key get
 * SYNC_WRITE_IN_PROGRESS until `commitPrepared()` or `abortPrepared()`.
 */
export class SyncWrite {
  id: string | undefined;
  /** The prepared new state (its seqno is the prepare's; the commit takes another). */
  prepared: Item | Tombstone | undefined;
  /** The collection the prepared change is in (staged on the bucket, prepared by whichever collection wrote). */
  collection: DocumentStore | undefined;
  /** The front end's answer to the writer, held until the write commits (unordered execution). */
  answer: Buffer | undefined;
  constructor(
    /** 1 majority, 2 majorityAndPersistActive, 3 persistToMajority. */
    readonly level: number,
    readonly timeoutMs: number,
  ) {}
}

/**
 * A collection's service metadata (its N1QL index definitions): kept in its bucket's map under
 * names of its own (`name@cid`), so it is durable with the bucket's and goes with the collection.
 */
class CollectionMetadata implements BucketMetadata {
  constructor(
    private readonly bucket: MetadataMap,
    private readonly cid: number,
  ) {}
  get(name: string): unknown | undefined {
    return this.bucket.get(`${name}@${this.cid}`);
  }
  set(name: string, value: unknown | undefined): void {
    this.bucket.set(`${name}@${this.cid}`, value);
  }
}

/** The metadata names collection `cid` keeps in its bucket's map (see CollectionMetadata). */
export function isCollectionMetadataName(name: string, cid: number): boolean {
  return name.endsWith(`@${cid}`);
}

/** Where a bucket's metadata keeps its collections manifest. */
export const MANIFEST_METADATA = 'collections';

export interface KvWriteOptions extends StoreWriteOptions {
  /** Keep the existing document's expiry (PRESERVE_TTL frame). */
  preserveExpiry?: boolean;
  /** `value` as the client sent it Snappy-compressed: kept for readers that negotiated SNAPPY. */
  snappy?: Buffer;
}

export interface DocumentStoreOptions {
  name: string;
  numVBuckets?: number;
  clock?: ServerClock;
  uuid?: string;
}

/**
 * What the collections of one bucket share: seqnos and UUIDs per vBucket (a vBucket's seqnos count
 * the mutations of every collection), the CAS clock, the write-ahead log and what it may still
 * undo, the durable write being staged, and the collections themselves by id.
 */
class BucketLedger {
  seqno = 0n;
  lastCas = 0n;
  readonly vbSeqno: bigint[];
  readonly vbUuid: bigint[];
  log: StoreLog | undefined = undefined;
  /**
   * Changes a deferred log has not made durable, oldest first, as triples: the collection, the
   * id, then what the collection held for it before (an Item, a Tombstone, or undefined).
   */
  undo: Array<DocumentStore | string | Item | Tombstone | undefined> | undefined = undefined;
  /** Set while a durable write's handler runs: its change (in whichever collection) is prepared, not applied. */
  staging: SyncWrite | undefined = undefined;
  /**
   * Per vBucket, the highest revision a deletion reached (kv_engine's max deleted rev seqno): a
   * document created where no earlier version is known starts above it, so a key deleted and
   * written again never shows a revision it had before.
   */
  readonly maxDeletedRev: bigint[];
  /** Every collection of the bucket but the default one, by collection id. */
  readonly collections = new Map<number, DocumentStore>();
  constructor(numVBuckets: number) {
    this.vbSeqno = new Array<bigint>(numVBuckets).fill(0n);
    this.maxDeletedRev = new Array<bigint>(numVBuckets).fill(0n);
    this.vbUuid = new Array<bigint>(numVBuckets);
    for (let vb = 0; vb < numVBuckets; vb++) this.vbUuid[vb] = randomBytes(8).readBigUInt64BE(0) || 1n;
  }
}

/** A collection's documents inside its bucket (see DocumentStore.addCollection). */
interface CollectionPlace {
  readonly bucket: DocumentStore;
  readonly ledger: BucketLedger;
  readonly def: CollectionDef;
  readonly scope: string;
}

/** JSON check that stops at the first byte when it rules JSON out. */
export function looksLikeJson(value: Buffer): boolean {
  let i = 0;
  const n = value.length;
  while (i < n && (value[i] === 0x20 || value[i] === 0x0a || value[i] === 0x0d || value[i] === 0x09)) i++;
  if (i === n) return false;
  const c = value[i];
  // { [ " - digits t f n
  if (!(c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e)) {
    return false;
  }
  // Checked, not parsed: a parse would build the whole value (20 MiB of `[` is ten million arrays).
  return isJsonText(value);
}

/**
 * One collection's documents. The store a bucket is created with is its default collection and
 * stands for the bucket: it holds the manifest (`manifest`), the bucket's settings and counters,
 * and finds the other collections (`collection(cid)`), each a DocumentStore of its own that shares
 * the bucket's seqnos, CAS clock and log (see BucketLedger).
 */
export class DocumentStore implements BucketStore {
  readonly name: string;
  readonly uuid: string;
  readonly numVBuckets: number;
  readonly clock: ServerClock;
  /** The bucket's default collection (this store, for the default collection itself). */
  readonly bucket: DocumentStore;
  /** The collection's id: 0 for `_default._default`. */
  readonly cid: number;
  readonly scopeName: string;
  readonly collectionName: string;

  private readonly items = new Map<string, Item>();
  private readonly tombstones = new Map<string, Tombstone>();
  /** Ids of documents that carry an expiry, so expiry passes do not scan everything. */
  private readonly expiring = new Set<string>();
  private readonly ledger: BucketLedger;
  private readonly listeners: Array<(event: MutationEvent) => void> = [];
  /** The service metadata of this collection (the bucket's map for the default collection: see bucketMetadata). */
  readonly metadata: BucketMetadata;
  /** Requests the KV front end served for this bucket (the stats sampler reads them). */
  readonly counters: KvCounters;
  /** 'ketama' for a memcached bucket: any member node serves any key, there is no vBucket map. */
  nodeLocator: 'vbucket' | 'ketama' = 'vbucket';
  /** The bucket's max TTL, seconds (0: none): no write gets a later expiry, and one without expiry gets this one. */
  maxTtl = 0;
  /** The collection's maxTTL as its manifest entry says: 0 the bucket's, -1 none, n seconds. */
  collectionMaxTtl = 0;
  private manifestValue: Manifest | undefined;
  /** The collection was dropped: its documents are gone and nothing more is written to it. */
  dropped = false;
  /** The bucket's replicas (its durability majority counts them) and durability minimum (0 none .. 3 persistToMajority). */
  replicas = 0;
  durabilityMinLevel = 0;
  /** An ephemeral bucket: nothing persists, so the persistence durability levels are invalid. */
  ephemeral = false;
  /** Keys of this collection with a prepared sync write. */
  private readonly syncPending = new Set<string>();
  /**
   * The ids in each vBucket, for range scans: built the first time one asks, kept up to date from
   * then on (a collection never scanned pays one test per change).
   */
  private byVbucket: Array<Set<string>> | undefined;

  constructor(opts: DocumentStoreOptions, place?: CollectionPlace) {
    // Every field in one order whatever the branch: one hidden class for every collection's store.
    const b = place?.bucket;
    const numVBuckets = b?.numVBuckets ?? opts.numVBuckets ?? 1024;
    if (!Number.isInteger(numVBuckets) || numVBuckets < 1 || numVBuckets > 0x7fff) {
      throw new RangeError(`numVBuckets must be an integer in 1..32767, got ${opts.numVBuckets}`);
    }
    this.name = b?.name ?? opts.name;
    this.uuid = b?.uuid ?? opts.uuid ?? randomBytes(16).toString('hex');
    this.numVBuckets = numVBuckets;
    this.clock = b?.clock ?? opts.clock ?? systemClock;
    this.bucket = b ?? this;
    this.cid = place?.def.uid ?? 0;
    this.scopeName = place?.scope ?? DEFAULT_SCOPE;
    this.collectionName = place?.def.name ?? DEFAULT_COLLECTION;
    this.ledger = place?.ledger ?? new BucketLedger(numVBuckets);
    this.metadata = b !== undefined ? new CollectionMetadata(b.bucketMetadata, this.cid) : new MetadataMap();
    this.counters = b?.counters ?? new KvCounters();
    this.nodeLocator = b?.nodeLocator ?? 'vbucket';
    this.collectionMaxTtl = place?.def.maxTTL ?? 0;
    if (b === undefined) this.useManifest(Manifest.fresh({ historyDefault: false }));
  }

  /** The bucket's scopes and collections. Replacing it does not touch the collections' stores (see collections/admin.ts). */
  get manifest(): Manifest {
    return this.bucket.manifestValue!;
  }

  set manifest(m: Manifest) {
    this.bucket.manifestValue = m;
  }

  /** The bucket's own service metadata (a collection's `metadata` keeps its names apart in it). */
  get bucketMetadata(): MetadataMap {
    return this.bucket.metadata as MetadataMap;
  }

  // ---- collections ---------------------------------------------------------------------------

  /** The collection with id `cid` (on the bucket's store), or undefined when there is none. */
  collection(cid: number): DocumentStore | undefined {
    if (cid === 0) {
      const dflt = this.bucket;
      return dflt.dropped ? undefined : dflt;
    }
    return this.ledger.collections.get(cid);
  }

  /** The collection `scope.name`, or undefined. */
  collectionNamed(scope: string, name: string): DocumentStore | undefined {
    const def = this.bucket.manifest.collection(scope, name);
    return def === undefined ? undefined : this.collection(def.uid);
  }

  /** Every collection of the bucket that exists, the default one first. */
  collections(): DocumentStore[] {
    const dflt = this.bucket;
    return [...(dflt.dropped ? [] : [dflt]), ...this.ledger.collections.values()];
  }

  /** The bucket's scopes and their collections' names, in manifest order. */
  scopes(): Array<{ name: string; collections: string[] }> {
    return this.bucket.manifest.scopes.map((s) => ({ name: s.name, collections: s.collections.map((c) => c.name) }));
  }

  /** Makes the store of a collection the manifest just created (or that a restart brings back). */
  addCollection(scope: string, def: CollectionDef): DocumentStore {
    if (def.uid === 0) throw new RangeError('the default collection is the bucket itself');
    const store = new DocumentStore({ name: this.name }, { bucket: this.bucket, ledger: this.ledger, def, scope });
    this.ledger.collections.set(def.uid, store);
    return store;
  }

  /**
   * Drops a collection: its documents go (without a log record each: the manifest saying it is
   * gone is what makes them gone after a restart) and its listeners hear nothing more.
   */
  dropCollection(cid: number): void {
    const store = cid === 0 ? this.bucket : this.ledger.collections.get(cid);
    if (store === undefined) return;
    this.ledger.collections.delete(cid);
    store.dropped = true;
    store.items.clear();
    store.tombstones.clear();
    store.expiring.clear();
    store.syncPending.clear();
    store.byVbucket = undefined;
    store.listeners.length = 0;
  }

  /**
   * Makes the collections of the manifest the bucket's metadata holds (a restart: persistence
   * calls it before replaying the log, whose records name their collection by id).
   */
  restoreCollections(): void {
    const saved = this.bucketMetadata.get(MANIFEST_METADATA);
    if (saved !== undefined) this.useManifest(Manifest.fromJSON(saved));
  }

  /** Gives the bucket `manifest` and a store for each of its collections (empty: a new bucket, or a restart before its log is replayed). */
  useManifest(manifest: Manifest): void {
    const bucket = this.bucket;
    bucket.manifest = manifest;
    for (const cid of [...this.ledger.collections.keys()]) this.dropCollection(cid);
    bucket.dropped = false;
    const dflt = bucket.manifest.collection(DEFAULT_SCOPE, DEFAULT_COLLECTION);
    if (dflt === undefined) this.dropCollection(0);
    else bucket.collectionMaxTtl = dflt.maxTTL;
    for (const { scope, collection } of bucket.manifest.allCollections()) if (collection.uid !== 0) this.addCollection(scope.name, collection);
  }

  /** Live documents in every collection of the bucket (stats, item counts). */
  get totalSize(): number {
    let n = 0;
    for (const c of this.collections()) n += c.size;
    return n;
  }

  // ---- BucketStore ---------------------------------------------------------------------------

  get size(): number {
    this.expirePass();
    return this.items.size;
  }

  get highSeqno(): bigint {
    return this.ledger.seqno;
  }

  get(id: string): StoredDoc | undefined {
    return this.live(id);
  }

  *docs(): IterableIterator<StoredDoc> {
    const nowSec = this.nowSeconds();
    for (const item of this.items.values()) {
      if (item.expiry === 0 || item.expiry > nowSec) yield item;
    }
  }

  write(id: string, value: Buffer, mode: StoreWriteMode, options: KvWriteOptions = {}): StoredDoc {
    checkKey(id);
    this.checkNoSyncWrite(id);
    if (value.length > MAX_VALUE_BYTES) throw new StoreError(StoreStatus.E2BIG, id);
    const cas = options.cas ?? 0n;
    const existing = this.live(id);
    if (mode === 'insert') {
      if (existing) throw new StoreError(StoreStatus.KEY_EEXISTS, id);
    } else if (existing) {
      this.checkCas(existing, cas);
    } else if (mode === 'replace' || cas !== 0n) {
      throw new StoreError(StoreStatus.KEY_ENOENT, id);
    }
    let datatype = options.datatype;
    if (datatype === undefined) datatype = looksLikeJson(value) ? DATATYPE_JSON : 0;
    // A full-document write replaces the body; the document's xattrs stay (kv_engine keeps them),
    // unless the value comes in kv_engine's layout with xattrs of its own (the XATTR datatype bit).
    let xattrs = existing?.xattrs;
    if ((datatype & DATATYPE_XATTR) !== 0) {
      let blob;
      try {
        blob = decodeXattrBlob(value);
      } catch (err) {
        throw new StoreError(StoreStatus.EINVAL, id, `the value's xattr section is malformed (${(err as Error).message})`);
      }
      xattrs = blob.xattrs;
      value = value.subarray(blob.bodyAt);
    }
    const expiry =
      options.preserveExpiry && existing ? existing.expiry : this.absoluteExpiry(options.expiry ?? 0);
    const item = this.commit(id, value, (options.flags ?? 0) >>> 0, datatype & DATATYPE_JSON, expiry, existing, xattrs);
    item.snappy = options.snappy;
    return item;
  }

  remove(id: string, options: { cas?: bigint } = {}): void {
    this.delete(id, options.cas ?? 0n);
  }

  onMutation(listener: (event: MutationEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ---- KV operations -------------------------------------------------------------------------

  vbucketOf(id: string): number {
    return vbucketOf(id, this.numVBuckets);
  }

  /** The live item with its lock state, or undefined. Expired items are purged on the way. */
  live(id: string): Item | undefined {
    const item = this.items.get(id);
    if (item === undefined) return undefined;
    if (item.expiry !== 0 && item.expiry <= this.nowSeconds()) {
      this.expire(item);
      return undefined;
    }
    return item;
  }

  /** The deleted document `id` (what sub-document operations with AccessDeleted see), or undefined. */
  tombstone(id: string): Tombstone | undefined {
    return this.live(id) === undefined ? this.tombstones.get(id) : undefined;
  }

  /**
   * The sub-document mutation's write: `id` becomes `next` (live, or deleted with xattrs only),
   * whatever it is now, provided `cas` (when non-zero) is the CAS of what it is now, live or
   * deleted. Locks hold as for any write. The caller decided the store semantics beforehand.
   */
  putDocument(id: string, next: DocumentState, cas: bigint): Item | Tombstone {
    checkKey(id);
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (existing !== undefined) this.checkCas(existing, cas);
    else if (cas !== 0n) {
      const tomb = this.tombstones.get(id);
      if (tomb === undefined) throw new StoreError(StoreStatus.KEY_ENOENT, id);
      if (tomb.cas !== cas) throw new StoreError(StoreStatus.KEY_EEXISTS, id);
    }
    if (next.deleted) return this.commitTombstone(id, existing, existing?.vbucket ?? this.vbucketOf(id), next.flags >>> 0, next.xattrs, next.stamp);
    const expiry = next.preserveExpiry && existing ? existing.expiry : this.absoluteExpiry(next.expiry);
    return this.commit(id, next.value, next.flags >>> 0, next.datatype & DATATYPE_JSON, expiry, existing, next.xattrs, next.stamp);
  }

  /** True while a getLocked() lock holds (lazy timeout). */
  isLocked(item: Item): boolean {
    if (item.lockUntil === 0) return false;
    if (item.lockUntil <= this.clock.now()) {
      item.lockUntil = 0;
      return false;
    }
    return true;
  }

  /** KV DELETE; returns the tombstone (its CAS and seqno go back to the client). */
  delete(id: string, cas: bigint = 0n): Tombstone {
    checkKey(id);
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (!existing) throw new StoreError(StoreStatus.KEY_ENOENT, id);
    this.checkCas(existing, cas);
    return this.commitDelete(existing);
  }

  /** TOUCH: new expiry, new CAS, same value. */
  touch(id: string, expiry: number): Item {
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (!existing) throw new StoreError(StoreStatus.KEY_ENOENT, id);
    if (this.isLocked(existing)) throw new StoreError(StoreStatus.LOCKED, id);
    return this.commit(id, existing.value, existing.flags, existing.datatype, this.absoluteExpiry(expiry), existing, existing.xattrs);
  }

  /**
   * GET_LOCKED: locks the document for `lockSeconds` (0 or over the maximum: the default) and
   * gives it a fresh CAS, which only the lock holder knows.
   */
  getLocked(id: string, lockSeconds: number): Item {
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (!existing) throw new StoreError(StoreStatus.KEY_ENOENT, id);
    if (this.isLocked(existing)) throw new StoreError(StoreStatus.LOCKED, id);
    const secs = lockSeconds === 0 || lockSeconds > MAX_LOCK_SECONDS ? DEFAULT_LOCK_SECONDS : lockSeconds;
    const locked = new Item(id, existing.value, existing.flags, existing.datatype, this.nextCas(), existing.expiry, existing.seqno, existing.vbucket, existing.xattrs, existing.rev);
    locked.lockUntil = this.clock.now() + secs * 1000;
    locked.snappy = existing.snappy;
    locked.replicaCas = existing.replicaCas;
    this.items.set(id, locked);
    return locked;
  }

  /** UNLOCK_KEY with the CAS getLocked() returned. */
  unlock(id: string, cas: bigint): void {
    const existing = this.live(id);
    if (!existing) throw new StoreError(StoreStatus.KEY_ENOENT, id);
    if (!this.isLocked(existing)) throw new StoreError(StoreStatus.NOT_LOCKED, id);
    if (existing.cas !== cas) throw new StoreError(StoreStatus.LOCKED, id);
    existing.lockUntil = 0;
  }

  /** APPEND / PREPEND: NOT_STORED when missing; flags and expiry kept. */
  concat(id: string, value: Buffer, where: 'append' | 'prepend', cas: bigint = 0n): Item {
    checkKey(id);
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (!existing) throw new StoreError(StoreStatus.NOT_STORED, id);
    this.checkCas(existing, cas);
    if (existing.value.length + value.length > MAX_VALUE_BYTES) throw new StoreError(StoreStatus.E2BIG, id);
    const joined = where === 'append' ? Buffer.concat([existing.value, value]) : Buffer.concat([value, existing.value]);
    return this.commit(id, joined, existing.flags, looksLikeJson(joined) ? DATATYPE_JSON : 0, existing.expiry, existing, existing.xattrs);
  }

  /**
   * INCREMENT / DECREMENT on an ASCII decimal value. A missing document is created with `initial`
   * unless expiry is 0xffffffff (the client gave no initial value). Increment wraps at 2^64,
   * decrement stops at 0.
   */
  counter(id: string, delta: bigint, initial: bigint, expiry: number, decrement: boolean, cas: bigint = 0n): { item: Item; value: bigint } {
    checkKey(id);
    this.checkNoSyncWrite(id);
    const existing = this.live(id);
    if (!existing) {
      if (expiry === 0xffffffff || cas !== 0n) throw new StoreError(StoreStatus.KEY_ENOENT, id);
      const item = this.commit(id, Buffer.from(initial.toString(), 'latin1'), 0, DATATYPE_JSON, this.absoluteExpiry(expiry), undefined, undefined);
      return { item, value: initial };
    }
    this.checkCas(existing, cas);
    const current = parseCounter(existing.value);
    if (current === undefined) throw new StoreError(StoreStatus.DELTA_BADVAL, id);
    let next: bigint;
    if (decrement) next = current > delta ? current - delta : 0n;
    else next = (current + delta) & 0xffffffffffffffffn;
    const item = this.commit(id, Buffer.from(next.toString(), 'latin1'), existing.flags, DATATYPE_JSON, existing.expiry, existing, existing.xattrs);
    return { item, value: next };
  }

  /** GET_META: metadata of a live or deleted document; undefined when never seen. */
  meta(id: string): DocMeta | undefined {
    const item = this.live(id);
    if (item) {
      const datatype = item.xattrs === undefined ? item.datatype : item.datatype | DATATYPE_XATTR;
      return { deleted: false, flags: item.flags, expiry: item.expiry, seqno: item.seqno, rev: item.rev, datatype, cas: item.cas };
    }
    const tomb = this.tombstones.get(id);
    if (!tomb) return undefined;
    const datatype = tomb.xattrs === undefined ? tomb.datatype : tomb.datatype | DATATYPE_XATTR;
    return { deleted: true, flags: tomb.flags, expiry: 0, seqno: tomb.seqno, rev: tomb.rev, datatype, cas: tomb.cas };
  }

  /**
   * OBSERVE state: 0x01 persisted (one logical copy is always "persisted"), 0x80 missing. A
   * deletion is persisted as soon as it is acknowledged too, so a tombstone reads as 0x80 (with
   * its CAS) rather than 0x81, which Couchbase reports only until the deletion reaches disk:
   * endure(..., { checkRemoved: true, persistTo }) then succeeds, as it does on a real server.
   */
  observe(id: string): { state: number; cas: bigint } {
    const item = this.live(id);
    if (item) return { state: 0x01, cas: item.cas };
    const tomb = this.tombstones.get(id);
    if (tomb) return { state: 0x80, cas: tomb.cas };
    return { state: 0x80, cas: 0n };
  }

  vbucketSeqno(vb: number): bigint {
    return this.ledger.vbSeqno[vb];
  }

  /** The live documents of vBucket `vb`, in no order (what a range scan snapshots). */
  vbucketItems(vb: number): Item[] {
    const ids = this.vbucketIndex()[vb];
    const out: Item[] = [];
    const nowSec = this.nowSeconds();
    for (const id of ids) {
      const item = this.items.get(id);
      if (item !== undefined && (item.expiry === 0 || item.expiry > nowSec)) out.push(item);
    }
    return out;
  }

  /** True when vBucket `vb` still holds the change numbered `seqno`: a live document or a tombstone (of this collection). */
  seqnoExists(vb: number, seqno: bigint): boolean {
    for (const id of this.vbucketIndex()[vb]) if (this.items.get(id)?.seqno === seqno) return true;
    for (const tomb of this.tombstones.values()) if (tomb.vbucket === vb && tomb.seqno === seqno) return true;
    return false;
  }

  private vbucketIndex(): Array<Set<string>> {
    if (this.byVbucket === undefined) {
      const index = Array.from({ length: this.numVBuckets }, () => new Set<string>());
      for (const item of this.items.values()) index[item.vbucket].add(item.id);
      this.byVbucket = index;
    }
    return this.byVbucket;
  }

  vbucketUuid(vb: number): bigint {
    return this.ledger.vbUuid[vb];
  }

  /** Removes every document of every collection of the bucket (FLUSH); listeners get a delete for each. */
  flush(): void {
    for (const c of this.bucket.collections()) {
      for (const item of [...c.items.values()]) c.commitDelete(item);
      c.tombstones.clear();
    }
  }

  /**
   * Deletes expired documents now; returns how many. The cluster calls it on a timer. Stops at the
   * first deletion the log refuses (disk full): the rest stay expired, and the next pass retries.
   */
  expirePass(): number {
    if (this.cid === 0 && this.ledger.collections.size !== 0) {
      let n = this.expireOwn();
      for (const c of this.ledger.collections.values()) n += c.expireOwn();
      return n;
    }
    return this.expireOwn();
  }

  /** expirePass for this collection alone. */
  private expireOwn(): number {
    if (this.expiring.size === 0) return 0;
    const nowSec = this.nowSeconds();
    let n = 0;
    for (const id of this.expiring) {
      const item = this.items.get(id);
      if (item && item.expiry !== 0 && item.expiry <= nowSec) {
        if (!this.expire(item)) break;
        n++;
      }
    }
    return n;
  }

  /**
   * Expiry as memcached takes it (0, relative seconds, or absolute) to absolute Unix seconds,
   * capped by the bucket's max TTL as ep-engine caps it (processExpiryTime).
   */
  absoluteExpiry(expiry: number): number {
    const abs = expiry === 0 ? 0 : expiry <= RELATIVE_EXPIRY_LIMIT ? this.nowSeconds() + expiry : expiry >>> 0;
    // The collection's maxTTL when it has one (-1: none at all), else the bucket's.
    const own = this.collectionMaxTtl;
    const maxTtl = own === 0 ? this.bucket.maxTtl : own < 0 ? 0 : own;
    if (maxTtl === 0) return abs;
    const limit = this.nowSeconds() + maxTtl;
    return abs === 0 || abs > limit ? limit : abs;
  }

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** A new CAS: server time in ns, strictly increasing even when the clock stalls. */
  nextCas(): bigint {
    const ledger = this.ledger;
    let cas = BigInt(this.clock.now()) * 1_000_000n;
    if (cas <= ledger.lastCas) cas = ledger.lastCas + 1n;
    ledger.lastCas = cas;
    return cas;
  }

  // ---- persistence hooks ----------------------------------------------------------------------

  /** Sends every later change of every collection of the bucket to `log` before memory changes. */
  attachLog(log: StoreLog | undefined): void {
    this.ledger.log = log;
    this.ledger.undo = log?.deferred ? [] : undefined;
  }

  /** The deferred log made the oldest `count` changes it was given durable. */
  logDurable(count: number): void {
    const undo = this.ledger.undo;
    if (undo === undefined) return;
    if (3 * count >= undo.length) undo.length = 0;
    else undo.splice(0, 3 * count);
  }

  /**
   * The deferred log lost every change not yet durable: each is undone, newest first, and
   * listeners hear about it like any change (seqnos are not reused: later changes get new ones).
   */
  logFailed(): void {
    const undo = this.ledger.undo;
    if (undo === undefined) return;
    for (let i = undo.length - 3; i >= 0; i -= 3) {
      const coll = undo[i] as DocumentStore;
      if (!coll.dropped) coll.undoOne(undo[i + 1] as string, undo[i + 2] as Item | Tombstone | undefined);
    }
    undo.length = 0;
  }

  private undoOne(id: string, before: Item | Tombstone | undefined): void {
    const now = this.items.get(id);
    if (before instanceof Item) {
      this.items.set(id, before);
      this.tombstones.delete(id);
      this.byVbucket?.[before.vbucket].add(id);
      if (before.expiry !== 0) this.expiring.add(id);
      else this.expiring.delete(id);
      if (this.listeners.length !== 0) this.emit({ kind: 'set', doc: before, previous: now });
    } else {
      this.items.delete(id);
      if (now !== undefined) this.byVbucket?.[now.vbucket].delete(id);
      this.expiring.delete(id);
      if (before === undefined) this.tombstones.delete(id);
      else this.tombstones.set(id, before);
      if (now !== undefined && this.listeners.length !== 0) this.emit({ kind: 'delete', id, vbucket: now.vbucket, seqno: now.seqno, previous: now });
    }
  }

  /** Puts back a document read from disk: no log record, no listeners. */
  restore(doc: { id: string; value: Buffer; flags: number; datatype: number; cas: bigint; expiry: number; seqno: bigint; xattrs?: Xattrs; rev?: bigint }): void {
    const vb = this.vbucketOf(doc.id);
    this.tombstones.delete(doc.id);
    // Logs written before revisions: each document as new.
    this.items.set(doc.id, new Item(doc.id, doc.value, doc.flags, doc.datatype, doc.cas, doc.expiry, doc.seqno, vb, doc.xattrs, doc.rev ?? 1n));
    this.byVbucket?.[vb].add(doc.id);
    if (doc.expiry !== 0) this.expiring.add(doc.id);
    else this.expiring.delete(doc.id);
    this.noteRestored(vb, doc.seqno, doc.cas);
  }

  /** Puts back a deletion read from disk. */
  restoreDelete(tomb: { id: string; cas: bigint; seqno: bigint; flags: number; datatype: number; xattrs?: Xattrs; rev?: bigint }): void {
    const vb = this.vbucketOf(tomb.id);
    this.items.delete(tomb.id);
    this.byVbucket?.[vb].delete(tomb.id);
    this.expiring.delete(tomb.id);
    const rev = tomb.rev ?? 1n;
    this.tombstones.set(tomb.id, { ...tomb, vbucket: vb, rev });
    if (rev > this.ledger.maxDeletedRev[vb]) this.ledger.maxDeletedRev[vb] = rev;
    this.noteRestored(vb, tomb.seqno, tomb.cas);
  }

  /** Restores the per-vBucket UUIDs saved with the data, so tokens stay valid across restarts. */
  restoreVbucketUuids(uuids: bigint[]): void {
    if (uuids.length !== this.numVBuckets) return;
    for (let vb = 0; vb < uuids.length; vb++) this.ledger.vbUuid[vb] = uuids[vb];
  }

  vbucketUuids(): bigint[] {
    return this.ledger.vbUuid.slice();
  }

  /** Each vBucket's high seqno (what compaction keeps when it leaves out the records that set them). */
  vbucketSeqnos(): bigint[] {
    return this.ledger.vbSeqno.slice();
  }

  /** Puts back high seqnos saved by compaction: none goes backwards. */
  restoreVbucketSeqnos(seqnos: bigint[]): void {
    if (seqnos.length !== this.numVBuckets) return;
    for (let vb = 0; vb < seqnos.length; vb++) this.noteRestored(vb, seqnos[vb], 0n);
  }

  /** A change read from disk to a collection since dropped: its seqno and CAS still count (they never go back). */
  restoreDropped(rec: { id: string; cas: bigint; seqno: bigint }): void {
    this.noteRestored(this.vbucketOf(rec.id), rec.seqno, rec.cas);
  }

  /** Every tombstone, for compaction. */
  tombstoneList(): Tombstone[] {
    return [...this.tombstones.values()];
  }

  // ---- sync writes -----------------------------------------------------------------------------

  /**
   * The next change (made synchronously by the caller, in any collection of the bucket) is
   * prepared into `sw`; `undefined` ends that.
   */
  stage(sw: SyncWrite | undefined): void {
    this.ledger.staging = sw;
  }

  /** True while `id` has a prepared sync write. */
  hasSyncWrite(id: string): boolean {
    return this.syncPending.size !== 0 && this.syncPending.has(id);
  }

  /** Applies a prepared change: its CAS stays, the commit takes a new seqno; logged and heard like any change. */
  commitPrepared(sw: SyncWrite): Item | Tombstone | undefined {
    // Staged on the bucket, prepared by the collection that wrote: committed there.
    if (sw.collection !== undefined && sw.collection !== this) return sw.collection.dropped ? undefined : sw.collection.commitPrepared(sw);
    const p = sw.prepared;
    if (p === undefined || sw.id === undefined || !this.syncPending.delete(sw.id)) return undefined;
    const previous = this.items.get(sw.id);
    if (p instanceof Item) {
      const item = this.commit(p.id, p.value, p.flags, p.datatype, p.expiry, previous, p.xattrs, undefined, p.cas);
      item.snappy = p.snappy;
      return item;
    }
    return this.commitTombstone(p.id, previous, p.vbucket, p.flags, p.xattrs, undefined, p.cas);
  }

  /** Drops a prepared change (timed out, or its node failed over before a replica had it). */
  abortPrepared(sw: SyncWrite): void {
    if (sw.collection !== undefined && sw.collection !== this) return sw.collection.abortPrepared(sw);
    if (sw.id !== undefined && sw.prepared !== undefined) this.syncPending.delete(sw.id);
  }

  /** A prepare: the seqno it takes, and the key marked busy; nothing else changes. */
  private prepare(id: string, change: Item | Tombstone): void {
    const ledger = this.ledger;
    const sw = ledger.staging!;
    ledger.staging = undefined;
    sw.id = id;
    sw.prepared = change;
    sw.collection = this;
    this.syncPending.add(id);
    ledger.seqno = change.seqno;
    ledger.vbSeqno[change.vbucket] = change.seqno;
  }

  private checkNoSyncWrite(id: string): void {
    if (this.syncPending.size !== 0 && this.syncPending.has(id)) throw new StoreError(StoreStatus.SYNC_WRITE_IN_PROGRESS, id);
  }

  // ---- internals ------------------------------------------------------------------------------

  private noteRestored(vb: number, seqno: bigint, cas: bigint): void {
    const ledger = this.ledger;
    if (seqno > ledger.vbSeqno[vb]) ledger.vbSeqno[vb] = seqno;
    if (seqno > ledger.seqno) ledger.seqno = seqno;
    if (cas > ledger.lastCas) ledger.lastCas = cas;
  }

  /**
   * The revision of the next version of `id`: one more than the version it replaces (live,
   * expired but not yet deleted, or deleted); a document with no known earlier version starts
   * above every revision a deletion in its vBucket reached.
   */
  private nextRev(id: string, vb: number, previous: Item | undefined): bigint {
    const before = previous ?? this.items.get(id) ?? this.tombstones.get(id);
    if (before !== undefined) return before.rev + 1n;
    return this.ledger.maxDeletedRev[vb] + 1n;
  }

  /** Locked: only the lock CAS may mutate. Unlocked: a non-zero CAS must match. */
  private checkCas(existing: Item, cas: bigint): void {
    if (this.isLocked(existing)) {
      if (cas !== existing.cas) throw new StoreError(StoreStatus.LOCKED, existing.id);
    } else if (cas !== 0n && cas !== existing.cas) {
      throw new StoreError(StoreStatus.KEY_EEXISTS, existing.id);
    }
  }

  private commit(
    id: string,
    value: Buffer,
    flags: number,
    datatype: number,
    expiry: number,
    previous: Item | undefined,
    xattrs: Xattrs | undefined,
    stamp?: (cas: bigint, seqno: bigint) => Xattrs | undefined,
    /** A prepared sync write's CAS, kept by its commit. */
    preparedCas?: bigint,
  ): Item {
    const vb = previous ? previous.vbucket : this.vbucketOf(id);
    const ledger = this.ledger;
    const seqno = ledger.seqno + 1n;
    const cas = preparedCas ?? this.nextCas();
    const item = new Item(id, value, flags, datatype, cas, expiry, seqno, vb, stamp === undefined ? xattrs : stamp(cas, seqno), this.nextRev(id, vb, previous));
    // Same bytes (touch): the compressed form still holds.
    if (previous !== undefined && previous.value === value) item.snappy = previous.snappy;
    if (ledger.staging !== undefined) {
      this.prepare(id, item);
      return item;
    }
    if (ledger.log !== undefined) {
      ledger.log.set(item, this.cid);
      // An expired item the log could not delete yet is still in the map: undo puts it back.
      if (ledger.undo !== undefined) ledger.undo.push(this, id, previous ?? this.items.get(id) ?? this.tombstones.get(id));
    }
    ledger.seqno = seqno;
    ledger.vbSeqno[vb] = seqno;
    this.items.set(id, item);
    if (previous === undefined) {
      this.tombstones.delete(id);
      if (this.byVbucket !== undefined) this.byVbucket[vb].add(id);
    }
    if (expiry !== 0) this.expiring.add(id);
    else if (previous !== undefined && previous.expiry !== 0) this.expiring.delete(id);
    if (this.listeners.length !== 0) this.emit({ kind: 'set', doc: item, previous });
    return item;
  }

  /** Deletes a live document: the body and user xattrs go, the system xattrs stay on the tombstone. */
  private commitDelete(existing: Item): Tombstone {
    return this.commitTombstone(existing.id, existing, existing.vbucket, existing.flags, systemXattrsOf(existing.xattrs));
  }

  /**
   * Makes `id` a deleted document holding `xattrs` (a deletion, or a sub-document mutation that
   * leaves or creates the document deleted). `previous` is the live item it replaces, if any.
   */
  private commitTombstone(
    id: string,
    previous: Item | undefined,
    vbucket: number,
    flags: number,
    xattrs: Xattrs | undefined,
    stamp?: (cas: bigint, seqno: bigint) => Xattrs | undefined,
    preparedCas?: bigint,
  ): Tombstone {
    const ledger = this.ledger;
    const seqno = ledger.seqno + 1n;
    const cas = preparedCas ?? this.nextCas();
    const kept = stamp === undefined ? xattrs : stamp(cas, seqno);
    const rev = this.nextRev(id, vbucket, previous);
    const tomb: Tombstone = kept === undefined ? { id, cas, seqno, vbucket, flags, datatype: 0, rev } : { id, cas, seqno, vbucket, flags, datatype: 0, xattrs: kept, rev };
    if (ledger.staging !== undefined) {
      this.prepare(id, tomb);
      return tomb;
    }
    if (ledger.log !== undefined) {
      ledger.log.remove(tomb, this.cid);
      if (ledger.undo !== undefined) ledger.undo.push(this, id, previous ?? this.items.get(id) ?? this.tombstones.get(id));
    }
    ledger.seqno = seqno;
    ledger.vbSeqno[vbucket] = seqno;
    if (rev > ledger.maxDeletedRev[vbucket]) ledger.maxDeletedRev[vbucket] = rev;
    this.items.delete(id);
    if (this.byVbucket !== undefined) this.byVbucket[vbucket].delete(id);
    this.expiring.delete(id);
    this.tombstones.set(id, tomb);
    if (previous !== undefined && this.listeners.length !== 0) {
      this.emit({ kind: 'delete', id, vbucket, seqno, previous });
    }
    return tomb;
  }

  /**
   * Deletes an expired item; false when the log refused the deletion (disk full). The item then
   * stays in the map, expired: readers never see it, and the next expiry pass tries again.
   */
  private expire(item: Item): boolean {
    // An expiry found while a durable write's handler runs is not that write: it applies at once.
    const staging = this.ledger.staging;
    this.ledger.staging = undefined;
    try {
      this.commitDelete(item);
      return true;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      return false;
    } finally {
      this.ledger.staging = staging;
    }
  }

  private emit(event: MutationEvent): void {
    // A copy, so a listener that unsubscribes while being called does not skip its neighbour.
    for (const listener of this.listeners.slice()) listener(event);
  }
}

function checkKey(id: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short keys need no byte count.
  if (id.length === 0 || (id.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(id, 'utf8') > MAX_KEY_BYTES)) {
    throw new StoreError(StoreStatus.EINVAL, id, `key must be 1..${MAX_KEY_BYTES} bytes`);
  }
}

/** An ASCII decimal uint64 (what INCREMENT/DECREMENT work on), or undefined. */
export function parseCounter(value: Buffer): bigint | undefined {
  const n = value.length;
  if (n === 0 || n > 20) return undefined;
  for (let i = 0; i < n; i++) {
    const c = value[i];
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const v = BigInt(value.toString('latin1'));
  return v > 0xffffffffffffffffn ? undefined : v;
}
