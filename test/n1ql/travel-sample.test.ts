import { expect } from 'chai';
import { TRAVEL_SAMPLE_COUNTS, travelSampleDocs, travelSampleIndexes } from '../../lib/server/samples/travel-sample';
import { Engine } from './harness';

describe('travel-sample generator', function () {
  this.timeout(30000);
  let e: Engine;
  before(() => {
    e = new Engine(['travel-sample']);
    const store = e.store('travel-sample');
    for (const { id, value } of travelSampleDocs()) store.write(id, Buffer.from(JSON.stringify(value)), 'insert', { datatype: 1 });
    for (const stmt of travelSampleIndexes) e.rows(stmt);
  });

  it('has the real sample\'s document counts per type', () => {
    expect(e.rows('SELECT t.type, COUNT(*) AS n FROM `travel-sample` t GROUP BY t.type ORDER BY t.type')).to.deep.equal(
      Object.entries(TRAVEL_SAMPLE_COUNTS)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([type, n]) => ({ n, type })),
    );
    expect(e.store('travel-sample').size).to.equal(31591);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = [...travelSampleDocs({ seed: 7, scale: 0.01 })];
    const b = [...travelSampleDocs({ seed: 7, scale: 0.01 })];
    const c = [...travelSampleDocs({ seed: 8, scale: 0.01 })];
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
    expect(a.length).to.be.within(300, 330);
  });

  it('uses the real field names', () => {
    const [airline] = e.rows('SELECT RAW OBJECT_NAMES(t) FROM `travel-sample` t WHERE t.type = "airline" LIMIT 1') as string[][];
    expect(airline).to.deep.equal(['callsign', 'country', 'iata', 'icao', 'id', 'name', 'type']);
    const [airport] = e.rows('SELECT RAW OBJECT_NAMES(t) FROM `travel-sample` t WHERE t.type = "airport" LIMIT 1') as string[][];
    expect(airport).to.deep.equal(['airportname', 'city', 'country', 'faa', 'geo', 'icao', 'id', 'type', 'tz']);
    const [route] = e.rows('SELECT RAW t FROM `travel-sample` t WHERE t.type = "route" LIMIT 1') as any[];
    expect(Object.keys(route).sort()).to.deep.equal(['airline', 'airlineid', 'destinationairport', 'distance', 'equipment', 'id', 'schedule', 'sourceairport', 'stops', 'type']);
    expect(Object.keys(route.schedule[0]).sort()).to.deep.equal(['day', 'flight', 'utc']);
    const [hotel] = e.rows('SELECT RAW t FROM `travel-sample` t WHERE t.type = "hotel" AND ARRAY_LENGTH(t.reviews) > 0 LIMIT 1') as any[];
    expect(Object.keys(hotel.reviews[0]).sort()).to.deep.equal(['author', 'content', 'date', 'ratings']);
  });

  it('routes join to existing airlines and airports', () => {
    const rows = e.rows('SELECT COUNT(*) AS n FROM `travel-sample` r JOIN `travel-sample` a ON KEYS r.airlineid WHERE r.type = "route" AND r.sourceairport IS VALUED AND r.id < 10100');
    expect(rows).to.deep.equal([{ n: 100 }]);
    const src = e.rows('SELECT RAW r.sourceairport FROM `travel-sample` r USE KEYS "route_10000"')[0];
    expect(e.rows('SELECT RAW COUNT(*) FROM `travel-sample` WHERE faa = $1', { args: [src] })[0]).to.be.at.least(1);
  });

  it('answers the demo query SELECT * ... LIMIT 10 in key order', () => {
    const rows = e.rows('SELECT * FROM `travel-sample` LIMIT 10') as any[];
    expect(rows).to.have.length(10);
    expect(rows.every((r) => r['travel-sample'].type === 'airline')).to.equal(true);
    expect(rows[0]['travel-sample']).to.deep.include({ id: 10, type: 'airline' });
  });

  it('ships the def_* indexes, all online', () => {
    const rows = e.rows('SELECT RAW name FROM system:indexes WHERE keyspace_id = "travel-sample" AND state = "online" ORDER BY name');
    expect(rows).to.deep.equal(['def_airportname', 'def_city', 'def_faa', 'def_icao', 'def_name_type', 'def_primary', 'def_route_src_dst_day', 'def_schedule_utc', 'def_sourceairport', 'def_type']);
  });
});
