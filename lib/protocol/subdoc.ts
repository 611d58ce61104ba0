// Sub-document wire layouts (kv_engine SubDocument.md): single-path extras, multi-lookup and
// multi-mutation spec lists and their result lists. Path semantics live with the server.
import { ProtocolError } from './packet';
import { Status } from './status';

/** Per-path flags (1 byte). */
export const SubdocPathFlag = {
  MKDIR_P: 0x01,
  XATTR: 0x04,
  EXPAND_MACROS: 0x10,
} as const;

/** Whole-document flags (1 byte, optional last byte of the extras). */
export const SubdocDocFlag = {
  MKDOC: 0x01,
  ADD: 0x02,
  ACCESS_DELETED: 0x04,
  CREATE_AS_DELETED: 0x08,
  REVIVE_DOCUMENT: 0x10,
  /** A lookup served by a replica vBucket (Couchbase Server 7.5+; bucket capability `subdoc.ReplicaRead`). */
  REPLICA_READ: 0x20,
} as const;

/** Most specs one multi-path request may carry. */
export const SUBDOC_MAX_SPECS = 16;

function bad(message: string): never {
  throw new ProtocolError('bad_lengths', message);
}

const EMPTY = Buffer.alloc(0);

function bytesOf(v: Buffer | string | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

// --- single-path extras: path length(2) path flags(1) [expiry(4)] [doc flags(1)]

export interface SubdocSingleExtras {
  pathLength: number;
  pathFlags: number;
  expiry?: number;
  docFlags?: number;
}

export function encodeSubdocSingleExtras(e: SubdocSingleExtras): Buffer {
  const len = 3 + (e.expiry !== undefined ? 4 : 0) + (e.docFlags !== undefined ? 1 : 0);
  const b = Buffer.allocUnsafe(len);
  b.writeUInt16BE(e.pathLength, 0);
  b[2] = e.pathFlags;
  let p = 3;
  if (e.expiry !== undefined) {
    b.writeUInt32BE(e.expiry >>> 0, p);
    p += 4;
  }
  if (e.docFlags !== undefined) b[p] = e.docFlags;
  return b;
}

export function decodeSubdocSingleExtras(buf: Buffer): SubdocSingleExtras {
  if (buf.length !== 3 && buf.length !== 4 && buf.length !== 7 && buf.length !== 8) {
    throw new ProtocolError('bad_extras', `subdoc extras of ${buf.length} bytes (expected 3, 4, 7 or 8)`);
  }
  const e: SubdocSingleExtras = { pathLength: buf.readUInt16BE(0), pathFlags: buf[2] };
  if (buf.length >= 7) e.expiry = buf.readUInt32BE(3);
  if (buf.length === 4 || buf.length === 8) e.docFlags = buf[buf.length - 1];
  return e;
}

// --- multi-mutation extras: [expiry(4) [user flags(4)]] [doc flags(1)]

export interface SubdocMutationExtras {
  expiry?: number;
  /** Item flags; only encodable together with an expiry. */
  flags?: number;
  docFlags?: number;
}

export function encodeSubdocMutationExtras(e: SubdocMutationExtras): Buffer {
  if (e.flags !== undefined && e.expiry === undefined) {
    throw new ProtocolError('bad_extras', 'subdoc mutation extras carry flags only together with an expiry');
  }
  const len = (e.expiry !== undefined ? 4 : 0) + (e.flags !== undefined ? 4 : 0) + (e.docFlags !== undefined ? 1 : 0);
  const b = Buffer.allocUnsafe(len);
  let p = 0;
  if (e.expiry !== undefined) {
    b.writeUInt32BE(e.expiry >>> 0, p);
    p += 4;
  }
  if (e.flags !== undefined) {
    b.writeUInt32BE(e.flags >>> 0, p);
    p += 4;
  }
  if (e.docFlags !== undefined) b[p] = e.docFlags;
  return b;
}

export function decodeSubdocMutationExtras(buf: Buffer): SubdocMutationExtras {
  const e: SubdocMutationExtras = {};
  switch (buf.length) {
    case 0:
      return e;
    case 1:
      e.docFlags = buf[0];
      return e;
    case 4:
    case 5:
      e.expiry = buf.readUInt32BE(0);
      if (buf.length === 5) e.docFlags = buf[4];
      return e;
    case 8:
    case 9:
      e.expiry = buf.readUInt32BE(0);
      e.flags = buf.readUInt32BE(4);
      if (buf.length === 9) e.docFlags = buf[8];
      return e;
    default:
      throw new ProtocolError('bad_extras', `subdoc mutation extras of ${buf.length} bytes (expected 0, 1, 4, 5, 8 or 9)`);
  }
}

/** Multi-lookup extras: nothing, or the doc flags byte. */
export function decodeSubdocLookupExtras(buf: Buffer): { docFlags?: number } {
  if (buf.length === 0) return {};
  if (buf.length === 1) return { docFlags: buf[0] };
  throw new ProtocolError('bad_extras', `subdoc lookup extras of ${buf.length} bytes (expected 0 or 1)`);
}

// --- multi-lookup: specs opcode(1) flags(1) pathlen(2) path; results status(2) len(4) value

export interface LookupSpec {
  opcode: number;
  flags: number;
  path: Buffer;
}

export interface LookupSpecInit {
  opcode: number;
  flags?: number;
  path: Buffer | string;
}

export function encodeLookupSpecs(specs: readonly LookupSpecInit[]): Buffer {
  const paths = specs.map((s) => bytesOf(s.path));
  let size = 0;
  for (const p of paths) size += 4 + p.length;
  const b = Buffer.allocUnsafe(size);
  let at = 0;
  specs.forEach((s, i) => {
    b[at] = s.opcode;
    b[at + 1] = s.flags ?? 0;
    b.writeUInt16BE(paths[i].length, at + 2);
    at += 4 + paths[i].copy(b, at + 4);
  });
  return b;
}

/** No spec at this offset: the value is cut short (readLookupSpec / readMutationSpec). */
export const SPEC_TRUNCATED = -1;

/**
 * Reads the lookup spec at `buf[off]` into `out` (its path a view into `buf`); returns the offset
 * of the next spec, or SPEC_TRUNCATED when the value ends inside this one.
 */
export function readLookupSpec(buf: Buffer, off: number, out: LookupSpec): number {
  if (off + 4 > buf.length) return SPEC_TRUNCATED;
  const end = off + 4 + buf.readUInt16BE(off + 2);
  if (end > buf.length) return SPEC_TRUNCATED;
  out.opcode = buf[off];
  out.flags = buf[off + 1];
  out.path = buf.subarray(off + 4, end);
  return end;
}

/** Decodes lookup specs; paths are views into `buf`. */
export function decodeLookupSpecs(buf: Buffer): LookupSpec[] {
  const out: LookupSpec[] = [];
  let p = 0;
  while (p < buf.length) {
    const spec: LookupSpec = { opcode: 0, flags: 0, path: EMPTY };
    const next = readLookupSpec(buf, p, spec);
    if (next === SPEC_TRUNCATED) bad(p + 4 > buf.length ? 'lookup spec header truncated' : 'lookup spec path truncated');
    out.push(spec);
    p = next;
  }
  return out;
}

export interface LookupResult {
  status: number;
  value: Buffer;
}

export function encodeLookupResults(results: readonly { status: number; value?: Buffer | string }[]): Buffer {
  const values = results.map((r) => bytesOf(r.value));
  let size = 0;
  for (const v of values) size += 6 + v.length;
  const b = Buffer.allocUnsafe(size);
  let at = 0;
  results.forEach((r, i) => {
    b.writeUInt16BE(r.status, at);
    b.writeUInt32BE(values[i].length, at + 2);
    at += 6 + values[i].copy(b, at + 6);
  });
  return b;
}

/**
 * The same body as encodeLookupResults, as the pieces to write one after another: each result's
 * 6-byte header, then its value by reference (a server answering sixteen whole-document GETs of
 * a 20 MiB document need not copy it sixteen times).
 */
export function lookupResultParts(results: readonly { status: number; value: Buffer }[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const r of results) {
    const head = Buffer.allocUnsafe(6);
    head.writeUInt16BE(r.status, 0);
    head.writeUInt32BE(r.value.length, 2);
    parts.push(head, r.value);
  }
  return parts;
}

export function decodeLookupResults(buf: Buffer): LookupResult[] {
  const out: LookupResult[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 6 > buf.length) bad('lookup result header truncated');
    const len = buf.readUInt32BE(p + 2);
    if (p + 6 + len > buf.length) bad('lookup result value truncated');
    out.push({ status: buf.readUInt16BE(p), value: buf.subarray(p + 6, p + 6 + len) });
    p += 6 + len;
  }
  return out;
}

// --- multi-mutation: specs opcode(1) flags(1) pathlen(2) valuelen(4) path value

export interface MutationSpec {
  opcode: number;
  flags: number;
  path: Buffer;
  value: Buffer;
}

export interface MutationSpecInit {
  opcode: number;
  flags?: number;
  path: Buffer | string;
  value?: Buffer | string;
}

export function encodeMutationSpecs(specs: readonly MutationSpecInit[]): Buffer {
  const paths = specs.map((s) => bytesOf(s.path));
  const values = specs.map((s) => bytesOf(s.value));
  let size = 0;
  for (let i = 0; i < specs.length; i++) size += 8 + paths[i].length + values[i].length;
  const b = Buffer.allocUnsafe(size);
  let at = 0;
  specs.forEach((s, i) => {
    b[at] = s.opcode;
    b[at + 1] = s.flags ?? 0;
    b.writeUInt16BE(paths[i].length, at + 2);
    b.writeUInt32BE(values[i].length, at + 4);
    at += 8;
    at += paths[i].copy(b, at);
    at += values[i].copy(b, at);
  });
  return b;
}

/**
 * Reads the mutation spec at `buf[off]` into `out` (path and value views into `buf`); returns
 * the offset of the next spec, or SPEC_TRUNCATED when the value ends inside this one.
 */
export function readMutationSpec(buf: Buffer, off: number, out: MutationSpec): number {
  if (off + 8 > buf.length) return SPEC_TRUNCATED;
  const start = off + 8;
  const pathEnd = start + buf.readUInt16BE(off + 2);
  const end = pathEnd + buf.readUInt32BE(off + 4);
  if (end > buf.length) return SPEC_TRUNCATED;
  out.opcode = buf[off];
  out.flags = buf[off + 1];
  out.path = buf.subarray(start, pathEnd);
  out.value = buf.subarray(pathEnd, end);
  return end;
}

/** Decodes mutation specs; paths and values are views into `buf`. */
export function decodeMutationSpecs(buf: Buffer): MutationSpec[] {
  const out: MutationSpec[] = [];
  let p = 0;
  while (p < buf.length) {
    const spec: MutationSpec = { opcode: 0, flags: 0, path: EMPTY, value: EMPTY };
    const next = readMutationSpec(buf, p, spec);
    if (next === SPEC_TRUNCATED) bad(p + 8 > buf.length ? 'mutation spec header truncated' : 'mutation spec path/value truncated');
    out.push(spec);
    p = next;
  }
  return out;
}

export interface MutationResult {
  /** Index of the spec this result belongs to. */
  index: number;
  status: number;
  /** Present on success entries (specs that return a value, e.g. COUNTER). */
  value?: Buffer;
}

/** Success body: index(1) status(2) valuelen(4) value, for specs that return a value. */
export function encodeMutationResults(results: readonly { index: number; status?: number; value: Buffer | string }[]): Buffer {
  const values = results.map((r) => bytesOf(r.value));
  let size = 0;
  for (const v of values) size += 7 + v.length;
  const b = Buffer.allocUnsafe(size);
  let at = 0;
  results.forEach((r, i) => {
    b[at] = r.index;
    b.writeUInt16BE(r.status ?? Status.SUCCESS, at + 1);
    b.writeUInt32BE(values[i].length, at + 3);
    at += 7 + values[i].copy(b, at + 7);
  });
  return b;
}

/** SUBDOC_MULTI_PATH_FAILURE body: index(1) status(2) of the first failing spec. */
export function encodeMutationFailure(index: number, status: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b[0] = index;
  b.writeUInt16BE(status, 1);
  return b;
}

/**
 * Decodes a multi-mutation response body given the response's top-level status: for
 * SUBDOC_MULTI_PATH_FAILURE(_DELETED) one `index status` entry, otherwise value entries.
 */
export function decodeMutationResults(buf: Buffer, topStatus: number): MutationResult[] {
  if (topStatus === Status.SUBDOC_MULTI_PATH_FAILURE || topStatus === Status.SUBDOC_MULTI_PATH_FAILURE_DELETED) {
    if (buf.length !== 3) bad(`multi-path failure body of ${buf.length} bytes (expected 3)`);
    return [{ index: buf[0], status: buf.readUInt16BE(1) }];
  }
  const out: MutationResult[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 7 > buf.length) bad('mutation result header truncated');
    const len = buf.readUInt32BE(p + 3);
    if (p + 7 + len > buf.length) bad('mutation result value truncated');
    out.push({ index: buf[p], status: buf.readUInt16BE(p + 1), value: buf.subarray(p + 7, p + 7 + len) });
    p += 7 + len;
  }
  return out;
}
