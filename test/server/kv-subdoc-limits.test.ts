// Sub-document operations on hostile documents and paths: keys named like the server's own
// objects are ordinary keys, and depth and size limits answer with the sub-document statuses
// Couchbase Server gives (subjson's limits), never EINTERNAL.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import {
  HelloFeature,
  Opcode,
  Status,
  SubdocDocFlag,
  SubdocPathFlag,
  decodeLookupResults,
  encodeLookupSpecs,
  encodeMutationSpecs,
  encodeSubdocMutationExtras,
  type LookupSpecInit,
  type MutationSpecInit,
  type Packet,
} from '../../lib/protocol';
import { RawClient } from './raw-client';

const deepArray = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

describe('server KV: sub-document on hostile keys, deep documents and large values', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  let c: RawClient;

  before(async () => {
    cluster = await Cluster.start({ queryService: null, viewsService: null });
    c = await RawClient.connect(cluster.nodes[0].ports.kv);
    await c.hello([HelloFeature.JSON, HelloFeature.XERROR]);
    await c.login('Administrator', 'password', 'default');
  });

  after(async () => {
    c.close();
    await cluster.stop();
  });

  const lookup = (key: string, specs: LookupSpecInit[]): Promise<Packet> =>
    c.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key, vbucket: c.vb(key), value: encodeLookupSpecs(specs) });

  const mutate = (key: string, specs: MutationSpecInit[], docFlags = 0): Promise<Packet> =>
    c.request({
      opcode: Opcode.SUBDOC_MULTI_MUTATION,
      key,
      vbucket: c.vb(key),
      extras: docFlags === 0 ? Buffer.alloc(0) : encodeSubdocMutationExtras({ docFlags }),
      value: encodeMutationSpecs(specs),
    });

  const stored = (key: string): string => cluster.bucket('default').get(key)!.value.toString();

  describe('keys named like the server’s own objects', () => {
    const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

    it('DICT_ADD / DICT_UPSERT create them as keys of the document, and lookups read them back', async () => {
      await c.set('proto', '{}');
      for (const name of NAMES) {
        const add = await mutate('proto', [{ opcode: Opcode.SUBDOC_DICT_ADD, path: name, value: `{"by":"${name}"}` }]);
        expect(add.status, name).to.equal(Status.SUCCESS);
        // a second add finds the key it made (an inherited property would not count)
        const again = await mutate('proto', [{ opcode: Opcode.SUBDOC_DICT_ADD, path: name, value: '1' }]);
        expect(again.status, name).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
        expect(again.value.readUInt16BE(1), name).to.equal(Status.SUBDOC_PATH_EEXISTS);
      }
      const doc = JSON.parse(stored('proto')) as Record<string, unknown>;
      expect(Object.keys(doc)).to.deep.equal(NAMES);
      for (const name of NAMES) expect(Object.getOwnPropertyDescriptor(doc, name)?.value, name).to.deep.equal({ by: name });
      const res = await lookup('proto', [
        { opcode: Opcode.SUBDOC_GET, path: '__proto__.by' },
        { opcode: Opcode.SUBDOC_GET, path: 'constructor' },
        { opcode: Opcode.SUBDOC_GET_COUNT, path: '' },
        { opcode: Opcode.SUBDOC_EXISTS, path: 'toString.by' },
      ]);
      expect(res.status).to.equal(Status.SUCCESS);
      expect(decodeLookupResults(res.value).map((r) => r.value.toString())).to.deep.equal(['"__proto__"', '{"by":"constructor"}', String(NAMES.length), '']);
    });

    it('missing ones are missing: lookups, REPLACE and DELETE do not see inherited properties', async () => {
      await c.set('plain', '{"a":1}');
      const res = await lookup('plain', NAMES.map((path) => ({ opcode: Opcode.SUBDOC_EXISTS, path })));
      expect(decodeLookupResults(res.value).map((r) => r.status)).to.deep.equal(NAMES.map(() => Status.SUBDOC_PATH_ENOENT));
      for (const [opcode, value] of [[Opcode.SUBDOC_REPLACE, '1'], [Opcode.SUBDOC_DELETE, '']] as const) {
        const r = await mutate('plain', [{ opcode, path: 'constructor', value }]);
        expect(r.value.readUInt16BE(1)).to.equal(Status.SUBDOC_PATH_ENOENT);
      }
      expect(stored('plain')).to.equal('{"a":1}');
    });

    it('MKDIR_P paths through them, array pushes, counters, REPLACE and DELETE work on the document alone', async () => {
      await c.set('paths', '{}');
      const r = await mutate('paths', [
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: SubdocPathFlag.MKDIR_P, path: '__proto__.polluted', value: 'true' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: SubdocPathFlag.MKDIR_P, path: 'constructor.prototype.polluted', value: 'true' },
        { opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, flags: SubdocPathFlag.MKDIR_P, path: 'toString', value: '1,2' },
        { opcode: Opcode.SUBDOC_COUNTER, flags: SubdocPathFlag.MKDIR_P, path: 'valueOf', value: '5' },
        { opcode: Opcode.SUBDOC_COUNTER, path: 'valueOf', value: '-2' },
        { opcode: Opcode.SUBDOC_REPLACE, path: '__proto__.polluted', value: '"no"' },
        { opcode: Opcode.SUBDOC_DELETE, path: 'constructor.prototype' },
      ]);
      expect(r.status).to.equal(Status.SUCCESS);
      expect(stored('paths')).to.equal('{"__proto__":{"polluted":"no"},"constructor":{},"toString":[1,2],"valueOf":3}');
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(Object.prototype).to.not.have.property('polluted');
      expect(typeof Object.prototype.toString).to.equal('function');
    });

    it('a document created by a mutation (MKDOC) takes them as keys too', async () => {
      const r = await mutate('proto-new', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: '__proto__', value: '{"x":1}' }], SubdocDocFlag.MKDOC);
      expect(r.status).to.equal(Status.SUCCESS);
      expect(stored('proto-new')).to.equal('{"__proto__":{"x":1}}');
    });
  });

  describe('depth: 32 levels, 31 path components', () => {
    it('a document 32 levels deep is read and changed at its deepest level', async () => {
      await c.set('d32', deepObject(32));
      const path = Array(31).fill('a').join('.');
      const res = await lookup('d32', [{ opcode: Opcode.SUBDOC_GET, path }]);
      expect(res.status).to.equal(Status.SUCCESS);
      expect(decodeLookupResults(res.value)[0].value.toString()).to.equal('{}');
      // a scalar beside the deepest object is fine; an object inside it would be level 33
      const ok = await mutate('d32', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: Array(30).fill('a').join('.') + '.x', value: '"s"' }]);
      expect(ok.status).to.equal(Status.SUCCESS);
      const deeper = await mutate('d32', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: Array(30).fill('a').join('.') + '.b', value: '{"c":{}}' }]);
      expect(deeper.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(deeper.value.readUInt16BE(1)).to.equal(Status.SUBDOC_VALUE_ETOODEEP);
    });

    it('a document 33 levels deep gets DOC_E2DEEP for every path, lookup and mutation, and stays as it was', async () => {
      await c.set('d33', deepArray(33));
      const res = await lookup('d33', [
        { opcode: Opcode.SUBDOC_GET, path: '[0]' },
        { opcode: Opcode.SUBDOC_EXISTS, path: '[0][0]' },
        { opcode: Opcode.SUBDOC_GET_COUNT, path: '' },
        { opcode: Opcode.GET, path: '' },
      ]);
      expect(res.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      const results = decodeLookupResults(res.value);
      expect(results.map((r) => r.status)).to.deep.equal([Status.SUBDOC_DOC_E2DEEP, Status.SUBDOC_DOC_E2DEEP, Status.SUBDOC_DOC_E2DEEP, Status.SUCCESS]);
      expect(results[3].value.toString()).to.equal(deepArray(33));
      const mut = await mutate('d33', [{ opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, path: '', value: '1' }]);
      expect(mut.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(mut.value).to.deep.equal(Buffer.from([0, 0, Status.SUBDOC_DOC_E2DEEP]));
      expect(stored('d33')).to.equal(deepArray(33));
    });

    it('a document 100,000 levels deep: E2DEEP, never a stack overflow, and a whole-document SET stores it as sent', async () => {
      const deep = deepArray(100_000);
      await c.set('d100k', '{"a":1}');
      const set = await mutate('d100k', [{ opcode: Opcode.SET, path: '', value: deep }]);
      expect(set.status).to.equal(Status.SUCCESS);
      expect(stored('d100k')).to.equal(deep);
      const res = await lookup('d100k', [{ opcode: Opcode.SUBDOC_GET, path: '[0][0][0]' }]);
      expect(decodeLookupResults(res.value)[0].status).to.equal(Status.SUBDOC_DOC_E2DEEP);
      const mut = await mutate('d100k', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'x', value: '1' }]);
      expect(mut.value).to.deep.equal(Buffer.from([0, 0, Status.SUBDOC_DOC_E2DEEP]));
      // SET then a path in the same request: the path meets the deep document
      const both = await mutate('d100k', [
        { opcode: Opcode.SET, path: '', value: deepObject(100_000) },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'b', value: '1' },
      ]);
      expect(both.value).to.deep.equal(Buffer.from([1, 0, Status.SUBDOC_DOC_E2DEEP]));
      expect(stored('d100k')).to.equal(deep);
      expect((await c.request({ opcode: Opcode.NOOP })).status).to.equal(Status.SUCCESS);
    });

    it('a path of 32 components is PATH_E2BIG, 31 are fine; a path over 1024 bytes is EINVAL for the request', async () => {
      await c.set('paths32', '{}');
      const p31 = Array.from({ length: 31 }, (_, i) => `k${i}`).join('.');
      const ok = await mutate('paths32', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: SubdocPathFlag.MKDIR_P, path: p31, value: '1' }]);
      expect(ok.status).to.equal(Status.SUCCESS);
      const r32 = await lookup('paths32', [{ opcode: Opcode.SUBDOC_GET, path: p31 + '.x' }, { opcode: Opcode.SUBDOC_GET, path: 'k0' + '[0]'.repeat(31) }]);
      expect(decodeLookupResults(r32.value).map((r) => r.status)).to.deep.equal([Status.SUBDOC_PATH_E2BIG, Status.SUBDOC_PATH_E2BIG]);
      const long = await lookup('paths32', [{ opcode: Opcode.SUBDOC_GET, path: 'x'.repeat(1025) }]);
      expect(long.status).to.equal(Status.EINVAL);
      const longMut = await mutate('paths32', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'x'.repeat(1025), value: '1' }]);
      expect(longMut.status).to.equal(Status.EINVAL);
      const fine = await lookup('paths32', [{ opcode: Opcode.SUBDOC_EXISTS, path: 'x'.repeat(1024) }]);
      expect(decodeLookupResults(fine.value)[0].status).to.equal(Status.SUBDOC_PATH_ENOENT);
    });

    it('a value that would nest the document past 32 levels is VALUE_ETOODEEP, whatever the operation', async () => {
      await c.set('vdeep', '{"arr":[],"a":{}}');
      for (const [opcode, path] of [
        [Opcode.SUBDOC_DICT_UPSERT, 'x'],
        [Opcode.SUBDOC_DICT_ADD, 'a.y'],
        [Opcode.SUBDOC_REPLACE, 'a'],
        [Opcode.SUBDOC_ARRAY_PUSH_LAST, 'arr'],
        [Opcode.SUBDOC_ARRAY_PUSH_FIRST, 'arr'],
        [Opcode.SUBDOC_ARRAY_INSERT, 'arr[0]'],
      ] as const) {
        const r = await mutate('vdeep', [{ opcode, path, value: deepArray(100_000) }]);
        expect(r.value, `opcode 0x${opcode.toString(16)}`).to.deep.equal(Buffer.from([0, 0, Status.SUBDOC_VALUE_ETOODEEP]));
      }
      // the largest that fits: 'x' sits at level 2, so 31 more levels
      expect((await mutate('vdeep', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'x', value: deepArray(31) }])).status).to.equal(Status.SUCCESS);
      expect((await mutate('vdeep', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'x', value: deepArray(32) }])).value.readUInt16BE(1)).to.equal(
        Status.SUBDOC_VALUE_ETOODEEP,
      );
      // elements of 'arr' sit at level 3
      expect((await mutate('vdeep', [{ opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, path: 'arr', value: deepArray(30) }])).status).to.equal(Status.SUCCESS);
      expect((await mutate('vdeep', [{ opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, path: 'arr', value: deepArray(31) }])).value.readUInt16BE(1)).to.equal(
        Status.SUBDOC_VALUE_ETOODEEP,
      );
    });
  });

  describe('size', () => {
    it('a mutation whose result passes 20 MiB is E2BIG and changes nothing', async () => {
      const half = '"' + 'x'.repeat(11 * 1024 * 1024) + '"';
      await c.set('big-sd', `{"a":${half}}`);
      const r = await mutate('big-sd', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'b', value: half }]);
      expect(r.status).to.equal(Status.E2BIG);
      expect(JSON.parse(stored('big-sd'))).to.not.have.property('b');
    });

    it('sixteen whole-document GETs of one large document come back whole, each', async () => {
      const doc = '"' + 'y'.repeat(2 * 1024 * 1024) + '"';
      await c.set('big-lookup', doc);
      const r = await lookup('big-lookup', Array.from({ length: 16 }, () => ({ opcode: Opcode.GET, path: '' })));
      expect(r.status).to.equal(Status.SUCCESS);
      const results = decodeLookupResults(r.value);
      expect(results).to.have.length(16);
      for (const x of results) expect(x.value.toString()).to.equal(doc);
    });

    it('a 20 MiB value of nested brackets is stored without being built (no seconds of parsing, no memory bomb)', async () => {
      const deep = Buffer.from(deepArray(10 * 1024 * 1024));
      const started = Date.now();
      const res = await c.set('bomb', deep);
      expect(res.status).to.equal(Status.SUCCESS);
      expect(Date.now() - started).to.be.below(3000);
      expect(cluster.bucket('default').get('bomb')!.datatype & 1).to.equal(1);
    });
  });
});
