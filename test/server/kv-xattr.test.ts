// Extended attributes over the raw KV protocol, byte for byte as kv_engine answers them: the
// request rules and their statuses, user / system / virtual xattrs, macros, tombstones
// (AccessDeleted, CreateAsDeleted, ReviveDocument), the XATTR datatype bit, and the plain
// document path never seeing xattrs.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import {
  HelloFeature,
  Opcode,
  Status,
  SubdocDocFlag as Doc,
  SubdocPathFlag as PathFlag,
  decodeGetMetaExtras,
  decodeLookupResults,
  decodeMutationResults,
  encodeGetMetaRequestExtras,
  encodeLookupSpecs,
  encodeMutationSpecs,
  encodeSubdocMutationExtras,
  type LookupSpecInit,
  type MutationSpecInit,
  type Packet,
} from '../../lib/protocol';
import { RawClient } from './raw-client';
import { crc32c } from '../../lib/server/kv/subdoc/vattrs';

const X = PathFlag.XATTR;
const XM = PathFlag.XATTR | PathFlag.MKDIR_P;
const XE = PathFlag.XATTR | PathFlag.EXPAND_MACROS;
const FEATURES = [HelloFeature.JSON, HelloFeature.XERROR, HelloFeature.XATTR, HelloFeature.MUTATION_SEQNO];

/** A u64 as kv_engine's ${Mutation.CAS} prints it: the bytes of its big-endian form, reversed. */
const swappedHex = (n: bigint): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return '0x' + b.toString('hex');
};

describe('server KV: extended attributes', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  let c: RawClient;

  const open = async (features = FEATURES, user = 'Administrator', password = 'password'): Promise<RawClient> => {
    const client = await RawClient.connect(cluster.nodes[0].ports.kv);
    await client.hello(features);
    await client.login(user, password, 'default');
    return client;
  };

  before(async () => {
    cluster = await Cluster.start({
      queryService: null,
      viewsService: null,
      users: [
        { username: 'Administrator', password: 'password' },
        { username: 'writer', password: 'writer-pw', roles: ['data_reader[default]', 'data_writer[default]'] },
      ],
    });
    c = await open();
  });

  after(async () => {
    c.close();
    await cluster.stop();
  });

  const lookup = (key: string, specs: LookupSpecInit[], docFlags = 0, client = c): Promise<Packet> =>
    client.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key, vbucket: client.vb(key), extras: docFlags === 0 ? Buffer.alloc(0) : Buffer.from([docFlags]), value: encodeLookupSpecs(specs) });

  const mutate = (key: string, specs: MutationSpecInit[], opts: { docFlags?: number; cas?: bigint; expiry?: number } = {}, client = c): Promise<Packet> =>
    client.request({
      opcode: Opcode.SUBDOC_MULTI_MUTATION,
      key,
      vbucket: client.vb(key),
      cas: opts.cas,
      extras: opts.docFlags === undefined && opts.expiry === undefined ? Buffer.alloc(0) : encodeSubdocMutationExtras({ docFlags: opts.docFlags, expiry: opts.expiry }),
      value: encodeMutationSpecs(specs),
    });

  const results = (p: Packet): Array<[number, string]> => decodeLookupResults(p.value).map((r) => [r.status, r.value.toString()]);
  const getMeta = async (key: string, client = c) => {
    const p = await client.request({ opcode: Opcode.GET_META, key, vbucket: client.vb(key), extras: encodeGetMetaRequestExtras(2) });
    expect(p.status).to.equal(Status.SUCCESS);
    return { ...decodeGetMetaExtras(p.extras), cas: p.cas };
  };
  const store = () => cluster.bucket('default');

  describe('user and system xattrs beside the body', () => {
    it('a multi mutation writes xattrs and body together; lookups read both; plain GET returns the body alone', async () => {
      await c.set('x1', '{"Field":56}');
      const m = await mutate('x1', [
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sync', value: '{"eg":99}' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: 'meta.author', value: '"Bart"' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: 0, path: 'Field', value: '57' },
      ]);
      expect(m.status).to.equal(Status.SUCCESS);
      const l = await lookup('x1', [
        { opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync' },
        { opcode: Opcode.SUBDOC_GET, flags: X, path: 'meta.author' },
        { opcode: Opcode.SUBDOC_EXISTS, flags: X, path: 'meta' },
        { opcode: Opcode.SUBDOC_GET, flags: X, path: 'missing' },
        { opcode: Opcode.GET, path: '' },
      ]);
      expect(l.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(l.cas).to.equal(m.cas);
      expect(results(l)).to.deep.equal([
        [0, '{"eg":99}'],
        [0, '"Bart"'],
        [0, ''],
        [Status.SUBDOC_PATH_ENOENT, ''],
        [0, '{"Field":57}'],
      ]);
      const g = await c.get('x1');
      expect(g.value.toString()).to.equal('{"Field":57}');
      expect(g.datatype).to.equal(0x01);
      expect((await getMeta('x1')).datatype).to.equal(0x05);
    });

    it('the same path in an xattr and in the body are different things', async () => {
      await c.set('iso', '{}');
      await mutate('iso', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: '_sync.cas', value: '"x"' }]);
      await mutate('iso', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: PathFlag.MKDIR_P, path: '_sync.cas', value: '"body"' }]);
      expect(results(await lookup('iso', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync.cas' }, { opcode: Opcode.SUBDOC_GET, path: '_sync.cas' }]))).to.deep.equal([
        [0, '"x"'],
        [0, '"body"'],
      ]);
    });

    it('every path operation works inside an xattr, and its missing parents need MKDIR_P', async () => {
      await c.set('ops', '{}');
      const ok = (p: Packet) => expect(p.status, `status 0x${p.status.toString(16)}`).to.equal(Status.SUCCESS);
      expect((await mutate('ops', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'doc.a', value: '1' }])).value).to.deep.equal(Buffer.from([0, Status.SUBDOC_PATH_ENOENT >> 8, Status.SUBDOC_PATH_ENOENT & 0xff]));
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, flags: XM, path: 'doc.list', value: '"Smith"' }]));
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_ARRAY_PUSH_FIRST, flags: X, path: 'doc.list', value: '"Jones"' }]));
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_ARRAY_INSERT, flags: X, path: 'doc.list[1]', value: '"Bart"' }]));
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_ARRAY_ADD_UNIQUE, flags: X, path: 'doc.list', value: '"Lisa"' }]));
      expect((await mutate('ops', [{ opcode: Opcode.SUBDOC_ARRAY_ADD_UNIQUE, flags: X, path: 'doc.list', value: '"Lisa"' }])).value.readUInt16BE(1)).to.equal(Status.SUBDOC_PATH_EEXISTS);
      const counter = await mutate('ops', [{ opcode: Opcode.SUBDOC_COUNTER, flags: X, path: 'doc.n', value: '5' }]);
      expect(decodeMutationResults(counter.value, counter.status)[0].value?.toString()).to.equal('5');
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_REPLACE, flags: X, path: 'doc.n', value: '7' }]));
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_DICT_ADD, flags: X, path: 'other', value: '{"k":true}' }]));
      expect((await mutate('ops', [{ opcode: Opcode.SUBDOC_DICT_ADD, flags: X, path: 'other', value: '1' }])).value.readUInt16BE(1)).to.equal(Status.SUBDOC_PATH_EEXISTS);
      ok(await mutate('ops', [{ opcode: Opcode.SUBDOC_DELETE, flags: X, path: 'other' }]));
      expect(results(await lookup('ops', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: 'doc' }, { opcode: Opcode.SUBDOC_GET_COUNT, flags: X, path: 'doc.list' }, { opcode: Opcode.SUBDOC_EXISTS, flags: X, path: 'other' }]))).to.deep.equal([
        [0, '{"list":["Jones","Bart","Smith","Lisa"],"n":7}'],
        [0, '4'],
        [Status.SUBDOC_PATH_ENOENT, ''],
      ]);
      expect(store().get('ops')!.value.toString()).to.equal('{}');
    });

    it('a full-document SET, REPLACE, APPEND or TOUCH keeps the xattrs; the XTOC lists them sorted', async () => {
      await c.set('keep', '{"v":1}');
      await mutate('keep', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'user', value: '1' }, { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_system', value: '2' }]);
      await c.set('keep', '{"v":2}');
      await c.set('keep', '{"v":3}', { opcode: Opcode.REPLACE });
      expect((await c.request({ opcode: Opcode.TOUCH, key: 'keep', vbucket: c.vb('keep'), extras: Buffer.from([0, 0, 0, 0]) })).status).to.equal(Status.SUCCESS);
      expect(results(await lookup('keep', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$XTOC' }, { opcode: Opcode.GET, path: '' }]))).to.deep.equal([
        [0, '["_system","user"]'],
        [0, '{"v":3}'],
      ]);
    });
  });

  describe('the rules of a request (statuses for the whole request)', () => {
    before(() => c.set('rules', '{"a":1}'));

    const status = async (specs: MutationSpecInit[], docFlags?: number) => (await mutate('rules', specs, { docFlags })).status;

    it('EXPAND_MACROS without XATTR: SUBDOC_XATTR_INVALID_FLAG_COMBO', async () => {
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: PathFlag.EXPAND_MACROS, path: 'a', value: '"${Mutation.CAS}"' }])).to.equal(Status.SUBDOC_XATTR_INVALID_FLAG_COMBO);
    });

    it('a bad X-Key: XATTR_EINVAL (empty, over 16 bytes, starting with punctuation or a control character)', async () => {
      for (const key of ['.a', '12345678901234567', '#tag', '-x', '\u0001x', '[0]']) {
        expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: key, value: '1' }]), key).to.equal(Status.XATTR_EINVAL);
      }
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '1234567890123456', value: '1' }])).to.equal(Status.SUCCESS);
    });

    it('changing a virtual xattr: SUBDOC_XATTR_CANT_MODIFY_VATTR; reading an unknown one: SUBDOC_XATTR_UNKNOWN_VATTR for the path', async () => {
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: '$document.CAS', value: '"foo"' }])).to.equal(Status.SUBDOC_XATTR_CANT_MODIFY_VATTR);
      const l = await lookup('rules', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$documents' }]);
      expect(l.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(results(l)).to.deep.equal([[Status.SUBDOC_XATTR_UNKNOWN_VATTR, '']]);
    });

    it('an unknown macro: SUBDOC_XATTR_UNKNOWN_MACRO; an unknown $document field in a macro: SUBDOC_XATTR_UNKNOWN_VATTR_MACRO', async () => {
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE, path: 'm', value: '"${Mutation.nope}"' }])).to.equal(Status.SUBDOC_XATTR_UNKNOWN_MACRO);
      const m = await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE, path: 'm', value: '"${$document.nope}"' }]);
      expect(m.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(m.value.readUInt16BE(1)).to.equal(Status.SUBDOC_XATTR_UNKNOWN_VATTR_MACRO);
    });

    it('an xattr path after a body path: SUBDOC_INVALID_XATTR_ORDER', async () => {
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'a', value: '2' }, { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'x', value: '1' }])).to.equal(Status.SUBDOC_INVALID_XATTR_ORDER);
      const l = await lookup('rules', [{ opcode: Opcode.SUBDOC_GET, path: 'a' }, { opcode: Opcode.SUBDOC_GET, flags: X, path: 'x' }]);
      expect(l.status).to.equal(Status.SUBDOC_INVALID_XATTR_ORDER);
    });

    it('flags an opcode does not take, whole-document ops with flags or AccessDeleted, ADD with MKDOC or a CAS: EINVAL', async () => {
      expect(await status([{ opcode: Opcode.SET, flags: X, path: '', value: '{}' }])).to.equal(Status.EINVAL);
      expect(await status([{ opcode: Opcode.SET, path: '', value: '{}' }], Doc.ACCESS_DELETED)).to.equal(Status.EINVAL);
      expect(await status([{ opcode: Opcode.SUBDOC_DELETE, flags: PathFlag.MKDIR_P, path: 'a' }])).to.equal(Status.EINVAL);
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'a', value: '1' }], Doc.ADD | Doc.MKDOC)).to.equal(Status.EINVAL);
      expect((await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'a', value: '1' }], { docFlags: Doc.ADD, cas: 5n })).status).to.equal(Status.EINVAL);
      expect(await status([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'a', value: '1' }], Doc.REVIVE_DOCUMENT)).to.equal(Status.EINVAL);
      expect((await lookup('rules', [{ opcode: Opcode.SET, path: '' }])).status).to.equal(Status.SUBDOC_INVALID_COMBO);
      expect(await status([{ opcode: Opcode.GET, path: '' }])).to.equal(Status.SUBDOC_INVALID_COMBO);
      expect(await status([])).to.equal(Status.SUBDOC_INVALID_COMBO);
    });

    it('an xattr path on a connection without the XATTR feature: NOT_SUPPORTED', async () => {
      const plain = await open([HelloFeature.JSON, HelloFeature.XERROR]);
      expect((await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'x', value: '1' }], {}, plain)).status).to.equal(Status.NOT_SUPPORTED);
      plain.close();
    });

    it('system xattrs need the SystemXattr privileges: EACCESS without them, user xattrs still work', async () => {
      const w = await open(FEATURES, 'writer', 'writer-pw');
      expect((await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sys', value: '1' }], {}, w)).status).to.equal(Status.EACCESS);
      expect((await lookup('rules', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sys' }], 0, w)).status).to.equal(Status.EACCESS);
      expect((await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'usr', value: '1' }], {}, w)).status).to.equal(Status.SUCCESS);
      await mutate('rules', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sys', value: '1' }]);
      expect(results(await lookup('rules', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$XTOC' }], 0, w))[0][1]).to.not.include('_sys');
      expect(results(await lookup('rules', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$XTOC' }]))[0][1]).to.include('_sys');
      w.close();
    });
  });

  describe('virtual xattrs and macros', () => {
    it('$document describes the document; its CAS and value_crc32c match the document', async () => {
      await c.set('vd', '{"Test":45}', { flags: 0xcaffee, expiry: 600 });
      await mutate('vd', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'user', value: '{"a":1}' }], { expiry: 600 });
      const l = await lookup('vd', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$document' }, { opcode: Opcode.SUBDOC_GET, flags: X, path: '$document.CAS' }]);
      const doc = JSON.parse(results(l)[0][1]);
      const item = store().get('vd')!;
      expect(doc.CAS).to.equal('0x' + l.cas.toString(16).padStart(16, '0'));
      expect(results(l)[1][1]).to.equal(JSON.stringify(doc.CAS));
      expect(doc).to.include({ exptime: item.expiry, value_bytes: 11, deleted: false, flags: 0xcaffee, revid: String(store().live('vd')!.rev) });
      // Written, then mutated once: its second revision.
      expect(doc.revid).to.equal('2');
      expect(doc.value_crc32c).to.equal('0x' + crc32c(Buffer.from('{"Test":45}')).toString(16).padStart(8, '0'));
      expect(doc.datatype).to.deep.equal(['json', 'xattr']);
      expect(doc.seqno).to.equal('0x' + item.seqno.toString(16).padStart(16, '0'));
      expect(doc.vbucket_uuid).to.equal('0x' + store().vbucketUuid(item.vbucket).toString(16).padStart(16, '0'));
      expect(typeof doc.last_modified).to.equal('string');
    });

    it('$vbucket.HLC reads the clock in seconds; $XTOC of a document without xattrs is []', async () => {
      await c.set('vb', '{}');
      const r = results(await lookup('vb', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$vbucket' }, { opcode: Opcode.SUBDOC_GET, flags: X, path: '$XTOC' }]));
      const hlc = JSON.parse(r[0][1]).HLC;
      expect(hlc.mode).to.equal('real');
      expect(Math.abs(Number(hlc.now) - Date.now() / 1000)).to.be.lessThan(5);
      expect(r[1][1]).to.equal('[]');
    });

    it('${Mutation.CAS}, ${Mutation.seqno} and ${Mutation.value_crc32c} expand to the mutation’s values; without EXPAND_MACROS they stay text', async () => {
      await c.set('mac', '{"body":true}');
      const m = await mutate('mac', [
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE | PathFlag.MKDIR_P, path: '_sync.cas', value: '"${Mutation.CAS}"' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE, path: '_sync.seqno', value: '"${Mutation.seqno}"' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE, path: '_sync.crc', value: '"${Mutation.value_crc32c}"' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sync.raw', value: '"${Mutation.CAS}"' },
      ]);
      expect(m.status).to.equal(Status.SUCCESS);
      const seqno = m.extras.readBigUInt64BE(8);
      const sync = JSON.parse(results(await lookup('mac', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync' }]))[0][1]);
      expect(sync).to.deep.equal({ cas: swappedHex(m.cas), seqno: swappedHex(seqno), crc: '0x' + crc32c(Buffer.from('{"body":true}')).toString(16).padStart(8, '0'), raw: '${Mutation.CAS}' });
      // Expanded once: a later write leaves the stamped value alone.
      await c.set('mac', '{"body":false}');
      expect(JSON.parse(results(await lookup('mac', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync.cas' }]))[0][1])).to.equal(swappedHex(m.cas));
    });

    it('${$document.CAS} and ${$document} expand to the document as it was before the mutation', async () => {
      await c.set('inmac', '{}');
      const before = JSON.parse(results(await lookup('inmac', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '$document' }]))[0][1]);
      const m = await mutate('inmac', [
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE | PathFlag.MKDIR_P, path: 'tnx.CAS', value: '"${$document.CAS}"' },
        { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XE, path: 'tnx.doc', value: '"${$document}"' },
      ]);
      expect(m.status).to.equal(Status.SUCCESS);
      const tnx = JSON.parse(results(await lookup('inmac', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: 'tnx' }]))[0][1]);
      expect(tnx.CAS).to.equal(before.CAS);
      expect(tnx.doc).to.deep.equal(before);
      expect(BigInt(tnx.CAS)).to.not.equal(m.cas);
    });
  });

  describe('deleted documents', () => {
    it('a delete keeps the system xattrs on the tombstone and drops the user ones; AccessDeleted reads them', async () => {
      await c.set('del', '{"v":1}');
      await mutate('del', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sync', value: '{"eg":99}' }, { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'user', value: '66' }]);
      expect((await c.request({ opcode: Opcode.DELETE, key: 'del', vbucket: c.vb('del') })).status).to.equal(Status.SUCCESS);
      const meta = await getMeta('del');
      expect(meta.deleted).to.equal(true);
      expect(meta.datatype).to.equal(0x04);
      expect((await lookup('del', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync' }])).status).to.equal(Status.KEY_ENOENT);
      const l = await lookup('del', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync' }, { opcode: Opcode.SUBDOC_GET, flags: X, path: 'user' }, { opcode: Opcode.GET, path: '' }], Doc.ACCESS_DELETED);
      expect(l.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE_DELETED);
      expect(results(l)).to.deep.equal([
        [0, '{"eg":99}'],
        [Status.SUBDOC_PATH_ENOENT, ''],
        [Status.SUBDOC_PATH_ENOENT, ''],
      ]);
      expect((await c.get('del')).status).to.equal(Status.KEY_ENOENT);
    });

    it('a document with only user xattrs leaves a plain tombstone (datatype raw)', async () => {
      await c.set('deluser', '{}');
      await mutate('deluser', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'user_XATTR', value: '123' }]);
      await c.request({ opcode: Opcode.DELETE, key: 'deluser', vbucket: c.vb('deluser') });
      expect((await getMeta('deluser')).datatype).to.equal(0);
    });

    it('an xattr mutation with a whole-document DELETE in one request: SUCCESS, deleted, the xattr kept', async () => {
      await c.set('xdel', '{"v":1}');
      const m = await mutate('xdel', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sync', value: '55' }, { opcode: Opcode.DELETE, path: '' }]);
      expect(m.status).to.equal(Status.SUCCESS);
      expect((await getMeta('xdel')).deleted).to.equal(true);
      const l = await lookup('xdel', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: '_sync' }], Doc.ACCESS_DELETED);
      expect([l.status, results(l)]).to.deep.equal([Status.SUBDOC_SUCCESS_DELETED, [[0, '55']]]);
    });

    it('AccessDeleted mutations change a tombstone’s xattrs and leave it deleted (SUBDOC_SUCCESS_DELETED); body paths there: SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE', async () => {
      await c.set('tomb', '{}');
      await c.request({ opcode: Opcode.DELETE, key: 'tomb', vbucket: c.vb('tomb') });
      const tombCas = (await getMeta('tomb')).cas;
      expect((await mutate('tomb', [{ opcode: Opcode.SUBDOC_DICT_ADD, flags: XM, path: 'txn.deleted', value: 'true' }])).status).to.equal(Status.KEY_ENOENT);
      expect((await mutate('tomb', [{ opcode: Opcode.SUBDOC_DICT_ADD, flags: XM, path: 'txn.deleted', value: 'true' }], { docFlags: Doc.ACCESS_DELETED, cas: tombCas + 1n })).status).to.equal(Status.KEY_EEXISTS);
      const m = await mutate('tomb', [{ opcode: Opcode.SUBDOC_DICT_ADD, flags: XM, path: 'txn.deleted', value: 'true' }], { docFlags: Doc.ACCESS_DELETED, cas: tombCas });
      expect(m.status).to.equal(Status.SUBDOC_SUCCESS_DELETED);
      expect(m.cas).to.not.equal(tombCas);
      const l = await lookup('tomb', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: 'txn.deleted' }], Doc.ACCESS_DELETED);
      expect([l.status, results(l)]).to.deep.equal([Status.SUBDOC_SUCCESS_DELETED, [[0, 'true']]]);
      expect((await mutate('tomb', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'a', value: '1' }], { docFlags: Doc.ACCESS_DELETED })).status).to.equal(Status.SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE);
      expect((await c.get('tomb')).status).to.equal(Status.KEY_ENOENT);
    });

    it('CreateAsDeleted creates a deleted document holding xattrs; ReviveDocument brings it to life with ReplaceBodyWithXattr', async () => {
      const created = await mutate('staged', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: 'txn.op.stgd', value: '{"name":"staged"}' }], { docFlags: Doc.ADD | Doc.ACCESS_DELETED | Doc.CREATE_AS_DELETED });
      expect(created.status).to.equal(Status.SUBDOC_SUCCESS_DELETED);
      expect((await c.get('staged')).status).to.equal(Status.KEY_ENOENT);
      expect((await getMeta('staged')).deleted).to.equal(true);
      // Insert semantics replace a tombstone: the same insert again succeeds; so does a replace of
      // the staged tombstone by its CAS (what the SDKs' transactions do on a retry).
      const again = await mutate('staged', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: 'txn.op.stgd', value: '{"name":"staged"}' }], { docFlags: Doc.ADD | Doc.ACCESS_DELETED | Doc.CREATE_AS_DELETED });
      expect(again.status).to.equal(Status.SUBDOC_SUCCESS_DELETED);
      const overwrite = await mutate('staged', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: 'txn.op.stgd', value: '{"name":"staged"}' }], { docFlags: Doc.ACCESS_DELETED | Doc.CREATE_AS_DELETED, cas: again.cas });
      expect(overwrite.status).to.equal(Status.SUBDOC_SUCCESS_DELETED);
      const live = await c.set('alive', '{}');
      expect(live.status).to.equal(Status.SUCCESS);
      expect((await mutate('alive', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'a', value: '1' }], { docFlags: Doc.ACCESS_DELETED | Doc.REVIVE_DOCUMENT })).status).to.equal(Status.SUBDOC_CAN_ONLY_REVIVE_DELETED_DOCUMENTS);
      const revived = await mutate(
        'staged',
        [
          { opcode: Opcode.SUBDOC_REPLACE_BODY_WITH_XATTR, flags: X, path: 'txn.op.stgd' },
          { opcode: Opcode.SUBDOC_DELETE, flags: X, path: 'txn' },
        ],
        { docFlags: Doc.ACCESS_DELETED | Doc.REVIVE_DOCUMENT },
      );
      expect(revived.status).to.equal(Status.SUCCESS);
      const g = await c.get('staged');
      expect([g.status, g.value.toString()]).to.deep.equal([Status.SUCCESS, '{"name":"staged"}']);
      expect((await getMeta('staged')).datatype).to.equal(0x01);
    });
  });

  describe('single-path opcodes', () => {
    const single = (opcode: number, key: string, p: string, flags: number, value = '', docFlags?: number) =>
      c.request({
        opcode,
        key,
        vbucket: c.vb(key),
        extras: Buffer.from([Buffer.byteLength(p) >> 8, Buffer.byteLength(p) & 0xff, flags, ...(docFlags === undefined ? [] : [docFlags])]),
        value: Buffer.concat([Buffer.from(p), Buffer.from(value)]),
      });

    it('read and write xattrs, answering with the path’s status and value', async () => {
      await c.set('sp', '{}');
      expect((await single(Opcode.SUBDOC_DICT_UPSERT, 'sp', 'meta.x', XM, '"y"')).status).to.equal(Status.SUCCESS);
      const g = await single(Opcode.SUBDOC_GET, 'sp', 'meta', X);
      expect([g.status, g.value.toString()]).to.deep.equal([Status.SUCCESS, '{"x":"y"}']);
      expect((await single(Opcode.SUBDOC_EXISTS, 'sp', 'nope', X)).status).to.equal(Status.SUBDOC_PATH_ENOENT);
      const n = await single(Opcode.SUBDOC_COUNTER, 'sp', 'meta.n', X, '3');
      expect([n.status, n.value.toString()]).to.deep.equal([Status.SUCCESS, '3']);
      expect((await single(Opcode.SUBDOC_DICT_UPSERT, 'sp', 'body', 0, '1', Doc.ADD | Doc.CREATE_AS_DELETED)).status).to.equal(Status.EINVAL);
    });
  });

  describe('xattrs in a full-document write (the XATTR datatype): values must be JSON', () => {
    /** kv_engine's blob from raw pairs, then the body. */
    const blob = (pairs: Array<[Buffer | string, Buffer | string]>, body: Buffer | string): Buffer => {
      const parts = pairs.map(([k, v]) => {
        const kv = Buffer.concat([Buffer.from(k), Buffer.from([0]), Buffer.from(v), Buffer.from([0])]);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(kv.length);
        return Buffer.concat([len, kv]);
      });
      const all = Buffer.concat(parts);
      const total = Buffer.alloc(4);
      total.writeUInt32BE(all.length);
      return Buffer.concat([total, all, Buffer.from(body)]);
    };
    const setWith = (client: RawClient, key: string, value: Buffer): Promise<Packet> => client.set(key, value, { datatype: 0x04 });

    it('a valid blob gives the document its xattrs; the body (here binary) is what GET returns', async () => {
      const body = Buffer.from([0x00, 0xff, 0x10]);
      expect((await setWith(c, 'xd-ok', blob([['_sys', '{"a":1}'], ['user', '[1,2]']], body))).status).to.equal(Status.SUCCESS);
      const g = await c.get('xd-ok');
      expect([g.value.equals(body), g.datatype]).to.deep.equal([true, 0]);
      expect((await getMeta('xd-ok')).datatype).to.equal(0x04);
      expect(results(await lookup('xd-ok', [{ opcode: Opcode.SUBDOC_GET, flags: X, path: 'user' }, { opcode: Opcode.SUBDOC_GET, flags: X, path: '$document.datatype' }]))).to.deep.equal([
        [0, '[1,2]'],
        // kv_engine names the bits set: a binary body with xattrs is not "raw" (no bit) but ["xattr"].
        [0, '["xattr"]'],
      ]);
    });

    it('XATTR_EINVAL for a value that is not JSON (binary included), an invalid, virtual or repeated key, a malformed blob; nothing is stored', async () => {
      const bad: Array<[string, Buffer]> = [
        ['binary value', blob([['u', Buffer.from([0xde, 0xad, 0xbe, 0xef])]], '{}')],
        ['text value', blob([['u', 'not json']], '{}')],
        ['invalid key', blob([['!u', '1']], '{}')],
        ['virtual key', blob([['$document', '{}']], '{}')],
        ['key twice', blob([['u', '1'], ['u', '2']], '{}')],
        ['length past the value', Buffer.from([0, 0, 1, 0, 0, 0, 0, 4])],
      ];
      for (const [what, value] of bad) {
        expect((await setWith(c, 'xd-bad', value)).status, what).to.equal(Status.XATTR_EINVAL);
        expect(store().get('xd-bad'), what).to.equal(undefined);
      }
    });

    it('without XATTR negotiated the datatype is refused with EINVAL', async () => {
      const plain = await open([HelloFeature.JSON, HelloFeature.XERROR]);
      try {
        expect((await setWith(plain, 'xd-plain', blob([['u', '1']], '{}'))).status).to.equal(Status.EINVAL);
      } finally {
        plain.close();
      }
    });

    it('a sub-document xattr value that is not JSON is SUBDOC_VALUE_CANTINSERT', async () => {
      await c.set('xd-sub', '{}');
      const p = await c.request({
        opcode: Opcode.SUBDOC_MULTI_MUTATION,
        key: 'xd-sub',
        vbucket: c.vb('xd-sub'),
        value: encodeMutationSpecs([{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'u', value: Buffer.from([0xde, 0xad]) }]),
      });
      expect(p.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
      expect(p.value.readUInt16BE(1)).to.equal(Status.SUBDOC_VALUE_CANTINSERT);
    });
  });

  describe('persistence', () => {
    it('xattrs and tombstones with xattrs come back after a restart', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-xattr-'));
      try {
        const first = await Cluster.start({ dataDir: dir, queryService: null, viewsService: null });
        const a = await RawClient.connect(first.nodes[0].ports.kv);
        await a.hello(FEATURES);
        await a.login('Administrator', 'password', 'default');
        await a.set('p1', '{"b":1}');
        const sp = (key: string, specs: MutationSpecInit[], docFlags?: number) =>
          a.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key, vbucket: a.vb(key), extras: docFlags === undefined ? Buffer.alloc(0) : Buffer.from([docFlags]), value: encodeMutationSpecs(specs) });
        await sp('p1', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: '_sys', value: '{"s":1}' }, { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: X, path: 'usr', value: '[1,2]' }]);
        await sp('p2', [{ opcode: Opcode.SUBDOC_DICT_UPSERT, flags: XM, path: 'txn.id', value: '"t1"' }], Doc.MKDOC | Doc.CREATE_AS_DELETED);
        a.close();
        await first.stop();

        const second = await Cluster.start({ dataDir: dir, queryService: null, viewsService: null });
        try {
          const p1 = second.bucket('default').get('p1')!;
          expect(p1.value.toString()).to.equal('{"b":1}');
          expect(Object.fromEntries(p1.xattrs!)).to.deep.equal({ _sys: '{"s":1}', usr: '[1,2]' });
          expect(second.bucket('default').get('p2')).to.equal(undefined);
          expect(Object.fromEntries(second.bucket('default').tombstone('p2')!.xattrs!)).to.deep.equal({ txn: '{"id":"t1"}' });
        } finally {
          await second.stop();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
