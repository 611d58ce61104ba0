// Extras layouts per opcode, and the fixed-layout bodies of OBSERVE / OBSERVE_SEQNO.
// `entries` below is the one table saying which layout each opcode's request and response use;
// the functions below are the layouts themselves. The engine and the embedded server both use
// them: the in-place writers (write*, into a frame being built) and readers (read*, which
// neither allocate nor check lengths the caller has checked) on their hot paths, the encode* /
// decode* functions (which allocate, and throw ProtocolError on a bad length) elsewhere.
import { Opcode } from './opcodes';
import { ProtocolError, writeUInt64BE, readUInt64BE } from './packet';

export interface ExtrasLayout {
  readonly name: string;
  /** Extras lengths a well-formed packet may carry with this layout. */
  readonly lengths: readonly number[];
}

function layout(name: string, ...lengths: number[]): ExtrasLayout {
  return Object.freeze({ name, lengths: Object.freeze(lengths) });
}

export const Layout = {
  NONE: layout('none', 0),
  /** SET/ADD/REPLACE request: flags(4) expiry(4). */
  MUTATION: layout('mutation', 8),
  /** INCREMENT/DECREMENT request: delta(8) initial(8) expiry(4). */
  COUNTER: layout('counter', 20),
  /** TOUCH/GAT request: expiry(4). */
  EXPIRY: layout('expiry', 4),
  /** GET-family response: flags(4). */
  FLAGS: layout('flags', 4),
  /** GET_LOCKED request: optional lock time in seconds(4). */
  LOCK_TIME: layout('lock-time', 0, 4),
  /** Mutation response: nothing, or vbucket uuid(8) seqno(8) when MUTATION_SEQNO was negotiated. */
  MUTATION_TOKEN: layout('mutation-token', 0, 16),
  /** GET_META request: optional version(1). */
  GET_META_REQUEST: layout('get-meta-request', 0, 1),
  /** GET_META response: deleted(4) flags(4) expiry(4) seqno(8) [datatype(1) in version 2]. */
  GET_META_RESPONSE: layout('get-meta-response', 20, 21),
  /** GET_COLLECTION_ID / GET_SCOPE_ID response: manifest uid(8) id(4). */
  COLLECTION_ID: layout('collection-id', 12),
  /** FLUSH request: optional delay(4). */
  FLUSH: layout('flush', 0, 4),
  /** GET_CLUSTER_CONFIG request: optional known epoch(8) rev(8). */
  CLUSTER_CONFIG_REQUEST: layout('cluster-config-request', 0, 16),
  /** Single-path subdoc request: path length(2) path flags(1) [expiry(4)] [doc flags(1)]. */
  SUBDOC_SINGLE: layout('subdoc-single', 3, 4, 7, 8),
  /** SUBDOC_MULTI_LOOKUP request: [doc flags(1)]. */
  SUBDOC_LOOKUP: layout('subdoc-lookup', 0, 1),
  /** SUBDOC_MULTI_MUTATION request: [expiry(4) [flags(4)]] [doc flags(1)]. */
  SUBDOC_MUTATION: layout('subdoc-mutation', 0, 1, 4, 5, 8, 9),
  /** RANGE_SCAN_CONTINUE request: scan id(16) item limit(4) time limit ms(4) byte limit(4). */
  RANGE_SCAN_CONTINUE: layout('range-scan-continue', 28),
  /** RANGE_SCAN_CANCEL request: scan id(16). */
  RANGE_SCAN_ID: layout('range-scan-id', 16),
  /** RANGE_SCAN_CONTINUE response: what the value holds(4), 0 keys, 1 documents. */
  RANGE_SCAN_CONTENT: layout('range-scan-content', 4),
} as const;

export interface OpcodeExtras {
  readonly request: ExtrasLayout;
  readonly response: ExtrasLayout;
}

const L = Layout;
const entries: Array<[number[], ExtrasLayout, ExtrasLayout]> = [
  [[Opcode.GET, Opcode.GETQ, Opcode.GETK, Opcode.GETKQ, Opcode.GET_REPLICA], L.NONE, L.FLAGS],
  [[Opcode.GAT, Opcode.GATQ], L.EXPIRY, L.FLAGS],
  [[Opcode.GET_LOCKED], L.LOCK_TIME, L.FLAGS],
  [[Opcode.TOUCH], L.EXPIRY, L.NONE],
  [[Opcode.SET, Opcode.SETQ, Opcode.ADD, Opcode.ADDQ, Opcode.REPLACE, Opcode.REPLACEQ], L.MUTATION, L.MUTATION_TOKEN],
  [[Opcode.DELETE, Opcode.DELETEQ, Opcode.APPEND, Opcode.APPENDQ, Opcode.PREPEND, Opcode.PREPENDQ], L.NONE, L.MUTATION_TOKEN],
  [[Opcode.INCREMENT, Opcode.INCREMENTQ, Opcode.DECREMENT, Opcode.DECREMENTQ], L.COUNTER, L.MUTATION_TOKEN],
  [[Opcode.FLUSH, Opcode.FLUSHQ], L.FLUSH, L.NONE],
  [[Opcode.GET_META], L.GET_META_REQUEST, L.GET_META_RESPONSE],
  [[Opcode.GET_COLLECTION_ID, Opcode.GET_SCOPE_ID], L.NONE, L.COLLECTION_ID],
  [[Opcode.GET_CLUSTER_CONFIG], L.CLUSTER_CONFIG_REQUEST, L.NONE],
  [[Opcode.UNLOCK_KEY], L.NONE, L.NONE],
  [
    [
      Opcode.SUBDOC_GET, Opcode.SUBDOC_EXISTS, Opcode.SUBDOC_GET_COUNT,
    ],
    L.SUBDOC_SINGLE,
    L.NONE,
  ],
  [
    [
      Opcode.SUBDOC_DICT_ADD, Opcode.SUBDOC_DICT_UPSERT, Opcode.SUBDOC_DELETE, Opcode.SUBDOC_REPLACE,
      Opcode.SUBDOC_ARRAY_PUSH_LAST, Opcode.SUBDOC_ARRAY_PUSH_FIRST, Opcode.SUBDOC_ARRAY_INSERT,
      Opcode.SUBDOC_ARRAY_ADD_UNIQUE, Opcode.SUBDOC_COUNTER,
    ],
    L.SUBDOC_SINGLE,
    L.MUTATION_TOKEN,
  ],
  [[Opcode.SUBDOC_MULTI_LOOKUP], L.SUBDOC_LOOKUP, L.NONE],
  [[Opcode.SUBDOC_MULTI_MUTATION], L.SUBDOC_MUTATION, L.MUTATION_TOKEN],
  [[Opcode.RANGE_SCAN_CONTINUE], L.RANGE_SCAN_CONTINUE, L.RANGE_SCAN_CONTENT],
  [[Opcode.RANGE_SCAN_CANCEL], L.RANGE_SCAN_ID, L.NONE],
];

const NO_EXTRAS: OpcodeExtras = Object.freeze({ request: L.NONE, response: L.NONE });
const BY_OPCODE: OpcodeExtras[] = new Array(256).fill(NO_EXTRAS);
for (const [ops, request, response] of entries) {
  const e = Object.freeze({ request, response });
  for (const op of ops) BY_OPCODE[op] = e;
}

/** Which extras layout `opcode` uses in its request and its response (NONE for the rest). */
export function extrasLayoutOf(opcode: number): OpcodeExtras {
  return BY_OPCODE[opcode & 0xff];
}

/** True when `length` is an extras length a request with `opcode` may carry. */
export function isValidRequestExtrasLength(opcode: number, length: number): boolean {
  return BY_OPCODE[opcode & 0xff].request.lengths.includes(length);
}

/** True when `length` is an extras length a response to `opcode` may carry. */
export function isValidResponseExtrasLength(opcode: number, length: number): boolean {
  return BY_OPCODE[opcode & 0xff].response.lengths.includes(length);
}

function requireLength(buf: Buffer, lengths: readonly number[], what: string): void {
  if (!lengths.includes(buf.length)) {
    throw new ProtocolError('bad_extras', `${what} extras of ${buf.length} bytes (expected ${lengths.join(' or ')})`);
  }
}

// --- mutation: flags(4) expiry(4)

export interface MutationExtras {
  flags: number;
  expiry: number;
}

/** In place: mutation extras at `buf[off]` (8 bytes). */
export function writeMutationExtras(buf: Buffer, off: number, flags: number, expiry: number): void {
  buf.writeUInt32BE(flags >>> 0, off);
  buf.writeUInt32BE(expiry >>> 0, off + 4);
}

/** In place: the item flags of 8-byte mutation extras. */
export function readMutationFlags(buf: Buffer): number {
  return buf.readUInt32BE(0);
}

/** In place: the expiry of 8-byte mutation extras. */
export function readMutationExpiry(buf: Buffer): number {
  return buf.readUInt32BE(4);
}

export function encodeMutationExtras(flags: number, expiry: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeMutationExtras(b, 0, flags, expiry);
  return b;
}

export function decodeMutationExtras(buf: Buffer): MutationExtras {
  requireLength(buf, L.MUTATION.lengths, 'mutation');
  return { flags: readMutationFlags(buf), expiry: readMutationExpiry(buf) };
}

// --- counter: delta(8) initial(8) expiry(4)

export interface CounterExtras {
  delta: bigint;
  initial: bigint;
  expiry: number;
}

/**
 * Expiry value that tells the server not to create a missing counter (KEY_ENOENT instead);
 * what cxx sends when the user gave no initial value.
 */
export const COUNTER_NO_CREATE = 0xffffffff;

/** In place: counter extras at `buf[off]` (20 bytes). */
export function writeCounterExtras(buf: Buffer, off: number, delta: bigint, initial: bigint, expiry: number): void {
  buf.writeBigUInt64BE(BigInt.asUintN(64, delta), off);
  buf.writeBigUInt64BE(BigInt.asUintN(64, initial), off + 8);
  buf.writeUInt32BE(expiry >>> 0, off + 16);
}

export function encodeCounterExtras(delta: bigint, initial: bigint, expiry: number): Buffer {
  const b = Buffer.allocUnsafe(20);
  writeCounterExtras(b, 0, delta, initial, expiry);
  return b;
}

export function decodeCounterExtras(buf: Buffer): CounterExtras {
  requireLength(buf, L.COUNTER.lengths, 'counter');
  return { delta: readUInt64BE(buf, 0), initial: readUInt64BE(buf, 8), expiry: buf.readUInt32BE(16) };
}

// --- single 32-bit fields: expiry (TOUCH/GAT), flags (GET responses), lock time (GET_LOCKED)

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  writeU32Extras(b, 0, n);
  return b;
}

function writeU32Extras(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32BE(n >>> 0, off);
}

/** In place: expiry extras (TOUCH, GAT, and GET_LOCKED's lock time) at `buf[off]` (4 bytes). */
export const writeExpiryExtras: (buf: Buffer, off: number, expiry: number) => void = writeU32Extras;

/** In place: the flags extras of a GET-family response at `buf[off]` (4 bytes). */
export const writeFlagsExtras: (buf: Buffer, off: number, flags: number) => void = writeU32Extras;

/** In place: the item flags of a GET-family response's 4-byte extras. */
export function readFlagsExtras(buf: Buffer): number {
  return buf.readUInt32BE(0);
}

export function encodeExpiryExtras(expiry: number): Buffer {
  return u32(expiry);
}

export function decodeExpiryExtras(buf: Buffer): number {
  requireLength(buf, L.EXPIRY.lengths, 'expiry');
  return buf.readUInt32BE(0);
}

export function encodeFlagsExtras(flags: number): Buffer {
  return u32(flags);
}

export function decodeFlagsExtras(buf: Buffer): number {
  requireLength(buf, L.FLAGS.lengths, 'flags');
  return readFlagsExtras(buf);
}

/** GET_LOCKED request extras; 0 asks for the server's default lock time. */
export function encodeLockExtras(seconds: number): Buffer {
  return u32(seconds);
}

/** GET_LOCKED lock time in seconds; 0 when absent (server default). */
export function decodeLockExtras(buf: Buffer): number {
  requireLength(buf, L.LOCK_TIME.lengths, 'lock time');
  return buf.length === 0 ? 0 : buf.readUInt32BE(0);
}

/** FLUSH delay in seconds; 0 when absent. */
export function decodeFlushExtras(buf: Buffer): number {
  requireLength(buf, L.FLUSH.lengths, 'flush');
  return buf.length === 0 ? 0 : buf.readUInt32BE(0);
}

// --- mutation token: vbucket uuid(8) seqno(8)

export interface MutationToken {
  vbuuid: bigint;
  seqno: bigint;
}

/** In place: a mutation token at `buf[off]` (16 bytes). */
export function writeMutationToken(buf: Buffer, off: number, vbuuid: bigint, seqno: bigint): void {
  writeUInt64BE(buf, off, vbuuid);
  writeUInt64BE(buf, off + 8, seqno);
}

export function encodeMutationToken(vbuuid: bigint, seqno: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  writeMutationToken(b, 0, vbuuid, seqno);
  return b;
}

/** The token of a mutation response, or undefined when it carries no extras. */
export function decodeMutationToken(buf: Buffer): MutationToken | undefined {
  requireLength(buf, L.MUTATION_TOKEN.lengths, 'mutation token');
  if (buf.length === 0) return undefined;
  return { vbuuid: readUInt64BE(buf, 0), seqno: readUInt64BE(buf, 8) };
}

// --- GET_META

export interface GetMeta {
  deleted: boolean;
  flags: number;
  /** Absolute expiry, Unix seconds; 0 = never. */
  expiry: number;
  seqno: bigint;
  /** Present in version 2 responses (21 bytes). */
  datatype?: number;
}

/** GET_META request extras: the response version wanted (cxx asks for 2). */
export function encodeGetMetaRequestExtras(version = 2): Buffer {
  return Buffer.from([version]);
}

/** The response version a GET_META request asks for (1 when extras are absent). */
export function decodeGetMetaRequestExtras(buf: Buffer): number {
  requireLength(buf, L.GET_META_REQUEST.lengths, 'GET_META request');
  return buf.length === 0 ? 1 : buf[0];
}

/** GET_META response extras: 21 bytes (version 2) when `datatype` is given, else 20. */
export function encodeGetMetaExtras(meta: GetMeta): Buffer {
  const v2 = meta.datatype !== undefined;
  const b = Buffer.allocUnsafe(v2 ? 21 : 20);
  b.writeUInt32BE(meta.deleted ? 1 : 0, 0);
  b.writeUInt32BE(meta.flags >>> 0, 4);
  b.writeUInt32BE(meta.expiry >>> 0, 8);
  writeUInt64BE(b, 12, meta.seqno);
  if (v2) b[20] = meta.datatype!;
  return b;
}

export function decodeGetMetaExtras(buf: Buffer): GetMeta {
  requireLength(buf, L.GET_META_RESPONSE.lengths, 'GET_META response');
  const meta: GetMeta = {
    deleted: buf.readUInt32BE(0) !== 0,
    flags: buf.readUInt32BE(4),
    expiry: buf.readUInt32BE(8),
    seqno: readUInt64BE(buf, 12),
  };
  if (buf.length === 21) meta.datatype = buf[20];
  return meta;
}

// --- GET_COLLECTION_ID / GET_SCOPE_ID response: manifest uid(8) id(4)

export interface CollectionIdExtras {
  manifestUid: bigint;
  id: number;
}

export function encodeCollectionIdExtras(manifestUid: bigint, id: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  writeUInt64BE(b, 0, manifestUid);
  b.writeUInt32BE(id >>> 0, 8);
  return b;
}

export function decodeCollectionIdExtras(buf: Buffer): CollectionIdExtras {
  requireLength(buf, L.COLLECTION_ID.lengths, 'collection id');
  return { manifestUid: readUInt64BE(buf, 0), id: buf.readUInt32BE(8) };
}

// --- GET_CLUSTER_CONFIG request: optional epoch(8) rev(8) the client already has

export function encodeClusterConfigExtras(epoch: bigint, rev: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigInt64BE(epoch, 0);
  b.writeBigInt64BE(rev, 8);
  return b;
}

export function decodeClusterConfigExtras(buf: Buffer): { epoch: bigint; rev: bigint } | undefined {
  requireLength(buf, L.CLUSTER_CONFIG_REQUEST.lengths, 'GET_CLUSTER_CONFIG');
  if (buf.length === 0) return undefined;
  return { epoch: buf.readBigInt64BE(0), rev: buf.readBigInt64BE(8) };
}

// --- GET_ERROR_MAP request value: version(2)

export function encodeErrorMapVersion(version: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(version, 0);
  return b;
}

export function decodeErrorMapVersion(value: Buffer): number {
  if (value.length !== 2) throw new ProtocolError('bad_extras', `GET_ERROR_MAP value of ${value.length} bytes (expected 2)`);
  return value.readUInt16BE(0);
}

// --- OBSERVE (legacy, 0x92): bodies, not extras

export const ObserveState = {
  FOUND_NOT_PERSISTED: 0x00,
  FOUND_PERSISTED: 0x01,
  NOT_FOUND: 0x80,
  LOGICALLY_DELETED: 0x81,
} as const;

export interface ObserveKey {
  vbucket: number;
  key: Buffer;
}

export interface ObserveResult extends ObserveKey {
  state: number;
  cas: bigint;
}

/** OBSERVE request value: repeated vbucket(2) keylen(2) key. */
export function encodeObserveRequest(keys: readonly ObserveKey[]): Buffer {
  let size = 0;
  for (const k of keys) size += 4 + k.key.length;
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  for (const k of keys) {
    b.writeUInt16BE(k.vbucket, p);
    b.writeUInt16BE(k.key.length, p + 2);
    p += 4 + k.key.copy(b, p + 4);
  }
  return b;
}

/** How a walk over a value's entries ended: every entry seen, stopped by the visitor, or cut short by the value. */
export type WalkEnd = 'complete' | 'stopped' | 'truncated';

/**
 * Visits each entry of an OBSERVE request value in order (`key` is a view into `buf`); the
 * visitor returns false to stop. Entries before a truncated one are visited.
 */
export function readObserveRequest(buf: Buffer, visit: (vbucket: number, key: Buffer) => boolean): WalkEnd {
  let p = 0;
  while (p < buf.length) {
    if (p + 4 > buf.length) return 'truncated';
    const vbucket = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    if (p + 4 + len > buf.length) return 'truncated';
    if (!visit(vbucket, buf.subarray(p + 4, p + 4 + len))) return 'stopped';
    p += 4 + len;
  }
  return 'complete';
}

export function decodeObserveRequest(buf: Buffer): ObserveKey[] {
  const out: ObserveKey[] = [];
  let end = 0;
  const walk = readObserveRequest(buf, (vbucket, key) => {
    out.push({ vbucket, key });
    end += 4 + key.length;
    return true;
  });
  if (walk === 'truncated') throw new ProtocolError('bad_lengths', end + 4 > buf.length ? 'OBSERVE entry header truncated' : 'OBSERVE key truncated');
  return out;
}

/** OBSERVE response value: repeated vbucket(2) keylen(2) key state(1) cas(8). */
export function encodeObserveResponse(results: readonly ObserveResult[]): Buffer {
  let size = 0;
  for (const r of results) size += 13 + r.key.length;
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  for (const r of results) {
    b.writeUInt16BE(r.vbucket, p);
    b.writeUInt16BE(r.key.length, p + 2);
    p += 4 + r.key.copy(b, p + 4);
    b[p] = r.state;
    b.writeBigUInt64BE(r.cas, p + 1);
    p += 9;
  }
  return b;
}

/**
 * Visits each entry of an OBSERVE response value in order (`key` is a view into `buf`); the
 * visitor returns false to stop. Entries before a truncated one are visited.
 */
export function readObserveResponse(buf: Buffer, visit: (vbucket: number, key: Buffer, state: number, cas: bigint) => boolean): WalkEnd {
  let p = 0;
  while (p < buf.length) {
    if (p + 4 > buf.length) return 'truncated';
    const vbucket = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    const at = p + 4 + len;
    if (at + 9 > buf.length) return 'truncated';
    if (!visit(vbucket, buf.subarray(p + 4, at), buf[at], readUInt64BE(buf, at + 1))) return 'stopped';
    p = at + 9;
  }
  return 'complete';
}

export function decodeObserveResponse(buf: Buffer): ObserveResult[] {
  const out: ObserveResult[] = [];
  let end = 0;
  const walk = readObserveResponse(buf, (vbucket, key, state, cas) => {
    out.push({ vbucket, key, state, cas });
    end += 13 + key.length;
    return true;
  });
  if (walk === 'truncated') throw new ProtocolError('bad_lengths', end + 4 > buf.length ? 'OBSERVE result header truncated' : 'OBSERVE result truncated');
  return out;
}

// --- OBSERVE_SEQNO (0x91): request value vbuuid(8); response value below

export interface ObserveSeqnoResult {
  /** 0 = normal, 1 = the vbucket had a hard failover since `vbuuid` (old* fields present). */
  format: number;
  vbucket: number;
  vbuuid: bigint;
  persistedSeqno: bigint;
  currentSeqno: bigint;
  oldVbuuid?: bigint;
  lastSeqno?: bigint;
}

export function encodeObserveSeqnoRequest(vbuuid: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeUInt64BE(b, 0, vbuuid);
  return b;
}

export function decodeObserveSeqnoRequest(buf: Buffer): bigint {
  if (buf.length !== 8) throw new ProtocolError('bad_lengths', `OBSERVE_SEQNO value of ${buf.length} bytes (expected 8)`);
  return readUInt64BE(buf, 0);
}

export function encodeObserveSeqnoResponse(r: ObserveSeqnoResult): Buffer {
  const failover = r.format === 1;
  const b = Buffer.allocUnsafe(failover ? 43 : 27);
  b[0] = r.format;
  b.writeUInt16BE(r.vbucket, 1);
  writeUInt64BE(b, 3, r.vbuuid);
  writeUInt64BE(b, 11, r.persistedSeqno);
  writeUInt64BE(b, 19, r.currentSeqno);
  if (failover) {
    writeUInt64BE(b, 27, r.oldVbuuid ?? 0n);
    writeUInt64BE(b, 35, r.lastSeqno ?? 0n);
  }
  return b;
}

/**
 * The fields of an OBSERVE_SEQNO response, or null when it is shorter than the 27 bytes every
 * format has; a failover entry cut short gives the common fields only.
 */
export function readObserveSeqno(buf: Buffer): ObserveSeqnoResult | null {
  if (buf.length < 27) return null;
  const format = buf[0];
  const r: ObserveSeqnoResult = {
    format,
    vbucket: buf.readUInt16BE(1),
    vbuuid: readUInt64BE(buf, 3),
    persistedSeqno: readUInt64BE(buf, 11),
    currentSeqno: readUInt64BE(buf, 19),
  };
  if (format === 1 && buf.length >= 43) {
    r.oldVbuuid = readUInt64BE(buf, 27);
    r.lastSeqno = readUInt64BE(buf, 35);
  }
  return r;
}

export function decodeObserveSeqnoResponse(buf: Buffer): ObserveSeqnoResult {
  if (buf.length < 27) throw new ProtocolError('bad_lengths', `OBSERVE_SEQNO response of ${buf.length} bytes`);
  if (buf[0] === 1 && buf.length < 43) throw new ProtocolError('bad_lengths', 'OBSERVE_SEQNO failover response truncated');
  return readObserveSeqno(buf)!;
}

// --- STAT: request key = group (may be empty); one response per stat, then an empty terminator

/** The STAT group a request asks for ('' = the default group). */
export function statGroupOf(key: Buffer): string {
  return key.toString('utf8');
}
