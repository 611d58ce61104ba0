// The embedded cluster in the shapes real deployments have, and the engine against each: a
// single node naming itself by no hostname, nodes behind NAT with alternate addresses, TLS
// listeners, memcached buckets keeping each node's keys on that node.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster } from '../../lib/server';
import { Engine } from '../../lib/engine/engine';
import { ConnectError, NotSupportedError } from '../../lib/engine/errors';
import type { ValueResult } from '../../lib/engine/results';
import type { N1QLError } from '../../lib/engine/errors';
import { KetamaContinuum, Opcode, Status, parseConfig, type BucketConfig } from '../../lib/protocol';
import { run, fails, connect, close } from '../engine/helpers/engine';
import { RawClient } from './raw-client';

const USER = { username: 'Administrator', password: 'password' };

function query(engine: Engine, statement: string): Promise<{ rows: unknown[]; err?: N1QLError }> {
  return new Promise((resolve) => {
    const rows: unknown[] = [];
    engine.n1ql(statement, { onRows: (r) => rows.push(...r), onDone: () => resolve({ rows }), onError: (err) => resolve({ rows, err: err as N1QLError }) });
  });
}

async function kvConfig(port: number, bucket: string): Promise<BucketConfig> {
  const c = await RawClient.connect(port);
  try {
    await c.login(USER.username, USER.password, bucket);
    const p = await c.request({ opcode: Opcode.GET_CLUSTER_CONFIG });
    return JSON.parse(p.value.toString()) as BucketConfig;
  } finally {
    c.close();
  }
}

async function httpJson(port: number, p: string, scheme: 'http' | 'https' = 'http', ca?: string): Promise<any> {
  if (scheme === 'http') {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') } });
    return res.json();
  }
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, ca, auth: 'Administrator:password' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

describe('deployment shapes: a single node that never joined a cluster', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start({ users: [USER] });
  });
  after(async () => cluster.stop());

  it('serves its config over KV without a hostname, "$HOST" in serverList and nodes[]', async () => {
    const cfg = await kvConfig(cluster.nodes[0].ports.kv, 'default');
    expect(cfg.nodesExt).to.have.length(1);
    expect(cfg.nodesExt[0]).to.not.have.property('hostname');
    expect(cfg.nodesExt[0].thisNode).to.equal(true);
    expect(cfg.vBucketServerMap!.serverList).to.deep.equal([`$HOST:${cluster.nodes[0].ports.kv}`]);
    expect(cfg.nodes![0].hostname).to.equal(`$HOST:${cluster.nodes[0].ports.mgmt}`);
    expect(cfg.nodes![0].couchApiBase).to.match(/^http:\/\/\$HOST:\d+\/default%2B/);
  });

  it('answers "$HOST" over HTTP with the address the request came in on, as ns_server does', async () => {
    const terse = await httpJson(cluster.nodes[0].ports.mgmt, '/pools/default/b/default');
    expect(terse.vBucketServerMap.serverList).to.deep.equal([`127.0.0.1:${cluster.nodes[0].ports.kv}`]);
    expect(terse.nodesExt[0]).to.not.have.property('hostname');
    const pool = await httpJson(cluster.nodes[0].ports.mgmt, '/pools/default');
    expect(pool.nodes[0].hostname).to.equal(`127.0.0.1:${cluster.nodes[0].ports.mgmt}`);
  });

  it('is used by the engine at the address it reached: KV, query and views alike', async () => {
    const e = new Engine(`${cluster.connectionString}/default`, USER);
    await connect(e);
    expect(e.topology!.servers[0].named).to.equal(`127.0.0.1:${cluster.nodes[0].ports.kv}`);
    expect(e.topology!.nodesWith('n1ql', false)).to.deep.equal([{ host: '127.0.0.1', port: cluster.nodes[0].ports.n1ql }]);
    await run(e, 'upsert', 'solo', { value: { n: 1 } });
    expect((await run<ValueResult>(e, 'get', 'solo')).value).to.deep.equal({ n: 1 });
    expect((await query(e, 'SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    await close(e);
  });

  it('names its nodes once it has more than one', async () => {
    const two = await Cluster.start({ nodes: 2, users: [USER], queryService: null, viewsService: null });
    try {
      const cfg = await kvConfig(two.nodes[1].ports.kv, 'default');
      expect(cfg.nodesExt.map((n) => n.hostname)).to.deep.equal(['127.0.0.1', '127.0.0.1']);
      expect(cfg.vBucketServerMap!.serverList[0]).to.equal(`127.0.0.1:${two.nodes[0].ports.kv}`);
    } finally {
      await two.stop();
    }
  });
});

describe('deployment shapes: nodes behind NAT with alternate addresses', () => {
  let cluster: Cluster;
  before(async () => {
    // The nodes name themselves 127.0.0.9 (nothing listens there); outside, the cluster is
    // reachable only at 127.0.0.1 through forwarded ports, as through a NAT or node ports.
    cluster = await Cluster.start({ nodes: 2, users: [USER], advertiseHost: '127.0.0.9', alternateAddresses: { hostname: '127.0.0.1' } });
  });
  after(async () => cluster.stop());

  it('advertises the external address and forwarded ports of every service, and they listen', async () => {
    const cfg = await kvConfig(cluster.nodes[0].ports.kv, 'default');
    expect(cfg.nodesExt.map((n) => n.hostname)).to.deep.equal(['127.0.0.9', '127.0.0.9']);
    const ext = cfg.nodesExt.map((n) => n.alternateAddresses!.external);
    expect(ext.map((x) => x.hostname)).to.deep.equal(['127.0.0.1', '127.0.0.1']);
    for (const [i, x] of ext.entries()) {
      expect(Object.keys(x.ports!).sort()).to.deep.equal(['capi', 'kv', 'mgmt', 'n1ql']);
      expect(x.ports!.kv).to.not.equal(cluster.nodes[i].ports.kv);
      const forwarded = await httpJson(x.ports!.mgmt!, '/pools/default/b/default');
      expect(forwarded.name).to.equal('default');
    }
  });

  it('is reached by the engine through the external addresses (network=auto), for KV and query', async () => {
    const before = cluster.forwardedConnections;
    const e = new Engine(`${cluster.alternateConnectionString()}/default`, USER);
    await connect(e);
    expect(e.topology!.network).to.equal('external');
    expect(e.topology!.servers.map((s) => s.id)).to.deep.equal(cluster.nodes.map((n) => `127.0.0.9:${n.ports.kv}`));
    for (let i = 0; i < 20; i++) await run(e, 'upsert', `nat-${i}`, { value: i });
    expect((await run<ValueResult>(e, 'get', 'nat-7')).value).to.equal(7);
    expect((await query(e, 'SELECT 2 AS two')).rows).to.deep.equal([{ two: 2 }]);
    expect(cluster.forwardedConnections - before).to.be.at.least(3);
    await close(e);
  });

  it('fails connect() with network=default, naming the address the config gave and what to try', async () => {
    const e = new Engine(`${cluster.alternateConnectionString()}/default?network=default&config_total_timeout=3`, USER);
    const err = await fails(connect(e));
    expect(err).to.be.instanceOf(ConnectError);
    const names = cluster.nodes.map((n) => `127.0.0.9:${n.ports.kv}`).join(', ');
    expect(err.message).to.include(`config names nodes ${names}, unreachable from here; if the cluster is behind NAT or in Kubernetes, try network=external`);
    expect(err.message).to.match(/ECONNREFUSED/);
    // Operations fail with the same error instead of timing out.
    expect(await fails(run(e, 'get', 'x'))).to.equal(err);
    await close(e);
  });
});

describe('deployment shapes: a node in Docker reached through a port mapping', () => {
  it('fails connect() naming the address the config gave, instead of timing out every operation', async () => {
    // The node names itself 127.0.0.9 (its container address); the client reached it through a mapped port.
    const c = await Cluster.start({ users: [USER], advertiseHost: '127.0.0.9', alternateAddresses: { hostname: '127.0.0.1' }, queryService: null, viewsService: null });
    try {
      const e = new Engine(`${c.alternateConnectionString()}/default?network=default`, USER);
      const err = await fails(connect(e));
      expect(err.message).to.include(`config names node 127.0.0.9:${c.nodes[0].ports.kv}, unreachable from here; if the cluster is behind NAT or in Kubernetes, try network=external`);
      await close(e);
      const ok = new Engine(`${c.alternateConnectionString()}/default?network=external`, USER);
      await connect(ok);
      await run(ok, 'upsert', 'mapped', { value: 1 });
      await close(ok);
    } finally {
      await c.stop();
    }
  });
});

describe('deployment shapes: TLS listeners', () => {
  let cluster: Cluster;
  let caFile: string;
  before(async () => {
    cluster = await Cluster.start({ nodes: 2, users: [USER], tls: true });
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-ca-')), 'ca.pem');
    fs.writeFileSync(caFile, cluster.certificate!);
  });
  after(async () => {
    await cluster.stop();
    fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
  });

  it('presents a generated self-signed certificate for its address', () => {
    const x = new X509Certificate(cluster.certificate!);
    expect(x.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(x.ca).to.equal(true);
    expect(x.verify(x.publicKey)).to.equal(true);
  });

  it('advertises kvSSL, mgmtSSL, n1qlSSL and capiSSL, and serves the management API over TLS', async () => {
    const cfg = await kvConfig(cluster.nodes[0].ports.kv, 'default');
    for (const n of cfg.nodesExt) expect(Object.keys(n.services)).to.include.members(['kvSSL', 'mgmtSSL', 'n1qlSSL', 'capiSSL']);
    const terse = await httpJson(cluster.nodes[1].ports.mgmtSSL!, '/pools/default/b/default', 'https', cluster.certificate);
    expect(terse.name).to.equal('default');
  });

  it('is used by the engine over couchbases:// for KV and query, trusting the certificate', async () => {
    const e = new Engine(`${cluster.tlsConnectionString}/default?certpath=${encodeURIComponent(caFile)}`, USER);
    await connect(e);
    expect(e.topology!.servers.map((s) => s.port)).to.deep.equal(cluster.nodes.map((n) => n.ports.kvSSL));
    for (let i = 0; i < 10; i++) await run(e, 'upsert', `tls-${i}`, { value: { i } });
    expect((await run<ValueResult>(e, 'get', 'tls-3')).value).to.deep.equal({ i: 3 });
    expect((await query(e, 'SELECT 3 AS three')).rows).to.deep.equal([{ three: 3 }]);
    await close(e);
  });

  it('takes a certificate and key passed in', async () => {
    const { selfSignedCertificate } = await import('../../lib/server/tls/certificate');
    const given = selfSignedCertificate(['127.0.0.1']);
    const c = await Cluster.start({ users: [USER], tls: given, queryService: null, viewsService: null });
    try {
      expect(c.certificate).to.equal(given.cert);
      const e = new Engine(`${c.tlsConnectionString}/default?certpath=${encodeURIComponent(caFile)}&config_total_timeout=2`, USER);
      // The CA file holds the other cluster's certificate: refused.
      expect(await fails(connect(e))).to.be.instanceOf(Error);
      await close(e);
    } finally {
      await c.stop();
    }
  });
});

describe('deployment shapes: memcached buckets', () => {
  let cluster: Cluster;
  let dataDir: string;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-mc-'));
    cluster = await Cluster.start({ nodes: 3, users: [USER], dataDir, buckets: [{ name: 'default' }, { name: 'cache', bucketType: 'memcached' }] });
  });
  after(async () => {
    await cluster.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves a ketama config: no vBucket map, no replicas', async () => {
    const cfg = await kvConfig(cluster.nodes[0].ports.kv, 'cache');
    expect(cfg).to.include({ nodeLocator: 'ketama', bucketType: 'memcached' });
    expect(cfg).to.not.have.property('vBucketServerMap');
    expect(cfg.nodes).to.have.length(3);
    const verbose = await httpJson(cluster.nodes[0].ports.mgmt, '/pools/default/buckets/cache');
    expect(verbose.replicaNumber).to.equal(0);
  });

  it('keeps each key on the node the ketama continuum names, and only there', async () => {
    const e = new Engine(`${cluster.connectionString}/cache`, USER);
    await connect(e);
    const ring = new KetamaContinuum(cluster.nodes.map((n) => `127.0.0.1:${n.ports.kv}`));
    const perNode = [0, 0, 0];
    for (let i = 0; i < 60; i++) {
      const key = `mc-${i}`;
      await run(e, 'upsert', key, { value: { i } });
      const owner = ring.serverOf(key);
      perNode[owner]++;
      for (const n of [0, 1, 2]) expect(cluster.bucket('cache', n).live(key) !== undefined, `${key} on node ${n}`).to.equal(n === owner);
      expect((await run<ValueResult>(e, 'get', key)).value).to.deep.equal({ i });
    }
    expect(perNode.every((n) => n > 5)).to.equal(true);
    await close(e);
  });

  it('answers NOT_SUPPORTED to what needs vBuckets (replica reads, observe, durability)', async () => {
    const c = await RawClient.connect(cluster.nodes[1].ports.kv);
    try {
      await c.hello([0x0b, 0x07, 0x10]);
      await c.login(USER.username, USER.password, 'cache');
      expect((await c.get('k', Opcode.GET_REPLICA)).status).to.equal(Status.NOT_SUPPORTED);
      expect((await c.request({ opcode: Opcode.OBSERVE_SEQNO, extras: Buffer.alloc(0), value: Buffer.alloc(8) })).status).to.equal(Status.NOT_SUPPORTED);
      const durable = await c.request({ magic: 0x08, opcode: Opcode.SET, key: 'k', value: Buffer.from('v'), extras: Buffer.alloc(8), framingExtras: Buffer.from([0x11, 0x01]) });
      expect(durable.status).to.equal(Status.NOT_SUPPORTED);
      expect((await c.set('k', 'v')).status).to.equal(Status.SUCCESS);
    } finally {
      c.close();
    }
    const e = new Engine(`${cluster.connectionString}/cache`, USER);
    await connect(e);
    expect(await fails(run(e, 'getReplica', 'k'))).to.be.instanceOf(NotSupportedError);
    expect(await fails(run(e, 'upsert', 'k', { value: 1, persistTo: 1 }))).to.be.instanceOf(NotSupportedError);
    await close(e);
  });

  it('keeps nothing on disk, and a failed-over node loses its keys', async () => {
    expect(fs.readdirSync(dataDir).some((f) => f.startsWith('cache'))).to.equal(false);
    const owner = new KetamaContinuum(cluster.nodes.map((n) => `127.0.0.1:${n.ports.kv}`)).serverOf('mc-1');
    expect(cluster.bucket('cache', owner).live('mc-1')).to.not.equal(undefined);
    cluster.failover(owner);
    expect(cluster.bucket('cache', owner).live('mc-1')).to.equal(undefined);
    const e = new Engine(`${cluster.connectionString}/cache`, USER);
    await connect(e);
    expect(e.topology!.servers).to.have.length(2);
    await run(e, 'upsert', 'after', { value: 1 });
    expect((await run<ValueResult>(e, 'get', 'after')).value).to.equal(1);
    await close(e);
    cluster.addBack(owner);
    cluster.rebalance();
  });
});

describe('deployment shapes: the engine refuses a config it cannot use', () => {
  it('keeps the previous map when a node pushes a malformed one', async () => {
    const c = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
    const e = new Engine(`${c.connectionString}/default`, USER);
    try {
      await connect(e);
      const before = e.topology!;
      for (const junk of ['{', '{"rev":99999,"name":"default","nodesExt":[{"services":{}}],"vBucketServerMap":{"serverList":["h:1"],"vBucketMap":[[5]]}}', '[]']) {
        expect(e.applyConfigText(junk, '127.0.0.1')).to.equal(false);
      }
      expect(e.topology).to.equal(before);
      await run(e, 'upsert', 'still', { value: 1 });
      expect(parseConfig(JSON.stringify(before.raw), 'h').rev).to.equal(before.rev);
    } finally {
      await close(e);
      await c.stop();
    }
  });
});

describe('deployment shapes: address families (ipv6=disabled|allow|only)', () => {
  it('resolves names to IPv4 only with ipv6=disabled, and to IPv6 only with ipv6=only', async () => {
    const c = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
    try {
      const kv = c.nodes[0].ports.kv;
      const v4 = new Engine(`couchbase://localhost:${kv}=mcd/default?ipv6=disabled`, USER);
      await connect(v4);
      await run(v4, 'upsert', 'fam', { value: 4 });
      await close(v4);
      // The cluster listens on 127.0.0.1 only: an IPv6-only client finds nothing at localhost.
      const v6 = new Engine(`couchbase://localhost:${kv}=mcd/default?ipv6=only&bootstrap_on=cccp&config_total_timeout=2`, USER);
      const err = await fails(connect(v6));
      expect(err.message).to.match(/::1|EADDRNOTAVAIL|ENOTFOUND|EAFNOSUPPORT|ENETUNREACH/);
      await close(v6);
    } finally {
      await c.stop();
    }
  });
});
