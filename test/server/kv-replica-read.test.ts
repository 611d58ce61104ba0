// Sub-document replica reads (Couchbase Server 7.5+): a multi-lookup with the ReplicaRead doc flag
// (0x20) is served by a node holding a replica of the vBucket, as GET_REPLICA is; the HELLO feature
// is informational and the bucket advertises `subdoc.ReplicaRead`.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, SubdocDocFlag } from '../../lib/protocol';
import { RawClient } from './raw-client';

const USER = { username: 'alice', password: 'secret-pw' };
const KEY = 'replicated';

/** A multi-lookup body: GET `a`, then whole-document GET. */
const SPECS = Buffer.concat([Buffer.from([Opcode.SUBDOC_GET, 0, 0, 1]), Buffer.from('a'), Buffer.from([Opcode.GET, 0, 0, 0])]);

describe('server KV: sub-document replica reads', () => {
  let cluster: Cluster;
  const clients: RawClient[] = [];

  async function nodeClient(node: number, hello: number[] = [HelloFeature.JSON, HelloFeature.XERROR]): Promise<RawClient> {
    const c = await RawClient.connect(cluster.nodes[node].ports.kv);
    clients.push(c);
    await c.hello(hello);
    await c.login(USER.username, USER.password, 'default');
    return c;
  }

  before(async () => {
    cluster = await Cluster.start({ nodes: 2, replicas: 1, users: [USER], queryService: null, viewsService: null });
    cluster.bucket('default').write(KEY, Buffer.from('{"a":42,"b":[1,2]}'), 'upsert');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => cluster.stop());

  function roles(): { vb: number; active: number; replica: number } {
    const vb = cluster.bucket('default').vbucketOf(KEY);
    const active = cluster.topology.active(vb);
    const replica = [0, 1].find((n) => cluster.topology.isReplica(vb, n))!;
    expect(replica).to.not.equal(undefined);
    return { vb, active, replica };
  }

  it('acknowledges SUBDOC_REPLICA_READ in HELLO and advertises subdoc.ReplicaRead', async () => {
    const c = await RawClient.connect(cluster.nodes[0].ports.kv);
    clients.push(c);
    expect(await c.hello([HelloFeature.SUBDOC_REPLICA_READ, HelloFeature.JSON])).to.deep.equal([HelloFeature.SUBDOC_REPLICA_READ, HelloFeature.JSON]);
    await c.login(USER.username, USER.password, 'default');
    const config = JSON.parse((await c.request({ opcode: Opcode.GET_CLUSTER_CONFIG })).value.toString());
    expect(config.bucketCapabilities).to.include('subdoc.ReplicaRead');
  });

  it('serves a ReplicaRead lookup from the replica node, with the same results and CAS as the active', async () => {
    const { vb, active, replica } = roles();
    const onActive = await (await nodeClient(active)).request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: KEY, vbucket: vb, value: SPECS });
    const onReplica = await (await nodeClient(replica)).request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: KEY, vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: SPECS });
    expect(onActive.status).to.equal(Status.SUCCESS);
    expect(onReplica.status).to.equal(Status.SUCCESS);
    expect(onReplica.value.equals(onActive.value)).to.equal(true);
    expect(onReplica.cas).to.equal(onActive.cas);
    expect(onReplica.value.subarray(6, 8).toString()).to.equal('42');
  });

  it('works without the HELLO feature, which only informs (as in kv_engine)', async () => {
    const { vb, replica } = roles();
    const c = await nodeClient(replica, []);
    const res = await c.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: KEY, vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: SPECS });
    expect(res.status).to.equal(Status.SUCCESS);
  });

  it('answers NOT_MY_VBUCKET for ReplicaRead on the active node and for a plain lookup on the replica', async () => {
    const { vb, active, replica } = roles();
    const a = await (await nodeClient(active)).request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: KEY, vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: SPECS });
    expect(a.status).to.equal(Status.NOT_MY_VBUCKET);
    const r = await (await nodeClient(replica)).request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: KEY, vbucket: vb, value: SPECS });
    expect(r.status).to.equal(Status.NOT_MY_VBUCKET);
  });

  it('reports a document missing on the replica as KEY_ENOENT', async () => {
    const vb = cluster.bucket('default').vbucketOf('nowhere');
    const replica = [0, 1].find((n) => cluster.topology.isReplica(vb, n))!;
    const res = await (await nodeClient(replica)).request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: 'nowhere', vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: SPECS });
    expect(res.status).to.equal(Status.KEY_ENOENT);
  });

  it('refuses ReplicaRead on a mutation with EINVAL and changes nothing', async () => {
    const { vb, active } = roles();
    const spec = Buffer.concat([Buffer.from([Opcode.SUBDOC_DICT_UPSERT, 0, 0, 1, 0, 0, 0, 1]), Buffer.from('a'), Buffer.from('7')]);
    const res = await (await nodeClient(active)).request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key: KEY, vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: spec });
    expect(res.status).to.equal(Status.EINVAL);
    expect(JSON.parse(cluster.bucket('default').get(KEY)!.value.toString()).a).to.equal(42);
  });

  it('a locked document: the active hides its CAS, replicas give the last mutation\'s (a lock is not replicated)', async () => {
    const key = 'locked-replica';
    const written = cluster.bucket('default').write(key, Buffer.from('{"a":1}'), 'upsert').cas;
    const vb = cluster.bucket('default').vbucketOf(key);
    const active = await nodeClient(cluster.topology.active(vb));
    const replica = await nodeClient([0, 1].find((n) => cluster.topology.isReplica(vb, n))!);
    const lock = await active.request({ opcode: Opcode.GET_LOCKED, key, vbucket: vb, extras: Buffer.from([0, 0, 0, 10]) });
    expect(lock.status).to.equal(Status.SUCCESS);
    expect(lock.cas).to.not.equal(written);
    expect((await active.request({ opcode: Opcode.GET, key, vbucket: vb })).cas).to.equal(0xffffffffffffffffn);
    const got = await replica.request({ opcode: Opcode.GET_REPLICA, key, vbucket: vb });
    expect([got.status, got.cas]).to.deep.equal([Status.SUCCESS, written]);
    const sub = await replica.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key, vbucket: vb, extras: Buffer.from([SubdocDocFlag.REPLICA_READ]), value: SPECS });
    expect([sub.status, sub.cas]).to.deep.equal([Status.SUCCESS, written]);
    // Unlocked without a mutation: still nothing new for the replicas.
    expect((await active.request({ opcode: Opcode.UNLOCK_KEY, key, vbucket: vb, cas: lock.cas })).status).to.equal(Status.SUCCESS);
    expect((await replica.request({ opcode: Opcode.GET_REPLICA, key, vbucket: vb })).cas).to.equal(written);
    // A mutation reaches them with its CAS.
    const next = cluster.bucket('default').write(key, Buffer.from('{"a":2}'), 'upsert').cas;
    expect((await replica.request({ opcode: Opcode.GET_REPLICA, key, vbucket: vb })).cas).to.equal(next);
  });
});
