// Scopes and collections on the embedded cluster as a Couchbase 7.6 server has them: the REST API
// with ns_server's answers, the KV protocol byte by byte (LEB128 collection ids, GET_COLLECTION_ID,
// GET_SCOPE_ID, GET_COLLECTIONS_MANIFEST, UNKNOWN_COLLECTION with the manifest uid), per-collection
// maxTTL and RBAC, the manifest uid in the bucket config, and N1QL over collections.
import { expect } from 'chai';
import { Cluster, ManualClock } from '../../lib/server';
import {
  HelloFeature,
  Magic,
  Opcode,
  Status,
  decodeCollectionIdExtras,
  decodeScanKeys,
  encodeLeb128,
  encodeRangeScanContinueExtras,
  encodeRangeScanCreate,
  type Packet,
  type RangeScanCreateConfig,
} from '../../lib/protocol';
import { RawClient } from './raw-client';
import { rest, basicAuth } from './http-helpers';

const ADMIN = { username: 'Administrator', password: 'password' };
const COLL_HELLO = [HelloFeature.COLLECTIONS, HelloFeature.XERROR, HelloFeature.JSON, HelloFeature.MUTATION_SEQNO];

/** A key of collection `cid` as a collections-aware client sends it. */
function ckey(cid: number, key: string): Buffer {
  return Buffer.concat([encodeLeb128(cid), Buffer.from(key)]);
}

describe('server scopes and collections', function () {
  this.timeout(20000);
  let cluster: Cluster;
  let clock: ManualClock;
  let mgmt: number;
  let n1ql: number;

  const clients: RawClient[] = [];
  async function client(user = ADMIN, bucket = 'default'): Promise<RawClient> {
    const c = await RawClient.connect(cluster.nodes[0].ports.kv);
    c.numVBuckets = 64;
    clients.push(c);
    await c.hello(COLL_HELLO);
    await c.login(user.username, user.password, bucket);
    return c;
  }

  async function collectionId(c: RawClient, path: string): Promise<number> {
    const res = await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: path });
    expect(res.status, `GET_COLLECTION_ID ${path}`).to.equal(Status.SUCCESS);
    return decodeCollectionIdExtras(res.extras).id;
  }

  function set(c: RawClient, cid: number, key: string, value: string, expiry = 0): Promise<Packet> {
    const extras = Buffer.alloc(8);
    extras.writeUInt32BE(expiry, 4);
    return c.request({ opcode: Opcode.SET, key: ckey(cid, key), extras, value, vbucket: c.vb(key) });
  }

  function get(c: RawClient, cid: number, key: string): Promise<Packet> {
    return c.request({ opcode: Opcode.GET, key: ckey(cid, key), vbucket: c.vb(key) });
  }

  async function query(statement: string, extra: Record<string, unknown> = {}, auth = basicAuth(ADMIN.username, ADMIN.password)): Promise<{ results?: unknown[]; errors?: Array<{ code: number; msg: string }>; status: string }> {
    const res = await fetch(`http://127.0.0.1:${n1ql}/query/service`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ statement, ...extra }),
    });
    return (await res.json()) as { results?: unknown[]; errors?: Array<{ code: number; msg: string }>; status: string };
  }

  before(async () => {
    clock = new ManualClock(1_700_000_000_000);
    cluster = await Cluster.start({
      numVBuckets: 64,
      clock,
      buckets: [{ name: 'default', maxTTL: 1000 }, { name: 'magma', storageBackend: 'magma' }, { name: 'cache', bucketType: 'memcached' }],
      users: [ADMIN, { username: 'reader', password: 'pw-reader', roles: ['data_reader[default]'] }],
    });
    mgmt = cluster.nodes[0].ports.mgmt;
    n1ql = cluster.nodes[0].ports.n1ql!;
    // The shop scope first: roles on a scope or collection can only be granted once it exists.
    expect('ok' in cluster.changeCollections('default', { op: 'createScope', scope: 'shop' })).to.equal(true);
    cluster.changeCollections('default', { op: 'createCollection', scope: 'shop', collection: 'orders', props: { maxTTL: 60 } });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'shop', collection: 'forever', props: { maxTTL: -1 } });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'shop', collection: 'plain', props: {} });
    for (const [name, password, roles] of [
      ['orders-only', 'pw-orders', 'data_reader[default:shop:orders],data_writer[default:shop:orders],query_select[default:shop:orders]'],
      ['scoper', 'pw-scoper', 'scope_admin[default:shop]'],
    ]) {
      const res = await rest(mgmt, 'PUT', `/settings/rbac/users/local/${name}`, { form: { password, roles } });
      expect(res.status, res.text).to.equal(200);
    }
  });

  after(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
  });

  describe('REST', () => {
    it('a 7.6 bucket starts with _default and the _system scope, manifest uid 1', async () => {
      const res = await rest(mgmt, 'GET', '/pools/default/buckets/magma/scopes');
      expect(res.status).to.equal(200);
      expect(res.json()).to.deep.equal({
        uid: '1',
        scopes: [
          { name: '_default', uid: '0', collections: [{ name: '_default', uid: '0', maxTTL: 0, history: true }] },
          {
            name: '_system',
            uid: '8',
            collections: [
              { name: '_query', uid: '9', maxTTL: -1, history: false },
              { name: '_mobile', uid: '8', maxTTL: -1, history: false },
            ],
          },
        ],
      });
    });

    it('creates scopes and collections, answering the new manifest uid', async () => {
      const scope = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: 'store' } });
      expect(scope.status).to.equal(200);
      const uid = parseInt(scope.json().uid, 16);
      const items = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/store/collections', { form: { name: 'items', maxTTL: '60' } });
      expect(items.json()).to.deep.equal({ uid: (uid + 1).toString(16) });
      await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/store/collections', { form: { name: 'forever', maxTTL: '-1' } });
      await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/store/collections', { form: { name: 'plain' } });
      const listed = (await rest(mgmt, 'GET', '/pools/default/buckets/default/scopes')).json();
      expect(listed.uid).to.equal((uid + 3).toString(16));
      // ns_server lists the newest first.
      expect(listed.scopes[0].name).to.equal('store');
      expect(listed.scopes[0].collections.map((c: { name: string; maxTTL: number; history: boolean }) => [c.name, c.maxTTL, c.history])).to.deep.equal([
        ['plain', 0, false],
        ['forever', -1, false],
        ['items', 60, false],
      ]);
      const dropped = await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/store');
      expect(dropped.json()).to.deep.equal({ uid: (uid + 4).toString(16) });
    });

    it('refuses bad names, unknown keys and duplicates in ns_server words', async () => {
      const bad = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: 'a b', colour: 'red' } });
      expect(bad.status).to.equal(400);
      expect(bad.json()).to.deep.equal({
        errors: { name: 'Invalid value "a b" : "Can only contain characters A-Z, a-z, 0-9 and the following symbols _ - %"', colour: 'Unsupported key' },
      });
      expect((await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: '_mine' } })).json()).to.deep.equal({ errors: { name: 'First character must not be _ or %' } });
      expect((await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: {} })).json()).to.deep.equal({ errors: { name: 'The value must be supplied' } });
      const long = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: 'x'.repeat(252) } });
      expect(long.json()).to.deep.equal({ errors: { name: 'Name length (252) must be in the range from 1 to 251, inclusive' } });
      const dup = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: 'shop' } });
      expect([dup.status, dup.json()]).to.deep.equal([400, { errors: { _: 'Scope with name "shop" already exists' } }]);
      const dupColl = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: 'orders' } });
      expect([dupColl.status, dupColl.json()]).to.deep.equal([400, { errors: { _: 'Collection with name "orders" in scope "shop" already exists' } }]);
      const noScope = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/nope/collections', { form: { name: 'c' } });
      expect([noScope.status, noScope.json()]).to.deep.equal([404, { errors: { _: 'Scope with name "nope" is not found' } }]);
      const ttl = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: 'c', maxTTL: '-2' } });
      expect(ttl.json()).to.deep.equal({ errors: { maxTTL: 'The value must be in range from -1 to 2147483647' } });
      const dflt = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: '_default' } });
      expect(dflt.json()).to.deep.equal({ errors: { name: 'First character must not be _ or %' } });
    });

    it('history only on magma buckets; no collections at all on memcached buckets', async () => {
      const couchstore = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: 'h', history: 'true' } });
      expect([couchstore.status, couchstore.text]).to.deep.equal([400, 'Not allowed on this type of bucket']);
      await rest(mgmt, 'POST', '/pools/default/buckets/magma/scopes', { form: { name: 'm' } });
      const magma = await rest(mgmt, 'POST', '/pools/default/buckets/magma/scopes/m/collections', { form: { name: 'h', history: 'false' } });
      expect(magma.status).to.equal(200);
      const patched = await rest(mgmt, 'PATCH', '/pools/default/buckets/magma/scopes/m/collections/h', { form: { history: 'true' } });
      expect(patched.status).to.equal(200);
      expect(cluster.bucket('magma').manifest.collection('m', 'h')!.history).to.equal(true);
      const mc = await rest(mgmt, 'POST', '/pools/default/buckets/cache/scopes', { form: { name: 's' } });
      expect([mc.status, mc.text]).to.deep.equal([400, 'Not allowed on this type of bucket']);
    });

    it('cannot drop the _default or _system scope nor a system collection', async () => {
      expect((await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/_default')).json()).to.deep.equal({ errors: { _: 'Deleting _default scope is not allowed' } });
      expect((await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/_system')).json()).to.deep.equal({ errors: { _: 'Deleting _system scope is not allowed' } });
      expect((await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/_system/collections/_query')).json()).to.deep.equal({
        errors: { _: 'Cannot drop system collection "_query" for scope "_system"' },
      });
      const missing = await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/shop/collections/nope');
      expect([missing.status, missing.json()]).to.deep.equal([404, { errors: { _: 'Collection with name "nope" in scope "shop" is not found' } }]);
    });

    it('a scope_admin manages its own scope only; a data reader may not', async () => {
      const scoper = basicAuth('scoper', 'pw-scoper');
      const inScope = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { auth: scoper, form: { name: 'by-scoper' } });
      expect(inScope.status).to.equal(200);
      const newScope = await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { auth: scoper, form: { name: 'other' } });
      expect(newScope.status).to.equal(403);
      expect(newScope.json().permissions).to.deep.equal(['cluster.bucket[default].collections!write']);
      const reader = await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/shop/collections/by-scoper', { auth: basicAuth('reader', 'pw-reader') });
      expect(reader.status).to.equal(403);
      // The listing shows a user what it may see: the orders-only user sees its collection alone.
      const listed = (await rest(mgmt, 'GET', '/pools/default/buckets/default/scopes', { auth: basicAuth('orders-only', 'pw-orders') })).json();
      expect(listed.scopes.map((s: { name: string; collections: Array<{ name: string }> }) => [s.name, s.collections.map((c) => c.name)])).to.deep.equal([['shop', ['orders']]]);
    });

    it('the bucket config carries the manifest uid, and clients that asked are pushed the new one', async () => {
      const before = cluster.bucket('default').manifest.uid;
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      clients.push(c);
      await c.hello([HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION, HelloFeature.COLLECTIONS]);
      await c.login(ADMIN.username, ADMIN.password, 'default');
      const cfg = await c.request({ opcode: Opcode.GET_CLUSTER_CONFIG });
      expect(JSON.parse(cfg.value.toString()).collectionsManifestUid).to.equal(before.toString(16));
      expect(JSON.parse(cfg.value.toString()).bucketCapabilities).to.include('collections');
      await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes', { form: { name: 'pushed' } });
      const [push] = await c.take(1);
      expect(push.opcode).to.equal(0x01);
      expect(JSON.parse(push.value.toString()).collectionsManifestUid).to.equal((before + 1).toString(16));
      await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/pushed');
    });
  });

  describe('KV', () => {
    it('GET_COLLECTION_ID and GET_SCOPE_ID answer the manifest uid and the id', async () => {
      const c = await client();
      const uid = BigInt(cluster.bucket('default').manifest.uid);
      const res = await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'shop.orders' });
      expect(res.status).to.equal(Status.SUCCESS);
      expect(decodeCollectionIdExtras(res.extras)).to.deep.equal({ manifestUid: uid, id: cluster.bucket('default').manifest.collection('shop', 'orders')!.uid });
      expect(await collectionId(c, '.')).to.equal(0);
      expect(await collectionId(c, '_system._query')).to.equal(9);
      const scope = await c.request({ opcode: Opcode.GET_SCOPE_ID, value: 'shop' });
      expect(decodeCollectionIdExtras(scope.extras).id).to.equal(cluster.bucket('default').manifest.scope('shop')!.uid);
      expect((await c.request({ opcode: Opcode.GET_SCOPE_ID, value: 'a.b.c' })).status).to.equal(Status.EINVAL);
      expect((await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'no-dot' })).status).to.equal(Status.EINVAL);
      const unknown = await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'shop.nope' });
      expect(unknown.status).to.equal(Status.UNKNOWN_COLLECTION);
      expect(JSON.parse(unknown.value.toString())).to.deep.equal({ manifest_uid: uid.toString(16) });
      const noScope = await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'nope.orders' });
      expect([noScope.status, JSON.parse(noScope.value.toString())]).to.deep.equal([Status.UNKNOWN_SCOPE, { manifest_uid: uid.toString(16) }]);
    });

    it('documents of different collections never collide; seqnos stay per vBucket', async () => {
      const c = await client();
      const orders = await collectionId(c, 'shop.orders');
      const plain = await collectionId(c, 'shop.plain');
      const a = await set(c, 0, 'same-key', 'in default');
      const b = await set(c, orders, 'same-key', 'in orders');
      const d = await set(c, plain, 'same-key', 'in plain');
      expect([a.status, b.status, d.status]).to.deep.equal([0, 0, 0]);
      expect((await get(c, 0, 'same-key')).value.toString()).to.equal('in default');
      expect((await get(c, orders, 'same-key')).value.toString()).to.equal('in orders');
      expect((await get(c, plain, 'same-key')).value.toString()).to.equal('in plain');
      // One vBucket (the key's), three mutations: three consecutive seqnos.
      const seqnos = [a, b, d].map((p) => p.extras.readBigUInt64BE(8));
      expect(seqnos[1] - seqnos[0]).to.equal(1n);
      expect(seqnos[2] - seqnos[1]).to.equal(1n);
      expect([a, b, d].map((p) => p.extras.readBigUInt64BE(0))).to.deep.equal([a.extras.readBigUInt64BE(0), a.extras.readBigUInt64BE(0), a.extras.readBigUInt64BE(0)]);
      expect(cluster.bucket('default').get('same-key')!.value.toString()).to.equal('in default');
      expect(cluster.bucket('default').collectionNamed('shop', 'orders')!.get('same-key')!.value.toString()).to.equal('in orders');
    });

    it('a key names its collection in canonical LEB128; anything else is EINVAL, an unknown id UNKNOWN_COLLECTION', async () => {
      const c = await client();
      const nonCanonical = await c.request({ opcode: Opcode.GET, key: Buffer.from([0x8a, 0x00, 0x61]), vbucket: 0 });
      expect(nonCanonical.status).to.equal(Status.EINVAL);
      const tooLong = await c.request({ opcode: Opcode.GET, key: Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x61]), vbucket: 0 });
      expect(tooLong.status).to.equal(Status.EINVAL);
      const bare = await c.request({ opcode: Opcode.GET, key: encodeLeb128(0x300), vbucket: 0 });
      expect(bare.status).to.equal(Status.EINVAL);
      const unknown = await get(c, 0x300, 'k');
      expect(unknown.status).to.equal(Status.UNKNOWN_COLLECTION);
      expect(JSON.parse(unknown.value.toString())).to.deep.equal({ manifest_uid: cluster.bucket('default').manifest.uid.toString(16) });
    });

    it('GET_COLLECTIONS_MANIFEST: memcached\'s form, filtered by what the user may see', async () => {
      const admin = await client();
      const all = JSON.parse((await admin.request({ opcode: Opcode.GET_COLLECTIONS_MANIFEST })).value.toString());
      const shop = all.scopes.find((s: { name: string }) => s.name === 'shop');
      const orders = shop.collections.find((x: { name: string }) => x.name === 'orders');
      const forever = shop.collections.find((x: { name: string }) => x.name === 'forever');
      const plain = shop.collections.find((x: { name: string }) => x.name === 'plain');
      // ns_server's mapping for memcached: maxTTL n stays, -1 (none) becomes 0, 0 (the bucket's) is left out.
      expect(orders.maxTTL).to.equal(60);
      expect(forever.maxTTL).to.equal(0);
      expect(plain).to.not.have.property('maxTTL');
      expect(all.scopes.map((s: { name: string }) => s.name)).to.include('_system');
      const limited = await client({ username: 'orders-only', password: 'pw-orders' });
      const mine = JSON.parse((await limited.request({ opcode: Opcode.GET_COLLECTIONS_MANIFEST })).value.toString());
      expect(mine.scopes.map((s: { name: string; collections: Array<{ name: string }> }) => [s.name, s.collections.map((x) => x.name)])).to.deep.equal([['shop', ['orders']]]);
    });

    it('RBAC per collection: a user of one collection works there and nowhere else', async () => {
      const c = await client({ username: 'orders-only', password: 'pw-orders' });
      const orders = await collectionId(c, 'shop.orders');
      expect((await set(c, orders, 'mine', '{"v":1}')).status).to.equal(Status.SUCCESS);
      expect((await get(c, orders, 'mine')).status).to.equal(Status.SUCCESS);
      // No privilege at all in a collection: it does not exist for this user.
      const plain = cluster.bucket('default').manifest.collection('shop', 'plain')!.uid;
      expect((await get(c, plain, 'same-key')).status).to.equal(Status.UNKNOWN_COLLECTION);
      expect((await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'shop.plain' })).status).to.equal(Status.UNKNOWN_COLLECTION);
      expect((await get(c, 0, 'same-key')).status).to.equal(Status.UNKNOWN_COLLECTION);
      // A reader of the whole bucket reads a collection but may not write it.
      const r = await client({ username: 'reader', password: 'pw-reader' });
      expect((await get(r, orders, 'mine')).status).to.equal(Status.SUCCESS);
      expect((await set(r, orders, 'mine', '{"v":2}')).status).to.equal(Status.EACCESS);
      // System collections need the system privileges: a bucket-wide reader does not see them.
      expect((await get(r, 9, 'x')).status).to.equal(Status.UNKNOWN_COLLECTION);
      const admin = await client();
      expect((await get(admin, 9, 'x')).status).to.equal(Status.KEY_ENOENT);
    });

    it('a durable write to a named collection is prepared and committed there, not in the default one', async () => {
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      c.numVBuckets = 64;
      clients.push(c);
      await c.hello([...COLL_HELLO, HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.SYNC_REPLICATION]);
      await c.login(ADMIN.username, ADMIN.password, 'default');
      const orders = await collectionId(c, 'shop.orders');
      const res = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: Buffer.from([0x11, 0x01]), key: ckey(orders, 'durable'), extras: Buffer.alloc(8), value: '{"d":1}', vbucket: c.vb('durable') });
      expect(res.status).to.equal(Status.SUCCESS);
      expect(cluster.bucket('default').collectionNamed('shop', 'orders')!.get('durable')!.value.toString()).to.equal('{"d":1}');
      expect(cluster.bucket('default').get('durable')).to.equal(undefined);
      // And the next plain write to the default collection is not taken for a prepare.
      expect((await set(c, 0, 'after-durable', 'x')).status).to.equal(Status.SUCCESS);
      expect(cluster.bucket('default').get('after-durable')!.value.toString()).to.equal('x');
    });

    it('OBSERVE names each key\'s collection', async () => {
      const c = await client();
      const orders = await collectionId(c, 'shop.orders');
      await set(c, orders, 'observed', 'x');
      const key = ckey(orders, 'observed');
      const body = Buffer.alloc(4 + key.length);
      body.writeUInt16BE(c.vb('observed'), 0);
      body.writeUInt16BE(key.length, 2);
      key.copy(body, 4);
      const res = await c.request({ opcode: Opcode.OBSERVE, value: body });
      expect(res.status).to.equal(Status.SUCCESS);
      expect(res.value[4 + key.length]).to.equal(0x01); // persisted
      const missing = ckey(0x301, 'observed');
      const bad = Buffer.alloc(4 + missing.length);
      bad.writeUInt16BE(c.vb('observed'), 0);
      bad.writeUInt16BE(missing.length, 2);
      missing.copy(bad, 4);
      expect((await c.request({ opcode: Opcode.OBSERVE, value: bad })).status).to.equal(Status.UNKNOWN_COLLECTION);
    });

    it('range scans read the collection their create names, with the privileges held there', async () => {
      const admin = await client();
      const orders = await collectionId(admin, 'shop.orders');
      const vb = admin.vb('rs-a');
      const scanKeys = ['rs-a', 'rs-b', 'rs-c', 'rs-d', 'rs-e', 'rs-f', 'rs-g', 'rs-h'].filter((k) => admin.vb(k) === vb);
      for (const k of scanKeys) await set(admin, orders, k, '{"in":"orders"}');
      await set(admin, 0, 'rs-default-only', '{"in":"default"}');
      const create = (c: RawClient, config: RangeScanCreateConfig): Promise<Packet> =>
        c.request({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: vb, datatype: 1, value: encodeRangeScanCreate({ keyOnly: true, range: { start: 'rs-', end: 'rs-\xff' }, ...config }) });
      const scan = async (c: RawClient, cid: number): Promise<string[]> => {
        const res = await create(c, { collection: cid });
        expect(res.status, res.value.toString()).to.equal(Status.SUCCESS);
        c.write(c.frame({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: vb, extras: encodeRangeScanContinueExtras(res.value, { itemLimit: 0, timeLimitMs: 0, byteLimit: 0 }) }));
        const keys: string[] = [];
        for (;;) {
          const [p] = await c.take(1);
          keys.push(...decodeScanKeys(p.value).map((k) => k.toString()));
          if (p.status !== Status.SUCCESS) {
            expect(p.status).to.equal(Status.RANGE_SCAN_COMPLETE);
            return keys.sort();
          }
        }
      };
      expect(await scan(admin, orders)).to.deep.equal(scanKeys.sort());
      // A user of the one collection scans it; the default collection does not exist for them.
      const mine = await client({ username: 'orders-only', password: 'pw-orders' });
      expect(await scan(mine, orders)).to.deep.equal(scanKeys);
      const refused = await create(mine, { collection: 0 });
      expect(refused.status).to.equal(Status.UNKNOWN_COLLECTION);
      expect(JSON.parse(refused.value.toString())).to.deep.equal({ manifest_uid: cluster.bucket('default').manifest.uid.toString(16) });
      // A collection dropped under an open scan: its continue answers UNKNOWN_COLLECTION.
      cluster.changeCollections('default', { op: 'createCollection', scope: 'shop', collection: 'scanned', props: {} });
      const scanned = await collectionId(admin, 'shop.scanned');
      await set(admin, scanned, scanKeys[0], '{}');
      const open = await create(admin, { collection: scanned });
      expect(open.status).to.equal(Status.SUCCESS);
      cluster.changeCollections('default', { op: 'dropCollection', scope: 'shop', collection: 'scanned' });
      const cont = await admin.request({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: vb, extras: encodeRangeScanContinueExtras(open.value, { itemLimit: 0, timeLimitMs: 0, byteLimit: 0 }) });
      expect(cont.status).to.equal(Status.UNKNOWN_COLLECTION);
      expect((await create(admin, { collection: scanned })).status).to.equal(Status.UNKNOWN_COLLECTION);
    });

    it('maxTTL per collection: n caps and defaults, -1 means none, 0 the bucket\'s', async () => {
      const c = await client();
      const now = Math.floor(clock.now() / 1000);
      const bucket = cluster.bucket('default');
      await set(c, await collectionId(c, 'shop.orders'), 'ttl', 'x', 5000);
      await set(c, await collectionId(c, 'shop.forever'), 'ttl', 'x', 0);
      await set(c, await collectionId(c, 'shop.plain'), 'ttl', 'x', 0);
      expect(bucket.collectionNamed('shop', 'orders')!.get('ttl')!.expiry).to.equal(now + 60);
      expect(bucket.collectionNamed('shop', 'forever')!.get('ttl')!.expiry).to.equal(0);
      expect(bucket.collectionNamed('shop', 'plain')!.get('ttl')!.expiry).to.equal(now + 1000);
      // PATCH changes it for later writes (7.6).
      await rest(mgmt, 'PATCH', '/pools/default/buckets/default/scopes/shop/collections/orders', { form: { maxTTL: '10' } });
      await set(c, await collectionId(c, 'shop.orders'), 'ttl2', 'x', 0);
      expect(bucket.collectionNamed('shop', 'orders')!.get('ttl2')!.expiry).to.equal(now + 10);
      clock.advance(11_000);
      expect((await get(c, await collectionId(c, 'shop.orders'), 'ttl2')).status).to.equal(Status.KEY_ENOENT);
    });

    it('dropping a collection deletes its documents; its id never comes back', async () => {
      const c = await client();
      await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: 'tmp' } });
      const tmp = await collectionId(c, 'shop.tmp');
      await set(c, tmp, 'gone', 'x');
      const res = await rest(mgmt, 'DELETE', '/pools/default/buckets/default/scopes/shop/collections/tmp');
      expect(res.status).to.equal(200);
      expect((await get(c, tmp, 'gone')).status).to.equal(Status.UNKNOWN_COLLECTION);
      await rest(mgmt, 'POST', '/pools/default/buckets/default/scopes/shop/collections', { form: { name: 'tmp' } });
      const again = await collectionId(c, 'shop.tmp');
      expect(again).to.be.greaterThan(tmp);
      expect((await get(c, again, 'gone')).status).to.equal(Status.KEY_ENOENT);
    });

    it('the default collection may be dropped: its documents go, KV and N1QL no longer find it', async () => {
      const magma = await client(ADMIN, 'magma');
      expect((await set(magma, 0, 'd', 'x')).status).to.equal(Status.SUCCESS);
      const res = await rest(mgmt, 'DELETE', '/pools/default/buckets/magma/scopes/_default/collections/_default');
      expect(res.status).to.equal(200);
      expect((await get(magma, 0, 'd')).status).to.equal(Status.UNKNOWN_COLLECTION);
      const legacy = await RawClient.connect(cluster.nodes[0].ports.kv);
      legacy.numVBuckets = 64;
      clients.push(legacy);
      await legacy.login(ADMIN.username, ADMIN.password, 'magma');
      expect((await legacy.get('d')).status).to.equal(Status.UNKNOWN_COLLECTION);
      expect(cluster.bucket('magma').totalSize).to.equal(0);
      expect((await query('SELECT * FROM magma')).errors![0]).to.deep.equal({ code: 12003, msg: 'Keyspace not found in CB datastore: default:magma' });
      const again = await rest(mgmt, 'POST', '/pools/default/buckets/magma/scopes/_default/collections', { form: { name: '_default' } });
      expect(again.status).to.equal(400);
    });

    it('a connection without COLLECTIONS reads and writes the default collection', async () => {
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      c.numVBuckets = 64;
      clients.push(c);
      await c.login(ADMIN.username, ADMIN.password, 'default');
      expect((await c.get('same-key')).value.toString()).to.equal('in default');
    });
  });

  describe('N1QL', () => {
    it('CREATE/DROP SCOPE and COLLECTION, with IF [NOT] EXISTS and WITH maxTTL', async () => {
      expect((await query('CREATE SCOPE default.travel')).status).to.equal('success');
      const again = await query('CREATE SCOPE default.travel');
      expect(again.errors).to.deep.equal([{ code: 12025, msg: 'Error while creating scope default.travel - cause: Scope with name "travel" already exists' }]);
      expect((await query('CREATE SCOPE default.travel IF NOT EXISTS')).status).to.equal('success');
      expect((await query('CREATE COLLECTION default.travel.hotels WITH {"maxTTL": 120}')).status).to.equal('success');
      expect(cluster.bucket('default').manifest.collection('travel', 'hotels')!.maxTTL).to.equal(120);
      expect((await query('CREATE COLLECTION airlines', { query_context: 'default:default.travel' })).status).to.equal('success');
      expect(cluster.bucket('default').manifest.collection('travel', 'airlines')).to.not.equal(undefined);
      const missing = await query('DROP COLLECTION default.travel.nope');
      expect(missing.errors![0].code).to.equal(12003);
      expect((await query('DROP COLLECTION default.travel.nope IF EXISTS')).status).to.equal('success');
      const badName = await query('CREATE COLLECTION default.travel.`%x`');
      expect(badName.errors).to.deep.equal([{ code: 12027, msg: 'Error while creating collection default.travel.%x - cause: First character must not be _ or %' }]);
    });

    it('reads and writes bucket.scope.collection and relative names in the query_context', async () => {
      await query('INSERT INTO default.travel.hotels (KEY, VALUE) VALUES ("h1", {"name": "Ritz"}), ("h2", {"name": "Savoy"})');
      const rows = await query('SELECT name FROM hotels USE KEYS ["h1", "h2"]', { query_context: 'default:default.travel' });
      expect(rows.results).to.deep.equal([{ name: 'Ritz' }, { name: 'Savoy' }]);
      expect(cluster.bucket('default').collectionNamed('travel', 'hotels')!.get('h1')!.flags).to.equal(0x02000000);
      expect(cluster.bucket('default').get('h1')).to.equal(undefined);
      expect((await query('SELECT * FROM default.nope.hotels')).errors).to.deep.equal([{ code: 12021, msg: 'Scope not found in CB datastore default:default.nope' }]);
      expect((await query('SELECT * FROM default.travel.nope')).errors).to.deep.equal([{ code: 12003, msg: 'Keyspace not found in CB datastore: default:default.travel.nope' }]);
    });

    it('indexes on a collection, listed in system:indexes with bucket_id and scope_id', async () => {
      const noIndex = await query('SELECT name FROM default.travel.hotels');
      expect(noIndex.errors![0].msg).to.contain('`default`:`default`.`travel`.`hotels`');
      expect((await query('CREATE PRIMARY INDEX ON default.travel.hotels')).status).to.equal('success');
      expect((await query('CREATE INDEX by_name ON default.travel.hotels(name)')).status).to.equal('success');
      const rows = await query('SELECT name FROM default.travel.hotels WHERE name > "S"');
      expect(rows.results).to.deep.equal([{ name: 'Savoy' }]);
      const listed = await query('SELECT i.name, i.bucket_id, i.scope_id, i.keyspace_id FROM system:indexes i WHERE i.scope_id = "travel" ORDER BY i.name');
      expect(listed.results).to.deep.equal([
        { name: '#primary', bucket_id: 'default', scope_id: 'travel', keyspace_id: 'hotels' },
        { name: 'by_name', bucket_id: 'default', scope_id: 'travel', keyspace_id: 'hotels' },
      ]);
    });

    it('system:keyspaces and system:scopes list the collections and scopes', async () => {
      const ks = await query('SELECT k.path FROM system:keyspaces k WHERE k.`bucket` = "default" AND k.`scope` = "travel" ORDER BY k.path');
      expect(ks.results).to.deep.equal([{ path: 'default:default.travel.airlines' }, { path: 'default:default.travel.hotels' }]);
      const scopes = await query('SELECT s.name FROM system:scopes s WHERE s.`bucket` = "default" ORDER BY s.name');
      expect((scopes.results as Array<{ name: string }>).map((s) => s.name)).to.include.members(['_default', 'shop', 'travel']);
    });

    it('a scope_admin may create collections in its scope only (13014 elsewhere)', async () => {
      const scoper = basicAuth('scoper', 'pw-scoper');
      expect((await query('CREATE COLLECTION default.shop.n1ql_made', {}, scoper)).status).to.equal('success');
      const denied = await query('CREATE COLLECTION default.travel.no', {}, scoper);
      expect(denied.errors![0].code).to.equal(13014);
    });

    it('query privileges are per collection too', async () => {
      const auth = basicAuth('orders-only', 'pw-orders');
      cluster.bucket('default').collectionNamed('shop', 'orders')!.write('q1', Buffer.from('{"n":1}'), 'upsert');
      expect((await query('SELECT n FROM default.shop.orders USE KEYS "q1"', {}, auth)).results).to.deep.equal([{ n: 1 }]);
      const denied = await query('SELECT * FROM default.shop.plain USE KEYS "q1"', {}, auth);
      expect(denied.errors![0].code).to.equal(13014);
      expect(denied.errors![0].msg).to.contain('default:default.shop.plain');
    });

    it('dropping a scope drops its collections, their documents and indexes', async () => {
      expect((await query('DROP SCOPE default.travel')).status).to.equal('success');
      expect((await query('SELECT * FROM default.travel.hotels')).errors![0].code).to.equal(12021);
      expect((await query('SELECT i.name FROM system:indexes i WHERE i.scope_id = "travel"')).results).to.deep.equal([]);
      expect([...cluster.bucket('default').bucketMetadata.entries().keys()].filter((n) => n.startsWith('n1ql'))).to.deep.equal([]);
    });
  });
});
