// SNAPPY end to end: the embedded cluster negotiates it and keeps values as clients send them
// (a bucket's "passive" compression mode), and the engine compresses, inflates and falls back.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, deflateSnappy, inflateSnappy } from '../../lib/protocol';
import { Engine } from '../../lib/engine/engine';
import type { ValueResult } from '../../lib/engine/results';
import { RawClient } from './raw-client';
import { run, connect, close } from '../engine/helpers/engine';
import { FMT_BYTES } from '../../lib/engine/transcoder';

const USER = { username: 'Administrator', password: 'password' };
const JSON_BIT = 0x01;
const SNAPPY_BIT = 0x02;
const DOC = { list: Array.from({ length: 300 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'] })) };
const DOC_BYTES = Buffer.from(JSON.stringify(DOC));

describe('snappy: the embedded cluster', () => {
  let cluster: Cluster;
  const clients: RawClient[] = [];
  before(async () => {
    cluster = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => cluster.stop());

  async function client(hello: number[]): Promise<RawClient> {
    const c = await RawClient.connect(cluster.nodes[0].ports.kv);
    clients.push(c);
    await c.hello(hello);
    await c.login(USER.username, USER.password, 'default');
    return c;
  }

  it('acknowledges SNAPPY and keeps a compressed value as sent, for readers that negotiated it', async () => {
    const c = await client([HelloFeature.SNAPPY, HelloFeature.JSON, HelloFeature.XERROR]);
    const packed = deflateSnappy(DOC_BYTES);
    expect((await c.set('doc', packed, { flags: 0x02000000, datatype: JSON_BIT | SNAPPY_BIT })).status).to.equal(Status.SUCCESS);
    const got = await c.get('doc');
    expect(got.datatype).to.equal(JSON_BIT | SNAPPY_BIT);
    expect(got.value.equals(packed)).to.equal(true);
    // Everyone else (N1QL, views, the console, other clients) sees the document itself.
    expect(cluster.bucket('default').get('doc')!.value.equals(DOC_BYTES)).to.equal(true);
    const plain = await client([HelloFeature.JSON]);
    const p = await plain.get('doc');
    expect(p.datatype).to.equal(JSON_BIT);
    expect(p.value.equals(DOC_BYTES)).to.equal(true);
    // A touch keeps the same bytes, so the compressed form still goes out.
    await c.request({ opcode: Opcode.TOUCH, key: 'doc', extras: Buffer.from([0, 0, 0, 100]), vbucket: c.vb('doc') });
    expect(inflateSnappy((await c.get('doc')).value).equals(DOC_BYTES)).to.equal(true);
  });

  it('answers uncompressed what was stored uncompressed', async () => {
    const c = await client([HelloFeature.SNAPPY, HelloFeature.JSON]);
    await c.set('plain', DOC_BYTES, { datatype: JSON_BIT });
    const got = await c.get('plain');
    expect(got.datatype).to.equal(JSON_BIT);
    expect(got.value.equals(DOC_BYTES)).to.equal(true);
  });

  it('refuses a Snappy value from a client that did not negotiate SNAPPY, a corrupt one, and one too big inflated', async () => {
    const plain = await client([HelloFeature.JSON]);
    expect((await plain.set('x', deflateSnappy(DOC_BYTES), { datatype: SNAPPY_BIT })).status).to.equal(Status.EINVAL);
    const c = await client([HelloFeature.SNAPPY]);
    expect((await c.set('x', Buffer.from([0x40, 0xff, 0x01]), { datatype: SNAPPY_BIT })).status).to.equal(Status.EINVAL);
    // A preamble announcing 32 MiB: refused before inflating anything.
    expect((await c.set('x', Buffer.from([0x80, 0x80, 0x80, 0x10, 0x00]), { datatype: SNAPPY_BIT })).status).to.equal(Status.E2BIG);
    expect(cluster.bucket('default').get('x')).to.equal(undefined);
  });

  it('appends a compressed value to the document', async () => {
    const c = await client([HelloFeature.SNAPPY]);
    await c.set('s', Buffer.from('abc'));
    expect((await c.request({ opcode: Opcode.APPEND, key: 's', value: deflateSnappy(Buffer.from('def'.repeat(20))), datatype: SNAPPY_BIT, vbucket: c.vb('s') })).status).to.equal(Status.SUCCESS);
    expect(cluster.bucket('default').get('s')!.value.toString()).to.equal('abc' + 'def'.repeat(20));
  });
});

describe('snappy: the engine', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
  });
  after(async () => cluster.stop());

  async function engineWith(query: string): Promise<Engine> {
    const e = new Engine(`${cluster.connectionString}/default${query}`, USER);
    await connect(e);
    return e;
  }

  it('compresses by default (compression=on) when it saves space, and reads it back', async () => {
    const e = await engineWith('');
    await run(e, 'upsert', 'on', { value: DOC });
    const item = cluster.bucket('default').live('on')!;
    expect(item.snappy).to.be.instanceOf(Buffer);
    expect(item.snappy!.length).to.be.lessThan(DOC_BYTES.length / 2);
    expect(item.value.equals(DOC_BYTES)).to.equal(true);
    expect((await run<ValueResult>(e, 'get', 'on')).value).to.deep.equal(DOC);
    // Small values, and values that do not shrink enough, go as they are.
    await run(e, 'upsert', 'small', { value: { a: 1 } });
    expect(cluster.bucket('default').live('small')!.snappy).to.equal(undefined);
    const noise = randomBytes(4096);
    await run(e, 'upsert', 'noise', { value: noise, format: FMT_BYTES });
    expect(cluster.bucket('default').live('noise')!.snappy).to.equal(undefined);
    await close(e);
  });

  it('sends uncompressed with compression=off and inflate_only, and still reads compressed values', async () => {
    for (const mode of ['off', 'inflate_only']) {
      const e = await engineWith(`?compression=${mode}`);
      await run(e, 'upsert', `m-${mode}`, { value: DOC });
      expect(cluster.bucket('default').live(`m-${mode}`)!.snappy, mode).to.equal(undefined);
      expect((await run<ValueResult>(e, 'get', 'on')).value).to.deep.equal(DOC);
      await close(e);
    }
  });

  it('honours compression_min_size and compression_min_ratio', async () => {
    const e = await engineWith('?compression_min_size=1000000');
    await run(e, 'upsert', 'big-min', { value: DOC });
    expect(cluster.bucket('default').live('big-min')!.snappy).to.equal(undefined);
    await close(e);
    const strict = await engineWith('?compression_min_ratio=0.01');
    await run(strict, 'upsert', 'ratio', { value: DOC });
    expect(cluster.bucket('default').live('ratio')!.snappy).to.equal(undefined);
    await close(strict);
  });
});

describe('snappy: the engine against nodes that differ', () => {
  it('sends a compressed value uncompressed to a node that did not negotiate SNAPPY, and compressed with force', async () => {
    const { FakeCluster, DEFAULT_FEATURES } = await import('../engine/helpers/fake-kv');
    const cluster = await FakeCluster.start({ nodes: 2, features: [...DEFAULT_FEATURES, HelloFeature.SNAPPY] });
    const seen: Array<{ node: number; datatype: number; value: Buffer }> = [];
    cluster.hook = (req, conn, node) => {
      if (req.opcode === Opcode.HELLO && node.index === 1) {
        // Node 1 runs an older server: no SNAPPY.
        const { decodeHelloFeatures, encodeHelloFeatures } = require('../../lib/protocol/hello') as typeof import('../../lib/protocol/hello');
        const acked = decodeHelloFeatures(req.value).filter((f) => f !== HelloFeature.SNAPPY && DEFAULT_FEATURES.includes(f));
        for (const f of acked) conn.features.add(f);
        conn.reply(req, { value: encodeHelloFeatures(acked) });
        return true;
      }
      if (req.opcode === Opcode.SET) seen.push({ node: node.index, datatype: req.datatype, value: Buffer.from(req.value) });
      return false;
    };
    try {
      for (const mode of ['on', 'force']) {
        seen.length = 0;
        const e = new Engine(`${cluster.connectionString}?compression=${mode}`, USER);
        await connect(e);
        for (let i = 0; i < 16; i++) await run(e, 'upsert', `k${i}`, { value: DOC });
        const toNode = (n: number): typeof seen => seen.filter((s) => s.node === n);
        expect(toNode(0).length, mode).to.be.greaterThan(0);
        expect(toNode(1).length, mode).to.be.greaterThan(0);
        for (const s of toNode(0)) {
          expect(s.datatype & SNAPPY_BIT, mode).to.equal(SNAPPY_BIT);
          expect(inflateSnappy(s.value).equals(DOC_BYTES)).to.equal(true);
        }
        for (const s of toNode(1)) {
          if (mode === 'on') {
            expect(s.datatype & SNAPPY_BIT).to.equal(0);
            expect(s.value.equals(DOC_BYTES)).to.equal(true);
          } else expect(s.datatype & SNAPPY_BIT).to.equal(SNAPPY_BIT);
        }
        await close(e);
      }
    } finally {
      await cluster.stop();
    }
  });

  it('inflates a compressed value the server sends, and fails a corrupt one with ValueFormatError', async () => {
    const { FakeCluster, DEFAULT_FEATURES } = await import('../engine/helpers/fake-kv');
    const { ValueFormatError } = await import('../../lib/engine/errors');
    const { fails } = await import('../engine/helpers/engine');
    const cluster = await FakeCluster.start({ features: [...DEFAULT_FEATURES, HelloFeature.SNAPPY] });
    cluster.hook = (req, conn) => {
      if (req.opcode !== Opcode.GET) return false;
      const flags = Buffer.from([0x02, 0, 0, 0]);
      const value = req.key.toString() === 'bad' ? Buffer.from([0x40, 0xff, 0x01]) : deflateSnappy(DOC_BYTES);
      conn.reply(req, { extras: flags, value, datatype: SNAPPY_BIT | JSON_BIT, cas: 5n });
      return true;
    };
    const e = new Engine(cluster.connectionString, USER);
    try {
      await connect(e);
      expect((await run<ValueResult>(e, 'get', 'good')).value).to.deep.equal(DOC);
      expect(await fails(run(e, 'get', 'bad'))).to.be.instanceOf(ValueFormatError);
    } finally {
      await close(e);
      await cluster.stop();
    }
  });
});
