// One client connection to a node's KV port: a state machine over the memcached binary protocol.
//
// Every chunk read off the socket is split into frames and processed in order; the responses of
// one chunk go out in one socket write (a bump-allocated slab, plus large values by reference
// under cork/uncork). A frame that breaks the wire format closes only this connection.
import type { Socket } from 'node:net';
import createDebug from 'debug';
// Imported from the defining modules, not '../protocol': its re-exports are getters, which
// cost a call on every access in the hot path.
import { Magic, ProtocolError, writeHeader, type Packet } from '../../protocol/packet';
import { KvRequest, RequestReader } from './reader';
import { Status } from '../../protocol/status';
import { HelloFeature, decodeHelloFeatures } from '../../protocol/hello';
import { decodeFrameInfos, RequestFrameId } from '../../protocol/framing';
import { writeFlagsExtras, writeMutationToken } from '../../protocol/extras';
import { DATATYPE_SNAPPY } from '../../protocol/snappy';
import { StoreError, MAX_KEY_BYTES, MAX_VALUE_BYTES, DATATYPE_JSON, type DocumentStore, type Item } from '../store';
import type { Topology } from '../topology';
import { Feat, HELLO_FEATURES } from './features';
import type { SaslCredentials, SaslSession } from './sasl-session';

const debug = createDebug('deferbase:server');

const SLAB_SIZE = 64 * 1024;
/** Values at least this big are written by reference instead of being copied into the slab. */
const COPY_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** One opcode's handler; `quiet` is set for the quiet variant (no answer on success or a miss). */
export type CommandHandler = (c: KvConnection, req: KvRequest, quiet: boolean) => void;

export interface KvCommand {
  run: CommandHandler;
  quiet: boolean;
  /** The memcached privileges (rbac/kv-privileges.ts) the user needs in the selected bucket. */
  needs: number;
}

/** Handlers indexed by opcode; an opcode without one gets UNKNOWN_COMMAND. */
export type CommandTable = ReadonlyArray<KvCommand | undefined>;

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
  readonly version: string;
  readonly maxBodyLength: number;
  connectionClosed(conn: KvConnection): void;
  readonly credentials: SaslCredentials;
  /** The memcached privileges `user` holds in `bucket`; 0 when it may not select it (or it does not exist). */
  kvPrivileges(user: string, bucket: string): number;
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

export class KvConnection {
  readonly id = nextConnectionId++;
  readonly node: NodeContext;
  private readonly socket: Socket;
  private readonly reader: RequestReader;
  private readonly req = new KvRequest();
  private readonly commands: CommandTable;

  features = 0;
  agent = '';
  user: string | undefined;
  store: DocumentStore | undefined;
  sasl: SaslSession | undefined;
  /**
   * The memcached privileges the user lacks in the selected bucket (none while no bucket is
   * selected: the handlers answer NO_BUCKET then). Set on SELECT_BUCKET and whenever RBAC changes,
   * so a request's privilege check is one AND.
   */
  lacking = 0;
  /** Config revision last sent to this client (pushes skip what it already has). */
  pushedRev = 0;

  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private start = 0;
  private pos = 0;
  private readonly queued: Buffer[] = [];
  /** Waiting for the write-ahead log before the responses of the last chunk may go out. */
  private waitingForLog = false;
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
  private paused = false;

  constructor(node: NodeContext, socket: Socket, commands: CommandTable) {
    this.node = node;
    this.socket = socket;
    this.reader = new RequestReader(node.maxBodyLength);
    this.commands = commands;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => debug('kv conn %d (node %d): socket error: %s', this.id, node.index, err.message));
    socket.on('close', () => {
      this.closed = true;
      if (this.reader.bufferedBytes > 0) {
        debug('kv conn %d (node %d): closed with %d bytes of an unfinished frame', this.id, node.index, this.reader.bufferedBytes);
      }
      node.connectionClosed(this);
    });
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
    this.socket.destroy();
  }

  // ---- input ------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending !== undefined) return;
    this.reader.push(chunk);
    if (!this.waitingForLog) this.processFrames();
  }

  private processFrames(): void {
    const commands = this.commands;
    const reader = this.reader;
    const req = this.req;
    const log = this.node.log;
    let mutated = false;
    while (!this.closed && this.ending === undefined) {
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
      const cmd = commands[req.opcode];
      if (cmd === undefined) {
        this.respondStatus(req, Status.UNKNOWN_COMMAND);
        continue;
      }
      if ((cmd.needs & this.lacking) !== 0) {
        this.respondStatus(req, Status.EACCESS);
        continue;
      }
      const markQueued = this.queued.length;
      const markSlab = this.pos - this.start;
      const counted = this.store;
      if (counted !== undefined) counted.counters.requests[req.opcode]++;
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
      if (this.mutated) {
        this.mutated = false;
        mutated = true;
        if (log !== undefined) this.undurable.push(markQueued, markSlab, this.queued.length, this.pos - this.start, req.opcode, req.opaque);
      }
    }
    if (mutated && log !== undefined && log.pending()) {
      this.waitingForLog = true;
      log.whenDurable((err) => {
        this.waitingForLog = false;
        this.answer(err);
        if (!this.closed) this.processFrames();
      });
      return;
    }
    this.answer(undefined);
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
    const marks = this.undurable;
    if (marks.length === 0) return;
    const status = err instanceof StoreError ? err.status : Status.ETMPFAIL;
    // A slab region not yet queued starts where the mark's offsets count from: queue it first.
    if (this.pos > this.start) {
      this.queued.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
    const before = [0];
    for (const b of this.queued) before.push(before[before.length - 1] + b.length);
    const out = Buffer.concat(this.queued);
    this.queued.length = 0;
    let from = 0;
    for (let i = 0; i < marks.length; i += 6) {
      const answer = Buffer.allocUnsafe(24);
      writeHeader(answer, 0, Magic.RESPONSE, marks[i + 4], 0, 0, 0, status, 0, marks[i + 5], 0n);
      this.queued.push(out.subarray(from, before[marks[i]] + marks[i + 1]), answer);
      from = before[marks[i + 2]] + marks[i + 3];
    }
    this.queued.push(out.subarray(from));
  }

  private onDrain(): void {
    if (this.paused && !this.closed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  // ---- output -----------------------------------------------------------------------------------

  /** Space for `n` more bytes at `this.pos`; returns the slab to write into. */
  reserve(n: number): Buffer {
    if (this.pos + n > this.slab.length) {
      if (this.pos > this.start) this.queued.push(this.slab.subarray(this.start, this.pos));
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      this.start = 0;
      this.pos = 0;
    }
    return this.slab;
  }

  /** Writes everything queued since the last flush in one go. */
  flush(): void {
    if (this.pos > this.start) {
      this.queued.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      // Leftover slab space too small to be useful: start afresh next time.
      if (this.slab.length - this.pos < 512) {
        this.slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.start = this.pos = 0;
      }
    }
    const q = this.queued;
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
    if (!ok && !this.paused) {
      // The client is not reading its responses: stop reading its requests until it does.
      this.paused = true;
      this.socket.pause();
    }
  }

  /**
   * Appends one response. `value` may be large (then it is queued by reference, not copied).
   * Statuses LOCKED / NOT_LOCKED become ETMPFAIL for clients that did not negotiate XERROR.
   */
  respond(req: Packet, status: number, cas: bigint, extras: Buffer, key: Buffer, value: Buffer, datatype: number): void {
    if (status === Status.LOCKED || status === Status.NOT_LOCKED) {
      if ((this.features & Feat.XERROR) === 0) status = Status.ETMPFAIL;
    }
    const head = 24 + extras.length + key.length;
    const body = extras.length + key.length + value.length;
    const inline = value.length < COPY_LIMIT;
    const slab = this.reserve(inline ? head + value.length : head);
    let p = this.pos;
    writeHeader(slab, p, Magic.RESPONSE, req.opcode, key.length, extras.length, datatype, status, body, req.opaque, cas);
    p += 24;
    if (extras.length !== 0) p += extras.copy(slab, p);
    if (key.length !== 0) p += key.copy(slab, p);
    if (inline) {
      if (value.length !== 0) p += value.copy(slab, p);
      this.pos = p;
    } else {
      this.pos = p;
      this.queued.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      this.queued.push(value);
    }
  }

  respondStatus(req: Packet, status: number): void {
    this.respond(req, status, 0n, EMPTY, EMPTY, EMPTY, 0);
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
    const slab = this.reserve(inline ? 24 + body : 28 + keyLen);
    let p = this.pos;
    const datatype = ((this.features & Feat.JSON) !== 0 ? item.datatype : 0) | (packed !== undefined ? DATATYPE_SNAPPY : 0);
    writeHeader(slab, p, Magic.RESPONSE, req.opcode, keyLen, 4, datatype, 0, body, req.opaque, cas);
    writeFlagsExtras(slab, p + 24, item.flags);
    p += 28;
    if (keyLen !== 0) p += key.copy(slab, p);
    if (inline) {
      p += value.copy(slab, p);
      this.pos = p;
    } else {
      this.pos = p;
      this.queued.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
      this.queued.push(value);
    }
  }

  /** Mutation success: CAS, plus a mutation token when MUTATION_SEQNO was negotiated. */
  respondMutation(req: Packet, cas: bigint, vbucket: number, seqno: bigint, value: Buffer = EMPTY): void {
    this.mutated = true;
    if ((this.features & Feat.MUTATION_SEQNO) === 0) {
      this.respond(req, Status.SUCCESS, cas, EMPTY, EMPTY, value, 0);
      return;
    }
    const slab = this.reserve(24 + 16 + value.length);
    const p = this.pos;
    writeHeader(slab, p, Magic.RESPONSE, req.opcode, 0, 16, 0, 0, 16 + value.length, req.opaque, cas);
    writeMutationToken(slab, p + 24, this.store!.vbucketUuid(vbucket), seqno);
    if (value.length !== 0) value.copy(slab, p + 40);
    this.pos = p + 40 + value.length;
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
   * The document id of a request, with the collection prefix stripped (only the default
   * collection exists). Answers and returns undefined when the key is unusable.
   */
  docKey(req: KvRequest): string | undefined {
    const len = req.keyLength;
    let skip = 0;
    if ((this.features & Feat.COLLECTIONS) !== 0) {
      if (len === 0) {
        this.respondStatus(req, Status.EINVAL);
        return undefined;
      }
      if (req.keyByte(0) !== 0) {
        // Non-default collection id (LEB128); only _default._default (id 0) exists.
        let i = 0;
        while (i < len && i < 5 && (req.keyByte(i) & 0x80) !== 0) i++;
        if (i >= len || i >= 5) {
          this.respondStatus(req, Status.EINVAL);
          return undefined;
        }
        this.respond(req, Status.UNKNOWN_COLLECTION, 0n, EMPTY, EMPTY, Buffer.from('{"manifest_uid":"0"}'), DATATYPE_JSON);
        return undefined;
      }
      skip = 1;
    }
    if (len - skip === 0 || len - skip > MAX_KEY_BYTES) {
      this.respondStatus(req, Status.EINVAL);
      return undefined;
    }
    return req.keyString(skip);
  }

  /**
   * Checks that a bucket is selected and this node holds the active copy of the request's
   * vBucket (or a replica, for replica reads). Answers and returns undefined otherwise.
   */
  ownedStore(req: Packet, replica = false): DocumentStore | undefined {
    const store = this.store;
    if (store === undefined) {
      this.respondStatus(req, this.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
      return undefined;
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
      this.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, this.node.bucketConfigJson(store.name), DATATYPE_JSON);
      return undefined;
    }
    return store;
  }

  /**
   * Parses framing extras. Answers and returns undefined on a frame we do not honour.
   * Plain (0x80) requests have none: returns the shared "no options" object.
   */
  frameOptions(req: Packet): FrameOptions | undefined {
    if (req.framingExtras.length === 0) return NO_FRAME_OPTIONS;
    const opts: FrameOptions = { preserveTtl: false, durabilityLevel: 0 };
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
          }
          // One logical copy serves every replica, and the log is durable before the ack:
          // every level is met as soon as the write is, provided the replicas exist at all.
          if (this.node.topology.members.length < this.node.topology.replicas + 1) {
            this.respondStatus(req, Status.DURABILITY_IMPOSSIBLE);
            return undefined;
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
    return opts;
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

const NO_FRAME_OPTIONS: FrameOptions = Object.freeze({ preserveTtl: false, durabilityLevel: 0 });
