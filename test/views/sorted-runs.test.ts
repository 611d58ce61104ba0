import { expect } from 'chai';
import { compareRows, type IndexRow } from '../../lib/server/views/collation';
import { SortedRuns } from '../../lib/server/views/sorted-runs';

describe('views: rows sorted batch by batch while an index builds', () => {
  it('equals one stable sort of every row, whatever the batch sizes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (const sizes of [[], [1], [5, 0, 3], [512, 512, 512, 7], Array.from({ length: 70 }, () => Math.floor(rnd() * 600))]) {
      const runs = new SortedRuns();
      const all: IndexRow[] = [];
      let seq = 0;
      for (const n of sizes) {
        const batch: IndexRow[] = [];
        for (let i = 0; i < n; i++) {
          // Few distinct keys and ids, so ties are common; `value` records the arrival order.
          batch.push({ key: rnd() < 0.5 ? Math.floor(rnd() * 10) : ['a', Math.floor(rnd() * 3)], id: `d${Math.floor(rnd() * 20)}`, value: seq++ });
        }
        all.push(...batch);
        runs.add([...batch]);
      }
      const expected = [...all].sort(compareRows);
      expect(runs.finish()).to.deep.equal(expected);
    }
  });
});
