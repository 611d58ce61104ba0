// Sequences (Couchbase Server 7.6): CREATE / ALTER / DROP SEQUENCE and NEXT / PREV VALUE FOR.
// Expected results are the examples of the CREATE SEQUENCE and Sequence Operators pages of the
// SQL++ reference, and the error codes of its error reference (19101-19118).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import { Engine } from './harness';

function engine(): Engine {
  const e = new Engine(['travel', 'bookings']);
  e.rows('CREATE PRIMARY INDEX ON bookings');
  return e;
}

describe('n1ql sequences', () => {
  it('creates sequences with clauses or a WITH object and hands out their values (CREATE SEQUENCE examples)', () => {
    const e = engine();
    e.rows('CREATE SEQUENCE travel._default.seq1');
    expect(e.rows('SELECT NEXT VALUE FOR travel._default.seq1')).to.deep.equal([{ $1: 0 }]);
    e.rows('CREATE SEQUENCE travel._default.seq3 IF NOT EXISTS START WITH 5 INCREMENT BY 5 MAXVALUE 1000 MINVALUE 0 CYCLE');
    expect(e.rows('SELECT NEXT VALUE FOR travel._default.seq3')).to.deep.equal([{ $1: 5 }]);
    e.rows('CREATE SEQUENCE travel._default.seq4 IF NOT EXISTS WITH {"start": 10, "increment": -1, "min": 0}');
    expect(e.rows('SELECT NEXT VALUE FOR travel._default.seq4')).to.deep.equal([{ $1: 10 }]);
    expect(e.rows('SELECT RAW NEXTVAL FOR travel._default.seq4 FROM [1, 2, 3] AS x')).to.deep.equal([9, 8, 7]);
    // IF NOT EXISTS keeps the sequence as it is.
    e.rows('CREATE SEQUENCE travel._default.seq4 IF NOT EXISTS START WITH 100');
    expect(e.rows('SELECT RAW NEXTVAL FOR travel._default.seq4')).to.deep.equal([6]);
  });

  it('increments a sequence once per document, and PREV VALUE FOR reads the last value (Sequence Operators examples)', () => {
    const e = engine();
    e.rows('CREATE SEQUENCE bookings._default.ordNum START WITH 1000');
    expect(e.rows('INSERT INTO bookings VALUES (UUID(), {"num": NEXT VALUE FOR bookings._default.ordNum, "user": 0}) RETURNING *')).to.deep.equal([{ bookings: { num: 1000, user: 0 } }]);
    // The key is not part of the document: it takes a value of its own.
    expect(e.rows('INSERT INTO bookings VALUES (TO_STRING(NEXTVAL FOR bookings._default.ordNum), {"num": NEXTVAL FOR bookings._default.ordNum, "user": 1}) RETURNING META().id, *')).to.deep.equal([
      { id: '1001', bookings: { num: 1002, user: 1 } },
    ]);
    expect(
      e.rows('INSERT INTO bookings (KEY k, VALUE v) SELECT TO_STRING(NEXTVAL FOR bookings._default.ordNum) k, {"num": NEXTVAL FOR bookings._default.ordNum, "user": 1} v RETURNING META().id, *'),
    ).to.deep.equal([{ id: '1003', bookings: { num: 1003, user: 1 } }]);
    expect(e.rows('SELECT RAW [PREVVAL FOR bookings._default.ordNum, PREV VALUE FOR bookings._default.ordNum, PREVIOUS VALUE FOR bookings._default.ordNum]')).to.deep.equal([[1003, 1003, 1003]]);
  });

  it('cycles from the other end, or stops with 19111; ALTER restarts it; DROP removes it', () => {
    const e = engine();
    e.rows('CREATE SEQUENCE travel._default.c START WITH 998 MAXVALUE 1000 MINVALUE 0 CYCLE CACHE 2');
    expect(e.rows('SELECT RAW NEXTVAL FOR travel._default.c FROM [1, 2, 3, 4, 5] AS x')).to.deep.equal([998, 999, 1000, 0, 1]);
    e.rows('CREATE SEQUENCE travel._default.d WITH {"start": 1, "increment": -1, "min": 0}');
    expect(e.run('SELECT RAW NEXTVAL FOR travel._default.d FROM [1, 2, 3] AS x').errors).to.deep.equal([{ code: 19111, msg: 'Sequence default:travel._default.d has reached its limit' }]);
    e.rows('ALTER SEQUENCE travel._default.d RESTART WITH 5 INCREMENT BY -2');
    expect(e.rows('SELECT RAW NEXTVAL FOR travel._default.d FROM [1, 2, 3] AS x')).to.deep.equal([5, 3, 1]);
    e.rows('ALTER SEQUENCE travel._default.d WITH {"restart": true}');
    expect(e.rows('SELECT RAW NEXTVAL FOR travel._default.d')).to.deep.equal([1]);
    e.rows('DROP SEQUENCE travel._default.d');
    expect(e.run('SELECT NEXTVAL FOR travel._default.d').errors).to.deep.equal([{ code: 19106, msg: 'Sequence default:travel._default.d not found' }]);
    e.rows('DROP SEQUENCE travel._default.d IF EXISTS');
    // Projection terms are evaluated as written, whatever the result's (sorted) key order: PREV
    // before NEXT in a row sees the value before that row's increment.
    e.rows('CREATE SEQUENCE travel._default.o START WITH 100');
    expect(e.rows('SELECT NEXT VALUE FOR travel._default.o AS x')).to.deep.equal([{ x: 100 }]);
    expect(e.rows('SELECT PREV VALUE FOR travel._default.o AS pv, NEXT VALUE FOR travel._default.o AS nv FROM [1, 2] AS t')).to.deep.equal([
      { nv: 101, pv: 100 },
      { nv: 102, pv: 101 },
    ]);
    // IF EXISTS may also come before the name (7.6 grammar: both places).
    expect(e.run('DROP SEQUENCE IF EXISTS travel._default.d')).to.include({ mutationCount: 0 }).and.to.have.property('errors').that.deep.equals([]);
  });

  it('refuses what the reference refuses', () => {
    const e = engine();
    e.rows('CREATE SEQUENCE travel._default.s');
    expect(e.run('CREATE SEQUENCE travel._default.s').errors).to.deep.equal([{ code: 19108, msg: 'Sequence default:travel._default.s already exists' }]);
    expect(e.run('CREATE SEQUENCE travel._default.t WITH {"cache": 0}').errors[0]).to.deep.equal({ code: 19101, msg: 'Create failed for sequence default:travel._default.t - cause: Invalid cache value 0' });
    expect(e.run('CREATE SEQUENCE travel._default.t MINVALUE 5 MAXVALUE 1').errors[0]).to.deep.equal({ code: 19101, msg: 'Create failed for sequence default:travel._default.t - cause: Invalid range 5 to 1' });
    // Without a query context a bare name has no scope.
    expect(e.run('CREATE SEQUENCE lonely').errors[0].code).to.equal(19113);
    expect(e.run('SELECT PREVVAL FOR travel._default.s').errors[0].code).to.equal(19118);
    expect(e.run('SELECT 1 FROM bookings WHERE NEXTVAL FOR travel._default.s > 1').errors[0].code).to.equal(3100);
    expect(e.run('CREATE SEQUENCE travel._default.u START WITH 1 START WITH 2').errors[0].code).to.equal(3000);
  });
});

describe('n1ql sequences in a cluster', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-seq-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const query = async (c: Cluster, statement: string, user = 'Administrator:password'): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${c.nodes[0].ports.n1ql}/query/service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(user).toString('base64') },
      body: JSON.stringify({ statement, query_context: 'default:default._default' }),
    });
    return res.json();
  };

  it('resolves bare names in the query context, needs the sequence roles, and survives a restart with dataDir without repeating a value', async () => {
    const users = [
      { username: 'Administrator', password: 'password' },
      { username: 'data', password: 'data-pass', roles: ['data_reader[default]', 'data_writer[default]', 'query_select[default]'] },
      { username: 'seq', password: 'seq-pass', roles: ['query_use_sequences[default:_default]'] },
    ];
    const a = await Cluster.start({ dataDir: dir, numVBuckets: 16, users });
    let last: number;
    try {
      expect((await query(a, 'CREATE SEQUENCE ids START WITH 1')).status).to.equal('success');
      expect((await query(a, 'SELECT RAW [NEXTVAL FOR ids, NEXTVAL FOR ids]')).results).to.deep.equal([[1, 1]]);
      last = (await query(a, 'SELECT RAW NEXTVAL FOR ids')).results[0];
      expect(last).to.equal(2);
      const denied = await query(a, 'SELECT NEXTVAL FOR ids', 'data:data-pass');
      expect(denied.errors[0]).to.deep.equal({ code: 13014, msg: 'User does not have credentials to use sequences. Add role query_use_sequences on default:default._default to allow the statement to run.' });
      expect((await query(a, 'DROP SEQUENCE ids', 'seq:seq-pass')).errors[0].msg).to.equal('User does not have credentials to manage sequences. Add role query_manage_sequences on default:default._default to allow the statement to run.');
      expect((await query(a, 'SELECT RAW NEXTVAL FOR ids', 'seq:seq-pass')).results).to.deep.equal([3]);
    } finally {
      await a.stop();
    }
    const b = await Cluster.start({ dataDir: dir, numVBuckets: 16, users });
    try {
      const after = (await query(b, 'SELECT RAW NEXTVAL FOR ids')).results[0];
      // The rest of the block reserved before the restart is skipped, never handed out again.
      expect(after).to.be.greaterThan(3);
    } finally {
      await b.stop();
    }
  });
});
