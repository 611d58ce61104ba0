import { expect } from 'chai';
import { compareRows, type IndexRow } from '../../lib/server/views/collation';
import { ViewIndex } from '../../lib/server/views/view-index';

describe('views: sorted view index', () => {
  it('stays equal to a plain sorted list through many small and large batches of changes', () => {
    const index = new ViewIndex('v', '', undefined, undefined);
    const truth = new Map<string, IndexRow[]>();
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const rowsFor = (id: string): IndexRow[] => {
      const n = Math.floor(rnd() * 3);
      const out: IndexRow[] = [];
      for (let i = 0; i < n; i++) out.push({ key: rnd() < 0.3 ? ['k', Math.floor(rnd() * 20)] : Math.floor(rnd() * 50), id, value: i });
      return out;
    };
    const initial: IndexRow[] = [];
    for (let i = 0; i < 3000; i++) {
      const rows = rowsFor(`d${i}`);
      truth.set(`d${i}`, rows);
      initial.push(...rows);
    }
    index.load(initial);
    for (let round = 0; round < 30; round++) {
      const changes = new Map<string, IndexRow[]>();
      // Mostly small batches (spliced), sometimes large ones (merged); ids concentrate so blocks split.
      const n = round % 10 === 9 ? 2500 : round >= 3 && round <= 8 ? 250 : 1 + Math.floor(rnd() * 200);
      const hot = round >= 3 && round <= 8;
      for (let i = 0; i < n; i++) {
        if (hot) {
          // New documents all landing on one key: the block holding it must split.
          const id = `hot${round}-${i}`;
          changes.set(id, [{ key: 25, id, value: null }]);
          continue;
        }
        const id = `d${Math.floor(rnd() * (round % 2 ? 4000 : 300))}`;
        const rows = rnd() < 0.2 ? [] : rowsFor(id);
        changes.set(id, rows);
      }
      index.apply(changes);
      for (const [id, rows] of changes) truth.set(id, rows);
      const expected = [...truth.values()].flat().sort(compareRows);
      const actual = index.slice();
      expect(actual.length, `round ${round}`).to.equal(expected.length);
      expect(index.size).to.equal(expected.length);
      for (let i = 0; i < expected.length; i++) {
        if (compareRows(actual[i], expected[i]) !== 0) expect.fail(`round ${round}: row ${i} differs`);
      }
      for (const [id, rows] of changes) expect(index.rowsOf(id)).to.deep.equal(rows);
    }
    expect((index as unknown as { blocks: unknown[] }).blocks.length).to.be.greaterThan(initial.length / 512 + 1);
    // Range positions agree with the flat list.
    const flat = index.slice();
    const lo = index.lowerBound(10);
    const hi = index.upperBound(20);
    expect(flat.slice(lo, hi).every((r) => typeof r.key === 'number' && r.key >= 10 && r.key <= 20)).to.equal(true);
    expect(flat.slice(0, lo).every((r) => typeof r.key === 'number' && r.key < 10)).to.equal(true);
  });
});
