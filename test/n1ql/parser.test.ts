import { expect } from 'chai';
import { parse, parseExpression } from '../../lib/server/n1ql/parser';
import { QueryError } from '../../lib/server/n1ql/errors';

/** The tree without the source positions of names (which the assertions below do not spell out). */
function tree(src: string): unknown {
  return JSON.parse(JSON.stringify(parseExpression(src), (k, v: unknown) => (k === 'at' ? undefined : v)));
}

function syntaxError(stmt: string): QueryError {
  try {
    parse(stmt);
  } catch (err) {
    expect(err).to.be.instanceOf(QueryError);
    return err as QueryError;
  }
  throw new Error(`expected a syntax error for: ${stmt}`);
}

describe('n1ql parser', () => {
  it('reports code 3000 with line, column, preceding text and the offending token', () => {
    const err = syntaxError('SELECT * FRM `travel-sample`');
    expect(err.code).to.equal(3000);
    expect(err.message).to.equal("syntax error - line 1, column 10, near 'SELECT * ', at: FRM");
  });

  it('counts lines and columns across newlines', () => {
    const err = syntaxError('SELECT name\nFROM `travel-sample`\nWHERE type = = "x"');
    expect(err.message).to.match(/^syntax error - line 3, column 14, near '.*', at: =$/);
  });

  it('marks reserved words and the end of input', () => {
    expect(syntaxError('SELECT FROM t').message).to.equal("syntax error - line 1, column 8, near 'SELECT ', at: FROM (reserved word)");
    // The query service's lexer has no position left at the end of input (its ErrorContext).
    expect(syntaxError('SELECT a FROM').message).to.equal('syntax error - at end of input');
    expect(syntaxError('SELECT "abc').message).to.match(/unterminated string/);
  });

  it('parses keyspace paths with namespace and collections', () => {
    const s = parse('SELECT * FROM default:`travel-sample`.inventory.airline AS a USE KEYS "k"');
    expect(s.type).to.equal('select');
    const block = (s as any).body;
    expect(block.from.source).to.deep.include({ kind: 'keyspace', alias: 'a', ks: { namespace: 'default', bucket: 'travel-sample', scope: 'inventory', collection: 'airline' } });
  });

  it('binds AND tighter than OR and comparisons tighter than NOT', () => {
    expect(tree('a OR b AND c')).to.deep.equal({ kind: 'or', args: [{ kind: 'ident', name: 'a' }, { kind: 'and', args: [{ kind: 'ident', name: 'b' }, { kind: 'ident', name: 'c' }] }] });
    expect(tree('NOT a = 1')).to.deep.equal({ kind: 'not', arg: { kind: 'binary', op: '=', left: { kind: 'ident', name: 'a' }, right: { kind: 'lit', value: 1 } } });
    expect(parseExpression('1 + 2 * 3')).to.deep.equal({ kind: 'binary', op: '+', left: { kind: 'lit', value: 1 }, right: { kind: 'binary', op: '*', left: { kind: 'lit', value: 2 }, right: { kind: 'lit', value: 3 } } });
  });

  it('reads string escapes, doubled quotes, back-quoted identifiers and comments', () => {
    expect(parseExpression('"a\\"b\\n"')).to.deep.equal({ kind: 'lit', value: 'a"b\n' });
    expect(parseExpression("'it''s'")).to.deep.equal({ kind: 'lit', value: "it's" });
    expect(tree('`odd``name` /* c */ -- trailing')).to.deep.equal({ kind: 'ident', name: 'odd`name' });
    expect(parseExpression('1.5e2')).to.deep.equal({ kind: 'lit', value: 150 });
  });

  it('parses every statement kind', () => {
    const kinds = [
      ['INSERT INTO b (KEY, VALUE) VALUES ("k", {"a": 1}), ("k2", 2) RETURNING *', 'insert'],
      ['UPSERT INTO b (KEY k, VALUE v) SELECT META().id AS k, b AS v FROM b', 'insert'],
      ['UPDATE b USE KEYS "k" SET a = 1, x.y = 2 UNSET z WHERE a > 0 LIMIT 3 RETURNING a', 'update'],
      ['UPDATE b SET s.done = TRUE FOR s IN schedule WHEN s.day = 1 END', 'update'],
      ['DELETE FROM b WHERE a = 1 LIMIT 1 RETURNING META().id', 'delete'],
      ['MERGE INTO b t USING [{"id": "k"}] AS s ON KEY s.id WHEN MATCHED THEN UPDATE SET t.n = 1 WHEN NOT MATCHED THEN INSERT {"n": 0}', 'merge'],
      ['CREATE INDEX ix ON b(a, DISTINCT ARRAY v.day FOR v IN schedule END) WHERE type = "route" WITH {"defer_build": true}', 'createIndex'],
      ['CREATE PRIMARY INDEX IF NOT EXISTS ON `b`', 'createIndex'],
      ['DROP INDEX b.ix', 'dropIndex'],
      ['DROP INDEX ix ON b USING GSI', 'dropIndex'],
      ['DROP PRIMARY INDEX IF EXISTS ON b', 'dropIndex'],
      ['BUILD INDEX ON b(ix1, `ix2`)', 'buildIndex'],
      ['EXPLAIN SELECT 1', 'explain'],
      ['PREPARE p1 FROM SELECT * FROM b WHERE a = $1', 'prepare'],
      ['EXECUTE p1', 'execute'],
      ['SELECT a FROM b UNION ALL SELECT a FROM c ORDER BY a LIMIT 1', 'select'],
      ['INSERT INTO b VALUES ("k", {"a": 1}, {"expiration": 60})', 'insert'],
      ['MERGE INTO b t USE INDEX (ix) USING c s USE HASH(BUILD) ON t.id = s.id WHEN NOT MATCHED THEN INSERT (KEY s.id, VALUE s, OPTIONS {"expiration": 1})', 'merge'],
      ['CREATE OR REPLACE FUNCTION default:f(a, b) { a + b }', 'createFunction'],
      ['CREATE FUNCTION IF NOT EXISTS `b`.s.g(...) LANGUAGE INLINE AS args[0]', 'createFunction'],
      ['CREATE FUNCTION add100(num) LANGUAGE JAVASCRIPT AS "function add100(n) { return n + 100; }"', 'createFunction'],
      ['CREATE FUNCTION lib1(a) LANGUAGE JAVASCRIPT AS "f" AT "mylib"', 'createFunction'],
      ['DROP FUNCTION IF EXISTS default:b.s.g', 'dropFunction'],
      ['EXECUTE FUNCTION f(1, 2)', 'executeFunction'],
      ['SELECT RANK() OVER w, NTH_VALUE(x, 2) FROM LAST IGNORE NULLS OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM b WINDOW w AS (PARTITION BY y ORDER BY x DESC NULLS FIRST)', 'select'],
      ['SELECT * EXCLUDE a, "b, `c`" FROM b, c AS d WHERE b.x = d.x GROUP BY b.x GROUP AS g', 'select'],
    ];
    for (const [stmt, type] of kinds) expect(parse(stmt).type, stmt).to.equal(type);
  });

  it('refuses OR REPLACE with IF NOT EXISTS, and an unqualified reserved word as a function name (CREATE FUNCTION reference)', () => {
    expect(syntaxError('CREATE OR REPLACE FUNCTION IF NOT EXISTS f() { 1 }').code).to.equal(3000);
    expect(syntaxError('CREATE FUNCTION select() { 1 }').code).to.equal(3000);
    expect(parse('CREATE FUNCTION default:select() { 1 }').type).to.equal('createFunction');
  });

  it('reads `name`i as a case-insensitive identifier', () => {
    expect(tree('`Name`i.`CITY`i')).to.deep.equal({ kind: 'field', target: { kind: 'ident', name: 'Name', ci: true }, name: 'CITY', ci: true });
  });
});
