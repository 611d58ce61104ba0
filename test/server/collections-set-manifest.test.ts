// PUT /pools/default/buckets/<b>/scopes: the whole manifest at once, as ns_server's set_manifest
// does it: what the body lists is the bucket's afterwards (the `_system` scope aside), scopes and
// collections it leaves out are dropped, new ones created, given properties applied; one change
// with one new uid, or none at all; `validOnUid` makes it conditional; its validators' errors.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { ADMIN_AUTH, rest } from './http-helpers';

describe('server collections: PUT a whole manifest (set_manifest)', function () {
  this.timeout(20000);
  let cluster: Cluster;
  let mgmt: number;

  before(async () => {
    cluster = await Cluster.start({
      numVBuckets: 16,
      queryService: null,
      viewsService: null,
      buckets: [{ name: 'default' }, { name: 'magma', storageBackend: 'magma' }, { name: 'cache', bucketType: 'memcached' }],
    });
    mgmt = cluster.nodes[0].ports.mgmt;
  });
  after(async () => cluster.stop());

  async function put(bucket: string, body: unknown, query = ''): Promise<{ status: number; text: string; json(): any }> {
    const res = await fetch(`http://127.0.0.1:${mgmt}/pools/default/buckets/${bucket}/scopes${query}`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }
  const manifest = async (bucket: string): Promise<any> => (await rest(mgmt, 'GET', `/pools/default/buckets/${bucket}/scopes`)).json();
  const names = (m: any): Record<string, string[]> => Object.fromEntries(m.scopes.map((s: any) => [s.name, s.collections.map((c: any) => c.name).sort()]));
  const uidOf = (m: any, scope: string, coll?: string): string => {
    const s = m.scopes.find((x: any) => x.name === scope);
    return coll === undefined ? s.uid : s.collections.find((c: any) => c.name === coll).uid;
  };

  it('makes the listed scopes and collections the bucket\'s in one change: kept ones keep their ids, left-out ones are dropped, _system is untouched', async () => {
    const bucket = cluster.bucket('default');
    cluster.changeCollections('default', { op: 'createScope', scope: 'old' });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'old', collection: 'gone', props: {} });
    cluster.changeCollections('default', { op: 'createScope', scope: 'app' });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'kept', props: { maxTTL: 30 } });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'dropped', props: {} });
    bucket.collectionNamed('app', 'dropped')!.write('k', Buffer.from('1'), 'upsert');
    const before = await manifest('default');
    const res = await put('default', {
      scopes: [
        { name: '_default', collections: [{ name: '_default' }] },
        { name: 'app', collections: [{ name: 'kept', maxTTL: 30 }, { name: 'added', maxTTL: 5 }] },
        { name: 'fresh', collections: [{ name: 'one' }, { name: 'two', maxTTL: -1 }] },
      ],
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.json()).to.deep.equal({ uid: (parseInt(before.uid, 16) + 1).toString(16) });
    const after = await manifest('default');
    expect(names(after)).to.deep.equal({ _default: ['_default'], _system: ['_mobile', '_query'], app: ['added', 'kept'], fresh: ['one', 'two'] });
    expect(uidOf(after, 'app')).to.equal(uidOf(before, 'app'));
    expect(uidOf(after, 'app', 'kept')).to.equal(uidOf(before, 'app', 'kept'));
    expect(after.scopes.find((s: any) => s.name === 'fresh').collections.find((c: any) => c.name === 'two').maxTTL).to.equal(-1);
    // The store follows: the dropped collection's documents are gone, the new ones take writes.
    expect(bucket.collectionNamed('app', 'dropped')).to.equal(undefined);
    bucket.collectionNamed('fresh', 'one')!.write('k', Buffer.from('2'), 'upsert');
    expect(bucket.collectionNamed('app', 'added')!.collectionMaxTtl).to.equal(5);
  });

  it('the same manifest again changes nothing and keeps the uid; omitting the _default collection drops it', async () => {
    const now = await manifest('default');
    const body = { scopes: now.scopes.map((s: any) => ({ name: s.name, collections: s.collections.map((c: any) => ({ name: c.name, maxTTL: c.maxTTL })) })) };
    expect((await put('default', body)).json()).to.deep.equal({ uid: now.uid });
    const withoutDefault = { scopes: body.scopes.map((s: any) => (s.name === '_default' ? { name: '_default', collections: [] } : s)) };
    expect((await put('default', withoutDefault)).status).to.equal(200);
    expect(names(await manifest('default'))._default).to.deep.equal([]);
  });

  it('validOnUid: applies only at that uid; a mismatch or a malformed one is refused and changes nothing', async () => {
    const now = await manifest('default');
    const body = { scopes: [...now.scopes.map((s: any) => ({ name: s.name, collections: s.collections.map((c: any) => ({ name: c.name })) })), { name: 'cond', collections: [] }] };
    const stale = await put('default', body, `?validOnUid=${(parseInt(now.uid, 16) - 1).toString(16)}`);
    expect([stale.status, stale.json()]).to.deep.equal([400, { errors: { _: "validOnUid doesn't match the current manifest Uid" } }]);
    const bad = await put('default', body, '?validOnUid=xyz');
    expect([bad.status, bad.json()]).to.deep.equal([400, { errors: { _: 'Invalid validOnUid' } }]);
    expect((await manifest('default')).uid).to.equal(now.uid);
    const ok = await put('default', body, `?validOnUid=${now.uid}`);
    expect(ok.status, ok.text).to.equal(200);
    expect(names(await manifest('default')).cond).to.deep.equal([]);
  });

  it('a step ns_server refuses refuses the whole: leaving out _default, creating a _default collection', async () => {
    const now = await manifest('default');
    const noDefault = await put('default', { scopes: [{ name: 'app', collections: [] }] });
    expect([noDefault.status, noDefault.json()]).to.deep.equal([400, { errors: { _: 'Deleting _default scope is not allowed' } }]);
    const defaultColl = await put('default', { scopes: [{ name: '_default', collections: [] }, { name: 'x', collections: [{ name: '_default' }] }] });
    expect(defaultColl.status).to.equal(400);
    expect(defaultColl.json().errors._).to.match(/^Cannot create _default collection in scope "x"/);
    expect(await manifest('default')).to.deep.equal(now);
  });

  it('its validators: scopes required, unsupported keys, names, maxTTL range, duplicate names, invalid JSON; history only on magma', async () => {
    const now = await manifest('default');
    expect((await put('default', {})).json()).to.deep.equal({ errors: { scopes: 'The value must be supplied' } });
    expect((await put('default', { scopes: [], extra: 1 })).json()).to.deep.equal({ errors: { extra: 'Unsupported key' } });
    const many = await put('default', { scopes: [{ name: '_default', collections: [{ name: 'a', maxTTL: -2 }, { name: '%bad' }, { name: 'a', color: 1 }] }] });
    expect(many.status).to.equal(400);
    expect(many.json().errors).to.deep.include({
      'scopes[0].collections[0].maxTTL': 'The value must be in range from -1 to 2147483647',
      'scopes[0].collections[1].name': 'First character must not be _ or %',
      'scopes[0].collections[2].color': 'Unsupported key',
    });
    expect((await put('default', { scopes: [{ name: 's' }, { name: 's' }] })).json()).to.deep.equal({ errors: { scopes: 'Contains duplicate name' } });
    expect((await put('default', '{"scopes": [')).status).to.equal(400);
    const history = await put('default', { scopes: [{ name: '_default', collections: [{ name: 'h', history: true }] }] });
    expect([history.status, history.text]).to.deep.equal([400, 'Not allowed on this type of bucket']);
    expect(await manifest('default')).to.deep.equal(now);
    const magma = await put('magma', { scopes: [{ name: '_default', collections: [{ name: '_default', history: false }, { name: 'h', history: true }] }] });
    expect(magma.status, magma.text).to.equal(200);
    const m = await manifest('magma');
    expect(m.scopes[0].collections.map((c: any) => [c.name, c.history]).sort()).to.deep.equal([['_default', false], ['h', true]]);
  });

  it('a memcached bucket has no collections; an unknown bucket is 404', async () => {
    const res = await put('cache', { scopes: [] });
    expect([res.status, res.text]).to.deep.equal([400, 'Not allowed on this type of bucket']);
    expect((await put('nope', { scopes: [] })).status).to.equal(404);
  });
});
