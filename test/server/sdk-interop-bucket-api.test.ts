// What the Python 2.x Bucket API needs of the embedded cluster, checked with the official Couchbase
// Node.js SDK (couchbase 4.x) where it has the same call: sub-document on every path form, design
// document REST and view queries, flush, N1QL index management, and per-document stats.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { Bucket as PromiseBucket } from '../../adapters/promise';
import { SD } from '../../lib/index';

const { LookupInSpec: L, MutateInSpec: M } = couchbase;

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('the embedded cluster serves the Python 2.x Bucket API, checked with the official SDK', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;
  let ours: PromiseBucket;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, buckets: [{ name: 'default', flushEnabled: true }] });
    sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password', timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    coll = sdk.bucket('default').defaultCollection();
    ours = new PromiseBucket(`${server.connectionString.split(',')[0]}/default`, { username: 'Administrator', password: 'password' });
    await ours.connect();
  });

  after(async () => {
    await ours?.close();
    await sdk?.close();
    await server?.stop();
  });

  it('sub-document on every path form: nested, array indexes (negative too), nested arrays, backquoted names with dots and brackets, the whole document', async () => {
    await coll.upsert('paths', { a: { b: { c: 1 } }, arr: [1, 2, 3], m: [[0, 1], [2, 3]], 'dot.ted': { 'br[0]': 'q' }, n: 10 });
    await coll.mutateIn('paths', [
      M.upsert('a.b.d', 'new'),
      M.insert('x.y.z', true, { createPath: true }),
      M.arrayAppend('arr', 4),
      M.arrayPrepend('arr', 0),
      M.arrayInsert('arr[2]', 1.5),
      M.arrayAddUnique('m[1]', 9),
      M.replace('m[0][-1]', 'last'),
      M.increment('n', 5),
      M.upsert('`dot.ted`.`br[0]`', 'r'),
      M.remove('a.b.c'),
    ]);
    const r = await coll.lookupIn('paths', [
      L.get('a.b'),
      L.get('arr[-1]'),
      L.get('arr'),
      L.get('m[0][1]'),
      L.get('m[1]'),
      L.count('arr'),
      L.exists('x.y.z'),
      L.get('`dot.ted`.`br[0]`'),
      L.get('n'),
      L.exists('a.b.c'),
    ]);
    expect(r.content.map((e) => e.value)).to.deep.equal([{ d: 'new' }, 4, [0, 1, 1.5, 2, 3, 4], 'last', [2, 3, 9], 6, true, 'r', 15, false]);
    // The same paths through this client's SD specs read the same values.
    const mine = await ours.lookupIn('paths', SD.get('a.b.d'), SD.get('arr[-1]'), SD.get('m[0][1]'), SD.get('`dot.ted`.`br[0]`'), SD.getCount('arr'), SD.exists('nope'));
    expect([0, 1, 2, 3, 4].map((i) => mine.at(i))).to.deep.equal(['new', 4, 'last', 'r', 6]);
    expect(mine.exists(5)).to.equal(false);
    const whole = await coll.lookupIn('paths', [L.get('')]);
    expect(whole.content[0].value.n).to.equal(15);
    const err = await rejection(coll.mutateIn('paths', [M.arrayAddUnique('m[1]', 9)]));
    expect(err).to.be.instanceOf(couchbase.PathExistsError);
  });

  it('design documents: what this client creates (development, then published) the SDK\'s view index manager lists and queries, and the other way round', async () => {
    const mgr = ours.bucketManager();
    await mgr.designCreate('pyddoc', { views: { by_v: { map: 'function (doc, meta) { if (doc.dv !== undefined) emit(doc.dv, null); }' } } }, { useDevmode: true });
    const views = sdk.bucket('default').viewIndexes();
    const dev = await views.getAllDesignDocuments(couchbase.DesignDocumentNamespace.Development);
    expect(dev.map((d) => d.name)).to.include('pyddoc');
    expect((await views.getAllDesignDocuments(couchbase.DesignDocumentNamespace.Production)).map((d) => d.name)).to.not.include('pyddoc');
    await mgr.designPublish('pyddoc');
    const prod = await views.getDesignDocument('pyddoc', couchbase.DesignDocumentNamespace.Production);
    expect(Object.keys(prod.views)).to.deep.equal(['by_v']);
    for (let i = 0; i < 3; i++) await coll.upsert(`dv-${i}`, { dv: i });
    const res = await sdk.bucket('default').viewQuery('pyddoc', 'by_v', { scanConsistency: couchbase.ViewScanConsistency.RequestPlus });
    expect(res.rows.map((r) => r.key)).to.deep.equal([0, 1, 2]);
    // The SDK's design document, read and dropped through this client's BucketManager.
    await views.upsertDesignDocument(new couchbase.DesignDocument('sdkddoc', { v: new couchbase.DesignDocumentView({ map: 'function (doc) { emit(doc.dv, null); }' }) }), couchbase.DesignDocumentNamespace.Production);
    const got = await mgr.designGet('sdkddoc', { useDevmode: false });
    expect(Object.keys((got.value as { views: object }).views)).to.deep.equal(['v']);
    await mgr.designDelete('sdkddoc', { useDevmode: false });
    expect(await rejection(views.getDesignDocument('sdkddoc', couchbase.DesignDocumentNamespace.Production))).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
  });

  it('N1QL indexes: what this client\'s BucketManager creates deferred the SDK\'s query index manager lists, builds and drops', async () => {
    const mgr = ours.bucketManager();
    await mgr.n1qlIndexCreatePrimary({ defer: true, ignoreExists: true });
    await mgr.n1qlIndexCreate('by_dv', { fields: ['dv'], defer: true, condition: 'dv > 0' });
    const ix = sdk.queryIndexes();
    const listed = await ix.getAllIndexes('default');
    const byDv = listed.find((i) => i.name === 'by_dv')!;
    expect(byDv.state).to.equal('deferred');
    expect(byDv.condition).to.match(/dv.*> 0/);
    await ix.buildDeferredIndexes('default');
    await mgr.n1qlIndexWatch(['by_dv'], { watchPrimary: true, timeout: 10 });
    expect((await ix.getAllIndexes('default')).every((i) => i.state === 'online')).to.equal(true);
    await ix.dropIndex('default', 'by_dv');
    const mine = await mgr.n1qlIndexList();
    expect(mine.map((i) => i.name)).to.not.include('by_dv');
    await mgr.n1qlIndexDrop('by_dv', { ignoreMissing: true });
    await ix.createIndex('default', 'sdk_ix', ['dv'], { deferred: true });
    expect((await mgr.n1qlIndexList()).find((i) => i.name === 'sdk_ix')?.state).to.equal('deferred');
    await mgr.n1qlIndexBuildDeferred();
    await mgr.n1qlIndexDrop('sdk_ix');
    await mgr.n1qlIndexDrop('', { primary: true });
  });

  it('stats: this client\'s keystats read ep-engine\'s key stats of the document the SDK wrote, on its active node', async () => {
    const w = await coll.upsert('ks', { k: 1 });
    const s = await ours.stats(['ks'], { keystats: true });
    const nodes = Object.keys(s.value.key_cas);
    expect(nodes).to.have.length(1);
    expect(BigInt(s.value.key_cas[nodes[0]]).toString()).to.equal(w.cas.toString());
    expect(s.value.key_flags[nodes[0]]).to.equal(0x02000000);
  });

  it('flush: this client\'s flush() and the SDK\'s bucket manager both empty the bucket', async () => {
    await coll.upsert('f1', 1);
    await ours.flush();
    expect(await rejection(coll.get('f1'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
    await ours.upsert('f2', 2);
    await sdk.buckets().flushBucket('default');
    expect(await rejection(ours.get('f2'))).to.have.property('rc', 13);
  });
});
