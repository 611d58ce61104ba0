// ARRAY_RANGE as the query service bounds it: a range of more than 2^20 elements is refused with
// 5035 before anything is built (it used to be built up to 2^24 elements, holding the event loop
// for seconds: the fuzz run's KV-probe hang, input 11:9387).
import { expect } from 'chai';
import { travelEngine } from './fixture';

describe('n1ql ARRAY_RANGE bounds', () => {
  it('builds up to 2^20 elements and refuses more with 5035 "Out of range evaluating ARRAY_RANGE()."', () => {
    const e = travelEngine();
    expect(e.rows('SELECT RAW ARRAY_LENGTH(ARRAY_RANGE(0, 1048576))')).to.deep.equal([1048576]);
    expect(e.rows('SELECT RAW ARRAY_LENGTH(ARRAY_RANGE(0, 2097152, 2))')).to.deep.equal([1048576]);
    for (const s of ['ARRAY_RANGE(0, 1048577)', 'ARRAY_RANGE(0, 50000000)', 'ARRAY_RANGE(5e7, 0, -1)', 'ARRAY_RANGE(0, 1, 1e-9)']) {
      const t0 = performance.now();
      const r = e.run(`SELECT RAW ARRAY_LENGTH(ARRAY x FOR x IN ${s} END)`);
      expect(r.errors, s).to.deep.equal([{ code: 5035, msg: 'Out of range evaluating ARRAY_RANGE().' }]);
      expect(performance.now() - t0, s).to.be.below(1000); // refused up front, not after building
    }
  });

  it('keeps the empty and reversed cases', () => {
    const e = travelEngine();
    expect(e.rows('SELECT RAW [ARRAY_RANGE(0, 10, -1), ARRAY_RANGE(10, 0, -3), ARRAY_RANGE(3, 3), ARRAY_RANGE(0, 5, 0), ARRAY_RANGE(0, 1, 0.25)]')).to.deep.equal([
      [[], [10, 7, 4, 1], [], [], [0, 0.25, 0.5, 0.75]],
    ]);
    expect(e.rows('SELECT RAW [ARRAY_RANGE("a", 3), ARRAY_RANGE(0, 3, "x")]')).to.deep.equal([[null, null]]);
  });
});

describe('n1ql statements nested too deeply', () => {
  it('parses 1,500 nested brackets, and refuses 5,000 with a syntax error saying why instead of an internal error', () => {
    const e = travelEngine();
    const nested = (n: number): string => `SELECT RAW ${'['.repeat(n)}1${']'.repeat(n)}`;
    expect(e.run(nested(1500)).errors).to.deep.equal([]);
    expect(e.run(nested(5000)).errors).to.deep.equal([
      { code: 3000, msg: 'syntax error - the statement nests expressions too deeply to parse (keep nesting under 1,000 levels)' },
    ]);
  });
});
