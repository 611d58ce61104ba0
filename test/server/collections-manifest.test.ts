// The collections manifest as ns_server keeps it: ids, uid, counters, limits, names.
import { expect } from 'chai';
import { Manifest, MAX_COLLECTIONS, MAX_SCOPES, nameProblem } from '../../lib/server/collections/manifest';

const CTX = { historyDefault: false, otherScopes: 0, otherCollections: 0 };

describe('server collections manifest', () => {
  it('a 7.6 bucket: uid 1, _default and _system; user ids from the next free one; every change a new uid', () => {
    const m = Manifest.fresh({ historyDefault: false });
    expect(m.uid).to.equal(1);
    const s = m.createScope('app', CTX);
    expect(s).to.deep.equal({ ok: { uid: 2, created: [], dropped: [], modified: [] } });
    expect(m.scope('app')!.uid).to.equal(9);
    const c = m.createCollection('app', 'users', { maxTTL: 5 }, CTX);
    expect('ok' in c && c.ok.created[0]).to.deep.equal({ scope: 'app', collection: { name: 'users', uid: 10, maxTTL: 5, history: false } });
    m.dropCollection('app', 'users');
    m.createCollection('app', 'users', {}, CTX);
    expect(m.collection('app', 'users')!.uid).to.equal(11);
    expect(m.uid).to.equal(5);
    expect(m.counts).to.deep.equal({ scopes: 1, collections: 1 });
    // A PATCH that changes nothing keeps the uid.
    expect(m.modifyCollection('app', 'users', { maxTTL: 0 })).to.deep.equal({ ok: { uid: 5, created: [], dropped: [], modified: [] } });
    expect(Manifest.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).toJSON()).to.deep.equal(m.toJSON());
  });

  it('limits: per bucket (429 in ns_server) and per cluster, counting the other buckets', () => {
    const m = Manifest.fresh({ historyDefault: false });
    for (let i = 0; i < MAX_SCOPES; i++) expect('ok' in m.createScope(`s${i}`, CTX)).to.equal(true);
    expect(m.createScope('one-more', CTX)).to.deep.equal({ error: { kind: 'bucket_limit', counter: 'num_scopes', max: MAX_SCOPES } });
    const n = Manifest.fresh({ historyDefault: false });
    n.createScope('s', CTX);
    expect(n.createCollection('s', 'c', {}, { ...CTX, otherCollections: MAX_COLLECTIONS })).to.deep.equal({ error: { kind: 'cluster_limit', counter: 'num_collections' } });
  });

  it('the default and system scopes and collections are the cluster\'s', () => {
    const m = Manifest.fresh({ historyDefault: true });
    expect(m.collection('_default', '_default')!.history).to.equal(true);
    expect(m.dropScope('_default')).to.deep.equal({ error: { kind: 'cannot_drop_default_scope' } });
    expect(m.dropScope('_system')).to.deep.equal({ error: { kind: 'cannot_drop_system_scope' } });
    expect(m.createCollection('_system', 'x', {}, CTX)).to.deep.equal({ error: { kind: 'cannot_create_collection_in_system_scope' } });
    expect(m.createCollection('_default', '_default', {}, CTX)).to.deep.equal({ error: { kind: 'cannot_create_default_collection', scope: '_default' } });
    expect(m.dropCollection('_system', '_mobile')).to.deep.equal({ error: { kind: 'cannot_drop_system_collection', scope: '_system', collection: '_mobile' } });
    // The default collection may be dropped (and never created again).
    expect('ok' in m.dropCollection('_default', '_default')).to.equal(true);
  });

  it('names as ns_server checks them', () => {
    expect(nameProblem('ok-name_1%')).to.equal(undefined);
    expect(nameProblem('')).to.equal('Name length (0) must be in the range from 1 to 251, inclusive');
    expect(nameProblem('%x')).to.equal('First character must not be _ or %');
    expect(nameProblem('a"b')).to.equal('Invalid value "a\\"b" : "Can only contain characters A-Z, a-z, 0-9 and the following symbols _ - %"');
  });
});
