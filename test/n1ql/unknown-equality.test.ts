// `=` and the comparisons on arrays and objects that hold NULL or MISSING. The reference's rule
// for comparison operators (NULL = NULL is NULL, MISSING = MISSING is MISSING) carries into
// composites as the query service applies it: an unequal pair decides FALSE, otherwise a MISSING
// pair makes the result MISSING and a NULL pair NULL. ORDER BY, DISTINCT and GROUP BY keep the
// total collation, where such values are equal.
import { expect } from 'chai';
import { Engine } from './harness';
import { jsonText } from '../../lib/server/n1ql/json';
import type { Value } from '../../lib/server/n1ql/value';

const e = new Engine();
const rows = (q: string): Value[] => {
  const o = e.run(q);
  if (o.errors.length) throw new Error(`${q}: ${JSON.stringify(o.errors)}`);
  return o.rows;
};
const one = (expr: string): Value => rows(`SELECT RAW ${expr}`)[0];
/** The value of `expr` as its type name, so MISSING and NULL can be told apart. */
const kind = (expr: string): Value => one(`CASE WHEN (${expr}) IS MISSING THEN "missing" WHEN (${expr}) IS NULL THEN "null" ELSE (${expr}) END`);

describe('n1ql equality of arrays and objects holding unknowns', () => {
  it('= is NULL when the only differences are NULL elements or fields', () => {
    expect(kind('[1, 2, null] = [1, 2, null]')).to.equal('null');
    expect(kind('[[null]] = [[null]]')).to.equal('null');
    expect(kind('{"a": null} = {"a": null}')).to.equal('null');
    expect(kind('{"a": 1, "b": [null]} = {"b": [null], "a": 1}')).to.equal('null');
  });

  it('= is FALSE when some pair differs, whatever else is unknown', () => {
    expect(kind('[null, 1] = [null, 2]')).to.equal(false);
    expect(kind('[1, null] = [1, null, 3]')).to.equal(false);
    expect(kind('{"a": null, "b": 1} = {"a": null, "b": 2}')).to.equal(false);
    expect(kind('{"a": null} = {"b": null}')).to.equal(false);
    expect(kind('[null] = {"a": null}')).to.equal(false);
  });

  it('= is MISSING when a MISSING element is met and nothing differs', () => {
    expect(kind('[1, MISSING] = [1, MISSING]')).to.equal('missing');
    expect(kind('[MISSING, null] = [MISSING, null]')).to.equal('missing');
    expect(kind('[MISSING, 1] = [MISSING, 2]')).to.equal(false);
  });

  it('!= is the negation, so it stays unknown as well', () => {
    expect(kind('[1, null] != [1, null]')).to.equal('null');
    expect(kind('[1, null] != [2, null]')).to.equal(true);
    expect(kind('[1, 2] != [1, 2]')).to.equal(false);
  });

  it('WHERE keeps neither side of an unknown comparison', () => {
    expect(rows('SELECT RAW x FROM [[1, null], [1, 2]] AS x WHERE x = [1, null]')).to.deep.equal([]);
    expect(rows('SELECT RAW x FROM [[1, null], [1, 2]] AS x WHERE x != [1, 2]')).to.deep.equal([]);
    expect(rows('SELECT RAW x FROM [[1, null], [1, 2]] AS x WHERE x = [1, 2]')).to.deep.equal([[1, 2]]);
  });

  it('IN, CASE and ARRAY_CONTAINS need a TRUE match', () => {
    expect(kind('[1, null] IN [[1, null]]')).to.equal(false);
    expect(kind('1 IN [1, null]')).to.equal(true);
    expect(kind('3 IN [1, null]')).to.equal('null');
    expect(kind('NULL IN []')).to.equal(false);
    expect(kind('NULL IN [1]')).to.equal('null');
    expect(one('CASE [1, null] WHEN [1, null] THEN "equal" ELSE "not known equal" END')).to.equal('not known equal');
    expect(one('ARRAY_CONTAINS([[1, null]], [1, null])')).to.equal(false);
    expect(one('ARRAY_POSITION([[1, null], [1, 2]], [1, 2])')).to.equal(1);
  });

  it('NANIF, POSINFIF, NEGINFIF, NULLIF and MISSINGIF return an unknown equality as it is', () => {
    expect(kind('NANIF([1, 2, null], [1, 2, null])')).to.equal('null');
    expect(kind('NANIF([1, 2, 4], [1, 2, null])')).to.equal('null');
    expect(kind('POSINFIF([1, 2, null], [1, 2, null])')).to.equal('null');
    expect(kind('NEGINFIF({"a": null}, {"a": null})')).to.equal('null');
    expect(kind('NULLIF([1, null], [1, null])')).to.equal('null');
    expect(kind('MISSINGIF([1, null], [1, null])')).to.equal('null');
    expect(kind('MISSINGIF([1, MISSING], [1, MISSING])')).to.equal('missing');
    expect(one('[ISNAN(NANIF([1, 2], [1, 2])), POSINFIF([1, 2], [1, 3]), NULLIF([1], [2])]')).to.deep.equal([true, [1, 2], [1]]);
  });

  it('<, <= and BETWEEN on arrays are unknown when an unknown element comes before any difference', () => {
    expect(kind('[1, null] < [1, 2]')).to.equal('null');
    expect(kind('[1, MISSING] < [1, 2]')).to.equal('missing');
    expect(kind('[1, null] < [2, 0]')).to.equal(true);
    expect(kind('[null] >= [1]')).to.equal('null');
    expect(kind('[1, null] BETWEEN [0] AND [2]')).to.equal(true);
    expect(kind('[1, null] BETWEEN [1, 0] AND [2]')).to.equal('null');
    expect(kind('[1, null] BETWEEN [1, 0] AND [0]')).to.equal(false);
    expect(kind('[1, null] NOT BETWEEN [1, 0] AND [2]')).to.equal('null');
  });

  it('objects compare name by name over both objects\' sorted names, values as soon as both have the name', () => {
    // {"a": 1, "c": 1} is the smaller: "a" decides before the names part ways at "b" / "c".
    expect(rows('SELECT RAW x FROM [{"a": 2, "b": 1}, {"a": 1, "c": 1}, {"z": 0}] AS x ORDER BY x')).to.deep.equal([{ z: 0 }, { a: 1, c: 1 }, { a: 2, b: 1 }]);
    // The object that lacks a name the other has (here "b") is the greater.
    expect(rows('SELECT RAW x FROM [{"a": 1, "c": 1}, {"a": 1, "b": 9}] AS x ORDER BY x')).to.deep.equal([{ a: 1, b: 9 }, { a: 1, c: 1 }]);
    expect(kind('{"a": 1} < {"a": 0, "b": 0}')).to.equal(true);
    expect(kind('{"a": null} < {"a": 1}')).to.equal('null');
    expect(kind('{"a": 1, "b": null} < {"a": 2, "b": 0}')).to.equal(true);
    expect(kind('{"a": 1, "b": null} < {"a": 1, "b": 0}')).to.equal('null');
    expect(kind('{"a": 1, "b": null} < {"a": 1, "c": 0}')).to.equal(true);
  });

  it('ORDER BY, DISTINCT and GROUP BY still collate such values as equal and ordered', () => {
    expect(rows('SELECT RAW x FROM [[1, 2], [1, null], [1], [1, null]] AS x ORDER BY x')).to.deep.equal([[1], [1, null], [1, null], [1, 2]]);
    expect(rows('SELECT DISTINCT RAW x FROM [[1, null], [1, null], {"a": null}, {"a": null}] AS x ORDER BY x')).to.deep.equal([[1, null], { a: null }]);
    expect(rows('SELECT x, COUNT(*) AS n FROM [[1, null], [1, null]] AS x GROUP BY x')).to.deep.equal([{ x: [1, null], n: 2 }]);
    expect(one('ARRAY_DISTINCT([[null], [null]])')).to.deep.equal([[null]]);
  });
});

describe('n1ql array construction keeps MISSING elements', () => {
  it('a MISSING element is MISSING when read back, and null when written out', () => {
    expect(one('[[MISSING, 1][0] IS MISSING, TYPE([MISSING][0]), ARRAY_LENGTH([MISSING, 1])]')).to.deep.equal([true, 'missing', 2]);
    expect(one('ARRAY TYPE(c) FOR c IN [1, MISSING, null] END')).to.deep.equal(['number', 'missing', 'null']);
    expect(jsonText(e.run('SELECT RAW [MISSING, 1]').rows[0])).to.equal('[null,1]');
  });

  it('ARRAY_BINARY_SEARCH finds NULL after the MISSING elements and MISSING itself', () => {
    expect(one('ARRAY_BINARY_SEARCH([MISSING, MISSING, null, null, 1, 2], null)')).to.equal(2);
    expect(one('ARRAY_BINARY_SEARCH([MISSING, MISSING, null, 1, 2], MISSING)')).to.equal(0);
    expect(one('ARRAY_BINARY_SEARCH([1, 2, 3, 4], MISSING)')).to.equal(-1);
    expect(one('ARRAY_BINARY_SEARCH([null, 2, 3, 4], null)')).to.equal(0);
  });
});
