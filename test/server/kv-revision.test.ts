// A document's revision (kv_engine's rev seqno): 1 when created, one more with every mutation
// (deletions and touches included, a lock not), carried on by a document written again after its
// deletion, above every deletion of its vBucket for a key never seen; what GET_META's seqno and
// `$document.revid` report, kept across a restart with dataDir.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as couchbase from 'couchbase';
import { Cluster, DocumentStore } from '../../lib/server';
import { HelloFeature, Opcode, Status, decodeGetMetaExtras } from '../../lib/protocol';
import { RawClient } from './raw-client';

describe('server KV: document revisions (rev seqno)', function () {
  this.timeout(30000);

  const rev = (store: DocumentStore, id: string): bigint | undefined => store.live(id)?.rev ?? store.tombstone(id)?.rev;

  it('count mutations per document: writes, sub-document changes, touches and deletions; not locks', () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 4 });
    store.write('a', Buffer.from('{"n":1}'), 'upsert');
    expect(rev(store, 'a')).to.equal(1n);
    store.write('other', Buffer.from('1'), 'upsert');
    expect(rev(store, 'other')).to.equal(1n);
    store.write('a', Buffer.from('{"n":2}'), 'replace');
    expect(rev(store, 'a')).to.equal(2n);
    store.touch('a', 100);
    expect(rev(store, 'a')).to.equal(3n);
    const locked = store.getLocked('a', 5);
    expect(locked.rev).to.equal(3n);
    store.unlock('a', locked.cas);
    store.concat('a', Buffer.from(' '), 'append');
    expect(rev(store, 'a')).to.equal(4n);
    store.delete('a');
    expect(store.meta('a')).to.include({ deleted: true, rev: 5n });
    store.write('a', Buffer.from('{}'), 'insert');
    expect(store.meta('a')).to.include({ deleted: false, rev: 6n });
    // The revision is the document's, not the vBucket's sequence number.
    expect(store.live('a')!.seqno).to.not.equal(6n);
  });

  it('a key never seen starts above the highest revision a deletion reached in its vBucket', () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 1 });
    for (let i = 0; i < 4; i++) store.write('old', Buffer.from(String(i)), 'upsert');
    store.delete('old');
    expect(rev(store, 'old')).to.equal(5n);
    store.write('new', Buffer.from('1'), 'upsert');
    expect(rev(store, 'new')).to.equal(6n);
  });

  it('GET_META reports it, a deleted document\'s too, and revisions survive a restart with dataDir', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-rev-'));
    const start = (): Promise<Cluster> => Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null, consoleDir: null });
    let cluster = await start();
    try {
      const bucket = cluster.bucket('default');
      for (let i = 0; i < 3; i++) bucket.write('r', Buffer.from(`{"i":${i}}`), 'upsert');
      bucket.write('gone', Buffer.from('1'), 'upsert');
      bucket.remove('gone');
      await cluster.stop();
      cluster = await start();
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      c.numVBuckets = 16;
      try {
        await c.hello([HelloFeature.XATTR, HelloFeature.XERROR, HelloFeature.JSON]);
        await c.login('Administrator', 'password', 'default');
        const meta = await c.request({ opcode: Opcode.GET_META, key: 'r' });
        expect(meta.status).to.equal(Status.SUCCESS);
        expect(decodeGetMetaExtras(meta.extras).seqno).to.equal(3n);
        const dead = await c.request({ opcode: Opcode.GET_META, key: 'gone' });
        expect(decodeGetMetaExtras(dead.extras)).to.include({ deleted: true, seqno: 2n });
        expect(cluster.bucket('default').write('gone', Buffer.from('2'), 'insert') && rev(cluster.bucket('default'), 'gone')).to.equal(3n);
      } finally {
        c.close();
      }
    } finally {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through the official SDK: lookupIn $document.revid follows the document\'s mutations', async () => {
    const cluster = await Cluster.start({ users: [{ username: 'app', password: 'app-password' }], queryService: null, viewsService: null });
    const sdk = await couchbase.connect(cluster.connectionString, { username: 'app', password: 'app-password', timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    try {
      const coll = sdk.bucket('default').defaultCollection();
      const revid = async (): Promise<string> => (await coll.lookupIn('sdk-rev', [couchbase.LookupInSpec.get('$document.revid', { xattr: true })])).content[0].value;
      await coll.insert('sdk-rev', { a: 1 });
      expect(await revid()).to.equal('1');
      await coll.replace('sdk-rev', { a: 2 });
      await coll.mutateIn('sdk-rev', [couchbase.MutateInSpec.upsert('b', 3)]);
      expect(await revid()).to.equal('3');
      await coll.getAndLock('sdk-rev', 5).then((r) => coll.unlock('sdk-rev', r.cas));
      expect(await revid()).to.equal('3');
    } finally {
      await sdk.close();
      await cluster.stop();
    }
  });
});
