// User-defined functions: CREATE [OR REPLACE] FUNCTION, EXECUTE FUNCTION, DROP FUNCTION, calls
// in expressions, system:functions, and definitions kept across a restart with `dataDir`.
// Expected results are the CREATE FUNCTION and Miscellaneous Functions (ABORT) examples.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import { travelEngine } from './fixture';
import { startHttp } from './harness';

describe('n1ql user-defined functions', () => {
  it('runs the CREATE FUNCTION reference examples', () => {
    const e = travelEngine();
    e.rows('CREATE FUNCTION celsius(...) LANGUAGE INLINE AS (args[0] - 32) * 5/9');
    expect(e.rows('EXECUTE FUNCTION celsius(100)')).to.deep.equal([37.77777777777778]);
    e.rows('CREATE FUNCTION fahrenheit(...) { (args[0] * 9/5) + 32 }');
    expect(e.rows('EXECUTE FUNCTION fahrenheit(100, "ignore this")')).to.deep.equal([212]);
    e.rows('CREATE FUNCTION lstr(vString, vLen) LANGUAGE INLINE AS SUBSTR(vString, 0, vLen)');
    expect(e.run('EXECUTE FUNCTION lstr("Couchbase", 5, "ignore this")').errors).to.deep.equal([
      { code: 10104, msg: 'Incorrect number of arguments supplied to function lstr - cause: lstr' },
    ]);
    e.rows('CREATE FUNCTION rstr(vString, vLen) { SUBSTR(vString, LENGTH(vString) - vLen, vLen) }');
    expect(e.rows('EXECUTE FUNCTION rstr("Couchbase", 4)')).to.deep.equal(['base']);
    e.rows('CREATE FUNCTION phi() { 2 * SIN(RADIANS(54)) }');
    expect(e.rows('EXECUTE FUNCTION phi()')).to.deep.equal([1.618033988749895]);
    e.rows('CREATE OR REPLACE FUNCTION phi() { (1 + SQRT(5)) / 2 }');
    expect(e.rows('EXECUTE FUNCTION phi()')).to.deep.equal([1.618033988749895]);
  });

  it('reports ABORT inside a function as 10109 (Miscellaneous Functions: ABORT example 2)', () => {
    const e = travelEngine();
    e.rows(`CREATE OR REPLACE FUNCTION rstr(vString, vLen) LANGUAGE INLINE AS
      CASE WHEN NOT IS_STRING(vString) THEN ABORT("Search string is not a string")
           WHEN NOT IS_NUMBER(vLen) THEN ABORT("Substring length is not a number")
           WHEN vLen > LENGTH(vString) THEN ABORT("Substring longer than search string")
           ELSE SUBSTR(vString, LENGTH(vString) - vLen, vLen) END`);
    expect(e.run('EXECUTE FUNCTION rstr(100, 4)').errors).to.deep.equal([
      { code: 10109, msg: 'Error executing function rstr : "Search string is not a string" - cause: "Search string is not a string"' },
    ]);
    expect(e.run('EXECUTE FUNCTION rstr("Couchbase", 10)').errors[0].msg).to.equal(
      'Error executing function rstr : "Substring longer than search string" - cause: "Substring longer than search string"',
    );
    expect(e.rows('EXECUTE FUNCTION rstr("Couchbase", 4)')).to.deep.equal(['base']);
  });

  it('calls functions in expressions, with subqueries over keyspaces, and recursively', () => {
    const e = travelEngine();
    e.rows('CREATE FUNCTION airlines_in(c) { (SELECT RAW name FROM travel WHERE type = "airline" AND country = c ORDER BY name) }');
    expect(e.rows('SELECT RAW airlines_in(a.country) FROM travel a WHERE a.type = "airport" AND a.id = 2')).to.deep.equal([['Beta Jet', 'Gamma']]);
    e.rows('CREATE FUNCTION fact(n) { CASE WHEN n <= 1 THEN 1 ELSE n * fact(n - 1) END }');
    expect(e.rows('SELECT RAW fact(10)')).to.deep.equal([3628800]);
    expect(e.rows('SELECT RAW default:fact(5)')).to.deep.equal([120]);
  });

  it('keeps the rules of OR REPLACE / IF NOT EXISTS and DROP FUNCTION, and lists functions in system:functions', () => {
    const e = travelEngine();
    e.rows('CREATE FUNCTION one() { 1 }');
    expect(e.run('CREATE FUNCTION one() { 2 }').errors).to.deep.equal([{ code: 10102, msg: "Function 'one' already exists - cause: one" }]);
    e.rows('CREATE FUNCTION IF NOT EXISTS one() { 3 }');
    expect(e.rows('SELECT RAW one()')).to.deep.equal([1]);
    expect(e.rows('SELECT RAW f FROM system:functions AS f')).to.deep.equal([
      { definition: { '#language': 'inline', expression: '1', parameters: [], text: '1' }, identity: { name: 'one', namespace: 'default', type: 'global' } },
    ]);
    e.rows('DROP FUNCTION one');
    expect(e.run('DROP FUNCTION one').errors[0].code).to.equal(10101);
    e.rows('DROP FUNCTION IF EXISTS one');
    expect(e.run('SELECT RAW one()').errors[0].code).to.equal(3100);
    expect(e.run('CREATE FUNCTION f() { 1 }', { readonly: true }).errors[0].code).to.equal(1000);
  });

  it('keys system:functions by the full function name, which META().id reads', () => {
    const e = travelEngine();
    e.rows('CREATE FUNCTION fa() { 1 }');
    e.rows('CREATE FUNCTION fb(x) { x }');
    e.rows('CREATE FUNCTION travel._default.fc() { 2 }');
    expect(e.rows("SELECT meta().id FROM system:functions WHERE meta().id LIKE 'default:f%' ORDER BY meta().id")).to.deep.equal([{ id: 'default:fa' }, { id: 'default:fb' }]);
    expect(e.rows('SELECT RAW meta(f).id FROM system:functions AS f WHERE f.identity.type = "scope"')).to.deep.equal(['default:travel._default.fc']);
  });

  it('creates scoped functions from a qualified name, and runs JavaScript functions (CREATE FUNCTION: managed JavaScript example)', () => {
    const e = travelEngine();
    e.rows('CREATE FUNCTION travel._default.twice(x) { x * 2 }');
    expect(e.rows('SELECT RAW travel._default.twice(21)')).to.deep.equal([42]);
    expect(e.run('SELECT RAW twice(21)').errors[0].code).to.equal(3100); // not global
    e.rows('CREATE FUNCTION add100(num) LANGUAGE JAVASCRIPT AS "function add100(param1) {return param1+100;}"');
    expect(e.rows('EXECUTE FUNCTION add100(100)')).to.deep.equal([200]);
    expect(e.rows('SELECT RAW add100(1)')).to.deep.equal([101]);
    e.rows('CREATE FUNCTION boom() LANGUAGE JAVASCRIPT AS "function boom() { throw new Error(\'no\'); }"');
    expect(e.run('EXECUTE FUNCTION boom()').errors[0].code).to.equal(10109);
    e.rows('CREATE FUNCTION escape() LANGUAGE JAVASCRIPT AS "function escape() { return typeof process + \':\' + typeof require; }"');
    expect(e.rows('EXECUTE FUNCTION escape()')).to.deep.equal(['undefined:undefined']);
  });

  it('resolves a bare name in the query_context scope over HTTP', async () => {
    const { DocumentStore } = await import('../../lib/server/store');
    const svc = await startHttp([new DocumentStore({ name: 'b', numVBuckets: 16 })]);
    try {
      const c = await svc.request({ statement: 'CREATE FUNCTION sq(x) { x * x }', query_context: 'default:b._default' });
      expect(c.json.status).to.equal('success');
      expect((await svc.request({ statement: 'SELECT RAW sq(7)', query_context: 'default:b._default' })).json.results).to.deep.equal([49]);
      expect((await svc.request({ statement: 'SELECT RAW b._default.sq(3)' })).json.results).to.deep.equal([9]);
      expect((await svc.request({ statement: 'SELECT RAW sq(7)' })).json.errors[0].code).to.equal(3100);
    } finally {
      await svc.close();
    }
  });

  describe('across a restart with dataDir', function () {
    this.timeout(20000);
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-udf-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('keeps global and scoped function definitions', async () => {
      const query = async (c: Cluster, statement: string): Promise<any> => {
        const res = await fetch(`http://127.0.0.1:${c.nodes[0].ports.n1ql}/query/service`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') },
          body: JSON.stringify({ statement }),
        });
        return res.json();
      };
      const a = await Cluster.start({ dataDir: dir, numVBuckets: 16 });
      try {
        expect((await query(a, 'CREATE FUNCTION celsius(...) { (args[0] - 32) * 5/9 }')).status).to.equal('success');
        expect((await query(a, 'CREATE FUNCTION default._default.half(x) { x / 2 }')).status).to.equal('success');
      } finally {
        await a.stop();
      }
      const b = await Cluster.start({ dataDir: dir, numVBuckets: 16 });
      try {
        expect((await query(b, 'SELECT RAW [celsius(212), default._default.half(9)]')).results).to.deep.equal([[100, 4.5]]);
        expect((await query(b, 'SELECT RAW f.identity.name FROM system:functions f ORDER BY f.identity.name')).results).to.deep.equal(['celsius', 'half']);
      } finally {
        await b.stop();
      }
    });
  });
});
