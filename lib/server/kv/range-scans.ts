// Range scans as kv_engine keeps them: each scan reads one collection of one vBucket against a
// snapshot taken when it was created (the documents in its key range then, in key order), and
// hands them out continue by continue within the continue's limits. A node holds its scans in a
// registry: at most `maxScans` per bucket (more: EBUSY), each for at most `lifetimeMs` after it
// was created (then it is cancelled, as range_scan_max_lifetime does).
import { randomBytes } from 'node:crypto';
import { Status } from '../../protocol/status';
import { RangeScanContent, scanDocumentBytes, scanKeyBytes, writeScanDocument, writeScanKey, type RangeScanLimits } from '../../protocol/range-scan';
import { leb128Length } from '../../protocol/leb128';
import { DATATYPE_SNAPPY } from '../../protocol/snappy';
import { DATATYPE_JSON, type DocumentStore, type Item } from '../store';
import { Bernoulli } from './sampling';

/** kv_engine's range_scan_read_buffer_send_size: a continue's records go out in responses of about this many bytes. */
export const SCAN_SEND_THRESHOLD_BYTES = 8192;
/** kv_engine's cap on a scan's `name`. */
export const MAX_SCAN_NAME_BYTES = 50;


/**
 * The live documents of collection `cid` in vBucket `vb` of `bucket`, or undefined when the bucket
 * has no such collection (never made, or dropped).
 */
export function collectionDocuments(bucket: DocumentStore, cid: number, vb: number): Item[] | undefined {
  return bucket.collection(cid)?.vbucketItems(vb);
}

/** One document of a scan's snapshot, with its key as the bytes the range compares. */
interface Entry {
  readonly key: Buffer;
  readonly item: Item;
}

/** A key range as kv_engine takes it: bytes, each end inclusive or exclusive. */
export interface KeyRange {
  start: Buffer;
  excludeStart: boolean;
  end: Buffer;
  excludeEnd: boolean;
}

/** The whole collection: kv_engine's default range when a create names none. */
export const WHOLE_RANGE: Readonly<KeyRange> = Object.freeze({ start: Buffer.from([0]), excludeStart: false, end: Buffer.from([0xff]), excludeEnd: false });

function inRange(key: Buffer, r: KeyRange): boolean {
  const s = Buffer.compare(key, r.start);
  if (s < 0 || (s === 0 && r.excludeStart)) return false;
  const e = Buffer.compare(key, r.end);
  return e < 0 || (e === 0 && !r.excludeEnd);
}

/** The snapshot: `docs` in `range`, in key (byte) order. */
export function snapshotOf(docs: readonly Item[], range: KeyRange): Entry[] {
  const out: Entry[] = [];
  for (const item of docs) {
    const key = Buffer.from(item.id, 'utf8');
    if (inRange(key, range)) out.push({ key, item });
  }
  out.sort((a, b) => Buffer.compare(a.key, b.key));
  return out;
}

export type ScanState = 'idle' | 'continuing' | 'cancelled';

export interface ScanInit {
  /** The bucket (its default collection's store, which the registry counts scans by). */
  store: DocumentStore;
  vbucket: number;
  collection: number;
  keyOnly: boolean;
  entries: Entry[];
  /** Sampling: each key is kept with this distribution's draw. */
  sampler?: Bernoulli;
  name: string;
  /** The client may read Snappy-compressed values (they go out as the store keeps them). */
  snappy: boolean;
  /** The client negotiated JSON (datatype JSON is reported, else cleared). */
  json: boolean;
}

/** One response of a continue: a value of records, and the status that says what follows. */
export interface ScanChunk {
  /** SUCCESS (more responses follow), RANGE_SCAN_MORE (a limit was reached) or RANGE_SCAN_COMPLETE. */
  status: number;
  value: Buffer;
}

export class RangeScan {
  readonly id: Buffer;
  readonly idHex: string;
  readonly store: DocumentStore;
  readonly vbucket: number;
  readonly collection: number;
  readonly keyOnly: boolean;
  readonly name: string;
  readonly createdAt: number;
  /** What each continue response's extras say (keys or documents). */
  readonly extras: Buffer;
  state: ScanState = 'idle';
  private readonly entries: Entry[];
  private readonly sampler: Bernoulli | undefined;
  private readonly snappy: boolean;
  private readonly json: boolean;
  private readonly keyPrefixBytes: number;
  private next = 0;
  // The current continue's limits and progress.
  private limits: RangeScanLimits = { itemLimit: 0, timeLimitMs: 0, byteLimit: 0 };
  private deadline = 0;
  private items = 0;
  private bytes = 0;

  constructor(init: ScanInit, now: number) {
    this.id = randomBytes(16);
    this.idHex = this.id.toString('hex');
    this.store = init.store;
    this.vbucket = init.vbucket;
    this.collection = init.collection;
    this.keyOnly = init.keyOnly;
    this.entries = init.entries;
    this.sampler = init.sampler;
    this.name = init.name;
    this.snappy = init.snappy;
    this.json = init.json;
    this.keyPrefixBytes = leb128Length(init.collection);
    this.createdAt = now;
    this.extras = Buffer.alloc(4);
    this.extras.writeUInt32BE(init.keyOnly ? RangeScanContent.KEYS : RangeScanContent.DOCUMENTS, 0);
  }

  /** Starts a continue with `limits` (0: none) at `now` (ms). */
  begin(limits: RangeScanLimits, now: number): void {
    this.state = 'continuing';
    this.limits = limits;
    this.deadline = limits.timeLimitMs === 0 ? 0 : now + limits.timeLimitMs;
    this.items = 0;
    this.bytes = 0;
  }

  /**
   * The continue's next response. As in kv_engine, each record is counted against the limits as
   * it is taken and a limit is checked after it, so a continue returns at least one record unless
   * the scan is at its end, and one that reaches a limit on the last key answers MORE (the next
   * continue finds the end and answers COMPLETE with nothing).
   */
  nextChunk(now: () => number): ScanChunk {
    const parts: Array<{ entry: Entry; value: Buffer; datatype: number }> = [];
    let size = 0;
    const { itemLimit, byteLimit } = this.limits;
    while (this.next < this.entries.length) {
      const entry = this.entries[this.next++];
      if (this.sampler !== undefined && !this.sampler.draw()) continue;
      const doc = this.keyOnly ? undefined : this.valueOf(entry.item);
      const value = doc?.value ?? EMPTY;
      parts.push({ entry, value, datatype: doc?.datatype ?? 0 });
      size += this.keyOnly ? scanKeyBytes(entry.key.length) : scanDocumentBytes(entry.key.length, value.length);
      this.items++;
      this.bytes += this.keyPrefixBytes + entry.key.length + value.length;
      const limited = (itemLimit !== 0 && this.items >= itemLimit) || (byteLimit !== 0 && this.bytes >= byteLimit) || (this.deadline !== 0 && now() >= this.deadline);
      if (limited) return { status: Status.RANGE_SCAN_MORE, value: this.encode(parts, size) };
      if (size >= SCAN_SEND_THRESHOLD_BYTES) return { status: Status.SUCCESS, value: this.encode(parts, size) };
    }
    return { status: Status.RANGE_SCAN_COMPLETE, value: this.encode(parts, size) };
  }

  /**
   * The value a value scan sends: the body alone (range scans never send xattrs, and the store
   * keeps them apart from it), compressed only to Snappy clients.
   */
  private valueOf(item: Item): { value: Buffer; datatype: number } {
    const datatype = this.json ? item.datatype : item.datatype & ~DATATYPE_JSON;
    if (this.snappy && item.snappy !== undefined) return { value: item.snappy, datatype: datatype | DATATYPE_SNAPPY };
    return { value: item.value, datatype };
  }

  private encode(parts: ReadonlyArray<{ entry: Entry; value: Buffer; datatype: number }>, size: number): Buffer {
    if (parts.length === 0) return EMPTY;
    const out = Buffer.allocUnsafe(size);
    let off = 0;
    for (const { entry, value, datatype } of parts) {
      if (this.keyOnly) off = writeScanKey(out, off, entry.key);
      else {
        const item = entry.item;
        off = writeScanDocument(out, off, { key: entry.key, value, flags: item.flags, expiry: item.expiry, seqno: item.seqno, cas: item.cas, datatype });
      }
    }
    return out;
  }
}

const EMPTY = Buffer.alloc(0);

export interface RangeScanLimitsConfig {
  /** Scans one node keeps open per bucket; past it a create answers EBUSY. */
  maxScans: number;
  /** How long a scan lives after it was created, ms (kv_engine's range_scan_max_lifetime, 60 s). */
  lifetimeMs: number;
}

/** A node's open scans. */
export class RangeScanRegistry {
  private readonly scans = new Map<string, RangeScan>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: RangeScanLimitsConfig,
    private readonly now: () => number,
  ) {}

  /** Scans of `store` open now. */
  countFor(store: DocumentStore): number {
    this.expire();
    let n = 0;
    for (const scan of this.scans.values()) if (scan.store === store) n++;
    return n;
  }

  get size(): number {
    return this.scans.size;
  }

  /** True when another scan of `store` may be opened. */
  hasRoomFor(store: DocumentStore): boolean {
    return this.countFor(store) < this.config.maxScans;
  }

  add(scan: RangeScan): void {
    this.scans.set(scan.idHex, scan);
    this.arm();
  }

  /** The scan `id` of `store` in `vbucket`, or undefined (unknown, finished, cancelled or expired). */
  find(store: DocumentStore, vbucket: number, id: Buffer): RangeScan | undefined {
    this.expire();
    const scan = this.scans.get(id.toString('hex'));
    return scan !== undefined && scan.store === store && scan.vbucket === vbucket ? scan : undefined;
  }

  /** Forgets `scan`; a continue still answering it sees `cancelled` when `cancel` is set. */
  remove(scan: RangeScan, cancel = false): void {
    if (cancel) scan.state = 'cancelled';
    this.scans.delete(scan.idHex);
    if (this.scans.size === 0) this.disarm();
  }

  /** Cancels every scan (the node is closing). */
  clear(): void {
    for (const scan of this.scans.values()) scan.state = 'cancelled';
    this.scans.clear();
    this.disarm();
  }

  /** Cancels the scans past their lifetime. */
  private expire(): void {
    if (this.scans.size === 0) return;
    const limit = this.now() - this.config.lifetimeMs;
    for (const scan of this.scans.values()) if (scan.createdAt <= limit) this.remove(scan, true);
  }

  /** A timer for the oldest scan's end, so an abandoned scan goes away without further traffic. */
  private arm(): void {
    if (this.timer !== undefined) return;
    let oldest = Infinity;
    for (const scan of this.scans.values()) oldest = Math.min(oldest, scan.createdAt);
    const wait = Math.max(0, oldest + this.config.lifetimeMs - this.now()) + 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
      if (this.scans.size !== 0) this.arm();
    }, wait);
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
