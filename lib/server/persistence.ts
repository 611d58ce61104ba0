// Optional persistence: one append-only log per bucket, written ahead of the client's ack.
//
// Why a log we write rather than an embedded engine (classic-level, better-sqlite3): the store
// already holds every document in memory, so disk only has to answer "what was acknowledged"
// after a crash. An append-only log does that with one sequential write per group of mutations,
// synchronously, before the response leaves (an async engine would force the hot path through
// promises), with no native build, and replays in one read at start. On open the log is
// compacted to a snapshot of the live data, so it never grows past one run's worth of changes.
// The record format, and how a damaged log is read back, are in log-format.ts.
//
// Ordering. The store hands every change to the log before it changes memory, and the log either
// takes it or throws a StoreError with status ETMPFAIL, leaving nothing changed:
// - fsync 'always' and 'none' write the record (and for 'always' fdatasync it) inside that call.
// - fsync 'batch' buffers it; a timer writes each file's buffer in one write, fdatasyncs, and only
//   then are the writers answered. Until then the change is in memory and readers can see it, as
//   in Couchbase, where a write is readable before it is persisted and is rolled back if the node
//   fails first. If the group's write or fdatasync fails, every change not yet durable is undone
//   in memory (the store keeps what each one replaced), the files are cut back to their last
//   durable byte, and every waiting writer gets the error (KV clients ETMPFAIL), so nothing that
//   failed stays visible or comes back after a restart. Changes made after the failed group are
//   undone with it, since they may build on it (an increment of an incremented counter).
// A full or failing disk never ends the process: the writer gets the error, stderr hears about it
// once, and the next write tries the disk again, so writes succeed again once there is room.
import fs from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { StoreError, StoreStatus, type DocumentStore, type Item, type MetadataMap, type StoreLog, type Tombstone } from './store';
import type { DurableLog } from './kv/node';
import { encodeDelete, encodeSet, encodeVbseqnos, encodeVbuuids, LogFormat, scanLog, type Damage, type LogRecord } from './log-format';

const debug = createDebug('deferbase:server');

/**
 * 'always': write + fdatasync before every ack (slowest, survives power loss per write).
 * 'batch': group commit: mutations of the same moment share one write + fdatasync, then acked.
 * 'none': written to the OS before the ack (survives a process crash, not a power cut).
 */
export type FsyncPolicy = 'always' | 'batch' | 'none';

const FILE_SUFFIX = '.dblog';
/** Service metadata (design documents, index definitions): one small JSON object per bucket. */
const META_SUFFIX = '.meta.json';
/** The log is rewritten as a snapshot once it passes this size and twice the last snapshot. */
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** Keys named in a damage report; the count is always complete. */
const REPORTED_KEYS = 1000;

/** The file-system calls the log makes once open; tests inject faults here. */
export interface LogIo {
  writeSync(fd: number, buf: Buffer, offset: number, length: number): number;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, len: number): void;
}

const nodeIo: LogIo = {
  writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fdatasync: (fd, cb) => fs.fdatasync(fd, cb),
  ftruncateSync: (fd, len) => fs.ftruncateSync(fd, len),
};

export interface DiskLogOptions {
  fsync: FsyncPolicy;
  /** Group-commit window of fsync 'batch', ms. */
  intervalMs: number;
  compactMinBytes?: number;
  /** Refuse to open a log with damaged records (LogDamagedError) instead of recovering around them. */
  strictRecovery?: boolean;
  /** Where recoveries and disk trouble are reported; stderr by default. */
  warn?: (message: string) => void;
  io?: LogIo;
}

/** A log with damaged records, opened with strictRecovery: nothing was changed on disk. */
export class LogDamagedError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'LogDamagedError';
  }
}

class BucketFile implements StoreLog {
  fd: number;
  /** Bytes in the file: the durable ones plus those of a group being synced. */
  size: number;
  /** Bytes known to be on disk; a failure cuts the file back to here. */
  durable: number;
  /** A failed write may have left bytes past `size` that could not be cut off yet. */
  dirtyTail = false;
  buffered: Buffer[] = [];
  bufferedRecords = 0;
  syncingRecords = 0;
  compactAt: number;
  constructor(
    private readonly owner: DiskLog,
    readonly file: string,
    readonly store: DocumentStore,
    public fmt: LogFormat,
    readonly compactMin: number,
    readonly deferred: boolean,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.size = this.durable = fs.fstatSync(this.fd).size;
    this.compactAt = Math.max(compactMin, 2 * this.size);
  }
  set(doc: Item, cid: number): void {
    this.owner.prepare(this);
    this.owner.append(this, encodeSet(doc, this.fmt, cid), doc.id);
  }
  remove(tomb: Tombstone, cid: number): void {
    this.owner.prepare(this);
    this.owner.append(this, encodeDelete(tomb, this.fmt, cid), tomb.id);
  }
}

type Waiter = (err?: Error) => void;

export class DiskLog implements DurableLog {
  private readonly files: BucketFile[] = [];
  /** Writers waiting for the buffered records, and for the group being synced. */
  private waiters: Waiter[] = [];
  private inflight: Waiter[] = [];
  private unsynced = false;
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private closed = false;
  /** Set while writes fail, so stderr hears once when trouble starts and once when it ends. */
  private trouble: string | undefined;
  private closeFailure: Error | undefined;
  /** Groups that failed so far, and the error the last one gave its writers. */
  private failures = 0;
  private lastFailure: StoreError | undefined;

  private constructor(
    private readonly dir: string,
    private readonly policy: FsyncPolicy,
    private readonly intervalMs: number,
    private readonly io: LogIo,
    private readonly warn: (message: string) => void,
    private readonly compactMin: number,
    private readonly strict: boolean,
  ) {}

  /** Loads every bucket from `dir` (creating it), compacts the logs, and starts logging. */
  static open(dir: string, stores: DocumentStore[], opts: DiskLogOptions): DiskLog {
    if (!['always', 'batch', 'none'].includes(opts.fsync)) throw new Error(`fsync must be 'always', 'batch' or 'none', got ${opts.fsync}`);
    fs.mkdirSync(dir, { recursive: true });
    const warn = opts.warn ?? ((m: string) => void process.stderr.write(`deferbase: ${m}\n`));
    const log = new DiskLog(dir, opts.fsync, opts.intervalMs, opts.io ?? nodeIo, warn, opts.compactMinBytes ?? COMPACT_MIN_BYTES, opts.strictRecovery === true);
    try {
      for (const store of stores) log.addStore(store);
    } catch (err) {
      log.close();
      throw err;
    }
    return log;
  }

  /**
   * Recovers `store` from its files in the log's folder (if any) and logs its changes from now on.
   * The metadata comes first: it holds the collections manifest the log's records are placed by.
   */
  addStore(store: DocumentStore): void {
    const file = path.join(this.dir, encodeURIComponent(store.name) + FILE_SUFFIX);
    loadMetadata(file.slice(0, -FILE_SUFFIX.length) + META_SUFFIX, store.bucketMetadata, this.io);
    store.restoreCollections();
    const fmt = this.recover(file, store, this.strict);
    const bf = new BucketFile(this, file, store, fmt, this.compactMin, this.policy === 'batch');
    this.files.push(bf);
    store.attachLog(bf);
  }

  /**
   * Stops logging `store` and deletes its files: the bucket was deleted. Records it still had
   * buffered go with it (nobody can read that bucket any more).
   */
  removeStore(store: DocumentStore): void {
    const i = this.files.findIndex((f) => f.store === store);
    if (i < 0) return;
    const [f] = this.files.splice(i, 1);
    if (f.fd >= 0) fs.closeSync(f.fd);
    f.fd = -1;
    store.attachLog(undefined);
    store.bucketMetadata.sink = undefined;
    fs.rmSync(f.file, { force: true });
    fs.rmSync(f.file.slice(0, -FILE_SUFFIX.length) + META_SUFFIX, { force: true });
  }

  /**
   * Replays `file` into `store` and rewrites it as a snapshot; returns the format to append in.
   * Damage is reported (or, strict, refused) and the damaged original kept; a torn tail is cut.
   */
  private recover(file: string, store: DocumentStore, strict: boolean): LogFormat {
    let fmt = LogFormat.fresh();
    let keep = 0;
    let kept: string | undefined;
    if (fs.existsSync(file)) {
      const buf = fs.readFileSync(file);
      const scan = scanLog(buf, (rec) => applyRecord(store, rec));
      if (scan.damage.length > 0) {
        const report = describeDamage(file, scan.damage);
        if (strict) {
          throw new LogDamagedError(
            file,
            `persistence: ${report}. Not starting, because strict recovery is on; nothing was changed. ` +
              'Start without it (--strict-recovery / strictRecovery) to recover every good record and keep the damaged file aside.',
          );
        }
        kept = keepDamaged(file);
        this.warn(`persistence: ${report}. ${kept === undefined ? 'The damaged original could not be kept aside.' : `The damaged original is kept as ${kept}.`}`);
      }
      if (scan.tornBytes > 0) debug('persistence: %s: cut off a torn tail of %d bytes', file, scan.tornBytes);
      if (scan.validEnd > 0) fmt = scan.format;
      keep = scan.validEnd;
    }
    try {
      return compact(file, store, this.io);
    } catch (err) {
      this.warn(`persistence: could not compact ${file} at start (${(err as Error).message}); appending to it as it is`);
      if (!fs.existsSync(file)) return fmt;
      if (keep === 0) {
        // Nothing in it was recovered: start it afresh (a kept copy is a link to the old bytes).
        if (kept !== undefined) fs.unlinkSync(file);
        else fs.truncateSync(file, 0);
      } else if (kept === undefined) {
        // Cut a torn tail before appending. Damage kept aside by a hard link stays instead (cutting
        // it would cut the kept copy too): the reader skips it again next time.
        fs.truncateSync(file, keep);
      }
      return fmt;
    }
  }

  // ---- the write path -------------------------------------------------------------------------

  /** Before a record is encoded: fsync 'always'/'none' compact here, where memory matches the file. */
  prepare(f: BucketFile): void {
    if (this.closed) throw new StoreError(StoreStatus.ETMPFAIL, '', 'temporary failure: the write-ahead log is closed (the cluster is stopping)');
    if (this.policy !== 'batch' && f.size >= f.compactAt) this.compactNow(f);
  }

  /** Takes a record or throws (ETMPFAIL) having written nothing. */
  append(f: BucketFile, record: Buffer, id: string): void {
    if (this.policy === 'batch') {
      try {
        this.prepareTail(f);
      } catch (err) {
        throw this.refused(err as Error, id);
      }
      f.buffered.push(record);
      f.bufferedRecords++;
      this.unsynced = true;
      this.schedule();
      return;
    }
    const at = f.size;
    try {
      this.writeChunk(f, record);
      if (this.policy === 'always') this.io.fdatasyncSync(f.fd);
    } catch (err) {
      this.cutBack(f, at);
      throw this.refused(err as Error, id);
    }
    f.durable = f.size;
    this.healthy();
  }

  pending(): boolean {
    return this.unsynced || this.syncing;
  }

  whenDurable(cb: Waiter): void {
    if (this.unsynced) {
      this.waiters.push(cb);
      this.schedule();
    } else if (this.syncing) {
      this.inflight.push(cb);
    } else {
      process.nextTick(cb);
    }
  }

  /**
   * For a writer whose writes span several groups (a N1QL statement): the function returned
   * resolves once everything written since this call is durable, and rejects if any group failed
   * in between (some of those writes were undone).
   */
  track(): () => Promise<void> {
    const failures = this.failures;
    return () =>
      new Promise((resolve, reject) =>
        this.whenDurable((err) => {
          if (err !== undefined) reject(err);
          else if (this.failures !== failures) reject(this.lastFailure);
          else resolve();
        }),
      );
  }

  private schedule(): void {
    if (this.timer !== undefined || this.syncing) return;
    this.timer = setTimeout(() => this.sync(), this.intervalMs);
  }

  /** Group commit: one write per file of everything buffered, one fdatasync each, then the acks. */
  private sync(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.inflight = this.waiters;
    this.waiters = [];
    this.unsynced = false;
    const busy = this.files.filter((f) => f.bufferedRecords > 0);
    const written: BucketFile[] = [];
    try {
      for (const f of busy) {
        const chunk = f.buffered.length === 1 ? f.buffered[0] : Buffer.concat(f.buffered);
        f.buffered = [];
        f.syncingRecords = f.bufferedRecords;
        f.bufferedRecords = 0;
        // Memory holds the file plus this buffer, so the snapshot holds the buffer too. Only a
        // file alone in its group compacts: a failure elsewhere in the group could not undo it.
        if (busy.length === 1 && f.size >= f.compactAt && this.compactNow(f)) continue;
        this.writeChunk(f, chunk);
        written.push(f);
      }
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.syncing = true;
    let left = written.length;
    let failure: Error | null = null;
    const done = (): void => {
      this.syncing = false;
      if (this.closed) {
        if (failure !== null) this.closeFailure ??= failure;
        this.finishClose();
        return;
      }
      if (failure !== null) return this.fail(failure);
      for (const f of written) f.durable = f.size;
      for (const f of busy) {
        f.store.logDurable(f.syncingRecords);
        f.syncingRecords = 0;
      }
      this.healthy();
      const waiters = this.inflight;
      this.inflight = [];
      for (const w of waiters) w();
      if (this.unsynced) this.schedule();
    };
    if (left === 0) return done();
    for (const f of written) {
      this.io.fdatasync(f.fd, (err) => {
        failure ??= err;
        if (--left === 0) done();
      });
    }
  }

  /**
   * A group could not be made durable: every change not yet durable is undone and its files cut
   * back; everyone waiting, for this group or the next, gets the error.
   */
  private fail(err: Error): void {
    for (const f of this.files) {
      f.buffered = [];
      f.bufferedRecords = 0;
      f.syncingRecords = 0;
      this.cutBack(f, f.durable);
      f.store.logFailed();
    }
    this.unsynced = false;
    const waiters = [...this.inflight, ...this.waiters];
    this.inflight = [];
    this.waiters = [];
    const refusal = new StoreError(
      StoreStatus.ETMPFAIL,
      '',
      `temporary failure: the write-ahead log could not make the write durable (${reason(err)}); it was undone, retry once the disk has room`,
      { cause: err },
    );
    this.failures++;
    this.lastFailure = refusal;
    this.unhealthy(err);
    for (const w of waiters) w(refusal);
  }

  /** Appends `chunk` after the good bytes (with the file header if the file is empty); on failure cuts back and rethrows. */
  private writeChunk(f: BucketFile, chunk: Buffer): void {
    this.prepareTail(f);
    const data = f.size === 0 && f.fmt.version === 2 ? Buffer.concat([f.fmt.fileHeader(), chunk]) : chunk;
    try {
      writeAll(this.io, f.fd, data);
    } catch (err) {
      this.cutBack(f, f.size);
      throw err;
    }
    f.size += data.length;
  }

  /** Makes the file writable at `size`: reopened after a failed compaction, bytes of a failed write cut. */
  private prepareTail(f: BucketFile): void {
    if (f.fd < 0) {
      f.fd = fs.openSync(f.file, 'a');
      f.dirtyTail = true;
    }
    if (f.dirtyTail) {
      this.io.ftruncateSync(f.fd, f.size);
      f.dirtyTail = false;
    }
  }

  private cutBack(f: BucketFile, to: number): void {
    f.size = to;
    try {
      if (f.fd >= 0) this.io.ftruncateSync(f.fd, to);
      f.dirtyTail = false;
    } catch {
      f.dirtyTail = true; // cut before the next write; until then that write fails
    }
  }

  /** Rewrites the file as a snapshot of the store, which holds exactly the file plus its buffer. */
  private compactNow(f: BucketFile): boolean {
    let fmt: LogFormat;
    try {
      fmt = compact(f.file, f.store, this.io);
    } catch (err) {
      f.compactAt = f.size + f.compactMin;
      this.warn(`persistence: could not compact ${f.file} (${(err as Error).message}); trying again once it has grown by ${f.compactMin} bytes`);
      return false;
    }
    // The old descriptor points at the replaced file: later appends must go to the new one.
    const old = f.fd;
    try {
      f.fd = fs.openSync(f.file, 'a');
    } catch {
      f.fd = -1; // prepareTail opens it before the next write
    }
    if (old >= 0) fs.closeSync(old);
    f.fmt = fmt;
    f.size = f.durable = fs.statSync(f.file).size;
    f.dirtyTail = false;
    f.buffered = [];
    f.store.logDurable(f.syncingRecords + f.bufferedRecords);
    f.syncingRecords = f.bufferedRecords = 0;
    f.compactAt = Math.max(f.compactMin, 2 * f.size);
    debug('persistence: compacted %s to %d bytes', f.file, f.size);
    return true;
  }

  private refused(err: Error, id: string): StoreError {
    this.unhealthy(err);
    return new StoreError(
      StoreStatus.ETMPFAIL,
      id,
      `temporary failure: the write-ahead log could not take the write of ${JSON.stringify(id)} (${reason(err)}); nothing was changed, retry once the disk has room`,
      { cause: err },
    );
  }

  private unhealthy(err: Error): void {
    debug('persistence: write failed: %s', err.message);
    if (this.trouble !== undefined) return;
    this.trouble = err.message;
    this.warn(`persistence: cannot write to ${this.dir} (${err.message}); writes fail with a temporary failure (KV: ETMPFAIL) until it can`);
  }

  private healthy(): void {
    if (this.trouble === undefined) return;
    this.trouble = undefined;
    this.warn(`persistence: writing to ${this.dir} again`);
  }

  // ---- shutdown ---------------------------------------------------------------------------------

  /** Writes what is buffered, syncs, and closes the files. Never throws: a failure goes to the writers and stderr. */
  close(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const f of this.files) {
      try {
        if (f.buffered.length > 0) this.writeChunk(f, Buffer.concat(f.buffered));
        if (f.fd >= 0) this.io.fdatasyncSync(f.fd);
      } catch (err) {
        this.closeFailure ??= err as Error;
      }
      f.syncingRecords += f.bufferedRecords;
      f.buffered = [];
      f.bufferedRecords = 0;
    }
    this.closed = true;
    if (!this.syncing) this.finishClose();
  }

  /** After close() and any group in flight: resolves every waiter, then releases the files. */
  private finishClose(): void {
    const failure = this.closeFailure;
    for (const f of this.files) {
      if (failure === undefined) f.store.logDurable(f.syncingRecords);
      else f.store.logFailed();
      f.syncingRecords = 0;
      if (f.fd >= 0) fs.closeSync(f.fd);
      f.fd = -1;
      f.store.attachLog(undefined);
      f.store.bucketMetadata.sink = undefined;
    }
    if (failure !== undefined) this.warn(`persistence: the last writes could not be made durable at shutdown (${failure.message}); they are lost`);
    const waiters = [...this.inflight, ...this.waiters];
    this.inflight = [];
    this.waiters = [];
    const refusal = failure && new StoreError(StoreStatus.ETMPFAIL, '', `temporary failure: the write-ahead log could not make the write durable at shutdown (${reason(failure)})`, { cause: failure });
    for (const w of waiters) w(refusal);
  }
}

/** What a client may hear about a file-system error: its code, not the server's paths. */
function reason(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

/** Replays one record; records of a collection the manifest no longer has are dropped with it. */
function applyRecord(store: DocumentStore, rec: LogRecord): void {
  if (rec.kind === 'vbuuids') return store.restoreVbucketUuids(rec.uuids);
  if (rec.kind === 'vbseqnos') return store.restoreVbucketSeqnos(rec.seqnos);
  const target = store.collection(rec.cid);
  if (target === undefined) return store.restoreDropped(rec.kind === 'set' ? rec.doc : rec.tomb);
  if (rec.kind === 'set') target.restore(rec.doc);
  else target.restoreDelete(rec.tomb);
}

function listKeys(keys: string[]): string {
  const shown = keys.slice(0, REPORTED_KEYS).map((k) => JSON.stringify(k));
  return shown.join(', ') + (keys.length > REPORTED_KEYS ? ` and ${keys.length - REPORTED_KEYS} more` : '');
}

/** One paragraph for stderr: how many records were lost and what that means for which keys. */
export function describeDamage(file: string, damage: Damage[]): string {
  const lost = damage.flatMap((d) => d.lost);
  const stale = new Set<string>();
  const rewritten = new Set<string>();
  let unknown = 0;
  for (const l of lost) {
    if (l.key === undefined) {
      if (l.kind !== 'vbuuids' && l.kind !== 'vbseqnos') unknown++;
    } else if (l.superseded) rewritten.add(l.key);
    else stale.add(l.key);
  }
  for (const k of stale) rewritten.delete(k);
  const spans = damage.map((d) => `${d.start}-${d.end}`).join(', ');
  const parts = [`${file} is damaged: ${lost.length} record${lost.length === 1 ? '' : 's'} lost (bytes ${spans}); every other record was recovered`];
  if (stale.size > 0) parts.push(`these keys may be missing or hold an older version: ${listKeys([...stale])}`);
  if (rewritten.size > 0) parts.push(`these were written again later and are intact: ${listKeys([...rewritten])}`);
  if (unknown > 0) parts.push(`${unknown} lost record${unknown === 1 ? ' is' : 's are'} too damaged to tell the key`);
  if (lost.some((l) => l.kind === 'vbuuids')) parts.push('the vBucket UUIDs were lost, so mutation tokens from before no longer match');
  return parts.join('; ');
}

/** Keeps the damaged log under a new name (a hard link: no space needed), or undefined. */
function keepDamaged(file: string): string | undefined {
  let name = `${file}.corrupt`;
  for (let i = 2; fs.existsSync(name); i++) name = `${file}.${i}.corrupt`;
  try {
    fs.linkSync(file, name);
    return name;
  } catch {
    try {
      fs.copyFileSync(file, name, fs.constants.COPYFILE_EXCL);
      return name;
    } catch {
      return undefined;
    }
  }
}

function writeAll(io: LogIo, fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += io.writeSync(fd, buf, off, buf.length - off);
}

/** Reads the bucket's metadata file into `meta` and makes every later change durable there. */
function loadMetadata(file: string, meta: MetadataMap, io: LogIo): void {
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
    try {
      replaceFile(file, io, (fd) => writeAll(io, fd, Buffer.from(`{${parts.join(',\n')}}\n`)));
    } catch (err) {
      throw new StoreError(
        StoreStatus.ETMPFAIL,
        path.basename(file),
        `temporary failure: could not write the bucket's service definitions (${reason(err as Error)}); nothing was changed, retry once the disk has room`,
        { cause: err },
      );
    }
    debug('persistence: wrote %s (%d names)', file, entries.size);
  };
}

/** Replaces `file` atomically: temp file, fsync, rename, fsync dir. On failure the temp file is removed. */
function replaceFile(file: string, io: LogIo, fill: (fd: number) => void): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      fill(fd);
      io.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  }
}

/** Rewrites `file` as a snapshot of `store` (atomically) in a new format 2 file; returns its format. */
function compact(file: string, store: DocumentStore, io: LogIo): LogFormat {
  const fmt = LogFormat.fresh();
  replaceFile(file, io, (fd) => {
    const parts: Buffer[] = [fmt.fileHeader(), encodeVbuuids(store.vbucketUuids(), fmt)];
    let size = parts[0].length + parts[1].length;
    /** The highest seqno the snapshot's records carry, per vBucket. */
    const written = new Array<bigint>(store.numVBuckets).fill(0n);
    const flush = (): void => {
      writeAll(io, fd, Buffer.concat(parts));
      parts.length = 0;
      size = 0;
    };
    for (const coll of store.collections()) {
      for (const doc of coll.docs()) {
        const rec = encodeSet(doc, fmt, coll.cid);
        const vb = coll.vbucketOf(doc.id);
        if (doc.seqno > written[vb]) written[vb] = doc.seqno;
        parts.push(rec);
        size += rec.length;
        if (size > 1 << 20) flush();
      }
      for (const t of coll.tombstoneList()) {
        if (t.seqno > written[t.vbucket]) written[t.vbucket] = t.seqno;
        parts.push(encodeDelete(t, fmt, coll.cid));
      }
    }
    // The snapshot leaves out changes whose seqnos still count (a dropped collection's, an
    // expired document's): where they were the last, the high seqno is kept on its own, so that
    // a seqno is never handed out twice.
    const seqnos = store.vbucketSeqnos();
    if (seqnos.some((n, vb) => n > written[vb])) parts.push(encodeVbseqnos(seqnos, fmt));
    flush();
  });
  return fmt;
}
