// A scriptable fake Couchbase KV cluster for engine tests: raw TCP servers on 127.0.0.1:0 that
// speak the memcached binary protocol through lib/protocol. It does what a good server does
// (bootstrap, SCRAM, vBucket ownership, basic KV) unless a hook tells it to misbehave: answer
// late, drop the connection, send garbage, answer NOT_MY_VBUCKET forever...
import * as net from 'node:net';
import * as tls from 'node:tls';
import { FrameDecoder, encodePacket, Magic, type Packet, type PacketInit } from '../../../lib/protocol/packet';
import { Opcode, ServerOpcode } from '../../../lib/protocol/opcodes';
import { Status } from '../../../lib/protocol/status';
import { HelloFeature, decodeHelloFeatures, encodeHelloFeatures } from '../../../lib/protocol/hello';
import { ScramServer, decodePlain, type ScramMechanism } from '../../../lib/protocol/sasl';
import { vbucketOf } from '../../../lib/protocol/vbucket';

export interface FakeDoc {
  value: Buffer;
  flags: number;
  cas: bigint;
  expiry: number;
  locked: bigint;
  seqno: bigint;
}

export interface FakeOptions {
  nodes?: number;
  numVBuckets?: number;
  replicas?: number;
  bucket?: string;
  users?: Record<string, string>;
  /** Mechanisms listed by SASL_LIST_MECHS. */
  mechs?: string[];
  /** Features the server is willing to acknowledge. */
  features?: readonly number[];
  /** Serve the bucket config over KV (CCCP). */
  cccp?: boolean;
  /** Listen with TLS (advertised as kvSSL). */
  tls?: { key: string; cert: string } | null;
}

/** Return true when the hook answered (or deliberately ignored) the request. */
export type Hook = (req: Packet, conn: FakeConn, node: FakeNode) => boolean;

/** The HELLO features a fake node acknowledges unless told otherwise. */
export const DEFAULT_FEATURES: readonly number[] = [
  HelloFeature.TCP_NODELAY,
  HelloFeature.MUTATION_SEQNO,
  HelloFeature.XERROR,
  HelloFeature.SELECT_BUCKET,
  HelloFeature.JSON,
  HelloFeature.UNORDERED_EXECUTION,
];

export class FakeConn {
  readonly features = new Set<number>();
  bucket: string | null = null;
  authed = false;
  scram: ScramServer | null = null;
  constructor(
    readonly socket: net.Socket,
    readonly node: FakeNode,
  ) {}
  send(init: PacketInit): void {
    if (!this.socket.destroyed) this.socket.write(encodePacket(init));
  }
  reply(req: Packet, fields: Partial<Omit<PacketInit, 'magic' | 'opcode' | 'opaque'>> = {}): void {
    this.send({ magic: Magic.RESPONSE, opcode: req.opcode, opaque: req.opaque, ...fields });
  }
  /** Pushes a cluster map (only meaningful if DUPLEX + notifications were acknowledged). */
  pushConfig(text: string): void {
    this.send({ magic: Magic.SERVER_REQUEST, opcode: ServerOpcode.CLUSTERMAP_CHANGE_NOTIFICATION, opaque: 0, value: text, datatype: 1 });
  }
  get pushEnabled(): boolean {
    return this.features.has(HelloFeature.DUPLEX) && this.features.has(HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION);
  }
}

export class FakeNode {
  readonly conns = new Set<FakeConn>();
  /** Every request received (opcode list), for assertions. */
  readonly received: number[] = [];
  port = 0;
  constructor(
    readonly cluster: FakeCluster,
    readonly index: number,
    readonly server: net.Server,
  ) {}
  dropConnections(): void {
    for (const c of this.conns) c.socket.destroy();
  }
}

export class FakeCluster {
  readonly nodes: FakeNode[] = [];
  readonly store = new Map<string, FakeDoc>();
  readonly opts: Required<FakeOptions>;
  rev = 1;
  /** vbMap[vb] = [master, replica1, ...] node indexes (-1 none). */
  vbMap: number[][] = [];
  hook: Hook | null = null;
  private casCounter = 1000n;
  private seqno = 0n;
  readonly vbuuid = 0xabcdef01n;
  /** Nodes whose KV port is listed in the map but that are gone (failover tests). */
  private stopped = new Set<number>();

  private constructor(opts: FakeOptions) {
    this.opts = {
      nodes: opts.nodes ?? 1,
      numVBuckets: opts.numVBuckets ?? 16,
      replicas: opts.replicas ?? 0,
      bucket: opts.bucket ?? 'default',
      users: opts.users ?? { Administrator: 'password' },
      mechs: opts.mechs ?? ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1', 'PLAIN'],
      features: opts.features ?? DEFAULT_FEATURES,
      cccp: opts.cccp ?? true,
      tls: opts.tls ?? null,
    };
  }

  static async start(opts: FakeOptions = {}): Promise<FakeCluster> {
    const c = new FakeCluster(opts);
    for (let i = 0; i < c.opts.nodes; i++) {
      const server = c.opts.tls ? tls.createServer({ key: c.opts.tls.key, cert: c.opts.tls.cert }) : net.createServer();
      const node = new FakeNode(c, i, server);
      server.on(c.opts.tls ? 'secureConnection' : 'connection', (s: net.Socket) => c.accept(node, s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      node.port = (server.address() as net.AddressInfo).port;
      c.nodes.push(node);
    }
    c.assignVBuckets();
    return c;
  }

  get connectionString(): string {
    return `${this.opts.tls ? 'couchbases' : 'couchbase'}://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/${this.opts.bucket}`;
  }

  /** Spreads vBuckets round-robin over the live nodes (replicas on the following nodes). */
  assignVBuckets(live: number[] = this.nodes.map((n) => n.index).filter((i) => !this.stopped.has(i))): void {
    const map: number[][] = [];
    for (let vb = 0; vb < this.opts.numVBuckets; vb++) {
      const row: number[] = [];
      for (let r = 0; r <= this.opts.replicas; r++) row.push(live.length > r ? live[(vb + r) % live.length] : -1);
      map.push(row);
    }
    this.vbMap = map;
  }

  config(): string {
    return JSON.stringify({
      rev: this.rev,
      revEpoch: 1,
      name: this.opts.bucket,
      uuid: '0123456789abcdef0123456789abcdef',
      nodeLocator: 'vbucket',
      bucketCapabilities: ['cccp', 'couchapi', 'nodesExt'],
      nodesExt: this.nodes.map((n) => ({ hostname: '127.0.0.1', services: { kv: n.port, ...(this.opts.tls ? { kvSSL: n.port } : {}), ...(this.extraServices[n.index] ?? {}) } })),
      vBucketServerMap: {
        hashAlgorithm: 'CRC',
        numReplicas: this.opts.replicas,
        serverList: this.nodes.map((n) => `127.0.0.1:${n.port}`),
        vBucketMap: this.vbMap,
      },
    });
  }

  /** Extra service ports per node index (n1ql, capi, mgmt) advertised in nodesExt. */
  extraServices: Record<number, Record<string, number>> = {};

  /** Bumps the revision (after changing vbMap or services). */
  bumpRev(): void {
    this.rev++;
  }

  /** Simulates a failover: node stops answering, its vBuckets move to the others. */
  failover(index: number): void {
    this.stopped.add(index);
    const node = this.nodes[index];
    node.server.close();
    node.dropConnections();
    this.assignVBuckets();
    this.bumpRev();
  }

  nextCas(): bigint {
    return ++this.casCounter;
  }

  vbOf(key: Buffer | string): number {
    return vbucketOf(key, this.opts.numVBuckets);
  }

  /** Node index owning `key` (copy 0 = master). */
  ownerOf(key: string, copy = 0): number {
    return this.vbMap[this.vbOf(key)][copy];
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      n.dropConnections();
      await new Promise<void>((resolve) => n.server.close(() => resolve()));
    }
  }

  private accept(node: FakeNode, socket: net.Socket): void {
    if (this.stopped.has(node.index)) return void socket.destroy();
    const conn = new FakeConn(socket, node);
    node.conns.add(conn);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (;;) {
        let p: Packet | null;
        try {
          p = decoder.next();
        } catch {
          socket.destroy();
          return;
        }
        if (!p) return;
        node.received.push(p.opcode);
        if (this.hook && this.hook(p, conn, node)) continue;
        this.handle(p, conn, node);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => node.conns.delete(conn));
  }

  /** The default, well-behaved answer to `req`. */
  handle(req: Packet, conn: FakeConn, node: FakeNode): void {
    const o = this.opts;
    switch (req.opcode) {
      case Opcode.HELLO: {
        const wanted = decodeHelloFeatures(req.value);
        const acked = wanted.filter((f) => o.features.includes(f));
        for (const f of acked) conn.features.add(f);
        return conn.reply(req, { value: encodeHelloFeatures(acked) });
      }
      case Opcode.SASL_LIST_MECHS:
        return conn.reply(req, { value: o.mechs.join(' ') });
      case Opcode.SASL_AUTH: {
        const mech = req.key.toString();
        if (!o.mechs.includes(mech)) return conn.reply(req, { status: Status.AUTH_ERROR });
        if (mech === 'PLAIN') {
          const { username, password } = decodePlain(req.value);
          const ok = o.users[username] === password;
          conn.authed = ok;
          return conn.reply(req, { status: ok ? Status.SUCCESS : Status.AUTH_ERROR });
        }
        conn.scram = new ScramServer(mech as ScramMechanism, (u) => o.users[u], { iterations: 4096 });
        try {
          return conn.reply(req, { status: Status.AUTH_CONTINUE, value: conn.scram.serverFirst(req.value.toString()) });
        } catch {
          return conn.reply(req, { status: Status.AUTH_ERROR });
        }
      }
      case Opcode.SASL_STEP: {
        try {
          const final = conn.scram!.serverFinal(req.value.toString());
          conn.authed = true;
          return conn.reply(req, { value: final });
        } catch {
          return conn.reply(req, { status: Status.AUTH_ERROR });
        }
      }
      case Opcode.GET_ERROR_MAP:
        return conn.reply(req, { value: JSON.stringify({ version: 1, revision: 1, errors: {} }) });
      case Opcode.SELECT_BUCKET:
        if (!conn.authed) return conn.reply(req, { status: Status.EACCESS });
        if (req.key.toString() !== o.bucket) return conn.reply(req, { status: Status.EACCESS });
        conn.bucket = o.bucket;
        return conn.reply(req);
      case Opcode.GET_CLUSTER_CONFIG:
        if (!o.cccp) return conn.reply(req, { status: Status.UNKNOWN_COMMAND });
        if (!conn.bucket) return conn.reply(req, { status: Status.NO_BUCKET });
        return conn.reply(req, { value: this.config(), datatype: 1 });
      case Opcode.NOOP:
        return conn.reply(req);
    }
    if (!conn.bucket) return conn.reply(req, { status: Status.NO_BUCKET });
    this.handleData(req, conn, node);
  }

  private nmvb(req: Packet, conn: FakeConn): void {
    conn.reply(req, { status: Status.NOT_MY_VBUCKET, value: this.config(), datatype: 1 });
  }

  private mutated(req: Packet, conn: FakeConn, doc: FakeDoc | null, value?: Buffer): void {
    const extras = conn.features.has(HelloFeature.MUTATION_SEQNO) ? Buffer.alloc(16) : undefined;
    if (extras) {
      extras.writeBigUInt64BE(this.vbuuid, 0);
      extras.writeBigUInt64BE(doc ? doc.seqno : this.seqno, 8);
    }
    conn.reply(req, { cas: doc ? doc.cas : this.nextCas(), extras, value });
  }

  private handleData(req: Packet, conn: FakeConn, node: FakeNode): void {
    const key = req.key.toString();
    const vb = req.vbucket;
    const copy = req.opcode === Opcode.GET_REPLICA ? this.vbMap[vb]?.indexOf(node.index) : 0;
    const perVb = req.opcode !== Opcode.STAT && req.opcode !== Opcode.OBSERVE;
    if (perVb) {
      if (vb >= o(this).numVBuckets || this.vbOf(key) !== vb && key.length > 0) return this.nmvb(req, conn);
      if (req.opcode === Opcode.GET_REPLICA ? !(copy !== undefined && copy > 0) : this.vbMap[vb][0] !== node.index) return this.nmvb(req, conn);
    }
    let doc = this.store.get(key);
    const now = Math.floor(Date.now() / 1000);
    if (doc && doc.expiry && doc.expiry <= now) {
      this.store.delete(key);
      doc = undefined;
    }
    const isLocked = doc !== undefined && doc.locked !== 0n;
    const write = (value: Buffer, flags: number, expiry: number): FakeDoc => {
      const d: FakeDoc = { value: Buffer.from(value), flags, cas: this.nextCas(), expiry: expiry ? now + expiry : 0, locked: 0n, seqno: ++this.seqno };
      this.store.set(key, d);
      return d;
    };
    switch (req.opcode) {
      case Opcode.GET:
      case Opcode.GET_REPLICA:
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        return conn.reply(req, { extras: u32(doc.flags), value: doc.value, cas: isLocked ? 0xffffffffffffffffn : doc.cas, datatype: 0 });
      case Opcode.GAT:
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        doc.expiry = req.extras.readUInt32BE(0) ? now + req.extras.readUInt32BE(0) : 0;
        return conn.reply(req, { extras: u32(doc.flags), value: doc.value, cas: doc.cas });
      case Opcode.TOUCH:
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        doc.expiry = req.extras.readUInt32BE(0) ? now + req.extras.readUInt32BE(0) : 0;
        return conn.reply(req, { cas: doc.cas });
      case Opcode.SET:
      case Opcode.ADD:
      case Opcode.REPLACE: {
        if (req.opcode === Opcode.ADD && doc) return conn.reply(req, { status: Status.KEY_EEXISTS });
        if (req.opcode === Opcode.REPLACE && !doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        if (isLocked && req.cas !== doc!.locked) return conn.reply(req, { status: Status.LOCKED, datatype: 1, value: JSON.stringify({ error: { context: 'Requested resource is locked', ref: 'ref-1' } }) });
        if (req.cas !== 0n && (!doc || (doc.cas !== req.cas && doc.locked !== req.cas))) return conn.reply(req, { status: doc ? Status.KEY_EEXISTS : Status.KEY_ENOENT });
        const d = write(req.value, req.extras.readUInt32BE(0), req.extras.readUInt32BE(4));
        return this.mutated(req, conn, d);
      }
      case Opcode.APPEND:
      case Opcode.PREPEND: {
        if (!doc) return conn.reply(req, { status: Status.NOT_STORED });
        const v = req.opcode === Opcode.APPEND ? Buffer.concat([doc.value, req.value]) : Buffer.concat([req.value, doc.value]);
        const d = write(v, doc.flags, 0);
        return this.mutated(req, conn, d);
      }
      case Opcode.DELETE:
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        if (req.cas !== 0n && req.cas !== doc.cas) return conn.reply(req, { status: Status.KEY_EEXISTS });
        this.store.delete(key);
        this.seqno++;
        return this.mutated(req, conn, null);
      case Opcode.INCREMENT:
      case Opcode.DECREMENT: {
        const delta = req.extras.readBigUInt64BE(0);
        const initial = req.extras.readBigUInt64BE(8);
        const expiry = req.extras.readUInt32BE(16);
        let n: bigint;
        if (!doc) {
          if (expiry === 0xffffffff) return conn.reply(req, { status: Status.KEY_ENOENT });
          n = initial;
        } else {
          const text = doc.value.toString();
          if (!/^\d+$/.test(text)) return conn.reply(req, { status: Status.DELTA_BADVAL });
          n = BigInt(text);
          n = req.opcode === Opcode.INCREMENT ? (n + delta) & 0xffffffffffffffffn : n > delta ? n - delta : 0n;
        }
        const d = write(Buffer.from(n.toString()), 0, doc ? 0 : expiry);
        const v = Buffer.alloc(8);
        v.writeBigUInt64BE(n);
        return this.mutated(req, conn, d, v);
      }
      case Opcode.GET_LOCKED: {
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        if (isLocked) return conn.reply(req, { status: Status.LOCKED });
        doc.locked = this.nextCas();
        return conn.reply(req, { extras: u32(doc.flags), value: doc.value, cas: doc.locked });
      }
      case Opcode.UNLOCK_KEY:
        if (!doc) return conn.reply(req, { status: Status.KEY_ENOENT });
        if (!isLocked) return conn.reply(req, { status: Status.NOT_LOCKED });
        if (req.cas !== doc.locked) return conn.reply(req, { status: Status.LOCKED });
        doc.locked = 0n;
        return conn.reply(req);
      case Opcode.OBSERVE: {
        const v = req.value;
        const kl = v.readUInt16BE(2);
        const k = v.subarray(4, 4 + kl);
        const d = this.store.get(k.toString());
        const out = Buffer.alloc(4 + kl + 9);
        v.copy(out, 0, 0, 4 + kl);
        out[4 + kl] = d ? 0x01 : 0x80;
        out.writeBigUInt64BE(d ? d.cas : 0n, 5 + kl);
        return conn.reply(req, { value: out });
      }
      case Opcode.OBSERVE_SEQNO: {
        const out = Buffer.alloc(27);
        out[0] = 0;
        out.writeUInt16BE(vb, 1);
        out.writeBigUInt64BE(this.vbuuid, 3);
        out.writeBigUInt64BE(this.seqno, 11);
        out.writeBigUInt64BE(this.seqno, 19);
        return conn.reply(req, { value: out });
      }
      case Opcode.STAT:
        conn.reply(req, { key: 'curr_items', value: String(this.store.size) });
        conn.reply(req, { key: 'node_index', value: String(node.index) });
        return conn.reply(req);
      default:
        return conn.reply(req, { status: Status.UNKNOWN_COMMAND });
    }
  }
}

function o(c: FakeCluster): Required<FakeOptions> {
  return c.opts;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
