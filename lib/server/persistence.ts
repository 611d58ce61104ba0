// Optional persistence: one append-only log per bucket, written ahead of the client's ack.
//
// Why a log we write rather than an embedded engine (classic-level, better-sqlite3): the store
// already holds every document in memory, so disk only has to answer "what was acknowledged"
// after a crash. An append-only log does that with one sequential write per group of mutations,
// synchronously, before the response leaves (an async engine would force the hot path through
// promises), with no native build, and replays in one read at start. On open the log is
// compacted to a snapshot of the live data, so it never grows past one run's worth of changes.
//
// Record: u32 payload length, u32 crc32(payload), payload. A torn or corrupt tail (the process
// died mid-write) ends the replay and is cut off; everything before it was acknowledged.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import createDebug from 'debug';
import type { DocumentStore, Item, MetadataMap, StoreLog, Tombstone } from './store';
import type { DurableLog } from './kv/node';

const debug = createDebug('deferbase:server');

/**
 * 'always': write + fdatasync before every ack (slowest, survives power loss per write).
 * 'batch': group commit: mutations of the same moment share one write + fdatasync, then acked.
 * 'none': written to the OS before the ack (survives a process crash, not a power cut).
 */
export type FsyncPolicy = 'always' | 'batch' | 'none';

const REC_SET = 1;
const REC_DELETE = 2;
const REC_VBUUIDS = 3;
const FILE_SUFFIX = '.dblog';
/** Service metadata (design documents, index definitions): one small JSON object per bucket. */
const META_SUFFIX = '.meta.json';

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, 8);
  return out;
}

function encodeSet(doc: { id: string; value: Buffer; flags: number; datatype: number; cas: bigint; expiry: number; seqno: bigint }): Buffer {
  const keyLen = Buffer.byteLength(doc.id);
  const payload = Buffer.allocUnsafe(1 + 8 + 8 + 4 + 4 + 1 + 2 + keyLen + doc.value.length);
  let p = payload.writeUInt8(REC_SET, 0);
  p = payload.writeBigUInt64BE(doc.cas, p);
  p = payload.writeBigUInt64BE(doc.seqno, p);
  p = payload.writeUInt32BE(doc.flags >>> 0, p);
  p = payload.writeUInt32BE(doc.expiry >>> 0, p);
  p = payload.writeUInt8(doc.datatype, p);
  p = payload.writeUInt16BE(keyLen, p);
  p += payload.write(doc.id, p);
  doc.value.copy(payload, p);
  return frame(payload);
}

function encodeDelete(t: { id: string; cas: bigint; seqno: bigint; flags: number; datatype: number }): Buffer {
  const keyLen = Buffer.byteLength(t.id);
  const payload = Buffer.allocUnsafe(1 + 8 + 8 + 4 + 1 + 2 + keyLen);
  let p = payload.writeUInt8(REC_DELETE, 0);
  p = payload.writeBigUInt64BE(t.cas, p);
  p = payload.writeBigUInt64BE(t.seqno, p);
  p = payload.writeUInt32BE(t.flags >>> 0, p);
  p = payload.writeUInt8(t.datatype, p);
  p = payload.writeUInt16BE(keyLen, p);
  payload.write(t.id, p);
  return frame(payload);
}

function encodeVbuuids(uuids: bigint[]): Buffer {
  const payload = Buffer.allocUnsafe(1 + 2 + 8 * uuids.length);
  payload[0] = REC_VBUUIDS;
  payload.writeUInt16BE(uuids.length, 1);
  uuids.forEach((u, i) => payload.writeBigUInt64BE(u, 3 + i * 8));
  return frame(payload);
}

/** Replays `buf` into `store`; returns the length of the valid prefix. */
function replay(buf: Buffer, store: DocumentStore): number {
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    if (off + 8 + len > buf.length) break;
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== buf.readUInt32BE(off + 4) || len < 1) break;
    const type = payload[0];
    if (type === REC_SET) {
      const keyLen = payload.readUInt16BE(26);
      store.restore({
        cas: payload.readBigUInt64BE(1),
        seqno: payload.readBigUInt64BE(9),
        flags: payload.readUInt32BE(17),
        expiry: payload.readUInt32BE(21),
        datatype: payload[25],
        id: payload.toString('utf8', 28, 28 + keyLen),
        value: Buffer.from(payload.subarray(28 + keyLen)),
      });
    } else if (type === REC_DELETE) {
      const keyLen = payload.readUInt16BE(22);
      store.restoreDelete({
        cas: payload.readBigUInt64BE(1),
        seqno: payload.readBigUInt64BE(9),
        flags: payload.readUInt32BE(17),
        datatype: payload[21],
        id: payload.toString('utf8', 24, 24 + keyLen),
      });
    } else if (type === REC_VBUUIDS) {
      const n = payload.readUInt16BE(1);
      const uuids: bigint[] = [];
      for (let i = 0; i < n; i++) uuids.push(payload.readBigUInt64BE(3 + i * 8));
      store.restoreVbucketUuids(uuids);
    } else {
      break;
    }
    off += 8 + len;
  }
  return off;
}

/** The log is rewritten as a snapshot once it passes this size and twice the last snapshot. */
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;

class BucketFile implements StoreLog {
  fd: number;
  buffered: Buffer[] = [];
  /** Bytes in the file; compaction starts when it passes `compactAt`. */
  size: number;
  compactAt: number;
  constructor(
    private readonly owner: DiskLog,
    readonly file: string,
    readonly store: DocumentStore,
    readonly compactMin: number,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
    this.compactAt = Math.max(compactMin, 2 * this.size);
  }
  set(doc: Item): void {
    this.owner.append(this, encodeSet(doc));
  }
  remove(tomb: Tombstone): void {
    this.owner.append(this, encodeDelete(tomb));
  }
}

export class DiskLog implements DurableLog {
  private readonly files: BucketFile[] = [];
  private readonly policy: FsyncPolicy;
  private readonly intervalMs: number;
  private waiters: Array<() => void> = [];
  private unsynced = false;
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private closed = false;

  private constructor(policy: FsyncPolicy, intervalMs: number) {
    this.policy = policy;
    this.intervalMs = intervalMs;
  }

  /** Loads every bucket from `dir` (creating it), compacts the logs, and starts logging. */
  static open(dir: string, stores: DocumentStore[], opts: { fsync: FsyncPolicy; intervalMs: number; compactMinBytes?: number }): DiskLog {
    if (!['always', 'batch', 'none'].includes(opts.fsync)) throw new Error(`fsync must be 'always', 'batch' or 'none', got ${opts.fsync}`);
    fs.mkdirSync(dir, { recursive: true });
    const log = new DiskLog(opts.fsync, opts.intervalMs);
    for (const store of stores) {
      const file = path.join(dir, encodeURIComponent(store.name) + FILE_SUFFIX);
      if (fs.existsSync(file)) {
        const buf = fs.readFileSync(file);
        const valid = replay(buf, store);
        if (valid < buf.length) debug('persistence: %s: dropped a torn tail of %d bytes', file, buf.length - valid);
      }
      loadMetadata(file.slice(0, -FILE_SUFFIX.length) + META_SUFFIX, store.metadata);
      compact(file, store);
      const bf = new BucketFile(log, file, store, opts.compactMinBytes ?? COMPACT_MIN_BYTES);
      log.files.push(bf);
      store.attachLog(bf);
    }
    return log;
  }

  append(file: BucketFile, record: Buffer): void {
    if (this.closed) throw new Error('persistence log is closed');
    if (this.policy === 'always') {
      this.write(file, record);
      fs.fdatasyncSync(file.fd);
      return;
    }
    if (this.policy === 'none') {
      this.write(file, record);
      return;
    }
    file.buffered.push(record);
    this.unsynced = true;
    this.schedule();
  }

  pending(): boolean {
    return this.unsynced;
  }

  whenDurable(cb: () => void): void {
    if (!this.unsynced) {
      process.nextTick(cb);
      return;
    }
    this.waiters.push(cb);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.syncing) return;
    this.timer = setTimeout(() => this.sync(), this.intervalMs);
  }

  /** Group commit: one write per file of everything buffered, one fdatasync each, then the acks. */
  private sync(): void {
    this.timer = undefined;
    if (this.closed) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.unsynced = false;
    const dirty: number[] = [];
    for (const f of this.files) {
      if (f.buffered.length === 0) continue;
      const chunk = f.buffered.length === 1 ? f.buffered[0] : Buffer.concat(f.buffered);
      f.buffered = [];
      this.write(f, chunk);
      dirty.push(f.fd);
    }
    this.syncing = true;
    let left = dirty.length;
    const done = (): void => {
      this.syncing = false;
      for (const w of waiters) w();
      if (this.unsynced) this.schedule();
    };
    if (left === 0) return done();
    for (const fd of dirty) {
      fs.fdatasync(fd, (err) => {
        if (err) debug('persistence: fdatasync failed: %s', err.message);
        if (--left === 0) done();
      });
    }
  }

  /** Appends to a bucket's file; rewrites it as a snapshot when it has grown too much. */
  private write(f: BucketFile, chunk: Buffer): void {
    writeAll(f.fd, chunk);
    f.size += chunk.length;
    if (f.size < f.compactAt) return;
    // The snapshot holds the record just written (the store was updated before the log call).
    fs.fdatasyncSync(f.fd);
    fs.closeSync(f.fd);
    compact(f.file, f.store);
    f.fd = fs.openSync(f.file, 'a');
    f.size = fs.fstatSync(f.fd).size;
    f.compactAt = Math.max(f.compactMin, 2 * f.size);
    debug('persistence: compacted %s to %d bytes', f.file, f.size);
  }

  /** Writes what is buffered, syncs, and closes the files. */
  close(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const f of this.files) {
      if (f.buffered.length > 0) writeAll(f.fd, Buffer.concat(f.buffered));
      f.buffered = [];
      fs.fdatasyncSync(f.fd);
      fs.closeSync(f.fd);
      f.store.attachLog(undefined);
      f.store.metadata.sink = undefined;
    }
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/** Reads the bucket's metadata file into `meta` and makes every later change durable there. */
function loadMetadata(file: string, meta: MetadataMap): void {
  if (fs.existsSync(file)) {
    let all: unknown;
    try {
      all = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      // Written by rename only, so a bad file was damaged outside us: refuse rather than drop definitions.
      throw new Error(`persistence: ${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
    }
    if (typeof all !== 'object' || all === null || Array.isArray(all)) throw new Error(`persistence: ${file} does not hold a JSON object; fix or remove it`);
    for (const [name, value] of Object.entries(all)) meta.restore(name, JSON.stringify(value));
  }
  meta.sink = (entries) => {
    const parts: string[] = [];
    for (const [name, text] of entries) parts.push(`${JSON.stringify(name)}:${text}`);
    replaceFile(file, (fd) => writeAll(fd, Buffer.from(`{${parts.join(',\n')}}\n`)));
    debug('persistence: wrote %s (%d names)', file, entries.size);
  };
}

/** Replaces `file` atomically: temp file, fsync, rename, fsync dir. */
function replaceFile(file: string, fill: (fd: number) => void): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fill(fd);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  }
}

/** Rewrites `file` as a snapshot of `store` (atomically). */
function compact(file: string, store: DocumentStore): void {
  replaceFile(file, (fd) => {
    const parts: Buffer[] = [encodeVbuuids(store.vbucketUuids())];
    let size = parts[0].length;
    const flush = (): void => {
      writeAll(fd, Buffer.concat(parts));
      parts.length = 0;
      size = 0;
    };
    for (const doc of store.docs()) {
      const rec = encodeSet(doc);
      parts.push(rec);
      size += rec.length;
      if (size > 1 << 20) flush();
    }
    for (const t of store.tombstoneList()) parts.push(encodeDelete(t));
    flush();
  });
}
