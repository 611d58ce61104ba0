// One client connection to a node's KV port: a state machine over the memcached binary protocol.
//
// Every chunk read off the socket is split into frames and processed in order; the responses of
// one batch go out in one socket write (a bump-allocated slab, plus large values by reference
// under cork/uncork). A frame that breaks the wire format closes only this connection.
//
// Flow control: the socket stops being read while a batch's answers wait for the write-ahead log,
// and while the peer has not taken its answers (the socket wants a 'drain'); a batch ends early
// when the connection's unsent output passes its allowance (kv/limits.ts), so one chunk of
// requests cannot make megabytes of answers.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
// Imported from the defining modules, not '../protocol': its re-exports are getters, which
// cost a call on every access in the hot path.
import { Magic, ProtocolError, writeAltHeader, writeHeader, type Packet } from '../../protocol/packet';
import { KvRequest, RequestReader } from './reader';
import { Status } from '../../protocol/status';
import { Opcode } from '../../protocol/opcodes';
import { HelloFeature, decodeHelloFeatures } from '../../protocol/hello';
import { decodeFrameInfos, encodeServerDuration, RequestFrameId } from '../../protocol/framing';
import { writeFlagsExtras, writeMutationToken } from '../../protocol/extras';
import { DATATYPE_SNAPPY } from '../../protocol/snappy';
import { StoreError, SyncWrite, MAX_KEY_BYTES, MAX_VALUE_BYTES, DATATYPE_JSON, type DocumentStore, type Item } from '../store';
import { DEFAULT_SYNC_WRITE_TIMEOUT_MS, type DurabilityMonitor } from '../durability';
import type { Topology } from '../topology';
import { Feat, HELLO_FEATURES } from './features';
import type { SaslCredentials, SaslSession } from './sasl-session';
import { MAX_UNAUTHENTICATED_FRAME_BYTES, OUTPUT_FLOOR_BYTES, type KvLimits } from './limits';
import type { RangeScanRegistry } from './range-scans';

const debug = createDebug('deferbase:server');

const SLAB_SIZE = 64 * 1024;
/** Values at least this big are written by reference instead of being copied into the slab. */
const COPY_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/** What the SERVER_DURATION frame info adds to a response: its id/length byte and 2 bytes of duration. */
const DURATION_FRAME_BYTES = 3;
/** The frame info's first byte: id 0 (server recv->send duration), 2 bytes of data. */
const DURATION_FRAME_HEAD = 0x02;
/** Room every response reserves for its header: the alt header with the duration frame at most. */
const HEAD_ROOM = 24 + DURATION_FRAME_BYTES;

/** One opcode's handler; `quiet` is set for the quiet variant (no answer on success or a miss). */
export type CommandHandler = (c: KvConnection, req: KvRequest, quiet: boolean) => void;

export interface KvCommand {
  run: CommandHandler;
  quiet: boolean;
  /** The memcached privileges (rbac/kv-privileges.ts) the user needs in the selected bucket. */
  needs: number;
  /**
   * Where the request names its collection once COLLECTIONS is negotiated: in the key's LEB128
   * prefix ('key'), or elsewhere ('body': each key of OBSERVE's body, a range scan's JSON or
   * scan). The privileges are then checked in that collection (ownedStore, or the handler), not
   * in the default one.
   */
  collection?: 'key' | 'body';
}

/** Handlers indexed by opcode; an opcode without one gets UNKNOWN_COMMAND. */
export type CommandTable = ReadonlyArray<KvCommand | undefined>;

/** What an answer needs of its request: a held request's answer is written after its frame is gone. */
export type ResponseTarget = Pick<Packet, 'opcode' | 'opaque'>;

/**
 * A request whose answer is not finished when its handler returns (a range scan continue that
 * waits for the peer to read, a create waiting for a seqno): the connection runs nothing after
 * it, and stops reading, until `resume` says the answer is complete.
 */
export interface HeldRequest {
  /**
   * Writes more of the answer: 'done' when it is complete, 'output' when it stopped because the
   * connection's unsent output is at its allowance, 'wait' when it waits for an event (it then
   * calls the connection's `wake()`).
   */
  resume(c: KvConnection): 'done' | 'output' | 'wait';
  /** The connection closed before the answer was complete. */
  abandon(): void;
}

/** The write-ahead log as the front end sees it: responses wait until it is durable. */
export interface DurableLog {
  /** True when records were appended that are not yet durable. */
  pending(): boolean;
  /**
   * Calls `cb` once everything appended so far is durable (per the fsync policy), or with the
   * error (a StoreError, ETMPFAIL) when it could not be made durable and has been undone.
   */
  whenDurable(cb: (err?: Error) => void): void;
}

/** What a connection and its commands use of the node that accepted it (kv/node.ts). */
export interface NodeContext {
  readonly index: number;
  readonly topology: Topology;
  readonly log: DurableLog | undefined;
  /** Tracks durable writes across the replicas (the cluster's). */
  readonly durability: DurabilityMonitor;
  readonly version: string;
  readonly maxBodyLength: number;
  readonly limits: KvLimits;
  /** Unsent output of all the node's connections, as they last reported it. */
  readonly outputBytes: number;
  /** A connection's unsent output changed by `delta` bytes. */
  outputChanged(delta: number): void;
  connectionClosed(conn: KvConnection): void;
  readonly credentials: SaslCredentials;
  /** The node's open range scans. */
  readonly rangeScans: RangeScanRegistry;
  /**
   * The memcached privileges `user` holds in a collection of `bucket` (default: the default
   * collection); 0 when it has none there (or the bucket does not exist).
   */
  kvPrivileges(user: string, bucket: string, scope?: string, collection?: string): number;
  /** The bucket `user` may select, or undefined (missing and forbidden look the same). */
  bucketFor(user: string, name: string): DocumentStore | undefined;
  bucketConfigJson(name: string): Buffer;
  globalConfigJson(): Buffer;
  stats(group: string, arg: string | undefined, store: DocumentStore | undefined): Array<[string, string]> | undefined;
}

/** Per-request options parsed from framing extras. */
export interface FrameOptions {
  preserveTtl: boolean;
  durabilityLevel: number;
}

let nextConnectionId = 1;

/** What a connection may do before it authenticates (kv_engine: everything else is EACCESS). */
const BEFORE_AUTH = new Uint8Array(256);
for (const op of [Opcode.HELLO, Opcode.SASL_LIST_MECHS, Opcode.SASL_AUTH, Opcode.SASL_STEP, Opcode.GET_ERROR_MAP]) BEFORE_AUTH[op] = 1;

export class KvConnection {
  readonly id = nextConnectionId++;
  readonly node: NodeContext;
  private readonly socket: Socket;
  private readonly reader: RequestReader;
  private readonly req = new KvRequest();
  private readonly commands: CommandTable;

  features = 0;
  agent = '';
  store: DocumentStore | undefined;
  sasl: SaslSession | undefined;
  /**
   * The memcached privileges the user lacks in the selected bucket's default collection (none
   * while no bucket is selected: the handlers answer NO_BUCKET then). Set on SELECT_BUCKET and
   * whenever RBAC changes (resetPrivileges), so a request's privilege check is one AND.
   */
  lacking = 0;
  /** The privileges the running command needs (checked again in a named collection). */
  needs = 0;
  /** What the user lacks in each named collection of the selected bucket, by id, as first asked. */
  private lackingIn = new Map<number, number>();
  /** Config revision last sent to this client (pushes skip what it already has). */
  pushedRev = 0;

  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private start = 0;
  private pos = 0;
  private readonly queued: Buffer[] = [];
  /**
   * Waiting for the write-ahead log, or for a durable write to commit, before the responses of the
   * last chunk may go out (nothing more is read meanwhile: answers stay in order).
   */
  private waitingForLog = false;
  /** The durable write the running handler may prepare (set by frameOptions). */
  private syncWrite: SyncWrite | undefined;
  /** The prepared durable write the batch stopped at, and where its answer is (as an `undurable` mark). */
  private syncWait: { sw: SyncWrite; mark: number[] } | undefined;
  /** Set by a command that changed the store. */
  mutated = false;
  /**
   * The answers to the mutations of the chunk waiting for the log, six numbers each: where the
   * answer starts and where it ends in the output since the last flush (each as the number of
   * queued buffers before it and its offset past them), the opcode and the opaque.
   */
  private readonly undurable: number[] = [];
  /** QUIT or a protocol error: nothing more is read, and the socket ends once the answers are out. */
  private ending: 'quit' | 'kill' | undefined;
  private closed = false;
  /** The socket is paused (see `updateReading`). */
  private paused = false;
  /** Unsent output past the allowance: nothing more is read until the peer takes it ('drain'). */
  private outputBlocked = false;
  /** Bytes in `queued` (the slab region since `start` not included). */
  private queuedBytes = 0;
  /** The socket's unsent bytes as last reported to the node. */
  private reportedOutput = 0;
  /** Set by a command of the current batch that changed the store. */
  private batchMutated = false;
  private authenticatedAs: string | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  /** When the request being answered started, performance.now() ms (kept only while TRACING is on). */
  private startedAt = 0;
  /** The request whose answer is still being written; nothing after it runs until it is done. */
  private held: HeldRequest | undefined;
  /** `startedAt` of the held request. */
  private heldStartedAt = 0;
  /** A processFrames() is scheduled (wake, or yielding between parts of a held answer). */
  private scheduled = false;

  constructor(node: NodeContext, socket: Socket, commands: CommandTable) {
    this.node = node;
    this.socket = socket;
    this.reader = new RequestReader(this.bodyLimit());
    this.commands = commands;
    this.armAuthTimer();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => debug('kv conn %d (node %d): socket error: %s', this.id, node.index, err.message));
    socket.on('close', () => {
      this.closed = true;
      clearTimeout(this.authTimer);
      this.dropHeld();
      this.reportOutput(0);
      if (this.reader.bufferedBytes > 0) {
        debug('kv conn %d (node %d): closed with %d bytes of an unfinished frame', this.id, node.index, this.reader.bufferedBytes);
      }
      node.connectionClosed(this);
    });
  }

  /** The authenticated user. Setting it lifts the pre-authentication frame limit and timeout. */
  get user(): string | undefined {
    return this.authenticatedAs;
  }

  set user(name: string | undefined) {
    this.authenticatedAs = name;
    this.reader.maxBodyLength = this.bodyLimit();
    if (name === undefined) this.armAuthTimer();
    else clearTimeout(this.authTimer);
  }

  /** The largest frame body this connection may send now: kv_engine's 16 KiB frame until it authenticates. */
  private bodyLimit(): number {
    const limit = this.node.maxBodyLength;
    return this.authenticatedAs === undefined ? Math.min(limit, MAX_UNAUTHENTICATED_FRAME_BYTES - 24) : limit;
  }

  private armAuthTimer(): void {
    clearTimeout(this.authTimer);
    const ms = this.node.limits.authTimeoutMs;
    this.authTimer = setTimeout(() => {
      if (this.closed || this.authenticatedAs !== undefined) return;
      debug('kv conn %d (node %d, %s): closing: not authenticated within %d ms', this.id, this.node.index, this.remote, ms);
      this.destroy();
    }, ms);
    this.authTimer.unref();
  }

  has(feature: number): boolean {
    return (this.features & feature) !== 0;
  }

  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /** Closes this connection because the peer broke the protocol. */
  kill(reason: string): void {
    if (this.closed || this.ending !== undefined) return;
    debug('kv conn %d (node %d, %s): closing: %s', this.id, this.node.index, this.remote, reason);
    // Answers to the good frames before the bad one still go out; nothing after it is read.
    this.ending = 'kill';
  }

  /** Ends the connection after what is queued has been written (QUIT). */
  quit(): void {
    this.ending ??= 'quit';
  }

  destroy(): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    this.dropHeld();
    this.socket.destroy();
  }

  // ---- held requests ----------------------------------------------------------------------------

  /**
   * Called by a handler whose answer is not complete: `h` is resumed when the connection may
   * write again (or, for 'wait', when it calls `wake()`); requests after it wait.
   */
  hold(h: HeldRequest): void {
    this.held = h;
    this.heldStartedAt = this.startedAt;
  }

  /** The held request has something to do: resumes it outside the caller's stack. */
  wake(): void {
    if (this.held === undefined || this.closed || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed && !this.waitingForLog && !this.outputBlocked) this.processFrames();
    });
  }

  /** Bytes of output the connection may still queue before it is at its allowance. */
  outputRoom(): number {
    return this.allowance() - this.socket.writableLength - this.queuedBytes - (this.pos - this.start);
  }

  private dropHeld(): void {
    const h = this.held;
    this.held = undefined;
    h?.abandon();
  }

  /** Resumes the held request; true when it is done and the requests after it may run. */
  private resumeHeld(): boolean {
    const h = this.held!;
    if (this.ending !== undefined) {
      this.dropHeld();
      return true;
    }
    this.startedAt = this.heldStartedAt;
    const r = h.resume(this);
    if (r === 'done') {
      this.held = undefined;
      return true;
    }
    if (r === 'output') {
      // The peer's reading decides when it goes on: at once if the socket took it all (after the
      // other connections had their turn), else on 'drain'.
      this.flush();
      if (this.socket.writableNeedDrain) this.outputBlocked = true;
      else this.wake();
    }
    return false;
  }

  // ---- input ------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending !== undefined) return;
    this.reader.push(chunk);
    // A chunk already on its way when reading stopped waits in the reader.
    if (!this.waitingForLog && !this.outputBlocked && this.held === undefined) this.processFrames();
  }

  /**
   * Runs batches of frames until the reader is empty or the log must be waited for. Reading stops
   * while the socket holds more than it wants (the peer is behind; 'drain' resumes it): a batch
   * ends early at the connection's allowance, and the next starts once the peer has caught up.
   */
  private processFrames(): void {
    for (;;) {
      if (this.socket.writableNeedDrain) {
        this.outputBlocked = true;
        this.updateReading();
        return;
      }
      if (this.held !== undefined && !this.resumeHeld()) {
        this.updateReading();
        return;
      }
      const stoppedForOutput = this.runBatch();
      if (this.syncWait !== undefined) return this.awaitSyncWrite();
      if (this.awaitLog()) return;
      this.answer(undefined);
      if (this.closed || (!stoppedForOutput && !this.socket.writableNeedDrain && this.held === undefined)) {
        this.updateReading();
        return;
      }
    }
  }

  /** When the batch's mutations are not durable yet, waits for the log (then answers and goes on); true when it does. */
  private awaitLog(): boolean {
    const log = this.node.log;
    if (this.batchMutated && log !== undefined && log.pending()) {
      this.batchMutated = false;
      this.waitingForLog = true;
      this.updateReading();
      log.whenDurable((err) => {
        this.waitingForLog = false;
        this.answer(err);
        if (this.closed) return;
        this.updateReading();
        this.processFrames();
      });
      return true;
    }
    this.batchMutated = false;
    return false;
  }

  /**
   * The batch stopped at a prepared durable write: its answer (and those before it) wait until the
   * write commits, then for the log as any mutation's; an ambiguous outcome replaces its answer.
   */
  private awaitSyncWrite(): void {
    const { sw, mark } = this.syncWait!;
    this.waitingForLog = true;
    this.updateReading();
    this.node.durability.track(this.store!, sw, mark[6], this.node.index, (status) => {
      this.syncWait = undefined;
      this.waitingForLog = false;
      if (status !== Status.SUCCESS) {
        // Its mark is the last the log would look at: the answer is replaced once, here.
        if (this.node.log !== undefined) this.undurable.length -= 6;
        this.replaceAnswers(mark, status);
      }
      if (this.closed) return;
      if (this.awaitLog()) return;
      this.answer(undefined);
      this.updateReading();
      this.processFrames();
    });
  }

  /** How much unsent output this connection may hold now. */
  private allowance(): number {
    const limits = this.node.limits;
    return this.node.outputBytes > limits.totalOutputBytes ? OUTPUT_FLOOR_BYTES : limits.connectionOutputBytes;
  }

  /** Pauses the socket while waiting for the log or for the peer to read; resumes it otherwise. */
  private updateReading(): void {
    const stop = this.waitingForLog || this.outputBlocked || this.held !== undefined;
    if (stop === this.paused || this.closed) return;
    this.paused = stop;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Processes the frames the reader holds, answering into the slab; returns true when it stopped
   * because the unsent output passed the allowance (the rest stays in the reader).
   */
  private runBatch(): boolean {
    const commands = this.commands;
    const reader = this.reader;
    const req = this.req;
    const log = this.node.log;
    const room = this.allowance() - this.socket.writableLength;
    while (!this.closed && this.ending === undefined && this.held === undefined) {
      if (this.queuedBytes + (this.pos - this.start) > room) return true;
      try {
        if (!reader.next(req)) break;
      } catch (err) {
        this.kill(err instanceof ProtocolError ? `${err.reason}: ${err.message}` : String(err));
        break;
      }
      const magic = req.magic;
      if (magic !== Magic.REQUEST && magic !== Magic.ALT_REQUEST) {
        // The only other thing a client may send is its answer to one of our pushes.
        if (magic === Magic.SERVER_RESPONSE) continue;
        this.kill(`unexpected magic 0x${magic.toString(16)} from a client`);
        break;
      }
      if (!this.mayRun(req)) continue;
      const cmd = commands[req.opcode];
      if (cmd === undefined) {
        this.respondStatus(req, Status.UNKNOWN_COMMAND);
        continue;
      }
      if ((cmd.needs & this.lacking) !== 0 && !this.checkedInCollection(cmd, req)) {
        this.respondStatus(req, Status.EACCESS);
        continue;
      }
      this.needs = cmd.needs;
      const markQueued = this.queued.length;
      const markSlab = this.pos - this.start;
      const counted = this.store;
      if (counted !== undefined) counted.counters.requests[req.opcode]++;
      if ((this.features & Feat.TRACING) !== 0) this.startedAt = performance.now();
      try {
        cmd.run(this, req, cmd.quiet);
      } catch (err) {
        if (err instanceof StoreError) this.respondStatus(req, err.status);
        else if (err instanceof ProtocolError) {
          this.kill(`${err.reason}: ${err.message}`);
          break;
        } else {
          debug('kv conn %d: internal error on opcode 0x%s: %s', this.id, req.opcode.toString(16), (err as Error).stack);
          this.respondStatus(req, Status.EINTERNAL);
        }
      }
      const sw = this.syncWrite;
      if (sw !== undefined) {
        this.syncWrite = undefined;
        this.store?.stage(undefined);
        // Unordered execution: the write's answer goes out when it commits; the requests after it run now.
        if (sw.prepared !== undefined && (this.features & Feat.UNORDERED) !== 0) {
          this.mutated = false;
          this.trackUnordered(sw, req.opcode, req.opaque, req.vbucket);
          continue;
        }
      }
      if (this.mutated) {
        this.mutated = false;
        this.batchMutated = true;
        const mark = [markQueued, markSlab, this.queued.length, this.pos - this.start, req.opcode, req.opaque];
        if (log !== undefined) this.undurable.push(...mark);
        // A prepared durable write: nothing after it runs until it commits or aborts.
        if (sw?.prepared !== undefined) {
          this.syncWait = { sw, mark: [...mark, req.vbucket] };
          return false;
        }
      }
    }
    return false;
  }

  /** Whether the request's privileges are checked in the collection it names, later (see KvCommand.collection). */
  private checkedInCollection(cmd: KvCommand, req: KvRequest): boolean {
    return (this.features & Feat.COLLECTIONS) !== 0 && cmd.collection !== undefined;
  }

  /** RBAC changed, or another bucket was selected: `lacking` in its default collection, the rest asked again. */
  resetPrivileges(lacking: number): void {
    this.lacking = lacking;
    this.lackingIn.clear();
  }

  /** The privileges the user lacks in `coll` (a collection of the selected bucket). */
  lackingInCollection(coll: DocumentStore): number {
    if (coll.cid === 0) return this.lacking;
    let lacking = this.lackingIn.get(coll.cid);
    if (lacking === undefined) {
      lacking = this.user === undefined ? ~0 : ~this.node.kvPrivileges(this.user, coll.name, coll.scopeName, coll.collectionName);
      this.lackingIn.set(coll.cid, lacking);
    }
    return lacking;
  }

  /** UNKNOWN_COLLECTION, with the manifest uid the server decided by in the body (kv_engine's shape). */
  respondUnknownCollection(req: ResponseTarget, status: number = Status.UNKNOWN_COLLECTION): void {
    const uid = this.store?.manifest.uid ?? 0;
    this.respond(req, status, 0n, EMPTY, EMPTY, Buffer.from(`{"manifest_uid":"${uid.toString(16)}"}`), DATATYPE_JSON);
  }

  /**
   * The collection a key-bearing request addresses, checked: one the manifest has and the user
   * holds privileges in (without any, it does not exist for them: UNKNOWN_COLLECTION, as kv_engine
   * answers), and the privileges the command needs there. Answers and returns undefined otherwise.
   */
  private requestCollection(req: KvRequest, bucket: DocumentStore): DocumentStore | undefined {
    if ((this.features & Feat.COLLECTIONS) === 0 || req.keyLength === 0 || req.keyByte(0) === 0) return this.usableCollection(req, bucket, 0);
    const cid = this.keyCollection(req);
    if (cid < 0) {
      this.respondStatus(req, Status.EINVAL);
      return undefined;
    }
    return this.usableCollection(req, bucket, cid);
  }

  /**
   * Collection `cid` of `bucket` when it exists for this user and the user holds the running
   * command's privileges there; answers (UNKNOWN_COLLECTION or EACCESS) and returns undefined otherwise.
   */
  usableCollection(req: Packet, bucket: DocumentStore, cid: number): DocumentStore | undefined {
    const coll = bucket.collection(cid);
    const lacking = coll === undefined ? ~0 : this.lackingInCollection(coll);
    if (coll === undefined || ~lacking === 0) {
      this.respondUnknownCollection(req);
      return undefined;
    }
    if ((this.needs & lacking) !== 0) {
      this.respondStatus(req, Status.EACCESS);
      return undefined;
    }
    return coll;
  }

  /**
   * The collection id in a key's canonical LEB128 prefix (kv_engine: at most 5 bytes, a stop byte
   * within them, no redundant zero group), with its length in `prefixLength`; -1 when malformed.
   */
  private keyCollection(req: KvRequest): number {
    const len = req.keyLength;
    let value = 0;
    for (let i = 0; i < 5 && i < len; i++) {
      const b = req.keyByte(i);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        // No redundant zero group, 32 bits at most, and a key after the prefix.
        if ((b === 0 && i > 0) || value > 0xffffffff || i + 1 === len) return -1;
        this.prefixLength = i + 1;
        return value;
      }
    }
    return -1;
  }

  /** Set by keyCollection: the bytes of the last key's collection prefix. */
  private prefixLength = 0;

  /**
   * Tracks a durable write whose answer (`sw.answer`; none for a quiet one that succeeds) is sent
   * on its own once it commits and, for the persistence levels, once the log has it.
   */
  private trackUnordered(sw: SyncWrite, opcode: number, opaque: number, vbucket: number): void {
    const send = (status: number): void => {
      if (this.closed) return;
      const out = status === Status.SUCCESS ? sw.answer : bareAnswer(opcode, opaque, status);
      if (out !== undefined) this.socket.write(out);
    };
    this.node.durability.track(this.store!, sw, vbucket, this.node.index, (status) => {
      const log = this.node.log;
      if (status !== Status.SUCCESS || log === undefined || !log.pending()) return send(status);
      log.whenDurable((err) => send(err === undefined ? Status.SUCCESS : err instanceof StoreError ? err.status : Status.ETMPFAIL));
    });
  }

  /**
   * The gate in front of every handler: before authentication only HELLO, SASL and the error map
   * answer; anything else gets EACCESS. Answers and returns false when the request may not run.
   */
  private mayRun(req: KvRequest): boolean {
    if (this.authenticatedAs !== undefined || BEFORE_AUTH[req.opcode] === 1) return true;
    this.respondStatus(req, Status.EACCESS);
    return false;
  }

  /** Sends the chunk's answers; when the log failed, its mutations (undone by now) answer ETMPFAIL. */
  private answer(err: Error | undefined): void {
    if (err !== undefined) this.failUndurable(err);
    this.undurable.length = 0;
    if (this.closed) return;
    this.flush();
    if (this.ending === undefined) return;
    const kill = this.ending === 'kill';
    this.closed = true;
    this.socket.end();
    if (kill) setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Replaces each undurable mutation's answer (quiet ones had none) with the log's error status. */
  private failUndurable(err: Error): void {
    this.replaceAnswers(this.undurable, err instanceof StoreError ? err.status : Status.ETMPFAIL);
  }

  /** Replaces the answers at `marks` (six numbers each, see `undurable`) with bare `status` answers. */
  private replaceAnswers(marks: readonly number[], status: number): void {
    if (marks.length === 0) return;
    // A slab region not yet queued starts where the mark's offsets count from: queue it first.
    if (this.pos > this.start) {
      this.enqueue(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
    const before = [0];
    for (const b of this.queued) before.push(before[before.length - 1] + b.length);
    const out = Buffer.concat(this.queued);
    this.queued.length = 0;
    let from = 0;
    for (let i = 0; i + 6 <= marks.length; i += 6) {
      const answer = Buffer.allocUnsafe(HEAD_ROOM);
      const head = this.writeHead(answer, 0, marks[i + 4], 0, 0, 0, status, 0, marks[i + 5], 0n);
      this.queued.push(out.subarray(from, before[marks[i]] + marks[i + 1]), answer.subarray(0, head));
      from = before[marks[i + 2]] + marks[i + 3];
    }
    this.queued.push(out.subarray(from));
    this.queuedBytes = 0;
    for (const b of this.queued) this.queuedBytes += b.length;
  }

  private onDrain(): void {
    this.reportOutput(this.socket.writableLength);
    if (!this.outputBlocked || this.closed) return;
    this.outputBlocked = false;
    this.updateReading();
    if (!this.waitingForLog) this.processFrames();
  }

  /** Tells the node how much unsent output this connection holds now. */
  private reportOutput(bytes: number): void {
    const delta = bytes - this.reportedOutput;
    if (delta === 0) return;
    this.reportedOutput = bytes;
    this.node.outputChanged(delta);
  }

  // ---- output -----------------------------------------------------------------------------------

  /** Space for `n` more bytes at `this.pos`; returns the slab to write into. */
  reserve(n: number): Buffer {
    if (this.pos + n > this.slab.length) {
      if (this.pos > this.start) this.enqueue(this.slab.subarray(this.start, this.pos));
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      this.start = 0;
      this.pos = 0;
    }
    return this.slab;
  }

  /** Writes everything queued since the last flush in one go. */
  flush(): void {
    if (this.pos > this.start) {
      this.enqueue(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      // Leftover slab space too small to be useful: start afresh next time.
      if (this.slab.length - this.pos < 512) {
        this.slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.start = this.pos = 0;
      }
    }
    const q = this.queued;
    this.queuedBytes = 0;
    if (q.length === 0 || this.closed) {
      q.length = 0;
      return;
    }
    let ok: boolean;
    if (q.length === 1) {
      ok = this.socket.write(q[0]);
    } else {
      this.socket.cork();
      ok = true;
      for (let i = 0; i < q.length; i++) ok = this.socket.write(q[i]);
      this.socket.uncork();
    }
    q.length = 0;
    // Under the socket's high-water mark the kernel took it all; past it the node must know.
    if (!ok || this.reportedOutput !== 0) this.reportOutput(this.socket.writableLength);
  }

  private enqueue(b: Buffer): void {
    this.queued.push(b);
    this.queuedBytes += b.length;
  }

  /**
   * Appends one response. `value` may be large (then it is queued by reference, not copied).
   * Statuses LOCKED / NOT_LOCKED become ETMPFAIL for clients that did not negotiate XERROR.
   */
  respond(req: ResponseTarget, status: number, cas: bigint, extras: Buffer, key: Buffer, value: Buffer, datatype: number): void {
    if (status === Status.LOCKED || status === Status.NOT_LOCKED) {
      if ((this.features & Feat.XERROR) === 0) status = Status.ETMPFAIL;
    }
    const head = HEAD_ROOM + extras.length + key.length;
    const body = extras.length + key.length + value.length;
    const inline = value.length < COPY_LIMIT;
    const slab = this.reserve(inline ? head + value.length : head);
    let p = this.pos;
    p += this.writeHead(slab, p, req.opcode, key.length, extras.length, datatype, status, body, req.opaque, cas);
    if (extras.length !== 0) p += extras.copy(slab, p);
    if (key.length !== 0) p += key.copy(slab, p);
    if (inline) {
      if (value.length !== 0) p += value.copy(slab, p);
      this.pos = p;
    } else {
      this.pos = p;
      this.enqueue(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      this.enqueue(value);
    }
  }

  /** Appends one response whose value is `parts` joined; large parts are queued by reference, not copied. */
  respondParts(req: Packet, status: number, cas: bigint, parts: readonly Buffer[]): void {
    let body = 0;
    for (const part of parts) body += part.length;
    this.pos += this.writeHead(this.reserve(HEAD_ROOM), this.pos, req.opcode, 0, 0, 0, status, body, req.opaque, cas);
    for (const part of parts) {
      if (part.length < COPY_LIMIT) {
        const slab = this.reserve(part.length);
        this.pos += part.copy(slab, this.pos);
      } else {
        if (this.pos > this.start) this.enqueue(this.slab.subarray(this.start, this.pos));
        this.start = this.pos;
        this.enqueue(part);
      }
    }
  }

  respondStatus(req: ResponseTarget, status: number): void {
    this.respond(req, status, 0n, EMPTY, EMPTY, EMPTY, 0);
  }

  /**
   * A failure with kv_engine's error context: `{"error":{"context":...}}` to clients that
   * negotiated XERROR (what they parse), the bare status to the others.
   */
  respondError(req: ResponseTarget, status: number, context: string): void {
    if ((this.features & Feat.XERROR) === 0) return this.respondStatus(req, status);
    const body = Buffer.from(JSON.stringify({ error: { context } }));
    this.respond(req, status, 0n, EMPTY, EMPTY, body, (this.features & Feat.JSON) !== 0 ? DATATYPE_JSON : 0);
  }

  respondOk(req: Packet, cas: bigint = 0n): void {
    this.respond(req, Status.SUCCESS, cas, EMPTY, EMPTY, EMPTY, 0);
  }

  respondJson(req: Packet, json: Buffer): void {
    this.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, json, this.has(Feat.JSON) ? DATATYPE_JSON : 0);
  }

  /** GET-family success: flags extras, the value, optionally the key. Allocation-free. */
  respondItem(req: Packet, item: Item, cas: bigint, key: Buffer): void {
    if (this.store !== undefined) this.store.counters.hits[req.opcode]++;
    // A value stored as sent Snappy-compressed goes out so to clients that negotiated SNAPPY.
    const packed = (this.features & Feat.SNAPPY) !== 0 ? item.snappy : undefined;
    const value = packed ?? item.value;
    const keyLen = key.length;
    const body = 4 + keyLen + value.length;
    const inline = value.length < COPY_LIMIT;
    const slab = this.reserve(inline ? HEAD_ROOM + body : HEAD_ROOM + 4 + keyLen);
    let p = this.pos;
    const datatype = ((this.features & Feat.JSON) !== 0 ? item.datatype : 0) | (packed !== undefined ? DATATYPE_SNAPPY : 0);
    p += this.writeHead(slab, p, req.opcode, keyLen, 4, datatype, 0, body, req.opaque, cas);
    writeFlagsExtras(slab, p, item.flags);
    p += 4;
    if (keyLen !== 0) p += key.copy(slab, p);
    if (inline) {
      p += value.copy(slab, p);
      this.pos = p;
    } else {
      this.pos = p;
      this.enqueue(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      this.enqueue(value);
    }
  }

  /**
   * Mutation success: CAS, plus a mutation token when MUTATION_SEQNO was negotiated. `status` is
   * SUCCESS, or SUBDOC_SUCCESS_DELETED for a sub-document mutation that left the document deleted.
   */
  respondMutation(req: Packet, cas: bigint, vbucket: number, seqno: bigint, value: Buffer = EMPTY, status: number = Status.SUCCESS): void {
    const sw = this.syncWrite;
    if (sw !== undefined && sw.prepared !== undefined && (this.features & Feat.UNORDERED) !== 0) {
      // Held aside until the durable write commits (trackUnordered).
      const token = (this.features & Feat.MUTATION_SEQNO) !== 0 ? 16 : 0;
      const out = Buffer.allocUnsafe(24 + token + value.length);
      writeHeader(out, 0, Magic.RESPONSE, req.opcode, 0, token, 0, status, token + value.length, req.opaque, cas);
      if (token !== 0) writeMutationToken(out, 24, this.store!.vbucketUuid(vbucket), seqno);
      value.copy(out, 24 + token);
      sw.answer = out;
      return;
    }
    this.mutated = true;
    if ((this.features & Feat.MUTATION_SEQNO) === 0) {
      this.respond(req, status, cas, EMPTY, EMPTY, value, 0);
      return;
    }
    const slab = this.reserve(HEAD_ROOM + 16 + value.length);
    const p = this.pos + this.writeHead(slab, this.pos, req.opcode, 0, 16, 0, status, 16 + value.length, req.opaque, cas);
    writeMutationToken(slab, p, this.store!.vbucketUuid(vbucket), seqno);
    if (value.length !== 0) value.copy(slab, p + 16);
    this.pos = p + 16 + value.length;
  }

  /**
   * Writes a response header at buf[off] and returns its length. With TRACING negotiated it is
   * kv_engine's: the alt magic 0x18 and a SERVER_DURATION frame info with the time since the
   * request started, so `bodyLength` (what follows the frame info) grows by the frame's 3 bytes.
   */
  private writeHead(buf: Buffer, off: number, opcode: number, keyLength: number, extrasLength: number, datatype: number, status: number, bodyLength: number, opaque: number, cas: bigint): number {
    if ((this.features & Feat.TRACING) === 0) {
      writeHeader(buf, off, Magic.RESPONSE, opcode, keyLength, extrasLength, datatype, status, bodyLength, opaque, cas);
      return 24;
    }
    writeAltHeader(buf, off, Magic.ALT_RESPONSE, opcode, DURATION_FRAME_BYTES, keyLength, extrasLength, datatype, status, bodyLength + DURATION_FRAME_BYTES, opaque, cas);
    const encoded = encodeServerDuration((performance.now() - this.startedAt) * 1000);
    buf[off + 24] = DURATION_FRAME_HEAD;
    buf[off + 25] = encoded >>> 8;
    buf[off + 26] = encoded & 0xff;
    return 24 + DURATION_FRAME_BYTES;
  }

  /** Sends a server-initiated clustermap change notification (magic 0x82, opcode 0x01). */
  pushConfig(rev: number, bucketName: string, config: Buffer): void {
    if (this.closed) return;
    const key = Buffer.from(bucketName, 'utf8');
    const slab = this.reserve(24 + 4 + key.length + config.length);
    let p = this.pos;
    writeHeader(slab, p, Magic.SERVER_REQUEST, 0x01, key.length, 4, DATATYPE_JSON, 0, 4 + key.length + config.length, 0, 0n);
    slab.writeUInt32BE(rev >>> 0, p + 24);
    p += 28;
    p += key.copy(slab, p);
    p += config.copy(slab, p);
    this.pos = p;
    this.pushedRev = rev;
    if (!this.waitingForLog) this.flush();
  }

  // ---- request helpers ----------------------------------------------------------------------------

  /**
   * The document id of a request, with its collection prefix stripped (ownedStore found the
   * collection). Answers and returns undefined when the key is unusable.
   */
  docKey(req: KvRequest): string | undefined {
    const len = req.keyLength;
    let skip = 0;
    if ((this.features & Feat.COLLECTIONS) !== 0) {
      if (len === 0) {
        this.respondStatus(req, Status.EINVAL);
        return undefined;
      }
      if (req.keyByte(0) === 0) skip = 1;
      else if (this.keyCollection(req) < 0) {
        this.respondStatus(req, Status.EINVAL);
        return undefined;
      } else skip = this.prefixLength;
    }
    if (len - skip === 0 || len - skip > MAX_KEY_BYTES) {
      this.respondStatus(req, Status.EINVAL);
      return undefined;
    }
    return req.keyString(skip);
  }

  /**
   * Checks that a bucket is selected, that the collection the key names exists there for this
   * user (who holds the privileges the command needs in it), and that this node holds the active
   * copy of the request's vBucket (or a replica, for replica reads); returns the collection's
   * store. Answers and returns undefined otherwise. `cid` names the collection for a request that
   * carries it elsewhere than in its key (a range scan's).
   */
  ownedStore(req: KvRequest, replica = false, cid?: number): DocumentStore | undefined {
    const bucket = this.store;
    if (bucket === undefined) {
      this.respondStatus(req, this.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
      return undefined;
    }
    // The default collection with its privileges known is the common case: nothing more to look up.
    let store: DocumentStore | undefined = bucket;
    if (cid !== undefined) {
      store = this.usableCollection(req, bucket, cid);
      if (store === undefined) return undefined;
    } else if (bucket.dropped || (this.needs & this.lacking) !== 0 || ((this.features & Feat.COLLECTIONS) !== 0 && req.keyLength !== 0 && req.keyByte(0) !== 0)) {
      store = this.requestCollection(req, bucket);
      if (store === undefined) return undefined;
    }
    const vb = req.vbucket;
    const topo = this.node.topology;
    // Memcached buckets keep no replicas (kv_engine's default_engine has no GET_REPLICA).
    if (replica && store.nodeLocator === 'ketama') {
      this.respondStatus(req, Status.NOT_SUPPORTED);
      return undefined;
    }
    const owned =
      store.nodeLocator === 'ketama'
        ? !replica && topo.isMember(this.node.index)
        : vb < store.numVBuckets && (replica ? topo.isReplica(vb, this.node.index) : topo.active(vb) === this.node.index);
    if (!owned) {
      this.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, this.node.bucketConfigJson(bucket.name), DATATYPE_JSON);
      return undefined;
    }
    return store;
  }

  /**
   * The selected bucket when this node holds the active copy of the request's vBucket, with no
   * collection or privilege looked at (a request that names none yet); answers as ownedStore
   * does and returns undefined otherwise.
   */
  ownedBucket(req: KvRequest): DocumentStore | undefined {
    const bucket = this.store;
    if (bucket === undefined) {
      this.respondStatus(req, this.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
      return undefined;
    }
    const topo = this.node.topology;
    const owned = bucket.nodeLocator === 'ketama' ? topo.isMember(this.node.index) : req.vbucket < bucket.numVBuckets && topo.active(req.vbucket) === this.node.index;
    if (!owned) {
      this.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, this.node.bucketConfigJson(bucket.name), DATATYPE_JSON);
      return undefined;
    }
    return bucket;
  }

  /**
   * Parses framing extras. Answers and returns undefined on a frame we do not honour.
   * Plain (0x80) requests have none: returns the shared "no options" object.
   */
  frameOptions(req: Packet): FrameOptions | undefined {
    if (req.framingExtras.length === 0) {
      // The bucket's durability minimum makes a plain write durable too.
      const min = this.store === undefined ? 0 : this.store.durabilityMinLevel;
      if (min === 0) return NO_FRAME_OPTIONS;
      return this.beginSyncWrite(req, min, DEFAULT_SYNC_WRITE_TIMEOUT_MS) ? { preserveTtl: false, durabilityLevel: min } : undefined;
    }
    const opts: FrameOptions = { preserveTtl: false, durabilityLevel: 0 };
    let timeoutMs = DEFAULT_SYNC_WRITE_TIMEOUT_MS;
    for (const frame of decodeFrameInfos(req.framingExtras)) {
      switch (frame.id) {
        case RequestFrameId.BARRIER:
          break;
        case RequestFrameId.DURABILITY: {
          // Memcached buckets have nothing to replicate to nor persist on.
          if (this.store?.nodeLocator === 'ketama') {
            this.respondStatus(req, Status.NOT_SUPPORTED);
            return undefined;
          }
          const level = frame.data[0];
          if ((frame.data.length !== 1 && frame.data.length !== 3) || level < 1 || level > 3) {
            this.respondStatus(req, Status.DURABILITY_INVALID_LEVEL);
            return undefined;
          }
          if (frame.data.length === 3) {
            const timeout = frame.data.readUInt16BE(1);
            if (timeout === 0 || timeout === 0xffff) {
              this.respondStatus(req, Status.EINVAL);
              return undefined;
            }
            timeoutMs = timeout;
          }
          opts.durabilityLevel = level;
          break;
        }
        case RequestFrameId.PRESERVE_TTL:
          opts.preserveTtl = true;
          break;
        default:
          this.respondStatus(req, Status.UNKNOWN_FRAME_INFO);
          return undefined;
      }
    }
    // The bucket's durability minimum raises every write to it.
    const min = this.store === undefined ? 0 : this.store.durabilityMinLevel;
    if (min > opts.durabilityLevel) opts.durabilityLevel = min;
    if (opts.durabilityLevel !== 0 && !this.beginSyncWrite(req, opts.durabilityLevel, timeoutMs)) return undefined;
    return opts;
  }

  /**
   * Makes the handler's change a durable write at `level` (prepared, committed once a majority of
   * the vBucket's chain has it). Answers and returns false when the write cannot be taken.
   */
  private beginSyncWrite(req: Packet, level: number, timeoutMs: number): boolean {
    const store = this.store!;
    const status = this.node.durability.check(store, req.vbucket, level);
    if (status !== 0) {
      this.respondStatus(req, status);
      return false;
    }
    const sw = new SyncWrite(level, timeoutMs);
    this.syncWrite = sw;
    store.stage(sw);
    return true;
  }

  checkValueSize(req: Packet): boolean {
    if (req.value.length > MAX_VALUE_BYTES) {
      this.respondStatus(req, Status.E2BIG);
      return false;
    }
    return true;
  }

  /** Parses a HELLO request and answers with the features we implement. */
  hello(req: Packet): void {
    // The answer to the HELLO that turns TRACING on carries a duration already, as kv_engine's does.
    this.startedAt = performance.now();
    const requested = decodeHelloFeatures(req.value);
    this.agent = req.key.toString('utf8');
    let bits = 0;
    const acked: number[] = [];
    for (const code of requested) {
      const bit = HELLO_FEATURES.get(code);
      if (bit === undefined || (bits & bit) !== 0) continue;
      if (bit === Feat.CLUSTERMAP_NOTIFY && !requested.includes(HelloFeature.DUPLEX)) continue;
      bits |= bit;
      acked.push(code);
    }
    this.features = bits;
    debug('kv conn %d (node %d): HELLO %s -> %o', this.id, this.node.index, this.agent, acked);
    const value = Buffer.allocUnsafe(acked.length * 2);
    acked.forEach((c, i) => value.writeUInt16BE(c, i * 2));
    this.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, value, 0);
  }
}

/** An answer with a status and nothing else. */
function bareAnswer(opcode: number, opaque: number, status: number): Buffer {
  const out = Buffer.allocUnsafe(24);
  writeHeader(out, 0, Magic.RESPONSE, opcode, 0, 0, 0, status, 0, opaque, 0n);
  return out;
}

const NO_FRAME_OPTIONS: FrameOptions = Object.freeze({ preserveTtl: false, durabilityLevel: 0 });
