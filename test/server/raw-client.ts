// A minimal raw memcached-binary client for byte-level tests of the embedded server.
import net from 'node:net';
import {
  FrameDecoder,
  Magic,
  Opcode,
  Status,
  encodePacket,
  encodePlain,
  ScramClient,
  vbucketOf,
  type Packet,
  type PacketInit,
  type ScramMechanism,
} from '../../lib/protocol';

export type RequestInit = Omit<PacketInit, 'magic'> & { magic?: number };

export class RawClient {
  readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder({ maxBodyLength: 64 * 1024 * 1024 });
  private readonly received: Packet[] = [];
  private waiters: Array<() => void> = [];
  private opaque = 1;
  closed = false;
  numVBuckets = 1024;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.decoder.push(chunk);
      for (let p = this.decoder.next(); p !== null; p = this.decoder.next()) {
        // Copy out of the socket chunk so tests can keep packets around.
        this.received.push({ ...p, framingExtras: Buffer.from(p.framingExtras), extras: Buffer.from(p.extras), key: Buffer.from(p.key), value: Buffer.from(p.value) });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  nextOpaque(): number {
    return this.opaque++;
  }

  /** Encodes a request (magic 0x80 unless given; opaque auto-assigned unless given). */
  frame(init: RequestInit): Buffer {
    return encodePacket({ magic: Magic.REQUEST, opaque: this.nextOpaque(), ...init } as PacketInit);
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** Waits for `n` packets in total beyond what was already taken; returns them. */
  async take(n: number, timeoutMs = 3000): Promise<Packet[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.received.length} of ${n} packets`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} packets (have ${this.received.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received.splice(0, n);
  }

  async request(init: RequestInit): Promise<Packet> {
    this.write(this.frame(init));
    return (await this.take(1))[0];
  }

  /** Resolves when the server closes the connection. */
  waitClosed(timeoutMs = 3000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server did not close the connection')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  vb(key: string): number {
    return vbucketOf(key, this.numVBuckets);
  }

  async hello(features: number[]): Promise<number[]> {
    const value = Buffer.alloc(features.length * 2);
    features.forEach((f, i) => value.writeUInt16BE(f, i * 2));
    const res = await this.request({ opcode: Opcode.HELLO, key: 'raw-test', value });
    const out: number[] = [];
    for (let i = 0; i < res.value.length; i += 2) out.push(res.value.readUInt16BE(i));
    return out;
  }

  async authPlain(user: string, password: string): Promise<number> {
    const res = await this.request({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain(user, password) });
    return res.status;
  }

  async authScram(mech: ScramMechanism, user: string, password: string): Promise<number> {
    const client = new ScramClient(mech, user, password);
    const first = await this.request({ opcode: Opcode.SASL_AUTH, key: mech, value: client.clientFirst() });
    if (first.status !== Status.AUTH_CONTINUE) return first.status;
    const final = await this.request({ opcode: Opcode.SASL_STEP, key: mech, value: client.clientFinal(first.value.toString()) });
    if (final.status === Status.SUCCESS) client.verifyServerFinal(final.value.toString());
    return final.status;
  }

  async selectBucket(name: string): Promise<number> {
    return (await this.request({ opcode: Opcode.SELECT_BUCKET, key: name })).status;
  }

  /** PLAIN auth + SELECT_BUCKET; throws unless both succeed. */
  async login(user: string, password: string, bucket?: string): Promise<void> {
    const a = await this.authPlain(user, password);
    if (a !== Status.SUCCESS) throw new Error(`auth failed: ${a}`);
    if (bucket !== undefined) {
      const s = await this.selectBucket(bucket);
      if (s !== Status.SUCCESS) throw new Error(`select bucket failed: ${s}`);
    }
  }

  set(key: string, value: string | Buffer, opts: { flags?: number; expiry?: number; cas?: bigint; opcode?: number; datatype?: number } = {}): Promise<Packet> {
    const extras = Buffer.alloc(8);
    extras.writeUInt32BE(opts.flags ?? 0, 0);
    extras.writeUInt32BE(opts.expiry ?? 0, 4);
    return this.request({ opcode: opts.opcode ?? Opcode.SET, key, value, extras, cas: opts.cas, vbucket: this.vb(key), datatype: opts.datatype });
  }

  get(key: string, opcode: number = Opcode.GET): Promise<Packet> {
    return this.request({ opcode, key, vbucket: this.vb(key) });
  }
}

export function features(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((f, i) => b.writeUInt16BE(f, i * 2));
  return b;
}
