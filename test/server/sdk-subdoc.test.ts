// The official Couchbase Node.js SDK's sub-document features against the embedded cluster: its
// data structures (documents created as arrays by root-path array operations), extended
// attributes, virtual attributes and macros, tombstones.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

describe('server interop: the official SDK’s sub-document features', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, users: [{ username: 'app', password: 'app-password' }], queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, { username: 'app', password: 'app-password', timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    coll = sdk.bucket('default').defaultCollection();
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  const stored = (key: string): string => server.bucket('default').get(key)!.value.toString();

  describe('data structures: a root-path array operation creating the document creates an array', () => {
    it('CouchbaseList push / unshift create the list and keep its order', async () => {
      const list = coll.list('ds-list');
      await list.push('b');
      await list.push('c');
      await list.unshift('a');
      expect(stored('ds-list')).to.equal('["a","b","c"]');
      expect(await list.getAll()).to.deep.equal(['a', 'b', 'c']);
      expect(await list.getAt(1)).to.equal('b');
      expect(await list.size()).to.equal(3);
    });

    it('CouchbaseSet add creates the set and refuses duplicates', async () => {
      const set = coll.set('ds-set');
      expect(await set.add(1)).to.equal(true);
      expect(await set.add(2)).to.equal(true);
      expect(await set.add(1)).to.equal(false);
      expect(await set.values()).to.deep.equal([1, 2]);
      expect(stored('ds-set')).to.equal('[1,2]');
    });

    it('CouchbaseQueue push creates the queue and pop takes the oldest', async () => {
      const q = coll.queue('ds-queue');
      await q.push('first');
      await q.push('second');
      expect(await q.size()).to.equal(2);
      expect(await q.pop()).to.equal('first');
      expect(await q.size()).to.equal(1);
    });

    it('mutateIn upsert-document with arrayAppend("") on a missing key stores an array; a dictionary path an object', async () => {
      await coll.mutateIn('ds-raw-array', [couchbase.MutateInSpec.arrayAppend('', 7)], { storeSemantics: couchbase.StoreSemantics.Upsert });
      expect(stored('ds-raw-array')).to.equal('[7]');
      await coll.mutateIn('ds-raw-add', [couchbase.MutateInSpec.arrayAddUnique('', 'x')], { storeSemantics: couchbase.StoreSemantics.Insert });
      expect(stored('ds-raw-add')).to.equal('["x"]');
      await coll.mutateIn('ds-raw-obj', [couchbase.MutateInSpec.upsert('a', 1)], { storeSemantics: couchbase.StoreSemantics.Upsert });
      expect(stored('ds-raw-obj')).to.equal('{"a":1}');
    });
  });

  describe('extended attributes', () => {
    const { LookupInSpec, MutateInSpec, LookupInMacro, MutateInMacro } = couchbase;

    it('mutateIn writes user and system xattrs beside the body; lookupIn reads them; get returns the body alone', async () => {
      await coll.upsert('sx-1', { name: 'Ada' });
      const res = await coll.mutateIn('sx-1', [
        MutateInSpec.upsert('meta.rev', 1, { xattr: true, createPath: true }),
        MutateInSpec.upsert('_app', { owner: 'ops' }, { xattr: true }),
        MutateInSpec.arrayAppend('meta.tags', 'x', { xattr: true, createPath: true }),
        MutateInSpec.upsert('age', 36),
      ]);
      const got = await coll.lookupIn('sx-1', [LookupInSpec.get('meta', { xattr: true }), LookupInSpec.get('_app.owner', { xattr: true }), LookupInSpec.exists('nope', { xattr: true }), LookupInSpec.get('age')]);
      expect(got.cas.toString()).to.equal(res.cas.toString());
      expect(got.content.map((e) => e.value)).to.deep.equal([{ rev: 1, tags: ['x'] }, 'ops', false, 36]);
      expect((await coll.get('sx-1')).content).to.deep.equal({ name: 'Ada', age: 36 });
    });

    it('the virtual $document attributes answer with the document’s CAS, expiry and deleted flag; get withExpiry uses them', async () => {
      const up = await coll.upsert('sx-vattr', { v: 1 }, { expiry: 3600 });
      const got = await coll.lookupIn('sx-vattr', [LookupInSpec.get(LookupInMacro.Cas), LookupInSpec.get(LookupInMacro.Expiry), LookupInSpec.get(LookupInMacro.IsDeleted), LookupInSpec.get(LookupInMacro.Document)]);
      expect(BigInt(got.content[0].value)).to.equal(BigInt(up.cas.toString()));
      expect(Math.abs(got.content[1].value - (Date.now() / 1000 + 3600))).to.be.lessThan(5);
      expect(got.content[2].value).to.equal(false);
      expect(got.content[3].value).to.include.keys('CAS', 'seqno', 'exptime', 'value_crc32c', 'last_modified', 'revid');
      const withExpiry = await coll.get('sx-vattr', { withExpiry: true });
      expect(withExpiry.content).to.deep.equal({ v: 1 });
      expect(Math.abs(withExpiry.expiryTime! - (Date.now() / 1000 + 3600))).to.be.lessThan(5);
    });

    it('macros: MutateInMacro.Cas, SeqNo and ValueCrc32c are expanded by the server', async () => {
      const res = await coll.mutateIn(
        'sx-macro',
        [
          MutateInSpec.upsert('stamp.cas', MutateInMacro.Cas, { xattr: true, createPath: true }),
          MutateInSpec.upsert('stamp.seqno', MutateInMacro.SeqNo, { xattr: true, createPath: true }),
          MutateInSpec.upsert('stamp.crc', MutateInMacro.ValueCrc32c, { xattr: true, createPath: true }),
          MutateInSpec.replace('', { body: 1 }),
        ],
        { storeSemantics: couchbase.StoreSemantics.Upsert },
      );
      const stamp = (await coll.lookupIn('sx-macro', [LookupInSpec.get('stamp', { xattr: true })])).content[0].value;
      // ${Mutation.CAS} is the CAS's bytes in network order, printed as a little-endian number (kv_engine's htonll).
      const swapped = Buffer.alloc(8);
      swapped.writeBigUInt64LE(BigInt(res.cas.toString()));
      expect(stamp.cas).to.equal('0x' + swapped.toString('hex'));
      expect(stamp.seqno).to.match(/^0x[0-9a-f]{16}$/);
      expect(stamp.crc).to.match(/^0x[0-9a-f]{8}$/);
    });

    it('after remove, lookupIn with accessDeleted reads the system xattrs the tombstone kept; user xattrs are gone', async () => {
      await coll.upsert('sx-del', { v: 1 });
      await coll.mutateIn('sx-del', [MutateInSpec.upsert('_keep', 'me', { xattr: true }), MutateInSpec.upsert('drop', 'me', { xattr: true })]);
      await coll.remove('sx-del');
      const got = await coll.lookupIn('sx-del', [LookupInSpec.get('_keep', { xattr: true }), LookupInSpec.exists('drop', { xattr: true })], { accessDeleted: true });
      expect(got.content[0].value).to.equal('me');
      expect(got.content[1].value).to.equal(false);
      let err: unknown;
      try {
        await coll.lookupIn('sx-del', [LookupInSpec.get('_keep', { xattr: true })]);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(couchbase.DocumentNotFoundError);
    });
  });
});
