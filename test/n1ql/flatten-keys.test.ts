// FLATTEN_KEYS in an array index key (CREATE INDEX reference, "Array index with FLATTEN_KEYS"):
// each element's values become several index keys, so an ANY ... SATISFIES over several fields
// of one element scans the index on all of them, and only documents where one element matches
// them all qualify.
import { expect } from 'chai';
import { Engine } from './harness';

describe('n1ql FLATTEN_KEYS', () => {
  const e = new Engine(['b']).load('b', {
    h1: { type: 'hotel', email: 'a@x', reviews: [{ author: 'Nedra', ratings: { Cleanliness: 3 } }, { author: 'Bob', ratings: { Cleanliness: 5 } }] },
    h2: { type: 'hotel', email: 'b@x', reviews: [{ author: 'Nedra', ratings: { Cleanliness: 5 } }, { author: 'Nia', ratings: { Cleanliness: 3 } }] },
    h3: { type: 'hotel', email: 'c@x', reviews: [] },
  });
  e.rows('CREATE INDEX ixf ON b(DISTINCT ARRAY FLATTEN_KEYS(r.author, r.ratings.Cleanliness DESC) FOR r IN reviews END, email)');
  const scanOf = (q: string): any => JSON.stringify((e.rows(`EXPLAIN ${q}`)[0] as any).plan);

  it('keeps the definition, DESC included, in system:indexes', () => {
    expect(e.rows('SELECT RAW index_key FROM system:indexes WHERE name = "ixf"')).to.deep.equal([
      ['(distinct (array flatten_keys((`r`.`author`), ((`r`.`ratings`).`Cleanliness`) desc) for `r` in `reviews` end))', '`email`'],
    ]);
  });

  it('is chosen for ANY ... SATISFIES on the flattened fields, with a span on each of them', () => {
    const q = 'SELECT RAW META(h).id FROM b AS h WHERE ANY r IN h.reviews SATISFIES r.author = "Nedra" AND r.ratings.Cleanliness = 3 END';
    expect(e.rows(q)).to.deep.equal(['h1']); // h2 has Nedra and a 3, but not in one review
    const plan = scanOf(q);
    expect(plan).to.contain('"index":"ixf"');
    expect(plan).to.contain('(distinct (array (`r`.`author`) for `r` in `reviews` end))');
    expect(plan).to.contain('(distinct (array ((`r`.`ratings`).`Cleanliness`) for `r` in `reviews` end))');
    expect(e.rows('SELECT RAW META(h).id FROM b AS h WHERE ANY r IN h.reviews SATISFIES r.author LIKE "N%" AND r.ratings.Cleanliness = 3 END ORDER BY META(h).id')).to.deep.equal(['h1', 'h2']);
  });

  it('follows writes and evaluates to its arguments outside an index', () => {
    e.rows('UPSERT INTO b VALUES ("h4", {"reviews": [{"author": "Nedra", "ratings": {"Cleanliness": 3}}]})');
    expect(e.rows('SELECT RAW META(h).id FROM b AS h WHERE ANY r IN h.reviews SATISFIES r.author = "Nedra" AND r.ratings.Cleanliness = 3 END ORDER BY META(h).id')).to.deep.equal(['h1', 'h4']);
    expect(e.rows('SELECT RAW FLATTEN_KEYS(1, "a", MISSING)')).to.deep.equal([[1, 'a', null]]);
  });
});
