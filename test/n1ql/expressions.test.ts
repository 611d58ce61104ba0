import { expect } from 'chai';
import { Engine } from './harness';
import type { Value } from '../../lib/server/n1ql/value';

// Expected values follow Couchbase Server 7's documented semantics for MISSING/NULL propagation.
describe('n1ql expressions', () => {
  const e = new Engine();
  const one = (expr: string, opts: { args?: Value[] } = {}): Value => {
    const rows = e.rows(`SELECT RAW ${expr}`, opts);
    return rows.length ? rows[0] : 'no row';
  };
  // SELECT RAW of MISSING produces no row; wrap to observe MISSING explicitly.
  const typeOf = (expr: string): Value => one(`TYPE(${expr})`);

  describe('MISSING and NULL', () => {
    it('arithmetic and comparisons propagate MISSING before NULL', () => {
      expect(typeOf('1 + MISSING')).to.equal('missing');
      expect(typeOf('1 + NULL')).to.equal('null');
      expect(typeOf('MISSING + NULL')).to.equal('missing');
      expect(typeOf('NULL = NULL')).to.equal('null');
      expect(typeOf('MISSING = 1')).to.equal('missing');
      expect(typeOf('"a" < MISSING')).to.equal('missing');
      expect(typeOf('"a" || NULL')).to.equal('null');
    });

    it('operators on the wrong types give NULL', () => {
      expect(one('1 + "a"')).to.equal(null);
      expect(one('-"a"')).to.equal(null);
      expect(one('"a" || 1')).to.equal(null);
      expect(one('10 / 0')).to.equal(null);
      expect(one('7 / 2')).to.equal(3.5);
      expect(one('7 % 3')).to.equal(1);
    });

    it('AND/OR/NOT use three-valued logic with MISSING', () => {
      expect(one('FALSE AND MISSING')).to.equal(false);
      expect(typeOf('TRUE AND MISSING')).to.equal('missing');
      expect(typeOf('TRUE AND NULL')).to.equal('null');
      expect(typeOf('NULL AND MISSING')).to.equal('missing');
      expect(one('TRUE OR MISSING')).to.equal(true);
      expect(typeOf('FALSE OR NULL')).to.equal('null');
      expect(typeOf('FALSE OR MISSING')).to.equal('missing');
      expect(typeOf('NULL OR MISSING')).to.equal('null');
      expect(typeOf('NOT MISSING')).to.equal('missing');
      expect(typeOf('NOT NULL')).to.equal('null');
      expect(one('NOT 0')).to.equal(true);
      expect(one('NOT "x"')).to.equal(false);
    });

    it('IS NULL / MISSING / VALUED distinguish the two unknowns', () => {
      expect(one('[NULL IS NULL, NULL IS MISSING, NULL IS VALUED, 1 IS VALUED, MISSING IS MISSING, NULL IS NOT MISSING]')).to.deep.equal([true, false, false, true, true, true]);
      expect(typeOf('MISSING IS NULL')).to.equal('missing');
      expect(one('MISSING IS NOT VALUED')).to.equal(true);
    });

    it('comparison across types follows collation', () => {
      expect(one('[1 < "a", "a" < [], [] < {}, FALSE < TRUE, TRUE < 0, [1, 2] < [1, 3], [1] < [1, 0]]')).to.deep.equal([true, true, true, true, true, true, true]);
      expect(one('[1 = 1.0, "1" = 1, [1, {"a": 2}] = [1, {"a": 2}], {"a": 1, "b": 2} = {"b": 2, "a": 1}]')).to.deep.equal([true, false, true, true]);
      expect(one('{"b": 1} < {"a": 1, "b": 1}')).to.equal(true);
    });
  });

  describe('operators', () => {
    it('LIKE with % and _ and escapes', () => {
      expect(one('["Paris Intl" LIKE "Paris%", "Nice" LIKE "N_ce", "Nice" LIKE "n%", "50%" LIKE "50\\\\%", "505" LIKE "50\\\\%", "a" NOT LIKE "b%"]')).to.deep.equal([true, true, false, true, false, true]);
      expect(one('1 LIKE "1"')).to.equal(null);
    });

    it('BETWEEN and NOT BETWEEN are inclusive ranges', () => {
      expect(one('[5 BETWEEN 1 AND 5, 0 BETWEEN 1 AND 5, 3 NOT BETWEEN 1 AND 5, "b" BETWEEN "a" AND "c"]')).to.deep.equal([true, false, false, true]);
    });

    it('IN and NOT IN search arrays; NULL elements make a miss NULL', () => {
      expect(one('[2 IN [1, 2], 3 IN [1, 2], 3 NOT IN [1, 2], [1] IN [[1], 2]]')).to.deep.equal([true, false, true, true]);
      expect(one('3 IN [1, NULL]')).to.equal(null);
      expect(one('1 IN "x"')).to.equal(null);
      expect(one('3 WITHIN {"a": [1, {"b": 3}]}')).to.equal(true);
    });

    it('CASE in both forms, with NULL when nothing matches and no ELSE', () => {
      expect(one('CASE 2 WHEN 1 THEN "one" WHEN 2 THEN "two" ELSE "many" END')).to.equal('two');
      expect(one('CASE WHEN 1 > 2 THEN "x" END')).to.equal(null);
      expect(one('CASE WHEN NULL THEN "x" ELSE "y" END')).to.equal('y');
    });

    it('field access, array index (negative from the end), slices and [*]', () => {
      const o = '{"a": {"b": [10, 20, 30]}, "c": [{"x": 1}, {"x": 2}]}';
      expect(one(`${o}.a.b[1]`)).to.equal(20);
      expect(one(`${o}.a.b[-1]`)).to.equal(30);
      expect(typeOf(`${o}.a.b[5]`)).to.equal('missing');
      expect(one(`${o}.a.b[1:]`)).to.deep.equal([20, 30]);
      expect(one(`${o}.a.b[0:2]`)).to.deep.equal([10, 20]);
      expect(one(`${o}.c[*].x`)).to.deep.equal([1, 2]);
      expect(one(`${o}.a["b"][0]`)).to.equal(10);
      expect(typeOf(`${o}.a.b.c`)).to.equal('missing');
      expect(typeOf('"str".x')).to.equal('missing');
    });

    it('ANY / SOME / EVERY ... SATISFIES', () => {
      expect(one('[ANY x IN [1, 2, 3] SATISFIES x > 2 END, SOME x IN [1] SATISFIES x > 2 END, EVERY x IN [1, 2] SATISFIES x > 0 END, EVERY x IN [] SATISFIES x > 0 END, ANY AND EVERY x IN [] SATISFIES x > 0 END]')).to.deep.equal([true, false, true, true, false]);
      expect(typeOf('ANY x IN MISSING SATISFIES x END')).to.equal('missing');
      expect(one('ANY x IN "s" SATISFIES x END')).to.equal(null);
    });

    it('ARRAY / FIRST / OBJECT ... FOR ... END', () => {
      expect(one('ARRAY v * 10 FOR v IN [1, 2, 3] WHEN v != 2 END')).to.deep.equal([10, 30]);
      expect(one('ARRAY [i, v] FOR i:v IN ["a", "b"] END')).to.deep.equal([[0, 'a'], [1, 'b']]);
      expect(one('ARRAY a + b FOR a IN [1, 2], b IN [10, 20] END')).to.deep.equal([11, 22]);
      expect(one('FIRST v FOR v IN [1, 5, 7] WHEN v > 3 END')).to.equal(5);
      expect(typeOf('FIRST v FOR v IN [1] WHEN v > 3 END')).to.equal('missing');
      expect(one('OBJECT v.k : v.n FOR v IN [{"k": "a", "n": 1}, {"k": "b", "n": 2}] END')).to.deep.equal({ a: 1, b: 2 });
    });

    it('object and array constructors drop MISSING fields and turn MISSING elements into NULL', () => {
      expect(one('{"a": MISSING, "b": NULL, "c": 1}')).to.deep.equal({ b: null, c: 1 });
      expect(one('[MISSING, NULL]')).to.deep.equal([null, null]);
    });

    it('scalar subqueries evaluate to arrays', () => {
      expect(one('(SELECT RAW x FROM [3, 1, 2] AS x ORDER BY x)')).to.deep.equal([1, 2, 3]);
    });

    it('positional parameters may be written as ?', () => {
      expect(one('[?, ?]', { args: [1, 'b'] })).to.deep.equal([1, 'b']);
    });
  });
});
