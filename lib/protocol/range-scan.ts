// Range scans (Couchbase Server 7.5+; kv_engine docs/range_scans/*.md): RANGE_SCAN_CREATE (0xda)
// takes a JSON configuration and answers a 16-byte scan id; RANGE_SCAN_CONTINUE (0xdb) takes the
// id and three limits and answers with one or more responses whose values pack keys, or documents
// with their metadata; RANGE_SCAN_CANCEL (0xdc) takes the id. The statuses RANGE_SCAN_MORE /
// RANGE_SCAN_COMPLETE end a continue's sequence of responses.
import { ProtocolError, readUInt64BE, writeUInt64BE } from './packet';
import { decodeLeb128, leb128Length, writeLeb128 } from './leb128';

/** A scan id: 16 bytes, no structure (a UUID in network order). */
export const RANGE_SCAN_ID_BYTES = 16;
/** RANGE_SCAN_CONTINUE request extras: id(16) item limit(4) time limit ms(4) byte limit(4). */
export const RANGE_SCAN_CONTINUE_EXTRAS_BYTES = 28;
/** Each continue response's extras: one 4-byte field saying what its value holds. */
export const RANGE_SCAN_RESPONSE_EXTRAS_BYTES = 4;

/** What a continue response's value holds (its 4-byte extras). */
export const RangeScanContent = {
  /** A `key_only` scan: leb128 length + key, repeated. */
  KEYS: 0,
  /** Documents: fixed metadata, leb128 length + key, leb128 length + value, repeated. */
  DOCUMENTS: 1,
} as const;

/** A document's fixed metadata in a value scan: flags(4) expiry(4) seqno(8) cas(8) datatype(1). */
export const SCAN_DOCUMENT_META_BYTES = 25;

/** One continue's limits; 0 means none. */
export interface RangeScanLimits {
  /** Keys or documents. */
  itemLimit: number;
  /** Milliseconds the continue may run. */
  timeLimitMs: number;
  /** Bytes of keys and values (at least one whole item always goes). */
  byteLimit: number;
}

export interface RangeScanContinueRequest extends RangeScanLimits {
  id: Buffer;
}

export function encodeRangeScanContinueExtras(id: Buffer, limits: RangeScanLimits): Buffer {
  if (id.length !== RANGE_SCAN_ID_BYTES) throw new ProtocolError('bad_extras', `a range scan id is ${RANGE_SCAN_ID_BYTES} bytes, got ${id.length}`);
  const out = Buffer.allocUnsafe(RANGE_SCAN_CONTINUE_EXTRAS_BYTES);
  id.copy(out, 0);
  out.writeUInt32BE(limits.itemLimit >>> 0, 16);
  out.writeUInt32BE(limits.timeLimitMs >>> 0, 20);
  out.writeUInt32BE(limits.byteLimit >>> 0, 24);
  return out;
}

/** The continue request's extras; the id is a view. Throws ProtocolError('bad_extras') on a wrong length. */
export function decodeRangeScanContinueExtras(extras: Buffer): RangeScanContinueRequest {
  if (extras.length !== RANGE_SCAN_CONTINUE_EXTRAS_BYTES) {
    throw new ProtocolError('bad_extras', `RANGE_SCAN_CONTINUE extras of ${extras.length} bytes (expected ${RANGE_SCAN_CONTINUE_EXTRAS_BYTES})`);
  }
  return {
    id: extras.subarray(0, RANGE_SCAN_ID_BYTES),
    itemLimit: extras.readUInt32BE(16),
    timeLimitMs: extras.readUInt32BE(20),
    byteLimit: extras.readUInt32BE(24),
  };
}

/** In place: a key-only record at buf[off]; returns the offset after it. */
export function writeScanKey(buf: Buffer, off: number, key: Buffer): number {
  off = writeLeb128(buf, off, key.length);
  return off + key.copy(buf, off);
}

/** Bytes `writeScanKey` writes for a key of `keyLength` bytes. */
export function scanKeyBytes(keyLength: number): number {
  return leb128Length(keyLength) + keyLength;
}

/** A document as a value scan returns it. */
export interface ScanDocument {
  key: Buffer;
  value: Buffer;
  flags: number;
  /** Absolute Unix seconds, 0 for none. */
  expiry: number;
  seqno: bigint;
  cas: bigint;
  /** The value's datatype (JSON, Snappy: a compressed value is sent so). */
  datatype: number;
}

/** In place: a document record at buf[off]; returns the offset after it. */
export function writeScanDocument(buf: Buffer, off: number, doc: ScanDocument): number {
  buf.writeUInt32BE(doc.flags >>> 0, off);
  buf.writeUInt32BE(doc.expiry >>> 0, off + 4);
  writeUInt64BE(buf, off + 8, doc.seqno);
  writeUInt64BE(buf, off + 16, doc.cas);
  buf[off + 24] = doc.datatype;
  off = writeScanKey(buf, off + SCAN_DOCUMENT_META_BYTES, doc.key);
  off = writeLeb128(buf, off, doc.value.length);
  return off + doc.value.copy(buf, off);
}

/** Bytes `writeScanDocument` writes. */
export function scanDocumentBytes(keyLength: number, valueLength: number): number {
  return SCAN_DOCUMENT_META_BYTES + scanKeyBytes(keyLength) + leb128Length(valueLength) + valueLength;
}

function field(value: Buffer, off: number, what: string): { view: Buffer; end: number } {
  const len = decodeLeb128(value, off);
  const start = off + len.length;
  const end = start + len.value;
  if (end > value.length) throw new ProtocolError('bad_lengths', `range scan ${what} of ${len.value} bytes runs past the value`);
  return { view: value.subarray(start, end), end };
}

/** The keys of a key-only continue response (views into `value`). */
export function decodeScanKeys(value: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < value.length; ) {
    const f = field(value, off, 'key');
    out.push(f.view);
    off = f.end;
  }
  return out;
}

/** The documents of a value-scan continue response (keys and values are views into `value`). */
export function decodeScanDocuments(value: Buffer): ScanDocument[] {
  const out: ScanDocument[] = [];
  for (let off = 0; off < value.length; ) {
    if (off + SCAN_DOCUMENT_META_BYTES > value.length) throw new ProtocolError('bad_lengths', 'range scan document metadata runs past the value');
    const key = field(value, off + SCAN_DOCUMENT_META_BYTES, 'key');
    const val = field(value, key.end, 'value');
    out.push({
      flags: value.readUInt32BE(off),
      expiry: value.readUInt32BE(off + 4),
      seqno: readUInt64BE(value, off + 8),
      cas: readUInt64BE(value, off + 16),
      datatype: value[off + 24],
      key: key.view,
      value: val.view,
    });
    off = val.end;
  }
  return out;
}

/** RANGE_SCAN_CREATE's configuration, as a client states it (encoded as the JSON kv_engine reads). */
export interface RangeScanCreateConfig {
  /** Collection id; the default collection when absent. */
  collection?: number;
  /** Keys only (true) or whole documents. */
  keyOnly?: boolean;
  /** The key range; a scan with neither range nor sampling covers the whole collection. */
  range?: { start: Buffer | string; end: Buffer | string; excludeStart?: boolean; excludeEnd?: boolean };
  /** A random sample of about `samples` documents, reproducible for a seed. */
  sampling?: { samples: number; seed?: number };
  /** What the vBucket must have before the scan may start. */
  snapshot?: { vbUuid: bigint; seqno: bigint | number; seqnoExists?: boolean; timeoutMs?: number };
  /** Shown in the server's logs and stats; at most 50 bytes. */
  name?: string;
}

/** The JSON value of a RANGE_SCAN_CREATE request (send it with datatype JSON). */
export function encodeRangeScanCreate(config: RangeScanCreateConfig): Buffer {
  const json: Record<string, unknown> = {};
  if (config.collection !== undefined) json.collection = config.collection.toString(16);
  if (config.keyOnly !== undefined) json.key_only = config.keyOnly;
  if (config.range !== undefined) {
    const r = config.range;
    const b64 = (k: Buffer | string): string => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k).toString('base64');
    json.range = { [r.excludeStart ? 'excl_start' : 'start']: b64(r.start), [r.excludeEnd ? 'excl_end' : 'end']: b64(r.end) };
  }
  if (config.sampling !== undefined) json.sampling = { samples: config.sampling.samples, ...(config.sampling.seed !== undefined ? { seed: config.sampling.seed } : {}) };
  if (config.name !== undefined) json.name = config.name;
  let text = JSON.stringify(json);
  if (config.snapshot !== undefined) {
    // A seqno is a 64-bit number: written as digits, never through a double.
    const s = config.snapshot;
    let reqs = `{"vb_uuid":"${s.vbUuid.toString()}","seqno":${BigInt(s.seqno).toString()}`;
    if (s.seqnoExists !== undefined) reqs += `,"seqno_exists":${s.seqnoExists}`;
    if (s.timeoutMs !== undefined) reqs += `,"timeout_ms":${s.timeoutMs >>> 0}`;
    text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"snapshot_requirements":${reqs}}}`;
  }
  return Buffer.from(text, 'utf8');
}
