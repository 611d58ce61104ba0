// The management endpoints behind the web console: sessions, stats, documents, controllers,
// bucket create/delete and the service proxies, driven over HTTP and KV as clients drive them.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, ManualClock } from '../../lib/server';
import { HelloFeature, Magic, Opcode, Status } from '../../lib/protocol';
import { RawClient } from '../server/raw-client';

const AUTH = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

async function call(port: number, method: string, p: string, opts: { auth?: string | null; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== null) headers.authorization = opts.auth ?? AUTH;
  let body: string | undefined;
  if (opts.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function kv(cluster: Cluster, node: number, bucket: string): Promise<RawClient> {
  const c = await RawClient.connect(cluster.nodes[node].ports.kv);
  await c.hello([HelloFeature.XERROR, HelloFeature.JSON]);
  await c.login('Administrator', 'password', bucket);
  return c;
}

/** A key whose vBucket is active on `node`. */
function keyOn(cluster: Cluster, node: number, prefix = 'k'): string {
  const store = cluster.bucket('default');
  for (let i = 0; ; i++) if (cluster.topology.active(store.vbucketOf(`${prefix}${i}`)) === node) return `${prefix}${i}`;
}

describe('console REST: sessions (POST /uilogin, /uilogout)', () => {
  let cluster: Cluster;
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  let port: number;
  before(async () => {
    cluster = await Cluster.start({ clock, queryService: null, viewsService: null });
    port = cluster.nodes[0].ports.mgmt;
  });
  after(() => cluster.stop());

  const login = (user: string, password: string) => call(port, 'POST', '/uilogin', { auth: null, form: { user, password } });
  const cookieOf = (a: Answer) => /^([^;]+)/.exec(a.headers.get('set-cookie') ?? '')![1];

  it('answers 400 on wrong credentials and sets an HttpOnly ui-auth-<host:port> cookie on good ones', async () => {
    expect((await login('Administrator', 'nope')).status).to.equal(400);
    const ok = await login('Administrator', 'password');
    expect(ok.status).to.equal(200);
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).to.match(new RegExp(`^ui-auth-127\\.0\\.0\\.1%3A${port}=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Strict`));
  });

  it('accepts the session only with ns-server-ui: yes, and then gives no Basic challenge on failure', async () => {
    const cookie = cookieOf(await login('Administrator', 'password'));
    const withHeader = await call(port, 'GET', '/pools/default', { auth: null, headers: { cookie, 'ns-server-ui': 'yes' } });
    expect(withHeader.status).to.equal(200);
    expect(withHeader.json().nodes).to.have.length(1);
    // A cookie alone (what a cross-site form would send) is not enough.
    const cookieOnly = await call(port, 'GET', '/pools/default', { auth: null, headers: { cookie } });
    expect(cookieOnly.status).to.equal(401);
    expect(cookieOnly.headers.get('www-authenticate')).to.match(/^Basic realm=/);
    const forged = await call(port, 'GET', '/pools/default', { auth: null, headers: { cookie: cookie.replace(/=.*/, '=feedface'), 'ns-server-ui': 'yes' } });
    expect(forged.status).to.equal(401);
    expect(forged.headers.get('www-authenticate')).to.equal(null);
    // Basic auth keeps working beside sessions.
    expect((await call(port, 'GET', '/pools/default')).status).to.equal(200);
    const who = await call(port, 'GET', '/whoami', { auth: null, headers: { cookie, 'ns-server-ui': 'yes' } });
    expect(who.json()).to.deep.include({ id: 'Administrator', domain: 'admin' });
  });

  it('logs out: the token stops working and the cookie is expired', async () => {
    const cookie = cookieOf(await login('Administrator', 'password'));
    const out = await call(port, 'POST', '/uilogout', { auth: null, headers: { cookie, 'ns-server-ui': 'yes' } });
    expect(out.status).to.equal(200);
    expect(out.headers.get('set-cookie')).to.match(/=; Path=\/; HttpOnly; SameSite=Strict; Expires=Thu, 01 Jan 1970/);
    expect((await call(port, 'GET', '/pools', { auth: null, headers: { cookie, 'ns-server-ui': 'yes' } })).status).to.equal(401);
  });

  it('renews a session past half its 600 s life and ends it at 600 s', async () => {
    const cookie = cookieOf(await login('Administrator', 'password'));
    const h = { cookie, 'ns-server-ui': 'yes' };
    clock.advance(200_000);
    const early = await call(port, 'GET', '/pools', { auth: null, headers: h });
    expect(early.status).to.equal(200);
    expect(early.headers.get('set-cookie')).to.equal(null);
    clock.advance(150_000);
    const late = await call(port, 'GET', '/pools', { auth: null, headers: h });
    expect(late.status).to.equal(200);
    const renewed = cookieOf(late);
    expect(renewed).to.not.equal(cookie);
    clock.advance(260_000);
    expect((await call(port, 'GET', '/pools', { auth: null, headers: h })).status).to.equal(401);
    expect((await call(port, 'GET', '/pools', { auth: null, headers: { cookie: renewed, 'ns-server-ui': 'yes' } })).status).to.equal(200);
  });
});

describe('console REST: stats, documents, controllers and buckets (3 nodes, 1 replica)', function () {
  this.timeout(30000);
  let cluster: Cluster;
  let port: number;
  const clients: RawClient[] = [];
  let dataDir: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-console-'));
    cluster = await Cluster.start({ nodes: 3, replicas: 1, dataDir });
    port = cluster.nodes[0].ports.mgmt;
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const client = async (node: number, bucket = 'default') => {
    const c = await kv(cluster, node, bucket);
    clients.push(c);
    return c;
  };

  it('counts KV requests into /pools/default/buckets/<b>/stats as ns_server shapes them', async () => {
    cluster.statsArchive.sample();
    const c = await client(0);
    const key = keyOn(cluster, 0, 'stat');
    expect((await c.set(key, '{"a":1}')).status).to.equal(Status.SUCCESS);
    for (let i = 0; i < 4; i++) expect((await c.get(key)).status).to.equal(Status.SUCCESS);
    expect((await c.get(keyOn(cluster, 0, 'missing'))).status).to.equal(Status.KEY_ENOENT);
    cluster.statsArchive.sample();
    const body = (await call(port, 'GET', '/pools/default/buckets/default/stats')).json();
    expect(body.op).to.include({ samplesCount: 60, isPersistent: true, interval: 1000 });
    expect(body.hot_keys).to.deep.equal([]);
    const s = body.op.samples;
    const last = (name: string) => s[name][s[name].length - 1];
    expect(s.timestamp).to.have.length(2);
    expect(body.op.lastTStamp).to.equal(s.timestamp[1]);
    // Rates per second over the interval between the two samples.
    const secs = (s.timestamp[1] - s.timestamp[0]) / 1000;
    expect(last('cmd_get') * secs).to.be.closeTo(5, 0.01);
    expect(last('get_hits') * secs).to.be.closeTo(4, 0.01);
    expect(last('get_misses') * secs).to.be.closeTo(1, 0.01);
    expect(last('cmd_set') * secs).to.be.closeTo(1, 0.01);
    expect(last('ops') * secs).to.be.closeTo(6, 0.01);
    expect(last('curr_items')).to.be.at.least(1);
    expect(last('mem_used')).to.be.greaterThan(0);
    const since = (await call(port, 'GET', `/pools/default/buckets/default/stats?zoom=minute&haveTStamp=${s.timestamp[0]}`)).json();
    expect(since.op.samples.timestamp).to.deep.equal([s.timestamp[1]]);
    expect((await call(port, 'GET', '/pools/default/buckets/default/stats?zoom=decade')).status).to.equal(400);
    expect((await call(port, 'GET', '/pools/default/buckets/nope/stats')).status).to.equal(404);
    const verbose = (await call(port, 'GET', '/pools/default/buckets/default')).json();
    expect(verbose.basicStats.opsPerSec).to.equal(last('ops'));
  });

  it('counts query requests and their latency percentiles under @query', async () => {
    cluster.statsArchive.sample();
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${cluster.nodes[1].ports.n1ql}/query/service`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ statement: 'SELECT 1 AS one' }),
      });
      expect(r.status).to.equal(200);
      await r.text();
    }
    cluster.statsArchive.sample();
    const s = (await call(port, 'GET', '/pools/default/buckets/@query/stats')).json().op.samples;
    const secs = (s.timestamp[s.timestamp.length - 1] - s.timestamp[s.timestamp.length - 2]) / 1000;
    expect(s.query_requests.at(-1) * secs).to.be.closeTo(3, 0.01);
    expect(s.query_errors.at(-1)).to.equal(0);
    expect(s.query_latency_p50.at(-1)).to.be.greaterThan(0);
    expect(s.query_latency_p99.at(-1)).to.be.at.least(s.query_latency_p50.at(-1));
    expect(s.query_avg_req_time.at(-1)).to.be.greaterThan(0);
  });

  it('lists documents by key range in byte order, with skip, limit and include_docs', async () => {
    const store = cluster.bucket('default');
    for (const id of ['doc:b', 'doc:a', 'doc:c', 'other', 'doc:é']) store.write(id, Buffer.from(JSON.stringify({ id })), 'upsert');
    store.write('doc:bin', Buffer.from([0xff, 0x00]), 'upsert');
    const q = (qs: string) => call(port, 'GET', `/pools/default/buckets/default/docs?${qs}`);
    const range = `startkey=${encodeURIComponent('"doc:"')}&endkey=${encodeURIComponent('"doc:\uffff"')}`;
    const all = (await q(range)).json();
    expect(all.rows.map((r: { id: string }) => r.id)).to.deep.equal(['doc:a', 'doc:b', 'doc:bin', 'doc:c', 'doc:é']);
    expect(all.rows[0]).to.deep.equal({ id: 'doc:a' });
    const page = (await q(`${range}&skip=1&limit=2&include_docs=true`)).json();
    expect(page.rows).to.deep.equal([
      { id: 'doc:b', doc: { json: { id: 'doc:b' } } },
      { id: 'doc:bin', doc: { base64: Buffer.from([0xff, 0]).toString('base64') } },
    ]);
    const exclusive = (await q(`startkey=${encodeURIComponent('"doc:a"')}&endkey=${encodeURIComponent('"doc:c"')}&inclusive_end=false`)).json();
    expect(exclusive.rows.map((r: { id: string }) => r.id)).to.deep.equal(['doc:a', 'doc:b', 'doc:bin']);
    expect((await q('limit=x')).json()).to.deep.equal({ error: 'bad_request', reason: 'bad request' });
    expect((await q('startkey=notjson')).status).to.equal(400);
    const scoped = (await call(port, 'GET', `/pools/default/buckets/default/scopes/_default/collections/_default/docs?${range}&limit=1`)).json();
    expect(scoped.rows).to.deep.equal([{ id: 'doc:a' }]);
  });

  it('reads a document with its metadata and writes it with CAS: a stale CAS is a 409', async () => {
    const c = await client(0);
    const key = keyOn(cluster, 0, 'edit');
    await c.set(key, '{"v":1}', { flags: 0x02000006 });
    const got = (await call(port, 'GET', `/pools/default/buckets/default/docs/${key}`)).json();
    expect(got.json).to.deep.equal({ v: 1 });
    expect(got.meta).to.include({ id: key, expiration: 0, flags: 0x02000006, type: 'json' });
    expect(got.meta.datatype).to.deep.equal(['json']);
    expect(got.meta.cas).to.equal(cluster.bucket('default').get(key)!.cas.toString());
    const saved = await call(port, 'POST', `/pools/default/buckets/default/docs/${key}`, { form: { value: '{"v":2}', cas: got.meta.cas } });
    expect(saved.status).to.equal(200);
    expect(saved.json()).to.deep.equal([]);
    // A KV client sees the write, as JSON.
    const read = await c.get(key);
    expect(read.value.toString()).to.equal('{"v":2}');
    expect(read.datatype & 1).to.equal(1);
    const stale = await call(port, 'POST', `/pools/default/buckets/default/docs/${key}`, { form: { value: '{"v":3}', cas: got.meta.cas } });
    expect(stale.status).to.equal(409);
    expect(stale.json().error).to.equal('conflict');
    expect(stale.json().reason).to.match(/CAS mismatch/);
    const dup = await call(port, 'POST', `/pools/default/buckets/default/docs/${key}`, { form: { value: '{}', insert: 'true' } });
    expect(dup.status).to.equal(409);
    expect(dup.json().error).to.equal('exists');
    expect((await call(port, 'POST', `/pools/default/buckets/default/docs/${key}`, { form: { value: '{}', flags: '-1' } })).status).to.equal(400);
    const staleDelete = await call(port, 'DELETE', `/pools/default/buckets/default/docs/${key}?cas=${got.meta.cas}`);
    expect(staleDelete.status).to.equal(409);
    expect((await call(port, 'DELETE', `/pools/default/buckets/default/docs/${key}`)).status).to.equal(200);
    expect((await c.get(key)).status).to.equal(Status.KEY_ENOENT);
    expect((await call(port, 'GET', `/pools/default/buckets/default/docs/${key}`)).status).to.equal(404);
    expect((await call(port, 'DELETE', `/pools/default/buckets/default/docs/${key}`)).status).to.equal(404);
  });

  it('fails a node over, adds it back and rebalances through /controller, telling KV clients', async () => {
    const c = await client(0);
    const pushed: number[] = [];
    await c.hello([HelloFeature.XERROR, HelloFeature.JSON, HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION]);
    const rev0 = cluster.topology.rev;
    expect((await call(port, 'POST', '/controller/failOver', { form: { otpNode: 'n_9@127.0.0.1' } })).status).to.equal(400);
    const fo = await call(port, 'POST', '/controller/failOver', { form: { otpNode: 'n_2@127.0.0.1' } });
    expect(fo.status, fo.text).to.equal(200);
    expect(cluster.topology.members).to.deep.equal([0, 1]);
    const push = (await c.take(1))[0];
    expect(push.magic).to.equal(Magic.SERVER_REQUEST);
    pushed.push(push.extras.readUInt32BE(0));
    expect(pushed[0]).to.be.greaterThan(rev0);
    let pool = (await call(port, 'GET', '/pools/default')).json();
    expect(pool.nodes.map((n: any) => [n.otpNode, n.clusterMembership])).to.deep.equal([
      ['n_0@127.0.0.1', 'active'],
      ['n_1@127.0.0.1', 'active'],
      ['n_2@127.0.0.1', 'inactiveFailed'],
    ]);
    expect((await call(port, 'POST', '/controller/setRecoveryType', { form: { otpNode: 'n_2@127.0.0.1', recoveryType: 'sideways' } })).status).to.equal(400);
    expect((await call(port, 'POST', '/controller/setRecoveryType', { form: { otpNode: 'n_2@127.0.0.1', recoveryType: 'full' } })).status).to.equal(200);
    pool = (await call(port, 'GET', '/pools/default')).json();
    expect(pool.nodes[2].clusterMembership).to.equal('inactiveAdded');
    expect(pool.balanced).to.equal(false);
    const stale = await call(port, 'POST', '/controller/rebalance', { form: { knownNodes: 'n_0@127.0.0.1,n_1@127.0.0.1', ejectedNodes: '' } });
    expect(stale.status).to.equal(400);
    expect(stale.json()).to.deep.equal({ mismatch: 1 });
    const rb = await call(port, 'POST', '/controller/rebalance', { form: { knownNodes: pool.nodes.map((n: any) => n.otpNode).join(','), ejectedNodes: '' } });
    expect(rb.status).to.equal(200);
    pool = (await call(port, 'GET', '/pools/default')).json();
    expect(pool.nodes.every((n: any) => n.clusterMembership === 'active')).to.equal(true);
    expect(pool.balanced).to.equal(true);
    expect((await call(port, 'GET', '/pools/default/rebalanceProgress')).json()).to.deep.equal({ status: 'none', balanced: true });
  });

  it('adds a node with /controller/addNode; it serves KV once rebalanced', async () => {
    const added = await call(port, 'POST', '/controller/addNode', { form: { hostname: '127.0.0.1', user: 'Administrator', password: 'password', services: 'kv,n1ql' } });
    expect(added.status, added.text).to.equal(200);
    expect(added.json()).to.deep.equal({ otpNode: 'n_3@127.0.0.1' });
    expect((await call(port, 'POST', '/controller/addNode', { form: { hostname: '10.1.2.3' } })).status).to.equal(400);
    expect(cluster.nodes).to.have.length(4);
    const known = (await call(port, 'GET', '/pools/default')).json().nodes.map((n: any) => n.otpNode);
    expect((await call(port, 'POST', '/controller/rebalance', { form: { knownNodes: known.join(','), ejectedNodes: '' } })).status).to.equal(200);
    const c = await client(3);
    const key = keyOn(cluster, 3, 'new');
    expect((await c.set(key, '{"on":3}')).status).to.equal(Status.SUCCESS);
    const terse = (await call(cluster.nodes[3].ports.mgmt, 'GET', '/pools/default/b/default')).json();
    expect(terse.vBucketServerMap.serverList).to.have.length(4);
  });

  it('refuses cluster changes to a user without full access', async () => {
    const c2 = await Cluster.start({ users: [{ username: 'app', password: 'secret', buckets: ['default'] }], queryService: null, viewsService: null });
    try {
      const auth = 'Basic ' + Buffer.from('app:secret').toString('base64');
      const r = await call(c2.nodes[0].ports.mgmt, 'POST', '/pools/default/buckets', { auth, form: { name: 'x', ramQuotaMB: '100' } });
      expect(r.status).to.equal(403);
      expect(r.json().permissions).to.deep.equal(['cluster.buckets!create']);
      expect((await call(c2.nodes[0].ports.mgmt, 'GET', '/whoami', { auth })).json().roles).to.deep.equal([{ role: 'bucket_full_access', bucket_name: 'default' }]);
    } finally {
      await c2.stop();
    }
  });

  it('creates a bucket at run time (ns_server form, 202), which KV clients can then use', async () => {
    // An unknown type: ns_server checks the name and the type only.
    const errors = await call(port, 'POST', '/pools/default/buckets', { form: { name: '.bad', ramQuotaMB: '10', replicaNumber: '7', bucketType: 'weird' } });
    expect(errors.status).to.equal(400);
    expect(errors.json().errors).to.deep.equal({ bucketType: 'invalid bucket type', name: 'Bucket name cannot start with dot.' });
    const typed = await call(port, 'POST', '/pools/default/buckets', { form: { name: '.bad', ramQuotaMB: '10', replicaNumber: '7', bucketType: 'couchbase' } });
    expect(typed.json().errors).to.deep.equal({
      name: 'Bucket name cannot start with dot.',
      ramQuota: 'RAM quota cannot be less than 100 MiB',
      replicaNumber: 'Replica number larger than 3 is not supported.',
    });
    expect((await call(port, 'POST', '/pools/default/buckets', { form: { name: 'default', ramQuotaMB: '100' } })).json().errors.name).to.equal('Bucket with given name already exists');
    const c = await client(0);
    await c.hello([HelloFeature.XERROR, HelloFeature.JSON, HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION]);
    const rev = cluster.topology.rev;
    const created = await call(port, 'POST', '/pools/default/buckets', { form: { name: 'orders', bucketType: 'couchbase', ramQuotaMB: '128', replicaNumber: '0', flushEnabled: '1' } });
    expect(created.status, created.text).to.equal(202);
    expect(cluster.topology.rev).to.equal(rev + 1);
    const push = (await c.take(1))[0];
    expect(push.extras.readUInt32BE(0)).to.equal(rev + 1);
    const verbose = (await call(port, 'GET', '/pools/default/buckets/orders')).json();
    expect(verbose).to.include({ name: 'orders', bucketType: 'membase', replicaNumber: 0 });
    expect(verbose.quota.rawRAM).to.equal(128 * 1024 * 1024);
    expect(verbose.vBucketServerMap.numReplicas).to.equal(0);
    expect(verbose.vBucketServerMap.vBucketMap[0]).to.have.length(1);
    const oc = await client(1, 'orders');
    const key = (() => {
      const s = cluster.bucket('orders');
      for (let i = 0; ; i++) if (cluster.topology.active(s.vbucketOf(`o${i}`)) === 1) return `o${i}`;
    })();
    expect((await oc.set(key, '{"n":1}')).status).to.equal(Status.SUCCESS);
    expect(cluster.bucket('orders').get(key)!.value.toString()).to.equal('{"n":1}');
    const listed = (await call(port, 'GET', '/pools/default/buckets?skipMap=true')).json();
    expect(listed.map((b: any) => b.name)).to.include('orders');
    expect(listed.every((b: any) => b.vBucketServerMap === undefined && b.nodes.length === cluster.topology.members.length)).to.equal(true);
    const names = (await call(port, 'GET', '/pools/default')).json().bucketNames.map((b: any) => b.bucketName);
    expect(names).to.include('orders');
  });

  it('creates a memcached bucket: ketama config, any member node serves any key, no N1QL', async () => {
    const created = await call(port, 'POST', '/pools/default/buckets', { form: { name: 'cache', bucketType: 'memcached', ramQuotaMB: '100' } });
    expect(created.status, created.text).to.equal(202);
    const terse = (await call(port, 'GET', '/pools/default/b/cache')).json();
    expect(terse).to.include({ bucketType: 'memcached', nodeLocator: 'ketama' });
    expect(terse).to.not.have.property('vBucketServerMap');
    for (const node of [0, 2]) {
      const c = await client(node, 'cache');
      const r = await c.request({ opcode: Opcode.SET, key: `m${node}`, value: Buffer.from('v'), extras: Buffer.alloc(8), vbucket: 0 });
      expect(r.status).to.equal(Status.SUCCESS);
    }
    expect((await call(port, 'GET', '/pools/default/buckets/cache/docs')).status).to.equal(501);
    const q = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.n1ql}/query/service`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ statement: 'SELECT * FROM cache' }),
    });
    expect(((await q.json()) as any).errors[0].code).to.equal(12003);
    expect((await call(port, 'POST', '/pools/default/buckets', { form: { name: 'c2', bucketType: 'memcached', ramQuotaMB: '100', replicaNumber: '1' } })).status).to.equal(400);
  });

  it('flushes only a bucket with flush enabled', async () => {
    await call(port, 'POST', '/pools/default/buckets', { form: { name: 'noflush', ramQuotaMB: '100', replicaNumber: '1' } });
    cluster.bucket('noflush').write('x', Buffer.from('1'), 'upsert');
    const refused = await call(port, 'POST', '/pools/default/buckets/noflush/controller/doFlush');
    expect(refused.status).to.equal(400);
    expect(refused.json()).to.deep.equal({ _: 'Flush is disabled for the bucket' });
    expect(cluster.bucket('noflush').size).to.equal(1);
    cluster.bucket('orders').write('x', Buffer.from('1'), 'upsert');
    expect((await call(port, 'POST', '/pools/default/buckets/orders/controller/doFlush')).status).to.equal(200);
    expect(cluster.bucket('orders').size).to.equal(0);
  });

  it('keeps run-time buckets across a restart with the same dataDir, and deletes a bucket with its files', async () => {
    cluster.bucket('orders').write('kept', Buffer.from('{"k":1}'), 'upsert');
    const c = await client(0, 'noflush');
    expect((await call(port, 'DELETE', '/pools/default/buckets/noflush')).status).to.equal(200);
    await c.waitClosed();
    expect(cluster.store('noflush')).to.equal(undefined);
    expect(fs.existsSync(path.join(dataDir, 'noflush.dblog'))).to.equal(false);
    expect((await call(port, 'DELETE', '/pools/default/buckets/noflush')).status).to.equal(404);
    await cluster.stop();
    cluster = await Cluster.start({ nodes: 3, replicas: 1, dataDir });
    port = cluster.nodes[0].ports.mgmt;
    expect(cluster.store('noflush')).to.equal(undefined);
    expect(cluster.bucket('orders').get('kept')!.value.toString()).to.equal('{"k":1}');
    const verbose = (await call(port, 'GET', '/pools/default/buckets/orders')).json();
    expect(verbose).to.include({ replicaNumber: 0 });
    expect((await call(port, 'GET', '/pools/default/buckets/cache')).json().bucketType).to.equal('memcached');
  });
});

describe('console REST: the query and views proxies', function () {
  this.timeout(20000);
  let cluster: Cluster;
  let port: number;
  before(async () => {
    cluster = await Cluster.start({ nodes: 1 });
    port = cluster.nodes[0].ports.mgmt;
  });
  after(() => cluster.stop());

  it('streams a query through /_p/query/query/service with the session user', async () => {
    const login = await call(port, 'POST', '/uilogin', { auth: null, form: { user: 'Administrator', password: 'password' } });
    const cookie = /^([^;]+)/.exec(login.headers.get('set-cookie')!)![1];
    const store = cluster.bucket('default');
    const pad = 'x'.repeat(200);
    for (let i = 0; i < 5000; i++) store.write(`p${i}`, Buffer.from(JSON.stringify({ i, pad })), 'upsert');
    await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.n1ql}/query/service`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ statement: 'CREATE PRIMARY INDEX ON `default`' }),
    }).then((r) => r.text());
    const res = await fetch(`http://127.0.0.1:${port}/_p/query/query/service`, {
      method: 'POST',
      headers: { cookie, 'ns-server-ui': 'yes', 'content-type': 'application/json' },
      body: JSON.stringify({ statement: 'SELECT d.i, d.pad FROM `default` d ORDER BY d.i', timeout: '10s' }),
    });
    expect(res.status).to.equal(200);
    // The body arrives in pieces as the service writes it, not as one buffered block.
    let chunks = 0;
    let text = '';
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += Buffer.from(value).toString('utf8');
    }
    const body = JSON.parse(text);
    expect(body.status).to.equal('success');
    expect(body.results).to.have.length(5000);
    expect(chunks).to.be.greaterThan(1);
    const noSession = await fetch(`http://127.0.0.1:${port}/_p/query/query/service`, { method: 'POST', headers: { 'ns-server-ui': 'yes' }, body: 'statement=SELECT 1' });
    expect(noSession.status).to.equal(401);
  });

  it('reaches the views port through /couchBase/', async () => {
    const ddoc = { views: { by_i: { map: 'function (doc, meta) { emit(doc.i, null); }' } } };
    const put = await fetch(`http://127.0.0.1:${port}/couchBase/default/_design/dev_p`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(ddoc),
    });
    expect(put.status, await put.text()).to.equal(201);
    const rows = await fetch(`http://127.0.0.1:${port}/couchBase/default/_design/dev_p/_view/by_i?limit=2&stale=false`, { headers: { authorization: AUTH } });
    expect(rows.status).to.equal(200);
    expect(((await rows.json()) as any).rows).to.have.length(2);
  });
});
