// SERVER_DURATION: with HELLO TRACING every response is an alt response (magic 0x18) carrying
// kv_engine's encoded receive-to-send duration as its only frame info; without it, plain 0x81.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { HelloFeature, Magic, Opcode, Status, readServerDuration, type Packet } from '../../lib/protocol';
import { RawClient } from './raw-client';

const USER = { username: 'alice', password: 'secret-pw' };

/** A response as kv_engine formats it with tracing on: alt magic, 3 bytes of framing extras, the duration frame first. */
function expectTraced(p: Packet): number {
  expect(p.magic, `opcode 0x${p.opcode.toString(16)}`).to.equal(Magic.ALT_RESPONSE);
  expect(p.framingExtras.length).to.equal(3);
  expect(p.framingExtras[0]).to.equal(0x02);
  const micros = readServerDuration(p.framingExtras);
  expect(micros).to.be.at.least(0).and.below(1_000_000);
  return micros;
}

describe('server KV: SERVER_DURATION frames (HELLO TRACING)', () => {
  let cluster: Cluster;
  let kvPort: number;
  const clients: RawClient[] = [];

  async function client(hello: number[]): Promise<RawClient> {
    const c = await RawClient.connect(kvPort);
    clients.push(c);
    await c.hello(hello);
    await c.login(USER.username, USER.password, 'default');
    return c;
  }

  before(async () => {
    cluster = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
    kvPort = cluster.nodes[0].ports.kv;
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => cluster.stop());

  it('answers the HELLO that turns TRACING on with the duration already', async () => {
    const c = await RawClient.connect(kvPort);
    clients.push(c);
    const res = await c.request({ opcode: Opcode.HELLO, key: 'agent', value: Buffer.from([0, HelloFeature.TRACING, 0, HelloFeature.JSON]) });
    expectTraced(res);
    expect(res.value.toString('hex')).to.equal('000f000b');
  });

  it('puts the duration on every kind of response, the body still laid out as without it', async () => {
    const c = await client([HelloFeature.TRACING, HelloFeature.MUTATION_SEQNO, HelloFeature.JSON, HelloFeature.XERROR]);
    const set = await c.set('t1', '{"a":1}', { flags: 0x02000000 });
    expectTraced(set);
    expect(set.status).to.equal(Status.SUCCESS);
    expect(set.extras.length).to.equal(16); // the mutation token
    const get = await c.get('t1', Opcode.GETK);
    expectTraced(get);
    expect(get.extras.readUInt32BE(0)).to.equal(0x02000000);
    expect(get.key.toString()).to.equal('t1');
    expect(get.value.toString()).to.equal('{"a":1}');
    expect(get.datatype).to.equal(1);
    expect(get.cas).to.equal(set.cas);
    const miss = await c.get('absent');
    expectTraced(miss);
    expect(miss.status).to.equal(Status.KEY_ENOENT);
    // a value written by reference (>= 16 KiB), not copied into the slab
    const big = Buffer.alloc(40_000, 'x');
    expectTraced(await c.set('big', big));
    const gotBig = await c.get('big');
    expectTraced(gotBig);
    expect(gotBig.value.equals(big)).to.equal(true);
    // a multi-lookup (a response built from parts)
    const spec = Buffer.concat([Buffer.from([Opcode.SUBDOC_GET, 0, 0, 1]), Buffer.from('a')]);
    const lookup = await c.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: 't1', vbucket: c.vb('t1'), value: spec });
    expectTraced(lookup);
    expect(lookup.value.toString('hex')).to.equal('0000' + '00000001' + Buffer.from('1').toString('hex'));
    // STAT: several responses to one request, each traced
    c.write(c.frame({ opcode: Opcode.STAT }));
    const stats: Packet[] = [];
    for (;;) {
      const [p] = await c.take(1);
      expectTraced(p);
      stats.push(p);
      if (p.key.length === 0) break;
    }
    expect(stats.map((p) => p.key.toString())).to.include('curr_items');
  });

  it('traces each answer of a pipelined batch, in order', async () => {
    const c = await client([HelloFeature.TRACING]);
    const frames = [];
    for (let i = 0; i < 50; i++) frames.push(c.frame({ opcode: Opcode.SET, key: `p${i}`, vbucket: c.vb(`p${i}`), extras: Buffer.alloc(8), value: `v${i}` }));
    for (let i = 0; i < 50; i++) frames.push(c.frame({ opcode: Opcode.GET, key: `p${i}`, vbucket: c.vb(`p${i}`) }));
    c.write(Buffer.concat(frames));
    const answers = await c.take(100);
    answers.forEach(expectTraced);
    expect(answers.slice(50).map((p) => p.value.toString())).to.deep.equal(Array.from({ length: 50 }, (_, i) => `v${i}`));
  });

  it('answers with plain 0x81 headers and no framing extras when TRACING was not negotiated', async () => {
    const c = await client([HelloFeature.MUTATION_SEQNO, HelloFeature.JSON]);
    for (const p of [await c.set('plain', 'x'), await c.get('plain'), await c.get('plain-missing')]) {
      expect(p.magic).to.equal(Magic.RESPONSE);
      expect(p.framingExtras.length).to.equal(0);
    }
  });
});
