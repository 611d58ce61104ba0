// The write-ahead log's on-disk format, and reading a log back with its damage found and skipped.
//
// File (format 2): the 8 bytes "DBLOG\0\x02\n", a u32 sync marker drawn at random when the file
// is created, then records. Record: u32 marker, u32 payload length, u32 crc32 of the payload
// seeded with the marker, payload. The marker is what makes damage in the middle recoverable:
// after a bad record the reader looks for the next occurrence of the marker and checks the record
// there, so it resumes at the next good record without trying every byte offset. Because the
// marker is random per file and never leaves the server, a document value cannot carry bytes that
// pass for a record (a value holding a copy of a log file has another marker and checksum seed).
//
// Format 1 (logs written before format 2): records are u32 length, u32 crc32(payload), payload,
// with no file header. Such files are still read (resynchronising by trying each offset); the
// first compaction rewrites them in format 2.
//
// Payloads (both formats): a type byte, then for a document u64 cas, u64 seqno, u32 flags,
// u32 expiry, u8 datatype, u16 key length, key, value; for a deletion u64 cas, u64 seqno,
// u32 flags, u8 datatype, u16 key length, key; for the vBucket UUIDs u16 count, u64 each; for
// the vBucket high seqnos (written by compaction, which drops the records that set them: those
// of dropped collections, expired documents) the same shape.
// A document with extended attributes has the XATTR datatype bit and its value starts with
// kv_engine's xattr blob (xattrs.ts); a deleted document that keeps xattrs is a deletion record of
// its own type with the blob after the key. Logs written before xattrs have neither and read as before.
// A document or deletion of a collection other than the default one has the IN_COLLECTION bit in
// its type and its key starts with the collection id in unsigned LEB128, as a collections-aware
// KV client sends it; logs written before collections have no such record.
// A document or deletion with the WITH_REV bit in its type has its revision (kv_engine's rev
// seqno) as a u64 right after the type byte, the rest of the payload following as without it;
// logs written before revisions have none (their documents read as revision 1).
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, type Tombstone } from './store';
import type { StoredDoc } from './service-types';
import { decodeXattrBlob, encodeXattrBlob, MAX_SYSTEM_XATTR_BYTES } from './xattrs';
import { decodeLeb128, leb128Length, writeLeb128 } from '../protocol/leb128';

const REC_SET = 1;
const REC_DELETE = 2;
const REC_VBUUIDS = 3;
/** A deletion that keeps xattrs: REC_DELETE's payload, then the xattr blob. */
const REC_DELETE_XATTRS = 4;
const REC_VBSEQNOS = 5;
/** Beside a document or deletion type: the key starts with its collection's id (not the default one). */
const IN_COLLECTION = 0x10;
/** Beside a document or deletion type: a u64 revision follows the type byte. */
const WITH_REV = 0x20;
/** A key with its collection prefix (at most 5 bytes of LEB128). */
const MAX_PREFIXED_KEY_BYTES = MAX_KEY_BYTES + 5;
const DATATYPE_XATTR = 0x04;

const MAGIC = Buffer.from('DBLOG\0\x02\n', 'latin1');
/** Magic plus marker. */
export const FILE_HEADER_BYTES = MAGIC.length + 4;
/** Larger than any payload we write (the largest is a document: header, key and a 20 MiB value). */
const MAX_PAYLOAD = 28 + MAX_PREFIXED_KEY_BYTES + MAX_VALUE_BYTES + MAX_SYSTEM_XATTR_BYTES;

/** How one file frames its records. */
export class LogFormat {
  /** Bytes before each payload. */
  readonly head: number;
  private constructor(
    readonly version: 1 | 2,
    /** Format 2's sync marker, also the checksum seed; 0 in format 1. */
    readonly marker: number,
  ) {
    this.head = version === 2 ? 12 : 8;
  }

  /** Format 2 with a new random marker, for a file about to be created. */
  static fresh(): LogFormat {
    let marker = 0;
    while (marker === 0) marker = randomBytes(4).readUInt32BE(0); // zeros (a tail never written) must not match
    return new LogFormat(2, marker);
  }

  /** The format of the log file `buf` (format 2 for an empty file). */
  static of(buf: Buffer): LogFormat {
    if (buf.length === 0) return LogFormat.fresh();
    if (buf.length < FILE_HEADER_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return new LogFormat(1, 0);
    const fmt = new LogFormat(2, buf.readUInt32BE(MAGIC.length));
    // A damaged marker in the header would hide every record: the first record has a copy.
    if (buf.length >= FILE_HEADER_BYTES + 4 && fmt.recordAt(buf, FILE_HEADER_BYTES) === 0) {
      const first = new LogFormat(2, buf.readUInt32BE(FILE_HEADER_BYTES));
      if (first.recordAt(buf, FILE_HEADER_BYTES) > 0) return first;
    }
    return fmt;
  }

  /** What a file in this format starts with (nothing in format 1). */
  fileHeader(): Buffer {
    if (this.version === 1) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(FILE_HEADER_BYTES);
    MAGIC.copy(out, 0);
    out.writeUInt32BE(this.marker, MAGIC.length);
    return out;
  }

  /** A record buffer with room for a payload of `len` bytes at offset `head`. */
  alloc(len: number): Buffer {
    return Buffer.allocUnsafe(this.head + len);
  }

  /** Fills in the record header of a buffer from alloc() whose payload is written. */
  seal(rec: Buffer): Buffer {
    const h = this.head;
    const len = rec.length - h;
    if (h === 12) {
      rec.writeUInt32BE(this.marker, 0);
      rec.writeUInt32BE(len, 4);
      rec.writeUInt32BE(crc32(rec.subarray(12), this.marker), 8);
    } else {
      rec.writeUInt32BE(len, 0);
      rec.writeUInt32BE(crc32(rec.subarray(8)), 4);
    }
    return rec;
  }

  /** Length of the well-formed record at `off` (header, checksum and payload shape), or 0. */
  recordAt(buf: Buffer, off: number): number {
    const h = this.head;
    if (off + h > buf.length) return 0;
    if (h === 12 && buf.readUInt32BE(off) !== this.marker) return 0;
    const len = buf.readUInt32BE(off + h - 8);
    if (len < 1 || len > MAX_PAYLOAD || off + h + len > buf.length) return 0;
    const payload = buf.subarray(off + h, off + h + len);
    const sum = h === 12 ? crc32(payload, this.marker) : crc32(payload);
    if (sum !== buf.readUInt32BE(off + h - 4)) return 0;
    return payloadShapeOk(payload) ? h + len : 0;
  }

  /** Offset of the next well-formed record at or after `from`, or -1. */
  resync(buf: Buffer, from: number): number {
    if (this.version === 1) {
      for (let p = from; p + 8 <= buf.length; p++) if (this.recordAt(buf, p) > 0) return p;
      return -1;
    }
    const marker = this.fileHeader().subarray(MAGIC.length);
    for (let p = buf.indexOf(marker, from); p >= 0; p = buf.indexOf(marker, p + 1)) {
      if (this.recordAt(buf, p) > 0) return p;
    }
    return -1;
  }

  /**
   * True when the bytes from `off` to the end are what a crash in the middle of an append leaves:
   * the start of one record whose declared length runs past the end (and, in format 2, no other
   * record starting after it), or zeros (a file extended whose data never reached the disk).
   * Anything else is damage, not a torn write.
   */
  tornAt(buf: Buffer, off: number): boolean {
    let zeros = true;
    for (let p = off; p < buf.length && zeros; p++) zeros = buf[p] === 0;
    if (zeros) return true;
    const h = this.head;
    if (this.version === 2) {
      const have = Math.min(4, buf.length - off);
      const marker = this.fileHeader().subarray(MAGIC.length);
      if (!buf.subarray(off, off + have).equals(marker.subarray(0, have))) return false;
      if (buf.indexOf(marker, off + 1) >= 0) return false;
    }
    if (off + h > buf.length) return true;
    const len = buf.readUInt32BE(off + h - 8);
    return len <= MAX_PAYLOAD && off + h + len > buf.length;
  }

  /**
   * Where the records in the damaged span [start, end) began, as far as can be told: at `start`,
   * at every marker, and where a record whose marker is intact says (by its length) that it ends.
   */
  recordStarts(buf: Buffer, start: number, end: number): number[] {
    const found = new Set([start]);
    const marker = this.fileHeader().subarray(MAGIC.length);
    if (this.version === 2) for (let p = buf.indexOf(marker, start + 1); p >= 0 && p < end; p = buf.indexOf(marker, p + 1)) found.add(p);
    const queue = [...found].sort((a, b) => a - b);
    for (let i = 0; i < queue.length; i++) {
      const p = queue[i];
      // Format 1 has no marker to trust a length by: every length is followed.
      if (p + this.head > end || (this.version === 2 && buf.readUInt32BE(p) !== this.marker)) continue;
      const next = p + this.head + buf.readUInt32BE(p + this.head - 8);
      if (next > p + this.head && next < end && !found.has(next)) {
        found.add(next);
        queue.push(next);
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}

// ---- encoding ------------------------------------------------------------------------------------

/** What the log keeps of a document, and of a deletion (the vBucket follows from the key). */
export type DocRecord = Omit<StoredDoc, 'vbucket'> & { readonly rev?: bigint };
export type DeleteRecord = Omit<Tombstone, 'vbucket' | 'rev'> & { readonly rev?: bigint };

/** `cid`: the document's collection (0: the default collection, written as before collections). */
export function encodeSet(doc: DocRecord, fmt: LogFormat, cid = 0): Buffer {
  const prefix = cid === 0 ? 0 : leb128Length(cid);
  const keyLen = prefix + Buffer.byteLength(doc.id);
  const blob = doc.xattrs === undefined ? undefined : encodeXattrBlob(doc.xattrs);
  const o = doc.rev === undefined ? 0 : 8;
  const rec = fmt.alloc(o + 28 + keyLen + (blob?.length ?? 0) + doc.value.length);
  let p = rec.writeUInt8((cid === 0 ? REC_SET : REC_SET | IN_COLLECTION) | (o === 0 ? 0 : WITH_REV), fmt.head);
  if (doc.rev !== undefined) p = rec.writeBigUInt64BE(doc.rev, p);
  p = rec.writeBigUInt64BE(doc.cas, p);
  p = rec.writeBigUInt64BE(doc.seqno, p);
  p = rec.writeUInt32BE(doc.flags >>> 0, p);
  p = rec.writeUInt32BE(doc.expiry >>> 0, p);
  p = rec.writeUInt8(blob === undefined ? doc.datatype : doc.datatype | DATATYPE_XATTR, p);
  p = rec.writeUInt16BE(keyLen, p);
  if (prefix !== 0) p = writeLeb128(rec, p, cid);
  p += rec.write(doc.id, p);
  if (blob !== undefined) p += blob.copy(rec, p);
  doc.value.copy(rec, p);
  return fmt.seal(rec);
}

export function encodeDelete(t: DeleteRecord, fmt: LogFormat, cid = 0): Buffer {
  const prefix = cid === 0 ? 0 : leb128Length(cid);
  const keyLen = prefix + Buffer.byteLength(t.id);
  const blob = t.xattrs === undefined ? undefined : encodeXattrBlob(t.xattrs);
  const o = t.rev === undefined ? 0 : 8;
  const rec = fmt.alloc(o + 24 + keyLen + (blob?.length ?? 0));
  if (blob !== undefined) blob.copy(rec, fmt.head + o + 24 + keyLen);
  let p = rec.writeUInt8((blob === undefined ? REC_DELETE : REC_DELETE_XATTRS) | (cid === 0 ? 0 : IN_COLLECTION) | (o === 0 ? 0 : WITH_REV), fmt.head);
  if (t.rev !== undefined) p = rec.writeBigUInt64BE(t.rev, p);
  p = rec.writeBigUInt64BE(t.cas, p);
  p = rec.writeBigUInt64BE(t.seqno, p);
  p = rec.writeUInt32BE(t.flags >>> 0, p);
  p = rec.writeUInt8(t.datatype, p);
  p = rec.writeUInt16BE(keyLen, p);
  if (prefix !== 0) p = writeLeb128(rec, p, cid);
  rec.write(t.id, p);
  return fmt.seal(rec);
}

export function encodeVbuuids(uuids: bigint[], fmt: LogFormat): Buffer {
  return encodeVbList(REC_VBUUIDS, uuids, fmt);
}

/** Each vBucket's high seqno: a log that no longer holds the records that set them still knows them. */
export function encodeVbseqnos(seqnos: bigint[], fmt: LogFormat): Buffer {
  return encodeVbList(REC_VBSEQNOS, seqnos, fmt);
}

function encodeVbList(type: number, list: bigint[], fmt: LogFormat): Buffer {
  const rec = fmt.alloc(3 + 8 * list.length);
  const h = fmt.head;
  rec[h] = type;
  rec.writeUInt16BE(list.length, h + 1);
  list.forEach((u, i) => rec.writeBigUInt64BE(u, h + 3 + i * 8));
  return fmt.seal(rec);
}

// ---- decoding ------------------------------------------------------------------------------------

/** `cid`: the collection of the document (0: the default collection). */
export type LogRecord =
  | { readonly kind: 'set'; readonly doc: DocRecord; readonly cid: number }
  | { readonly kind: 'delete'; readonly tomb: DeleteRecord; readonly cid: number }
  | { readonly kind: 'vbuuids'; readonly uuids: bigint[] }
  | { readonly kind: 'vbseqnos'; readonly seqnos: bigint[] };

/** Key offset within a payload, by record type (documents and deletions; the IN_COLLECTION bit aside). */
const KEY_AT: Record<number, number> = { [REC_SET]: 28, [REC_DELETE]: 24, [REC_DELETE_XATTRS]: 24 };

/** Records about every vBucket, not one document. */
const isVbList = (type: number): boolean => type === REC_VBUUIDS || type === REC_VBSEQNOS;

/** Bytes WITH_REV adds before the rest of the payload. */
const revBytes = (type: number): number => (type >= 0 && !isVbList(type) && (type & WITH_REV) !== 0 ? 8 : 0);

/** A record type without its IN_COLLECTION and WITH_REV bits (the vBucket lists have none). */
function baseType(type: number): number {
  return isVbList(type) ? type : type & ~(IN_COLLECTION | WITH_REV);
}

/** The collection prefix of an IN_COLLECTION key at `at`: its length and id (length 0, id 0: none; id -1: malformed). */
function prefixAt(buf: Buffer, type: number, at: number, keyLen: number): { length: number; cid: number } {
  if ((type & IN_COLLECTION) === 0 || isVbList(type)) return { length: 0, cid: 0 };
  try {
    const { value, length } = decodeLeb128(buf.subarray(at, at + Math.min(keyLen, 5)));
    return length < keyLen && value !== 0 ? { length, cid: value } : { length: 0, cid: -1 };
  } catch {
    return { length: 0, cid: -1 };
  }
}

/** True when the payload's type is known and its key (or UUID list) fits inside it. */
function payloadShapeOk(payload: Buffer): boolean {
  const type = baseType(payload[0]);
  if (isVbList(type)) return payload.length >= 3 && payload.length === 3 + 8 * payload.readUInt16BE(1);
  if (KEY_AT[type] === undefined) return false;
  const o = revBytes(payload[0]);
  const keyAt = KEY_AT[type] + o;
  if (payload.length < keyAt) return false;
  const keyLen = payload.readUInt16BE(keyAt - 2);
  const prefixed = (payload[0] & IN_COLLECTION) !== 0;
  if (!(keyLen > 0 && keyLen <= (prefixed ? MAX_PREFIXED_KEY_BYTES : MAX_KEY_BYTES) && keyAt + keyLen <= payload.length)) return false;
  if (prefixed && prefixAt(payload, payload[0], keyAt, keyLen).cid < 0) return false;
  if (type === REC_DELETE) return keyAt + keyLen === payload.length;
  if (type === REC_DELETE_XATTRS || (payload[o + 25] & DATATYPE_XATTR) !== 0) return xattrBlobOk(payload, keyAt + keyLen);
  return true;
}

function xattrBlobOk(payload: Buffer, at: number): boolean {
  try {
    const { bodyAt } = decodeXattrBlob(payload.subarray(at));
    return baseType(payload[0]) !== REC_DELETE_XATTRS || at + bodyAt === payload.length;
  } catch {
    return false;
  }
}

/** A payload that passed recordAt(). */
function decode(payload: Buffer): LogRecord {
  const type = baseType(payload[0]);
  const o = revBytes(payload[0]);
  const rev = o === 0 ? undefined : payload.readBigUInt64BE(1);
  if (type === REC_SET) {
    const keyLen = payload.readUInt16BE(o + 26);
    const prefix = prefixAt(payload, payload[0], o + 28, keyLen);
    let datatype = payload[o + 25];
    let value = payload.subarray(o + 28 + keyLen);
    let xattrs;
    if ((datatype & DATATYPE_XATTR) !== 0) {
      const blob = decodeXattrBlob(value);
      xattrs = blob.xattrs;
      value = value.subarray(blob.bodyAt);
      datatype &= ~DATATYPE_XATTR;
    }
    const doc = {
      cas: payload.readBigUInt64BE(o + 1),
      seqno: payload.readBigUInt64BE(o + 9),
      flags: payload.readUInt32BE(o + 17),
      expiry: payload.readUInt32BE(o + 21),
      datatype,
      id: payload.toString('utf8', o + 28 + prefix.length, o + 28 + keyLen),
      value: Buffer.from(value),
      ...(rev === undefined ? {} : { rev }),
    };
    return { kind: 'set', doc: xattrs === undefined ? doc : { ...doc, xattrs }, cid: prefix.cid };
  }
  if (type === REC_DELETE || type === REC_DELETE_XATTRS) {
    const keyLen = payload.readUInt16BE(o + 22);
    const prefix = prefixAt(payload, payload[0], o + 24, keyLen);
    const tomb = {
      cas: payload.readBigUInt64BE(o + 1),
      seqno: payload.readBigUInt64BE(o + 9),
      flags: payload.readUInt32BE(o + 17),
      datatype: payload[o + 21],
      id: payload.toString('utf8', o + 24 + prefix.length, o + 24 + keyLen),
      ...(rev === undefined ? {} : { rev }),
    };
    const xattrs = type === REC_DELETE_XATTRS ? decodeXattrBlob(payload.subarray(o + 24 + keyLen)).xattrs : undefined;
    return { kind: 'delete', tomb: xattrs === undefined ? tomb : { ...tomb, xattrs }, cid: prefix.cid };
  }
  const list: bigint[] = [];
  for (let i = 0, n = payload.readUInt16BE(1); i < n; i++) list.push(payload.readBigUInt64BE(3 + i * 8));
  return type === REC_VBSEQNOS ? { kind: 'vbseqnos', seqnos: list } : { kind: 'vbuuids', uuids: list };
}

/** A record that sat in a damaged span: what could still be read of it. */
export interface LostRecord {
  readonly offset: number;
  /** 'unknown' when even the type byte is unusable. */
  readonly kind: 'set' | 'delete' | 'vbuuids' | 'vbseqnos' | 'unknown';
  /** The document key, when its bytes lie inside the span (they may be damaged too). */
  readonly key: string | undefined;
  /** The id of the key's collection (0: the default collection). */
  readonly cid: number;
  /** A later good record in the log is about the same key, so the key's final state is intact. */
  superseded: boolean;
}

export interface Damage {
  readonly start: number;
  readonly end: number;
  readonly lost: LostRecord[];
}

export interface ScanResult {
  readonly format: LogFormat;
  /** Good records replayed. */
  readonly records: number;
  /** Bytes to keep: everything up to the end of the last good record. */
  readonly validEnd: number;
  /** A torn tail (see LogFormat.tornAt): the record being appended when the process died; cut off. */
  readonly tornBytes: number;
  /** Damaged spans followed by good records, in file order. */
  readonly damage: Damage[];
}

function lostAt(buf: Buffer, off: number, end: number, fmt: LogFormat): LostRecord {
  const p = off + fmt.head;
  const raw = p < end ? buf[p] : -1;
  const type = baseType(raw);
  const kind = type === REC_SET ? 'set' : type === REC_DELETE || type === REC_DELETE_XATTRS ? 'delete' : type === REC_VBUUIDS ? 'vbuuids' : type === REC_VBSEQNOS ? 'vbseqnos' : 'unknown';
  let key: string | undefined;
  let cid = 0;
  const keyAt = KEY_AT[type] === undefined ? undefined : KEY_AT[type] + revBytes(raw);
  if (keyAt !== undefined && p + keyAt <= end) {
    const keyLen = buf.readUInt16BE(p + keyAt - 2);
    if (keyLen > 0 && keyLen <= MAX_PREFIXED_KEY_BYTES && p + keyAt + keyLen <= end) {
      const prefix = prefixAt(buf, raw, p + keyAt, keyLen);
      cid = Math.max(prefix.cid, 0);
      key = buf.toString('utf8', p + keyAt + prefix.length, p + keyAt + keyLen);
    }
  }
  return { offset: off, kind, key, cid, superseded: false };
}

/** How scanLog matches a lost record with a later one: the key within its collection. */
function qualified(cid: number, id: string): string {
  return cid === 0 ? id : `${cid}\u0000${id}`;
}

/**
 * Reads a whole log, handing every good record to `apply` in file order. A damaged span is skipped
 * and described in `damage` (the last one may run to the end of the file), except a torn tail,
 * which is only counted. Lost records whose key has a good record later are marked `superseded`.
 */
export function scanLog(buf: Buffer, apply: (rec: LogRecord) => void): ScanResult {
  const format = LogFormat.of(buf);
  const damage: Damage[] = [];
  /** Keys of lost records not yet written again later in the log. */
  const open = new Map<string, LostRecord[]>();
  let records = 0;
  let off = format.version === 2 && buf.length > 0 ? FILE_HEADER_BYTES : 0;
  while (off < buf.length) {
    const len = format.recordAt(buf, off);
    if (len === 0) {
      let next = format.resync(buf, off + 1);
      if (next < 0) {
        if (format.tornAt(buf, off)) break;
        next = buf.length;
      }
      const lost = format.recordStarts(buf, off, next).map((p) => lostAt(buf, p, next, format));
      for (const l of lost) {
        if (l.key === undefined) continue;
        const q = qualified(l.cid, l.key);
        open.set(q, [...(open.get(q) ?? []), l]);
      }
      damage.push({ start: off, end: next, lost });
      if (next === buf.length) return { format, records, validEnd: off, tornBytes: 0, damage };
      off = next;
      continue;
    }
    const rec = decode(buf.subarray(off + format.head, off + len));
    if (open.size !== 0 && (rec.kind === 'set' || rec.kind === 'delete')) {
      const id = qualified(rec.cid, rec.kind === 'set' ? rec.doc.id : rec.tomb.id);
      const earlier = open.get(id);
      if (earlier !== undefined) {
        for (const l of earlier) l.superseded = true;
        open.delete(id);
      }
    }
    apply(rec);
    records++;
    off += len;
  }
  return { format, records, validEnd: off, tornBytes: buf.length - off, damage };
}
