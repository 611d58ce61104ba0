import { expect } from 'chai';
import { KetamaContinuum, ketamaHash, deflateSnappy, inflateSnappy, snappyInflatedLength, parseConfig } from '../../lib/protocol';
import { reasonOf } from './helpers';

// The four servers of SDK RFC 26's verification process. The expected values below were derived
// outside this code base, by following the algorithm libcouchbase documents in vbucket.c
// (update_ketama / map_ketama) step by step with Python's hashlib: servers in strcmp order,
// MD5("<host:port>-<0..39>"), four little-endian words per digest, 160 points each; a key's
// hash is the first little-endian word of its MD5 and goes to the first point >= it, wrapping.
const RFC26 = ['192.168.1.101:11210', '192.168.1.102:11210', '192.168.1.103:11210', '192.168.1.104:11210'];

const KNOWN: Array<[key: string, hash: number, server: string]> = [
  ['foo', 3675831724, '192.168.1.103:11210'],
  ['bar', 421377335, '192.168.1.104:11210'],
  ['baz', 2768240243, '192.168.1.103:11210'],
  ['hello', 708854109, '192.168.1.102:11210'],
  ['user::1', 1969179282, '192.168.1.104:11210'],
  ['deferbase', 2252369433, '192.168.1.102:11210'],
  ['key0', 4060279841, '192.168.1.101:11210'],
  ['key1', 2497097154, '192.168.1.104:11210'],
  ['key2', 2854615160, '192.168.1.103:11210'],
  ['key3', 2237083958, '192.168.1.101:11210'],
  ['key4', 1273231562, '192.168.1.102:11210'],
  ['key5', 2593892925, '192.168.1.101:11210'],
  ['key6', 2717347172, '192.168.1.101:11210'],
  ['key7', 3444871673, '192.168.1.103:11210'],
  ['ünïcode', 3444578509, '192.168.1.103:11210'],
  // Hashes past the last point (4294628205) wrap to the first one (19069626, .104).
  ['wrap61255', 4294775312, '192.168.1.104:11210'],
];

describe('protocol: ketama continuum (memcached buckets)', () => {
  it('hashes keys to the first little-endian word of their MD5', () => {
    for (const [key, hash] of KNOWN) expect(ketamaHash(key), key).to.equal(hash);
    expect(ketamaHash(Buffer.from('foo'))).to.equal(3675831724);
  });

  it('puts 160 points per server on the ring, with the points libcouchbase computes', () => {
    const ring = new KetamaContinuum(RFC26);
    expect(ring.size).to.equal(640);
    const entries = ring.entries();
    const named = (i: number): [number, string] => [entries[i][0], RFC26[entries[i][1]]];
    expect(named(0)).to.deep.equal([19069626, '192.168.1.104:11210']);
    expect(named(1)).to.deep.equal([28439255, '192.168.1.101:11210']);
    expect(named(2)).to.deep.equal([36078660, '192.168.1.104:11210']);
    expect(named(639)).to.deep.equal([4294628205, '192.168.1.102:11210']);
    for (let i = 1; i < entries.length; i++) expect(entries[i][0]).to.be.at.least(entries[i - 1][0]);
  });

  it('maps keys to the servers libcouchbase maps them to, in any server order', () => {
    const ring = new KetamaContinuum(RFC26);
    const shuffled = new KetamaContinuum([RFC26[2], RFC26[0], RFC26[3], RFC26[1]]);
    for (const [key, , server] of KNOWN) {
      expect(RFC26[ring.serverOf(key)], key).to.equal(server);
      expect(shuffled.servers[shuffled.serverOf(key)], key).to.equal(server);
    }
  });

  it('keeps a key on its server when another server leaves, unless it was on the one leaving', () => {
    const all = new KetamaContinuum(RFC26);
    const three = new KetamaContinuum(RFC26.filter((s) => s !== '192.168.1.103:11210'));
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const k = `k${i}`;
      const before = all.servers[all.serverOf(k)];
      const after = three.servers[three.serverOf(k)];
      if (before !== '192.168.1.103:11210') expect(after).to.equal(before);
      else moved++;
    }
    // Roughly a quarter of the keys lived on the server that left.
    expect(moved).to.be.within(300, 700);
  });

  it('answers -1 without servers', () => {
    expect(new KetamaContinuum([]).serverOf('x')).to.equal(-1);
  });
});

describe('protocol: snappy values', () => {
  it('deflates and inflates raw Snappy blocks', () => {
    const json = Buffer.from(JSON.stringify({ list: Array.from({ length: 500 }, (_, i) => ({ i, name: `n${i}` })) }));
    const block = deflateSnappy(json);
    expect(block.length).to.be.lessThan(json.length / 2);
    expect(snappyInflatedLength(block)).to.equal(json.length);
    expect(inflateSnappy(block).equals(json)).to.equal(true);
    expect(inflateSnappy(deflateSnappy(Buffer.alloc(0))).length).to.equal(0);
  });

  it('inflates a block written by hand from the Snappy format description', () => {
    // Preamble 12 (varint), a literal of 5 bytes "hello" (tag (5-1)<<2), then a copy of 7 bytes
    // from 5 back (1-byte-offset copy: tag 0b01 | (7-4)<<2, offset byte 5): "hello" + "hellohe".
    const block = Buffer.from([12, 0x10, ...Buffer.from('hello'), 0x01 | ((7 - 4) << 2), 5]);
    expect(inflateSnappy(block).toString()).to.equal('hellohellohe');
  });

  it('refuses a corrupt block with a ProtocolError naming the problem', () => {
    expect(reasonOf(() => inflateSnappy(Buffer.from([0x40, 0xff, 0x01, 0x02])))).to.equal('bad_snappy');
    expect(snappyInflatedLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).to.equal(-1);
  });
});

describe('protocol: old and odd configs', () => {
  it('counts a config without "rev" as revision 0 and ignores fields it does not know', () => {
    const c = parseConfig(JSON.stringify({ name: 'b', nodeLocator: 'vbucket', futureField: { x: 1 }, nodesExt: [{ services: { kv: 1 }, somethingNew: true }] }), 'h');
    expect(c.rev).to.equal(0);
  });

  it('refuses a vBucket map that names a server the list does not have', () => {
    const cfg = { rev: 1, name: 'b', nodesExt: [{ services: { kv: 1 } }], vBucketServerMap: { numReplicas: 0, serverList: ['h:1'], vBucketMap: [[0], [3]] } };
    expect(reasonOf(() => parseConfig(JSON.stringify(cfg), 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig(JSON.stringify({ ...cfg, rev: '7' }), 'h'))).to.equal('bad_config');
  });
});
