// DNS SRV seeds without touching the network: a tiny DNS server on 127.0.0.1 (reached through a
// dns.Resolver pointed at it), or a resolver object injected in its place.
import { expect } from 'chai';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { format } from 'node:util';
import createDebug from 'debug';
import { Cluster } from '../../lib/server';
import { Engine } from '../../lib/engine/engine';
import { parseConnstr } from '../../lib/engine/connstr';
import { resolveSeeds, srvName, wantsSrvLookup, type SrvResolver } from '../../lib/engine/dnssrv';
import { run, connect, close } from './helpers/engine';

const USER = { username: 'Administrator', password: 'password' };

/** A DNS server answering SRV questions from `records` (by name), NXDOMAIN for the rest. */
class TinyDns {
  readonly asked: string[] = [];
  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly records: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>,
  ) {
    socket.on('message', (msg, from) => this.answer(msg, from));
  }

  static async start(records: TinyDns['records']): Promise<TinyDns> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new TinyDns(socket, socket.address().port, records);
  }

  close(): void {
    this.socket.close();
  }

  private answer(msg: Buffer, from: dgram.RemoteInfo): void {
    // Header (12 bytes), then one question: labels, QTYPE, QCLASS.
    const labels: string[] = [];
    let p = 12;
    while (msg[p] !== 0) {
      labels.push(msg.subarray(p + 1, p + 1 + msg[p]).toString('ascii'));
      p += msg[p] + 1;
    }
    const question = msg.subarray(12, p + 5);
    const name = labels.join('.').toLowerCase();
    this.asked.push(name);
    const found = msg.readUInt16BE(p + 1) === 33 ? this.records[name] : undefined;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // response, recursion available, NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(found ? found.length : 0, 6);
    const answers = (found ?? []).map((r) => {
      const target = Buffer.concat([...r.target.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
      const rdata = Buffer.alloc(6);
      rdata.writeUInt16BE(r.priority, 0);
      rdata.writeUInt16BE(r.weight, 2);
      rdata.writeUInt16BE(r.port, 4);
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      fixed.writeUInt16BE(33, 2);
      fixed.writeUInt16BE(1, 4);
      fixed.writeUInt32BE(60, 6);
      fixed.writeUInt16BE(rdata.length + target.length, 10);
      return Buffer.concat([fixed, rdata, target]);
    });
    this.socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  }
}

describe('engine: DNS SRV seeds', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start({ nodes: 2, users: [USER], queryService: null, viewsService: null });
  });
  after(async () => cluster.stop());

  it('looks up couchbase+dnssrv://name as _couchbase._tcp.name through a real resolver and bootstraps from the targets', async () => {
    const server = await TinyDns.start({
      '_couchbase._tcp.db.example': [
        // Lower priority first: the first node; the second as a backup.
        { priority: 20, weight: 0, port: cluster.nodes[1].ports.kv, target: '127.0.0.1' },
        { priority: 10, weight: 0, port: cluster.nodes[0].ports.kv, target: '127.0.0.1' },
      ],
    });
    const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
    try {
      const e = new Engine('couchbase+dnssrv://db.example/default', { ...USER, srvResolver: resolver });
      await connect(e);
      expect(server.asked).to.deep.equal(['_couchbase._tcp.db.example']);
      await run(e, 'upsert', 'srv', { value: 1 });
      await close(e);
      const seeds = await new Promise<unknown>((r) => resolveSeeds(parseConnstr('couchbase+dnssrv://db.example'), resolver, 1000, r));
      expect(seeds).to.deep.equal([
        { host: '127.0.0.1', port: cluster.nodes[0].ports.kv, mode: 'kv', explicit: true },
        { host: '127.0.0.1', port: cluster.nodes[1].ports.kv, mode: 'kv', explicit: true },
      ]);
    } finally {
      server.close();
    }
  });

  it('looks a single host without a port up implicitly, as libcouchbase does (TLS: _couchbases._tcp)', async () => {
    const asked: string[] = [];
    const resolver: SrvResolver = {
      resolveSrv: (name, cb) => {
        asked.push(name);
        process.nextTick(cb, null, [{ name: '127.0.0.1', port: cluster.nodes[0].ports.kv, priority: 0, weight: 0 }]);
      },
    };
    const e = new Engine('couchbase://cluster.example/default', { ...USER, srvResolver: resolver });
    await connect(e);
    expect(asked).to.deep.equal(['_couchbase._tcp.cluster.example']);
    await close(e);
    expect(srvName('cluster.example', true)).to.equal('_couchbases._tcp.cluster.example');
    // A port, a port type, an address, localhost, several hosts or dnssrv=false: no lookup.
    for (const s of ['couchbase://h.example:11210=mcd', 'couchbase://h.example=http', 'couchbase://10.1.2.3', 'couchbase://localhost', 'couchbase://a.example,b.example', 'couchbase://h.example?dnssrv=false', 'http://h.example']) {
      expect(wantsSrvLookup(parseConnstr(s)), s).to.equal(false);
    }
    expect(wantsSrvLookup(parseConnstr('couchbases://h.example/b'))).to.equal(true);
  });

  it('falls back to the name itself when there is no record, or no answer in time, with a debug line', async () => {
    const lines: string[] = [];
    const previous = createDebug.log;
    const enabled = createDebug.disable();
    createDebug.enable('deferbase:engine');
    createDebug.log = (...args: unknown[]) => lines.push(format(...args));
    try {
      const server = await TinyDns.start({});
      const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
      resolver.setServers([`127.0.0.1:${server.port}`]);
      const spec = parseConnstr('couchbase+dnssrv://nothing.example');
      const none = await new Promise((r) => resolveSeeds(spec, resolver, 2000, r));
      server.close();
      expect(none).to.deep.equal(spec.hosts);
      expect(lines.join('\n')).to.match(/DNS SRV lookup of _couchbase\._tcp\.nothing\.example found no records \(ENOTFOUND\); bootstrapping from nothing\.example itself/);
      const silent: SrvResolver = { resolveSrv: () => {} };
      const t0 = Date.now();
      const late = await new Promise((r) => resolveSeeds(spec, silent, 50, r));
      expect(late).to.deep.equal(spec.hosts);
      expect(Date.now() - t0).to.be.lessThan(1000);
      expect(lines.join('\n')).to.match(/took longer than 50 ms; bootstrapping from nothing\.example itself/);
    } finally {
      createDebug.log = previous;
      createDebug.disable();
      if (enabled) createDebug.enable(enabled);
    }
  });
});
