import { expect } from 'chai';
import { DOCS, travelEngine } from './fixture';
import type { Engine } from './harness';

describe('n1ql DML', () => {
  let e: Engine;
  beforeEach(() => {
    e = travelEngine();
  });
  const doc = (id: string): unknown => {
    const d = e.store('travel').get(id);
    return d ? JSON.parse(d.value.toString()) : undefined;
  };

  describe('INSERT / UPSERT', () => {
    it('INSERT VALUES writes new documents visible to KV at once, with a mutation count', () => {
      const out = e.run('INSERT INTO travel (KEY, VALUE) VALUES ("n1", {"a": 1}), VALUES ("n2", {"a": 2}) RETURNING META().id, a');
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(2);
      expect(out.rows).to.deep.equal([{ a: 1, id: 'n1' }, { a: 2, id: 'n2' }]);
      expect(doc('n2')).to.deep.equal({ a: 2 });
      expect(e.store('travel').get('n1')!.datatype & 1).to.equal(1);
      expect(e.store('travel').get('n1')!.flags).to.equal(0x02000000);
    });

    it('INSERT of an existing key fails that key with 12009 Duplicate Key and still writes the others', () => {
      const out = e.run('INSERT INTO travel (KEY, VALUE) VALUES ("airline_1", {"x": 1}), ("n3", {"x": 3})');
      expect(out.mutationCount).to.equal(1);
      expect(out.errors).to.have.length(1);
      expect(out.errors[0].code).to.equal(12009);
      expect(out.errors[0].msg).to.equal('DML Error, possible causes include concurrent modification. Failed to perform INSERT on key airline_1 - cause: Duplicate Key: airline_1');
      expect((out.errors[0] as any).reason.code).to.equal(17012);
      expect(doc('airline_1')).to.deep.equal(DOCS.airline_1);
      expect(doc('n3')).to.deep.equal({ x: 3 });
    });

    it('UPSERT replaces existing documents and bumps their CAS', () => {
      const before = e.store('travel').get('airline_1')!.cas;
      const out = e.run('UPSERT INTO travel (KEY, VALUE) VALUES ("airline_1", {"name": "Renamed"})');
      expect(out.mutationCount).to.equal(1);
      expect(doc('airline_1')).to.deep.equal({ name: 'Renamed' });
      expect(e.store('travel').get('airline_1')!.cas > before).to.equal(true);
    });

    it('INSERT ... SELECT copies query results under computed keys', () => {
      // KEY/VALUE expressions read the SELECT's result fields
      const ok = e.run('INSERT INTO travel (KEY "copy_" || id, VALUE {"faa": a.faa}) SELECT META(a).id AS id, a FROM travel a WHERE a.type = "airport" RETURNING RAW META().id');
      expect(ok.errors).to.deep.equal([]);
      expect(ok.rows).to.deep.equal(['copy_airport_1', 'copy_airport_2', 'copy_airport_3']);
      expect(doc('copy_airport_2')).to.deep.equal({ faa: 'SFO' });
    });

    it('INSERT with a non-string key reports 5070 for that row (E_INSERT_KEY_TYPE), UPSERT 5078', () => {
      const out = e.run('INSERT INTO travel (KEY, VALUE) VALUES (1, {"a": 1})');
      expect(out.errors).to.deep.equal([{ code: 5070, msg: 'Cannot INSERT non-string key 1 of type value.intValue.' }]);
      expect(out.mutationCount).to.equal(0);
      expect(e.run('UPSERT INTO travel VALUES (true, {"a": 1})').errors[0].code).to.equal(5078);
    });
  });

  describe('UPDATE', () => {
    it('SET and UNSET change matching documents only', () => {
      const out = e.run('UPDATE travel t SET t.hub = TRUE, stops = stops + 1 UNSET t.schedule WHERE t.type = "route" AND t.sourceairport = "CDG" RETURNING META(t).id, t.stops, t.hub, t.schedule');
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(2);
      expect(out.rows).to.deep.equal([{ hub: true, id: 'route_1', stops: 1 }, { hub: true, id: 'route_3', stops: 2 }]);
      expect(doc('route_2')).to.deep.equal(DOCS.route_2);
    });

    it('SET ... FOR changes matching array elements', () => {
      e.rows('UPDATE travel USE KEYS "route_1" SET s.cancelled = TRUE FOR s IN schedule WHEN s.day = 3 END');
      expect((doc('route_1') as any).schedule).to.deep.equal([{ day: 0, flight: 'AA100' }, { day: 3, flight: 'AA101', cancelled: true }]);
    });

    it('USE KEYS and LIMIT bound what is updated', () => {
      const out = e.run('UPDATE travel SET seen = 1 WHERE type = "airline" LIMIT 2');
      expect(out.mutationCount).to.equal(2);
      expect(e.rows('SELECT RAW META().id FROM travel WHERE seen = 1')).to.deep.equal(['airline_1', 'airline_2']);
    });

    it('does not update a document twice when the change moves it in the index being scanned', () => {
      e.rows('CREATE INDEX ix_id ON travel(id)');
      const out = e.run('UPDATE travel SET id = id + 10 WHERE id >= 1');
      expect(out.mutationCount).to.equal(9);
      expect(e.rows('SELECT RAW id FROM travel WHERE type = "airline" ORDER BY id')).to.deep.equal([11, 12, 13]);
    });
  });

  describe('DELETE', () => {
    it('removes matching documents and returns them', () => {
      const out = e.run('DELETE FROM travel t WHERE t.type = "route" AND t.stops > 0 RETURNING t.id');
      expect(out.rows).to.deep.equal([{ id: 3 }]);
      expect(out.mutationCount).to.equal(1);
      expect(e.store('travel').get('route_3')).to.equal(undefined);
      expect(e.rows('SELECT RAW COUNT(*) FROM travel')).to.deep.equal([8]);
    });

    it('DELETE USE KEYS of a missing key is not an error and mutates nothing', () => {
      const out = e.run('DELETE FROM travel USE KEYS "nope"');
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(0);
    });
  });

  describe('MERGE', () => {
    it('updates matched keys and inserts unmatched ones', () => {
      const out = e.run('MERGE INTO travel t USING [{"k": "airline_1", "n": "A1"}, {"k": "airline_9", "n": "New"}] AS s ON KEY s.k WHEN MATCHED THEN UPDATE SET t.name = s.n WHEN NOT MATCHED THEN INSERT {"type": "airline", "name": s.n}');
      expect(out.errors).to.deep.equal([]);
      expect(out.mutationCount).to.equal(2);
      expect((doc('airline_1') as any).name).to.equal('A1');
      expect(doc('airline_9')).to.deep.equal({ name: 'New', type: 'airline' });
    });

    it('deletes matched keys with WHEN MATCHED THEN DELETE', () => {
      const out = e.run('MERGE INTO travel t USING (SELECT RAW META(r).id FROM travel r WHERE r.type = "route") AS id ON KEY id WHEN MATCHED THEN DELETE');
      expect(out.mutationCount).to.equal(3);
      expect(e.rows('SELECT RAW COUNT(*) FROM travel WHERE type = "route"')).to.deep.equal([0]);
    });
  });

  it('readonly requests refuse DML with code 1000', () => {
    const out = e.run('DELETE FROM travel', { readonly: true });
    expect(out.errors[0].code).to.equal(1000);
    expect(e.rows('SELECT RAW COUNT(*) FROM travel')).to.deep.equal([9]);
  });

  it('DML needs an index to find documents without USE KEYS', () => {
    e.rows('DROP PRIMARY INDEX ON travel');
    expect(e.run('DELETE FROM travel WHERE type = "route"').errors[0].code).to.equal(4000);
    expect(e.run('DELETE FROM travel USE KEYS "route_1"').mutationCount).to.equal(1);
  });
});
