// Statement forms of Server 7.6 (SQL++ reference: MERGE, JOIN clause, UPDATE, query parameters
// as keyspaces): expected results written from the reference and the query engine's grammar.
import { expect } from 'chai';
import { Engine } from './harness';

/** Sources s1..s3 (c11 = 1..3) and targets t1, t3 (c21 = 1, 3) in one bucket, as the MERGE examples join a keyspace with itself. */
function mergeEngine(): Engine {
  const e = new Engine(['ks']);
  e.load('ks', {
    s1: { c11: 1, c12: 10, type: 'source' },
    s2: { c11: 2, c12: 20, type: 'source' },
    s3: { c11: 3, c12: 30, type: 'source' },
    t1: { c21: 1, c22: 5, type: 'target' },
    t3: { c21: 3, c22: 15, type: 'target' },
  });
  e.rows('CREATE PRIMARY INDEX ON ks');
  return e;
}

const SOURCES = '(SELECT META(x).id AS id, x.* FROM ks x WHERE x.type = "source")';

describe('n1ql 7.6 statements', () => {
  describe('MERGE', () => {
    it('binds MERGE ... ON ... LET names for the actions and RETURNING', () => {
      const e = mergeEngine();
      const out = e.run(`MERGE INTO ks t USING ${SOURCES} AS s ON t.c21 = s.c11 LET k = META(t).id, doubled = s.c12 * 2 ` + 'WHEN MATCHED THEN UPDATE SET t.c22 = doubled RETURNING k, t.c22');
      expect(out.errors).to.deep.equal([]);
      expect(out.rows).to.have.deep.members([{ k: 't1', c22: 20 }, { k: 't3', c22: 60 }]);
    });

    it('takes a join hint on the source (USE HASH / USE NL choose how the target is joined)', () => {
      for (const hint of ['USE HASH(probe)', 'USE HASH(build)', 'USE NL']) {
        const e = mergeEngine();
        const out = e.run(`MERGE INTO ks t USING ${SOURCES} AS s ${hint} ON t.c21 = s.c11 WHEN MATCHED THEN UPDATE SET t.hit = true`);
        expect(out.errors, hint).to.deep.equal([]);
        expect(out.mutationCount, hint).to.equal(2);
      }
    });

    it('returns only the inserted document for the INSERT action, and {"s": ..., "t": ...} for RETURNING *', () => {
      const e = mergeEngine();
      const out = e.run(
        `MERGE INTO ks t USING ${SOURCES} AS s ON t.c21 = s.c11 WHEN MATCHED THEN UPDATE SET t.c22 = s.c12 ` +
          'WHEN NOT MATCHED THEN INSERT (KEY "new" || s.id, VALUE {"c21": s.c11, "inserted": true}) RETURNING t.c21, t.c22, t.inserted, s.c12',
      );
      expect(out.rows).to.have.deep.members([{ c21: 1, c22: 10, c12: 10 }, { c21: 2, inserted: true }, { c21: 3, c22: 30, c12: 30 }]);
      const star = mergeEngine().run(`MERGE INTO ks t USING ${SOURCES} AS s ON t.c21 = s.c11 WHEN MATCHED THEN UPDATE SET t.c22 = 0 RETURNING *`);
      expect(star.rows).to.have.deep.members([
        { s: { id: 's1', c11: 1, c12: 10, type: 'source' }, t: { c21: 1, c22: 0, type: 'target' } },
        { s: { id: 's3', c11: 3, c12: 30, type: 'source' }, t: { c21: 3, c22: 0, type: 'target' } },
      ]);
    });

    it('refuses a second action on a document even when the first changed it so the action WHERE no longer holds (5320)', () => {
      const e = mergeEngine();
      e.rows('UPDATE ks SET c11 = 1 WHERE META().id = "s2"');
      // s1 and s2 both match t1; the UPDATE's WHERE is read on t1 as the statement found it.
      const out = e.run('MERGE INTO ks t USING ks s ON t.c21 = s.c11 WHEN MATCHED THEN UPDATE SET t.c23 = 1 UNSET t.c22 WHERE t.c22 IS NOT MISSING');
      expect(out.errors).to.deep.equal([{ code: 5320, msg: "Multiple UPDATE/DELETE of the same document (document key 't1') in a MERGE statement" }]);
      // The action before the refused one was written.
      expect(e.rows('SELECT RAW t FROM ks t USE KEYS "t1"')).to.deep.equal([{ c21: 1, c23: 1, type: 'target' }]);
      const del = mergeEngine();
      del.rows('UPDATE ks SET c11 = 1 WHERE META().id = "s2"');
      expect(del.run('MERGE INTO ks t USING ks s ON t.c21 = s.c11 WHEN MATCHED THEN DELETE').errors).to.deep.equal([
        { code: 5320, msg: "Multiple UPDATE/DELETE of the same document (document key 't1') in a MERGE statement" },
      ]);
    });

    it('words a failed INSERT action as the INSERT operator does (Duplicate Key)', () => {
      const e = mergeEngine();
      const out = e.run(`MERGE INTO ks t USING ${SOURCES} AS s ON t.c21 = s.c11 WHEN NOT MATCHED THEN INSERT (KEY "t1", VALUE {"from": s.id})`);
      expect(out.errors.map((x) => x.msg)).to.deep.equal(['DML Error, possible causes include concurrent modification. Failed to perform INSERT on key t1 - cause: Duplicate Key: t1']);
      expect(e.rows('SELECT RAW t FROM ks t USE KEYS "t1"')).to.deep.equal([{ c21: 1, c22: 5, type: 'target' }]);
    });

    it('refuses USE KEYS on the target as the grammar does', () => {
      const out = mergeEngine().run('MERGE INTO ks t USE KEYS ["t1"] USING ks s ON t.c21 = s.c11 WHEN MATCHED THEN DELETE');
      expect(out.errors).to.deep.equal([{ code: 3000, msg: 'Keyspace reference cannot have USE KEYS hint in MERGE statement. - at USING' }]);
    });
  });

  describe('RIGHT [OUTER] JOIN', () => {
    it('is the first join of the chain: every right-hand row, the left-hand side MISSING where nothing matches', () => {
      const e = new Engine();
      for (const q of ['SELECT a, b FROM [1, 2] a RIGHT JOIN [2, 3] b ON a = b', 'SELECT a, b FROM [1, 2] a RIGHT OUTER JOIN [2, 3] b ON a = b']) {
        expect(e.rows(q)).to.have.deep.members([{ a: 2, b: 2 }, { b: 3 }]);
      }
      expect(e.rows('SELECT a, b, c FROM [1, 2] a RIGHT JOIN [2, 3] b ON a = b JOIN [3] c ON c = b')).to.deep.equal([{ b: 3, c: 3 }]);
    });

    it('is a syntax error after another join', () => {
      const out = new Engine().run('SELECT * FROM [1] a JOIN [1] b ON a = b RIGHT JOIN [1] c ON c = a');
      expect(out.errors[0].code).to.equal(3000);
      expect(out.errors[0].msg).to.contain('RIGHT');
    });
  });

  describe('correlated subqueries', () => {
    function customers(n: number): Engine {
      const e = new Engine(['customer']);
      const docs: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) docs[`c${i}`] = { a: i % 3 };
      e.load('customer', docs);
      e.rows('CREATE PRIMARY INDEX ON customer');
      return e;
    }
    const MSG = "Unable to run subquery - cause: Correlated subquery's keyspace (d1) cannot have more than 1000 documents without appropriate secondary index";

    it('refuse to read more than 1,000 documents through the primary index (5370)', () => {
      const e = customers(1001);
      expect(e.run('SELECT d.a FROM customer d LET v = (SELECT d1.a FROM customer AS d1 WHERE d.a = d1.a) LIMIT 1').errors).to.deep.equal([{ code: 5370, msg: MSG }]);
      expect(e.run('SELECT d.a FROM customer d LET v = (SELECT META(d1).id FROM customer AS d1 WHERE d.a = 1) LIMIT 1').errors).to.deep.equal([{ code: 5370, msg: MSG }]);
    });

    it('run with a secondary index, under 1,000 documents, or when not correlated', () => {
      const small = customers(1000);
      expect(small.run('SELECT d.a FROM customer d LET v = (SELECT d1.a FROM customer AS d1 WHERE d.a = d1.a) LIMIT 1').errors).to.deep.equal([]);
      const indexed = customers(1001);
      indexed.rows('CREATE INDEX ix_a ON customer(a)');
      const out = indexed.run('SELECT RAW ARRAY_LENGTH(v) FROM customer d USE KEYS "c1" LET v = (SELECT d1.a FROM customer AS d1 WHERE d1.a = d.a)');
      expect(out.errors).to.deep.equal([]);
      expect(out.rows).to.deep.equal([334]);
      const plain = customers(1001);
      expect(plain.run('SELECT RAW (SELECT RAW COUNT(*) FROM customer AS d1 WHERE d1.a >= 0)[0] FROM customer d USE KEYS "c1"').rows).to.deep.equal([1001]);
    });
  });

  describe('a query parameter as the keyspace', () => {
    it('names the keyspace of INSERT, UPSERT, UPDATE, DELETE and SELECT ... USE KEYS', () => {
      const e = new Engine(['orders']);
      const run = (q: string, args: unknown[]) => e.run(q, { args: args as never });
      expect(run('INSERT INTO $1 AS d VALUES($2, $3)', ['orders', 'o1', { a: 'first' }]).mutationCount).to.equal(1);
      expect(run('SELECT d.a FROM $1 AS d USE KEYS $2', ['orders', 'o1']).rows).to.deep.equal([{ a: 'first' }]);
      expect(run('UPSERT INTO $1 AS d VALUES($2, $3)', ['orders', 'o1', { a: 'second' }]).mutationCount).to.equal(1);
      expect(run('SELECT d.a FROM $1 AS d USE KEYS $2', ['orders', 'o1']).rows).to.deep.equal([{ a: 'second' }]);
      expect(run('UPDATE $1 AS d USE KEYS $2 SET d = $3', ['orders', 'o1', { a: 'third' }]).mutationCount).to.equal(1);
      expect(run('SELECT RAW d FROM $1 AS d USE KEYS $2', ['orders', 'o1']).rows).to.deep.equal([{ a: 'third' }]);
      expect(run('DELETE FROM $1 AS d USE KEYS $2', ['orders', 'o1']).mutationCount).to.equal(1);
      expect(run('SELECT d.a FROM $1 AS d USE KEYS $2', ['orders', 'o1']).rows).to.deep.equal([]);
    });

    it('must have USE KEYS in UPDATE, as in DELETE (3261)', () => {
      const out = new Engine(['orders']).run('UPDATE $1 AS d SET d.x = 1', { args: ['orders'] });
      expect(out.errors).to.deep.equal([{ code: 3261, msg: '<placeholder> term must have USE KEYS' }]);
    });
  });
});
