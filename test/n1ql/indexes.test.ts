import { expect } from 'chai';
import { Engine } from './harness';
import { DOCS } from './fixture';

describe('n1ql indexes and DDL', () => {
  let e: Engine;
  beforeEach(() => {
    e = new Engine(['travel']);
    e.load('travel', DOCS);
  });
  const plan = (stmt: string): any => (e.rows(`EXPLAIN ${stmt}`)[0] as any).plan;
  const scans = (p: any): any[] => {
    const out: any[] = [];
    const walk = (x: any): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        if (typeof x['#operator'] === 'string' && /Scan/.test(x['#operator'])) out.push(x);
        Object.values(x).forEach(walk);
      }
    };
    walk(p);
    return out;
  };

  it('without any index a keyspace scan fails with 4000 and Couchbase\'s advice', () => {
    const out = e.run('SELECT * FROM travel');
    expect(out.errors).to.deep.equal([
      {
        code: 4000,
        msg: 'No index available on keyspace `default`:`travel` that matches your query. Use CREATE PRIMARY INDEX ON `default`:`travel` to create a primary index, or check that your expected index is online.',
      },
    ]);
    expect(e.rows('SELECT RAW META().id FROM travel USE KEYS "route_1"')).to.deep.equal(['route_1']);
  });

  it('CREATE PRIMARY INDEX enables full scans and shows in system:indexes', () => {
    e.rows('CREATE PRIMARY INDEX ON travel');
    expect(e.rows('SELECT RAW COUNT(*) FROM travel')).to.deep.equal([9]);
    const rows = e.rows('SELECT i.name, i.keyspace_id, i.is_primary, i.state, i.`using`, i.index_key FROM system:indexes AS i');
    expect(rows).to.deep.equal([{ index_key: [], is_primary: true, keyspace_id: 'travel', name: '#primary', state: 'online', using: 'gsi' }]);
  });

  it('a secondary index serves equality and range predicates, as EXPLAIN shows', () => {
    e.rows('CREATE INDEX ix_faa ON travel(faa)');
    const p = plan('SELECT META().id FROM travel WHERE faa = "SFO"');
    expect(scans(p).map((s) => [s['#operator'], s.index])).to.deep.equal([['IndexScan3', 'ix_faa']]);
    expect(e.rows('SELECT RAW META().id FROM travel WHERE faa = "SFO"')).to.deep.equal(['airport_2']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE faa > "CDG"')).to.deep.equal(['NCE', 'SFO']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE faa BETWEEN "A" AND "O"')).to.deep.equal(['CDG', 'NCE']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE faa IN ["SFO", "CDG", "XXX"]')).to.deep.equal(['CDG', 'SFO']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE faa LIKE "N%"')).to.deep.equal(['NCE']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE faa IS NOT NULL')).to.deep.equal(['CDG', 'NCE', 'SFO']);
    // a predicate on another field has no usable index
    expect(e.run('SELECT * FROM travel WHERE city = "Nice"').errors[0].code).to.equal(4000);
  });

  it('composite and partial indexes: the planner picks the one matching the most keys', () => {
    e.rows('CREATE INDEX ix_type ON travel(type)');
    e.rows('CREATE INDEX ix_src_dst ON travel(sourceairport, destinationairport) WHERE type = "route"');
    const p = plan('SELECT * FROM travel WHERE type = "route" AND sourceairport = "CDG" AND destinationairport = "NCE"');
    expect(scans(p)[0].index).to.equal('ix_src_dst');
    expect(e.rows('SELECT RAW id FROM travel WHERE type = "route" AND sourceairport = "CDG" AND destinationairport BETWEEN "N" AND "O"')).to.deep.equal([3]);
    // without the partial index's condition, that index does not apply
    expect(scans(plan('SELECT * FROM travel WHERE type = "airport"'))[0].index).to.equal('ix_type');
    expect(e.run('SELECT * FROM travel WHERE sourceairport = "CDG"').errors[0].code).to.equal(4000);
  });

  it('indexes follow KV writes and deletes synchronously', () => {
    e.rows('CREATE INDEX ix_faa ON travel(faa)');
    const store = e.store('travel');
    store.write('airport_9', Buffer.from(JSON.stringify({ type: 'airport', faa: 'LHR' })), 'upsert');
    expect(e.rows('SELECT RAW META().id FROM travel WHERE faa = "LHR"')).to.deep.equal(['airport_9']);
    store.write('airport_9', Buffer.from(JSON.stringify({ type: 'airport', faa: 'LGW' })), 'upsert');
    expect(e.rows('SELECT RAW META().id FROM travel WHERE faa = "LHR"')).to.deep.equal([]);
    expect(e.rows('SELECT RAW META().id FROM travel WHERE faa = "LGW"')).to.deep.equal(['airport_9']);
    store.remove('airport_9');
    expect(e.rows('SELECT RAW META().id FROM travel WHERE faa = "LGW"')).to.deep.equal([]);
  });

  it('array indexes index each element and serve ANY ... SATISFIES', () => {
    e.rows('CREATE INDEX ix_days ON travel(DISTINCT ARRAY s.day FOR s IN schedule END)');
    const rows = e.rows('SELECT i.index_key FROM system:indexes AS i WHERE i.name = "ix_days"');
    expect(rows).to.deep.equal([{ index_key: ['(distinct (array (`s`.`day`) for `s` in `schedule` end))'] }]);
    const q = 'SELECT RAW META(r).id FROM travel r WHERE ANY x IN r.schedule SATISFIES x.day >= $1 END';
    expect(scans(plan(q.replace('$1', '1'))).map((s) => s.index)).to.deep.equal(['ix_days']);
    expect(e.rows(q, { args: [1] })).to.deep.equal(['route_2', 'route_1']);
    expect(e.rows(q, { args: [4] })).to.deep.equal([]);
  });

  it('COUNT(*) alone counts index entries without fetching documents', () => {
    e.rows('CREATE PRIMARY INDEX ON travel');
    e.rows('CREATE INDEX ix_type ON travel(type)');
    expect(e.rows('SELECT COUNT(*) AS n FROM travel')).to.deep.equal([{ n: 9 }]);
    expect(e.rows('SELECT RAW COUNT(*) FROM travel WHERE type = "route"')).to.deep.equal([3]);
    e.store('travel').remove('route_1');
    expect(e.rows('SELECT COUNT(*) AS n FROM travel')).to.deep.equal([{ n: 8 }]);
  });

  it('WITH {"defer_build": true} creates a deferred index that BUILD INDEX brings online', () => {
    e.rows('CREATE INDEX ix_city ON travel(city) WITH {"defer_build": true}');
    expect(e.rows('SELECT RAW state FROM system:indexes WHERE name = "ix_city"')).to.deep.equal(['deferred']);
    expect(e.run('SELECT * FROM travel WHERE city = "Nice"').errors[0].code).to.equal(4000);
    e.rows('BUILD INDEX ON travel(ix_city)');
    expect(e.rows('SELECT RAW state FROM system:indexes WHERE name = "ix_city"')).to.deep.equal(['online']);
    expect(e.rows('SELECT RAW faa FROM travel WHERE city = "Nice"')).to.deep.equal(['NCE']);
  });

  it('duplicate names fail with 4300, unknown ones with 12004; IF [NOT] EXISTS silences both', () => {
    e.rows('CREATE INDEX ix ON travel(city)');
    expect(e.run('CREATE INDEX ix ON travel(faa)').errors).to.deep.equal([{ code: 4300, msg: 'The index ix already exists.' }]);
    expect(e.run('CREATE INDEX IF NOT EXISTS ix ON travel(faa)').errors).to.deep.equal([]);
    expect(e.run('DROP INDEX travel.nope').errors[0].code).to.equal(12004);
    expect(e.run('DROP INDEX IF EXISTS nope ON travel').errors).to.deep.equal([]);
    e.rows('DROP INDEX travel.ix');
    expect(e.rows('SELECT RAW name FROM system:indexes')).to.deep.equal([]);
  });

  it('system:keyspaces lists the buckets', () => {
    expect(e.rows('SELECT k.name, k.namespace_id FROM system:keyspaces AS k')).to.deep.equal([{ name: 'travel', namespace_id: 'default' }]);
  });

  it('unknown keyspaces fail with 12003', () => {
    expect(e.run('SELECT * FROM nosuch').errors).to.deep.equal([{ code: 12003, msg: 'Keyspace not found in CB datastore: default:nosuch - cause: No bucket named nosuch' }]);
    expect(e.run('CREATE PRIMARY INDEX ON nosuch').errors[0].code).to.equal(12003);
  });
});
