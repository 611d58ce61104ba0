// Issue 17 items for the query service: linear-time LIKE and REGEXP_*, the request timeout
// enforced inside long statements while other requests are served, documents as data (no
// prototype pollution), and prepared statements kept per user and checked before they are kept.
import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import { compileLike } from '../../lib/server/n1ql/like';
import { PreparedCache } from '../../lib/server/n1ql/prepared';
import { Engine, startHttp, type HttpQueryService } from './harness';

/** Largest gap between 2 ms timer ticks while `work` runs: how long the event loop was held. */
async function maxLag<T>(work: () => Promise<T>): Promise<{ lag: number; value: T }> {
  let last = performance.now();
  let lag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last);
    last = now;
  }, 2);
  try {
    const value = await work();
    return { lag, value };
  } finally {
    clearInterval(timer);
  }
}

const basic = (user: string, password = 'pw'): string => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

describe('n1ql security: pattern matching in linear time', () => {
  it('LIKE matches as Couchbase does (%, _, escapes, code points)', () => {
    const t = (p: string, s: string, esc?: string): boolean => compileLike(p, esc).test(s);
    expect([t('a%', 'abc'), t('%c', 'abc'), t('%b%', 'abc'), t('a_c', 'abc'), t('a_c', 'ac'), t('%', ''), t('_', '')]).to.deep.equal([true, true, true, true, false, true, false]);
    expect([t('a\\%', 'a%'), t('a\\%', 'ab'), t('a!_b', 'a_b', '!'), t('a!_b', 'axb', '!')]).to.deep.equal([true, false, true, false]);
    expect([t('_', '😀'), t('a_b', 'a😀b'), t('%😀', 'x😀'), t('%a%a%', 'aa'), t('%a%a%', 'a'), t('a%a', 'a')]).to.deep.equal([true, true, true, true, false, false]);
    expect([t('%x_y%z', 'xxyyzxzyz'), t('%ab%ba%', 'aba'), t('%ab%ba%', 'abba')]).to.deep.equal([true, false, true]);
  });

  it('a pathological 100-character LIKE and a catastrophic regexp finish at once', () => {
    const e = new Engine();
    e.load('default', { d: { s: 'a'.repeat(2000) + 'c' } });
    e.rows('CREATE PRIMARY INDEX ON `default`');
    // 100 characters; as a backtracking regular expression (^.*a.*a...a$) it takes exponential time:
    // the previous engine needed 1.2 s for 30 characters of input and 20 s for 40.
    const pattern = '%a'.repeat(50);
    expect(pattern.length).to.equal(100);
    const t0 = performance.now();
    expect(e.rows(`SELECT RAW d.s LIKE "${pattern}" FROM \`default\` d`)).to.deep.equal([false]);
    expect(e.rows(`SELECT RAW REGEXP_CONTAINS(d.s, "(a+)+$") FROM \`default\` d`)).to.deep.equal([false]);
    expect(e.rows(`SELECT RAW REGEXP_LIKE(d.s, "(a|aa)+b") FROM \`default\` d`)).to.deep.equal([false]);
    expect(performance.now() - t0).to.be.below(1000);
  });

  it('REGEXP_* use RE2 syntax and report its errors as Couchbase does (5010)', () => {
    const e = new Engine();
    const one = (x: string): unknown => e.rows(`SELECT RAW ${x}`)[0];
    // RE2 has no backreferences or lookaheads: those are syntax errors, with Go's message.
    expect(e.run('SELECT REGEXP_CONTAINS("abc", "(abc")').errors[0]).to.deep.equal({ code: 5010, msg: 'Error evaluating projection. - cause: error parsing regexp: missing closing ): `(abc`' });
    expect(e.run('SELECT RAW 1 WHERE REGEXP_LIKE("aa", "(?=a)")').errors[0]).to.deep.equal({ code: 5010, msg: 'Error evaluating filter. - cause: error parsing regexp: invalid or unsupported Perl syntax: `(?=`' });
    // Positions are byte offsets of the UTF-8 text, as Go's FindStringIndex gives them.
    expect(one('[REGEXP_POSITION("héllo 12", "[0-9]+"), REGEXP_POSITION1("abc1", "[0-9]"), REGEXP_POSITION1("abc", "[0-9]")]')).to.deep.equal([7, 4, -1]);
    // The replacement is literal text; with n only the first n matches are replaced.
    expect(one('[REGEXP_REPLACE("a1b22c333", "[0-9]+", "$0#"), REGEXP_REPLACE("a1b22c333", "[0-9]+", "#", 2), REGEXP_REPLACE("a1", "[0-9]", "#", 1.5)]')).to.deep.equal(['a$0#b$0#c$0#', 'a#b#c333', null]);
    expect(one('[REGEXP_MATCHES("a1b22c333", "[0-9]+"), REGEXP_SPLIT("a1b22c", "[0-9]+"), REGEXP_LIKE("axx", "a|b")]')).to.deep.equal([['1', '22', '333'], ['a', 'b', 'c'], true]);
  });

  describe('over HTTP, the event loop stays free', () => {
    let svc: HttpQueryService;
    before(async () => {
      const store = new DocumentStore({ name: 'b', numVBuckets: 16 });
      store.write('long', Buffer.from(JSON.stringify({ s: 'a'.repeat(20000) + 'c' })), 'upsert', { datatype: 1 });
      svc = await startHttp([store]);
      await svc.request({ statement: 'CREATE PRIMARY INDEX ON b' });
    });
    after(() => svc.close());

    it('a hostile LIKE over a 20,000-character string holds the loop for under 100 ms', async () => {
      const { lag, value } = await maxLag(() => svc.request({ statement: `SELECT RAW s LIKE "${'%a'.repeat(50)}" FROM b` }));
      expect(value.json.results).to.deep.equal([false]);
      // A backtracking engine holds the loop for seconds here (27 s in the audit); the margin is for a loaded machine.
      expect(lag).to.be.below(1000);
    });

    it('a statement past its timeout ends with 1080 while other requests are answered meanwhile', async () => {
      let longAnswered = false;
      const long = svc.request({ statement: 'SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 100000) AS a UNNEST ARRAY_RANGE(0, 100000) AS b', timeout: '1500ms' });
      void long.then(() => (longAnswered = true));
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 200));
      // Each quick statement is answered while the long one is still running: it did not
      // wait for the long one to end (a time bound would only measure the machine's load).
      for (let i = 0; i < 3; i++) {
        const r = await svc.request({ statement: 'SELECT RAW 1 + 1' });
        expect(r.json.results).to.deep.equal([2]);
        expect(longAnswered, `quick statement ${i} waited for the long one`).to.equal(false);
      }
      const r = await long;
      const took = performance.now() - started;
      expect(r.json.status).to.equal('timeout');
      expect(r.json.errors).to.deep.equal([{ code: 1080, msg: 'Timeout 1.5s exceeded' }]);
      expect(took).to.be.within(1400, 4000);
    });

    it('the timeout stops a single long expression too', async () => {
      const t = performance.now();
      const r = await svc.request({
        statement: 'SELECT RAW ARRAY_LENGTH(ARRAY x FOR x IN ARRAY_RANGE(0, 1000000) WHEN ANY y IN ARRAY_RANGE(0, 1000000) SATISFIES y = x * -1 - 1 END END)',
        timeout: '300ms',
      });
      expect(r.json.errors).to.deep.equal([{ code: 1080, msg: 'Timeout 300ms exceeded' }]);
      expect(performance.now() - t).to.be.below(2500);
    });
  });
});

describe('n1ql security: documents are data (no prototype pollution)', () => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const clean = (): void => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(protoBefore);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  };
  const raw = (e: Engine, id: string): string => e.store().get(id)!.value.toString();

  it('UPDATE SET / UNSET on __proto__, constructor and prototype change the document only', () => {
    const e = new Engine();
    e.store().write('d', Buffer.from('{"__proto__":{"a":1},"constructor":{"prototype":{}}}'), 'upsert', { datatype: 1 });
    e.store().write('empty', Buffer.from('{}'), 'upsert', { datatype: 1 });
    e.rows('CREATE PRIMARY INDEX ON `default`');
    e.rows('UPDATE `default` SET `__proto__`.x = 1, `constructor`.`prototype`.polluted = true WHERE META().id = "d"');
    clean();
    expect(JSON.parse(raw(e, 'd'))).to.deep.equal(JSON.parse('{"__proto__":{"a":1,"x":1},"constructor":{"prototype":{"polluted":true}}}'));
    e.rows('UPDATE `default` SET `__proto__` = {"polluted": true}, `constructor` = "c" WHERE META().id = "empty"');
    clean();
    expect(raw(e, 'empty')).to.equal('{"__proto__":{"polluted":true},"constructor":"c"}');
    e.rows('UPDATE `default` UNSET `__proto__` WHERE META().id = "empty"');
    expect(raw(e, 'empty')).to.equal('{"constructor":"c"}');
    // A path through a field the document lacks changes nothing (and never Object.prototype).
    e.rows('UPDATE `default` SET `__proto__`.polluted = true, toString.x = 1 WHERE META().id = "empty"');
    clean();
    expect(raw(e, 'empty')).to.equal('{"constructor":"c"}');
  });

  it('paths read only the document\'s own fields; constructed objects keep every name', () => {
    const e = new Engine();
    e.load('default', { d: { own: 1 } });
    e.rows('CREATE PRIMARY INDEX ON `default`');
    expect(e.rows('SELECT d.`constructor`, d.toString, d.`__proto__`, d.hasOwnProperty, d.own FROM `default` d')).to.deep.equal([{ own: 1 }]);
    const [row] = e.rows('SELECT RAW [{"__proto__": {"polluted": 1}, "constructor": 2}, OBJECT_PUT({}, "__proto__", 3), OBJECT_ADD({}, "toString", 4), {"a": 1}.`__proto__`, [{"__proto__": 5}, {}][*]]') as unknown[];
    clean();
    expect(JSON.stringify(row)).to.equal('[{"__proto__":{"polluted":1},"constructor":2},{"__proto__":3},{"toString":4},null,{"__proto__":[5,null]}]');
    // Variables named like Object.prototype's members are the query's own.
    expect(e.rows('SELECT RAW [`constructor`, `__proto__`] LET `constructor` = 1, `__proto__` = 2')).to.deep.equal([[1, 2]]);
    expect(e.rows('SELECT RAW ARRAY `__proto__` FOR `__proto__` IN [1, 2] END')).to.deep.equal([[1, 2]]);
    clean();
  });

  it('named parameters resolve only what the request set: $__proto__ unset is 5010', async () => {
    const svc = await startHttp([new DocumentStore({ name: 'b', numVBuckets: 16 })]);
    try {
      for (const p of ['__proto__', 'constructor', 'toString']) {
        const r = await svc.request({ statement: `SELECT $${p} AS v` });
        expect(r.json.errors).to.deep.equal([{ code: 5010, msg: `Error evaluating projection. - cause: No value for named parameter $${p}.` }]);
      }
      const set = await svc.request(undefined, { raw: '{"statement": "SELECT RAW $__proto__", "$__proto__": {"polluted": true}}' });
      expect(set.json.results).to.deep.equal([{ polluted: true }]);
      const form = await svc.request(undefined, { contentType: 'application/x-www-form-urlencoded', raw: 'statement=SELECT%20RAW%20%24__proto__&%24__proto__=7' });
      expect(form.json.results).to.deep.equal([7]);
      const bad = await svc.request(undefined, { raw: '{"statement": "SELECT 1", "__proto__": {"statement": "x"}}' });
      expect(bad.json.errors[0]).to.deep.equal({ code: 1065, msg: 'Unrecognized parameter in request: __proto__' });
      clean();
    } finally {
      await svc.close();
    }
  });
});

describe('n1ql security: prepared statements', () => {
  let svc: HttpQueryService;
  const a = new DocumentStore({ name: 'a', numVBuckets: 16 });
  const b = new DocumentStore({ name: 'b', numVBuckets: 16 });
  before(async () => {
    a.write('secret', Buffer.from('{"v":1}'), 'upsert', { datatype: 1 });
    svc = await startHttp([a, b], { alice: { password: 'pw', buckets: ['a'] }, bob: { password: 'pw', buckets: ['b'] } });
    await svc.request({ statement: 'CREATE PRIMARY INDEX ON a' }, { auth: basic('alice') });
    await svc.request({ statement: 'CREATE PRIMARY INDEX ON b' }, { auth: basic('bob') });
  });
  after(() => svc.close());

  const plan = (name: string, text: string): string => Buffer.from(JSON.stringify({ name, text })).toString('base64');

  it('an encoded_plan over a bucket its sender may not use is refused and never kept', async () => {
    const planted = await svc.request({ prepared: 'p1', encoded_plan: plan('p1', 'DELETE FROM a') }, { auth: basic('bob') });
    expect(planted.json.errors[0].code).to.equal(13014);
    const again = await svc.request({ prepared: 'p1' }, { auth: basic('bob') });
    expect(again.json.errors[0].code).to.equal(4040);
    expect(a.get('secret')).to.not.equal(undefined);
  });

  it('names are per user: another user can neither run nor replace them', async () => {
    const prep = await svc.request({ statement: 'PREPARE q FROM SELECT RAW v FROM a' }, { auth: basic('alice') });
    expect(prep.json.errors).to.equal(undefined);
    expect((await svc.request({ prepared: 'q' }, { auth: basic('bob') })).json.errors[0].code).to.equal(4040);
    expect((await svc.request({ statement: 'EXECUTE q' }, { auth: basic('bob') })).json.errors[0].code).to.equal(4040);
    // Bob's own `q` (even forced, even planted as an encoded plan) does not touch Alice's.
    await svc.request({ statement: 'PREPARE FORCE q FROM DELETE FROM b' }, { auth: basic('bob') });
    await svc.request({ prepared: 'q', encoded_plan: plan('q', 'DELETE FROM b') }, { auth: basic('bob') });
    expect((await svc.request({ prepared: 'q' }, { auth: basic('alice') })).json.results).to.deep.equal([1]);
  });

  it('the cache is bounded and evicts the least recently used statement', () => {
    const c = new PreparedCache(3);
    const p = (name: string) => ({ name, text: name, stmt: { type: 'select' } as never });
    c.set('u', p('a'));
    c.set('u', p('b'));
    c.set('u', p('c'));
    expect(c.get('u', 'a')?.name).to.equal('a'); // a is now the most recent
    c.set('u', p('d'));
    expect([c.get('u', 'a')?.name, c.get('u', 'b'), c.get('u', 'c')?.name, c.get('u', 'd')?.name, c.size]).to.deep.equal(['a', undefined, 'c', 'd', 3]);
    expect(new PreparedCache().limit).to.equal(16384);
  });
});

describe('n1ql string functions past the value size limit', () => {
  it('give NULL instead of building strings of gigabytes (REPEAT, LPAD, RPAD, SUFFIXES)', () => {
    const e = new Engine();
    expect(e.rows('SELECT RAW [REPEAT("ab", 300000000), LPAD("a", 1000000000), RPAD("a", 1000000000, "xy"), SUFFIXES(REPEAT("a", 100000))]')).to.deep.equal([[null, null, null, null]]);
    expect(e.rows('SELECT RAW [LENGTH(REPEAT("ab", 1000000)), SUFFIXES("abc")]')).to.deep.equal([[2000000, ['abc', 'bc', 'c']]]);
  });
});
