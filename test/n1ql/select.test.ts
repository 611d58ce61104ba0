import { expect } from 'chai';
import { DOCS, travelEngine } from './fixture';
import type { Engine } from './harness';

describe('n1ql SELECT', () => {
  let e: Engine;
  beforeEach(() => {
    e = travelEngine();
  });

  describe('projections', () => {
    it('SELECT * wraps each document under the keyspace alias', () => {
      expect(e.rows('SELECT * FROM travel USE KEYS "airline_1"')).to.deep.equal([{ travel: DOCS.airline_1 }]);
      expect(e.rows('SELECT * FROM travel t USE KEYS "airline_1"')).to.deep.equal([{ t: DOCS.airline_1 }]);
    });

    it('alias.* flattens the document fields into the row', () => {
      expect(e.rows('SELECT t.*, META(t).id FROM travel t USE KEYS "airline_2"')).to.deep.equal([{ ...(DOCS.airline_2 as object), id: 'airline_2' }]);
    });

    it('names unaliased terms after their last field, and the rest $1, $2 ...', () => {
      expect(e.rows('SELECT t.name, t.geo.lat, 1 + 1, UPPER(t.city) FROM travel t USE KEYS "airport_1"')).to.deep.equal([
        { name: undefined, lat: 49, $1: 2, $2: 'PARIS' },
      ].map((r) => JSON.parse(JSON.stringify(r))));
    });

    it('leaves MISSING fields out of the row but keeps NULL ones', () => {
      expect(e.rows('SELECT t.iata, t.nosuch FROM travel t USE KEYS ["airline_3", "airline_1"]')).to.deep.equal([{ iata: null }, { iata: 'AA' }]);
    });

    it('RAW, ELEMENT and VALUE return bare values and skip MISSING ones', () => {
      expect(e.rows('SELECT RAW t.iata FROM travel t WHERE t.type = "airline" ORDER BY t.id')).to.deep.equal(['AA', 'BJ', null]);
      expect(e.rows('SELECT ELEMENT t.faa FROM travel t WHERE t.type = "airport" ORDER BY t.faa')).to.deep.equal(['CDG', 'NCE', 'SFO']);
      expect(e.rows('SELECT VALUE t.faa FROM travel t ORDER BY t.faa')).to.deep.equal(['CDG', 'NCE', 'SFO']);
    });

    it('DISTINCT removes duplicate rows', () => {
      expect(e.rows('SELECT DISTINCT t.country FROM travel t WHERE t.type = "airline" ORDER BY t.country')).to.deep.equal([{ country: 'France' }, { country: 'United States' }]);
      expect(e.rows('SELECT DISTINCT RAW t.type FROM travel t ORDER BY t.type')).to.deep.equal(['airline', 'airport', 'route']);
    });

    it('SELECT without FROM evaluates once', () => {
      expect(e.rows('SELECT 1 AS one, "a" || "b" AS ab')).to.deep.equal([{ ab: 'ab', one: 1 }]);
      expect(e.rows('SELECT RAW [1, MISSING, 2]')).to.deep.equal([[1, null, 2]]);
    });
  });

  describe('FROM', () => {
    it('USE KEYS fetches exactly the given keys, skipping absent ones', () => {
      expect(e.rows('SELECT RAW META().id FROM travel USE KEYS ["route_2", "nope", "airline_1"]')).to.deep.equal(['route_2', 'airline_1']);
    });

    it('a primary scan returns documents in key order', () => {
      expect(e.rows('SELECT RAW META(t).id FROM travel t')).to.deep.equal(Object.keys(DOCS).sort());
    });

    it('reads subqueries and expressions as FROM terms', () => {
      expect(e.rows('SELECT s.n FROM (SELECT t.name AS n FROM travel t WHERE t.type = "airline") AS s ORDER BY s.n DESC LIMIT 2')).to.deep.equal([{ n: 'Gamma' }, { n: 'Beta Jet' }]);
      expect(e.rows('SELECT RAW x * 2 FROM [1, 2, 3] AS x')).to.deep.equal([2, 4, 6]);
    });

    it('LET binds variables usable in WHERE and the projection', () => {
      expect(e.rows('SELECT t.faa, hemi FROM travel t LET hemi = CASE WHEN t.geo.lon < 0 THEN "W" ELSE "E" END WHERE t.type = "airport" AND hemi = "E" ORDER BY t.faa')).to.deep.equal([
        { faa: 'CDG', hemi: 'E' },
        { faa: 'NCE', hemi: 'E' },
      ]);
    });

    it('WITH binds a common table expression', () => {
      expect(e.rows('WITH fr AS (SELECT RAW a.faa FROM travel a WHERE a.country = "France") SELECT RAW r.id FROM travel r WHERE r.type = "route" AND r.destinationairport IN fr ORDER BY r.id')).to.deep.equal([2, 3]);
    });
  });

  describe('joins', () => {
    it('JOIN ON KEYS pairs each row with the document its key names', () => {
      expect(e.rows('SELECT r.id, a.name FROM travel r JOIN travel a ON KEYS r.airlineid WHERE r.type = "route" ORDER BY r.id')).to.deep.equal([
        { id: 1, name: 'Alpha Air' },
        { id: 2, name: 'Beta Jet' },
        { id: 3, name: 'Alpha Air' },
      ]);
    });

    it('LEFT JOIN ON KEYS keeps rows whose key finds nothing', () => {
      e.rows('UPSERT INTO travel (KEY, VALUE) VALUES ("route_4", {"type": "route", "id": 4, "airlineid": "airline_99"})');
      expect(e.rows('SELECT r.id, a.name FROM travel r LEFT JOIN travel a ON KEYS r.airlineid WHERE r.type = "route" ORDER BY r.id')).to.deep.equal([
        { id: 1, name: 'Alpha Air' },
        { id: 2, name: 'Beta Jet' },
        { id: 3, name: 'Alpha Air' },
        { id: 4 },
      ]);
      expect(e.rows('SELECT RAW r.id FROM travel r JOIN travel a ON KEYS r.airlineid WHERE r.type = "route" ORDER BY r.id')).to.deep.equal([1, 2, 3]);
    });

    it('NEST ON KEYS gathers the joined documents into an array', () => {
      expect(e.rows('SELECT a.name, ARRAY_LENGTH(ap) AS n FROM travel a USE KEYS "airline_1" NEST travel ap ON KEYS ["airport_1", "airport_3"]')).to.deep.equal([{ n: 2, name: 'Alpha Air' }]);
    });

    it('UNNEST flattens an array field, LEFT UNNEST keeps empty ones', () => {
      expect(e.rows('SELECT r.id, s.flight FROM travel r UNNEST r.schedule s WHERE r.type = "route" ORDER BY s.flight')).to.deep.equal([
        { flight: 'AA100', id: 1 },
        { flight: 'AA101', id: 1 },
        { flight: 'BJ200', id: 2 },
      ]);
      expect(e.rows('SELECT r.id, s.flight FROM travel r LEFT UNNEST r.schedule s WHERE r.type = "route" ORDER BY r.id, s.flight')).to.deep.equal([
        { flight: 'AA100', id: 1 },
        { flight: 'AA101', id: 1 },
        { flight: 'BJ200', id: 2 },
        { id: 3 },
      ]);
    });

    it('ANSI JOIN matches on an arbitrary condition; LEFT OUTER keeps unmatched rows', () => {
      expect(e.rows('SELECT r.id, ap.city FROM travel r JOIN travel ap ON ap.faa = r.destinationairport WHERE r.type = "route" ORDER BY r.id')).to.deep.equal([
        { city: 'San Francisco', id: 1 },
        { city: 'Paris', id: 2 },
        { city: 'Nice', id: 3 },
      ]);
      expect(e.rows('SELECT ap.faa, r.id FROM travel ap LEFT OUTER JOIN travel r ON r.sourceairport = ap.faa AND r.type = "route" WHERE ap.type = "airport" ORDER BY ap.faa, r.id')).to.deep.equal([
        { faa: 'CDG', id: 1 },
        { faa: 'CDG', id: 3 },
        { faa: 'NCE' },
        { faa: 'SFO', id: 2 },
      ]);
    });
  });

  describe('aggregation', () => {
    it('GROUP BY with COUNT, SUM, AVG, MIN, MAX', () => {
      expect(e.rows('SELECT t.type, COUNT(*) AS n, SUM(t.id) AS s, AVG(t.id) AS a, MIN(t.id) AS lo, MAX(t.id) AS hi FROM travel t GROUP BY t.type ORDER BY t.type')).to.deep.equal([
        { a: 2, hi: 3, lo: 1, n: 3, s: 6, type: 'airline' },
        { a: 2, hi: 3, lo: 1, n: 3, s: 6, type: 'airport' },
        { a: 2, hi: 3, lo: 1, n: 3, s: 6, type: 'route' },
      ]);
    });

    it('COUNT(expr) skips NULL and MISSING, COUNT(DISTINCT) counts distinct values', () => {
      expect(e.rows('SELECT COUNT(t.iata) AS iata, COUNT(t.nosuch) AS none, COUNT(DISTINCT t.country) AS countries FROM travel t WHERE t.type = "airline"')).to.deep.equal([{ countries: 2, iata: 2, none: 0 }]);
    });

    it('aggregates over no rows give one row: COUNT 0, the others NULL', () => {
      expect(e.rows('SELECT COUNT(*) AS c, SUM(t.id) AS s, MAX(t.id) AS m, ARRAY_AGG(t.id) AS a FROM travel t WHERE t.type = "nothing"')).to.deep.equal([{ a: null, c: 0, m: null, s: null }]);
      expect(e.rows('SELECT t.type, COUNT(*) AS c FROM travel t WHERE t.type = "nothing" GROUP BY t.type')).to.deep.equal([]);
    });

    it('ARRAY_AGG collects values, HAVING filters groups, LETTING names aggregates', () => {
      expect(e.rows('SELECT r.sourceairport AS src, ARRAY_AGG(r.destinationairport) AS dst FROM travel r WHERE r.type = "route" GROUP BY r.sourceairport LETTING n = COUNT(*) HAVING n > 1')).to.deep.equal([
        { dst: ['NCE', 'SFO'], src: 'CDG' },
      ]);
    });

    it('ORDER BY may sort on an aggregate and on a projection alias', () => {
      expect(e.rows('SELECT t.country, COUNT(*) AS c FROM travel t WHERE t.country IS VALUED GROUP BY t.country ORDER BY c DESC, t.country')).to.deep.equal([
        { c: 3, country: 'France' },
        { c: 3, country: 'United States' },
      ]);
    });
  });

  describe('ORDER BY, LIMIT, OFFSET', () => {
    it('orders across types with N1QL collation: MISSING, NULL, false, true, numbers, strings, arrays, objects', () => {
      expect(e.rows('SELECT RAW v FROM [{"a": 1}, [1], "s", 2, true, false, null, 10, "R", []] AS v ORDER BY v')).to.deep.equal([null, false, true, 2, 10, 'R', 's', [], [1], { a: 1 }]);
      expect(e.rows('SELECT RAW v FROM [3, "x", null] AS v ORDER BY v DESC')).to.deep.equal(['x', 3, null]);
    });

    it('puts MISSING before NULL in ascending order', () => {
      expect(e.rows('SELECT META(t).id, t.iata FROM travel t WHERE t.type = "airline" OR META(t).id = "route_1" ORDER BY t.iata, META(t).id')).to.deep.equal([
        { id: 'route_1' },
        { iata: null, id: 'airline_3' },
        { iata: 'AA', id: 'airline_1' },
        { iata: 'BJ', id: 'airline_2' },
      ]);
    });

    it('NULLS LAST moves NULL and MISSING after the values', () => {
      expect(e.rows('SELECT RAW t.iata FROM travel t WHERE t.type = "airline" ORDER BY t.iata NULLS LAST')).to.deep.equal(['AA', 'BJ', null]);
    });

    it('LIMIT and OFFSET page through ordered rows', () => {
      const q = 'SELECT RAW META(t).id FROM travel t ORDER BY META(t).id DESC LIMIT $1 OFFSET $2';
      expect(e.rows(q, { args: [3, 0] })).to.deep.equal(['route_3', 'route_2', 'route_1']);
      expect(e.rows(q, { args: [3, 3] })).to.deep.equal(['airport_3', 'airport_2', 'airport_1']);
      expect(e.rows(q, { args: [3, 8] })).to.deep.equal(['airline_1']);
      expect(e.rows('SELECT RAW META(t).id FROM travel t LIMIT 2')).to.deep.equal(['airline_1', 'airline_2']);
    });
  });

  describe('set operators', () => {
    it('UNION removes duplicates, UNION ALL keeps them', () => {
      const a = 'SELECT RAW r.sourceairport FROM travel r WHERE r.type = "route"';
      const b = 'SELECT RAW r.destinationairport FROM travel r WHERE r.type = "route"';
      expect(e.rows(`${a} UNION ${b} ORDER BY 1`).length).to.equal(3);
      expect((e.rows(`${a} UNION ${b}`) as string[]).sort()).to.deep.equal(['CDG', 'NCE', 'SFO']);
      expect((e.rows(`${a} UNION ALL ${b}`) as string[]).sort()).to.deep.equal(['CDG', 'CDG', 'CDG', 'NCE', 'SFO', 'SFO']);
    });

    it('INTERSECT and EXCEPT compare whole rows', () => {
      const a = 'SELECT RAW r.sourceairport FROM travel r WHERE r.type = "route"';
      const b = 'SELECT RAW r.destinationairport FROM travel r WHERE r.type = "route"';
      expect((e.rows(`${a} INTERSECT ${b}`) as string[]).sort()).to.deep.equal(['CDG', 'SFO']);
      expect(e.rows(`${b} EXCEPT ${a}`)).to.deep.equal(['NCE']);
      expect((e.rows(`${a} EXCEPT ALL ${b}`) as string[]).sort()).to.deep.equal([]);
    });
  });

  describe('subqueries, META and parameters', () => {
    it('correlated subqueries see the outer row', () => {
      expect(e.rows('SELECT a.name, (SELECT RAW COUNT(*) FROM travel r WHERE r.type = "route" AND r.airlineid = META(a).id)[0] AS routes FROM travel a WHERE a.type = "airline" ORDER BY a.name')).to.deep.equal([
        { name: 'Alpha Air', routes: 2 },
        { name: 'Beta Jet', routes: 1 },
        { name: 'Gamma', routes: 0 },
      ]);
    });

    it('EXISTS tests whether a subquery returns rows', () => {
      expect(e.rows('SELECT RAW a.name FROM travel a WHERE a.type = "airline" AND EXISTS (SELECT 1 FROM travel r WHERE r.airlineid = META(a).id) ORDER BY a.name')).to.deep.equal(['Alpha Air', 'Beta Jet']);
    });

    it('META() gives id, cas, expiration, flags and type', () => {
      const [row] = e.rows('SELECT META(t) AS m FROM travel t USE KEYS "airline_1"') as { m: Record<string, unknown> }[];
      expect(Object.keys(row.m).sort()).to.deep.equal(['cas', 'expiration', 'flags', 'id', 'type']);
      expect(row.m.id).to.equal('airline_1');
      expect(row.m.expiration).to.equal(0);
      expect(row.m.type).to.equal('json');
      expect(row.m.cas).to.equal(e.store('travel').get('airline_1')!.cas); // exact: a CAS is beyond 2^53
    });

    it('binds positional ($1) and named ($name) parameters', () => {
      expect(e.rows('SELECT RAW t.name FROM travel t WHERE t.type = $1 AND t.country = $2 ORDER BY t.name', { args: ['airline', 'United States'] })).to.deep.equal(['Beta Jet', 'Gamma']);
      expect(e.rows('SELECT RAW t.name FROM travel t WHERE t.type = $type AND t.id >= $min ORDER BY t.id', { named: { type: 'airline', min: 2 } })).to.deep.equal(['Beta Jet', 'Gamma']);
      expect(e.run("SELECT $nope").errors[0]).to.deep.equal({ code: 5010, msg: "Error evaluating projection. - cause: No value for named parameter $nope." });
    });
  });
});

describe('n1ql SELECT details', () => {
  it('ORDER BY resolves projection aliases inside any expression', () => {
    const e = travelEngine();
    expect(e.rows('SELECT t.faa AS code FROM travel t WHERE t.type = "airport" ORDER BY CASE WHEN code LIKE "S%" THEN 0 ELSE 1 END, code')).to.deep.equal([{ code: 'SFO' }, { code: 'CDG' }, { code: 'NCE' }]);
  });

  it('GROUP BY puts MISSING and NULL keys in groups of their own', () => {
    const e = travelEngine();
    expect(e.rows('SELECT t.iata, COUNT(*) AS n FROM travel t GROUP BY t.iata ORDER BY t.iata')).to.deep.equal([{ n: 6 }, { iata: null, n: 1 }, { iata: 'AA', n: 1 }, { iata: 'BJ', n: 1 }]);
  });

  it('DESC puts MISSING last', () => {
    const e = travelEngine();
    expect(e.rows('SELECT RAW t.stops FROM travel t WHERE t.type IN ["route", "airline"] ORDER BY t.stops DESC')).to.deep.equal([1, 0, 0]);
    expect(e.rows('SELECT t.stops FROM travel t WHERE t.type IN ["route", "airline"] ORDER BY t.stops DESC').length).to.equal(6);
  });
});

describe('n1ql ANSI JOIN methods', () => {
  it('probes a secondary index on the right side when ON allows, else hashes the right side once', () => {
    const e = travelEngine();
    const q = 'SELECT r.id, ap.city FROM travel r JOIN travel ap ON ap.faa = r.destinationairport WHERE r.type = "route" ORDER BY r.id';
    const expected = [
      { city: 'San Francisco', id: 1 },
      { city: 'Paris', id: 2 },
      { city: 'Nice', id: 3 },
    ];
    expect(JSON.stringify(e.rows(`EXPLAIN ${q}`))).to.contain('"HashJoin"');
    expect(e.rows(q)).to.deep.equal(expected);
    e.rows('CREATE INDEX ix_faa ON travel(faa)');
    const plan = JSON.stringify(e.rows(`EXPLAIN ${q}`));
    expect(plan).to.contain('"NestedLoopJoin"');
    expect(plan).to.contain('"ix_faa"');
    expect(e.rows(q)).to.deep.equal(expected);
  });
});
