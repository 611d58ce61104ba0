// What the KV front end admits and holds: frames before and after authentication (kv_engine's 16 KiB
// and 30 MiB), the authentication timeout, the number of connections, memory that grows with the
// bytes that really arrived, and flow control: a connection whose answers wait (for the log, or
// for a peer that does not read them) is not read, and other clients keep being served.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import { Opcode, Status, encodePacket, Magic, vbucketOf } from '../../lib/protocol';
import { RawClient } from './raw-client';
import { handshake, request } from '../fuzz/kv-frames';

const MiB = 1024 * 1024;

function header(opcode: number, bodyLength: number, keyLength = 0, extrasLength = 0): Buffer {
  const h = Buffer.alloc(24);
  h[0] = Magic.REQUEST;
  h[1] = opcode;
  h.writeUInt16BE(keyLength, 2);
  h[4] = extrasLength;
  h.writeUInt32BE(bodyLength, 8);
  return h;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('server KV: admission limits and flow control', function () {
  this.timeout(60_000);

  describe('frames, authentication time and connections (in process)', () => {
    let cluster: Cluster;
    let port: number;
    const clients: RawClient[] = [];

    before(async () => {
      cluster = await Cluster.start({ queryService: null, viewsService: null, kvLimits: { authTimeoutMs: 400, maxConnections: 40 } });
      port = cluster.nodes[0].ports.kv;
    });

    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });

    after(async () => {
      await cluster.stop();
    });

    async function connect(login = true): Promise<RawClient> {
      const c = await RawClient.connect(port);
      clients.push(c);
      if (login) await c.login('Administrator', 'password', 'default');
      return c;
    }

    it('before authentication a frame may be 16 KiB (kv_engine); one byte more closes the connection at its header', async () => {
      const ok = await connect(false);
      const hello = await ok.request({ opcode: Opcode.HELLO, key: 'a'.repeat(100), value: Buffer.alloc(16 * 1024 - 24 - 100) });
      expect(hello.status).to.equal(Status.SUCCESS);
      const big = await connect(false);
      big.write(header(Opcode.HELLO, 16 * 1024 - 24 + 1));
      await big.waitClosed();
      // after authentication the same frame is nothing special
      const authed = await connect();
      expect((await authed.request({ opcode: Opcode.HELLO, value: Buffer.alloc(16 * 1024) })).status).to.equal(Status.SUCCESS);
    });

    it('a connection that has not authenticated in time is closed, trickling bytes or not; authenticated ones stay', async () => {
      const idle = await connect(false);
      const trickle = await connect(false);
      const authed = await connect();
      const started = Date.now();
      const frame = trickle.frame({ opcode: Opcode.SASL_LIST_MECHS });
      let i = 0;
      const drip = setInterval(() => {
        if (!trickle.closed) trickle.write(frame.subarray(i % frame.length, (i % frame.length) + 1));
        i++;
      }, 20);
      try {
        await Promise.all([idle.waitClosed(5000), trickle.waitClosed(5000)]);
      } finally {
        clearInterval(drip);
      }
      expect(Date.now() - started).to.be.within(300, 4000);
      await sleep(500);
      expect(authed.closed).to.equal(false);
      expect((await authed.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('a header announcing 20 MiB makes the server hold what arrived, not what was announced', async () => {
      const conns = await Promise.all(Array.from({ length: 30 }, () => connect()));
      const before = process.memoryUsage().arrayBuffers;
      for (const c of conns) c.write(Buffer.concat([header(Opcode.SET, 20 * MiB, 1, 8), Buffer.alloc(10)]));
      await sleep(300);
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(grown).to.be.below(64 * MiB);
      // and each connection still takes the rest of its frame when it comes
      const c = conns[0];
      c.write(Buffer.alloc(20 * MiB - 10, 0x61));
      const [res] = await c.take(1, 10_000);
      expect(res.status).to.equal(Status.SUCCESS);
    });

    async function stats(c: RawClient): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      c.write(c.frame({ opcode: Opcode.STAT }));
      for (;;) {
        const [p] = await c.take(1);
        if (p.key.length === 0) return out;
        out.set(p.key.toString(), p.value.toString());
      }
    }

    it('past maxConnections a connection is accepted and closed at once, and STAT counts it', async () => {
      const first = await connect();
      // the earlier tests' connections are gone on the server's side too
      while ((await stats(first)).get('curr_connections') !== '1') await sleep(50);
      const open = [first, ...(await Promise.all(Array.from({ length: 39 }, () => connect())))];
      const extra = await RawClient.connect(port);
      clients.push(extra);
      await extra.waitClosed();
      const now = await stats(open[0]);
      expect(now.get('curr_connections')).to.equal('40');
      expect(now.get('max_conns')).to.equal('40');
      expect(now.get('rejected_conns')).to.equal('1');
      open[1].close();
      while ((await stats(first)).get('curr_connections') !== '39') await sleep(50);
      expect((await (await connect()).request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('a value between 20 MiB and the 30 MiB packet limit is E2BIG; a frame past 30 MiB closes the connection', async () => {
      const c = await connect();
      expect((await c.set('v25', Buffer.alloc(25 * MiB, 0x62))).status).to.equal(Status.E2BIG);
      expect(cluster.bucket('default').get('v25')).to.equal(undefined);
      const sub = await c.request({
        opcode: Opcode.SUBDOC_MULTI_MUTATION,
        key: 'v25',
        vbucket: c.vb('v25'),
        value: Buffer.concat([Buffer.from([Opcode.SET, 0, 0, 0, 0x01, 0x90, 0, 0]), Buffer.alloc(25 * MiB, 0x31)]),
      });
      expect(sub.status).to.equal(Status.E2BIG);
      expect((await c.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
      c.write(header(Opcode.SET, 30 * MiB - 24 + 1, 1, 8));
      await c.waitClosed();
    });
  });

  describe('while answers wait for the write-ahead log (in process)', () => {
    let cluster: Cluster;
    let release: () => void = () => undefined;

    before(async () => {
      cluster = await Cluster.start({ queryService: null, viewsService: null });
    });

    after(async () => {
      release();
      await cluster.stop();
    });

    it('the connection is not read until the log is durable', async () => {
      const waiting: Array<(err?: Error) => void> = [];
      const stalled: NonNullable<Cluster['log']> = { pending: () => true, whenDurable: (cb) => void waiting.push(cb) };
      const real = cluster.log;
      cluster.log = stalled;
      release = () => {
        cluster.log = real;
        for (const cb of waiting.splice(0)) cb();
      };
      const socket = net.connect(cluster.nodes[0].ports.kv, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(handshake('Administrator', 'password', 'default', []));
      await sleep(100);
      const frames: Buffer[] = [];
      for (let i = 0; i < 512; i++) {
        const key = `logwait-${i}`;
        frames.push(request(Opcode.SETQ, { key, extras: Buffer.alloc(8), value: Buffer.alloc(100, 0x61), vbucket: vbucketOf(key, 1024) }));
      }
      const chunk = Buffer.concat(frames); // 64 KiB and more
      let sent = 0;
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline && sent < 64 * MiB) {
        sent += chunk.length;
        if (socket.write(chunk)) continue;
        const drained = await Promise.race([new Promise<boolean>((r) => socket.once('drain', () => r(true))), sleep(deadline - Date.now()).then(() => false)]);
        if (!drained) break;
      }
      // what the kernel's buffers take, and no more: the server stopped reading after the first batch
      expect(sent).to.be.below(16 * MiB);
      expect(waiting.length).to.equal(1);
      release();
      socket.destroy();
    });
  });

  describe('clients that never read their answers (the server in a child process)', () => {
    const fixture = path.join(__dirname, 'fixtures', 'kv-node.js');
    let child: ChildProcess;
    let port: number;

    async function startNode(setup: object): Promise<void> {
      child = spawn(process.execPath, [fixture, JSON.stringify(setup)], { stdio: ['ignore', 'pipe', 'inherit'] });
      port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /READY (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`kv-node exited with ${code}`)));
      });
    }

    afterEach(() => {
      child?.kill('SIGKILL');
    });

    function rssKb(): number {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m![1]);
    }

    /** A connection that authenticates, then writes GETs of `key` as fast as the server takes them, and reads nothing. */
    async function flooder(key: string): Promise<net.Socket> {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.on('error', () => undefined);
      socket.write(handshake('Administrator', 'password', 'default', []));
      const get = encodePacket({ magic: Magic.REQUEST, opcode: Opcode.GET, key, vbucket: vbucketOf(key, 1024) });
      const chunk = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / get.length) }, () => get));
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk));
      };
      socket.on('drain', pump);
      pump();
      return socket;
    }

    /** A client that reads its answers: `rounds` SETs and GETs, each answered within 5 s. */
    async function wellBehaved(rounds: number): Promise<number> {
      const c = await RawClient.connect(port);
      try {
        await c.login('Administrator', 'password', 'default');
        let slowest = 0;
        for (let i = 0; i < rounds; i++) {
          const t = Date.now();
          expect((await c.set(`good-${i}`, `{"i":${i}}`)).status).to.equal(Status.SUCCESS);
          expect((await c.get(`good-${i}`)).value.toString()).to.equal(`{"i":${i}}`);
          slowest = Math.max(slowest, Date.now() - t);
          await sleep(10);
        }
        return slowest;
      } finally {
        c.close();
      }
    }

    for (const [name, setup, key, boundMb] of [
      ['GETs of a 12 KiB document (copied into each answer)', {}, 'doc12k', 150],
      ['GETs of a 1 MiB document (answers by reference)', {}, 'doc1m', 150],
      ['GETs of a 12 KiB document with a 16 MiB budget for all connections', { kvLimits: { totalOutputBytes: 16 * MiB } }, 'doc12k', 80],
    ] as const) {
      it(`16 flooders of ${name}: server memory stays bounded and another client is served`, async () => {
        await startNode({ ...setup, docs: { doc12k: 12 * 1024, doc1m: MiB } });
        await sleep(200);
        const base = rssKb();
        const flooders = await Promise.all(Array.from({ length: 16 }, () => flooder(key)));
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, rssKb())), 50);
        try {
          await sleep(1500);
          const slowest = await wellBehaved(30);
          expect(slowest).to.be.below(5000);
          await sleep(500);
        } finally {
          clearInterval(sampler);
          for (const s of flooders) s.destroy();
        }
        expect((peak - base) / 1024, `server RSS grew from ${(base / 1024).toFixed(0)} MiB to ${(peak / 1024).toFixed(0)} MiB`).to.be.below(boundMb);
      });
    }
  });
});
