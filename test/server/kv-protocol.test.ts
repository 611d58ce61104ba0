import { expect } from 'chai';
import net from 'node:net';
import sinon from 'sinon';
import { Cluster, ManualClock } from '../../lib/server';
import { HelloFeature, Magic, Opcode, Status, encodePacket, encodePlain } from '../../lib/protocol';
import { RawClient, features } from './raw-client';

const USER = { username: 'alice', password: 'secret-pw' };

describe('server KV protocol (single node, raw socket)', () => {
  let cluster: Cluster;
  let clock: ManualClock;
  let kvPort: number;
  const clients: RawClient[] = [];

  async function client(opts: { hello?: number[]; login?: boolean } = {}): Promise<RawClient> {
    const c = await RawClient.connect(kvPort);
    clients.push(c);
    if (opts.hello) await c.hello(opts.hello);
    if (opts.login !== false) await c.login(USER.username, USER.password, 'default');
    return c;
  }

  before(async () => {
    clock = new ManualClock(Date.UTC(2025, 5, 1));
    cluster = await Cluster.start({
      users: [USER, { username: 'bob', password: 'pw', buckets: ['other'] }],
      buckets: [{ name: 'default' }, { name: 'other' }],
      clock,
      queryService: null,
      viewsService: null,
    });
    kvPort = cluster.nodes[0].ports.kv;
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  after(async () => {
    await cluster.stop();
  });

  describe('connection setup', () => {
    it('HELLO acknowledges exactly the implemented features it was asked for, in its order', async () => {
      const c = await client({ login: false });
      const asked = [
        HelloFeature.SNAPPY,
        HelloFeature.TCP_NODELAY,
        HelloFeature.XERROR,
        HelloFeature.SELECT_BUCKET,
        HelloFeature.JSON,
        HelloFeature.DUPLEX,
        HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION,
        HelloFeature.ALT_REQUEST_SUPPORT,
        HelloFeature.COLLECTIONS,
        HelloFeature.MUTATION_SEQNO,
        HelloFeature.UNORDERED_EXECUTION,
        HelloFeature.SYNC_REPLICATION,
        HelloFeature.TRACING,
        HelloFeature.DEDUPE_NOT_MY_VBUCKET_CLUSTERMAP,
      ];
      const acked = await c.hello(asked);
      expect(acked).to.deep.equal(asked.filter((f) => f !== HelloFeature.DEDUPE_NOT_MY_VBUCKET_CLUSTERMAP));
    });

    it('clustermap notification is only acknowledged together with duplex', async () => {
      const c = await client({ login: false });
      expect(await c.hello([HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION, HelloFeature.XERROR])).to.deep.equal([HelloFeature.XERROR]);
    });

    it('answers a pipelined HELLO + SASL_LIST_MECHS + SASL_AUTH written at once, in order', async () => {
      const c = await client({ login: false });
      const buf = Buffer.concat([
        c.frame({ opcode: Opcode.HELLO, key: 'agent', value: features([HelloFeature.XERROR, HelloFeature.JSON]) }),
        c.frame({ opcode: Opcode.SASL_LIST_MECHS }),
        c.frame({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain(USER.username, USER.password) }),
        c.frame({ opcode: Opcode.GET_ERROR_MAP, value: Buffer.from([0, 2]) }),
        c.frame({ opcode: Opcode.SELECT_BUCKET, key: 'default' }),
        c.frame({ opcode: Opcode.GET_CLUSTER_CONFIG }),
      ]);
      c.write(buf);
      const [hello, mechs, auth, errmap, select, config] = await c.take(6);
      expect([hello, mechs, auth, errmap, select, config].map((p) => p.opcode)).to.deep.equal([
        Opcode.HELLO,
        Opcode.SASL_LIST_MECHS,
        Opcode.SASL_AUTH,
        Opcode.GET_ERROR_MAP,
        Opcode.SELECT_BUCKET,
        Opcode.GET_CLUSTER_CONFIG,
      ]);
      expect(hello.value.length).to.equal(4);
      expect(mechs.value.toString()).to.equal('SCRAM-SHA512 SCRAM-SHA256 SCRAM-SHA1 PLAIN');
      expect(auth.status).to.equal(Status.SUCCESS);
      const map = JSON.parse(errmap.value.toString());
      expect(map.version).to.equal(2);
      expect(map.errors['1'].name).to.equal('KEY_ENOENT');
      expect(select.status).to.equal(Status.SUCCESS);
      expect(config.datatype).to.equal(1);
      const cfg = JSON.parse(config.value.toString());
      expect(cfg.name).to.equal('default');
      expect(cfg.vBucketServerMap.vBucketMap).to.have.length(1024);
      expect(cfg.nodesExt[0].thisNode).to.equal(true);
      expect(cfg.nodesExt[0].services.kv).to.equal(kvPort);
    });

    for (const mech of ['SCRAM-SHA1', 'SCRAM-SHA256', 'SCRAM-SHA512'] as const) {
      it(`${mech} authenticates, and the server's final message verifies`, async () => {
        const c = await client({ login: false });
        expect(await c.authScram(mech, USER.username, USER.password)).to.equal(Status.SUCCESS);
        expect(await c.selectBucket('default')).to.equal(Status.SUCCESS);
      });
    }

    it('a wrong password gets AUTH_ERROR and nothing else, for PLAIN and SCRAM', async () => {
      const c = await client({ login: false });
      const res = await c.request({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain(USER.username, 'wrong') });
      expect(res.status).to.equal(Status.AUTH_ERROR);
      expect(res.value.length).to.equal(0);
      expect(await c.authScram('SCRAM-SHA512', USER.username, 'wrong')).to.equal(Status.AUTH_ERROR);
      expect(await c.authScram('SCRAM-SHA512', 'nobody', 'wrong')).to.equal(Status.AUTH_ERROR);
      expect(await c.selectBucket('default')).to.equal(Status.EACCESS);
    });

    it('SELECT_BUCKET on a missing or forbidden bucket gets EACCESS', async () => {
      const c = await client({ login: false });
      await c.login('bob', 'pw');
      expect(await c.selectBucket('nope')).to.equal(Status.EACCESS);
      expect(await c.selectBucket('default')).to.equal(Status.EACCESS);
      expect(await c.selectBucket('other')).to.equal(Status.SUCCESS);
    });

    it('GET_CLUSTER_CONFIG without a bucket returns the global (GCCCP) config', async () => {
      const c = await client({ login: false });
      await c.login(USER.username, USER.password);
      const res = await c.request({ opcode: Opcode.GET_CLUSTER_CONFIG });
      expect(res.status).to.equal(Status.SUCCESS);
      const cfg = JSON.parse(res.value.toString());
      expect(cfg).to.not.have.property('vBucketServerMap');
      expect(cfg.nodesExt[0].services.mgmt).to.equal(cluster.nodes[0].ports.mgmt);
    });

    it('document operations before SELECT_BUCKET are refused', async () => {
      const c = await client({ login: false });
      expect((await c.get('k')).status).to.equal(Status.EACCESS);
      await c.login(USER.username, USER.password);
      expect((await c.get('k')).status).to.equal(Status.NO_BUCKET);
    });

    it('collections: default collection via LEB128 prefix, GET_COLLECTION_ID and the manifest', async () => {
      const c = await client({ hello: [HelloFeature.COLLECTIONS, HelloFeature.XERROR] });
      const key = Buffer.concat([Buffer.from([0]), Buffer.from('coll-doc')]);
      const extras = Buffer.alloc(8);
      const set = await c.request({ opcode: Opcode.SET, key, extras, value: 'v', vbucket: c.vb('coll-doc') });
      expect(set.status).to.equal(Status.SUCCESS);
      expect(cluster.bucket('default').get('coll-doc')!.value.toString()).to.equal('v');
      const other = await c.request({ opcode: Opcode.GET, key: Buffer.from([0x40, 0x61]), vbucket: 0 });
      expect(other.status).to.equal(Status.UNKNOWN_COLLECTION);
      const id = await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: '_default._default' });
      expect(id.status).to.equal(Status.SUCCESS);
      // The manifest uid (a 7.6 bucket starts at 1), then collection id 0.
      expect(id.extras).to.deep.equal(Buffer.from('000000000000000100000000', 'hex'));
      expect((await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: '_default.nope' })).status).to.equal(Status.UNKNOWN_COLLECTION);
      expect((await c.request({ opcode: Opcode.GET_COLLECTION_ID, value: 'nope.x' })).status).to.equal(Status.UNKNOWN_SCOPE);
      const manifest = await c.request({ opcode: Opcode.GET_COLLECTIONS_MANIFEST });
      expect(JSON.parse(manifest.value.toString()).scopes[0].name).to.equal('_default');
    });

    it('unknown opcodes get UNKNOWN_COMMAND and the connection stays usable', async () => {
      const c = await client();
      expect((await c.request({ opcode: 0xf0 })).status).to.equal(Status.UNKNOWN_COMMAND);
      expect((await c.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('VERSION, STAT and QUIT', async () => {
      const c = await client();
      expect((await c.request({ opcode: Opcode.VERSION })).value.toString()).to.match(/^\d+\.\d+\.\d+/);
      c.write(c.frame({ opcode: Opcode.STAT }));
      const stats: Record<string, string> = {};
      for (;;) {
        const [p] = await c.take(1);
        if (p.key.length === 0) break;
        stats[p.key.toString()] = p.value.toString();
      }
      expect(stats).to.include.keys('pid', 'uptime', 'curr_items', 'curr_connections');
      expect((await c.request({ opcode: Opcode.STAT, key: 'nosuchgroup' })).status).to.equal(Status.KEY_ENOENT);
      const quit = await c.request({ opcode: Opcode.QUIT });
      expect(quit.status).to.equal(Status.SUCCESS);
      await c.waitClosed();
    });
  });

  describe('documents', () => {
    it('SET / GET keep flags, datatype and CAS; stale CAS fails', async () => {
      const c = await client({ hello: [HelloFeature.JSON, HelloFeature.XERROR] });
      const set = await c.set('doc1', '{"a":1}', { flags: 0x02000000 });
      expect(set.status).to.equal(Status.SUCCESS);
      expect(set.cas).to.not.equal(0n);
      const get = await c.get('doc1');
      expect(get.status).to.equal(Status.SUCCESS);
      expect(get.extras.readUInt32BE(0)).to.equal(0x02000000);
      expect(get.datatype).to.equal(1);
      expect(get.cas).to.equal(set.cas);
      expect(get.value.toString()).to.equal('{"a":1}');
      const replaced = await c.set('doc1', 'raw', { opcode: Opcode.REPLACE, cas: set.cas });
      expect(replaced.status).to.equal(Status.SUCCESS);
      expect((await c.set('doc1', 'x', { opcode: Opcode.REPLACE, cas: set.cas })).status).to.equal(Status.KEY_EEXISTS);
      expect((await c.get('doc1')).datatype).to.equal(0);
    });

    it('large values come back intact and in order within a pipeline', async () => {
      const c = await client();
      const big = Buffer.alloc(300 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      await c.set('big-1', big);
      c.write(Buffer.concat([
        c.frame({ opcode: Opcode.GET, key: 'big-1', vbucket: c.vb('big-1') }),
        c.frame({ opcode: Opcode.NOOP }),
        c.frame({ opcode: Opcode.GETK, key: 'big-1', vbucket: c.vb('big-1') }),
      ]));
      const [a, noop, b] = await c.take(3);
      expect(a.value.equals(big)).to.equal(true);
      expect(noop.opcode).to.equal(Opcode.NOOP);
      expect(b.key.toString()).to.equal('big-1');
      expect(b.value.equals(big)).to.equal(true);
    });

    it('ADD on an existing key gets KEY_EEXISTS, REPLACE on a missing key gets KEY_ENOENT', async () => {
      const c = await client();
      await c.set('doc2', 'v');
      expect((await c.set('doc2', 'v', { opcode: Opcode.ADD })).status).to.equal(Status.KEY_EEXISTS);
      expect((await c.set('missing2', 'v', { opcode: Opcode.REPLACE })).status).to.equal(Status.KEY_ENOENT);
    });

    it('mutation tokens (16 bytes) come back only with MUTATION_SEQNO', async () => {
      const plain = await client();
      expect((await plain.set('tok', 'v')).extras.length).to.equal(0);
      const seq = await client({ hello: [HelloFeature.MUTATION_SEQNO] });
      const res = await seq.set('tok', 'v2');
      expect(res.extras.length).to.equal(16);
      const store = cluster.bucket('default');
      const vb = store.vbucketOf('tok');
      expect(res.extras.readBigUInt64BE(0)).to.equal(store.vbucketUuid(vb));
      expect(res.extras.readBigUInt64BE(8)).to.equal(store.vbucketSeqno(vb));
    });

    it('DELETE, then GET misses and GETQ stays silent', async () => {
      const c = await client();
      await c.set('gone', 'v');
      expect((await c.request({ opcode: Opcode.DELETE, key: 'gone', vbucket: c.vb('gone') })).status).to.equal(Status.SUCCESS);
      expect((await c.get('gone')).status).to.equal(Status.KEY_ENOENT);
      c.write(Buffer.concat([c.frame({ opcode: Opcode.GETQ, key: 'gone', vbucket: c.vb('gone') }), c.frame({ opcode: Opcode.NOOP })]));
      const [p] = await c.take(1);
      expect(p.opcode).to.equal(Opcode.NOOP);
    });

    it('quiet mutations answer only on failure; GETK echoes the key', async () => {
      const c = await client();
      const extras = Buffer.alloc(8);
      c.write(
        Buffer.concat([
          c.frame({ opcode: Opcode.SETQ, key: 'q1', extras, value: 'a', vbucket: c.vb('q1') }),
          c.frame({ opcode: Opcode.ADDQ, key: 'q1', extras, value: 'b', vbucket: c.vb('q1') }),
          c.frame({ opcode: Opcode.GETK, key: 'q1', vbucket: c.vb('q1') }),
          c.frame({ opcode: Opcode.NOOP }),
        ]),
      );
      const [add, getk, noop] = await c.take(3);
      expect(add.opcode).to.equal(Opcode.ADDQ);
      expect(add.status).to.equal(Status.KEY_EEXISTS);
      expect(getk.key.toString()).to.equal('q1');
      expect(getk.value.toString()).to.equal('a');
      expect(noop.opcode).to.equal(Opcode.NOOP);
    });

    it('INCREMENT / DECREMENT: create with initial, 8-byte result, no-create expiry, DELTA_BADVAL', async () => {
      const c = await client();
      const counter = (op: number, key: string, delta: bigint, initial: bigint, expiry: number) => {
        const extras = Buffer.alloc(20);
        extras.writeBigUInt64BE(delta, 0);
        extras.writeBigUInt64BE(initial, 8);
        extras.writeUInt32BE(expiry, 16);
        return c.request({ opcode: op, key, extras, vbucket: c.vb(key) });
      };
      expect((await counter(Opcode.INCREMENT, 'ctr', 1n, 0n, 0xffffffff)).status).to.equal(Status.KEY_ENOENT);
      expect((await counter(Opcode.INCREMENT, 'ctr', 1n, 10n, 0)).value.readBigUInt64BE(0)).to.equal(10n);
      expect((await counter(Opcode.INCREMENT, 'ctr', 5n, 0n, 0)).value.readBigUInt64BE(0)).to.equal(15n);
      expect((await counter(Opcode.DECREMENT, 'ctr', 100n, 0n, 0)).value.readBigUInt64BE(0)).to.equal(0n);
      expect((await c.get('ctr')).value.toString()).to.equal('0');
      await c.set('notnum', 'abc');
      expect((await counter(Opcode.INCREMENT, 'notnum', 1n, 0n, 0)).status).to.equal(Status.DELTA_BADVAL);
    });

    it('APPEND / PREPEND join values and answer NOT_STORED on a missing key', async () => {
      const c = await client();
      await c.set('cat', 'b');
      expect((await c.request({ opcode: Opcode.APPEND, key: 'cat', value: 'c', vbucket: c.vb('cat') })).status).to.equal(Status.SUCCESS);
      expect((await c.request({ opcode: Opcode.PREPEND, key: 'cat', value: 'a', vbucket: c.vb('cat') })).status).to.equal(Status.SUCCESS);
      expect((await c.get('cat')).value.toString()).to.equal('abc');
      expect((await c.request({ opcode: Opcode.APPEND, key: 'nocat', value: 'c', vbucket: c.vb('nocat') })).status).to.equal(Status.NOT_STORED);
    });

    it('expiry runs on the server clock: TOUCH and GAT move it', async () => {
      const c = await client();
      await c.set('ttl', 'v', { expiry: 10 });
      clock.advance(5000);
      const extras = Buffer.alloc(4);
      extras.writeUInt32BE(20, 0);
      expect((await c.request({ opcode: Opcode.TOUCH, key: 'ttl', extras, vbucket: c.vb('ttl') })).status).to.equal(Status.SUCCESS);
      clock.advance(10000);
      const gat = await c.request({ opcode: Opcode.GAT, key: 'ttl', extras, vbucket: c.vb('ttl') });
      expect(gat.value.toString()).to.equal('v');
      clock.advance(20000);
      expect((await c.get('ttl')).status).to.equal(Status.KEY_ENOENT);
    });

    it('GET_LOCKED: others see LOCKED (XERROR) or ETMPFAIL, GET shows an all-ones CAS, UNLOCK and timeout release', async () => {
      const x = await client({ hello: [HelloFeature.XERROR] });
      const old = await client();
      await x.set('lk', 'v');
      const lockExtras = Buffer.alloc(4);
      lockExtras.writeUInt32BE(5, 0);
      const locked = await x.request({ opcode: Opcode.GET_LOCKED, key: 'lk', extras: lockExtras, vbucket: x.vb('lk') });
      expect(locked.status).to.equal(Status.SUCCESS);
      expect((await x.set('lk', 'w')).status).to.equal(Status.LOCKED);
      expect((await old.set('lk', 'w')).status).to.equal(Status.ETMPFAIL);
      expect((await x.get('lk')).cas).to.equal(0xffffffffffffffffn);
      expect((await x.request({ opcode: Opcode.UNLOCK_KEY, key: 'lk', cas: locked.cas + 1n, vbucket: x.vb('lk') })).status).to.equal(Status.LOCKED);
      expect((await x.request({ opcode: Opcode.UNLOCK_KEY, key: 'lk', cas: locked.cas, vbucket: x.vb('lk') })).status).to.equal(Status.SUCCESS);
      expect((await x.request({ opcode: Opcode.UNLOCK_KEY, key: 'lk', cas: locked.cas, vbucket: x.vb('lk') })).status).to.equal(Status.NOT_LOCKED);
      await x.request({ opcode: Opcode.GET_LOCKED, key: 'lk', extras: lockExtras, vbucket: x.vb('lk') });
      clock.advance(5000);
      expect((await x.set('lk', 'after')).status).to.equal(Status.SUCCESS);
    });

    it('GET_META reports live and deleted documents', async () => {
      const c = await client({ hello: [HelloFeature.JSON] });
      await c.set('meta', '{}', { flags: 5 });
      const live = await c.request({ opcode: Opcode.GET_META, key: 'meta', extras: Buffer.from([2]), vbucket: c.vb('meta') });
      expect(live.extras.length).to.equal(21);
      expect(live.extras.readUInt32BE(0)).to.equal(0);
      expect(live.extras.readUInt32BE(4)).to.equal(5);
      expect(live.extras[20]).to.equal(1);
      await c.request({ opcode: Opcode.DELETE, key: 'meta', vbucket: c.vb('meta') });
      const dead = await c.request({ opcode: Opcode.GET_META, key: 'meta', extras: Buffer.from([2]), vbucket: c.vb('meta') });
      expect(dead.extras.readUInt32BE(0)).to.equal(1);
      expect((await c.request({ opcode: Opcode.GET_META, key: 'never', extras: Buffer.from([2]), vbucket: c.vb('never') })).status).to.equal(Status.KEY_ENOENT);
    });

    it('OBSERVE and OBSERVE_SEQNO', async () => {
      const c = await client();
      await c.set('obs', 'v');
      const vb = c.vb('obs');
      const body = Buffer.alloc(4 + 3);
      body.writeUInt16BE(vb, 0);
      body.writeUInt16BE(3, 2);
      body.write('obs', 4);
      const res = await c.request({ opcode: Opcode.OBSERVE, value: body });
      expect(res.status).to.equal(Status.SUCCESS);
      expect(res.value[7]).to.equal(0x01);
      expect(res.value.readBigUInt64BE(8)).to.equal(cluster.bucket('default').get('obs')!.cas);
      const uuid = Buffer.alloc(8);
      uuid.writeBigUInt64BE(cluster.bucket('default').vbucketUuid(vb), 0);
      const seq = await c.request({ opcode: Opcode.OBSERVE_SEQNO, value: uuid, vbucket: vb });
      expect(seq.value[0]).to.equal(0);
      expect(seq.value.readBigUInt64BE(19)).to.equal(cluster.bucket('default').vbucketSeqno(vb));
    });

    it('a 250-byte key is fine, a 251-byte key gets EINVAL, a value over 20 MiB gets E2BIG', async () => {
      const c = await client();
      expect((await c.set('k'.repeat(250), 'v')).status).to.equal(Status.SUCCESS);
      expect((await c.set('k'.repeat(251), 'v')).status).to.equal(Status.EINVAL);
      expect((await c.set('big', Buffer.alloc(20 * 1024 * 1024 + 1))).status).to.equal(Status.E2BIG);
      expect(cluster.bucket('default').get('big')).to.equal(undefined);
      expect((await c.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('flexible-framing requests (magic 0x08) with a durability frame are accepted; bad levels are not', async () => {
      const c = await client({ hello: [HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.SYNC_REPLICATION] });
      const extras = Buffer.alloc(8);
      const ok = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: Buffer.from([0x11, 0x01]), key: 'dur', extras, value: 'v', vbucket: c.vb('dur') });
      expect(ok.status).to.equal(Status.SUCCESS);
      const bad = await c.request({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: Buffer.from([0x11, 0x09]), key: 'dur', extras, value: 'w', vbucket: c.vb('dur') });
      expect(bad.status).to.equal(Status.DURABILITY_INVALID_LEVEL);
      expect(cluster.bucket('default').get('dur')!.value.toString()).to.equal('v');
    });

    it('subdoc multi lookup reads paths and the $document virtual xattr', async () => {
      // An xattr path needs the XATTR HELLO feature (kv_engine: NOT_SUPPORTED without it).
      const plain = await client({ hello: [HelloFeature.JSON, HelloFeature.XERROR] });
      await plain.set('sd', '{}');
      const refused = await plain.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: 'sd', vbucket: plain.vb('sd'), value: Buffer.from([Opcode.SUBDOC_GET, 0x04, 0, 9, ...Buffer.from('$document')]) });
      expect(refused.status).to.equal(Status.NOT_SUPPORTED);
      const c = await client({ hello: [HelloFeature.JSON, HelloFeature.XERROR, HelloFeature.XATTR] });
      await c.set('sd', '{"a":{"b":[1,2,3]},"s":"x"}', { expiry: 100 });
      const spec = (op: number, flags: number, path: string) => {
        const b = Buffer.alloc(4 + Buffer.byteLength(path));
        b[0] = op;
        b[1] = flags;
        b.writeUInt16BE(Buffer.byteLength(path), 2);
        b.write(path, 4);
        return b;
      };
      const res = await c.request({
        opcode: Opcode.SUBDOC_MULTI_LOOKUP,
        key: 'sd',
        vbucket: c.vb('sd'),
        value: Buffer.concat([
          spec(Opcode.SUBDOC_GET, 0x04, '$document.exptime'),
          spec(Opcode.SUBDOC_GET, 0, 'a.b[1]'),
          spec(Opcode.SUBDOC_EXISTS, 0, 'nope'),
          spec(Opcode.SUBDOC_GET_COUNT, 0, 'a.b'),
          spec(Opcode.GET, 0, ''),
        ]),
      });
      expect(res.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      const results: Array<[number, string]> = [];
      for (let p = 0; p < res.value.length; ) {
        const len = res.value.readUInt32BE(p + 2);
        results.push([res.value.readUInt16BE(p), res.value.subarray(p + 6, p + 6 + len).toString()]);
        p += 6 + len;
      }
      expect(results).to.deep.equal([
        [0, String(cluster.bucket('default').get('sd')!.expiry)],
        [0, '2'],
        [Status.SUBDOC_PATH_ENOENT, ''],
        [0, '3'],
        [0, '{"a":{"b":[1,2,3]},"s":"x"}'],
      ]);
    });

    it('subdoc multi mutation applies all specs or none', async () => {
      const c = await client({ hello: [HelloFeature.JSON, HelloFeature.XERROR] });
      await c.set('sm', '{"n":1,"arr":[]}');
      const spec = (op: number, path: string, value: string) => {
        const b = Buffer.alloc(8 + path.length + value.length);
        b[0] = op;
        b.writeUInt16BE(path.length, 2);
        b.writeUInt32BE(value.length, 4);
        b.write(path, 8);
        b.write(value, 8 + path.length);
        return b;
      };
      const ok = await c.request({
        opcode: Opcode.SUBDOC_MULTI_MUTATION,
        key: 'sm',
        vbucket: c.vb('sm'),
        value: Buffer.concat([spec(Opcode.SUBDOC_DICT_UPSERT, 'x', '"y"'), spec(Opcode.SUBDOC_COUNTER, 'n', '5'), spec(Opcode.SUBDOC_ARRAY_PUSH_LAST, 'arr', '1,2')]),
      });
      expect(ok.status).to.equal(Status.SUCCESS);
      expect(ok.value[0]).to.equal(1); // the counter's index
      expect(JSON.parse(cluster.bucket('default').get('sm')!.value.toString())).to.deep.equal({ n: 6, arr: [1, 2], x: 'y' });
      const bad = await c.request({
        opcode: Opcode.SUBDOC_MULTI_MUTATION,
        key: 'sm',
        vbucket: c.vb('sm'),
        value: Buffer.concat([spec(Opcode.SUBDOC_DICT_UPSERT, 'z', '1'), spec(Opcode.SUBDOC_REPLACE, 'missing', '1')]),
      });
      expect(bad.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(bad.value).to.deep.equal(Buffer.from([1, 0, Status.SUBDOC_PATH_ENOENT]));
      expect(JSON.parse(cluster.bucket('default').get('sm')!.value.toString())).to.not.have.property('z');
    });
  });

  describe('framing', () => {
    function pipeline(c: RawClient): { bytes: Buffer; count: number } {
      const extras = Buffer.alloc(8);
      const frames: Buffer[] = [];
      for (let i = 0; i < 6; i++) {
        const key = `split-${i}`;
        frames.push(c.frame({ opcode: Opcode.SET, key, extras, value: 'x'.repeat(i * 7), vbucket: c.vb(key) }));
        frames.push(c.frame({ opcode: Opcode.GET, key, vbucket: c.vb(key) }));
      }
      frames.push(c.frame({ magic: Magic.ALT_REQUEST, opcode: Opcode.SET, framingExtras: Buffer.from([0x50]), key: 'split-alt', extras, value: 'alt', vbucket: c.vb('split-alt') }));
      return { bytes: Buffer.concat(frames), count: frames.length };
    }

    it('handles a pipelined stream split at every byte offset', async () => {
      const c = await client({ hello: [HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.PRESERVE_TTL] });
      const { bytes, count } = pipeline(c);
      for (let cut = 1; cut < bytes.length; cut += 5) {
        c.socket.write(bytes.subarray(0, cut));
        await new Promise((r) => setImmediate(r));
        c.socket.write(bytes.subarray(cut));
        const res = await c.take(count);
        expect(res.every((p) => p.status === Status.SUCCESS)).to.equal(true);
        expect(res[11].value.toString()).to.equal('x'.repeat(35));
      }
    });

    it('handles a pipelined stream arriving one byte at a time', async () => {
      const c = await client({ hello: [HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.PRESERVE_TTL] });
      const { bytes, count } = pipeline(c);
      for (let i = 0; i < bytes.length; i++) {
        c.socket.write(bytes.subarray(i, i + 1));
        if (i % 16 === 0) await new Promise((r) => setImmediate(r));
      }
      const res = await c.take(count);
      expect(res.map((p) => p.opaque)).to.deep.equal(res.map((p) => p.opaque).sort((a, b) => a - b));
      expect(res.every((p) => p.status === Status.SUCCESS)).to.equal(true);
    });

    it('answers a whole pipeline of one chunk with one socket write', async () => {
      const c = await client();
      const { bytes, count } = pipeline(c);
      const spy = sinon.spy(net.Socket.prototype, 'write');
      try {
        c.write(bytes);
        await c.take(count);
        const serverWrites = spy.getCalls().filter((call) => call.thisValue !== c.socket);
        expect(serverWrites).to.have.length(1);
      } finally {
        spy.restore();
      }
    });
  });

  describe('bad input', () => {
    async function expectKilled(bytes: Buffer): Promise<void> {
      const victim = await client();
      const bystander = await client();
      await bystander.set('safe', 'before');
      const before = cluster.bucket('default').highSeqno;
      victim.write(bytes);
      await victim.waitClosed();
      expect(cluster.bucket('default').highSeqno).to.equal(before);
      expect((await bystander.get('safe')).value.toString()).to.equal('before');
    }

    it('random bytes close only that connection', async () => {
      const junk = Buffer.alloc(256);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
      junk[0] = 0x42;
      await expectKilled(junk);
    });

    it('a wrong magic closes the connection', async () => {
      await expectKilled(encodePacket({ magic: Magic.RESPONSE, opcode: Opcode.SET, key: 'x' }));
    });

    it('a body length over the limit closes the connection before the body arrives', async () => {
      const header = Buffer.alloc(24);
      header[0] = Magic.REQUEST;
      header[1] = Opcode.SET;
      header.writeUInt32BE(0x7fffffff, 8);
      await expectKilled(header);
    });

    it('extras + key longer than the body close the connection', async () => {
      const header = Buffer.alloc(24);
      header[0] = Magic.REQUEST;
      header[1] = Opcode.SET;
      header.writeUInt16BE(10, 2);
      header[4] = 8;
      header.writeUInt32BE(4, 8);
      await expectKilled(Buffer.concat([header, Buffer.alloc(4)]));
    });

    it('a frame truncated by the client closing changes nothing', async () => {
      const c = await client();
      const bystander = await client();
      const before = cluster.bucket('default').highSeqno;
      const frame = c.frame({ opcode: Opcode.SET, key: 'trunc', extras: Buffer.alloc(8), value: 'v', vbucket: c.vb('trunc') });
      c.socket.end(frame.subarray(0, frame.length - 1));
      await c.waitClosed();
      expect(cluster.bucket('default').highSeqno).to.equal(before);
      expect(cluster.bucket('default').get('trunc')).to.equal(undefined);
      expect((await bystander.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('a client that vanishes mid-pipeline loses none of the writes it sent in full', async () => {
      const c = await client();
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        frames.push(c.frame({ opcode: Opcode.SETQ, key: `pipe-${i}`, extras: Buffer.alloc(8), value: String(i), vbucket: c.vb(`pipe-${i}`) }));
      }
      const all = Buffer.concat(frames);
      c.socket.end(all.subarray(0, all.length - 5));
      await c.waitClosed();
      await new Promise((r) => setTimeout(r, 20));
      const store = cluster.bucket('default');
      for (let i = 0; i < 199; i++) expect(store.get(`pipe-${i}`)?.value.toString()).to.equal(String(i));
      expect(store.get('pipe-199')).to.equal(undefined);
    });
  });
});
