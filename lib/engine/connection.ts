// One socket to one KV node: bootstrap handshake, opaque -> pending map, frame splitting and
// write coalescing. Routing, retries and timeouts live in the engine; this module only moves
// frames and reports what happened.
import * as net from 'node:net';
import * as tls from 'node:tls';
import createDebug from 'debug';
import EventEmitter from 'eventemitter3';
import { FrameDecoder, Magic, HEADER_LENGTH, writeHeader, type Packet } from '../protocol/packet';
import { Opcode, ServerOpcode, opcodeName } from '../protocol/opcodes';
import { Status } from '../protocol/status';
import { HelloFeature, encodeHelloFeatures, decodeHelloFeatures } from '../protocol/hello';
import { readServerDuration } from '../protocol/framing';
import { parseErrorMap, type ErrorMap } from '../protocol/errormap';
import { ScramClient, encodePlain, type ScramMechanism } from '../protocol/sasl';
import { AuthError, BucketNotFoundError, CouchbaseError, NetworkError, ProtocolError, TimeoutError, errorForStatus, parseXerror, socketError } from './errors';
import type { SaslMech } from './connstr';
import { PendingTable } from './pending-table';

const debug = createDebug('deferbase:engine:conn');
/** Server durations of responses (connection string enable_tracing=true). */
const trace = createDebug('deferbase:trace');

let opaqueCounter = 0;
/** Engine-wide opaque: unique across connections, so a late reply can never match a new op. */
export function nextOpaque(): number {
  opaqueCounter = (opaqueCounter + 1) >>> 0;
  if (opaqueCounter === 0) opaqueCounter = 1;
  return opaqueCounter;
}

/** Something waiting for a reply on a connection. */
export interface PendingRequest {
  opaque: number;
  /** Return false while more packets belong to this opaque (STAT). */
  onPacket(p: Packet, conn: KvConnection): boolean;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  tls: tls.ConnectionOptions | null;
  /** null: no SELECT_BUCKET (cluster-level connection). */
  bucket: string | null;
  username: string;
  password: string;
  /** Mechanisms to try, in order of preference. */
  saslMechs: SaslMech[];
  /** HELLO features to ask for. */
  features: number[];
  agent: string;
  connectTimeoutMs: number;
  fetchErrorMap: boolean;
  tcpNoDelay: boolean;
  tcpKeepAlive: boolean;
  /** Address family for name resolution: 4, 6, or 0 for either. */
  family: 0 | 4 | 6;
}

export type ConnectionState = 'connecting' | 'bootstrapping' | 'ready' | 'closed';

export interface ConnectionEvents {
  /** Bootstrap finished; `config` is the GET_CLUSTER_CONFIG body (null when the node had none). */
  ready: (config: string | null) => void;
  /** The connection is gone; `pending` are the requests that never got their reply. */
  close: (err: CouchbaseError | null, pending: PendingRequest[]) => void;
  /** A cluster map the server pushed (text), or '' when it only said the map changed. */
  config: (text: string) => void;
  /** A reply no request waits for any more (it timed out or was cancelled): the tracer's orphans. */
  orphan: (p: Packet) => void;
}

function encodeRequest(opcode: number, key: string | Buffer, value: Buffer | string, opaque: number, extras?: Buffer, vbucket = 0): Buffer {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const ex = extras ?? Buffer.alloc(0);
  const body = ex.length + k.length + v.length;
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + body);
  writeHeader(buf, 0, Magic.REQUEST, opcode, k.length, ex.length, 0, vbucket, body, opaque, 0n);
  let p = HEADER_LENGTH;
  p += ex.copy(buf, p);
  p += k.copy(buf, p);
  v.copy(buf, p);
  return buf;
}

let connectionSeq = 0;

export class KvConnection extends EventEmitter<ConnectionEvents> {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  state: ConnectionState = 'connecting';
  /** Features the server acknowledged in HELLO. */
  readonly features = new Set<number>();
  /** Mechanisms the server listed. */
  serverMechs: string[] = [];
  /** The error map the server sent, if any: it decides about statuses (kv/error-map.ts). */
  errorMap: ErrorMap | null = null;
  readonly pending = new PendingTable<PendingRequest>();
  /** True once HELLO acknowledged DUPLEX + CLUSTERMAP_CHANGE_NOTIFICATION. */
  pushConfigs = false;
  xerror = false;
  mutationSeqno = false;
  json = false;
  /** HELLO acknowledged SNAPPY: values may go (and come) compressed. */
  snappy = false;
  /** HELLO acknowledged COLLECTIONS: every key carries its collection id (kv/collections.ts). */
  collections = false;

  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder();
  private readonly opts: ConnectionOptions;
  /** Frames queued this tick (see write). */
  private out: Buffer[] = [];
  private connectTimer: NodeJS.Timeout | null;
  private closing = false;

  constructor(opts: ConnectionOptions) {
    super();
    this.opts = opts;
    this.host = opts.host;
    this.port = opts.port;
    this.id = `${opts.host}:${opts.port}#${++connectionSeq}`;
    const family = opts.family || undefined;
    const sock = opts.tls
      ? // tls.connect hands `family` to the socket's connect(); its typings just do not list it.
        tls.connect({ ...opts.tls, host: opts.host, port: opts.port, family, servername: net.isIP(opts.host) ? undefined : opts.host } as tls.ConnectionOptions)
      : net.connect({ host: opts.host, port: opts.port, family });
    this.socket = sock;
    sock.setNoDelay(opts.tcpNoDelay);
    if (opts.tcpKeepAlive) sock.setKeepAlive(true, 30000);
    this.connectTimer = setTimeout(() => {
      this.destroy(new TimeoutError(`connecting to ${opts.host}:${opts.port} took longer than ${opts.connectTimeoutMs} ms (config_node_timeout); check the host and port`));
    }, opts.connectTimeoutMs);
    sock.once(opts.tls ? 'secureConnect' : 'connect', () => this.bootstrap());
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED';
      // While connecting, the class Python raises for the cause (UnknownHostError for DNS, ...).
      const e = this.state === 'connecting' ? socketError(`cannot connect to ${opts.host}:${opts.port}: ${err.message}${refused ? '; is the server running?' : ''}`, err) : new NetworkError(`connection to ${opts.host}:${opts.port} failed: ${err.message}`, { cause: err });
      this.destroy(e);
    });
    sock.on('close', () => this.destroy(new NetworkError(`connection to ${opts.host}:${opts.port} was closed by the server`)));
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** When data last arrived (ms since the epoch), for diagnostics(). */
  lastActivity = 0;

  /** This socket's local and remote `host:port`, for diagnostics(). */
  get addresses(): { local: string; remote: string } {
    const s = this.socket;
    return { local: `${s.localAddress ?? ''}:${s.localPort ?? 0}`, remote: `${this.host}:${this.port}` };
  }

  /**
   * Queues a frame; frames written in the same tick go out in one socket write. Joining them
   * costs a memcpy of the frames (a few KB with 128 operations in flight), where one
   * socket.write per frame, even corked, costs a trip through the stream machinery each.
   */
  write(buf: Buffer): void {
    if (this.state === 'closed') return;
    if (this.out.length === 0) process.nextTick(flushOut, this);
    this.out.push(buf);
  }

  /** @internal */
  flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    if (this.state !== 'closed') this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  }

  send(req: PendingRequest, frame: Buffer): void {
    this.pending.set(req.opaque, req);
    this.write(frame);
  }

  /** Forgets a request (timed out / cancelled); its late reply will be dropped. */
  forget(opaque: number): void {
    this.pending.delete(opaque);
  }

  /** Closes the connection; pending requests are reported through 'close' with `err`. */
  destroy(err: CouchbaseError | null): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.socket.destroy();
    const pending = this.pending.values();
    this.pending.clear();
    debug('%s closed (%s), %d pending', this.id, err ? err.message : 'requested', pending.length);
    this.emit('close', err, pending);
    this.removeAllListeners();
  }

  /** Closes without an error: pending requests are still reported through 'close'. */
  close(): void {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    this.destroy(null);
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    this.decoder.push(chunk);
    let p: Packet | null;
    for (;;) {
      try {
        p = this.decoder.next();
      } catch (err) {
        this.destroy(new ProtocolError(`malformed frame from ${this.host}:${this.port}: ${(err as Error).message}; the connection was reset`, { cause: err }));
        return;
      }
      if (p === null) return;
      if (p.magic === Magic.RESPONSE || p.magic === Magic.ALT_RESPONSE) {
        if (p.magic === Magic.ALT_RESPONSE && trace.enabled) this.traceDuration(p);
        const req = this.pending.get(p.opaque);
        if (req === undefined) {
          debug('%s dropped reply opaque=%d opcode=0x%s (timed out or unknown)', this.id, p.opaque, p.opcode.toString(16));
          this.emit('orphan', p);
          continue;
        }
        if (req.onPacket(p, this)) this.pending.delete(p.opaque);
        if (this.state === 'closed') return;
      } else if (p.magic === Magic.SERVER_REQUEST) {
        if (p.opcode === ServerOpcode.CLUSTERMAP_CHANGE_NOTIFICATION) this.emit('config', p.value.toString('utf8'));
      } else {
        this.destroy(new ProtocolError(`unexpected magic 0x${p.magic.toString(16)} from ${this.host}:${this.port}; the connection was reset`));
        return;
      }
    }
  }

  private traceDuration(p: Packet): void {
    const micros = readServerDuration(p.framingExtras);
    if (micros >= 0) trace('%s %s opaque=%d status=0x%s server=%dus', this.id, opcodeName(p.opcode), p.opaque, p.status.toString(16), Math.round(micros));
  }

  // --- bootstrap --------------------------------------------------------------------------

  private bootstrap(): void {
    if (this.state !== 'connecting') return;
    this.state = 'bootstrapping';
    const o = this.opts;
    const agent = JSON.stringify({ a: o.agent, i: this.id }).slice(0, 250);
    const hello = this.step(Opcode.HELLO, (p) => {
      if (p.status !== Status.SUCCESS) return this.fail(new NetworkError(`HELLO rejected by ${this.host}:${this.port} (status 0x${p.status.toString(16)})`));
      for (const f of decodeHelloFeatures(p.value)) this.features.add(f);
      this.xerror = this.features.has(HelloFeature.XERROR);
      this.json = this.features.has(HelloFeature.JSON);
      this.snappy = this.features.has(HelloFeature.SNAPPY);
      this.collections = this.features.has(HelloFeature.COLLECTIONS);
      this.mutationSeqno = this.features.has(HelloFeature.MUTATION_SEQNO);
      this.pushConfigs = this.features.has(HelloFeature.DUPLEX) && this.features.has(HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION);
    });
    const list = this.step(Opcode.SASL_LIST_MECHS, (p) => {
      if (p.status !== Status.SUCCESS) return this.fail(new AuthError(`${this.host}:${this.port} refused to list SASL mechanisms (status 0x${p.status.toString(16)})`, { status: p.status }));
      this.serverMechs = p.value.toString('utf8').split(/\s+/).filter(Boolean);
    });
    const frames = [
      encodeRequest(Opcode.HELLO, agent, encodeHelloFeatures(o.features), hello),
      encodeRequest(Opcode.SASL_LIST_MECHS, '', '', list),
    ];
    // HELLO, LIST_MECHS and the first SASL message go out in one write, as cxx does.
    frames.push(this.startAuth(0));
    for (const f of frames) this.write(f);
  }

  /** Registers a one-shot bootstrap reply handler; returns its opaque. */
  private step(opcode: number, fn: (p: Packet) => void): number {
    const opaque = nextOpaque();
    this.pending.set(opaque, {
      opaque,
      onPacket: (p) => {
        if (p.opcode !== opcode) {
          this.fail(new ProtocolError(`bootstrap reply with opcode 0x${p.opcode.toString(16)} where 0x${opcode.toString(16)} was expected`));
          return true;
        }
        fn(p);
        return true;
      },
    });
    return opaque;
  }

  private startAuth(index: number): Buffer {
    const o = this.opts;
    const mech = o.saslMechs[index];
    if (mech === 'PLAIN') {
      const opaque = this.step(Opcode.SASL_AUTH, (p) => this.onAuthReply(p, index, null));
      return encodeRequest(Opcode.SASL_AUTH, mech, encodePlain(o.username, o.password), opaque);
    }
    const scram = new ScramClient(mech as ScramMechanism, o.username, o.password);
    const opaque = this.step(Opcode.SASL_AUTH, (p) => this.onAuthReply(p, index, scram));
    return encodeRequest(Opcode.SASL_AUTH, mech, scram.clientFirst(), opaque);
  }

  private onAuthReply(p: Packet, index: number, scram: ScramClient | null): void {
    const mech = this.opts.saslMechs[index];
    if (p.status === Status.SUCCESS) return this.afterAuth();
    if (p.status === Status.AUTH_CONTINUE && scram) {
      let final: string;
      try {
        final = scram.clientFinal(p.value.toString('utf8'));
      } catch (err) {
        return this.fail(new AuthError(`SASL ${mech} with ${this.host}:${this.port} failed: ${(err as Error).message}`, { cause: err }));
      }
      const opaque = this.step(Opcode.SASL_STEP, (r) => {
        if (r.status !== Status.SUCCESS) return this.authFailed(r, index);
        try {
          if (r.value.length > 0) scram.verifyServerFinal(r.value.toString('utf8'));
        } catch (err) {
          return this.fail(new AuthError(`the server ${this.host}:${this.port} failed SCRAM verification (${(err as Error).message}); it may not know the password`, { cause: err }));
        }
        this.afterAuth();
      });
      this.write(encodeRequest(Opcode.SASL_STEP, mech, final, opaque));
      return;
    }
    this.authFailed(p, index);
  }

  private authFailed(p: Packet, index: number): void {
    // The mechanism was chosen before LIST_MECHS came back; if the server does not offer it,
    // try the next allowed one it does offer.
    const o = this.opts;
    const current = o.saslMechs[index];
    if (this.serverMechs.length > 0 && !this.serverMechs.includes(current)) {
      for (let i = index + 1; i < o.saslMechs.length; i++) {
        if (this.serverMechs.includes(o.saslMechs[i])) {
          debug('%s: server lacks %s, retrying with %s', this.id, current, o.saslMechs[i]);
          this.write(this.startAuth(i));
          return;
        }
      }
      return this.fail(new AuthError(`${this.host}:${this.port} offers SASL ${this.serverMechs.join(', ')} but this client allows ${o.saslMechs.join(', ')}; set sasl_mech_force or use couchbases:// for PLAIN`, { status: p.status }));
    }
    this.fail(new AuthError(`authentication as "${o.username}" failed on ${this.host}:${this.port}; check username and password`, { status: p.status }));
  }

  private afterAuth(): void {
    const o = this.opts;
    if (this.xerror && o.fetchErrorMap) {
      const opaque = this.step(Opcode.GET_ERROR_MAP, (p) => {
        if (p.status !== Status.SUCCESS) return; // optional for us: keep going without it
        try {
          this.errorMap = parseErrorMap(p.value);
        } catch (err) {
          debug('%s: error map ignored: %s', this.id, (err as Error).message);
        }
      });
      const v = Buffer.allocUnsafe(2);
      v.writeUInt16BE(2, 0);
      this.write(encodeRequest(Opcode.GET_ERROR_MAP, '', v, opaque));
    }
    if (o.bucket !== null) {
      const bucket = o.bucket;
      const opaque = this.step(Opcode.SELECT_BUCKET, (p) => {
        if (p.status === Status.SUCCESS) return;
        const x = parseXerror(p.value);
        if (p.status === Status.EACCESS || p.status === Status.KEY_ENOENT || p.status === Status.NO_BUCKET) {
          return this.fail(new BucketNotFoundError(`bucket "${bucket}" does not exist on ${this.host}:${this.port} or user "${o.username}" may not use it; check the bucket name`, { status: p.status, context: x.context, ref: x.ref }));
        }
        this.fail(errorForStatus(p.status, undefined, x.context, x.ref));
      });
      this.write(encodeRequest(Opcode.SELECT_BUCKET, bucket, '', opaque));
    }
    const opaque = this.step(Opcode.GET_CLUSTER_CONFIG, (p) => {
      if (this.state !== 'bootstrapping') return;
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.state = 'ready';
      const text = p.status === Status.SUCCESS && p.value.length > 0 ? p.value.toString('utf8') : null;
      debug('%s ready (features %o, config %s)', this.id, [...this.features], text ? 'yes' : 'no');
      this.emit('ready', text);
    });
    this.write(encodeRequest(Opcode.GET_CLUSTER_CONFIG, '', '', opaque));
  }

  private fail(err: CouchbaseError): void {
    this.destroy(err);
  }
}

function flushOut(conn: KvConnection): void {
  conn.flush();
}

// Simple request frames (no value transcoding) for the engine's control requests.
export { encodeRequest };
