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
});
