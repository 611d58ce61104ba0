import { expect } from 'chai';
import { travelEngine } from './fixture';
import type { Engine } from './harness';

// Couchbase Server 7 refuses a grouped SELECT whose LETTING, HAVING, projection or ORDER BY reads
// a field that is neither a group key nor inside an aggregate: error 4210 (E_NOT_GROUP_KEY_OR_AGG),
// "Expression <expr> must depend only on group keys or aggregates.", the expression written with
// unqualified names qualified by the keyspace alias.
describe('n1ql grouping rules (4210)', () => {
  let e: Engine;
  beforeEach(() => {
    e = travelEngine();
  });

  const error = (stmt: string): { code: number; msg: string } => {
    const o = e.run(stmt);
    expect(o.rows, stmt).to.deep.equal([]);
    expect(o.errors, stmt).to.have.length(1);
    return o.errors[0];
  };

  it('a projected field that is neither a group key nor aggregated is refused, not taken from some row', () => {
    expect(error('SELECT t.country, t.name FROM travel t GROUP BY t.country')).to.deep.equal({
      code: 4210,
      msg: 'Expression (`t`.`name`) must depend only on group keys or aggregates.',
    });
    // The whole term is named, qualified with the implicit keyspace alias.
    expect(error('SELECT country, UPPER(name) AS n FROM travel GROUP BY country').msg).to.equal(
      'Expression upper((`travel`.`name`)) must depend only on group keys or aggregates.',
    );
    expect(error('SELECT COUNT(*) AS c, t.name FROM travel t').msg).to.equal('Expression (`t`.`name`) must depend only on group keys or aggregates.');
    expect(error('SELECT RAW t.name FROM travel t GROUP BY t.country').code).to.equal(4210);
    expect(error('SELECT t.* FROM travel t GROUP BY t.country').msg).to.equal('Expression `t` must depend only on group keys or aggregates.');
    expect(error('SELECT META(t).id FROM travel t GROUP BY t.country').msg).to.equal('Expression (meta(`t`).`id`) must depend only on group keys or aggregates.');
  });

  it('group keys, expressions over them, aggregates, constants and LETTING names are fine, qualified or not', () => {
    expect(e.rows('SELECT country, t.country AS c2, LOWER(country) AS l, COUNT(*) AS n, 1 AS one FROM travel t WHERE country IS VALUED GROUP BY country ORDER BY country')).to.deep.equal([
      { c2: 'France', country: 'France', l: 'france', n: 3, one: 1 },
      { c2: 'United States', country: 'United States', l: 'united states', n: 3, one: 1 },
    ]);
    expect(e.rows('SELECT src, n FROM travel r WHERE r.type = "route" GROUP BY r.sourceairport AS src LETTING n = COUNT(*) ORDER BY src')).to.deep.equal([
      { n: 2, src: 'CDG' },
      { n: 1, src: 'SFO' },
    ]);
    expect(e.rows('SELECT r.sourceairport, ARRAY x FOR x IN ARRAY_AGG(r.stops) END AS s FROM travel r WHERE r.type = "route" GROUP BY r.sourceairport ORDER BY r.sourceairport')).to.deep.equal([
      { s: [0, 1], sourceairport: 'CDG' },
      { s: [0], sourceairport: 'SFO' },
    ]);
  });

  it('HAVING, LETTING and ORDER BY follow the same rule; ORDER BY may also use projection aliases', () => {
    expect(error('SELECT t.country FROM travel t GROUP BY t.country HAVING t.name = "Nice"').msg).to.equal(
      'Expression ((`t`.`name`) = "Nice") must depend only on group keys or aggregates.',
    );
    expect(error('SELECT t.country FROM travel t GROUP BY t.country LETTING x = t.city').msg).to.equal(
      'Expression (`t`.`city`) must depend only on group keys or aggregates.',
    );
    expect(error('SELECT t.country FROM travel t GROUP BY t.country ORDER BY t.name').msg).to.equal(
      'Expression (`t`.`name`) must depend only on group keys or aggregates.',
    );
    expect(e.rows('SELECT t.country AS k, COUNT(*) AS c FROM travel t WHERE t.type = "airport" GROUP BY t.country ORDER BY c DESC, k')).to.deep.equal([
      { c: 2, k: 'France' },
      { c: 1, k: 'United States' },
    ]);
  });

  it('a subquery correlated to the grouped rows is refused; an uncorrelated one is fine', () => {
    expect(error('SELECT t.country, (SELECT RAW s.day FROM t.schedule AS s) AS d FROM travel t GROUP BY t.country').msg).to.match(
      /^Expression \(select \.\.\.\) must depend only on group keys or aggregates\.$/,
    );
    expect(e.rows('SELECT t.country, (SELECT RAW 1)[0] AS one FROM travel t WHERE t.type = "airline" GROUP BY t.country ORDER BY t.country')).to.deep.equal([
      { country: 'France', one: 1 },
      { country: 'United States', one: 1 },
    ]);
  });

  it('LETTING without GROUP BY makes the whole input one group', () => {
    expect(e.rows('SELECT n, n * 2 AS twice FROM travel t WHERE t.type = "airline" LETTING n = COUNT(*)')).to.deep.equal([{ n: 3, twice: 6 }]);
    expect(e.rows('SELECT k FROM travel t WHERE t.type = "nothing" LETTING k = 5')).to.deep.equal([{ k: 5 }]);
    expect(error('SELECT t.name FROM travel t LETTING k = 5').msg).to.equal('Expression (`t`.`name`) must depend only on group keys or aggregates.');
  });

  it('HAVING without GROUP BY is a syntax error, as in Couchbase\'s grammar', () => {
    const err = error('SELECT COUNT(*) AS c FROM travel t HAVING COUNT(*) > 1');
    expect(err.code).to.equal(3000);
    expect(err.msg).to.match(/^syntax error - line 1, column 36, .*at: HAVING/i);
    expect(error('SELECT n FROM travel t LETTING n = COUNT(*) HAVING n > 1').code).to.equal(3000);
  });
});
