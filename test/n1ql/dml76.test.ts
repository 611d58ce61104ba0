// INSERT / UPSERT short form and OPTIONS, and MERGE in every documented form with its rules
// (INSERT and MERGE references; the semantic errors 3150-3190 and the one-action rule 5320/5330).
import { expect } from 'chai';
import { Engine } from './harness';

function engine(): Engine {
  const e = new Engine(['t', 's']);
  e.load('t', { a: { n: 1 }, b: { n: 2 } });
  e.load('s', { x: { id: 'a', v: 10 }, y: { id: 'c', v: 30 } });
  e.rows('CREATE PRIMARY INDEX ON t');
  e.rows('CREATE PRIMARY INDEX ON s');
  return e;
}

describe('n1ql 7.6 DML', () => {
  describe('INSERT / UPSERT', () => {
    it('takes VALUES (key, value[, options]) without the (KEY, VALUE) list, several rows at once', () => {
      const e = engine();
      const out = e.run('INSERT INTO t VALUES ("k1", {"n": 1}), ("k2", {"n": 2}) RETURNING META().id AS id, n');
      expect(out.rows).to.deep.equal([{ id: 'k1', n: 1 }, { id: 'k2', n: 2 }]);
      expect(out.mutationCount).to.equal(2);
      expect(e.run('UPSERT INTO t VALUES ("k1", {"n": 5})').mutationCount).to.equal(1);
      expect(e.rows('SELECT RAW n FROM t USE KEYS "k1"')).to.deep.equal([5]);
    });

    it('sets the document expiration from OPTIONS {"expiration": seconds} (INSERT reference)', () => {
      const e = engine();
      const before = Math.floor(Date.now() / 1000);
      e.rows('INSERT INTO t (KEY, VALUE, OPTIONS) VALUES ("e1", {"n": 1}, {"expiration": 3600})');
      e.rows('UPSERT INTO t VALUES ("e2", {"n": 2}, {"expiration": 60})');
      const [exp1, exp2] = e.rows('SELECT RAW META().expiration FROM t USE KEYS ["e1", "e2"]') as number[];
      expect(exp1).to.be.within(before + 3600, before + 3602);
      expect(exp2).to.be.within(before + 60, before + 62);
      expect(e.run('INSERT INTO t VALUES ("e3", {"n": 3}, "soon")').errors).to.deep.equal([{ code: 5071, msg: 'Cannot INSERT non-OBJECT options "soon" of type value.stringValue.' }]);
    });
  });

  describe('MERGE', () => {
    it('lookup merge: ON KEY, update matched, insert unmatched under the ON KEY key', () => {
      const e = engine();
      const out = e.run('MERGE INTO t USING s ON KEY s.id WHEN MATCHED THEN UPDATE SET t.v = s.v WHEN NOT MATCHED THEN INSERT {"n": 0, "v": s.v} RETURNING META(t).id AS id, t.v');
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(2);
      expect(out.rows).to.deep.equal([{ id: 'a', v: 10 }, { id: 'c', v: 30 }]);
      expect(e.rows('SELECT META().id, n, v FROM t ORDER BY META().id')).to.deep.equal([
        { id: 'a', n: 1, v: 10 },
        { id: 'b', n: 2 },
        { id: 'c', n: 0, v: 30 },
      ]);
    });

    it('ANSI merge: ON condition, INSERT (KEY, VALUE, OPTIONS), DELETE WHERE, source expression and subquery', () => {
      const e = engine();
      const out = e.run(
        'MERGE INTO t USING [{"k": "a", "drop": true}, {"k": "z", "n": 26}] AS src ON META(t).id = src.k ' +
          'WHEN MATCHED THEN DELETE WHERE src.drop WHEN NOT MATCHED THEN INSERT (KEY src.k, VALUE {"n": src.n}, OPTIONS {"expiration": 600})',
      );
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(2);
      expect(e.rows('SELECT RAW META().id FROM t ORDER BY META().id')).to.deep.equal(['b', 'z']);
      expect((e.rows('SELECT RAW META().expiration FROM t USE KEYS "z"')[0] as number) > 0).to.equal(true);
      e.run('MERGE INTO t USING (SELECT RAW {"k": "b"} FROM s LIMIT 1) AS q ON META(t).id = q.k WHEN MATCHED THEN UPDATE SET t.touched = true');
      expect(e.rows('SELECT RAW touched FROM t USE KEYS "b"')).to.deep.equal([true]);
      e.run('MERGE INTO t USING [{"k": "new"}] AS q ON META(t).id = q.k WHEN NOT MATCHED THEN INSERT (q.k)');
      expect(e.rows('SELECT RAW t FROM t USE KEYS "new"')).to.deep.equal([{}]);
    });

    it('refuses the forms the semantic checks refuse (3150, 3160, 3180, 3190)', () => {
      const e = engine();
      expect(e.run('MERGE INTO t USING s ON KEY s.id WHEN NOT MATCHED THEN INSERT (KEY s.id, VALUE s)').errors).to.deep.equal([
        { code: 3150, msg: 'MERGE with ON KEY clause cannot have document key specification in INSERT action.' },
      ]);
      expect(e.run('MERGE INTO t USING s ON META(t).id = s.id WHEN NOT MATCHED THEN INSERT {"n": 1}').errors).to.deep.equal([
        { code: 3160, msg: 'MERGE with ON clause must have document key specification in INSERT action.' },
      ]);
      expect(e.run('MERGE INTO t USE INDEX (`#primary`) USING s ON KEY s.id WHEN MATCHED THEN DELETE').errors).to.deep.equal([
        { code: 3180, msg: 'MERGE with ON KEY clause cannot have USE INDEX hint specified on target.' },
      ]);
      expect(e.run('MERGE INTO t USING s USE HASH(PROBE) ON KEY s.id WHEN MATCHED THEN DELETE').errors).to.deep.equal([
        { code: 3190, msg: 'MERGE with ON KEY clause cannot have join hint specified on source.' },
      ]);
    });

    it('acts on a target document once per statement (5320), inserts a key once (5330)', () => {
      const e = engine();
      expect(e.run('MERGE INTO t USING [{"k": "a"}, {"k": "a"}] AS q ON KEY q.k WHEN MATCHED THEN UPDATE SET t.x = 1').errors).to.deep.equal([
        { code: 5320, msg: "Multiple UPDATE/DELETE of the same document (document key 'a') in a MERGE statement" },
      ]);
      expect(e.run('MERGE INTO t USING [{"k": "q"}, {"k": "q"}] AS q ON META(t).id = q.k WHEN NOT MATCHED THEN INSERT (q.k, {})').errors).to.deep.equal([
        { code: 5330, msg: "Multiple INSERT of the same document (document key 'q') in a MERGE statement" },
      ]);
    });
  });
});

describe('n1ql UPSERT of one key twice', () => {
  it('writes the key once and reports 5073 for the second (Error Codes reference)', () => {
    const e = new Engine(['b']);
    const o = e.run('UPSERT INTO b VALUES ("key0", {"a": 1}), ("key0", {"a": 2}) RETURNING *');
    expect(o.rows).to.deep.equal([{ b: { a: 1 } }]);
    expect(o.errors).to.deep.equal([{ code: 5073, msg: 'Cannot act on the same key multiple times in an UPSERT statement' }]);
    expect(o.mutationCount).to.equal(1);
  });
});
