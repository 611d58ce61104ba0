import { expect } from 'chai';
import { Engine } from './harness';
import type { Value } from '../../lib/server/n1ql/value';

// Expected values are the examples of Couchbase's N1QL function reference.
describe('n1ql functions', () => {
  const e = new Engine();
  const one = (expr: string): Value => e.rows(`SELECT RAW ${expr}`)[0];

  it('string functions', () => {
    expect(one('[LOWER("N1QL"), UPPER("n1ql"), LENGTH("N1QL"), CONCAT("a", "b", "c"), CONTAINS("N1QL is awesome", "N1QL")]')).to.deep.equal(['n1ql', 'N1QL', 4, 'abc', true]);
    expect(one('[INITCAP("n1ql is awesome"), TITLE("hello world"), REVERSE("abc"), REPEAT("ab", 3)]')).to.deep.equal(['N1ql Is Awesome', 'Hello World', 'cba', 'ababab']);
    expect(one('[POSITION("N1QL is awesome", "awesome"), POSITION1("N1QL is awesome", "awesome"), POSITION("abc", "z")]')).to.deep.equal([8, 9, -1]);
    expect(one('[SUBSTR("N1QL is awesome", 3), SUBSTR("N1QL is awesome", 3, 1), SUBSTR("N1QL is awesome", 15), SUBSTR1("N1QL", 1, 2), SUBSTR("abc", -1)]')).to.deep.equal(['L is awesome', 'L', '', 'N1', 'c']);
    expect(one('[TRIM("  a  "), LTRIM("xxa", "x"), RTRIM("a..", "."), REPLACE("SQL is SQL", "SQL", "N1QL"), REPLACE("aaa", "a", "b", 2)]')).to.deep.equal(['a', 'a', 'a', 'N1QL is N1QL', 'bba']);
    expect(one('[SPLIT("a,b,c", ","), SPLIT("N1QL is  cool"), SUFFIXES("abc")]')).to.deep.equal([['a', 'b', 'c'], ['N1QL', 'is', 'cool'], ['abc', 'bc', 'c']]);
    expect(one('[REGEXP_CONTAINS("N1QL", "1Q"), REGEXP_LIKE("N1QL", "N.QL"), REGEXP_LIKE("N1QLX", "N.QL"), REGEXP_REPLACE("a1b22", "[0-9]+", "#"), REGEXP_POSITION("abc1", "[0-9]")]')).to.deep.equal([true, true, false, 'a#b#', 3]);
    expect(one('[LOWER(1), TYPE(LOWER(MISSING)), LOWER(NULL)]')).to.deep.equal([null, 'missing', null]);
  });

  it('number functions', () => {
    expect(one('[ABS(-5), CEIL(1.2), FLOOR(-1.2), ROUND(2.5), ROUND(-2.5), ROUND(3.14159, 2), TRUNC(3.789, 1), SIGN(-3), SQRT(16), POWER(2, 10)]')).to.deep.equal([5, 2, -2, 2, -2, 3.14, 3.7, -1, 4, 1024]);
    expect(one('[IDIV(7, 2), IMOD(7, 2), DEGREES(PI()), RADIANS(180) = PI(), LOG(1000), LN(E()), EXP(0)]')).to.deep.equal([3, 1, 180, true, 3, 1, 1]);
    expect(one('ABS("x")')).to.equal(null);
  });

  it('array functions', () => {
    expect(one('[ARRAY_APPEND([1], 2, 3), ARRAY_PREPEND(0, [1]), ARRAY_CONCAT([1], [2, 3]), ARRAY_CONTAINS([1, 2], 2), ARRAY_LENGTH([1, 2, 3])]')).to.deep.equal([[1, 2, 3], [0, 1], [1, 2, 3], true, 3]);
    expect(one('[ARRAY_AVG([1, 2, "x", 3]), ARRAY_SUM([1, 2, 3]), ARRAY_COUNT([1, NULL, 2]), ARRAY_MAX([1, "a", 3]), ARRAY_MIN([3, NULL, 1])]')).to.deep.equal([2, 6, 2, 'a', 1]);
    expect(one('[ARRAY_DISTINCT([1, 1, "a", "a"]), ARRAY_FLATTEN([1, [2, [3]]], 1), ARRAY_INSERT([1, 3], 1, 2), ARRAY_POSITION([1, 2], 2), ARRAY_PUT([1, 2], 2, 3)]')).to.deep.equal([[1, 'a'], [1, 2, [3]], [1, 2, 3], 1, [1, 2, 3]]);
    expect(one('[ARRAY_RANGE(0, 5), ARRAY_RANGE(0, 10, 3), ARRAY_REMOVE([1, 2, 1, 3], 1), ARRAY_REPEAT("a", 2), ARRAY_REPLACE([1, 2, 1], 1, 9), ARRAY_REVERSE([1, 2]), ARRAY_SORT([3, "a", 1, NULL])]')).to.deep.equal([[0, 1, 2, 3, 4], [0, 3, 6, 9], [2, 3], ['a', 'a'], [9, 2, 9], [2, 1], [null, 1, 3, 'a']]);
    expect(one('[ARRAY_INTERSECT([1, 2, 3], [2, 3, 4]), ARRAY_UNION([1, 2], [2, 3]), ARRAY_IFNULL([NULL, 2]), ARRAY_EXCEPT([1, 2, 3], [2])]')).to.deep.equal([[2, 3], [1, 2, 3], 2, [1, 3]]);
  });

  it('object functions', () => {
    const o = '{"b": 2, "a": 1, "c": {"x": 1}}';
    expect(one(`[OBJECT_LENGTH(${o}), OBJECT_NAMES(${o}), OBJECT_VALUES({"b": 2, "a": 1})]`)).to.deep.equal([3, ['a', 'b', 'c'], [1, 2]]);
    expect(one(`OBJECT_PAIRS({"b": 2, "a": 1})`)).to.deep.equal([{ name: 'a', val: 1 }, { name: 'b', val: 2 }]);
    expect(one(`[OBJECT_PUT({"a": 1}, "b", 2), OBJECT_ADD({"a": 1}, "a", 5), OBJECT_REMOVE({"a": 1, "b": 2}, "a"), OBJECT_RENAME({"a": 1}, "a", "z"), OBJECT_UNWRAP({"only": 7}), OBJECT_CONCAT({"a": 1}, {"b": 2})]`)).to.deep.equal([{ a: 1, b: 2 }, { a: 1 }, { b: 2 }, { z: 1 }, 7, { a: 1, b: 2 }]);
  });

  it('type functions', () => {
    expect(one('[TYPE(1), TYPE("s"), TYPE([]), TYPE({}), TYPE(NULL), TYPE(TRUE), TYPE(MISSING)]')).to.deep.equal(['number', 'string', 'array', 'object', 'null', 'boolean', 'missing']);
    expect(one('[ISARRAY([]), ISNUMBER("1"), ISSTRING("1"), ISOBJECT({}), ISBOOLEAN(FALSE), ISATOM([])]')).to.deep.equal([true, false, true, true, true, false]);
    expect(one('[TONUMBER("12.5"), TONUMBER("abc"), TONUMBER(TRUE), TOSTRING(12), TOSTRING(TRUE), TOBOOLEAN(0), TOBOOLEAN("x"), TOARRAY(1), TOOBJECT(1)]')).to.deep.equal([12.5, null, 1, '12', 'true', false, true, [1], {}]);
  });

  it('conditional functions for unknowns', () => {
    expect(one('[IFMISSING(MISSING, NULL, 2), IFNULL(NULL, 3), IFMISSINGORNULL(MISSING, NULL, 4), NULLIF(1, 1), NULLIF(1, 2), GREATEST(1, "a", NULL), LEAST(3, 2)]')).to.deep.equal([null, 3, 4, null, 1, 'a', 2]);
    expect(one('TYPE(MISSINGIF(1, 1))')).to.equal('missing');
    expect(one('DECODE(2, 1, "one", 2, "two", "other")')).to.equal('two');
  });

  it('date functions (UTC)', () => {
    expect(one('[MILLIS_TO_STR(0), MILLIS_TO_STR(1500000000123), STR_TO_MILLIS("2017-07-14T02:40:00Z"), STR_TO_MILLIS("2017-07-14")]')).to.deep.equal(['1970-01-01T00:00:00Z', '2017-07-14T02:40:00.123Z', 1500000000000, 1499990400000]);
    expect(one('[MILLIS_TO_STR(1500000000000, "1111-11-11"), DATE_ADD_STR("2017-01-31", 1, "day"), DATE_DIFF_STR("2017-03-01", "2017-01-15", "month"), DATE_PART_STR("2017-07-14T02:40:00Z", "hour")]')).to.deep.equal(['2017-07-14', '2017-02-01', 2, 2]);
    expect(one('[DATE_TRUNC_STR("2017-07-14T02:40:10Z", "day"), WEEKDAY_STR("2017-07-14"), DATE_ADD_MILLIS(0, 2, "hour"), DATE_DIFF_MILLIS(86400000, 0, "day")]')).to.deep.equal(['2017-07-14T00:00:00Z', 'Friday', 7200000, 1]);
    expect(one('[NOW_MILLIS() = NOW_MILLIS(), TYPE(NOW_STR())]')).to.deep.equal([true, 'string']);
  });

  it('JSON helpers', () => {
    expect(one('[ENCODE_JSON({"a": [1]}), DECODE_JSON("{\\"a\\":1}"), ENCODED_SIZE("ab"), POLY_LENGTH([1, 2])]')).to.deep.equal(['{"a":[1]}', { a: 1 }, 4, 2]);
  });

  it('rejects unknown functions and wrong argument counts with code 3100-range semantic errors', () => {
    expect(e.run('SELECT NOSUCHFN(1)').errors[0].code).to.equal(3100);
    expect(e.run('SELECT LOWER()').errors[0].code).to.equal(3100);
  });
});
