// ADVISE and ADVISOR() as the 7.6 SQL++ reference shows them (advise.adoc and its examples
// advise-indexes / advise-identical / advise-none, advisor.adoc's ADVISOR(string) example): the
// recommended index keys in the order of the documented predicate rules, covering indexes, the
// indexes the query uses now, and the 3250/3255/3256 errors of the query engine's errors source.
import { expect } from 'chai';
import { Engine } from './harness';

function airports(): Engine {
  const e = new Engine(['b']);
  const docs: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) docs[`airport_${i}`] = { type: 'airport', airportname: `A${i}`, city: i % 2 ? 'Paris' : 'London', activity: 'eat', geo: { alt: i * 50 } };
  e.load('b', docs);
  e.rows('CREATE PRIMARY INDEX idx_b_primary ON b');
  return e;
}
const advice = (e: Engine, q: string): any => (e.rows(`ADVISE ${q}`)[0] as any).advice.adviseinfo;

describe('n1ql ADVISE', () => {
  it('recommends an index and a covering index, listing the primary index the query uses (advise-indexes example)', () => {
    const e = airports();
    const [row] = e.rows('ADVISE SELECT airportname FROM b WHERE geo.alt NOT BETWEEN 0 AND 100') as any[];
    expect(row['#operator']).to.equal('Advise');
    expect(row.query).to.equal('SELECT airportname FROM b WHERE geo.alt NOT BETWEEN 0 AND 100');
    expect(row.advice).to.deep.equal({
      '#operator': 'IndexAdvice',
      adviseinfo: {
        current_indexes: [{ index_statement: 'CREATE PRIMARY INDEX idx_b_primary ON `default`:`b`', keyspace_alias: 'b' }],
        recommended_indexes: {
          covering_indexes: [{ index_statement: 'CREATE INDEX adv_geo_alt_airportname ON `default`:`b`(`geo`.`alt`,`airportname`)', keyspace_alias: 'b' }],
          indexes: [
            {
              index_statement: 'CREATE INDEX adv_geo_alt ON `default`:`b`(`geo`.`alt`)',
              keyspace_alias: 'b',
              recommending_rule: 'Index keys follow order of predicate types: 1. Common leading key for disjunction (5. less than/greater than).',
            },
          ],
        },
      },
    });
  });

  it('orders keys by the rules: equality, IN, ranges, less/greater, IS NOT NULL, LIKE', () => {
    const e = airports();
    const info = advice(e, 'INDEX SELECT * FROM b WHERE airportname LIKE "%x" AND geo.alt > 10 AND activity IS NOT NULL AND city IN ["Paris"] AND type = "airport" AND geo.alt <= 400');
    expect(info.recommended_indexes.indexes[0].index_statement).to.equal('CREATE INDEX adv_type_city_geo_alt_activity_airportname ON `default`:`b`(`type`,`city`,`geo`.`alt`,`activity`,`airportname`)');
    expect(info.recommended_indexes.indexes[0].recommending_rule).to.equal(
      'Index keys follow order of predicate types: 2. equality/null/missing, 3. in, 4. not less than/between/not greater than, 7. not null/not missing/valued, 8. like predicates.',
    );
    // SELECT * reads whole documents: no covering index. An alias is appended to keyspace_alias.
    expect(info.recommended_indexes.covering_indexes).to.equal(undefined);
    const aliased = advice(e, 'SELECT a.airportname FROM b AS a WHERE LOWER(a.city) = "paris" ORDER BY a.geo.alt');
    expect(aliased.recommended_indexes.indexes[0]).to.include({ index_statement: 'CREATE INDEX adv_lower_city ON `default`:`b`(lower(`city`))', keyspace_alias: 'b_a' });
    // Only equality keys: the ORDER BY key follows them, so the index gives the order.
    expect(aliased.recommended_indexes.covering_indexes[0]).to.deep.equal({
      index_property: 'ORDER pushdown',
      index_statement: 'CREATE INDEX adv_lower_city_geo_alt_airportname ON `default`:`b`(lower(`city`),`geo`.`alt`,`airportname`)',
      keyspace_alias: 'b_a',
    });
  });

  it('marks a current index that already is the recommendation (advise-identical) and says when there is nothing to recommend (advise-none)', () => {
    const e = airports();
    e.rows('CREATE INDEX def_city ON b(city)');
    expect(advice(e, 'SELECT * FROM b WHERE city LIKE "Par%" OR city LIKE "Lon%"')).to.deep.equal({
      current_indexes: [
        {
          index_statement: 'CREATE INDEX def_city ON `default`:`b`(`city`)',
          index_status: 'SAME TO THE INDEX WE CAN RECOMMEND',
          keyspace_alias: 'b',
          recommending_rule: 'Index keys follow order of predicate types: 1. Common leading key for disjunction (4. not less than/between/not greater than).',
        },
      ],
      recommended_indexes: 'No index recommendation at this time.',
    });
    expect(advice(e, 'SELECT * FROM b LIMIT 5')).to.deep.equal({
      current_indexes: [{ index_statement: 'CREATE PRIMARY INDEX idx_b_primary ON `default`:`b`', keyspace_alias: 'b' }],
      recommended_indexes: 'No index recommendation at this time.',
    });
  });

  it('advises UPDATE and DELETE, works with no index at all, and refuses other statements (3250)', () => {
    const e = new Engine(['b']);
    // No index used: no current_indexes. DELETE needs only document keys, so an index can cover it.
    expect(advice(e, 'DELETE FROM b WHERE city = "x"')).to.deep.equal({
      recommended_indexes: {
        covering_indexes: [{ index_statement: 'CREATE INDEX adv_city ON `default`:`b`(`city`)', keyspace_alias: 'b' }],
        indexes: [{ index_statement: 'CREATE INDEX adv_city ON `default`:`b`(`city`)', keyspace_alias: 'b', recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing.' }],
      },
    });
    expect(advice(e, 'UPDATE b SET x = 1 WHERE n > 3').recommended_indexes.indexes[0].index_statement).to.equal('CREATE INDEX adv_n ON `default`:`b`(`n`)');
    expect(e.run('ADVISE CREATE INDEX i ON b(x)').errors).to.deep.equal([{ code: 3250, msg: 'Advise supports SELECT, MERGE, UPDATE and DELETE statements only.' }]);
  });
});

describe('n1ql ADVISOR()', () => {
  it('gives current_used_indexes and recommended indexes with the statements and their run counts (ADVISOR(string), ADVISOR(array))', () => {
    const e = airports();
    e.rows('CREATE INDEX def_city ON b(city)');
    const q1 = "SELECT * FROM b WHERE activity = 'eat' AND city = 'Paris'";
    const [single] = e.rows(`SELECT ADVISOR("${q1}") AS Single`) as any[];
    expect(single).to.deep.equal({
      Single: {
        current_used_indexes: [{ index: 'CREATE INDEX def_city ON `default`:`b`(`city`)', statements: [{ run_count: 1, statement: q1 }] }],
        recommended_indexes: [{ index: 'CREATE INDEX adv_activity_city ON `default`:`b`(`activity`,`city`)', statements: [{ run_count: 1, statement: q1 }] }],
      },
    });
    const q2 = 'SELECT airportname FROM b WHERE geo.alt > 3';
    const [multi] = e.rows(`SELECT RAW ADVISOR(["${q1}", "${q1}", "${q2}"])`) as any[];
    expect(multi.recommended_indexes.map((x: any) => [x.index, x.statements])).to.deep.equal([
      ['CREATE INDEX adv_activity_city ON `default`:`b`(`activity`,`city`)', [{ run_count: 2, statement: q1 }]],
      ['CREATE INDEX adv_geo_alt ON `default`:`b`(`geo`.`alt`)', [{ run_count: 1, statement: q2 }]],
    ]);
    expect(multi.recommended_covering_indexes[0].index).to.equal('CREATE INDEX adv_geo_alt_airportname ON `default`:`b`(`geo`.`alt`,`airportname`)');
  });

  it('stands only in the projection of a SELECT without FROM (3255, 3256)', () => {
    const e = airports();
    expect(e.run('SELECT 1 FROM b WHERE ADVISOR("x") IS NOT NULL').errors).to.deep.equal([{ code: 3255, msg: 'Advisor function is only allowed in projection clause.' }]);
    expect(e.run('SELECT ADVISOR("SELECT 1") FROM b').errors).to.deep.equal([{ code: 3256, msg: 'FROM clause is not allowed when Advisor function is present in projection clause.' }]);
  });
});
