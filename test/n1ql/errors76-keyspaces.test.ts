// Plan and semantic errors about keyspaces, with the codes and wording of the query engine's
// errors source: 3261/3262 (a DELETE whose keyspace is a query parameter must name its keys and
// cannot have USE INDEX) and 4330 (the right side of an ANSI JOIN/NEST with no index to read it).
import { expect } from 'chai';
import { Engine } from './harness';

describe('n1ql 7.6 keyspace errors', () => {
  it('DELETE FROM $ks needs USE KEYS (3261) and takes no USE INDEX (3262); with its keys it deletes from the keyspace the parameter names', () => {
    const e = new Engine(['b']).load('b', { k1: { a: 1 }, k2: { a: 2 } });
    expect(e.run('DELETE FROM $ks WHERE a = 1', { named: { ks: 'b' } }).errors).to.deep.equal([{ code: 3261, msg: '<placeholder> term must have USE KEYS' }]);
    expect(e.run('DELETE FROM $ks USE KEYS "k1" USE INDEX (ix)', { named: { ks: 'b' } }).errors).to.deep.equal([{ code: 3262, msg: '<placeholder> term should not have USE INDEX' }]);
    expect(e.rows('DELETE FROM $ks AS d USE KEYS "k1" RETURNING d.a', { named: { ks: 'b' } })).to.deep.equal([{ a: 1 }]);
    expect(e.rows('DELETE FROM $1 USE KEYS ["k2"] RETURNING META().id', { args: ['default:b'] })).to.deep.equal([{ id: 'k2' }]);
    expect(e.run('DELETE FROM $1 USE KEYS "x"', { args: ['nope'] }).errors[0].code).to.equal(12003);
  });

  it('an ANSI JOIN or NEST whose right keyspace has no index is 4330', () => {
    const e = new Engine(['b', 'c']).load('b', { k1: { a: 1 } }).load('c', { c1: { a: 1 } });
    e.rows('CREATE PRIMARY INDEX ON b');
    expect(e.run('SELECT * FROM b JOIN c ON b.a = c.a').errors).to.deep.equal([{ code: 4330, msg: 'No index available for ANSI JOIN term c' }]);
    expect(e.run('SELECT * FROM b AS x NEST c AS y ON x.a = y.a').errors).to.deep.equal([{ code: 4330, msg: 'No index available for ANSI NEST term y' }]);
    e.rows('CREATE INDEX c_a ON c(a)');
    expect(e.rows('SELECT RAW c.a FROM b JOIN c ON b.a = c.a')).to.deep.equal([1]);
  });
});

describe('n1ql 7.6 recursive CTE semantics (3300)', () => {
  const e = new Engine(['b']);
  const err = (q: string): unknown => e.run(q).errors;
  it('refuses grouping, DISTINCT, aggregates and ORDER/OFFSET/LIMIT in the SELECTs of a recursive CTE', () => {
    expect(err('WITH RECURSIVE r AS (SELECT 1 AS x UNION SELECT r.x + 1 AS x FROM r WHERE r.x < 3 GROUP BY r.x) SELECT * FROM r')).to.deep.equal([{ code: 3300, msg: 'recursive_with semantics: Grouping is not allowed' }]);
    expect(err('WITH RECURSIVE r AS (SELECT DISTINCT 1 AS x UNION SELECT r.x + 1 AS x FROM r WHERE r.x < 3) SELECT * FROM r')).to.deep.equal([{ code: 3300, msg: 'recursive_with semantics: Distinct not allowed' }]);
    expect(err('WITH RECURSIVE r AS (SELECT 1 AS x UNION SELECT COUNT(*) AS x FROM r WHERE r.x < 3) SELECT * FROM r')).to.deep.equal([{ code: 3300, msg: 'recursive_with semantics: Aggregates/Window functions are not allowed' }]);
    expect(err('WITH RECURSIVE r AS (SELECT 1 AS x UNION (SELECT r.x + 1 AS x FROM r WHERE r.x < 3 LIMIT 1)) SELECT * FROM r')).to.deep.equal([{ code: 3300, msg: 'recursive_with semantics: Limit not allowed' }]);
    expect(e.rows('WITH RECURSIVE r AS (SELECT 1 AS x UNION SELECT r.x + 1 AS x FROM r WHERE r.x < 3) SELECT RAW x FROM r ORDER BY x')).to.deep.equal([1, 2, 3]);
  });
});
