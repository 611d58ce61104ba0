// SEARCH(), SEARCH_META() and SEARCH_SCORE() as Couchbase Server 7.6 runs them without a Search
// index: the query service fetches the documents and evaluates the search on each (Search
// Functions reference, n1ql-language-reference/searchfun). Documents are travel-sample style
// hotels, landmarks and an airport, written here; expected rows follow the reference's examples.
import { expect } from 'chai';
import { Engine } from './harness';

const DOCS: Record<string, unknown> = {
  hotel_17598: {
    type: 'hotel', name: 'Marina del Rey Marriott', city: 'Los Angeles', country: 'United States', free_breakfast: true,
    description: '370 guest rooms offering both water and mountain view.',
    reviews: [{ content: 'The bathrobes were a nice touch after a day at the beach.', ratings: { Overall: 4 } }],
  },
  hotel_20422: {
    type: 'hotel', name: 'Clwydian Holidays', city: 'Ruthin', country: 'United Kingdom', free_breakfast: false,
    description: 'Log cabin glamping in a rural setting with panoramic views toward the Clwydian Mountain Range.',
    reviews: [{ content: 'Peaceful and remote.', ratings: { Overall: 5 } }],
  },
  hotel_25243: {
    type: 'hotel', name: 'Typoeth Cottage', city: 'Ruthin', country: 'United Kingdom', free_breakfast: true,
    description: 'A cottage in the hills.',
    reviews: [{ content: 'Fluffy bathrobes and a warm fire.', ratings: { Overall: 5 } }, { content: 'Cosy.', ratings: { Overall: 3 } }],
  },
  hotel_1359: {
    type: 'hotel', name: 'Hotel Le Faucigny', city: 'Chamonix', country: 'France', free_breakfast: false,
    description: 'Situated in the historical center of Chamonix Mont-Blanc, close to shops, ski schools and mountain house.',
    reviews: [],
  },
  landmark_3385: { type: 'landmark', name: 'Getty Center', city: 'Los Angeles', country: 'United States', content: 'An art museum on a hill with a view of the city.' },
  landmark_16079: { type: 'landmark', name: 'Ruthin Castle', city: 'Ruthin', country: 'United Kingdom', content: 'A castle hotel with medieval banquets.' },
  airport_3725: { type: 'airport', airportname: 'Los Angeles Intl', city: 'Los Angeles', country: 'United States' },
};

describe('n1ql 7.6 SEARCH() without a Search index', () => {
  const e = new Engine(['travel']);
  e.load('travel', DOCS);
  e.rows('CREATE PRIMARY INDEX ON travel');
  const ids = (stmt: string, opts?: { named?: Record<string, unknown> }): string[] =>
    (e.rows(stmt, opts as never) as { id: string }[]).map((r) => r.id).sort();
  const names = (stmt: string): string[] => (e.rows(stmt) as { name: string }[]).map((r) => r.name).sort();
  const error = (stmt: string, opts?: { named?: Record<string, unknown> }): { code: number; msg: string } => {
    const o = e.run(stmt, opts as never);
    expect(o.errors, stmt).to.have.length(1);
    return o.errors[0];
  };

  it('a query string, on a path or with field: prefixes (the reference\'s two equivalent queries)', () => {
    const us = ['airport_3725', 'hotel_17598', 'landmark_3385'];
    expect(ids('SELECT META(t1).id FROM travel AS t1 WHERE SEARCH(t1.country, "+United +States")')).to.deep.equal(us);
    expect(ids('SELECT META(t1).id FROM travel AS t1 WHERE SEARCH(t1, "country:\\"United States\\"")')).to.deep.equal(us);
    // Without a path the default field is _all: every field of the document.
    expect(ids('SELECT META(t1).id FROM travel AS t1 WHERE SEARCH(t1, "ruthin")')).to.deep.equal(['hotel_20422', 'hotel_25243', 'landmark_16079']);
  });

  it('a query object, and a complete search request (whose size, sort and paging do not limit the verdicts)', () => {
    const query = '{"match": "bathrobes", "field": "reviews.content", "analyzer": "standard"}';
    expect(names(`SELECT t1.name FROM travel AS t1 WHERE SEARCH(t1, ${query})`)).to.deep.equal(['Marina del Rey Marriott', 'Typoeth Cottage']);
    const request = `{"explain": false, "fields": ["*"], "highlight": {}, "query": ${query}, "size": 1,
      "sort": [{"by": "field", "field": "reviews.ratings.Overall", "mode": "max", "missing": "last"}]}`;
    expect(names(`SELECT t1.name FROM travel AS t1 WHERE SEARCH(t1, ${request})`)).to.deep.equal(['Marina del Rey Marriott', 'Typoeth Cottage']);
    // A query object ignores the path: its own field (or _all) is searched.
    expect(names(`SELECT t1.name FROM travel AS t1 WHERE SEARCH(t1.description, ${query})`)).to.deep.equal(['Marina del Rey Marriott', 'Typoeth Cottage']);
  });

  it('with other predicates, with the keyspace name as alias, and with a path alone on one FROM term', () => {
    expect(ids('SELECT META(t1).id FROM travel AS t1 WHERE t1.type = "hotel" AND SEARCH(t1.description, "mountain")')).to.deep.equal(['hotel_1359', 'hotel_17598', 'hotel_20422']);
    expect(ids('SELECT META(travel).id FROM travel WHERE SEARCH(travel.city, "ruthin") AND type = "hotel"')).to.deep.equal(['hotel_20422', 'hotel_25243']);
    expect(ids('SELECT META().id FROM travel WHERE SEARCH(city, "ruthin") AND NOT SEARCH(description, "mountain")')).to.deep.equal(['hotel_25243', 'landmark_16079']);
    expect(ids('SELECT META(t).id FROM travel t WHERE SEARCH(t.reviews.content, "fluffy") OR SEARCH(t, {"prefix": "medi", "field": "content"})')).to.deep.equal(['hotel_25243', 'landmark_16079']);
  });

  it('in an ANSI JOIN\'s ON clause', () => {
    const rows = e.rows(
      'SELECT h.name AS hotel, l.name AS landmark FROM travel h JOIN travel l ON h.city = l.city AND SEARCH(l.content, "castle") ' +
        'WHERE h.type = "hotel" ORDER BY h.name',
    );
    expect(rows).to.deep.equal([
      { hotel: 'Clwydian Holidays', landmark: 'Ruthin Castle' },
      { hotel: 'Typoeth Cottage', landmark: 'Ruthin Castle' },
    ]);
    // The right side of a LEFT JOIN that found nothing: SEARCH() on it is MISSING, not an error.
    const outer = e.rows('SELECT h.name, l.name AS l FROM travel h LEFT JOIN travel l ON h.city = l.city AND l.type = "landmark" WHERE h.type = "hotel" AND SEARCH(l, "castle") IS MISSING ORDER BY h.name');
    expect(outer).to.deep.equal([{ name: 'Hotel Le Faucigny' }]);
  });

  it('in the WHERE clause of UPDATE and DELETE', () => {
    const e2 = new Engine(['t']);
    e2.load('t', DOCS);
    e2.rows('CREATE PRIMARY INDEX ON t');
    expect(e2.run('UPDATE t SET fireplace = true WHERE SEARCH(t.reviews.content, "fire")').mutationCount).to.equal(1);
    expect(e2.rows('SELECT RAW META().id FROM t WHERE fireplace')).to.deep.equal(['hotel_25243']);
    expect(e2.run('DELETE FROM t WHERE SEARCH(t, "+type:landmark +castle")').mutationCount).to.equal(1);
    // MERGE's ON clause (not ON KEY) is an ON clause too; an action's WHERE is not.
    const merge = 'MERGE INTO t USING [{"city": "Ruthin"}] AS s ON t.city = s.city AND SEARCH(t, "cottage") WHEN MATCHED THEN UPDATE SET t.cottage = true';
    expect(e2.run(merge).mutationCount).to.equal(1);
    expect(e2.rows('SELECT RAW META().id FROM t WHERE cottage')).to.deep.equal(['hotel_25243']);
    expect(e2.run('MERGE INTO t USING [{"city": "Ruthin"}] AS s ON t.city = s.city WHEN MATCHED THEN UPDATE SET t.x = 1 WHERE SEARCH(t, "x")').errors[0].code).to.equal(3100);
    expect(e2.run('UPDATE t SET x = SEARCH(t, "x")').errors[0].code).to.equal(3100);
  });

  it('query and options from parameters; the out option names the operation', () => {
    expect(ids('SELECT META(t).id FROM travel t WHERE SEARCH(t, $q)', { named: { q: { match: 'glamping', field: 'description' } } })).to.deep.equal(['hotel_20422']);
    expect(ids('SELECT META(t).id FROM travel t WHERE SEARCH(t.name, $q, {"out": "s1"})', { named: { q: 'getty' } })).to.deep.equal(['landmark_3385']);
  });

  it('a prepared statement takes each execution\'s query; an FTS index hint names an index that is not there', () => {
    e.rows('PREPARE search_by_country FROM SELECT RAW META(t).id FROM travel t WHERE t.type = "hotel" AND SEARCH(t.country, $q)');
    expect(e.rows('EXECUTE search_by_country', { named: { q: 'france' } })).to.deep.equal(['hotel_1359']);
    expect(e.rows('EXECUTE search_by_country', { named: { q: '+united +states' } })).to.deep.equal(['hotel_17598']);
    // USE INDEX (... USING FTS) is a hint: with no such Search index the documents are searched one by one.
    expect(ids('SELECT META(t).id FROM travel t USE INDEX (travel_fts USING FTS) WHERE SEARCH(t.name, "castle")')).to.deep.equal(['landmark_16079']);
    // In a subquery's WHERE, on the outer document too; in a quantifier within WHERE.
    expect(ids('SELECT META(t).id FROM travel t WHERE t.type = "landmark" AND EXISTS (SELECT 1 FROM travel h WHERE h.type = "hotel" AND h.city = t.city AND SEARCH(t, "castle"))')).to.deep.equal(['landmark_16079']);
    expect(ids('SELECT META(t).id FROM travel t WHERE ANY r IN t.reviews SATISFIES r.ratings.Overall = 3 END AND SEARCH(t, "cosy")')).to.deep.equal(['hotel_25243']);
  });

  it('SEARCH_META() and SEARCH_SCORE() are MISSING when no Search index evaluated the search', () => {
    const rows = e.rows('SELECT t1.name, SEARCH_SCORE() AS score, SEARCH_META() AS meta FROM travel AS t1 WHERE SEARCH(t1.description, "mountain") ORDER BY score DESC, t1.name');
    expect(rows).to.deep.equal([{ name: 'Clwydian Holidays' }, { name: 'Hotel Le Faucigny' }, { name: 'Marina del Rey Marriott' }]);
    const two = e.rows('SELECT t1.name, SEARCH_META(s1) AS meta, SEARCH_SCORE(t1.s1) AS score FROM travel AS t1 WHERE SEARCH(t1.description, "mountain", {"out": "s1"}) AND SEARCH(t1, {"query": {"match": "bathrobes", "field": "reviews.content", "analyzer": "standard"}})');
    expect(two).to.deep.equal([{ name: 'Marina del Rey Marriott' }]);
  });

  it('the errors the reference\'s restrictions give', () => {
    expect(error('SELECT SEARCH(t, "x") FROM travel t')).to.deep.equal({ code: 3100, msg: 'SEARCH() function is allowed in WHERE/ON clause(s) only.' });
    expect(error('SELECT t.name FROM travel t GROUP BY t.name HAVING SEARCH(t.name, "x")').code).to.equal(3100);
    // Refused before the grouping rules look at it (not 4210: `t` is no group key).
    expect(error('SELECT t.name FROM travel t GROUP BY t.name HAVING SEARCH(t, "x")').code).to.equal(3100);
    expect(error('SELECT 1 FROM travel t LET z = SEARCH(t, "x") WHERE z').code).to.equal(3100);
    expect(error('SELECT 1 FROM travel t ORDER BY SEARCH(t, "x")').code).to.equal(3100);
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t.reviews[0].content, "x")')).to.deep.equal({
      code: 3100,
      msg: 'SEARCH() function operands are invalid. - cause: search() not valid first argument: (((`t`.`reviews`)[0]).`content`)',
    });
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, t.name)')).to.deep.equal({
      code: 3100,
      msg: 'SEARCH() function operands are invalid. - cause: search() not valid second argument: (`t`.`name`)',
    });
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, 5)').msg).to.match(/not valid second argument: 5$/);
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, "x", {"out": 1})').msg).to.match(/not valid third argument: /);
    expect(error('SELECT 1 FROM travel h JOIN travel l ON h.city = l.city WHERE SEARCH(city, "x")').code).to.equal(3080);
    // At execution, as the Search service's verify step reports them.
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, "x", {"index": "no_such_index"})')).to.deep.equal({ code: 5000, msg: 'n1fty: index mapping not found' });
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, {"foo": 1})')).to.deep.equal({ code: 5000, msg: 'n1fty:  - cause: unknown query type' });
    expect(error('SELECT 1 FROM travel t WHERE SEARCH(t, $q)', { named: { q: 5 } })).to.deep.equal({
      code: 5010,
      msg: 'Error evaluating filter. - cause: search(`t`, $q) function Query parameter must be string or object.',
    });
  });

  it('an index option that is a mapping object: only the documents of its type mapping are searched', () => {
    const mapping = '{"default_mapping": {"enabled": false}, "types": {"hotel": {"enabled": true, "dynamic": true}}}';
    expect(ids(`SELECT META(t).id FROM travel t WHERE SEARCH(t, "ruthin", {"index": ${mapping}})`)).to.deep.equal(['hotel_20422', 'hotel_25243']);
    expect(ids('SELECT META(t).id FROM travel t WHERE SEARCH(t.country, "United Kingdom", {"index": {"default_analyzer": "keyword"}})')).to.deep.equal([]);
    expect(ids('SELECT META(t).id FROM travel t WHERE SEARCH(t, {"match": "United Kingdom", "field": "country"}, {"index": {"default_analyzer": "keyword"}})')).to.deep.equal(['hotel_20422', 'hotel_25243', 'landmark_16079']);
  });

  it('skipVerify lets every document through, as the verify step does', () => {
    expect(ids('SELECT META(t).id FROM travel t WHERE t.type = "airport" AND SEARCH(t, "nothing matches this", {"skipVerify": true})')).to.deep.equal(['airport_3725']);
  });

  it('EXPLAIN: a primary or GSI scan, a Fetch, and the search in the Filter; never a covering scan', () => {
    const [plan] = e.rows('EXPLAIN SELECT META(t1).id FROM travel AS t1 WHERE SEARCH(t1.country, "+United +States")') as any[];
    const ops = plan.plan['~children'];
    expect(ops.map((o: any) => o['#operator'])).to.deep.equal(['PrimaryScan3', 'Fetch', 'Parallel']);
    expect(ops[2]['~child']['~children'][0]).to.deep.equal({ '#operator': 'Filter', condition: 'search((`t1`.`country`), "+United +States")' });
    e.rows('CREATE INDEX idx_country ON travel(country)');
    try {
      const stmt = 'SELECT t1.country FROM travel AS t1 WHERE t1.country IS NOT MISSING AND SEARCH(t1.country, {"match": "marriott", "field": "name"})';
      const [p2] = e.rows('EXPLAIN ' + stmt) as any[];
      const ops2 = p2.plan['~children'].map((o: any) => o['#operator']);
      expect(ops2.slice(0, 2)).to.deep.equal(['IndexScan3', 'Fetch']);
      expect(e.rows(stmt)).to.deep.equal([{ country: 'United States' }]);
    } finally {
      e.rows('DROP INDEX idx_country ON travel');
    }
  });
});
