// Functions as Couchbase Server 7.6 documents them. Unless a comment says otherwise, each
// expected value is the documented example of the function's page in the 7.6 SQL++ reference
// (stringfun, numericfun, objectfun, metafun, aggregatefun, datefun, bitwisefun, ...).
import { expect } from 'chai';
import { Engine } from './harness';
import { functionNames, lookupFunction } from '../../lib/server/n1ql/functions/index';
import { AGGREGATES } from '../../lib/server/n1ql/expr';
import { WINDOW_ONLY } from '../../lib/server/n1ql/window';
import type { Value } from '../../lib/server/n1ql/value';

const e = new Engine();
const one = (expr: string): Value => {
  const o = e.run(`SELECT RAW ${expr}`);
  if (o.errors.length) throw new Error(`${expr}: ${JSON.stringify(o.errors)}`);
  return o.rows[0];
};
const row = (q: string): Value => {
  const o = e.run(q);
  if (o.errors.length) throw new Error(`${q}: ${JSON.stringify(o.errors)}`);
  return o.rows[0];
};

describe('n1ql 7.6 functions: strings', () => {
  it('LENGTH, POSITION, SUBSTR, LPAD and RPAD count bytes; the MB_ forms count characters', () => {
    expect(row('SELECT LENGTH("SQL++ is awesome") AS ascii, LENGTH("Café") AS diacritic, LENGTH("🙂") AS emoji, LENGTH("") AS zero')).to.deep.equal({ ascii: 16, diacritic: 5, emoji: 4, zero: 0 });
    expect(row('SELECT MB_LENGTH("SQL++ is awesome") AS ascii, MB_LENGTH("Café") AS diacritic, MB_LENGTH("🙂") AS emoji, MB_LENGTH("") AS zero')).to.deep.equal({ ascii: 16, diacritic: 4, emoji: 1, zero: 0 });
    expect(row('SELECT POSITION("🙂 SQL++ is awesome", "awesome") as awesome, POSITION("🙂 SQL++ is awesome", "N1QL") as n1ql, POSITION("🙂 SQL++ is awesome", "SQL") as sql')).to.deep.equal({ awesome: 14, n1ql: -1, sql: 5 });
    expect(row('SELECT POSITION1("🙂 SQL++ is awesome", "awesome") as awesome, POSITION1("🙂 SQL++ is awesome", "N1QL") as n1ql, POSITION1("🙂 SQL++ is awesome", "SQL") as sql')).to.deep.equal({ awesome: 15, n1ql: 0, sql: 6 });
    expect(row('SELECT MB_POSITION("🙂 SQL++ is awesome", "awesome") as awesome, MB_POSITION("🙂 SQL++ is awesome", "N1QL") as n1ql, MB_POSITION("🙂 SQL++ is awesome", "SQL") as sql')).to.deep.equal({ awesome: 11, n1ql: -1, sql: 2 });
    expect(row('SELECT MB_POSITION1("🙂 SQL++ is awesome", "awesome") as awesome, MB_POSITION1("🙂 SQL++ is awesome", "N1QL") as n1ql, MB_POSITION1("🙂 SQL++ is awesome", "SQL") as sql')).to.deep.equal({ awesome: 12, n1ql: 0, sql: 3 });
    expect(row('SELECT SUBSTR("🙂 SQL++ is awesome", 11) as rest_of_string, SUBSTR("🙂 SQL++ is awesome", 11, 1) as single_letter, SUBSTR("🙂 SQL++ is awesome", 0, 10) as ten_from_start')).to.deep.equal({ rest_of_string: 'is awesome', single_letter: 'i', ten_from_start: '🙂 SQL++' });
    expect(row('SELECT SUBSTR1("🙂 SQL++ is awesome", 12) as rest_of_string, SUBSTR1("🙂 SQL++ is awesome", 12, 1) as single_letter, SUBSTR1("🙂 SQL++ is awesome", 0, 10) as ten_from_start')).to.deep.equal({ rest_of_string: 'is awesome', single_letter: 'i', ten_from_start: '🙂 SQL++' });
    expect(row('SELECT MB_SUBSTR("🙂 SQL++ is awesome", 11) as rest_of_string, MB_SUBSTR("🙂 SQL++ is awesome", 11, 1) as single_letter, MB_SUBSTR("🙂 SQL++ is awesome", 0, 10) as ten_from_start')).to.deep.equal({ rest_of_string: 'awesome', single_letter: 'a', ten_from_start: '🙂 SQL++ is' });
    expect(row('SELECT MB_SUBSTR1("🙂 SQL++ is awesome", 12) as rest_of_string, MB_SUBSTR1("🙂 SQL++ is awesome", 12, 1) as single_letter, MB_SUBSTR1("🙂 SQL++ is awesome", 0, 10) as ten_from_start')).to.deep.equal({ rest_of_string: 'awesome', single_letter: 'a', ten_from_start: '🙂 SQL++ is' });
    expect(row('SELECT LPAD("SQL++ is awesome", 20) AS implicit_padding, LPAD("SQL++ is awesome", 20, "🙂!") AS repeated_padding, LPAD("SQL++ is awesome", 20, "987654321") AS truncate_padding, LPAD("SQL++ is awesome", 5, "987654321") AS truncate_string')).to.deep.equal({ implicit_padding: '    SQL++ is awesome', repeated_padding: '🙂SQL++ is awesome', truncate_padding: '9876SQL++ is awesome', truncate_string: 'SQL++' });
    expect(row('SELECT MB_RPAD("SQL++ is awesome", 20) AS implicit_padding, MB_RPAD("SQL++ is awesome", 20, "🙂!") AS repeated_padding, MB_RPAD("SQL++ is awesome", 20, "123456789") AS truncate_padding, MB_RPAD("SQL++ is awesome", 5, "123456789") AS truncate_string')).to.deep.equal({ implicit_padding: 'SQL++ is awesome    ', repeated_padding: 'SQL++ is awesome🙂!🙂!', truncate_padding: 'SQL++ is awesome1234', truncate_string: 'SQL++' });
  });

  it('CONCAT2, INITCAP, REPLACE, SPLIT and the rest', () => {
    expect(row("SELECT CONCAT2('-','a','b',['c','d'],['xyz']) AS c1, CONCAT2('-','a') AS c2, CONCAT2('-',['b']) AS c3")).to.deep.equal({ c1: 'a-b-c-d-xyz', c2: 'a', c3: 'b' });
    expect(one('INITCAP("SQL++ is awesome")')).to.equal('Sql++ Is Awesome');
    expect(row('SELECT REPLACE("SQL SQL SQL", "L", "L++", -2) as negative_n, REPLACE("SQL SQL SQL", "L", "L++", 2) as replace_2, REPLACE("SQL SQL SQL", "L", "L++") as replace_all')).to.deep.equal({ negative_n: 'SQL++ SQL++ SQL++', replace_2: 'SQL++ SQL++ SQL', replace_all: 'SQL++ SQL++ SQL++' });
    expect(row('SELECT SPLIT("SQL++ is awesome", " ") as explicit_spaces, SPLIT("SQL++ is awesome") as implicit_spaces, SPLIT("SQL++ is awesome", "is") as split_is')).to.deep.equal({ explicit_spaces: ['SQL++', 'is', 'awesome'], implicit_spaces: ['SQL++', 'is', 'awesome'], split_is: ['SQL++ ', ' awesome'] });
    expect(row('SELECT LTRIM("...SQL++ is awesome", ".") as dots, LTRIM("\\t   SQL++ is awesome") as implicit_spaces')).to.deep.equal({ dots: 'SQL++ is awesome', implicit_spaces: 'SQL++ is awesome' });
    expect(row('SELECT REPEAT("SQL++", 0) as empty_string, REPEAT("SQL++", 3) as repeat_3')).to.deep.equal({ empty_string: '', repeat_3: 'SQL++SQL++SQL++' });
    expect(one('SUFFIXES("abc")')).to.deep.equal(['abc', 'bc', 'c']);
    // The NOTE of the String Functions page: MISSING gives MISSING, NULL or a wrong type NULL.
    expect(one('[TYPE(LOWER(MISSING)), LOWER(NULL), LOWER(1), MB_LENGTH(1)]')).to.deep.equal(['missing', null, null, null]);
  });

  it('MASK', () => {
    expect(row("SELECT MASK('SomeTextToMask') AS mask, MASK('SomeTextToMask', {\"mask\": \"++++\"}) AS mask_custom, MASK('SomeTextToMask', {\"mask\": \"++++    ++++\"}) AS mask_hole")).to.deep.equal({ mask: '********', mask_custom: '++++', mask_hole: '++++Text++++' });
    expect(one('MASK(\'1234abcd5678efgh\', {"mask": "****-****-****-####", "hole": "#", "inject": "-"})')).to.equal('****-****-****-efgh');
    expect(one('MASK(\'1234abcd5678efgh\', {"mask": "****", "anchor": "end", "length": "source"})')).to.equal('1234abcd5678****');
    expect(one('MASK(\'1234abcd5678efgh\', {"mask": "****", "anchor": "d5"})')).to.equal('1234abc****');
    expect(one('MASK(\'1234abcd5678efgh\', {"mask": "****", "anchor": -2, "length": "source"})')).to.equal('1234abcd56****gh');
    expect(one('MASK(\'1234abcd5678efgh\', {"mask": "****", "anchor": 14, "length": "source"})')).to.equal('1234abcd5678ef**');
  });

  it('TOKENS and CONTAINS_TOKEN*', () => {
    const input = "['jim@example.com, kim@example.com, http://example.com/, 408-555-1212']";
    expect(one(`ARRAY_SORT(TOKENS(${input}, {'specials': false}))`)).to.deep.equal(['1212', '408', '555', 'com', 'example', 'http', 'jim', 'kim']);
    expect(one(`ARRAY_SORT(TOKENS(${input}, {'specials': true}))`)).to.deep.equal(['1212', '408', '408-555-1212', '555', 'com', 'example', 'http', 'http://example.com', 'jim', 'jim@example.com', 'kim', 'kim@example.com']);
    expect(one('ARRAY_SORT(TOKENS("http://www.yha.org.uk", {"specials": true, "case": "UPPER"}))')).to.deep.equal(['HTTP', 'HTTP://WWW.YHA.ORG.UK', 'ORG', 'UK', 'WWW', 'YHA']);
    // The TOKENS rules table: MISSING -> [], NULL -> [NULL], numbers and booleans as themselves.
    expect(one('[TOKENS(MISSING) IS MISSING, TOKENS(NULL), TOKENS(true), TOKENS(3)]')).to.deep.equal([true, [null], [true], [3]]);
    expect(one('[CONTAINS_TOKEN({"a": "Hello World"}, "World"), CONTAINS_TOKEN_LIKE("Hello World", "W%"), CONTAINS_TOKEN_REGEXP("Hello World", "W.*d"), HAS_TOKEN("x y", "z")]')).to.deep.equal([true, true, true, false]);
  });
});

describe('n1ql 7.6 functions: numbers, NaN and infinities, bitwise', () => {
  it('the Number Functions examples', () => {
    expect(row('SELECT ROUND(12.3456) AS r1, ROUND(12.3456, 2) AS r2, ROUND(12.3456, -1) AS r3, ROUND(NULL, 2) AS r4')).to.deep.equal({ r1: 12, r2: 12.35, r3: 10, r4: null });
    expect(row('SELECT TRUNC(12.3456) AS t1, TRUNC(12.3456, 2) AS t2, TRUNC(12.3456, -1) AS t3, TRUNC(NULL, 2) AS t4')).to.deep.equal({ t1: 12, t2: 12.34, t3: 10, t4: null });
    expect(row('SELECT SQRT(16) AS s1, SQRT(2) AS s2, SQRT(-4) AS s3, SQRT(NULL) AS s4')).to.deep.equal({ s1: 4, s2: 1.4142135623730951, s3: 'NaN', s4: null });
    expect(row('SELECT RADIANS(90) AS a, RADIANS(180) AS b, RADIANS(45) AS c')).to.deep.equal({ a: 1.5707963267948966, b: 3.141592653589793, c: 0.7853981633974483 });
    expect(row('SELECT SIGN(10) AS a, SIGN(0) AS b, SIGN(-5) AS c')).to.deep.equal({ a: 1, b: 0, c: -1 });
    expect(one('[RANDOM(42) = RANDOM(42), RANDOM(42) != RANDOM(100)]')).to.deep.equal([true, true]);
  });

  it('ROUND rounds half to even, ROUND_NEAREST half away from zero (issue 22)', () => {
    expect(one('[ROUND(2.5), ROUND(3.5), ROUND(-2.5), ROUND_EVEN(0.125, 2), ROUND_NEAREST(2.5), ROUND_NEAREST(-2.5), ROUND_NEAREST(0.125, 2)]')).to.deep.equal([2, 4, -2, 0.12, 3, -3, 0.13]);
  });

  it('NaN and infinities are numbers, written as strings, NaN collating before every number', () => {
    expect(one('[NAN(), POSINF(), NEGINF(), ISNUMBER(NAN()), ISNAN(NAN()), ISINF(NEGINF()), ISNAN(1), TYPE(POSINF())]')).to.deep.equal(['NaN', '+Infinity', '-Infinity', true, true, true, false, 'number']);
    expect(one('[IFNAN(NAN(), 1, 2), IFINF(POSINF(), 3), IFNANORINF(NAN(), NEGINF(), 4), IFNAN(NAN(), "x")]')).to.deep.equal([1, 3, 4, null]);
    expect(one('[NANIF(1, 1), POSINFIF("a", "a"), NEGINFIF(2, 3)]')).to.deep.equal(['NaN', '+Infinity', 2]);
    expect(one('ARRAY_SORT([1, POSINF(), NAN(), NEGINF(), -5])')).to.deep.equal(['NaN', '-Infinity', -5, 1, '+Infinity']);
    expect(one('[NAN() < NEGINF(), NAN() = NAN(), POSINF() > 1e308]')).to.deep.equal([true, true, true]);
  });

  it('bitwise functions on 64-bit integers', () => {
    expect(one('[BITAND(3, 6), BITOR(3, 6), BITXOR(3, 6), BITNOT(0), BITAND(3, 6, 2), BITOR(1.5, 2)]')).to.deep.equal([2, 7, 5, -1, 2, null]);
    // A right shift is logical: -1 >> 60 keeps the top four bits only (couchbase/query's bitwise cases).
    expect(one('[BITSHIFT(6, 1), BITSHIFT(6, -1), BITSHIFT(-1, -60), BITSHIFT(1, -1, TRUE), BITSHIFT(1, 64, TRUE)]')).to.deep.equal([12, 3, 15, -9223372036854775808n, 1]);
    expect(one('[BITSET(6, 1), BITSET(0, [1, 3]), BITCLEAR(7, 2), BITCLEAR(15, [1, 4]), BITTEST(6, 2), ISBITSET(6, [1, 2]), BITTEST(6, [2, 3], TRUE), BITTEST(6, 0)]')).to.deep.equal([7, 5, 5, 6, true, true, true, null]);
  });

  it('division by zero is NULL with warning 5036 "Division by 0."', () => {
    const o = e.run('SELECT RAW [1 / 0, 1 % 0, 4 / 2, DIV(1, 0), IDIV(1, 0)]');
    expect(o.rows).to.deep.equal([[null, null, 2, null, null]]);
    expect(o.warnings).to.deep.equal([{ code: 5036, msg: 'Division by 0.' }]);
    expect(e.run('SELECT RAW 1 / 2').warnings).to.deep.equal([]);
  });
});

describe('n1ql 7.6 functions: arrays and objects', () => {
  it('array functions new in 7.x', () => {
    expect(one('[ARRAY_SWAP([1, 2, 3], 0, 2), ARRAY_MOVE([1, 2, 3, 4], 0, 2), ARRAY_MOVE([1, 2, 3], -1, 0), ARRAY_SWAP([1], 0, 5)]')).to.deep.equal([[3, 2, 1], [2, 3, 1, 4], [3, 1, 2], null]);
    expect(one('[ARRAY_CONTAINS_ANY([1, 2], [3, 2]), ARRAY_CONTAINS_ALL([1, 2], [1, 2]), ARRAY_CONTAINS_ALL([1, 2], [1, 3]), ARRAY_CONTAINS_ALL([1, 2], 2)]')).to.deep.equal([true, true, false, true]);
    expect(one('[ARRAY_SYMDIFF([1, 2], [2, 3], [3, 4]), ARRAY_SYMDIFFN([1, 2], [2, 3], [3, 4, 2])]')).to.deep.equal([[1, 4], [1, 2, 4]]);
    expect(one('[ARRAY_BINARY_SEARCH([1, 2, 2, 2, 5], 2), ARRAY_BINARY_SEARCH([1, 3], 2), ARRAY_APPEND([1], NULL), ARRAY_PUT([1], 1, 2)]')).to.deep.equal([1, -1, [1, null], [1, 2]]);
    expect(one('[TYPE(ARRAY_APPEND(MISSING, 1)), ARRAY_APPEND("x", 1), TYPE(ARRAY_APPEND([1], MISSING))]')).to.deep.equal(['missing', null, 'missing']);
  });

  it('OBJECT_PAIRS with types, inner pairs over collated [*] values', () => {
    const flights = '[{"flight": "AI444", "utc": "4:44:44", "codename": "green"}, {"flight": "AI333", "utc": "3:33:33", "alert": "red"}, {"flight": "AI222", "utc": "2:22:22", "codename": "yellow"}]';
    expect(one('OBJECT_PAIRS({"flight": "AI444", "utc": "4:44:44", "codename": "green"},{"types":TRUE})')).to.deep.equal([{ name: 'codename', type: 'string' }, { name: 'flight', type: 'string' }, { name: 'utc', type: 'string' }]);
    expect(one(`OBJECT_INNER_PAIRS((${flights})[*])`)).to.deep.equal([
      { name: 'alert', val: 'red' },
      { name: 'codename', val: ['green', 'yellow'] },
      { name: 'flight', val: ['AI444', 'AI333', 'AI222'] },
      { name: 'utc', val: ['4:44:44', '3:33:33', '2:22:22'] },
    ]);
    expect(one(`OBJECT_INNER_VALUES((${flights})[*])`)).to.deep.equal(['red', ['green', 'yellow'], ['AI444', 'AI333', 'AI222'], ['4:44:44', '3:33:33', '2:22:22']]);
    expect(one('OBJECT_LENGTH({"abc": 1, "def": 2, "ghi": {"uvw": 3, "xyz": 4}})')).to.equal(3);
  });

  it('OBJECT_PATHS and OBJECT_PAIRS_NESTED with their options', () => {
    const a = '{"attribute": {"first-part": 1, "second-part": 2}}';
    expect(one(`OBJECT_PATHS(${a}, {"composites": true})`)).to.deep.equal(['attribute', 'attribute.first-part', 'attribute.second-part']);
    expect(one(`OBJECT_PATHS(${a}, {"composites": false})`)).to.deep.equal(['attribute.first-part', 'attribute.second-part']);
    const b = '{"attribute": [ { "name": "elem1"}, {"name": "elem2"}]}';
    expect(one(`OBJECT_PATHS(${b}, {"arraysubscript": true})`)).to.deep.equal(['attribute', 'attribute[0].name', 'attribute[1].name']);
    expect(one(`OBJECT_PATHS(${b}, {"arraysubscript": false, "unique": false})`)).to.deep.equal(['attribute', 'attribute[*].name', 'attribute[*].name']);
    expect(one(`OBJECT_PATHS(${b}, {"arraysubscript": false, "unique": true})`)).to.deep.equal(['attribute', 'attribute[*].name']);
    const c = '{"attribute": {"name": "elem1"}}';
    expect(one(`[OBJECT_PATHS(${c}), OBJECT_PATHS(${c}, {"pattern": "^n", "patternspace": "field"}), OBJECT_PATHS(${c}, {"pattern": "^n", "patternspace": "path"}), OBJECT_PATHS(${c}, {"pattern": "name", "patternspace": "field", "exact": true})]`)).to.deep.equal([['attribute', 'attribute.name'], ['attribute.name'], [], ['attribute.name']]);
    expect(one('OBJECT_PATHS({"r": [{"Check in / front desk": 4}]}, {"composites": false, "arraysubscript": false})')).to.deep.equal(['r[*].`Check in / front desk`']);
    const d = '{"attribute": {"flight-name": "AI444", "flight-number": 737}}';
    expect(one(`OBJECT_PAIRS_NESTED(${d})`)).to.deep.equal([{ name: 'attribute.flight-name', val: 'AI444' }, { name: 'attribute.flight-number', val: 737 }]);
    expect(one(`OBJECT_PAIRS_NESTED(${d}, {"composites": true})`)).to.deep.equal([{ name: 'attribute', val: { 'flight-name': 'AI444', 'flight-number': 737 } }, { name: 'attribute.flight-name', val: 'AI444' }, { name: 'attribute.flight-number', val: 737 }]);
    expect(one(`OBJECT_PAIRS_NESTED(${d}, {"pattern": "name"})`)).to.deep.equal([{ name: 'attribute.flight-name', val: 'AI444' }]);
    expect(one(`OBJECT_PAIRS_NESTED(${d}, {"types": true})`)).to.deep.equal([{ name: 'attribute.flight-name', type: 'string' }, { name: 'attribute.flight-number', type: 'number' }]);
    expect(one(`OBJECT_PAIRS_NESTED(${d}, {"pattern": "number", "patternspace":"field"})`)).to.deep.equal([{ name: 'attribute.flight-number', val: 737 }]);
    expect(one(`OBJECT_PAIRS_NESTED(${d}, {"pattern": "-name$", "patternspace":"field", "regex":true})`)).to.deep.equal([{ name: 'attribute.flight-name', val: 'AI444' }]);
    expect(one('OBJECT_PAIRS_NESTED({"a": [1, 2]}, {"composites": true})')).to.deep.equal([{ name: 'a', val: [1, 2] }, { name: 'a[0]', val: 1 }, { name: 'a[1]', val: 2 }]);
    expect(one('[OBJECT_PATHS(1), TYPE(OBJECT_PATHS(MISSING)), OBJECT_PATHS({}, 1)]')).to.deep.equal([null, 'missing', null]);
  });

  it('OBJECT_PUT with MISSING removes; PAIRS', () => {
    expect(one('[OBJECT_PUT({"a": 1, "b": 2}, "a", MISSING), OBJECT_PUT({"day": 0}, "day", 1)]')).to.deep.equal([{ b: 2 }, { day: 1 }]);
    expect(row('SELECT PAIRS("N1QL") AS constant_string, PAIRS(4) AS constant_int, PAIRS([1,2,3]) AS constant_int_array, PAIRS({"name" : 3}) AS object_constant_int, PAIRS({"name" : [1,2,3]}) AS object_constant_int_array')).to.deep.equal({
      constant_int: null,
      constant_int_array: [],
      constant_string: null,
      object_constant_int: [['name', 3]],
      object_constant_int_array: [['name', [1, 2, 3]], ['name', 1], ['name', 2], ['name', 3]],
    });
  });
});

describe('n1ql 7.6 functions: conditionals, operators as functions, utilities', () => {
  it('NVL, NVL2, DECODE with MISSING, the underscore aliases', () => {
    expect(one('[NVL(NULL, 1), NVL(MISSING, 2), NVL(3, 4), NVL2(NULL, "a", "b"), NVL2(0, "a", "b")]')).to.deep.equal([1, 2, 3, 'b', 'a']);
    expect(one('[DECODE(MISSING, MISSING, "m", NULL, "n", "d"), DECODE(NULL, MISSING, "m", NULL, "n"), DECODE(2, 1, "one"), DECODE(2, 1, "one", 2, "two")]')).to.deep.equal(['m', 'n', null, 'two']);
    expect(one('[IF_MISSING(MISSING, 1), IF_NULL(NULL, 2), IF_MISSING_OR_NULL(NULL, 3), TYPE(MISSING_IF(1, 1)), NULL_IF(1, 1)]')).to.deep.equal([1, 2, 3, 'missing', null]);
  });

  it('operators as functions and escaped identifiers as function names', () => {
    expect(one('[ADD(1, 2, 3), SUB(5, 2), MULT(2, 3), DIV(7, 2), MOD(7, 2), NEG(3), EQ(1, 1), LT(1, 2), LE(2, 2), `BETWEEN`(2, 1, 3)]')).to.deep.equal([6, 3, 6, 3.5, 1, -3, true, true, true, true]);
    expect(one('[IS_MISSING(MISSING), IS_NULL(NULL), IS_VALUED(1), IS_NOT_VALUED(NULL), ISKNOWN(MISSING), `LIKE`("abc", "a%"), `IN`(2, [1, 2]), `WITHIN`(3, [1, [3]]), `AND`(TRUE, NULL), `OR`(FALSE, TRUE), `NOT`(FALSE)]')).to.deep.equal([true, true, true, true, false, true, true, true, null, true, true]);
    expect(one('[`LOWER`("ABC"), `array_length`([1, 2])]')).to.deep.equal(['abc', 2]);
  });

  it('the Miscellaneous Utility Functions examples', () => {
    expect(row('SELECT LEN([1, 2, 3, 4]) AS `array`, LEN(false) AS `boolean`, LEN(missing) AS `missing`, LEN(null) AS `null`, LEN(1234) AS `number`, LEN( {"a": 1, "b": 2, "c": [1, 2, 3]} ) AS `object`, LEN("Couchbase") AS `string`')).to.deep.equal({ array: 4, boolean: 1, null: null, number: 4, object: 3, string: 9 });
    expect(one("HASHBYTES('Hello World', {\"algorithm\":\"sha256\"})")).to.equal('a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e');
    expect(one('HASHBYTES("hello world", {"algorithm":"crc32", "polynomial":"koopman"})')).to.equal('df373d3c');
    expect(row('SELECT VERSION() as language_version')).to.deep.equal({ language_version: '7.6.0-N1QL' });
    expect(one('[TYPE(DS_VERSION()), DS_VERSION() LIKE "7.6.%", NODE_NAME(), NODE_UUID("") = NODE_UUID(NODE_NAME()), CURRENT_USERS()]')).to.deep.equal(['string', true, '127.0.0.1:8091', true, ['admin']]);
    expect(e.rows('SELECT UNNEST_POS(u) AS upos, u FROM [{"a1":[10,9,4]}] AS d UNNEST d.a1 AS u')).to.deep.equal([{ u: 10, upos: 0 }, { u: 9, upos: 1 }, { u: 4, upos: 2 }]);
    expect(e.run('SELECT ABORT("Something went wrong")').errors).to.deep.equal([{ code: 5011, msg: 'Abort: "Something went wrong". - cause: "Something went wrong"' }]);
  });

  it('LIKE_PREFIX / REGEXP_PREFIX and their _STOP / _SUFFIX', () => {
    expect(one('[LIKE_PREFIX("abc%d"), LIKE_STOP("abc%"), LIKE_SUFFIX("abc%d"), REGEXP_PREFIX("abc.*"), REGEXP_PREFIX("^ab+c"), REGEXP_STOP("abc.*")]')).to.deep.equal(['abc', 'abd', 'abc%d', 'abc', 'a', 'abd']);
  });
});

describe('n1ql 7.6 aggregates', () => {
  it('the Aggregate Functions examples', () => {
    expect(row('SELECT COUNT(input) AS count_all FROM [1, 1, 2, 2, 3, MISSING, NULL, "abc"] AS input')).to.deep.equal({ count_all: 6 });
    expect(row('SELECT COUNTN(DISTINCT input) AS count_distinct FROM [ 1, 1, 2, 2, 3, "abc", MISSING, NULL] AS input')).to.deep.equal({ count_distinct: 3 });
    expect(row('SELECT MEDIAN(DISTINCT input) AS median_value FROM [1, 2, 3, 3, 4, 4, MISSING, NULL, "abc"] AS input')).to.deep.equal({ median_value: 2.5 });
    expect(row('SELECT STDDEV(input) AS a, STDDEV_POP(input) AS b, VARIANCE(input) AS c, VARIANCE_POP(input) AS d FROM [1, 2, 3, 4, 4, MISSING, NULL, "abc"] AS input')).to.deep.equal({ a: 1.3038404810405297, b: 1.16619037896906, c: 1.7, d: 1.3599999999999999 });
    expect(row('SELECT STDDEV(input) AS a, STDDEV_SAMP(input) AS b, VARIANCE(input) AS c, VARIANCE_POP(input) AS d FROM [3, NULL, "abc"] AS input')).to.deep.equal({ a: 0, b: null, c: 0, d: 0 });
    expect(row('SELECT MAX(input) AS mx, MIN(input) AS mn FROM [1, 2, 3, "airline", "2025-12-01T00:00:00Z", NULL] AS input')).to.deep.equal({ mx: 'airline', mn: 1 });
  });

  it('FILTER (WHERE ...) on any aggregate; ARRAY_AGG in collation order', () => {
    expect(row('SELECT COUNT(*) FILTER (WHERE x > 1) AS c, SUM(x) FILTER (WHERE x != 2) AS s, ARRAY_AGG(x) FILTER (WHERE x < 3) AS a, AVG(x) AS v FROM [3, 1, 2] AS x')).to.deep.equal({ c: 2, s: 4, a: [1, 2], v: 2 });
    expect(one('(SELECT RAW ARRAY_AGG(x) FROM ["b", 2, "a", 1, NULL] AS x)[0]')).to.deep.equal([null, 1, 2, 'a', 'b']);
    expect(e.run('SELECT LOWER(x) FILTER (WHERE x > 1) FROM [1] AS x').errors[0].code).to.equal(3100);
  });
});

describe('n1ql 7.6 dates', () => {
  it('formats in the four documented styles', () => {
    const ms = 'STR_TO_MILLIS("2021-06-28T19:22:59.123+01:00")';
    expect(one(`MILLIS_TO_TZ(${ms}, "Europe/Paris", "2006-01-02 15:04:05.000 Z07:00 Mon Jan _2 3PM")`)).to.equal('2021-06-28 20:22:59.123 +02:00 Mon Jun 28 8PM');
    expect(one(`MILLIS_TO_UTC(${ms}, "%Y-%m-%dT%H:%M:%S.%N%:z %A %B %j %q %u %V %G %f")`)).to.equal('2021-06-28T18:22:59.123+00:00 Monday June 179 2 1 26 2021 th');
    expect(one(`MILLIS_TO_UTC(${ms}, "YYYY/MM/DD hh:mm:ss.s TZD")`)).to.equal('2021/06/28 18:22:59.123 Z');
    expect(one(`MILLIS_TO_UTC(${ms}, "1111-11-11")`)).to.equal('2021-06-28');
    expect(one('DATE_FORMAT_STR("2021-06-28T19:22:59+01:00", "%D %r")')).to.equal('2021-06-28 07:22:59 PM');
    expect(one('STR_TO_MILLIS("28/06/2021", "%d/%m/%Y")')).to.equal(Date.UTC(2021, 5, 28));
    expect(one('STR_TO_MILLIS("2021 06 28", "YYYY MM DD") = STR_TO_MILLIS("2021-06-28")')).to.equal(true);
  });

  it('named IANA zones, *_TZ and *_ZONE_NAME, case-sensitive', () => {
    expect(one('MILLIS_TO_ZONE_NAME(0, "America/New_York")')).to.equal('1969-12-31T19:00:00-05:00');
    expect(one('STR_TO_TZ("2021-07-01T12:00:00Z", "Asia/Kolkata")')).to.equal('2021-07-01T17:30:00+05:30');
    expect(one('STR_TO_ZONE_NAME("2021-01-01T12:00:00Z", "Europe/London")')).to.equal('2021-01-01T12:00:00Z');
    expect(one('[MILLIS_TO_TZ(0, "europe/london"), NOW_TZ("Nowhere/Else")]')).to.deep.equal([null, null]);
    expect(one('DATE_PART_MILLIS(0, "hour", "Asia/Kolkata")')).to.equal(5);
  });

  it('arithmetic keeps the input\'s offset and format; parts include iso_week, iso_dow, decade, millennium', () => {
    expect(one('DATE_ADD_STR("2021-01-31T10:00:00+05:00", 1, "day")')).to.equal('2021-02-01T10:00:00+05:00');
    expect(one('DATE_ADD_STR("2021-01-31", 1, "month")')).to.equal('2021-03-03');
    expect(one('DATE_ADD_MILLIS(0, 2, "hour")')).to.equal(7200000);
    expect(one('[DATE_PART_STR("2021-01-03", "iso_week"), DATE_PART_STR("2021-01-03", "iso_year"), DATE_PART_STR("2021-01-03", "iso_dow"), DATE_PART_STR("2006-01-02T15:04:05.999Z", "decade"), DATE_PART_STR("2006-01-02T15:04:05.999Z", "millennium"), DATE_PART_STR("2006-01-02T15:04:05.999Z", "century")]')).to.deep.equal([53, 2020, 7, 200, 3, 21]);
    expect(one('[DATE_PART_STR("2021-01-03T00:00:00+05:30", "timezone_hour"), DATE_PART_STR("2021-01-03T00:00:00+05:30", "timezone_minute"), DATE_PART_STR("2021-01-03T00:00:00+05:30", "timezone")]')).to.deep.equal([5, 30, 19800]);
    expect(one('[DATE_DIFF_STR("2021-01-01", "2021-03-01", "month"), DATE_DIFF_ABS_STR("2021-01-01", "2021-03-01", "month"), DATE_DIFF_ABS_MILLIS(0, 86400000 * 3, "day")]')).to.deep.equal([-2, 2, 3]);
    expect(one('DATE_TRUNC_STR("2021-06-28T19:22:59+01:00", "month")')).to.equal('2021-06-01T00:00:00+01:00');
    expect(one('[WEEKDAY_STR("2021-06-28"), WEEKDAY_MILLIS(0, "Asia/Tokyo")]')).to.deep.equal(['Monday', 'Thursday']);
  });

  it('DATE_RANGE_*, durations', () => {
    expect(one('DATE_RANGE_STR("2021-01-01", "2021-04-01", "month")')).to.deep.equal(['2021-01-01', '2021-02-01', '2021-03-01']);
    expect(one('DATE_RANGE_STR("2021-01-05T00:00:00Z", "2021-01-01T00:00:00Z", "day", -2)')).to.deep.equal(['2021-01-05T00:00:00Z', '2021-01-03T00:00:00Z']);
    expect(one('DATE_RANGE_MILLIS(0, 3000, "second")')).to.deep.equal([0, 1000, 2000]);
    expect(one('[DURATION_TO_STR(1500000000), DURATION_TO_STR(2000), DURATION_TO_STR(7200000000000), STR_TO_DURATION("1h30m"), STR_TO_DURATION("nope")]')).to.deep.equal(['1.5s', '2µs', '2h0m0s', 5400000000000, null]);
  });
});

// Every function of the 7.6 SQL++ reference, as named by the headings of its function pages
// (aggregatefun, arrayfun, bitwisefun, comparisonfun, condfununknown, condfunnum, datefun,
// jsonfun, metafun, numericfun, objectfun, patternmatchingfun, stringfun, tokenfun, typefun,
// windowfun, curl, advisor, searchfun). User-defined functions are the statements' own pages.
// Reproduce the check: `node scripts/run-tests.js --grep "function coverage"`.
const DOCUMENTED = `
curl advisor flatten_keys
cume_dist dense_rank first_value lag last_value lead nth_value ntile percent_rank rank ratio_to_report row_number
search search_meta search_score
array_agg avg count countn max mean median min stddev stddev_pop stddev_samp sum variance variance_pop variance_samp var_pop var_samp
array_append array_avg array_binary_search array_concat array_contains array_contains_all array_contains_any array_count array_distinct
array_except array_flatten array_ifnull array_insert array_intersect array_length array_max array_min array_move array_position array_pos
array_prepend array_put array_range array_remove array_repeat array_replace array_reverse array_sort array_star array_sum array_swap
array_symdiff array_symdiff1 array_symdiffn array_union
bitand bitclear bitnot bitor bitset bitshift bittest isbitset bitxor
greatest least
coalesce decode ifmissing ifmissingornull ifnull missingif nullif nvl nvl2
ifinf ifnan ifnanorinf nanif neginfif posinfif
clock_local clock_millis clock_str clock_tz clock_utc date_add_millis date_add_str date_diff_abs_millis date_diff_abs_str date_diff_millis
date_diff_str date_format_str date_part_millis date_part_str date_range_millis date_range_str date_trunc_millis date_trunc_str
duration_to_str millis millis_to_local millis_to_str millis_to_tz millis_to_utc millis_to_zone_name now_local now_millis now_str now_tz
now_utc str_to_duration str_to_millis str_to_tz str_to_utc str_to_zone_name weekday_millis weekday_str
decode_json encode_json encoded_size json_decode json_encode poly_length
abort base64 base64_decode base64_encode current_users ds_version finderr formalize formalise hashbytes len meta node_name node_uuid pairs
unnest_pos unnest_position uuid version
abs acos asin atan atan2 ceil cos degrees e exp floor ln log nan neginf pi posinf power radians random round round_even round_nearest sign
sin sqrt tan trunc isnan isinf
object_add object_concat object_field object_filter object_inner_pairs object_inner_values object_length object_names object_outer_pairs
object_outer_values object_pairs object_pairs_nested object_paths object_put object_remove object_rename object_replace object_unwrap
object_values
like_prefix like_stop like_suffix regexp_contains regexp_like regexp_matches regexp_position regexp_position1 regexp_replace regexp_split
regexp_prefix regexp_stop regexp_suffix regex_contains regex_like regex_position regex_position1 regex_replace
concat concat2 contains initcap length lower lpad ltrim mask mb_length mb_lpad mb_pos mb_pos1 mb_position mb_position1 mb_rpad mb_substr
mb_substr1 pos pos1 position position1 repeat replace reverse rpad rtrim split substr substr1 suffixes title trim upper
contains_token contains_token_like contains_token_regexp has_token tokens
isarray isatom isbinary isboolean isnumber isobject isstring type toarray toatom toboolean tonumber toobject tostring
`;

/** Documented functions this engine does not implement yet (see the closing report). */
const NOT_YET = new Set<string>([]);

describe('n1ql 7.6 function coverage', () => {
  it('implements every documented 7.6 function except the ones listed as not yet done', () => {
    // Compiled by the engine itself (ADVISOR: the statement, see advise76; the SEARCH family: its
    // arguments name a keyspace and a search operation, see search76).
    const specials = new Set(['meta', 'unnest_pos', 'unnest_position', 'advisor', 'search', 'search_meta', 'search_score']);
    const missing = DOCUMENTED.split(/\s+/)
      .filter(Boolean)
      .filter((n) => !lookupFunction(n) && !AGGREGATES.has(n) && !WINDOW_ONLY.has(n) && !specials.has(n) && !NOT_YET.has(n));
    expect(missing).to.deep.equal([]);
    expect([...NOT_YET].filter((n) => lookupFunction(n))).to.deep.equal([]); // keep the list honest
    expect(functionNames().length).to.be.above(350);
  });
});

describe('n1ql FINDERR and FORMALIZE (Miscellaneous Functions reference examples)', () => {
  it('FINDERR by code, by text and by regular expression', () => {
    expect(one('FINDERR(5011)')).to.deep.equal([
      {
        applies_to: 'Server',
        code: 5011,
        description: 'Abort: «reason»',
        reason: [['The SQL++ abort() function was called in the statement.', "e.g. SELECT abort('An example cause')"]],
        user_error: 'Yes',
      },
    ]);
    expect((one('FINDERR("A semantic error is present in the statement.")') as any[]).map((x) => x.code)).to.deep.equal([3100]);
    expect((one('FINDERR("semantic")') as any[]).map((x) => x.code)).to.deep.equal([3100, 3220, 3300]);
    expect((one('FINDERR("[IU][NP]SERT")') as any[]).map((x) => x.code)).to.include.members([3150, 5072, 15005]);
    expect(one('FINDERR(99999)')).to.deep.equal([]);
  });

  it('FORMALIZE spells out keyspaces and qualifies fields', () => {
    expect(one(`FORMALIZE("SELECT * FROM landmark WHERE country = 'United Kingdom'", "default:\`travel-sample\`.inventory")`)).to.equal(
      'select self.* from `default`:`travel-sample`.`inventory`.`landmark` where ((`landmark`.`country`) = "United Kingdom")',
    );
    expect(one(`FORMALISE("select * from \`travel-sample\`.inventory.landmark where country = 'United Kingdom' limit 1;")`)).to.equal(
      'select self.* from `default`:`travel-sample`.`inventory`.`landmark` where ((`landmark`.`country`) = "United Kingdom") limit 1',
    );
    expect(one('FORMALIZE("SELECT name, a.city AS c FROM airport a ORDER BY name")')).to.equal('select (`a`.`name`), (`a`.`city`) as `c` from `default`:`airport` as `a` order by (`a`.`name`)');
    expect(one('FORMALIZE("not a statement")')).to.equal(null);
  });
});

describe('n1ql 7.6 results over HTTP', () => {
  it('writes NaN and infinities as strings and warnings in the warnings array', async () => {
    const { startHttp } = await import('./harness');
    const { DocumentStore } = await import('../../lib/server/store');
    const svc = await startHttp([new DocumentStore({ name: 'b', numVBuckets: 16 })]);
    try {
      const r = await svc.request({ statement: 'SELECT RAW [SQRT(-4), 1e308 * 10, -1 / 0, LN(0)]' });
      expect(r.json.results).to.deep.equal([['NaN', '+Infinity', null, '-Infinity']]);
      expect(r.json.warnings).to.deep.equal([{ code: 5036, msg: 'Division by 0.' }]);
      expect(r.json.status).to.equal('success');
      expect(r.body.indexOf('"warnings"')).to.be.above(r.body.indexOf('"results"'));
      const plain = await svc.request({ statement: 'SELECT RAW 1' });
      expect(plain.json.warnings).to.equal(undefined);
    } finally {
      await svc.close();
    }
  });
});

describe('n1ql 7.6 semantic errors', () => {
  it('META() among several FROM terms needs an argument (4310); FROM aliases are unique (4020)', () => {
    expect(e.run('SELECT META().id FROM [1] AS a UNNEST [1, 2] AS b').errors).to.deep.equal([{ code: 4310, msg: 'META() in query with multiple FROM terms requires an argument (near line 1, column 8).' }]);
    expect(e.run('SELECT 1 FROM [1] AS a UNNEST [1, 2] AS a').errors).to.deep.equal([{ code: 4020, msg: "Duplicate UNNEST alias 'a' (near line 1, column 41)" }]);
  });
});
