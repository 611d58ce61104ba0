// The engine and named collections: ids asked for once and cached, keys framed with their LEB128
// collection id, UNKNOWN_COLLECTION answered by asking again, servers without collections.
import { expect } from 'chai';
import { Engine } from '../../lib/engine/engine';
import { withCollectionPrefix, checkCollectionPath } from '../../lib/engine/kv/collections';
import { ArgumentError, CancelledError, CollectionNotFoundError, NotSupportedError } from '../../lib/engine/errors';
import { Magic, encodePacket, decodePacket } from '../../lib/protocol/packet';
import { Opcode } from '../../lib/protocol/opcodes';
import { Cluster } from '../../lib/server';
import { run, fails, connect, close } from './helpers/engine';
import type { ValueResult } from '../../lib/engine/results';

describe('engine: named collections', function () {
  this.timeout(20000);

  describe('frames', () => {
    it('withCollectionPrefix adds, changes and removes a key\'s LEB128 collection id, header lengths included', () => {
      const plain = encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SET, key: 'doc', extras: Buffer.alloc(8, 7), value: 'v', opaque: 9 });
      const in8 = withCollectionPrefix(plain, -1, 8);
      expect(decodePacket(in8).key).to.deep.equal(Buffer.from([8, 0x64, 0x6f, 0x63]));
      expect(decodePacket(in8).extras).to.deep.equal(Buffer.alloc(8, 7));
      expect(decodePacket(in8).value.toString()).to.equal('v');
      const in300 = withCollectionPrefix(in8, 8, 300);
      expect(decodePacket(in300).key).to.deep.equal(Buffer.from([0xac, 0x02, 0x64, 0x6f, 0x63]));
      expect(withCollectionPrefix(in300, 300, -1)).to.deep.equal(plain);
      expect(decodePacket(withCollectionPrefix(plain, -1, 0)).key).to.deep.equal(Buffer.from([0, 0x64, 0x6f, 0x63]));
    });

    it('a path is scope.collection', () => {
      expect(checkCollectionPath('inventory.airline')).to.equal('inventory.airline');
      expect(checkCollectionPath('_default._default')).to.equal('_default._default');
      for (const bad of ['airline', 'a.b.c', '.b', 'a.', 'a b.c', 42]) expect(() => checkCollectionPath(bad)).to.throw(ArgumentError);
    });
  });

  describe('against the embedded cluster', () => {
    let cluster: Cluster;
    let engine: Engine;

    before(async () => {
      cluster = await Cluster.start({ numVBuckets: 64, queryService: null, viewsService: null, consoleDir: null });
      cluster.changeCollections('default', { op: 'createScope', scope: 'app' });
      cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'users', props: {} });
    });
    after(async () => {
      await cluster?.stop();
    });
    beforeEach(async () => {
      engine = new Engine(`${cluster.connectionString}/default`, { username: 'Administrator', password: 'password' });
      await connect(engine);
    });
    afterEach(async () => {
      await close(engine);
    });

    it('asks for a collection\'s id once, whatever the number of operations on it', async () => {
      const asked = (): number => cluster.bucket('default').counters.requests[Opcode.GET_COLLECTION_ID];
      const before = asked();
      await Promise.all(Array.from({ length: 50 }, (_, i) => run(engine, 'upsert', `k${i}`, { value: { i }, collection: 'app.users' })));
      const got = await run<ValueResult>(engine, 'get', 'k7', { collection: 'app.users' });
      expect(got.value).to.deep.equal({ i: 7 });
      expect(asked() - before).to.equal(1);
      expect(cluster.bucket('default').collectionNamed('app', 'users')!.get('k7')).to.not.equal(undefined);
      expect(cluster.bucket('default').get('k7')).to.equal(undefined);
      // The default collection, named or not, is never asked for.
      await run(engine, 'upsert', 'plain', { value: 1, collection: '_default._default' });
      expect(cluster.bucket('default').get('plain')!.value.toString()).to.equal('1');
      expect(asked() - before).to.equal(1);
    });

    it('observe and getMulti name the collection too', async () => {
      await run(engine, 'upsert', 'r1', { value: 'in users', collection: 'app.users' });
      await run(engine, 'upsert', 'r1', { value: 'in default' });
      const observed = await run(engine, 'observe', 'r1', { collection: 'app.users' });
      expect((observed as unknown as { value: Array<{ cas: bigint }> }).value[0].cas).to.equal(cluster.bucket('default').collectionNamed('app', 'users')!.get('r1')!.cas);
      const multi = await new Promise<Map<string, ValueResult>>((resolve, reject) =>
        engine.kvMulti('get', ['r1', 'k1'], { collection: 'app.users' }, (err, r) => (err ? reject(err) : resolve(r as unknown as Map<string, ValueResult>))),
      );
      expect(multi.get('r1')!.value).to.equal('in users');
    });

    it('a collection dropped and created again: UNKNOWN_COLLECTION, a new lookup, the operation resent', async () => {
      cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'again', props: {} });
      await run(engine, 'upsert', 'x', { value: 1, collection: 'app.again' });
      cluster.changeCollections('default', { op: 'dropCollection', scope: 'app', collection: 'again' });
      cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'again', props: {} });
      await run(engine, 'upsert', 'x', { value: 2, collection: 'app.again' });
      expect(cluster.bucket('default').collectionNamed('app', 'again')!.get('x')!.value.toString()).to.equal('2');
      cluster.changeCollections('default', { op: 'dropCollection', scope: 'app', collection: 'again' });
      const err = await fails(run(engine, 'get', 'x', { collection: 'app.again' }));
      expect(err).to.be.instanceOf(CollectionNotFoundError);
    });

    it('cancelling an operation that waits for its collection\'s id', async () => {
      const outcome = new Promise((resolve) => {
        const handle = engine.kv('get', 'k1', { collection: 'app.users2' }, (err) => resolve(err));
        handle.cancel();
      });
      expect(await outcome).to.be.instanceOf(CancelledError);
    });

    it('enable_collections=false: the default collection as before, a named one NotSupportedError', async () => {
      const old = new Engine(`${cluster.connectionString}/default?enable_collections=false`, { username: 'Administrator', password: 'password' });
      await connect(old);
      try {
        await run(old, 'upsert', 'legacy', { value: 'v' });
        expect(cluster.bucket('default').get('legacy')!.value.toString()).to.equal('"v"');
        expect(await fails(run(old, 'get', 'k1', { collection: 'app.users' }))).to.be.instanceOf(NotSupportedError);
      } finally {
        await close(old);
      }
    });
  });
});
