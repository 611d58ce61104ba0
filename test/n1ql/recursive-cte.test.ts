// WITH RECURSIVE (Couchbase Server 7.6). Expected results are the examples of the WITH RECURSIVE
// Clause page of the 7.6 SQL++ reference (the employees and products datasets, in a bucket of
// their own instead of a collection of tenant_agent_00).
import { expect } from 'chai';
import { Engine } from './harness';

const EMPLOYEES: Record<string, unknown> = {
  e1: { employee_id: 1, employee_name: 'Carlos' },
  e2: { employee_id: 2, employee_name: 'Maya', manager_id: 1 },
  e3: { employee_id: 3, employee_name: 'Fatima', manager_id: 1 },
  e4: { employee_id: 4, employee_name: 'Yijing', manager_id: 2 },
  e5: { employee_id: 5, employee_name: 'Rahul', manager_id: 3 },
  e6: { employee_id: 6, employee_name: 'Lisa', manager_id: 2 },
};

const PRODUCTS: Record<string, unknown> = {
  p1: { id: 1, name: 'Bicycle', price: 299.99, description: 'A sturdy and reliable bicycle.', category: 'Sports', related_items: [2, 4] },
  p2: { id: 2, name: 'Helmet', price: 49.99, description: 'A safety helmet for cycling.', category: 'Sports', related_items: [1, 3] },
  p3: { id: 3, name: 'Water Bottle', price: 9.99, description: 'A convenient water bottle for cycling.', category: 'Accessories', related_items: [2, 4] },
  p4: { id: 4, name: 'Gloves', price: 19.99, description: 'Comfortable gloves for cycling.', category: 'Sports', related_items: [1, 3] },
};

const SIMILAR = `WITH RECURSIVE similar_items AS (
  SELECT p.*, 0 as lvl FROM products p WHERE p.id=1
    UNION
  SELECT p1.*, similar_items.lvl+1 as lvl FROM products p1,
    similar_items WHERE p1.id IN similar_items.related_items
)`;

function engine(): Engine {
  const e = new Engine(['employees', 'products']);
  e.load('employees', EMPLOYEES).load('products', PRODUCTS);
  e.rows('CREATE INDEX e_idx ON employees(manager_id INCLUDE MISSING, employee_id, employee_name)');
  e.rows('CREATE PRIMARY INDEX ON products');
  return e;
}

describe('n1ql WITH RECURSIVE', () => {
  it('runs the anchor, then the recursive arm until it adds nothing (Simple recursive referencing)', () => {
    const e = engine();
    expect(e.rows('WITH RECURSIVE cte AS (SELECT 1 AS r UNION SELECT cte.r+1 AS r FROM cte WHERE cte.r<4) SELECT cte.r FROM cte')).to.deep.equal([{ r: 1 }, { r: 2 }, { r: 3 }, { r: 4 }]);
  });

  it('combines recursive and non-recursive CTEs', () => {
    const e = engine();
    expect(e.rows('WITH RECURSIVE cte AS (SELECT 1 r), rcte AS (SELECT cte.r FROM cte UNION SELECT rcte.r+2 r FROM rcte WHERE rcte.r<7) SELECT * FROM rcte')).to.deep.equal([
      { rcte: { r: 1 } },
      { rcte: { r: 3 } },
      { rcte: { r: 5 } },
      { rcte: { r: 7 } },
    ]);
  });

  it('walks hierarchical data level by level, each level in the order of the one before', () => {
    const e = engine();
    expect(
      e.rows(`WITH RECURSIVE emplLevel AS (
        SELECT e.employee_id, e.employee_name, 0 lvl FROM employees e WHERE manager_id IS MISSING
          UNION
        SELECT e1.employee_id, e1.employee_name, e1.manager_id, emplLevel.lvl+1 lvl
        FROM employees e1 JOIN emplLevel ON e1.manager_id = emplLevel.employee_id)
      SELECT * FROM emplLevel`),
    ).to.deep.equal([
      { emplLevel: { employee_id: 1, employee_name: 'Carlos', lvl: 0 } },
      { emplLevel: { employee_id: 2, employee_name: 'Maya', lvl: 1, manager_id: 1 } },
      { emplLevel: { employee_id: 3, employee_name: 'Fatima', lvl: 1, manager_id: 1 } },
      { emplLevel: { employee_id: 4, employee_name: 'Yijing', lvl: 2, manager_id: 2 } },
      { emplLevel: { employee_id: 6, employee_name: 'Lisa', lvl: 2, manager_id: 2 } },
      { emplLevel: { employee_id: 5, employee_name: 'Rahul', lvl: 2, manager_id: 3 } },
    ]);
  });

  it('runs in a correlated subquery (the reporting hierarchy)', () => {
    const e = engine();
    const rows = e.rows(`SELECT e.employee_id, e.employee_name, e.manager_id,
      (WITH RECURSIVE cte AS (
          SELECT e1.employee_id, e1.employee_name, e1.manager_id FROM employees e1 WHERE e1.manager_id = e.employee_id
            UNION
          SELECT e2.employee_id, e2.employee_name, e2.manager_id FROM employees e2, cte WHERE e2.manager_id = cte.employee_id)
       SELECT cte.* FROM cte) as reports
      FROM employees e`) as { employee_id: number; reports: { employee_id: number }[] }[];
    expect(rows.map((r) => [r.employee_id, r.reports.map((x) => x.employee_id)])).to.deep.equal([
      [1, [2, 3, 4, 6, 5]],
      [2, [4, 6]],
      [3, [5]],
      [4, []],
      [6, []],
      [5, []],
    ]);
    expect(rows[0].reports[0]).to.deep.equal({ employee_id: 2, employee_name: 'Maya', manager_id: 1 });
  });

  it('stops at OPTIONS {"levels": n} and drops repeated documents with CYCLE ... RESTRICT', () => {
    const e = engine();
    const doc = (id: number, lvl: number) => ({ similar_items: { ...(PRODUCTS[`p${id}`] as object), lvl } });
    expect(e.rows(`${SIMILAR} OPTIONS {"levels":2} SELECT * FROM similar_items`)).to.deep.equal([doc(1, 0), doc(2, 1), doc(4, 1), doc(1, 2), doc(3, 2)]);
    expect(e.rows(`${SIMILAR} CYCLE id RESTRICT SELECT * FROM similar_items`)).to.deep.equal([doc(1, 0), doc(2, 1), doc(4, 1), doc(3, 2)]);
    expect(e.rows('WITH RECURSIVE x AS (SELECT 1 AS n UNION ALL SELECT x.n+1 AS n FROM x) OPTIONS {"documents": 5} SELECT RAW n FROM x')).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('refuses CYCLE without RECURSIVE (syntax error) and a CYCLE term that is not a field (3307)', () => {
    const e = engine();
    expect(e.run('WITH x AS (SELECT 1 AS n) CYCLE n RESTRICT SELECT 1').errors[0].code).to.equal(3000);
    expect(e.run('WITH RECURSIVE cyc AS (SELECT 1 AS n UNION SELECT cyc.n FROM cyc) CYCLE 1 + 1 RESTRICT SELECT 1').errors[0].code).to.equal(3307);
    // Without UNION a recursive CTE is an ordinary one.
    expect(e.rows('WITH RECURSIVE one AS (SELECT RAW 1) SELECT RAW one')).to.deep.equal([[1]]);
  });

  describe('the reference\'s restrictions (3300-3307, Server 7.6 error reference)', () => {
    const STEP = 'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM h JOIN employees e1 ON h.employee_id = e1.manager_id';
    const ANCHOR = 'SELECT e.employee_id, 0 AS lvl FROM employees e WHERE e.manager_id IS MISSING';

    it('refuses ORDER BY, LIMIT and OFFSET after the UNION of a recursive CTE', () => {
      const e = engine();
      for (const tail of ['ORDER BY e1.employee_id', 'LIMIT 2', 'OFFSET 2']) {
        expect(e.run(`WITH RECURSIVE h AS (${ANCHOR} UNION ${STEP} ${tail}) SELECT h.* FROM h`).errors).to.deep.equal([
          { code: 3300, msg: 'recursive_with semantics: Order/Limit/Offset not allowed' },
        ]);
      }
      // A UNION whose second arm does not read the CTE is not split: an ordinary query, ORDER BY and all.
      expect(e.rows('WITH RECURSIVE u AS (SELECT 2 AS r UNION ALL SELECT 1 AS r ORDER BY r) SELECT RAW u.r FROM u')).to.deep.equal([1, 2]);
    });

    it('refuses GROUP BY, aggregates and DISTINCT in every CTE of a WITH RECURSIVE clause', () => {
      const e = engine();
      expect(e.run('WITH RECURSIVE c AS (SELECT manager_id, COUNT(*) AS n FROM employees GROUP BY manager_id) SELECT * FROM c').errors).to.deep.equal([
        { code: 3300, msg: 'recursive_with semantics: Grouping is not allowed' },
      ]);
      expect(e.run('WITH RECURSIVE c AS (SELECT COUNT(*) AS CountAll FROM employees) SELECT * FROM c').errors).to.deep.equal([
        { code: 3300, msg: 'recursive_with semantics: Aggregates/Window functions are not allowed' },
      ]);
      expect(e.run(`WITH RECURSIVE h AS (SELECT DISTINCT e.employee_id, 0 AS lvl FROM employees e WHERE e.manager_id IS MISSING UNION ${STEP}) SELECT * FROM h`).errors).to.deep.equal([
        { code: 3300, msg: 'recursive_with semantics: Distinct not allowed' },
      ]);
      // Without RECURSIVE the same CTE runs.
      expect(e.rows('WITH c AS (SELECT COUNT(*) AS n FROM employees) SELECT RAW c[0].n')).to.deep.equal([6]);
    });

    it('refuses an outer join in the recursive arm, whichever side reads the CTE (3304) instead of recursing on its unmatched rows', () => {
      const e = engine();
      const outer = [
        'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM h LEFT JOIN employees e1 ON h.employee_id = e1.manager_id',
        'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM h LEFT OUTER JOIN employees e1 ON h.employee_id = e1.manager_id',
        'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM employees e1 LEFT JOIN h ON h.employee_id = e1.manager_id',
        'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM h RIGHT JOIN employees e1 ON h.employee_id = e1.manager_id',
        'SELECT e1.employee_id, h.lvl + 1 AS lvl FROM h RIGHT OUTER JOIN employees e1 ON h.employee_id = e1.manager_id',
      ];
      for (const step of outer) {
        expect(e.run(`WITH RECURSIVE h AS (${ANCHOR} UNION ${step}) SELECT h.* FROM h`).errors).to.deep.equal([{ code: 3304, msg: 'recursive_with_unsupported: OUTER JOIN' }]);
      }
    });

    it('words the self-join, CYCLE-term and OPTIONS errors as the server does', () => {
      const e = engine();
      expect(e.run('WITH RECURSIVE cte AS (SELECT 1 r UNION SELECT c.r+1 r FROM cte c, cte c1 WHERE c.r = c1.r+1 AND c.r<5) SELECT cte.* FROM cte').errors).to.deep.equal([
        { code: 3302, msg: "Recursive reference 'cte' must not appear more than once in the FROM clause" },
      ]);
      expect(e.run('WITH RECURSIVE cyc AS (SELECT 1 AS n UNION SELECT cyc.n FROM cyc) CYCLE n, 1 + 1 RESTRICT SELECT 1').errors).to.deep.equal([
        { code: 3307, msg: 'Cycle fields validation failed for with term: cyc - cause: invalid cycle field expression term: (1 + 1) only identifier/path expressions are allowed' },
      ]);
      expect(e.run('WITH RECURSIVE cte AS (SELECT 1 r UNION SELECT cte.r+1 as r FROM cte) OPTIONS {"abc": "SELECT 1"} SELECT cte.* FROM cte').errors).to.deep.equal([
        { code: 5001, msg: "Execution internal error: Configuration options must be numeric ('abc' is string)" },
      ]);
      expect(e.run('WITH RECURSIVE cte AS (SELECT 1 r UNION SELECT cte.r+1 as r FROM cte) OPTIONS {"abc": 1} SELECT cte.* FROM cte').errors[0].code).to.equal(3303);
    });

    it('refuses a CTE that reads its own name without RECURSIVE ("Error evaluating WITH")', () => {
      const e = new Engine(['b']);
      const out = e.run('WITH a AS (SELECT 1 r), b AS (SELECT a.r FROM a UNION SELECT b.r+1 r FROM b WHERE b.r<3) SELECT b, a FROM a, b');
      expect(out.errors).to.have.length(1);
      expect(out.errors[0].code).to.equal(5010);
      expect(out.errors[0].msg).to.match(/^Error evaluating WITH/);
    });
  });
});
