// One behaviour suite, run against every flavour (deferred, promise, blocking) and against two
// backends: the in-memory test double (adapters' own logic, deterministic) and the real engine
// talking to an embedded cluster that runs in its own worker thread.
import { expect } from 'chai';
import { putDesignDoc } from './helpers/design-docs';
import { startEmbedded, type EmbeddedClusterThread } from '../../adapters/blocking';
import {
  KeyExistsError,
  MultiResult,
  N1QLError,
  N1QLQuery,
  NotFoundError,
  ObjectDestroyedError,
  OperationResult,
  ValueResult,
  ViewError,
  ArgumentError,
  CollectionNotFoundError,
  FMT_UTF8,
  splitResults,
  SD,
} from '../../lib/index';
import { Prefixing, sentAs } from './helpers/prefixing-transcoder';
import { DRIVERS, type Driver, type Handle, type OpenOptions } from './helpers/flavours';
import type { SharedContext } from './shared/context';
import { multiCases } from './shared/multi';
import { optionCases } from './shared/options';
import { subdocCases } from './shared/subdoc';
import { dataStructureCases } from './shared/datastructures';
import { managementCases } from './shared/management';
import { errorCases } from './shared/errors';
import { n1qlCases } from './shared/n1ql';
import { viewCases } from './shared/views';
import { clusterCases, CLUSTER_USERS } from './shared/cluster';
import { bucketCases } from './shared/bucket';
import { adminCases } from './shared/admin';

/** The Python SDK 2.5 API cases, run through each flavour on the real backend (shared/). */
const PYTHON_API: Array<(c: SharedContext) => void> = [multiCases, optionCases, subdocCases, dataStructureCases, managementCases, errorCases, n1qlCases, viewCases, clusterCases, bucketCases, adminCases];

interface Backend {
  name: 'fake' | 'real';
  options(): OpenOptions;
  /** A N1QL statement returning exactly `n` rows, or undefined when the backend has no query service. */
  rowsQuery(n: number): unknown;
  failingQuery: unknown;
  hasQuery(): boolean;
  hasViews(): boolean;
}

let cluster: EmbeddedClusterThread | undefined;
/** Two nodes, bucket 'rep' with one replica: replica reads. */
let replicaCluster: EmbeddedClusterThread | undefined;
let bucketSeq = 0;
const ADMIN = { username: 'Administrator', password: 'password' };

const fakeBackend: Backend = {
  name: 'fake',
  options: () => ({ seed: { 'beer:1': { name: 'Alpha' }, 'beer:2': { name: 'Beta' } } }),
  rowsQuery: (n) => `ROWS ${n}`,
  failingQuery: 'NOT A QUERY',
  hasQuery: () => true,
  hasViews: () => true,
};

const realBackend: Backend = {
  name: 'real',
  options: () => ({
    connstr: cluster!.bucketConnstr(`b${bucketSeq++ % 4}`),
    username: 'Administrator',
    password: 'password',
  }),
  rowsQuery: (n) => new N1QLQuery(`SELECT RAW i FROM ARRAY_RANGE(0, ${n}) AS i`),
  failingQuery: new N1QLQuery('SELEC nonsense FROM'),
  hasQuery: () => cluster!.nodes[0].ports.n1ql !== undefined,
  hasViews: () => cluster!.nodes[0].ports.capi !== undefined,
};

async function expectReject(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

function suite(driver: Driver, backend: Backend): void {
  describe(`${driver.name} flavour on the ${backend.name} backend`, function () {
    let h: Handle;
    let k: (s: string) => string;
    let n = 0;
    let opened: OpenOptions;

    beforeEach(function () {
      opened = backend.options();
      h = driver.open(backend.name, opened);
      const prefix = `${driver.name}-${n++}-${Date.now()}`;
      k = (s) => `${prefix}:${s}`;
    });

    if (backend.name === 'real') {
      const ctx: SharedContext = {
        driver,
        h: () => h,
        k: (s) => k(s),
        openOptions(extra = {}) {
          const base = extra.bucket ? cluster!.bucketConnstr(extra.bucket) : opened.connstr!;
          const connstr = extra.connstrSuffix ? `${base}${base.includes('?') ? '&' : '?'}${extra.connstrSuffix}` : base;
          return { connstr, ...ADMIN, bucketOptions: extra.bucketOptions };
        },
        replicaOptions: () => ({ connstr: replicaCluster!.bucketConnstr('rep'), ...ADMIN }),
        noReplicaOptions: () => ({ connstr: cluster!.bucketConnstr('b0'), ...ADMIN }),
        ports: () => cluster!.nodes[0].ports as { mgmt: number; capi?: number; n1ql?: number },
        bucketName: () => new URL(opened.connstr!.replace(/^couchbase/, 'http')).pathname.slice(1),
      };
      describe('the Python SDK 2.5 API', function () {
        for (const cases of PYTHON_API) cases(ctx);
      });
    }
    afterEach(async function () {
      await h.close();
    });

    it('an operation issued right after the bucket is built waits for the connection and succeeds', async function () {
      const r = await h.call('upsert', k('early'), { a: 1 });
      expect(r).to.be.instanceOf(OperationResult);
      expect(typeof r.cas).to.equal('bigint');
    });

    it('get returns what upsert stored, as a ValueResult with the new CAS', async function () {
      const w = await h.call('upsert', k('doc'), { some: ['value'] });
      const r = await h.call('get', k('doc'));
      expect(r).to.be.instanceOf(ValueResult);
      expect(r.value).to.deep.equal({ some: ['value'] });
      expect(r.cas).to.equal(w.cas);
      expect(r.success).to.equal(true);
    });

    it('get of a missing key fails with NotFoundError carrying the key', async function () {
      const err = await expectReject(h.call('get', k('missing')));
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err.key).to.equal(k('missing'));
      expect(err.rc).to.equal(13);
    });

    it('insert of an existing key fails with KeyExistsError', async function () {
      await h.call('upsert', k('dup'), 1);
      const err = await expectReject(h.call('insert', k('dup'), 2));
      expect(err).to.be.instanceOf(KeyExistsError);
    });

    it('replace with a stale CAS fails with KeyExistsError and leaves the document alone', async function () {
      const first = await h.call('upsert', k('cas'), { v: 1 });
      await h.call('upsert', k('cas'), { v: 2 });
      const err = await expectReject(h.call('replace', k('cas'), { v: 3 }, { cas: first.cas }));
      expect(err).to.be.instanceOf(KeyExistsError);
      expect((await h.call('get', k('cas'))).value).to.deep.equal({ v: 2 });
    });

    it('counter creates with initial, then adds delta', async function () {
      const a = await h.call('counter', k('ctr'), { delta: 5, initial: 10 });
      expect(Number(a.value)).to.equal(10);
      const b = await h.call('counter', k('ctr'), { delta: 5 });
      expect(Number(b.value)).to.equal(15);
    });

    it('remove deletes the document', async function () {
      await h.call('upsert', k('rm'), 'x');
      const r = await h.call('remove', k('rm'));
      expect(r).to.be.instanceOf(OperationResult);
      expect(await expectReject(h.call('get', k('rm')))).to.be.instanceOf(NotFoundError);
    });

    it('append and prepend extend a string document', async function () {
      await h.call('upsert', k('s'), 'mid', { format: FMT_UTF8 });
      await h.call('append', k('s'), '-end', { format: FMT_UTF8 });
      await h.call('prepend', k('s'), 'start-', { format: FMT_UTF8 });
      expect((await h.call('get', k('s'))).value).to.equal('start-mid-end');
    });

    it('upsertMulti stores every key; getMulti of a missing key fails with every key\'s result in the error, unless quiet', async function () {
      const w = await h.call('upsertMulti', { [k('m1')]: { n: 1 }, [k('m2')]: { n: 2 } });
      expect(w).to.be.instanceOf(MultiResult);
      expect(w.size).to.equal(2);
      const err = await expectReject(h.call('getMulti', [k('m1'), k('m2'), k('m3')]));
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err.key).to.equal(k('m3'));
      const all = err.allResults;
      expect(all).to.be.instanceOf(MultiResult);
      expect(all.get(k('m1')).value).to.deep.equal({ n: 1 });
      expect(all.get(k('m2')).value).to.deep.equal({ n: 2 });
      expect(all.get(k('m3')).success).to.equal(false);
      expect(all.get(k('m3')).error).to.equal(err);
      const [ok, failed] = splitResults(err);
      expect([...ok.keys()]).to.deep.equal([k('m1'), k('m2')]);
      expect([...failed.keys()]).to.deep.equal([k('m3')]);
      const r = await h.call('getMulti', [k('m1'), k('m3')], { quiet: true });
      expect(r).to.be.instanceOf(MultiResult);
      expect(r.get(k('m1')).value).to.deep.equal({ n: 1 });
      expect(r.get(k('m3')).success).to.equal(false);
      expect(r.get(k('m3')).error).to.equal(undefined);
      expect(r.allOk).to.equal(false);
    });

    it('lock returns the value and a CAS that unlock accepts', async function () {
      await h.call('upsert', k('lk'), { l: 1 });
      const l = await h.call('lock', k('lk'), { ttl: 5 });
      expect(l.value).to.deep.equal({ l: 1 });
      const u = await h.call('unlock', k('lk'), { cas: l.cas });
      expect(u).to.be.instanceOf(OperationResult);
      await h.call('upsert', k('lk'), { l: 2 });
    });

    it('touch answers with an OperationResult', async function () {
      await h.call('upsert', k('t'), 1);
      expect(await h.call('touch', k('t'), { ttl: 100 })).to.be.instanceOf(OperationResult);
    });

    it('a non-string key is refused with a TypeError naming the argument', async function () {
      const err = await expectReject(h.call('get', 42));
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.match(/key must be a string/);
    });

    it('operations on a closed bucket fail with ObjectDestroyedError', async function () {
      await h.call('upsert', k('c'), 1);
      await h.close();
      const err = await expectReject(h.call('get', k('c')));
      expect(err).to.be.instanceOf(ObjectDestroyedError);
    });

    it('a N1QL query returns every row in order, then its meta', async function () {
      if (!backend.hasQuery()) this.skip();
      const { rows, meta } = await h.n1ql(backend.rowsQuery(250));
      expect(rows).to.have.length(250);
      expect(rows[0]).to.deep.equal(backend.name === 'fake' ? { i: 0 } : 0);
      expect(rows[249]).to.deep.equal(backend.name === 'fake' ? { i: 249 } : 249);
      expect((meta as { status: string }).status).to.equal('success');
    });

    it('a failing N1QL query rejects with N1QLError', async function () {
      if (!backend.hasQuery()) this.skip();
      const err = await expectReject(h.n1ql(backend.failingQuery));
      expect(err).to.be.instanceOf(N1QLError);
      expect(err.code).to.be.a('number').and.not.equal(0);
    });

    it('a view query of a missing view rejects with ViewError', async function () {
      if (!backend.hasViews()) this.skip();
      const err = await expectReject(h.view('no_such_ddoc', 'no_such_view', {}));
      expect(err).to.be.instanceOf(ViewError);
    });

    it('a view query with includeDocs attaches each row\'s document', async function () {
      if (!backend.hasViews()) this.skip();
      const p = k('');
      await h.call('upsertMulti', { [k('v1')]: { name: `${p}Alpha` }, [k('v2')]: { name: `${p}Beta` }, [k('v3')]: { name: `${p}Gamma` } });
      const { rows } = await h.view('beer', 'by_name', { includeDocs: true, limit: 2, startkey: p, endkey: `${p}\uffff`, stale: false });
      expect(rows).to.have.length(2);
      const r0 = rows[0] as { id: string; key: string; doc: ValueResult };
      expect(r0.key).to.equal(`${p}Alpha`);
      expect(r0.id).to.equal(k('v1'));
      expect(r0.doc).to.be.instanceOf(ValueResult);
      expect(r0.doc.value).to.deep.equal({ name: `${p}Alpha` });
      expect((rows[1] as { doc: ValueResult }).doc.value).to.deep.equal({ name: `${p}Beta` });
    });
  });
}

/** Calls `method` on a flavour's object (a Bucket or a collection of it) and awaits its outcome. */
function callOn(target: unknown, method: string, ...args: unknown[]): Promise<any> {
  return Promise.resolve().then(() => (target as Record<string, (...a: unknown[]) => unknown>)[method](...args));
}

/** POSTs a management form to the embedded cluster (scopes and collections). */
async function manage(method: string, path: string, form?: Record<string, string>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${cluster!.nodes[0].ports.mgmt}${path}`, {
    method,
    headers: { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: form === undefined ? undefined : new URLSearchParams(form).toString(),
  });
  await res.text();
  return res.status;
}

/** bucket.collection() / bucket.scope().collection() in one flavour, against the embedded cluster. */
function collectionSuite(driver: Driver): void {
  describe(`${driver.name} flavour: named collections`, function () {
    let h: Handle;
    let prefix: string;
    let n = 0;
    const bucketOf = (): any => h.bucket;

    before(async function () {
      expect(await manage('POST', '/pools/default/buckets/b0/scopes', { name: 'app' })).to.be.oneOf([200, 400]);
      for (const name of ['users', 'orders']) {
        expect(await manage('POST', '/pools/default/buckets/b0/scopes/app/collections', { name })).to.be.oneOf([200, 400]);
      }
    });
    beforeEach(function () {
      h = driver.open('real', { connstr: cluster!.bucketConnstr('b0'), username: 'Administrator', password: 'password' });
      prefix = `${driver.name}-coll-${n++}-${Date.now()}`;
    });
    afterEach(async function () {
      await h.close();
    });

    it('a collection has the Bucket\'s KV methods, and its documents are its own', async function () {
      const users = bucketOf().collection('app.users');
      expect(users.scopeName).to.equal('app');
      expect(users.name).to.equal('users');
      expect(users.bucket).to.equal(h.bucket);
      const key = `${prefix}:doc`;
      const up = await callOn(users, 'upsert', key, { in: 'users' });
      expect(up).to.be.instanceOf(OperationResult);
      await h.call('upsert', key, { in: 'default' });
      await callOn(bucketOf().scope('app').collection('orders'), 'insert', key, { in: 'orders' });
      expect((await callOn(users, 'get', key)).value).to.deep.equal({ in: 'users' });
      expect((await h.call('get', key)).value).to.deep.equal({ in: 'default' });
      expect((await callOn(bucketOf().scope('app').collection('orders'), 'get', key)).value).to.deep.equal({ in: 'orders' });
      expect(await expectReject(callOn(users, 'insert', key, { again: true }))).to.be.instanceOf(KeyExistsError);
      expect(await expectReject(callOn(users, 'get', `${prefix}:missing`))).to.be.instanceOf(NotFoundError);
    });

    it('a transcoder\'s encodeKey/decodeKey map the keys of collection calls too', async function () {
      const t = driver.open('real', { connstr: cluster!.bucketConnstr('b0'), username: 'Administrator', password: 'password', bucketOptions: { transcoder: Prefixing } });
      try {
        const users = (t.bucket as any).collection('app.users');
        const key = `${prefix}:tk`;
        expect((await callOn(users, 'upsert', key, { v: 1 })).key).to.equal(key);
        expect((await callOn(bucketOf().collection('app.users'), 'get', sentAs(key))).value).to.deep.equal({ v: 1 });
        const m = await callOn(users, 'getMulti', [key]);
        expect([...m.keys()]).to.deep.equal([key]);
        expect(m.get(key).value).to.deep.equal({ v: 1 });
      } finally {
        await t.close();
      }
    });

    it('positional options, counters, *Multi and remove work in a collection too', async function () {
      const users = bucketOf().collection('app.users');
      const c1 = await callOn(users, 'counter', `${prefix}:n`, { delta: 5, initial: 10 });
      expect(c1.value).to.equal(10);
      expect((await callOn(users, 'counter', `${prefix}:n`, 5)).value).to.equal(15);
      expect(await expectReject(h.call('get', `${prefix}:n`))).to.be.instanceOf(NotFoundError);
      const multi = await callOn(users, 'upsertMulti', { [`${prefix}:a`]: 1, [`${prefix}:b`]: 2 });
      expect(multi).to.be.instanceOf(MultiResult);
      const got = await callOn(users, 'getMulti', [`${prefix}:a`, `${prefix}:b`]);
      expect(got.get(`${prefix}:a`).value).to.equal(1);
      expect(got.get(`${prefix}:b`).value).to.equal(2);
      await callOn(users, 'remove', `${prefix}:a`);
      expect((await callOn(users, 'get', `${prefix}:a`, { quiet: true })).success).to.equal(false);
    });

    it('sub-document operations, data structures and aliases work in a collection', async function () {
      const users = bucketOf().collection('app.users');
      const key = `${prefix}:sd`;
      await callOn(users, 'upsert', key, { name: 'Ada', langs: ['en'] });
      const looked = await callOn(users, 'lookupIn', key, SD.get('name'), SD.getCount('langs'));
      expect([...looked]).to.deep.equal(['Ada', 1]);
      const trailing = await callOn(users, 'lookupIn', key, [SD.get('name')], { quiet: false });
      expect(trailing.at(0)).to.equal('Ada');
      await callOn(users, 'mutateIn', key, SD.upsert('age', 36));
      expect((await callOn(users, 'get', key)).value).to.deep.equal({ name: 'Ada', langs: ['en'], age: 36 });
      await callOn(users, 'mapAdd', `${prefix}:map`, 'k1', 'v1', { create: true });
      expect(await callOn(users, 'mapGet', `${prefix}:map`, 'k1')).to.have.property('value', 'v1');
      expect(await expectReject(h.call('get', `${prefix}:map`))).to.be.instanceOf(NotFoundError);
      await callOn(users, 'add', `${prefix}:alias`, 1);
      expect((await callOn(users, 'get', `${prefix}:alias`)).value).to.equal(1);
      expect(await expectReject(h.call('get', `${prefix}:alias`))).to.be.instanceOf(NotFoundError);
    });

    it('bad paths are ArgumentError at once; a collection that does not exist is CollectionNotFoundError', async function () {
      expect(() => bucketOf().collection('no-dot')).to.throw(ArgumentError);
      expect(() => bucketOf().scope('a.b')).to.throw(ArgumentError);
      const err = await expectReject(callOn(bucketOf().collection('app.nope'), 'get', 'k'));
      expect(err).to.be.instanceOf(CollectionNotFoundError);
      expect(err.message).to.contain('collection "app.nope" does not exist in bucket "b0"');
      expect(await expectReject(callOn(bucketOf().collection('nope.users'), 'get', 'k'))).to.be.instanceOf(CollectionNotFoundError);
    });

    it('a collection dropped and created again is found under its new id', async function () {
      const name = `tmp-${driver.name}-${n}`;
      expect(await manage('POST', '/pools/default/buckets/b0/scopes/app/collections', { name })).to.equal(200);
      const tmp = bucketOf().collection(`app.${name}`);
      await callOn(tmp, 'upsert', `${prefix}:t`, 1);
      expect(await manage('DELETE', `/pools/default/buckets/b0/scopes/app/collections/${name}`)).to.equal(200);
      expect(await expectReject(callOn(tmp, 'get', `${prefix}:t`))).to.be.instanceOf(CollectionNotFoundError);
      expect(await manage('POST', '/pools/default/buckets/b0/scopes/app/collections', { name })).to.equal(200);
      expect(await expectReject(callOn(tmp, 'get', `${prefix}:t`))).to.be.instanceOf(NotFoundError);
      await callOn(tmp, 'upsert', `${prefix}:t`, 2);
      expect((await callOn(tmp, 'get', `${prefix}:t`)).value).to.equal(2);
    });
  });
}

describe('shared behaviour of the three flavours', function () {
  for (const d of DRIVERS) suite(d, fakeBackend);

  describe('against the real engine and an embedded cluster in a worker thread', function () {
    before(async function () {
      this.timeout(60_000);
      cluster = startEmbedded({ buckets: [{ name: 'b0' }, { name: 'b1' }, { name: 'b2' }, { name: 'b3' }, { name: 'fl' }], users: CLUSTER_USERS });
      replicaCluster = startEmbedded({ nodes: 2, replicas: 1, buckets: [{ name: 'rep' }] });
      const capi = cluster.nodes[0].ports.capi;
      if (capi !== undefined) {
        for (const b of ['b0', 'b1', 'b2', 'b3']) {
          await putDesignDoc(capi, b, 'beer', { views: { by_name: { map: 'function (doc, meta) { if (doc.name) emit(doc.name, null); }' } } });
        }
      }
    });
    after(function () {
      cluster?.stop();
      cluster = undefined;
      replicaCluster?.stop();
      replicaCluster = undefined;
    });
    for (const d of DRIVERS) suite(d, realBackend);
    for (const d of DRIVERS) collectionSuite(d);
  });
});
