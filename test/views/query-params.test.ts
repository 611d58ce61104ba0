import { expect } from 'chai';
import { putDesign, query, qs, startViewsServer, type ViewsServer } from './helpers';

const ids = (r: any): string[] => r.json.rows.map((row: any) => row.id);
const keys = (r: any): unknown[] => r.json.rows.map((row: any) => row.key);

describe('views: query parameters', () => {
  let s: ViewsServer;
  before(async () => {
    s = await startViewsServer();
    for (let i = 0; i < 20; i++) {
      s.putDoc(`d${String(i).padStart(2, '0')}`, { n: i, type: i % 2 ? 'odd' : 'even' });
    }
    await putDesign(s, 'q', {
      byN: { map: 'function (doc, meta) { emit(doc.n, doc.n * 10); }' },
      byMod: { map: 'function (doc, meta) { emit(doc.n % 3, null); }' },
      byTypeN: { map: 'function (doc, meta) { emit([doc.type, doc.n], doc.n); }', reduce: '_sum' },
    });
  });
  after(() => s.close());

  it('returns every row with total_rows when no parameter is given', async () => {
    const r = await query(s, 'q', 'byN');
    expect(r.status).to.equal(200);
    expect(r.json.total_rows).to.equal(20);
    expect(keys(r)).to.deep.equal([...Array(20).keys()]);
    expect(r.json.rows[3]).to.deep.equal({ id: 'd03', key: 3, value: 30 });
  });

  it('key selects the rows with exactly that key', async () => {
    const r = await query(s, 'q', 'byMod', { key: 2 });
    expect(ids(r)).to.deep.equal(['d02', 'd05', 'd08', 'd11', 'd14', 'd17']);
  });

  it('keys (URL) returns rows per key in the order given', async () => {
    const r = await query(s, 'q', 'byN', { keys: [7, 3, 99, 3] });
    expect(keys(r)).to.deep.equal([7, 3, 3]);
  });

  it('keys in a POST body work like keys in the URL', async () => {
    const r = await s.request('POST', '/b/_design/q/_view/byN', { keys: [5, 1] });
    expect(r.status).to.equal(200);
    expect(keys(r)).to.deep.equal([5, 1]);
  });

  it('accepts a POST with an empty JSON body (what the SDK sends)', async () => {
    const r = await s.request('POST', '/b/_design/q/_view/byN?limit=2', {});
    expect(keys(r)).to.deep.equal([0, 1]);
  });

  for (const [start, end] of [['startkey', 'endkey'], ['start_key', 'end_key']]) {
    it(`${start}/${end} select an inclusive range`, async () => {
      const r = await query(s, 'q', 'byN', { [start]: 4, [end]: 7 });
      expect(keys(r)).to.deep.equal([4, 5, 6, 7]);
    });
  }

  it('inclusive_end=false leaves out the end key', async () => {
    const r = await query(s, 'q', 'byN', { startkey: 4, endkey: 7, inclusive_end: 'false' });
    expect(keys(r)).to.deep.equal([4, 5, 6]);
  });

  for (const [sd, ed] of [['startkey_docid', 'endkey_docid'], ['start_key_doc_id', 'end_key_doc_id']]) {
    it(`${sd}/${ed} break ties within equal start and end keys`, async () => {
      const r = await query(s, 'q', 'byMod', { startkey: 0, [sd]: 'd06', endkey: 1, [ed]: 'd04' });
      expect(ids(r)).to.deep.equal(['d06', 'd09', 'd12', 'd15', 'd18', 'd01', 'd04']);
    });
  }

  it('descending reverses the order and swaps the meaning of start and end', async () => {
    const r = await query(s, 'q', 'byN', { descending: 'true', startkey: 7, endkey: 4 });
    expect(keys(r)).to.deep.equal([7, 6, 5, 4]);
    const r2 = await query(s, 'q', 'byN', { descending: 'true', startkey: 7, endkey: 4, inclusive_end: 'false' });
    expect(keys(r2)).to.deep.equal([7, 6, 5]);
  });

  it('descending with startkey_docid starts within the key at that id', async () => {
    const r = await query(s, 'q', 'byMod', { descending: 'true', startkey: 1, startkey_docid: 'd07', limit: 3 });
    expect(ids(r)).to.deep.equal(['d07', 'd04', 'd01']);
  });

  it('limit and skip page through rows, skip first', async () => {
    const r = await query(s, 'q', 'byN', { skip: 5, limit: 3 });
    expect(keys(r)).to.deep.equal([5, 6, 7]);
    expect(r.json.total_rows).to.equal(20);
    const r2 = await query(s, 'q', 'byN', { skip: 19, limit: 3 });
    expect(keys(r2)).to.deep.equal([19]);
    const r3 = await query(s, 'q', 'byN', { limit: 0 });
    expect(r3.json.rows).to.deep.equal([]);
  });

  it('reduce=false returns the map rows of a view that has a reduce', async () => {
    const r = await query(s, 'q', 'byTypeN', { reduce: 'false', limit: 2 });
    expect(r.json.total_rows).to.equal(20);
    expect(r.json.rows).to.deep.equal([
      { id: 'd00', key: ['even', 0], value: 0 },
      { id: 'd02', key: ['even', 2], value: 2 },
    ]);
  });

  it('a reduce view reduces by default; group and group_level group it', async () => {
    const all = await query(s, 'q', 'byTypeN');
    expect(all.json).to.deep.equal({ rows: [{ key: null, value: 190 }] });
    const byType = await query(s, 'q', 'byTypeN', { group_level: 1 });
    expect(byType.json.rows).to.deep.equal([
      { key: ['even'], value: 90 },
      { key: ['odd'], value: 100 },
    ]);
    const exact = await query(s, 'q', 'byTypeN', { group: 'true', limit: 2 });
    expect(exact.json.rows).to.deep.equal([
      { key: ['even', 0], value: 0 },
      { key: ['even', 2], value: 2 },
    ]);
  });

  it('include_docs adds each document with its meta', async () => {
    const r = await query(s, 'q', 'byN', { key: 3, include_docs: 'true' });
    const row = r.json.rows[0];
    expect(row.doc.json).to.deep.equal({ n: 3, type: 'odd' });
    expect(row.doc.meta).to.include({ id: 'd03', expiration: 0, flags: 0 });
    expect(row.doc.meta.rev).to.match(/^\d+-[0-9a-f]{32}$/);
  });

  it('accepts stale=false, ok and update_after, full_set, debug, on_error and connection_timeout', async () => {
    for (const stale of ['false', 'ok', 'update_after']) {
      const r = await query(s, 'q', 'byN', { stale, limit: 1, full_set: 'true', on_error: 'stop', connection_timeout: '60000' });
      expect(r.status, stale).to.equal(200);
      expect(keys(r)).to.deep.equal([0]);
    }
    const d = await query(s, 'q', 'byN', { limit: 1, debug: 'true' });
    expect(d.json.debug_info.local).to.include({ view: 'byN', indexed_rows: 20 });
  });

  it('ignores parameters it does not know', async () => {
    const r = await query(s, 'q', 'byN', { limit: 1, whatever: 'x' });
    expect(r.status).to.equal(200);
  });

  describe('refuses bad values with Couchbase’s 400 bodies', () => {
    const cases: Array<[string, string, Record<string, unknown>, string, string]> = [
      ['a boolean that is not true/false', 'byN', { descending: 'yes' }, 'query_parse_error', 'Invalid boolean parameter: "yes"'],
      ['a non-integer limit', 'byN', { limit: 'ten' }, 'query_parse_error', 'Invalid value for integer parameter: "ten"'],
      ['a negative limit', 'byN', { limit: '-1' }, 'query_parse_error', 'Invalid value for positive integer parameter: "-1"'],
      ['a bad stale', 'byN', { stale: 'maybe' }, 'query_parse_error', 'stale only available as stale=ok or as stale=update_after'],
      ['group on a map view', 'byN', { group: 'true' }, 'query_parse_error', "Invalid URL parameter 'group' or  'group_level' for non-reduce view."],
      ['group_level on a map view', 'byN', { group_level: '1' }, 'query_parse_error', "Invalid URL parameter 'group' or  'group_level' for non-reduce view."],
      ['reduce=true on a map view', 'byN', { reduce: 'true' }, 'query_parse_error', 'Invalid URL parameter `reduce` for map view.'],
      ['include_docs on a reduce', 'byTypeN', { include_docs: 'true' }, 'query_parse_error', 'Query parameter `include_docs` is invalid for reduce views.'],
      ['keys with startkey', 'byN', { keys: [1], startkey: 1 }, 'query_parse_error', 'Query parameter `start_key` is not compatible with multi-get'],
      ['keys with endkey', 'byN', { keys: [1], endkey: 1 }, 'query_parse_error', 'Query parameter `end_key` is not compatible with multi-get'],
      ['keys on a reduce without group', 'byTypeN', { keys: [['odd', 1]] }, 'query_parse_error', 'Multi-key fetchs for reduce view must include `group=true`'],
      ['a range that cannot match', 'byN', { startkey: 5, endkey: 1 }, 'query_parse_error', 'No rows can match your key range, reverse your start_key and end_key or set descending=true'],
      ['a descending range that cannot match', 'byN', { startkey: 1, endkey: 5, descending: 'true' }, 'query_parse_error', 'No rows can match your key range, reverse your start_key and end_key or set descending=false'],
      ['count', 'byN', { count: '1' }, 'query_parse_error', "Query parameter 'count' is now 'limit'."],
      ['a bad on_error', 'byN', { on_error: 'panic' }, 'bad_request', 'Invalid value (`panic`) for the parameter `on_error`. It must be `continue` (default) or `stop`.'],
      ['a non-integer connection_timeout', 'byN', { connection_timeout: '"soon"' }, 'bad_request', 'Query parameter `connection_timeout` must be an integer'],
      ['a bad full_set', 'byN', { full_set: 'sure' }, 'query_parse_error', 'Invalid boolean parameter: "sure"'],
    ];
    for (const [what, view, params, error, reason] of cases) {
      it(what, async () => {
        const r = await query(s, 'q', view, params);
        expect(r.status).to.equal(400);
        expect(r.json).to.deep.equal({ error, reason });
      });
    }

    it('a key that is not JSON', async () => {
      const r = await s.request('GET', '/b/_design/q/_view/byN?key=abc');
      expect(r.status).to.equal(400);
      expect(r.json.error).to.equal('bad_request');
      expect(r.json.reason).to.match(/^invalid UTF-8 JSON/);
    });

    it('keys that are not an array', async () => {
      const r = await s.request('GET', '/b/_design/q/_view/byN' + qs({ keys: { a: 1 } }));
      expect(r.json).to.deep.equal({ error: 'bad_request', reason: '`keys` parameter is not an array.' });
      const p = await s.request('POST', '/b/_design/q/_view/byN', { keys: 5 });
      expect(p.json).to.deep.equal({ error: 'bad_request', reason: '`keys` member must be a array.' });
    });
  });

  it('answers 404 not_found/missing for a missing design document and missing_named_view for a missing view', async () => {
    const r = await query(s, 'nope', 'byN');
    expect(r.status).to.equal(404);
    expect(r.json).to.deep.equal({ error: 'not_found', reason: 'missing' });
    const v = await query(s, 'q', 'nope');
    expect(v.status).to.equal(404);
    expect(v.json).to.deep.equal({ error: 'not_found', reason: 'missing_named_view' });
  });

  it('answers 404 no_db_file for a missing bucket and 401 without credentials', async () => {
    const r = await s.request('GET', '/nobucket/_design/q/_view/byN');
    expect(r.status).to.equal(404);
    expect(r.json).to.deep.equal({ error: 'not_found', reason: 'no_db_file' });
    const u = await s.request('GET', '/b/_design/q/_view/byN', undefined, { authorization: 'Basic ' + Buffer.from('x:y').toString('base64') });
    expect(u.status).to.equal(401);
  });
});
