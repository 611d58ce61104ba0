import { expect } from 'chai';
import { designDocsListing, getDesignDoc, listDesignDocs, putDesignDoc, ViewHttpError } from '../../lib/server/views';
import { startViewsServer, type ViewsServer } from './helpers';

const VIEWS = { all: { map: 'function (doc, meta) { emit(meta.id, null); }', reduce: '_count' } };

describe('views: design documents', () => {
  let s: ViewsServer;
  beforeEach(async () => {
    s = await startViewsServer();
  });
  afterEach(() => s.close());

  it('PUT stores a design document (201), GET returns it with its meta header, DELETE removes it', async () => {
    const put = await s.request('PUT', '/b/_design/dev_app', { views: VIEWS });
    expect(put.status).to.equal(201);
    expect(put.json).to.deep.equal({ ok: true, id: '_design/dev_app' });
    const get = await s.request('GET', '/b/_design/dev_app');
    expect(get.status).to.equal(200);
    expect(get.json).to.deep.equal({ views: VIEWS });
    const meta = JSON.parse(String(get.headers['x-couchbase-meta']));
    expect(meta).to.include({ id: '_design/dev_app', type: 'json' });
    expect(meta.rev).to.match(/^1-/);
    const del = await s.request('DELETE', '/b/_design/dev_app');
    expect(del.status).to.equal(200);
    expect(del.json).to.deep.equal({ ok: true, id: '_design/dev_app' });
    const gone = await s.request('GET', '/b/_design/dev_app');
    expect(gone.status).to.equal(404);
    expect(gone.json).to.deep.equal({ error: 'not_found', reason: 'deleted' });
  });

  it('answers 404 not_found/missing for a design document that never existed', async () => {
    for (const method of ['GET', 'DELETE']) {
      const r = await s.request(method, '/b/_design/ghost');
      expect(r.status, method).to.equal(404);
      expect(r.json).to.deep.equal({ error: 'not_found', reason: 'missing' });
    }
  });

  it('accepts the _design%2Fname spelling of the path', async () => {
    await s.request('PUT', '/b/_design/app', { views: VIEWS });
    const r = await s.request('GET', '/b/_design%2Fapp');
    expect(r.status).to.equal(200);
  });

  it('a new revision replaces the old one and bumps the revision number', async () => {
    await s.request('PUT', '/b/_design/app', { views: VIEWS });
    await s.request('PUT', '/b/_design/app', { views: { other: { map: 'function (doc) { emit(1, 2); }' } } });
    const get = await s.request('GET', '/b/_design/app');
    expect(Object.keys(get.json.views)).to.deep.equal(['other']);
    expect(JSON.parse(String(get.headers['x-couchbase-meta'])).rev).to.match(/^2-/);
    const old = await s.request('GET', '/b/_design/app/_view/all');
    expect(old.json).to.deep.equal({ error: 'not_found', reason: 'missing_named_view' });
  });

  describe('refuses an invalid design document with 400 and Couchbase’s reason', () => {
    const cases: Array<[string, unknown, string, string]> = [
      ['a map with a syntax error', { views: { v: { map: 'function (doc) { emit(doc.a }' } } }, 'invalid_design_document', "Syntax error in the map function of the view `v': SyntaxError: missing ) after argument list"],
      ['a reduce with a syntax error', { views: { v: { map: 'function (doc) { emit(1); }', reduce: 'function (k, v { return 1; }' } } }, 'invalid_design_document', "Syntax error in the reduce function of the view `v': SyntaxError: Unexpected token '{'"],
      ['a map that is not a function', { views: { v: { map: '42' } } }, 'invalid_design_document', "Syntax error in the map function of the view `v': Invalid function: 42"],
      ['a missing map', { views: { v: { reduce: '_count' } } }, 'invalid_design_document', "The `map' field for the view `v' is missing."],
      ['a map that is not a string', { views: { v: { map: 1 } } }, 'invalid_design_document', "The `map' field of the view `v' is not a json string."],
      ['a reduce that is not a string', { views: { v: { map: 'function (d) {}', reduce: [] } } }, 'invalid_design_document', "The `reduce' field of the view `v' is not a json string."],
      ['an unknown built-in reduce', { views: { v: { map: 'function (d) {}', reduce: '_median' } } }, 'invalid_design_document', "Invalid built-in reduce function for view `v': _median"],
      ['views that are not an object', { views: [] }, 'invalid_design_document', "The field `views' is not a json object."],
      ['a view that is not an object', { views: { v: 'x' } }, 'invalid_design_document', "Value for view `v' is not a json object."],
      ['an empty view name', { views: { '': { map: 'function (d) {}' } } }, 'invalid_design_document', 'View name cannot be an empty string'],
      ['a view name with surrounding spaces', { views: { ' v': { map: 'function (d) {}' } } }, 'invalid_design_document', 'View name ` v` cannot have leading or trailing whitespace'],
      ['a body that is not an object', [1, 2], 'bad_request', 'Document must be a JSON object'],
    ];
    for (const [what, body, error, reason] of cases) {
      it(what, async () => {
        const r = await s.request('PUT', '/b/_design/bad', body);
        expect(r.status).to.equal(400);
        expect(r.json).to.deep.equal({ error, reason });
        expect((await s.request('GET', '/b/_design/bad')).status).to.equal(404);
      });
    }

    it('a body that is not JSON', async () => {
      const r = await s.request('PUT', '/b/_design/bad', '{nope');
      expect(r.status).to.equal(400);
      expect(r.json).to.deep.equal({ error: 'bad_request', reason: 'invalid UTF-8 JSON' });
    });
  });

  it('lists design documents for the management REST (listDesignDocs / designDocsListing)', async () => {
    await s.request('PUT', '/b/_design/dev_one', { views: VIEWS });
    putDesignDoc(s.store, '_design/two', { views: VIEWS });
    const list = listDesignDocs(s.store);
    expect(list.map((d) => d.id)).to.deep.equal(['_design/dev_one', '_design/two']);
    expect(list[0].json).to.deep.equal({ views: VIEWS });
    const body = designDocsListing(s.store);
    expect(body.rows[1]).to.deep.include({ doc: { meta: { id: '_design/two', rev: list[1].rev }, json: { views: VIEWS } } });
    // The management port forwards this path to the views service.
    const r = await s.request('GET', '/pools/default/buckets/b/ddocs');
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal(JSON.parse(JSON.stringify(body)));
    expect(getDesignDoc(s.store, 'two')?.json).to.deep.equal({ views: VIEWS });
  });

  it('putDesignDoc throws a ViewHttpError for an invalid design document', () => {
    expect(() => putDesignDoc(s.store, 'x', { views: { v: { map: 'function (' } } })).to.throw(ViewHttpError, /Syntax error in the map function/);
  });

  it('refuses users without access to the bucket', async () => {
    const t = await startViewsServer({ users: { joe: { username: 'joe', password: 'pw', roles: ['bucket_full_access[other]'] } } });
    try {
      const r = await t.request('GET', '/b/_design/x', undefined, { authorization: 'Basic ' + Buffer.from('joe:pw').toString('base64') });
      expect(r.status).to.equal(403);
    } finally {
      await t.close();
    }
  });
});
