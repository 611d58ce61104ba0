// The planner's and semantic checker's errors for aggregates out of place, in the server's
// words (the planner's "Aggregates not allowed in WHERE (near line 1, column 30)." and the
// semantic checker's 3100 for DML).
import { expect } from 'chai';
import { travelEngine } from './fixture';

describe('n1ql 7.6 aggregate placement errors', () => {
  const e = travelEngine();
  const at = (q: string, what: string, nth = 0): string => {
    let i = -1;
    for (let k = 0; k <= nth; k++) i = q.indexOf(what, i + 1);
    return `(near line 1, column ${i + 1})`;
  };

  it('refuses aggregates in WHERE, LET and GROUP BY (4000)', () => {
    const w = 'SELECT COUNT(*) FROM travel WHERE COUNT(*) > 1';
    expect(e.run(w).errors).to.deep.equal([{ code: 4000, msg: `Aggregates not allowed in WHERE ${at(w, 'COUNT', 1)}.` }]);
    const l = 'SELECT x FROM travel LET x = SUM(id)';
    expect(e.run(l).errors).to.deep.equal([{ code: 4000, msg: `Aggregates not allowed in LET ${at(l, 'SUM')}.` }]);
    const g = 'SELECT 1 FROM travel GROUP BY MAX(id)';
    expect(e.run(g).errors).to.deep.equal([{ code: 4000, msg: `Aggregates not allowed in GROUP BY ${at(g, 'MAX')}.` }]);
  });

  it('refuses nested aggregates, aggregates only in ORDER BY, subqueries in FILTER', () => {
    const n = 'SELECT SUM(COUNT(id)) FROM travel';
    expect(e.run(n).errors).to.deep.equal([{ code: 4000, msg: `Nested aggregates are not allowed ${at(n, 'SUM')}.` }]);
    const o = 'SELECT name FROM travel ORDER BY COUNT(*)';
    expect(e.run(o).errors).to.deep.equal([{ code: 4000, msg: `Aggregates not available for this ORDER BY ${at(o, 'COUNT')}.` }]);
    expect(e.rows('SELECT COUNT(*) AS n FROM travel ORDER BY COUNT(*)')).to.deep.equal([{ n: 9 }]);
    const f = 'SELECT COUNT(id) FILTER (WHERE id IN (SELECT RAW 1)) FROM travel';
    expect(e.run(f).errors).to.deep.equal([{ code: 4000, msg: `Subqueries are not allowed in aggregate filter ${at(f, 'COUNT')}.` }]);
  });

  it('reads f(DISTINCT x), f(ALL x) and f(*) as aggregate calls: 3000 for any other function (the grammar\'s agg_quantifier rule)', () => {
    expect(e.run('SELECT ARRAY_LENGTH(DISTINCT ARRAY x FOR x IN [1, 1] END)').errors).to.deep.equal([{ code: 3000, msg: 'Invalid aggregate function ARRAY_LENGTH.' }]);
    expect(e.run('SELECT Upper(ALL "a")').errors).to.deep.equal([{ code: 3000, msg: 'Invalid aggregate function Upper.' }]);
    expect(e.run('SELECT UPPER(*)').errors).to.deep.equal([{ code: 3000, msg: 'Invalid aggregate function UPPER(*).' }]);
    expect(e.rows('SELECT RAW [COUNT(DISTINCT ARRAY x FOR x IN [1, 1] END), ARRAY_LENGTH((DISTINCT ARRAY x FOR x IN [1, 1] END))] FROM [1] AS t')).to.deep.equal([[1, 1]]);
  });

  it('refuses aggregates in DML (3100)', () => {
    expect(e.run('UPDATE travel SET n = COUNT(*) WHERE id = 1').errors).to.deep.equal([{ code: 3100, msg: 'Aggregates/Window functions are allowed in SELECT only' }]);
  });

  it('refuses a subquery FROM term, JOIN or GROUP AS reusing a name in scope (4020)', () => {
    expect(e.run('SELECT a.name FROM travel a WHERE EXISTS (SELECT 1 FROM travel a)').errors).to.deep.equal([{ code: 4020, msg: 'Duplicate subquery alias a' }]);
    // A bare name of the enclosing scope in a subquery's FROM is that variable, not the keyspace.
    expect(e.rows('SELECT (SELECT RAW COUNT(*) FROM travel) AS n FROM travel WHERE id = 1 AND type = "airline"')).to.deep.equal([{ n: [1] }]);
    expect(e.rows('SELECT (SELECT RAW COUNT(*) FROM travel t2)[0] AS n FROM travel t WHERE t.id = 1 AND t.type = "airline"')).to.deep.equal([{ n: 9 }]);
    expect(e.run('SELECT country FROM travel t WHERE type = "airline" GROUP BY country GROUP AS t').errors).to.deep.equal([{ code: 4020, msg: 'Duplicate GROUP AS alias t' }]);
  });

  it('warns about USE KEYS keys that name no document (5503, with the keys in its reason)', () => {
    const out = e.run('SELECT RAW name FROM travel USE KEYS ["airline_1", "nope", "gone"]');
    expect(out.rows).to.deep.equal(['Alpha Air']);
    expect(out.warnings).to.deep.equal([
      { code: 5503, msg: 'Key(s) in USE KEYS hint not found', reason: { keys: ['nope', 'gone'], keyspace: 'default:travel', num_missing_keys: 2 } },
    ]);
    expect(e.run('SELECT RAW name FROM travel USE KEYS "airline_1"').warnings).to.deep.equal([]);
  });

  it('joins ON KEY ... FOR through an index on the key, with 4025 and 4100 as the plan errors (Error Codes reference)', () => {
    const t = travelEngine();
    t.rows('CREATE INDEX ix_airline ON travel(airlineid)');
    expect(t.rows('SELECT a.name, r.id FROM travel a JOIN travel r ON KEY r.airlineid FOR a WHERE a.type = "airline" ORDER BY r.id')).to.deep.equal([
      { name: 'Alpha Air', id: 1 },
      { name: 'Beta Jet', id: 2 },
      { name: 'Alpha Air', id: 3 },
    ]);
    expect(t.run('SELECT 1 FROM travel a JOIN travel r ON KEY r.airlineid FOR zz').errors).to.deep.equal([{ code: 4025, msg: 'Unknown JOIN for alias zz' }]);
    expect(t.run('SELECT 1 FROM travel a JOIN travel r ON KEY r.nokey FOR a').errors).to.deep.equal([{ code: 4100, msg: 'No index available for join term r' }]);
  });

  it('refuses a subquery term without an alias (4010) and USE KEYS on a subquery or expression term (4110)', () => {
    expect(e.run('SELECT * FROM (SELECT 1 AS x)').errors).to.deep.equal([{ code: 4010, msg: 'FROM Subquery term must have a name or alias' }]);
    expect(e.run('SELECT * FROM (SELECT 1 AS x) s USE KEYS "a"').errors).to.deep.equal([{ code: 4110, msg: 'FROM Subquery term should not have USE KEYS or USE INDEX' }]);
    expect(e.run('SELECT * FROM [1, 2] AS s USE INDEX (ix)').errors).to.deep.equal([{ code: 4110, msg: 'FROM expression term should not have USE KEYS or USE INDEX' }]);
  });
});

describe('n1ql 7.6 semantic checks on FROM, LET, WITH and index keys', () => {
  const e = travelEngine();

  it('refuses a name bound twice in LET, LETTING or WITH (3081), where the second one is written', () => {
    expect(e.run('SELECT 1 FROM travel LET x = 1, x = 2').errors).to.deep.equal([{ code: 3081, msg: "Duplicate variable: 'x' already in scope (near line 1, column 33)." }]);
    expect(e.run('SELECT 1 FROM travel LET travel = 1').errors).to.deep.equal([{ code: 3081, msg: "Duplicate variable: 'travel' already in scope (near line 1, column 26)." }]);
    expect(e.run('WITH a AS (1), a AS (2) SELECT a').errors).to.deep.equal([{ code: 3081, msg: "Duplicate variable: 'a' already in scope (near line 1, column 16)." }]);
  });

  it('keeps lookup joins apart from ANSI joins (3200) and without hints, USE KEYS or USE INDEX on their right side (3110-3130)', () => {
    expect(e.run('SELECT 1 FROM travel d1 JOIN travel d2 ON d1.id = d2.id JOIN travel d3 ON KEYS "aaa"').errors).to.deep.equal([{ code: 3200, msg: 'Cannot mix ANSI JOIN on d2 with non ANSI JOIN on d3.' }]);
    expect(e.run('SELECT 1 FROM travel d1 NEST travel d2 ON KEYS d1.x JOIN travel d3 ON d3.a = d2.a').errors).to.deep.equal([{ code: 3200, msg: 'Cannot mix non ANSI NEST on d2 with ANSI JOIN on d3.' }]);
    expect(e.run('SELECT 1 FROM travel d1 JOIN travel d2 USE HASH(BUILD) ON KEYS d1.x').errors).to.deep.equal([{ code: 3110, msg: 'JOIN on d2 cannot have join hint (USE HASH or USE NL).' }]);
    expect(e.run('SELECT 1 FROM travel d1 JOIN travel d2 USE KEYS "a" ON KEYS d1.x').errors).to.deep.equal([{ code: 3120, msg: 'JOIN on d2 cannot have USE KEYS.' }]);
    expect(e.run('SELECT 1 FROM travel d1 NEST travel d2 USE INDEX (ix) ON KEYS d1.x').errors).to.deep.equal([{ code: 3130, msg: 'NEST on d2 cannot have USE INDEX.' }]);
    expect(e.run('SELECT 1 FROM travel USE HASH(BUILD) JOIN travel c ON travel.x = c.x').errors).to.deep.equal([{ code: 3290, msg: 'Join hint (USE HASH or USE NL) cannot be specified on the first from term travel' }]);
  });

  it('refuses index keys that read no document (3280) and INCLUDE MISSING past the leading key (3281)', () => {
    expect(e.run('CREATE INDEX ix1 ON travel(1)').errors).to.deep.equal([{ code: 3280, msg: '1 is not indexable' }]);
    expect(e.run('CREATE INDEX ix2 ON travel(a, c INCLUDE MISSING)').errors[0].code).to.equal(3281);
    e.rows('CREATE INDEX ix3 ON travel(a INCLUDE MISSING, c)');
  });

  it('keeps the predefined prepared names to the server (4092)', () => {
    expect(e.run('PREPARE __get FROM SELECT 1').errors).to.deep.equal([{ code: 4092, msg: 'Prepared name __get is predefined (reserved).' }]);
    e.rows('PREPARE __mine FROM SELECT 1');
  });

  it('refuses two result terms under one name, written or implied (4020), where the second name is written', () => {
    const dup = (q: string, name: string, at: string, nth = 0) => expect(e.run(q).errors).to.deep.equal([{ code: 4020, msg: `Duplicate result alias '${name}' ${(() => { let i = -1; for (let k = 0; k <= nth; k++) i = q.indexOf(at, i + 1); return `(near line 1, column ${i + 1})`; })()}.` }]);
    dup('SELECT id, name AS id FROM travel', 'id', 'AS');
    dup('SELECT travel.id, t.id FROM travel AS t', 'id', 'id', 1);
    dup('SELECT id AS `$2`, name AS `$2` FROM travel', '$2', 'AS', 1);
    dup('SELECT (SELECT x, x FROM [1] AS x) AS b', 'x', 'x', 1);
    expect(e.run('SELECT t.id, t.name AS id2 FROM travel AS t WHERE t.id = 2').errors).to.deep.equal([]);
    // RETURNING is checked before anything is written.
    dup('UPSERT INTO travel (KEY, VALUE) VALUES ("dupalias", {"a": 1}) RETURNING a, meta().id AS a', 'a', 'AS');
    expect(e.rows('SELECT RAW meta().id FROM travel USE KEYS "dupalias"')).to.deep.equal([]);
  });

  it("reports a duplicate UNNEST alias quoted, where it is written", () => {
    const q = 'SELECT 1 FROM travel r UNNEST r.schedule r';
    expect(e.run(q).errors).to.deep.equal([{ code: 4020, msg: `Duplicate UNNEST alias 'r' (near line 1, column ${q.lastIndexOf('r') + 1})` }]);
  });

  it('words a function arity error with the name as written and a variadic maximum of 32767', () => {
    expect(e.run('SELECT ARRAY_CONCAT([1]) AS a').errors).to.deep.equal([{ code: 3100, msg: 'Number of arguments to function ARRAY_CONCAT must be between 2 and 32767 (near line 1, column 21).' }]);
    expect(e.run('SELECT lower()').errors).to.deep.equal([{ code: 3100, msg: 'Number of arguments to function lower must be 1 (near line 1, column 14).' }]);
  });

  it('names the function an unknown bare name resolved to, where it is written', () => {
    expect(e.run('SELECT  array_vg(1)').errors).to.deep.equal([{ code: 3100, msg: 'Invalid function array_vg (resolving to default:array_vg) (near line 1, column 9)' }]);
  });

  it('checks a recursive CTE as the reference lists (3301-3304)', () => {
    expect(e.run('WITH RECURSIVE rcte AS (SELECT * FROM rcte UNION SELECT * FROM rcte) SELECT 1').errors).to.deep.equal([{ code: 3301, msg: 'Anchor Clause cannot have recursive reference in FROM expression: rcte' }]);
    expect(e.run('WITH RECURSIVE rcte AS (SELECT * FROM travel UNION SELECT * FROM rcte, rcte) SELECT 1').errors).to.deep.equal([{ code: 3302, msg: "Recursive reference 'rcte' must not appear more than once in the FROM clause" }]);
    expect(e.run('WITH RECURSIVE rcte AS (SELECT * FROM travel UNION SELECT * FROM rcte) OPTIONS {"bad":1} SELECT 1').errors).to.deep.equal([
      { code: 3303, msg: 'Invalid config option bad', reason: { invalid_option: 'bad' } },
    ]);
    expect(e.run('WITH RECURSIVE rcte AS (SELECT 1 AS x UNION SELECT * FROM travel LEFT JOIN rcte ON travel.x = rcte.x) SELECT 1').errors).to.deep.equal([{ code: 3304, msg: 'recursive_with_unsupported: OUTER JOIN' }]);
  });
});
