// The official Couchbase Node.js SDK 4.7's KV surface against the embedded cluster (3 nodes,
// 1 replica): sub-document replica reads, range scans, and the Collection / BinaryCollection
// calls with their options and error classes, each checked against what a 7.6 server does.
// The cluster runs on a thread of its own: the SDK's scan() blocks the calling thread until the
// server has answered its first requests.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { startClusterThread, type ClusterThread } from './helpers/cluster-worker';

const AUTH = { username: 'app', password: 'app-password' };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('server interop: the official SDK KV surface', function () {
  this.timeout(30000);
  let server: ClusterThread;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await startClusterThread({ nodes: 3, replicas: 1, users: [AUTH], queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, { ...AUTH, timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    coll = sdk.bucket('default').defaultCollection();
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  describe('sub-document replica reads', () => {
    it('lookupInAnyReplica reads the paths, from the active or a replica', async () => {
      await coll.upsert('sr', { x: 1, arr: [1, 2, 3] });
      const res = await coll.lookupInAnyReplica('sr', [couchbase.LookupInSpec.get('x'), couchbase.LookupInSpec.count('arr'), couchbase.LookupInSpec.exists('nope')]);
      expect(res.content.map((e) => e.value)).to.deep.equal([1, 3, false]);
      expect(res.isReplica).to.be.a('boolean');
    });

    it('lookupInAllReplicas answers from the active and from each replica (the replica with the ReplicaRead flag)', async () => {
      const up = await coll.upsert('sr-all', { v: 'x' });
      const all = await coll.lookupInAllReplicas('sr-all', [couchbase.LookupInSpec.get('v')]);
      expect(all.map((r) => r.isReplica).sort()).to.deep.equal([false, true]);
      for (const r of all) {
        expect(r.content[0].value).to.equal('x');
        expect(r.cas.toString()).to.equal(up.cas.toString());
      }
    });

    it('lookupInAnyReplica of a missing document fails with DocumentUnretrievableError', async () => {
      expect(await failure(coll.lookupInAnyReplica('sr-missing', [couchbase.LookupInSpec.get('v')]))).to.be.instanceOf(couchbase.DocumentUnretrievableError);
    });
  });

  describe('range scans', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `scan::${String(i).padStart(3, '0')}`);
    let tokens: couchbase.MutationState;

    before(async () => {
      tokens = new couchbase.MutationState();
      for (const id of ids) tokens.add((await coll.upsert(id, { n: Number(id.slice(6)) }, { expiry: id.endsWith('7') ? 3600 : 0 })).token!);
      for (let i = 0; i < 5; i++) await coll.upsert(`other::${i}`, { i });
    });

    const idsOf = (results: couchbase.ScanResult[]): string[] => results.map((r) => r.id).sort();

    it('RangeScan returns every document between the terms, inclusive, with content and CAS', async () => {
      const res = await coll.scan(new couchbase.RangeScan(new couchbase.ScanTerm('scan::010'), new couchbase.ScanTerm('scan::019')));
      expect(idsOf(res)).to.deep.equal(ids.slice(10, 20));
      for (const r of res) {
        const got = await coll.get(r.id);
        expect(r.content).to.deep.equal(got.content);
        expect(r.cas!.toString()).to.equal(got.cas.toString());
      }
    });

    it('RangeScan with exclusive terms leaves the terms out', async () => {
      const res = await coll.scan(new couchbase.RangeScan(new couchbase.ScanTerm('scan::010', true), new couchbase.ScanTerm('scan::019', true)));
      expect(idsOf(res)).to.deep.equal(ids.slice(11, 19));
    });

    it('PrefixScan with idsOnly returns the ids alone', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('other::'), { idsOnly: true });
      expect(idsOf(res)).to.deep.equal(['other::0', 'other::1', 'other::2', 'other::3', 'other::4']);
      expect(res.every((r) => r.content === undefined)).to.equal(true);
    });

    it('reports each document\'s expiry as the server keeps it', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('scan::00'));
      const byId = new Map(res.map((r) => [r.id, r]));
      expect(byId.get('scan::007')!.expiryTime).to.be.closeTo(Date.now() / 1000 + 3600, 60);
      expect(byId.get('scan::006')!.expiryTime ?? 0).to.equal(0);
    });

    it('a scan of an empty range returns nothing (the vBuckets answer KEY_ENOENT)', async () => {
      expect(await coll.scan(new couchbase.PrefixScan('nothing-here'))).to.deep.equal([]);
    });

    it('SamplingScan returns at most its limit of existing documents, the same ones for the same seed', async () => {
      const a = await coll.scan(new couchbase.SamplingScan(7, 42));
      const b = await coll.scan(new couchbase.SamplingScan(7, 42));
      expect(a.length).to.be.within(1, 7);
      expect(idsOf(a)).to.deep.equal(idsOf(b));
      const known = new Set((await coll.scan(new couchbase.RangeScan(), { idsOnly: true })).map((r) => r.id));
      for (const r of a) expect(known.has(r.id), r.id).to.equal(true);
      for (const r of a) expect(r.content).to.deep.equal((await coll.get(r.id)).content);
    });

    it('with consistentWith, small batches and parallel vBuckets, still returns every document once', async () => {
      const res = await coll.scan(new couchbase.PrefixScan('scan::'), { consistentWith: tokens, batchItemLimit: 1, batchByteLimit: 10, concurrency: 8 });
      expect(idsOf(res)).to.deep.equal(ids);
    });

    it('a named collection\'s scan reads that collection only', async () => {
      const mgr = sdk.bucket('default').collections();
      await mgr.createScope('scanning');
      await mgr.createCollection('docs', 'scanning');
      const named = sdk.bucket('default').scope('scanning').collection('docs');
      await named.upsert('scan::010', { in: 'docs' });
      await named.upsert('scan::named', { in: 'docs' });
      const res = await named.scan(new couchbase.PrefixScan('scan::'));
      expect(idsOf(res)).to.deep.equal(['scan::010', 'scan::named']);
      expect(res.map((r) => r.content)).to.deep.equal([{ in: 'docs' }, { in: 'docs' }]);
      // The default collection's scan does not see them.
      expect(idsOf(await coll.scan(new couchbase.PrefixScan('scan::n'), { idsOnly: true }))).to.deep.equal([]);
    });

    it('streams results as they arrive', async () => {
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        // scan() returns a StreamableScanPromise, though its declaration says Promise
        (coll.scan(new couchbase.PrefixScan('scan::03')) as unknown as couchbase.StreamableScanPromise<couchbase.ScanResult[], couchbase.ScanResult>)
          .on('result', (r: couchbase.ScanResult) => seen.push(r.id))
          .on('end', () => resolve())
          .on('error', reject);
      });
      expect(seen.sort()).to.deep.equal(ids.slice(30, 40));
    });
  });

  describe('Collection and BinaryCollection, as against a 7.6 server', () => {
    const doc = { a: 1, b: { c: [1, 2, 3], d: 'x' }, e: null };
    const now = (): number => Math.floor(Date.now() / 1000);
    const expiryOf = async (key: string): Promise<number> => (await coll.get(key, { withExpiry: true })).expiryTime!;

    it('get: project (present and missing paths), withExpiry, both; a missing document', async () => {
      await coll.upsert('kv-get', doc);
      expect((await coll.get('kv-get', { project: ['a', 'b.c'] })).content).to.deep.equal({ a: 1, b: { c: [1, 2, 3] } });
      expect((await coll.get('kv-get', { project: ['a', 'nope'] })).content).to.deep.equal({ a: 1 });
      const both = await coll.get('kv-get', { project: ['b.d'], withExpiry: true });
      expect(both.content).to.deep.equal({ b: { d: 'x' } });
      expect(both.expiryTime).to.equal(0);
      // more than 16 paths: the SDK fetches the document and projects it itself
      const many = await coll.get('kv-get', { project: ['a', ...Array.from({ length: 19 }, (_, i) => `p${i}`)] });
      expect(many.content).to.deep.include({ a: 1 });
      expect(await failure(coll.get('kv-get-missing'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
    });

    it('getAnyReplica / getAllReplicas read the active and the replica, a missing document is unretrievable', async () => {
      await coll.upsert('kv-rep', doc);
      expect((await coll.getAnyReplica('kv-rep')).content).to.deep.equal(doc);
      const all = await coll.getAllReplicas('kv-rep');
      expect(all.map((r) => r.isReplica).sort()).to.deep.equal([false, true]);
      expect(await failure(coll.getAnyReplica('kv-rep-missing'))).to.be.instanceOf(couchbase.DocumentUnretrievableError);
    });

    it('getAllReplicas of a locked document: the active\'s CAS is hidden, the replica\'s is the last mutation\'s', async () => {
      const written = (await coll.upsert('kv-rep-locked', doc)).cas;
      const locked = await coll.getAndLock('kv-rep-locked', 10);
      const all = await coll.getAllReplicas('kv-rep-locked');
      const replica = all.find((r) => r.isReplica)!;
      const active = all.find((r) => !r.isReplica)!;
      expect(replica.cas.toString()).to.equal(written.toString());
      expect(active.cas.toString()).to.equal('18446744073709551615');
      expect(active.content).to.deep.equal(doc);
      await coll.unlock('kv-rep-locked', locked.cas);
    });

    it('exists: live, missing and deleted documents', async () => {
      await coll.upsert('kv-ex', 1);
      expect((await coll.exists('kv-ex')).exists).to.equal(true);
      await coll.remove('kv-ex');
      expect((await coll.exists('kv-ex')).exists).to.equal(false);
      expect((await coll.exists('kv-ex-never')).exists).to.equal(false);
    });

    it('expiry as seconds, as a Date, past 30 days (sent absolute), kept by preserveExpiry, cleared by a plain write', async () => {
      await coll.upsert('kv-ttl', 1, { expiry: 60 });
      expect((await expiryOf('kv-ttl')) - now()).to.be.within(58, 61);
      const at = new Date(Date.now() + 3_600_000);
      await coll.upsert('kv-ttl-date', 1, { expiry: at });
      expect(await expiryOf('kv-ttl-date')).to.be.closeTo(Math.floor(at.getTime() / 1000), 1);
      await coll.upsert('kv-ttl-40d', 1, { expiry: 40 * 86400 });
      expect((await expiryOf('kv-ttl-40d')) - now()).to.be.closeTo(40 * 86400, 2);
      await coll.upsert('kv-ttl', 2, { preserveExpiry: true });
      await coll.replace('kv-ttl', 3, { preserveExpiry: true });
      expect((await expiryOf('kv-ttl')) - now()).to.be.within(55, 61);
      await coll.upsert('kv-ttl', 4);
      expect(await expiryOf('kv-ttl')).to.equal(0);
      await coll.insert('kv-ttl-ins', 1, { expiry: 30 });
      expect((await expiryOf('kv-ttl-ins')) - now()).to.be.within(28, 31);
    });

    it('touch and getAndTouch set the expiry (0 clears it); on a missing document DocumentNotFoundError', async () => {
      await coll.upsert('kv-touch', { v: 1 });
      await coll.touch('kv-touch', 100);
      expect((await expiryOf('kv-touch')) - now()).to.be.within(98, 101);
      expect((await coll.getAndTouch('kv-touch', 0)).content).to.deep.equal({ v: 1 });
      expect(await expiryOf('kv-touch')).to.equal(0);
      expect(await failure(coll.touch('kv-touch-missing', 10))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect(await failure(coll.getAndTouch('kv-touch-missing', 10))).to.be.instanceOf(couchbase.DocumentNotFoundError);
    });

    it('insert / replace / remove with CAS: the error classes a 7.6 server gives', async () => {
      await coll.upsert('kv-cas', doc);
      expect(await failure(coll.insert('kv-cas', 1))).to.be.instanceOf(couchbase.DocumentExistsError);
      expect(await failure(coll.replace('kv-cas-missing', 1))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect(await failure(coll.remove('kv-cas-missing'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      const stale = (await coll.get('kv-cas')).cas;
      await coll.upsert('kv-cas', doc);
      expect(await failure(coll.replace('kv-cas', 1, { cas: stale }))).to.be.instanceOf(couchbase.CasMismatchError);
      expect(await failure(coll.remove('kv-cas', { cas: stale }))).to.be.instanceOf(couchbase.CasMismatchError);
      const fresh = (await coll.get('kv-cas')).cas;
      await coll.replace('kv-cas', 2, { cas: fresh });
      await coll.remove('kv-cas', { cas: (await coll.get('kv-cas')).cas });
      expect((await coll.exists('kv-cas')).exists).to.equal(false);
    });

    it('getAndLock / unlock: the CAS a locked read reports, the lock refusing writes, unlock errors', async () => {
      await coll.upsert('kv-lock', 1);
      const locked = await coll.getAndLock('kv-lock', 10);
      expect((await coll.get('kv-lock')).cas.toString()).to.equal('18446744073709551615');
      // LOCKED is retried until the timeout, as against a real server
      expect(await failure(coll.replace('kv-lock', 2, { timeout: 300 }))).to.be.instanceOf(couchbase.TimeoutError);
      expect(await failure(coll.getAndLock('kv-lock', 5, { timeout: 300 }))).to.be.instanceOf(couchbase.TimeoutError);
      expect(await failure(coll.unlock('kv-lock', '1234'))).to.be.instanceOf(couchbase.CasMismatchError);
      await coll.unlock('kv-lock', locked.cas);
      expect(await failure(coll.unlock('kv-lock', locked.cas))).to.be.instanceOf(couchbase.DocumentNotLockedError);
      expect(await failure(coll.unlock('kv-lock-missing', '1'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect(await failure(coll.getAndLock('kv-lock-missing', 5))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      // a lock time over the server's maximum takes the default instead of failing
      const long = await coll.getAndLock('kv-lock', 60);
      await coll.unlock('kv-lock', long.cas);
    });

    it('values up to 20 MiB are stored, larger ones fail with ValueTooLargeError', async () => {
      await coll.upsert('kv-big', Buffer.alloc(20 * 1024 * 1024 - 100));
      expect(await failure(coll.upsert('kv-too-big', Buffer.alloc(21 * 1024 * 1024)))).to.be.instanceOf(couchbase.ValueTooLargeError);
    });

    it('append / prepend, increment / decrement with initial and expiry, and their errors', async () => {
      const bin = coll.binary();
      await coll.upsert('kv-str', 'hello', { transcoder: new couchbase.RawStringTranscoder() });
      await bin.append('kv-str', ' world');
      await bin.prepend('kv-str', '>');
      expect((await coll.get('kv-str', { transcoder: new couchbase.RawStringTranscoder() })).content).to.equal('>hello world');
      expect(await failure(bin.append('kv-str-missing', 'x'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect(await failure(bin.prepend('kv-str-missing', 'x'))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect(await failure(bin.increment('kv-ctr-missing', 1))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      expect((await bin.increment('kv-ctr', 5, { initial: 10 })).value).to.equal(10);
      expect((await bin.increment('kv-ctr', 5)).value).to.equal(15);
      expect((await bin.decrement('kv-ctr', 100)).value).to.equal(0);
      const d = await bin.decrement('kv-ctr2', 1, { initial: 7, expiry: 50 });
      expect(d.value).to.equal(7);
      expect((await expiryOf('kv-ctr2')) - now()).to.be.within(48, 51);
      await coll.upsert('kv-wrap', '18446744073709551615', { transcoder: new couchbase.RawStringTranscoder() });
      expect((await bin.increment('kv-wrap', 2)).value).to.equal(1);
      expect(await failure(bin.increment('kv-str', 1))).to.be.instanceOf(couchbase.DeltaInvalidError);
    });

    it('lookupIn: per-path results and errors, whole document, a missing document', async () => {
      await coll.upsert('kv-li', doc);
      const L = couchbase.LookupInSpec;
      const res = await coll.lookupIn('kv-li', [L.get('a'), L.exists('b.c'), L.count('b.c'), L.get('nope'), L.exists('nope'), L.get('a.x'), L.get('a[')]);
      expect(res.content.slice(0, 3).map((e) => e.value)).to.deep.equal([1, true, 3]);
      expect(res.content[3].error).to.be.instanceOf(couchbase.PathNotFoundError);
      expect(res.content[4].value).to.equal(false);
      expect(res.content[5].error).to.be.instanceOf(couchbase.PathMismatchError);
      expect(res.content[6].error).to.be.instanceOf(couchbase.PathInvalidError);
      expect((await coll.lookupIn('kv-li', [L.get('')])).content[0].value).to.deep.equal(doc);
      expect(await failure(coll.lookupIn('kv-li-missing', [L.get('a')]))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      await coll.upsert('kv-li-bin', Buffer.from([1, 2, 3]));
      expect((await coll.lookupIn('kv-li-bin', [L.get('a')])).content[0].error).to.be.instanceOf(couchbase.DocumentNotJsonError);
    });

    it('mutateIn: every spec kind, counters returning their value, and the errors each failure gives', async () => {
      const M = couchbase.MutateInSpec;
      await coll.upsert('kv-mi', doc);
      await coll.mutateIn('kv-mi', [
        M.upsert('n', 1),
        M.insert('m', 2),
        M.replace('a', 9),
        M.arrayAppend('b.c', 4),
        M.arrayPrepend('b.c', 0),
        M.arrayInsert('b.c[1]', 'i'),
        M.arrayAddUnique('u', 1, { createPath: true }),
        M.increment('cnt', 3, { createPath: true }),
        M.decrement('cnt', 1),
        M.remove('e'),
      ]);
      expect((await coll.get('kv-mi')).content).to.deep.equal({ a: 9, b: { c: [0, 'i', 1, 2, 3, 4], d: 'x' }, n: 1, m: 2, u: [1], cnt: 2 });
      expect((await coll.mutateIn('kv-mi', [M.increment('cnt', 1), M.upsert('z', 1)])).content.map((e) => e.value)).to.deep.equal([3, undefined]);
      const errors: Array<[couchbase.MutateInSpec[], unknown]> = [
        [[M.insert('a', 1)], couchbase.PathExistsError],
        [[M.replace('zz', 1)], couchbase.PathNotFoundError],
        [[M.arrayAppend('a', 1)], couchbase.PathMismatchError],
        [[M.arrayAddUnique('u', 1)], couchbase.PathExistsError],
        [[M.increment('cnt', 0)], couchbase.DeltaInvalidError],
        [[M.upsert('deep', JSON.parse('['.repeat(40) + ']'.repeat(40)))], couchbase.ValueTooDeepError],
        [[M.upsert(Array.from({ length: 40 }, (_, i) => `p${i}`).join('.'), 1, { createPath: true })], couchbase.PathTooBigError],
      ];
      for (const [specs, cls] of errors) expect(await failure(coll.mutateIn('kv-mi', specs))).to.be.instanceOf(cls as new () => Error);
      // int64 as subjson counts (the C++ SDK's own suite): a result past it cannot be written, a current value past it is too big
      await coll.upsert('kv-mi-int64', Buffer.from('{"max":9223372036854775807,"big":9223372036854775807999999999999999999999999999999}'), { transcoder: new couchbase.RawJsonTranscoder() });
      expect(await failure(coll.mutateIn('kv-mi-int64', [M.increment('max', 10)]))).to.be.instanceOf(couchbase.ValueInvalidError);
      expect(await failure(coll.mutateIn('kv-mi-int64', [M.increment('big', 1)]))).to.be.instanceOf(couchbase.NumberTooBigError);
      expect(await failure(coll.mutateIn('kv-mi-missing', [M.upsert('a', 1)]))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      await coll.upsert('kv-mi-bin', Buffer.from([1, 2, 3]));
      expect(await failure(coll.mutateIn('kv-mi-bin', [M.upsert('a', 1)]))).to.be.instanceOf(couchbase.DocumentNotJsonError);
    });

    it('mutateIn storeSemantics, cas, expiry and preserveExpiry; whole-document replace and remove', async () => {
      const M = couchbase.MutateInSpec;
      const S = couchbase.StoreSemantics;
      await coll.mutateIn('kv-ss', [M.upsert('a', 1)], { storeSemantics: S.Upsert });
      expect((await coll.get('kv-ss')).content).to.deep.equal({ a: 1 });
      expect(await failure(coll.mutateIn('kv-ss', [M.upsert('a', 1)], { storeSemantics: S.Insert }))).to.be.instanceOf(couchbase.DocumentExistsError);
      await coll.mutateIn('kv-ss-new', [M.upsert('a.b', 1, { createPath: true })], { storeSemantics: S.Insert });
      expect((await coll.get('kv-ss-new')).content).to.deep.equal({ a: { b: 1 } });
      expect(await failure(coll.mutateIn('kv-ss-none', [M.upsert('a', 1)], { storeSemantics: S.Replace }))).to.be.instanceOf(couchbase.DocumentNotFoundError);
      const stale = (await coll.get('kv-ss')).cas;
      await coll.mutateIn('kv-ss', [M.upsert('q', 1)]);
      expect(await failure(coll.mutateIn('kv-ss', [M.upsert('q', 2)], { cas: stale }))).to.be.instanceOf(couchbase.CasMismatchError);
      await coll.mutateIn('kv-ss', [M.upsert('q', 3)], { expiry: 100 });
      await coll.mutateIn('kv-ss', [M.upsert('q', 4)], { preserveExpiry: true });
      expect((await expiryOf('kv-ss')) - now()).to.be.within(97, 101);
      await coll.mutateIn('kv-ss', [M.upsert('q', 5)]);
      expect(await expiryOf('kv-ss')).to.equal(0);
      await coll.mutateIn('kv-ss', [M.replace('', { whole: true })]);
      expect((await coll.get('kv-ss')).content).to.deep.equal({ whole: true });
      await coll.mutateIn('kv-ss', [M.remove('')]);
      expect((await coll.exists('kv-ss')).exists).to.equal(false);
    });

    it('an array operation on the root with Upsert semantics creates an array: the SDK\'s list, queue and set work', async () => {
      const M = couchbase.MutateInSpec;
      await coll.mutateIn('kv-arr', [M.arrayAppend('', 1)], { storeSemantics: couchbase.StoreSemantics.Upsert });
      expect((await coll.get('kv-arr')).content).to.deep.equal([1]);
      const list = coll.list('kv-list');
      await list.push('b');
      await list.unshift('a');
      expect(await list.getAll()).to.deep.equal(['a', 'b']);
      const queue = coll.queue('kv-queue');
      await queue.push(1);
      await queue.push(2);
      expect(await queue.pop()).to.equal(1);
      const set = coll.set('kv-set');
      expect(await set.add('x')).to.equal(true);
      expect(await set.add('x')).to.equal(false);
      expect(await set.values()).to.deep.equal(['x']);
      const map = coll.map('kv-map');
      await map.set('k', 1);
      expect(await map.get('k')).to.equal(1);
    });
  });
});
