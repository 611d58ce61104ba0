// The 7.6 statements and clauses: window functions, GROUP AS, EXCLUDE, comma joins, `x`i,
// FROM $ks, name resolution across FROM terms. Expected results follow the N1QL language
// reference (Window Functions, GROUP BY, SELECT Clause, FROM Clause, Identifiers) applied to the
// small fixture of ./fixture.ts.
import { expect } from 'chai';
import { travelEngine } from './fixture';
import { Engine } from './harness';

describe('n1ql 7.6 statements', () => {
  describe('window functions (Window Functions reference)', () => {
    const e = new Engine(['w']);
    e.load('w', {
      r1: { type: 'route', src: 'AAE', dst: 'MRS', d: 767 },
      r2: { type: 'route', src: 'AAE', dst: 'LYS', d: 1015 },
      r3: { type: 'route', src: 'AAE', dst: 'ORY', d: 1395 },
      r4: { type: 'route', src: 'AAE', dst: 'CDG', d: 1395 },
      r5: { type: 'route', src: 'AAL', dst: 'AAR', d: 99 },
      r6: { type: 'route', src: 'AAL', dst: 'OSL', d: 352 },
      r7: { type: 'route', src: 'AAL', dst: 'LGW', d: null },
    });
    e.rows('CREATE PRIMARY INDEX ON w');

    it('ranks: ROW_NUMBER, RANK (gaps after ties), DENSE_RANK, PERCENT_RANK, CUME_DIST; rows come out in window order', () => {
      const rows = e.rows(
        'SELECT dst, ROW_NUMBER() OVER (PARTITION BY src ORDER BY d NULLS LAST) AS rn, RANK() OVER (PARTITION BY src ORDER BY d NULLS LAST) AS rk, ' +
          'DENSE_RANK() OVER (PARTITION BY src ORDER BY d NULLS LAST) AS dr, PERCENT_RANK() OVER (PARTITION BY src ORDER BY d NULLS LAST) AS pr, ' +
          'CUME_DIST() OVER (PARTITION BY src ORDER BY d NULLS LAST) AS cd FROM w',
      );
      expect(rows).to.deep.equal([
        { dst: 'MRS', rn: 1, rk: 1, dr: 1, pr: 0, cd: 0.25 },
        { dst: 'LYS', rn: 2, rk: 2, dr: 2, pr: 1 / 3, cd: 0.5 },
        { dst: 'ORY', rn: 3, rk: 3, dr: 3, pr: 2 / 3, cd: 1 },
        { dst: 'CDG', rn: 4, rk: 3, dr: 3, pr: 2 / 3, cd: 1 },
        { dst: 'AAR', rn: 1, rk: 1, dr: 1, pr: 0, cd: 1 / 3 },
        { dst: 'OSL', rn: 2, rk: 2, dr: 2, pr: 0.5, cd: 2 / 3 },
        { dst: 'LGW', rn: 3, rk: 3, dr: 3, pr: 1, cd: 1 },
      ]);
    });

    it('FIRST_VALUE over the default frame, LAG / LEAD with offset and default, NTILE', () => {
      const rows = e.rows(
        'SELECT dst, FIRST_VALUE(d) OVER (PARTITION BY src ORDER BY d) AS shortest, LAG(dst) OVER (PARTITION BY src ORDER BY d) AS prev, ' +
          'LEAD(dst, 2, "none") OVER (PARTITION BY src ORDER BY d) AS next2, NTILE(2) OVER (PARTITION BY src ORDER BY d) AS half FROM w WHERE src = "AAE"',
      );
      expect(rows).to.deep.equal([
        { dst: 'MRS', shortest: 767, prev: null, next2: 'ORY', half: 1 },
        { dst: 'LYS', shortest: 767, prev: 'MRS', next2: 'CDG', half: 1 },
        { dst: 'ORY', shortest: 767, prev: 'LYS', next2: 'none', half: 2 },
        { dst: 'CDG', shortest: 767, prev: 'ORY', next2: 'none', half: 2 },
      ]);
    });

    it('aggregates over frames: the default RANGE frame includes peers; ROWS, GROUPS and EXCLUDE', () => {
      const rows = e.rows(
        'SELECT dst, SUM(d) OVER (ORDER BY d) AS run, SUM(d) OVER (ORDER BY d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair, ' +
          'COUNT(*) OVER (ORDER BY d GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS g2, ' +
          'SUM(d) OVER (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS rest, ' +
          'COUNT(*) OVER (ORDER BY d RANGE BETWEEN 300 PRECEDING AND 300 FOLLOWING) AS near FROM w WHERE src = "AAE"',
      );
      expect(rows).to.deep.equal([
        { dst: 'MRS', run: 767, pair: 767, g2: 2, rest: 3805, near: 2 },
        { dst: 'LYS', run: 1782, pair: 1782, g2: 3, rest: 3557, near: 2 },
        { dst: 'ORY', run: 4572, pair: 2410, g2: 2, rest: 3177, near: 2 },
        { dst: 'CDG', run: 4572, pair: 2790, g2: 2, rest: 3177, near: 2 },
      ]);
    });

    it('the WINDOW clause names a window; NTH_VALUE FROM LAST and IGNORE NULLS; RATIO_TO_REPORT', () => {
      const rows = e.rows(
        'SELECT dst, NTH_VALUE(dst, 2) FROM LAST OVER (win ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS penult, ' +
          'LAST_VALUE(d) IGNORE NULLS OVER (win ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lastd, ' +
          'RATIO_TO_REPORT(d) OVER (PARTITION BY src) AS share FROM w WHERE src = "AAL" WINDOW win AS (PARTITION BY src ORDER BY d NULLS LAST)',
      );
      expect(rows.map((r: any) => [r.dst, r.penult, r.lastd])).to.deep.equal([
        ['AAR', 'OSL', 352],
        ['OSL', 'OSL', 352],
        ['LGW', 'OSL', 352],
      ]);
      const share = Object.fromEntries(rows.map((r: any) => [r.dst, r.share]));
      expect(share).to.deep.equal({ AAR: 99 / 451, OSL: 352 / 451, LGW: null });
    });

    it('OVER name takes the named window whole, frame included; OVER (name ...) may not inherit a frame', () => {
      const q = (over: string) => `SELECT dst, SUM(d) OVER ${over} AS s FROM w WHERE src = "AAE" WINDOW win AS (ORDER BY d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`;
      expect(e.rows(q('win')).map((r: any) => [r.dst, r.s])).to.deep.equal([['MRS', 767], ['LYS', 1782], ['ORY', 2410], ['CDG', 2790]]);
      expect(e.run(q('(win ROWS CURRENT ROW)')).errors).to.deep.equal([{ code: 6500, msg: 'Window win shall not have a window framing clause' }]);
    });

    it('checks window names as the server\'s rewrite does (6500): references, refinements and the WINDOW clause itself', () => {
      const err = (q: string) => e.run(q).errors;
      const w = (msg: string) => [{ code: 6500, msg }];
      expect(err('SELECT SUM(d) OVER (win PARTITION BY src) FROM w WINDOW win AS (ORDER BY d)')).to.deep.equal(w('Window win shall not have a window partitioning clause'));
      expect(err('SELECT SUM(d) OVER (win ORDER BY src) FROM w WINDOW win AS (ORDER BY d)')).to.deep.equal(w('Window win shall not have a window ordering clause'));
      expect(err('SELECT SUM(d) OVER nope FROM w')).to.deep.equal(w('Window nope not in the scope of window clause'));
      expect(err('SELECT 1 FROM w WINDOW a AS (ORDER BY d), a AS (ORDER BY src)')).to.deep.equal(w('Duplicate window clause alias a.'));
      expect(err('SELECT 1 FROM w WINDOW a AS (ROWS CURRENT ROW)')).to.deep.equal(w('Only window frame clause is not allowed in named window: a'));
      expect(err('SELECT 1 FROM w WINDOW a AS (b ORDER BY d), b AS (PARTITION BY src)')).to.deep.equal(w('Window b not in the scope of window clause'));
      expect(err('SELECT 1 FROM w WINDOW a AS (ORDER BY d ROWS 1 PRECEDING), b AS (a)')).to.deep.equal(w('Window a shall not have a window framing clause'));
      // A chain: b refines a (partition) with an order and a frame; OVER b takes all of it.
      const rows = e.rows('SELECT dst, SUM(d) OVER b AS s FROM w WHERE src = "AAE" WINDOW a AS (PARTITION BY src), b AS (a ORDER BY d ROWS UNBOUNDED PRECEDING)');
      expect(rows.map((r: any) => r.s)).to.deep.equal([767, 1782, 3177, 4572]);
    });

    it('RATIO_TO_REPORT takes ORDER BY and a frame: the ratio to the sum over the frame', () => {
      const rows = e.rows('SELECT dst, RATIO_TO_REPORT(d) OVER (ORDER BY d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS r FROM w WHERE src = "AAE"');
      expect(rows.map((r: any) => [r.dst, r.r])).to.deep.equal([['MRS', 1], ['LYS', 1015 / 1782], ['ORY', 1395 / 2410], ['CDG', 0.5]]);
      // ORDER BY without a frame: the default frame, up to the current row's peers.
      const run = e.rows('SELECT dst, RATIO_TO_REPORT(d) OVER (ORDER BY d) AS r FROM w WHERE src = "AAE"');
      expect(run.map((r: any) => [r.dst, r.r])).to.deep.equal([['MRS', 1], ['LYS', 1015 / 1782], ['ORY', 1395 / 4572], ['CDG', 1395 / 4572]]);
    });

    it('the population variance of a one-row frame is 0, the sample variance NULL', () => {
      const rows = e.rows(
        'SELECT VAR_POP(d) OVER (ORDER BY d ROWS CURRENT ROW) AS vp, VARIANCE_POP(d) OVER (ORDER BY d GROUPS CURRENT ROW) AS vp2, ' +
          'STDDEV_POP(d) OVER (ORDER BY d ROWS CURRENT ROW) AS sp, VAR_SAMP(d) OVER (ORDER BY d ROWS CURRENT ROW) AS vs FROM w WHERE dst IN ["MRS", "LYS"]',
      );
      expect(rows).to.deep.equal([
        { vp: 0, vp2: 0, sp: 0, vs: null },
        { vp: 0, vp2: 0, sp: 0, vs: null },
      ]);
    });

    it('a RANGE frame with value offsets is empty for a row whose sort key is not a number', () => {
      const k = new Engine(['rk']);
      k.load('rk', { a: { id: 'a', k: 1 }, b: { id: 'b', k: 2 }, c: { id: 'c', k: 3 }, n: { id: 'n', k: null }, m: { id: 'm' }, t: { id: 't', k: true } });
      k.rows('CREATE PRIMARY INDEX ON rk');
      const rows = k.rows(
        'SELECT id, COUNT(*) OVER (ORDER BY k RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS near, ' +
          'FIRST_VALUE(id) OVER (ORDER BY k RANGE BETWEEN CURRENT ROW AND 1 FOLLOWING) AS fv, MEAN(k) OVER (ORDER BY k RANGE 1 PRECEDING) AS mean FROM rk',
      );
      expect(Object.fromEntries(rows.map((r: any) => [r.id, [r.near, r.fv, r.mean]]))).to.deep.equal({
        m: [0, null, null],
        n: [0, null, null],
        t: [0, null, null],
        a: [2, 'a', 1],
        b: [3, 'b', 1.5],
        c: [2, 'c', 2.5],
      });
    });

    it('works on grouped rows: RANK over an aggregate, and ORDER BY a window function alias', () => {
      expect(e.rows('SELECT src, COUNT(*) AS n, RANK() OVER (ORDER BY COUNT(*) DESC) AS r FROM w GROUP BY src ORDER BY r')).to.deep.equal([
        { src: 'AAE', n: 4, r: 1 },
        { src: 'AAL', n: 3, r: 2 },
      ]);
    });

    it('refuses what Couchbase\'s semantic checks refuse, in their words (3220)', () => {
      const err = (q: string) => e.run(q).errors[0];
      expect(err('SELECT RANK() OVER (PARTITION BY src) FROM w')).to.deep.equal({ code: 3220, msg: 'RANK window function ORDER BY clause is required.' });
      expect(err('SELECT RANK() FROM w')).to.deep.equal({ code: 3220, msg: 'RANK window function Requires OVER clause' });
      expect(err('SELECT ROW_NUMBER() OVER (ORDER BY d ROWS 1 PRECEDING) FROM w')).to.deep.equal({ code: 3220, msg: 'ROW_NUMBER window function window frame is not allowed.' });
      expect(err('SELECT SUM(d) OVER (ROWS UNBOUNDED PRECEDING) FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function window frame is not allowed without ORDER BY.' });
      expect(err('SELECT SUM(d) OVER (ORDER BY d ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function invlaid window frame.' });
      expect(err('SELECT SUM(d) OVER (ORDER BY d ROWS 1 FOLLOWING) FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function invlaid frame.' });
      expect(err('SELECT SUM(d) OVER (ORDER BY d ROWS 1.5 PRECEDING) FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function window frame value expression is invalid.' });
      expect(err('SELECT SUM(d) OVER (ORDER BY d, src RANGE 10 PRECEDING) FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function multiple ORDER BY terms are not allowed.' });
      expect(err('SELECT SUM(d) IGNORE NULLS OVER () FROM w')).to.deep.equal({ code: 3220, msg: 'SUM window function NULLS clause is not allowed.' });
      expect(err('SELECT ROW_NUMBER(DISTINCT d) OVER () FROM w').code).to.equal(3000);
      expect(err('SELECT LAG(d, -1) OVER (ORDER BY d) FROM w')).to.deep.equal({ code: 3220, msg: 'LAG window function second value must be positive non zero integer.' });
    });

    it('refuses window functions outside the projection and ORDER BY, as the planner does (4000)', () => {
      const q = 'SELECT 1 FROM w WHERE ROW_NUMBER() OVER () = 1';
      expect(e.run(q).errors[0]).to.deep.equal({ code: 4000, msg: `Window Aggregates not allowed in WHERE (near line 1, column ${q.indexOf('ROW_NUMBER') + 1}).` });
      const q2 = 'SELECT SUM(RANK() OVER (ORDER BY d)) FROM w';
      expect(e.run(q2).errors[0]).to.deep.equal({ code: 4000, msg: 'Window aggregates are not allowed inside Aggregates (near line 1, column 8).' });
    });
  });

  describe('GROUP AS (GROUP BY reference)', () => {
    const e = travelEngine();
    it('binds each group to the array of its rows, one field per FROM term', () => {
      const rows = e.rows('SELECT country, LEN(g) AS n, g[0].t.name AS firstname FROM travel t WHERE type = "airline" GROUP BY country GROUP AS g ORDER BY country');
      expect(rows).to.deep.equal([
        { country: 'France', n: 1, firstname: 'Alpha Air' },
        { country: 'United States', n: 2, firstname: 'Beta Jet' },
      ]);
      const [j] = e.rows('SELECT r.airlineid, g FROM travel r JOIN travel a ON KEYS r.airlineid WHERE r.type = "route" AND r.id = 2 GROUP BY r.airlineid GROUP AS g') as any[];
      expect(Object.keys(j.g[0]).sort()).to.deep.equal(['a', 'r']);
      expect(e.rows('SELECT country FROM travel WHERE type = "airline" GROUP BY country GROUP AS g HAVING LEN(g) > 1')).to.deep.equal([{ country: 'United States' }]);
    });
  });

  describe('EXCLUDE (SELECT Clause reference)', () => {
    const e = travelEngine();
    it('removes fields by path, by a string of paths, and under the single FROM alias', () => {
      expect(e.rows('SELECT * EXCLUDE geo, t.city, "faa, `country`" FROM travel t WHERE type = "airport" AND id = 1')).to.deep.equal([
        { t: { type: 'airport', id: 1, airportname: 'Paris Intl' } },
      ]);
      expect(e.rows('SELECT t.* EXCLUDE geo, type FROM travel t WHERE type = "airport" AND id = 3')).to.deep.equal([
        { id: 3, airportname: 'Nice', faa: 'NCE', city: 'Nice', country: 'France' },
      ]);
      expect(e.rows('SELECT name, iata EXCLUDE iata FROM travel WHERE type = "airline" AND id = 1')).to.deep.equal([{ name: 'Alpha Air' }]);
    });
  });

  describe('FROM terms and names', () => {
    const e = travelEngine();
    it('joins comma-separated FROM terms through WHERE (FROM Clause: comma-separated joins)', () => {
      expect(e.rows('SELECT a.name, r.id FROM travel a, travel r WHERE a.type = "airline" AND r.type = "route" AND r.airlineid = META(a).id ORDER BY r.id')).to.deep.equal([
        { name: 'Alpha Air', id: 1 },
        { name: 'Beta Jet', id: 2 },
        { name: 'Alpha Air', id: 3 },
      ]);
    });

    it('resolves bare names in UNNEST and ON KEYS against the first FROM term, and refuses them where several terms could own them', () => {
      expect(e.rows('SELECT RAW s.flight FROM travel UNNEST schedule AS s WHERE s.day < 3 ORDER BY s.flight')).to.deep.equal(['AA100', 'BJ200']);
      expect(e.rows('SELECT RAW a.name FROM travel r JOIN travel a ON KEYS airlineid WHERE r.type = "route" ORDER BY r.id')).to.deep.equal(['Alpha Air', 'Beta Jet', 'Alpha Air']);
      const err = e.run('SELECT name FROM travel r JOIN travel a ON KEYS r.airlineid').errors[0];
      expect(err).to.deep.equal({ code: 3080, msg: "Ambiguous reference to field 'name' (near line 1, column 8)." });
    });

    it('matches `name`i without regard to case (Identifiers reference)', () => {
      expect(e.rows('SELECT `NAME`i, t.`Country`i FROM travel t WHERE `TYPE`i = "airline" AND id = 1')).to.deep.equal([{ NAME: 'Alpha Air', Country: 'France' }]);
    });

    it('takes the keyspace from a query parameter (FROM $ks), or iterates a parameter array', () => {
      expect(e.rows('SELECT RAW name FROM $ks WHERE type = "airline" ORDER BY name', { named: { ks: 'travel' } })).to.deep.equal(['Alpha Air', 'Beta Jet', 'Gamma']);
      expect(e.rows('SELECT RAW t.id FROM $1 AS t WHERE t.type = "airport" ORDER BY t.id', { args: ['`travel`'] })).to.deep.equal([1, 2, 3]);
      expect(e.rows('SELECT RAW x * 2 FROM $xs AS x', { named: { xs: [1, 2] } })).to.deep.equal([2, 4]);
      expect(e.run('SELECT 1 FROM $xs', { named: { xs: [1] } }).errors[0]).to.deep.equal({ code: 4010, msg: 'FROM expression term must have a name or alias' });
    });
  });
});

describe('n1ql system catalogs (Get System Information)', () => {
  it('lists datastores, namespaces, buckets, keyspaces and sequences in their documented shapes', () => {
    const e = new Engine(['b']);
    expect(e.rows('SELECT * FROM system:datastores')).to.deep.equal([{ datastores: { id: 'http://127.0.0.1:8091', url: 'http://127.0.0.1:8091' } }]);
    expect(e.rows('SELECT * FROM system:namespaces')).to.deep.equal([{ namespaces: { datastore_id: 'http://127.0.0.1:8091', id: 'default', name: 'default' } }]);
    expect(e.rows('SELECT RAW k FROM system:buckets AS k')).to.deep.equal([{ datastore_id: 'http://127.0.0.1:8091', name: 'b', namespace: 'default', namespace_id: 'default', path: 'default:b' }]);
    expect(e.rows('SELECT RAW k.path FROM system:all_keyspaces AS k')).to.deep.equal(['default:b']);
    expect(e.rows('SELECT 2+5 FROM system:dual')).to.deep.equal([{ $1: 7 }]);
    e.rows('CREATE SEQUENCE b._default.seq4 WITH {"start": 10, "increment": -1, "min": 0}');
    // system:sequences lists the sequences this node has used; system:all_sequences every one.
    expect(e.rows('SELECT RAW s.name FROM system:sequences AS s')).to.deep.equal([]);
    e.rows('SELECT NEXTVAL FOR b._default.seq4');
    const [seq] = e.rows('SELECT RAW s FROM system:all_sequences AS s') as Record<string, any>[];
    const { value, ...rest } = seq;
    expect(rest).to.deep.equal({
      bucket: 'b', cache: 50, cycle: false, increment: -1, max: 9223372036854775807n, min: 0, name: 'seq4', namespace: 'default', namespace_id: 'default', path: '`default`:`b`.`_default`.`seq4`', scope_id: '_default',
    });
    expect(Object.values(value)).to.deep.equal([10, -40]);
    expect(e.run('SELECT * FROM system:nonesuch').errors[0]).to.deep.equal({ code: 12003, msg: 'Keyspace not found in CB datastore: system:nonesuch' });
  });
});
