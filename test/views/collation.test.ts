import { expect } from 'chai';
import { compareKeys, compareRows } from '../../lib/server/views';
import { putDesign, query, startViewsServer, type ViewsServer } from './helpers';

describe('views: key collation', () => {
  it('orders types null < false < true < numbers < strings < arrays < objects', () => {
    const keys = [{ a: 1 }, ['a'], 'a', 2, true, false, null, [], {}, -5, ''];
    const sorted = [...keys].sort(compareKeys);
    expect(sorted).to.deep.equal([null, false, true, -5, 2, '', 'a', [], ['a'], {}, { a: 1 }]);
  });

  it('orders numbers by value, not by text', () => {
    expect([10, 9, -1, 1.5, 100, 0].sort(compareKeys)).to.deep.equal([-1, 0, 1.5, 9, 10, 100]);
  });

  it('orders strings by Unicode collation: case and accents are weaker than letters', () => {
    const words = ['b', 'B', 'Á', 'á', 'A', 'a', 'abc223', 'ABC123', 'abc123'];
    expect([...words].sort(compareKeys)).to.deep.equal(['a', 'A', 'á', 'Á', 'abc123', 'ABC123', 'abc223', 'b', 'B']);
  });

  it('collates non-Latin and composed/decomposed strings consistently', () => {
    expect(compareKeys('é', 'f')).to.be.lessThan(0);
    expect(compareKeys('ö', 'z')).to.be.lessThan(0);
    // Code-unit order would put 'éa' after 'ez' (U+00E9 > 'e').
    expect(compareKeys('éa', 'ez')).to.be.lessThan(0);
    // U+00E9 and e + U+0301 are canonically equivalent; order stays total and stable.
    const c = compareKeys('\u00e9', 'e\u0301');
    expect(c).to.equal(-compareKeys('e\u0301', '\u00e9'));
  });

  it('compares arrays element by element, shorter first on a common prefix', () => {
    const keys = [['a', 2], ['a'], ['a', 1, 'z'], ['b'], ['a', 1]];
    expect([...keys].sort(compareKeys)).to.deep.equal([['a'], ['a', 1], ['a', 1, 'z'], ['a', 2], ['b']]);
  });

  it('compares objects key/value pair by pair, then by size', () => {
    expect(compareKeys({ a: 1 }, { a: 2 })).to.be.lessThan(0);
    expect(compareKeys({ a: 1 }, { b: 0 })).to.be.lessThan(0);
    expect(compareKeys({ a: 1 }, { a: 1, b: 0 })).to.be.lessThan(0);
    expect(compareKeys({ a: 1, b: 2 }, { a: 1, b: 2 })).to.equal(0);
  });

  it('breaks ties between equal keys by document id', () => {
    expect(compareRows({ key: 'k', id: 'doc2', value: null }, { key: 'k', id: 'doc10', value: null })).to.be.greaterThan(0);
    expect(compareRows({ key: 'a', id: 'z', value: null }, { key: 'b', id: 'a', value: null })).to.be.lessThan(0);
  });

  describe('in view results', () => {
    let s: ViewsServer;
    before(async () => {
      s = await startViewsServer();
      const keys: unknown[] = [{ o: 1 }, ['x', 1], ['x'], 'Zebra', 'apple', 'Äpfel', 3.5, -2, true, false, null];
      keys.forEach((k, i) => s.putDoc(`d${i}`, { k }));
      s.putDoc('tie-b', { k: 'same' });
      s.putDoc('tie-a', { k: 'same' });
      await putDesign(s, 'c', { byK: { map: 'function (doc) { emit(doc.k, null); }' } });
    });
    after(() => s.close());

    it('returns rows in collation order with ties by doc id', async () => {
      const r = await query(s, 'c', 'byK');
      expect(r.status).to.equal(200);
      expect(r.json.rows.map((row: any) => row.key)).to.deep.equal([
        null, false, true, -2, 3.5, 'Äpfel', 'apple', 'same', 'same', 'Zebra', ['x'], ['x', 1], { o: 1 },
      ]);
      const ties = r.json.rows.filter((row: any) => row.key === 'same').map((row: any) => row.id);
      expect(ties).to.deep.equal(['tie-a', 'tie-b']);
    });

    it('uses collation for key ranges too', async () => {
      const r = await query(s, 'c', 'byK', { startkey: 'a', endkey: 'b' });
      expect(r.json.rows.map((row: any) => row.key)).to.deep.equal(['Äpfel', 'apple']);
    });
  });
});

describe('views: string collation agrees with Intl.Collator (ICU)', () => {
  it('on random Latin-1, Greek, Cyrillic and CJK strings', () => {
    const icu = new Intl.Collator('en');
    const alphabet = [' ', '-', '_', '.', '0', '9', 'a', 'A', 'z', 'Z', 'é', 'É', 'ß', 'ø', 'ü', 'ñ', 'α', 'Ω', 'ж', 'Я', '中', '日', 'ㄱ', '\u0301'];
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const word = () => Array.from({ length: Math.floor(rnd() * 6) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    const mismatches: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = word();
      const b = rnd() < 0.5 ? a.slice(0, -1) + word() : word();
      const want = Math.sign(icu.compare(a, b));
      if (want !== 0 && Math.sign(compareKeys(a, b)) !== want) mismatches.push(`${a} vs ${b}`);
    }
    expect(mismatches).to.deep.equal([]);
  });
});
