// Index selection and plans as Couchbase 7.6 makes them: array indexes (ALL / DISTINCT ARRAY,
// ALL arr, DISTINCT arr) for ANY ... SATISFIES and UNNEST, partial and composite indexes,
// INCLUDE MISSING, covering scans without a fetch, index order for ORDER BY ... LIMIT without a
// sort, and EXPLAIN in the server's shape (EXPLAIN, Covering Indexes, Array Indexing and
// CREATE INDEX references).
import { expect } from 'chai';
import { travelEngine } from './fixture';
import { Engine } from './harness';

/** The operators of a plan, depth first. */
function operators(plan: unknown): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  const walk = (x: any): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      if (typeof x['#operator'] === 'string') out.push(x);
      Object.values(x).forEach(walk);
    }
  };
  walk(plan);
  return out;
}

function plan(e: Engine, stmt: string): Record<string, any>[] {
  const [row] = e.rows('EXPLAIN ' + stmt) as any[];
  return operators(row.plan);
}

const scan = (ops: Record<string, any>[]): Record<string, any> => ops.find((o) => /Scan/.test(o['#operator']))!;
const names = (ops: Record<string, any>[]): string[] => ops.map((o) => o['#operator']);

describe('n1ql index selection and plans', () => {
  describe('array indexes', () => {
    const e = travelEngine();
    e.rows('DROP PRIMARY INDEX ON travel');
    e.rows('CREATE INDEX ix_days ON travel(DISTINCT ARRAY s.day FOR s IN schedule END)');
    e.rows('CREATE INDEX ix_flights ON travel(ALL ARRAY s.flight FOR s IN schedule END)');

    it('serves ANY ... SATISFIES from the matching array index', () => {
      expect(scan(plan(e, 'SELECT META().id FROM travel WHERE ANY s IN schedule SATISFIES s.day = 3 END')).index).to.equal('ix_days');
      expect(e.rows('SELECT RAW META().id FROM travel WHERE ANY s IN schedule SATISFIES s.day IN [1, 3] END ORDER BY META().id')).to.deep.equal(['route_1', 'route_2']);
      expect(e.rows('SELECT RAW META().id FROM travel WHERE ANY x IN schedule SATISFIES x.flight LIKE "BJ%" END')).to.deep.equal(['route_2']);
    });

    it('serves UNNEST from the array index of the unnested array', () => {
      const ops = plan(e, 'SELECT s.flight FROM travel t UNNEST t.schedule AS s WHERE s.day = 0');
      expect(scan(ops).index).to.equal('ix_days');
      expect(names(ops)).to.include('Unnest');
      expect(e.rows('SELECT RAW s.flight FROM travel t UNNEST t.schedule AS s WHERE s.day = 0')).to.deep.equal(['AA100']);
      expect(e.rows('SELECT RAW s.flight FROM travel UNNEST schedule AS s WHERE s.flight = "AA101"')).to.deep.equal(['AA101']);
    });

    it('takes ALL arr and DISTINCT arr as the array of the elements themselves', () => {
      const t = new Engine(['b']);
      t.load('b', { d1: { tags: ['x', 'y'] }, d2: { tags: ['y'] }, d3: { tags: [] } });
      t.rows('CREATE INDEX ix_tags ON b(DISTINCT tags)');
      expect(t.rows('SELECT RAW index_key FROM system:indexes WHERE name = "ix_tags"')).to.deep.equal([['(distinct (array `v` for `v` in `tags` end))']]);
      expect(scan(plan(t, 'SELECT RAW META().id FROM b WHERE ANY v IN tags SATISFIES v = "y" END')).index).to.equal('ix_tags');
      expect(t.rows('SELECT RAW META().id FROM b WHERE ANY v IN tags SATISFIES v = "y" END ORDER BY META().id')).to.deep.equal(['d1', 'd2']);
    });

    it('answers 4000 where no index serves the query and there is no primary index', () => {
      expect(e.run('SELECT * FROM travel WHERE type = "airline"').errors).to.deep.equal([
        {
          code: 4000,
          msg: 'No index available on keyspace `default`:`travel` that matches your query. Use CREATE PRIMARY INDEX ON `default`:`travel` to create a primary index, or check that your expected index is online.',
        },
      ]);
    });
  });

  describe('secondary, partial and INCLUDE MISSING indexes', () => {
    const e = travelEngine();
    e.rows('DROP PRIMARY INDEX ON travel');
    e.rows('CREATE INDEX ix_country ON travel(country, name) WHERE type = "airline"');
    e.rows('CREATE INDEX ix_iata ON travel(iata)');
    e.rows('CREATE INDEX ix_city ON travel(city INCLUDE MISSING)');

    it('uses a partial index only when the query implies its condition', () => {
      expect(scan(plan(e, 'SELECT name FROM travel WHERE type = "airline" AND country = "France"')).index).to.equal('ix_country');
      expect(e.rows('SELECT RAW name FROM travel WHERE type = "airline" AND country = "United States" ORDER BY name')).to.deep.equal(['Beta Jet', 'Gamma']);
      expect(scan(plan(e, 'SELECT name FROM travel WHERE country = "France"')).index).to.equal('ix_city'); // only INCLUDE MISSING holds every document
    });

    it('makes IS NULL, != and OR on one key sargable', () => {
      expect(scan(plan(e, 'SELECT META().id FROM travel WHERE iata IS NULL')).index).to.equal('ix_iata');
      expect(e.rows('SELECT RAW META().id FROM travel WHERE iata IS NULL')).to.deep.equal(['airline_3']);
      expect(e.rows('SELECT RAW META().id FROM travel WHERE iata != "AA" ORDER BY META().id')).to.deep.equal(['airline_2']);
      expect(e.rows('SELECT RAW iata FROM travel WHERE iata = "AA" OR iata = "BJ" ORDER BY iata')).to.deep.equal(['AA', 'BJ']);
    });

    it('with INCLUDE MISSING on its leading key, an index serves a query with no predicate', () => {
      expect(scan(plan(e, 'SELECT META().id FROM travel')).index).to.equal('ix_city');
      expect(e.rows('SELECT RAW META().id FROM travel').length).to.equal(9);
    });
  });

  describe('covering scans and index order', () => {
    const e = travelEngine();
    e.rows('CREATE INDEX ix_type_id ON travel(type, id)');

    it('covers a query the index holds entirely: no Fetch, covers listed (Covering Indexes reference)', () => {
      const ops = plan(e, 'SELECT id, META().id AS k FROM travel WHERE type = "airport" AND id > 1');
      const s = scan(ops);
      expect(s['#operator']).to.equal('IndexScan3');
      expect(s.covers).to.deep.equal(['cover ((`travel`.`type`))', 'cover ((`travel`.`id`))', 'cover ((meta(`travel`).`id`))']);
      expect(names(ops)).to.not.include('Fetch');
      expect(e.rows('SELECT id, META().id AS k FROM travel WHERE type = "airport" AND id > 1 ORDER BY id')).to.deep.equal([
        { id: 2, k: 'airport_2' },
        { id: 3, k: 'airport_3' },
      ]);
      expect(e.rows('SELECT COUNT(*) AS n, MAX(id) AS m FROM travel WHERE type = "route"')).to.deep.equal([{ n: 3, m: 3 }]);
    });

    it('fetches when the query reads more than the index holds', () => {
      const ops = plan(e, 'SELECT name FROM travel WHERE type = "airline"');
      expect(scan(ops).covers).to.equal(undefined);
      expect(names(ops)).to.include('Fetch');
      expect(names(plan(e, 'SELECT META().cas FROM travel WHERE type = "airline"'))).to.include('Fetch');
    });

    it('gives ORDER BY from the index order: no Order operator, the first rows only', () => {
      const ops = plan(e, 'SELECT name FROM travel WHERE type = "airport" ORDER BY id LIMIT 2');
      expect(names(ops)).to.not.include('Order');
      expect(e.rows('SELECT RAW airportname FROM travel WHERE type = "airport" ORDER BY id LIMIT 2')).to.deep.equal(['Paris Intl', 'San Francisco Intl']);
      expect(e.rows('SELECT RAW airportname FROM travel WHERE type = "airport" ORDER BY id LIMIT 2 OFFSET 1')).to.deep.equal(['San Francisco Intl', 'Nice']);
      // Against the index direction, the rows are sorted.
      expect(names(plan(e, 'SELECT name FROM travel WHERE type = "airport" ORDER BY id DESC'))).to.include('Order');
      expect(e.rows('SELECT RAW id FROM travel WHERE type = "airport" ORDER BY id DESC')).to.deep.equal([3, 2, 1]);
      // ORDER BY a result alias of the key.
      expect(names(plan(e, 'SELECT id AS n FROM travel WHERE type = "airport" ORDER BY n'))).to.not.include('Order');
      // The primary index gives META().id order.
      expect(names(plan(e, 'SELECT META().id FROM travel ORDER BY META().id LIMIT 3'))).to.not.include('Order');
      expect(e.rows('SELECT RAW META().id FROM travel ORDER BY META().id LIMIT 3')).to.deep.equal(['airline_1', 'airline_2', 'airline_3']);
    });

    it('shows the plan in the server\'s shape (EXPLAIN reference example)', () => {
      const [row] = e.rows('EXPLAIN SELECT name, city FROM travel WHERE type = "airport" ORDER BY name') as any[];
      expect(row.text).to.equal('SELECT name, city FROM travel WHERE type = "airport" ORDER BY name');
      const top = row.plan;
      expect(top['#operator']).to.equal('Sequence');
      expect(top['~children'].map((c: any) => c['#operator'])).to.deep.equal(['Sequence', 'Order']);
      expect(top['~children'][0]['~children'].map((c: any) => c['#operator'])).to.deep.equal(['IndexScan3', 'Fetch', 'Parallel']);
      const par = top['~children'][0]['~children'][2]['~child'];
      expect(par['~children']).to.deep.equal([
        { '#operator': 'Filter', condition: '((`travel`.`type`) = "airport")' },
        { '#operator': 'InitialProject', result_terms: [{ expr: '(`travel`.`name`)' }, { expr: '(`travel`.`city`)' }] },
      ]);
      expect(top['~children'][1]).to.deep.equal({ '#operator': 'Order', sort_terms: [{ expr: '`name`' }] });
      expect(scan(operators(top)).spans).to.deep.equal([{ exact: true, range: [{ high: '"airport"', inclusion: 3, index_key: '`type`', low: '"airport"' }] }]);
    });
  });
});

describe('n1ql EXPLAIN of a SELECT without FROM', () => {
  it('plans a DummyScan and runs the projection with maxParallelism 1, as the server does', () => {
    const e = travelEngine();
    const [row] = e.rows('EXPLAIN SELECT CLOCK_STR("2006-01-02")') as { plan: unknown }[];
    expect(row.plan).to.deep.equal({
      '#operator': 'Sequence',
      '~children': [
        { '#operator': 'DummyScan' },
        { '#operator': 'Parallel', maxParallelism: 1, '~child': { '#operator': 'Sequence', '~children': [{ '#operator': 'InitialProject', result_terms: [{ expr: 'clock_str("2006-01-02")' }] }] } },
      ],
    });
  });
});
