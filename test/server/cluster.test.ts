import { expect } from 'chai';
import http from 'node:http';
import { Cluster } from '../../lib/server';
import { HelloFeature, Magic, Opcode, Status } from '../../lib/protocol';
import { RawClient } from './raw-client';

const AUTH = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

function httpGet(port: number, path: string, auth: string | undefined = AUTH): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: auth ? { authorization: auth } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('server cluster (3 nodes, 1 replica)', () => {
  let cluster: Cluster;
  const clients: RawClient[] = [];

  async function connect(node: number, hello: number[] = [HelloFeature.XERROR, HelloFeature.JSON]): Promise<RawClient> {
    const c = await RawClient.connect(cluster.nodes[node].ports.kv);
    clients.push(c);
    await c.hello(hello);
    await c.login('Administrator', 'password', 'default');
    return c;
  }

  /** A key whose vBucket is active on `node` (and its first replica). */
  function keyOn(node: number): { key: string; vb: number; replica: number } {
    const store = cluster.bucket('default');
    for (let i = 0; ; i++) {
      const key = `key-${i}`;
      const vb = store.vbucketOf(key);
      if (cluster.topology.active(vb) === node) return { key, vb, replica: cluster.topology.chain(vb)[1] };
    }
  }

  beforeEach(async () => {
    cluster = await Cluster.start({ nodes: 3, replicas: 1, queryService: null, viewsService: null });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cluster.stop();
  });

  it('spreads active and replica vBuckets evenly over the nodes', () => {
    const counts = [0, 0, 0];
    for (let vb = 0; vb < 1024; vb++) {
      const [active, replica] = cluster.topology.chain(vb);
      expect(active).to.not.equal(replica);
      counts[active]++;
    }
    expect(Math.max(...counts) - Math.min(...counts)).to.be.at.most(1);
  });

  it('answers NOT_MY_VBUCKET with the config (datatype JSON) for a vBucket the node does not own', async () => {
    const { key, vb } = keyOn(1);
    const c = await connect(0);
    const res = await c.request({ opcode: Opcode.GET, key, vbucket: vb });
    expect(res.status).to.equal(Status.NOT_MY_VBUCKET);
    expect(res.datatype).to.equal(1);
    const cfg = JSON.parse(res.value.toString());
    expect(cfg.vBucketServerMap.vBucketMap[vb][0]).to.equal(1);
    expect(cfg.nodesExt[0].thisNode).to.equal(true);
    expect((await c.request({ opcode: Opcode.GET, key, vbucket: 1024 })).status).to.equal(Status.NOT_MY_VBUCKET);
  });

  it('serves GET_REPLICA only on the replica owner, from the shared store', async () => {
    const { key, vb, replica } = keyOn(0);
    const active = await connect(0);
    await active.set(key, 'replicated');
    const rep = await connect(replica);
    const res = await rep.request({ opcode: Opcode.GET_REPLICA, key, vbucket: vb });
    expect(res.status).to.equal(Status.SUCCESS);
    expect(res.value.toString()).to.equal('replicated');
    expect((await active.request({ opcode: Opcode.GET_REPLICA, key, vbucket: vb })).status).to.equal(Status.NOT_MY_VBUCKET);
  });

  it('failover pushes the new config to clients that negotiated notifications, and only to them', async () => {
    const notified = await connect(0, [HelloFeature.XERROR, HelloFeature.JSON, HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION]);
    const silent = await connect(0);
    const before = JSON.parse((await notified.request({ opcode: Opcode.GET_CLUSTER_CONFIG })).value.toString());
    cluster.failover(2);
    const [push] = await notified.take(1);
    expect(push.magic).to.equal(Magic.SERVER_REQUEST);
    expect(push.opcode).to.equal(0x01);
    expect(push.key.toString()).to.equal('default');
    expect(push.extras.readUInt32BE(0)).to.equal(before.rev + 1);
    const cfg = JSON.parse(push.value.toString());
    expect(cfg.rev).to.equal(before.rev + 1);
    expect(cfg.vBucketServerMap.serverList).to.have.length(2);
    for (const row of cfg.vBucketServerMap.vBucketMap) expect(row[0]).to.be.oneOf([0, 1]);
    const noop = await silent.request({ opcode: Opcode.NOOP });
    expect(noop.opcode).to.equal(Opcode.NOOP);
  });

  it('after failover the promoted replica serves the data; rebalance brings the node back', async () => {
    const { key, vb, replica } = keyOn(2);
    const c2 = await connect(2);
    await c2.set(key, 'survives');
    cluster.failover(2);
    expect(cluster.connectionString.split(',')).to.have.length(2);
    const promoted = await connect(replica);
    const res = await promoted.request({ opcode: Opcode.GET, key, vbucket: vb });
    expect(res.value.toString()).to.equal('survives');
    expect((await c2.request({ opcode: Opcode.GET, key, vbucket: vb })).status).to.equal(Status.NOT_MY_VBUCKET);
    cluster.addBack(2);
    cluster.rebalance();
    expect(cluster.topology.active(vb)).to.equal(2);
    expect((await c2.request({ opcode: Opcode.GET, key, vbucket: vb })).value.toString()).to.equal('survives');
  });

  describe('management REST', () => {
    it('requires basic auth', async () => {
      const mgmt = cluster.nodes[0].ports.mgmt;
      expect((await httpGet(mgmt, '/pools', '')).status).to.equal(401);
      expect((await httpGet(mgmt, '/pools', 'Basic ' + Buffer.from('Administrator:nope').toString('base64'))).status).to.equal(401);
    });

    it('serves /pools, /pools/default, buckets, terse config and nodeServices', async () => {
      const mgmt = cluster.nodes[1].ports.mgmt;
      const pools = JSON.parse((await httpGet(mgmt, '/pools')).body);
      expect(pools.pools[0].name).to.equal('default');
      const def = JSON.parse((await httpGet(mgmt, '/pools/default')).body);
      expect(def.nodes).to.have.length(3);
      expect(def.nodes[1].thisNode).to.equal(true);
      const buckets = JSON.parse((await httpGet(mgmt, '/pools/default/buckets')).body);
      expect(buckets.map((b: { name: string }) => b.name)).to.deep.equal(['default']);
      const verbose = JSON.parse((await httpGet(mgmt, '/pools/default/buckets/default')).body);
      expect(verbose.replicaNumber).to.equal(1);
      const terse = JSON.parse((await httpGet(mgmt, '/pools/default/b/default')).body);
      expect(terse.vBucketServerMap.vBucketMap).to.have.length(1024);
      expect(terse.nodesExt[1].thisNode).to.equal(true);
      const services = JSON.parse((await httpGet(mgmt, '/pools/default/nodeServices')).body);
      expect(services.nodesExt.map((n: { services: { kv: number } }) => n.services.kv)).to.deep.equal(cluster.nodes.map((n) => n.ports.kv));
      expect((await httpGet(mgmt, '/pools/default/buckets/nope')).status).to.equal(404);
    });

    it('streams a new bucket config on /pools/default/bs/<b> when the topology changes', async () => {
      const mgmt = cluster.nodes[0].ports.mgmt;
      const configs: Array<{ rev: number }> = [];
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: mgmt, path: '/pools/default/bs/default', headers: { authorization: AUTH }, agent: false }, (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            buf += d;
            let i: number;
            while ((i = buf.indexOf('\n\n\n\n')) >= 0) {
              configs.push(JSON.parse(buf.slice(0, i)));
              buf = buf.slice(i + 4);
              if (configs.length === 1) cluster.failover(1);
              if (configs.length === 2) {
                req.destroy();
                resolve();
              }
            }
          });
        });
        req.on('error', reject);
      });
      expect(configs[1].rev).to.equal(configs[0].rev + 1);
    });
  });
});

describe('server cluster: the HTTP services registry (lib/server/services.ts)', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const mgmtJson = async (c: Cluster, path: string): Promise<Record<string, any>> => {
    const r = await httpGet(c.nodes[0].ports.mgmt, path);
    expect(r.status).to.equal(200);
    return JSON.parse(r.body);
  };

  it('runs every default service on every node and advertises each in the map and the management API', async () => {
    cluster = await Cluster.start({ nodes: 2 });
    for (const n of cluster.nodes) expect(n.ports).to.have.all.keys('kv', 'mgmt', 'n1ql', 'capi');
    const b = await mgmtJson(cluster, '/pools/default/b/default');
    expect(b.nodesExt[1].services).to.deep.equal({ kv: cluster.nodes[1].ports.kv, mgmt: cluster.nodes[1].ports.mgmt, n1ql: cluster.nodes[1].ports.n1ql, capi: cluster.nodes[1].ports.capi });
    expect(b.clusterCapabilities.n1ql).to.include('javaScriptFunctions');
    expect(b.nodes[0].couchApiBase).to.match(new RegExp(`^http://127\\.0\\.0\\.1:${cluster.nodes[0].ports.capi}/default%2B`));
    const pool = await mgmtJson(cluster, '/pools/default');
    expect(pool.nodes[0].services).to.deep.equal(['kv', 'n1ql', 'index']);
  });

  it('services: { name: null } turns one off everywhere it would show', async () => {
    cluster = await Cluster.start({ services: { capi: null } });
    expect(cluster.nodes[0].ports).to.have.all.keys('kv', 'mgmt', 'n1ql');
    const b = await mgmtJson(cluster, '/pools/default/b/default');
    expect(b.nodesExt[0].services).to.not.have.property('capi');
    expect(b.nodes[0]).to.not.have.property('couchApiBase');
    expect((await mgmtJson(cluster, '/pools/default')).nodes[0].services).to.deep.equal(['kv', 'n1ql']);
    expect(await mgmtJson(cluster, '/pools/default/buckets/default/ddocs')).to.deep.equal({ rows: [] });
  });

  it('without the query service the map advertises no N1QL capabilities', async () => {
    cluster = await Cluster.start({ services: { n1ql: null } });
    const b = await mgmtJson(cluster, '/pools/default/b/default');
    expect(b.clusterCapabilities).to.deep.equal({});
    expect(b.nodesExt[0].services).to.have.all.keys('kv', 'mgmt', 'capi');
  });

  it('services: { name: factory } replaces a default, before the older queryService / viewsService spelling', async () => {
    const seen: number[] = [];
    const factory = (ctx: { nodeIndex: number }) => {
      seen.push(ctx.nodeIndex);
      return { handle: (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('custom') };
    };
    cluster = await Cluster.start({ nodes: 2, services: { n1ql: factory }, queryService: null, viewsService: null });
    expect(seen).to.deep.equal([0, 1]);
    expect(cluster.nodes[0].ports).to.have.all.keys('kv', 'mgmt', 'n1ql');
    const r = await httpGet(cluster.nodes[1].ports.n1ql!, '/query/service');
    expect(r.body).to.equal('custom');
  });
});
