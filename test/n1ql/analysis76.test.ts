// INFER and UPDATE STATISTICS / ANALYZE as the 7.6 SQL++ reference documents them (infer.adoc,
// updatestatistics.adoc and the system:dictionary catalog), with the error codes of the query
// engine's errors source (3270, 3271, 7000, 7001).
import { expect } from 'chai';
import { Engine } from './harness';

function routes(e: Engine): Engine {
  const docs: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) {
    docs[`route_${i}`] = { type: 'route', stops: 0, airline: i % 2 ? 'AS' : 'DY', id: 100 + i, equipment: i === 0 ? null : 'SF3', schedule: [{ day: i, flight: `F${i}` }, { day: 0, flight: 'X' }], geo: { lat: i } };
  }
  for (let i = 0; i < 3; i++) docs[`hotel_${i}`] = { type: 'hotel', name: `H${i}`, city: 'Paris' };
  return e.load('b', docs);
}

describe('n1ql INFER', () => {
  const e = routes(new Engine(['b']));

  it('returns one row: the flavors, each a JSON schema of alike documents with #docs, %docs, samples and types', () => {
    const [flavors] = e.rows('INFER b WITH {"num_sample_values": 2}') as any[];
    expect(flavors).to.have.length(2);
    const [route, hotel] = flavors;
    expect(route).to.include({ '#docs': 10, $schema: 'http://json-schema.org/draft-06/schema', Flavor: '`stops` = 0, `type` = "route"', type: 'object' });
    expect(hotel.Flavor).to.equal('`city` = "Paris", `type` = "hotel"');
    expect(route.properties.airline).to.deep.equal({ '#docs': 10, '%docs': 100, samples: ['AS', 'DY'], type: 'string' });
    // Several types: #docs, %docs and samples per type, types in order (the reference's `equipment`).
    expect(route.properties.equipment).to.deep.equal({ '#docs': [1, 9], '%docs': [10, 90], samples: [[null], ['SF3']], type: ['null', 'string'] });
    const schedule = route.properties.schedule;
    expect(schedule).to.include({ '#docs': 10, '%docs': 100, maxItems: 2, minItems: 2, type: 'array' });
    expect(schedule.items).to.include({ '#docs': 20, $schema: 'http://json-schema.org/draft-06/schema', type: 'object' });
    expect(Object.keys(schedule.items.properties)).to.deep.equal(['day', 'flight']);
    expect(route.properties.geo.properties.lat).to.include({ '#docs': 10, type: 'number' });
  });

  it('takes COLLECTION / KEYSPACE, sample_size, similarity_metric, and an expression instead of a keyspace', () => {
    const [one] = e.rows('INFER KEYSPACE b WITH {"sample_size": 1}') as any[];
    expect(one).to.have.length(1);
    expect(one[0]['#docs']).to.equal(1);
    // similarity_metric 0 puts every document in one flavor.
    const [all] = e.rows('INFER COLLECTION b WITH {"similarity_metric": 0}') as any[];
    expect(all).to.have.length(1);
    expect(all[0]['#docs']).to.equal(13);
    expect(all[0].properties.type).to.include({ '#docs': 13, '%docs': 100 });
    expect(all[0].properties.city).to.include({ '#docs': 3, '%docs': 23.08 });
    const [x] = e.rows('INFER [{"a": 1}, {"a": "x"}]') as any[];
    expect(x[0].properties.a.type).to.deep.equal(['number', 'string']);
  });

  it('refuses an unknown option (7000) and a non-numeric one (7001)', () => {
    expect(e.run('INFER b WITH {"bogus": 1}').errors).to.deep.equal([{ code: 7000, msg: "Infer: Invalid option 'bogus'", reason: { invalid_option: 'bogus' } } as any]);
    expect(e.run('INFER b WITH {"sample_size": "x"}').errors[0]).to.include({ code: 7001, msg: "Infer: Option 'sample_size' must be numeric." });
  });
});

describe('n1ql UPDATE STATISTICS / ANALYZE', () => {
  const dictionary = (e: Engine): any[] => e.rows('SELECT RAW d FROM system:dictionary AS d');

  it('collects distributions of expressions and reports them in system:dictionary', () => {
    const e = routes(new Engine(['b']));
    expect(dictionary(e)).to.deep.equal([]);
    expect(e.run('UPDATE STATISTICS FOR b(type, id)').errors).to.deep.equal([]);
    const [d] = dictionary(e);
    expect(d).to.include({ bucket: 'b', scope: '_default', keyspace: '_default', namespace: 'default', docCount: 13 });
    expect(d.distributionKeys).to.deep.equal(['`type`', '`id`']);
    expect(d.avgDocSize).to.be.above(20);
    expect(d.avgDocKeySize).to.equal(Math.round((10 * 'route_0'.length + 3 * 'hotel_0'.length) / 13));
  });

  it('analyses index keys: INDEX (names), FOR INDEX name ON ks, INDEX ((subquery)), with USING GSI and WITH options', () => {
    const e = routes(new Engine(['b']));
    e.rows('CREATE INDEX ix_airline ON b(airline, stops)');
    e.rows('CREATE INDEX ix_city ON b(city)');
    e.rows('ANALYZE b INDEX(ix_airline) USING GSI WITH {"resolution": 0.5, "sample_size": 5}');
    let [d] = dictionary(e);
    expect(d.distributionKeys).to.deep.equal(['`airline`', '`stops`']);
    expect(d.indexes.map((x: any) => x.indexName)).to.deep.equal(['ix_airline']);
    e.rows('UPDATE STATISTICS FOR INDEX ix_city ON b');
    e.rows('UPDATE STATISTICS FOR b INDEX((SELECT RAW name FROM system:indexes WHERE keyspace_id = "b"))');
    [d] = dictionary(e);
    expect(d.indexes.map((x: any) => x.indexName).sort()).to.deep.equal(['ix_airline', 'ix_city']);
    expect(e.run('UPDATE STATISTICS b INDEX(ix_city) USING FTS').errors).to.deep.equal([{ code: 3270, msg: 'UPDATE STATISTICS (ANALYZE) supports GSI indexes only for INDEX option.' }]);
    expect(e.run('ANALYZE b INDEX(nope)').errors[0].code).to.equal(5411);
    // INDEX ALL is for a collection, not a bucket (3271).
    expect(e.run('ANALYZE b INDEX ALL').errors).to.deep.equal([{ code: 3271, msg: 'INDEX ALL option for UPDATE STATISTICS (ANALYZE) can only be used for a collection.' }]);
    expect(e.run('ANALYZE b(type) WITH {"colour": 1}').errors[0].code).to.equal(5360);
  });

  it('INDEX ALL on a collection, DELETE (exprs) and DELETE ALL', () => {
    const e = routes(new Engine(['b']));
    e.rows('ANALYZE b._default._default INDEX ALL');
    // No secondary index yet: the collection's own statistics only, no distribution.
    expect(dictionary(e)[0]).to.include({ docCount: 13 }).and.not.have.property('distributionKeys');
    e.rows('UPDATE STATISTICS b(type, airline, geo.lat)');
    e.rows('UPDATE STATISTICS b DELETE (airline)');
    expect(dictionary(e)[0].distributionKeys).to.deep.equal(['`type`', '(`geo`.`lat`)']);
    e.rows('ANALYZE b DELETE ALL');
    expect(dictionary(e)).to.deep.equal([]);
  });

  it('needs the privilege index DDL needs, and not on a read-only request', () => {
    const e = routes(new Engine(['b']));
    expect(e.run('UPDATE STATISTICS b(type)', { readonly: true }).errors[0].code).to.equal(1000);
    expect(e.run('UPDATE STATISTICS nope(type)').errors[0].code).to.equal(12003);
  });
});

describe('n1ql statistics in the plan', () => {
  it('EXPLAIN reports the scan cardinality the distributions give, only once statistics exist', () => {
    const e = routes(new Engine(['b']));
    e.rows('CREATE PRIMARY INDEX ON b');
    const scan = (q: string): any => {
      let found: any;
      const walk = (x: any): void => {
        if (Array.isArray(x)) x.forEach(walk);
        else if (x && typeof x === 'object') {
          if (x['#operator'] === 'PrimaryScan3' || x['#operator'] === 'IndexScan3') found ??= x;
          Object.values(x).forEach(walk);
        }
      };
      walk(e.rows(`EXPLAIN ${q}`));
      return found;
    };
    expect(scan('SELECT * FROM b WHERE type = "hotel"').optimizer_estimates).to.equal(undefined);
    e.rows('UPDATE STATISTICS FOR b(type, id)');
    expect(scan('SELECT * FROM b WHERE type = "hotel"').optimizer_estimates).to.deep.equal({ cardinality: 3 });
    expect(scan('SELECT * FROM b WHERE b.type = "route"').optimizer_estimates).to.deep.equal({ cardinality: 10 });
    expect(scan('SELECT * FROM b WHERE 105 <= id').optimizer_estimates.cardinality).to.be.within(4, 6);
    expect(scan('SELECT * FROM b').optimizer_estimates).to.deep.equal({ cardinality: 13 });
  });
});
