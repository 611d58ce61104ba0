// The index advisor's rules beyond single-keyspace predicates, with the output shapes of the
// 7.x query engine's own advise test cases (test/gsi/test_cases/advise: joins, ANY, UNNEST,
// disjunctions, pushdowns) and the 7.6 reference (advise.adoc and its advise-optimal example).
// Expected values are written from those forms; the keyspace is written with its namespace
// (`default`:`ks`), as the reference's examples write it.
import { expect } from 'chai';
import { Engine } from './harness';

const KS = '`default`:`t`';
const info = (e: Engine, q: string): any => {
  const o = e.run(`ADVISE ${q}`);
  if (o.errors.length) throw new Error(JSON.stringify(o.errors));
  return (o.rows[0] as any).advice.adviseinfo;
};
const rec = (e: Engine, q: string): any => info(e, q).recommended_indexes;
const statements = (xs: any[] | undefined): string[] => (xs ?? []).map((x) => x.index_statement);

describe('n1ql ADVISE rules', () => {
  const e = new Engine(['t']);

  it('joins: each keyspace gets its index, the inner one keyed on its side of the ON equality (rule 9)', () => {
    const q = 'SELECT a1.c12, a2.c22 FROM t a1 JOIN t a2 ON a1.c11 = a2.c21 AND a2.test_id = "advise" WHERE a1.test_id = "advise" AND a1.c12 < 40';
    expect(rec(e, q)).to.deep.equal({
      covering_indexes: [
        { index_statement: `CREATE INDEX adv_test_id_c12_c11 ON ${KS}(\`test_id\`,\`c12\`,\`c11\`)`, keyspace_alias: 't_a1' },
        { index_statement: `CREATE INDEX adv_test_id_c21_c22 ON ${KS}(\`test_id\`,\`c21\`,\`c22\`)`, keyspace_alias: 't_a2' },
      ],
      indexes: [
        { index_statement: `CREATE INDEX adv_test_id_c12 ON ${KS}(\`test_id\`,\`c12\`)`, keyspace_alias: 't_a1', recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing, 5. less than/greater than.' },
        { index_statement: `CREATE INDEX adv_test_id_c21 ON ${KS}(\`test_id\`,\`c21\`)`, keyspace_alias: 't_a2', recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing, 9. non-static join predicate.' },
      ],
    });
    // s1.* reads whole documents: no covering index for s1; an ON conjunct on s1 alone keys s1.
    const r = rec(e, 'SELECT s1.*, s2.c22 FROM t s1 JOIN t s2 ON ANY v IN s1.a11 SATISFIES v = s2.c22 END AND LENGTH(s2.a22) < 5 AND s2.test_id = "advise" AND s1.id IS NOT NULL');
    expect(statements(r.indexes)).to.deep.equal([`CREATE INDEX adv_id ON ${KS}(\`id\`)`, `CREATE INDEX adv_test_id_length_a22 ON ${KS}(\`test_id\`,length(\`a22\`))`]);
    expect(r.indexes[0].recommending_rule).to.equal('Index keys follow order of predicate types: 7. not null/not missing/valued.');
    expect(statements(r.covering_indexes)).to.deep.equal([`CREATE INDEX adv_test_id_length_a22_c22 ON ${KS}(\`test_id\`,length(\`a22\`),\`c22\`)`]);
  });

  it('MERGE: the source by its ON filters, the target by its side of the ON equality', () => {
    const r = rec(e, 'MERGE INTO t a2 USING t a1 ON a1.c12 = a2.c22 AND a1.test_id = "advise" WHEN MATCHED THEN UPDATE SET a2.type = a1.type');
    expect(r.indexes.map((x: any) => [x.index_statement, x.keyspace_alias])).to.deep.equal([
      [`CREATE INDEX adv_test_id ON ${KS}(\`test_id\`)`, 't_a1'],
      [`CREATE INDEX adv_c22 ON ${KS}(\`c22\`)`, 't_a2'],
    ]);
    expect(r.covering_indexes).to.equal(undefined);
  });

  it('ANY ... SATISFIES: a DISTINCT ARRAY key with the rule of its predicate, named after the whole predicate', () => {
    expect(rec(e, 'SELECT * FROM t WHERE test_id = "advise" AND ANY x IN a21, y IN a22 SATISFIES [x, y] < [3, 40] END').indexes).to.deep.equal([
      {
        index_statement: `CREATE INDEX adv_test_id_DISTINCT_a21_a22 ON ${KS}(\`test_id\`,DISTINCT ARRAY [\`x\`, \`y\`] FOR x in \`a21\`, y in \`a22\` END)`,
        keyspace_alias: 't',
        recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing, 5. less than/greater than.',
      },
    ]);
    // One key answers the whole predicate: the array key covers it.
    const or = rec(e, 'SELECT type FROM t WHERE ANY x IN a21 SATISFIES x.id < 10 OR x.id > 20 END');
    expect(statements(or.indexes)).to.deep.equal([`CREATE INDEX adv_DISTINCT_a21_id_id ON ${KS}(DISTINCT ARRAY \`x\`.\`id\` FOR x in \`a21\` END)`]);
    expect(statements(or.covering_indexes)).to.deep.equal([`CREATE INDEX adv_DISTINCT_a21_id_id_type ON ${KS}(DISTINCT ARRAY \`x\`.\`id\` FOR x in \`a21\` END,\`type\`)`]);
    // A second condition the key does not hold: no covering index.
    const and = rec(e, 'SELECT type FROM t WHERE ANY x IN a21 SATISFIES x.id < 10 AND x.name IS NOT NULL END');
    expect(statements(and.indexes)).to.deep.equal([`CREATE INDEX adv_DISTINCT_a21_id_name ON ${KS}(DISTINCT ARRAY \`x\`.\`id\` FOR x in \`a21\` END)`]);
    expect(and.covering_indexes).to.equal(undefined);
    // Nested ANY: nested arrays, the equality key preferred.
    expect(statements(rec(e, 'SELECT type FROM t WHERE ANY x IN a21 SATISFIES (ANY y IN x.fields SATISFIES y.id < 10 AND LENGTH(y.name) = 20 END) END').indexes)).to.deep.equal([
      `CREATE INDEX adv_DISTINCT_a21_fields_id_length_name ON ${KS}(DISTINCT ARRAY (DISTINCT ARRAY length((\`y\`.\`name\`)) FOR y in \`x\`.\`fields\` END) FOR x in \`a21\` END)`,
    ]);
    // Arms on different keys: nothing to index, and with no index used at all a primary index may apply.
    expect(info(e, 'SELECT type FROM t WHERE ANY x IN a21 SATISFIES x.id < 10 OR x.name IS NOT NULL END')).to.deep.equal({ recommended_indexes: 'No index recommendation at this time, primary index may apply.' });
  });

  it('UNNEST: a leading ALL array key over the unnested array (rule 1), nested for UNNEST of UNNEST', () => {
    expect(rec(e, 'SELECT * FROM t a1 UNNEST a1.a11 AS a2 WHERE a1.test_id = "advise" AND a2 < 3').indexes).to.deep.equal([
      {
        index_statement: `CREATE INDEX adv_ALL_a11_test_id ON ${KS}(ALL \`a11\`,\`test_id\`)`,
        keyspace_alias: 't_a1',
        recommending_rule: 'Index keys follow order of predicate types: 1. leading array index for unnest, 2. equality/null/missing.',
      },
    ]);
    const nested = rec(e, 'SELECT COUNT(*) FROM t UNNEST schedule AS x UNNEST x.special_flights AS y WHERE y.flight IS NOT NULL');
    const key = `CREATE INDEX adv_ALL_schedule_special_flights_flight ON ${KS}(ALL ARRAY (ALL ARRAY \`y\`.\`flight\` FOR y IN \`x\`.\`special_flights\` END) FOR x IN \`schedule\` END)`;
    expect(statements(nested.indexes)).to.deep.equal([key]);
    expect(statements(nested.covering_indexes)).to.deep.equal([key]);
    // A key over the outer array only cannot give the inner UNNEST: no covering index.
    const outer = rec(e, 'SELECT COUNT(*) FROM t UNNEST schedule AS x UNNEST x.special_flights AS y WHERE x.flight IS NOT NULL');
    expect(statements(outer.indexes)).to.deep.equal([`CREATE INDEX adv_ALL_schedule_flight ON ${KS}(ALL ARRAY \`x\`.\`flight\` FOR x IN \`schedule\` END)`]);
    expect(outer.covering_indexes).to.equal(undefined);
    // No predicate on the unnested values: the array itself leads.
    expect(statements(rec(e, 'SELECT * FROM t st UNNEST address addr WHERE st.id < 10').indexes)).to.deep.equal([`CREATE INDEX adv_ALL_address_id ON ${KS}(ALL \`address\`,\`id\`)`]);
    // Compared with the document: the unnested side is the key, the other side is covered.
    const r = rec(e, 'SELECT t.type, branch.Id FROM t AS t UNNEST t.branches AS branch WHERE t.type IS VALUED AND branch.Id > (t.cur - 2)');
    expect(r.indexes[0]).to.include({
      index_statement: `CREATE INDEX adv_ALL_branches_Id_type ON ${KS}(ALL ARRAY \`branch\`.\`Id\` FOR branch IN \`branches\` END,\`type\`)`,
      recommending_rule: 'Index keys follow order of predicate types: 1. leading array index for unnest, 7. not null/not missing/valued.',
    });
    expect(statements(r.covering_indexes)).to.deep.equal([`CREATE INDEX adv_ALL_branches_Id_type_cur_sub_2 ON ${KS}(ALL ARRAY \`branch\`.\`Id\` FOR branch IN \`branches\` END,\`type\`,\`cur\`-2)`]);
  });

  it('disjunctions: keys common to every arm lead, one index per group of arms sharing keys', () => {
    const one = rec(e, 'SELECT c11 FROM t WHERE a11 IS NOT NULL AND ((c11 IN [1, 2, 3, 4] AND c12 < 10) OR (c12 <= 30 AND c22 > 50)) AND test_id = "advise"');
    expect(one.indexes).to.deep.equal([
      {
        index_statement: `CREATE INDEX adv_test_id_c12_a11_c11_c22 ON ${KS}(\`test_id\`,\`c12\`,\`a11\`,\`c11\`,\`c22\`)`,
        keyspace_alias: 't',
        recommending_rule:
          'Index keys follow order of predicate types: 1. Common leading key for disjunction (2. equality/null/missing, 4. not less than/between/not greater than, 7. not null/not missing/valued), 3. in, 5. less than/greater than.',
      },
    ]);
    expect(statements(one.covering_indexes)).to.deep.equal([`CREATE INDEX adv_test_id_c12_a11_c11_c22 ON ${KS}(\`test_id\`,\`c12\`,\`a11\`,\`c11\`,\`c22\`)`]);
    const two = rec(e, 'SELECT c11 FROM t WHERE a11 < 10 OR (a11 > 11 AND c11 IN [10, 20]) OR c2 > 30');
    expect(two.indexes.map((x: any) => [x.index_statement, x.recommending_rule])).to.deep.equal([
      [`CREATE INDEX adv_a11_c11 ON ${KS}(\`a11\`,\`c11\`)`, 'Index keys follow order of predicate types: 1. Common leading key for disjunction (5. less than/greater than), 3. in.'],
      [`CREATE INDEX adv_c2 ON ${KS}(\`c2\`)`, 'Index keys follow order of predicate types: 5. less than/greater than.'],
    ]);
    expect(two.covering_indexes).to.equal(undefined);
    // IS MISSING cannot lead an index (documents missing the leading key are not in it): `x IS MISSING` leads a partial index on it.
    expect(rec(e, 'SELECT c21 FROM t WHERE a11 IS MISSING AND (a21 IS NULL OR a31 < 10)').indexes.map((x: any) => [x.index_statement, x.recommending_rule])).to.deep.equal([
      [`CREATE INDEX adv_a21_a11 ON ${KS}(\`a21\`,\`a11\`)`, 'Index keys follow order of predicate types: 2. equality/null/missing.'],
      [`CREATE INDEX adv_a11ISMISSING_a31 ON ${KS}(\`a11\` IS MISSING,\`a31\`) WHERE \`a11\` IS MISSING`, 'Index keys follow order of predicate types: 2. equality/null/missing, 5. less than/greater than.'],
    ]);
    expect(statements(rec(e, 'SELECT c21 FROM t WHERE a11 = 10 OR a12 IS NULL OR a13 IS MISSING').indexes)).to.deep.equal([
      `CREATE INDEX adv_a11 ON ${KS}(\`a11\`)`,
      `CREATE INDEX adv_a12 ON ${KS}(\`a12\`)`,
      `CREATE INDEX adv_a13ISMISSING ON ${KS}(\`a13\` IS MISSING) WHERE \`a13\` IS MISSING`,
    ]);
    // Within rule 2, equality keys before IS NULL / IS MISSING ones.
    expect(statements(rec(e, 'SELECT c21 FROM t WHERE a11 IS MISSING AND type = "advise"').indexes)).to.deep.equal([`CREATE INDEX adv_type_a11 ON ${KS}(\`type\`,\`a11\`)`]);
  });

  it('covering indexes: pushdowns of ORDER BY and LIMIT, expressions kept whole, LET inlined, FROM subqueries looked into', () => {
    expect(rec(e, 'SELECT c11 FROM t WHERE test_id = "advise" ORDER BY c11 DESC LIMIT 2').covering_indexes).to.deep.equal([
      { index_property: 'ORDER pushdown, LIMIT pushdown', index_statement: `CREATE INDEX adv_test_id_c11DESC ON ${KS}(\`test_id\`,\`c11\` DESC)`, keyspace_alias: 't' },
    ]);
    expect(rec(e, 'SELECT c11 FROM t WHERE test_id = "advise" LIMIT 2').covering_indexes).to.deep.equal([
      { index_property: 'LIMIT pushdown', index_statement: `CREATE INDEX adv_test_id_c11 ON ${KS}(\`test_id\`,\`c11\`)`, keyspace_alias: 't' },
    ]);
    // A predicate the keys leave to check: no pushdown.
    expect(rec(e, 'SELECT c11 FROM t WHERE test_id = "advise" AND c13 != 3 LIMIT 2').covering_indexes[0].index_property).to.equal(undefined);
    expect(statements(rec(e, 'SELECT c11 + c12 FROM t WHERE test_id = "advise" AND c21 > 1').covering_indexes)).to.deep.equal([`CREATE INDEX adv_test_id_c21_c11_add_c12 ON ${KS}(\`test_id\`,\`c21\`,\`c11\`+\`c12\`)`]);
    expect(statements(rec(e, 'SELECT st.a11 FROM t st LET score = IFMISSING(st.c11, 0) + st.c12 WHERE score > 0 AND test_id = "advise"').indexes)).to.deep.equal([
      `CREATE INDEX adv_test_id_ifmissing_c11_0_add_c12 ON ${KS}(\`test_id\`,ifmissing(\`c11\`, 0)+\`c12\`)`,
    ]);
    expect(statements(rec(e, 'SELECT * FROM (SELECT * FROM t WHERE a11 > 0) sub').indexes)).to.deep.equal([`CREATE INDEX adv_a11 ON ${KS}(\`a11\`)`]);
    // The alias alone is the document: `self`.
    expect(statements(rec(e, 'SELECT a[1] FROM t AS a WHERE a[1] = 10').indexes)).to.deep.equal([`CREATE INDEX adv_self1 ON ${KS}(self[1])`]);
  });

  it('GROUP BY and aggregates the index can compute: their arguments covered (DISTINCT ones first), the pushdowns named', () => {
    expect(rec(e, 'SELECT AVG(c), SUM(DISTINCT d) FROM t WHERE a = 10 AND b < 10 GROUP BY b').covering_indexes).to.deep.equal([
      { index_property: 'FULL GROUPBY & AGGREGATES pushdown, GROUPBY & AGGREGATES pushdown', index_statement: `CREATE INDEX adv_a_b_d_c ON ${KS}(\`a\`,\`b\`,\`d\`,\`c\`)`, keyspace_alias: 't' },
    ]);
    // ARRAY_AGG is no index aggregate: covered, not pushed down.
    expect(rec(e, 'SELECT ARRAY_AGG(c) FROM t WHERE a = 10 GROUP BY a').covering_indexes).to.deep.equal([{ index_statement: `CREATE INDEX adv_a_c ON ${KS}(\`a\`,\`c\`)`, keyspace_alias: 't' }]);
  });

  it('long names end in a checksum of the whole name', () => {
    const name = rec(e, 'SELECT * FROM t WHERE a_very_long_field_name_one = 1 AND a_very_long_field_name_two = 2 AND a_very_long_field_name_three = 3').indexes[0].index_statement.split(' ')[2];
    expect(name).to.match(/^adv_a_very_long_field_name_one_a_very_long_field_name_two_a_very\d+$/);
    expect(name.slice(0, 64)).to.have.length(64);
  });

  it('an index in use that is the covering index is marked optimal (advise-optimal), one that is the index SAME', () => {
    const x = new Engine(['t']);
    x.load('t', { a: { city: 'Paris', name: 'x' } });
    x.rows('CREATE INDEX def_city ON t(city)');
    expect(info(x, 'SELECT city FROM t WHERE city LIKE "Par%" OR city LIKE "Lon%"')).to.deep.equal({
      current_indexes: [{ index_statement: 'CREATE INDEX def_city ON `default`:`t`(`city`)', index_status: 'THIS IS AN OPTIMAL COVERING INDEX.', keyspace_alias: 't' }],
      recommended_indexes: 'No index recommendation at this time.',
    });
    const same = info(x, 'SELECT name FROM t WHERE city = "Paris"');
    expect(same.current_indexes).to.deep.equal([
      {
        index_statement: 'CREATE INDEX def_city ON `default`:`t`(`city`)',
        index_status: 'SAME TO THE INDEX WE CAN RECOMMEND',
        keyspace_alias: 't',
        recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing.',
      },
    ]);
    expect(same.recommended_indexes).to.deep.equal({ covering_indexes: [{ index_statement: 'CREATE INDEX adv_city_name ON `default`:`t`(`city`,`name`)', keyspace_alias: 't' }], indexes: [] });
  });
});

describe('n1ql ADVISE partial indexes (rule 10)', () => {
  // Two flavors of documents, told apart by `type` (as travel-sample's are).
  const e = new Engine(['ts']);
  const docs: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) docs[`h${i}`] = { type: 'hotel', name: `H${i}`, city: i % 2 ? 'Paris' : 'Rome', free_parking: true };
  for (let i = 0; i < 10; i++) docs[`a${i}`] = { type: 'airport', airportname: `A${i}`, city: 'Paris', faa: `X${i}` };
  e.load('ts', docs);
  const TS = '`default`:`ts`';

  it('an equality on a flavor\'s field is the partial index condition (the ADVISOR examples of the reference)', () => {
    expect(rec(e, "SELECT * FROM ts WHERE type = 'hotel' AND city = 'Paris'").indexes).to.deep.equal([
      {
        index_statement: `CREATE INDEX adv_city_type ON ${TS}(\`city\`) WHERE \`type\` = 'hotel'`,
        keyspace_alias: 'ts',
        recommending_rule: 'Index keys follow order of predicate types: 2. equality/null/missing, 10. flavor for partial index.',
      },
    ]);
    const join = rec(e, "SELECT h.name, a.airportname FROM ts h JOIN ts a ON h.city = a.city WHERE h.type = 'hotel' LIMIT 5");
    expect(statements(join.indexes)).to.deep.equal([`CREATE INDEX adv_city_type ON ${TS}(\`city\`) WHERE \`type\` = 'hotel'`, `CREATE INDEX adv_city ON ${TS}(\`city\`)`]);
    expect(statements(join.covering_indexes)).to.deep.equal([`CREATE INDEX adv_city_type_name ON ${TS}(\`city\`,\`name\`) WHERE \`type\` = 'hotel'`, `CREATE INDEX adv_city_airportname ON ${TS}(\`city\`,\`airportname\`)`]);
  });

  it('not for a value every document has, nor when the flavor is the only key', () => {
    expect(statements(rec(e, "SELECT * FROM ts WHERE type = 'hotel'").indexes)).to.deep.equal([`CREATE INDEX adv_type ON ${TS}(\`type\`)`]);
    const one = new Engine(['t1']);
    one.load('t1', { a: { test_id: 'advise', c11: 1 }, b: { test_id: 'advise', c11: 2 } });
    expect(statements(rec(one, 'SELECT * FROM t1 WHERE test_id = "advise" AND c11 < 2').indexes)).to.deep.equal(['CREATE INDEX adv_test_id_c11 ON `default`:`t1`(`test_id`,`c11`)']);
  });
});

describe('n1ql ADVISOR() over many statements', () => {
  it('takes {statement, query_context} objects, leaves out ADVISE and system statements, and reports what it could not advise on', () => {
    const e = new Engine(['t']);
    const [r] = e.rows(
      'SELECT RAW ADVISOR([{"statement": "SELECT * FROM t WHERE x = 1"}, "SELECT * FROM t WHERE x = 1", "ADVISE SELECT * FROM t WHERE y = 1", "SELECT * FROM system:indexes WHERE y = 1", "SELECT * FROM nowhere WHERE z = 1"])',
    ) as any[];
    expect(r.recommended_indexes).to.deep.equal([{ index: 'CREATE INDEX adv_x ON `default`:`t`(`x`)', statements: [{ run_count: 2, statement: 'SELECT * FROM t WHERE x = 1' }] }]);
    expect(r.errors).to.have.length(1);
    expect(r.errors[0]).to.include({ run_count: 1, statement: 'SELECT * FROM nowhere WHERE z = 1' });
    expect(r.errors[0].error).to.contain('nowhere');
    // Nothing to advise on: an empty array.
    expect(e.rows('SELECT RAW ADVISOR(["ADVISE SELECT 1"])')).to.deep.equal([[]]);
    expect(e.rows('SELECT RAW ADVISOR(5)')).to.deep.equal([[]]);
  });
});
