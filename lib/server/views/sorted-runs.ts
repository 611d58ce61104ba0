// Sorting a view's rows while its index builds: each batch's rows are sorted as they arrive (on
// the event loop, while the sandbox thread maps the next batch), and runs are merged as they
// pile up, larger run first when keys tie so equal rows keep their order. What is left at the
// end is a few runs of decreasing size, merged in one pass: far less work after the last batch
// than sorting every row then.
import { compareRows, type IndexRow } from './collation';

/** Merges two sorted row lists; on a tie the row of `a` comes first. */
export function mergeRows(a: readonly IndexRow[], b: readonly IndexRow[]): IndexRow[] {
  const out: IndexRow[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareRows(b[j], a[i]) < 0 ? b[j++] : a[i++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

export class SortedRuns {
  private readonly runs: IndexRow[][] = [];

  /** Adds rows that come after every row added so far when keys tie (sorts them in place). */
  add(rows: IndexRow[]): void {
    if (rows.length === 0) return;
    rows.sort(compareRows);
    const runs = this.runs;
    runs.push(rows);
    // Keep run sizes at least halving from the first to the last, as a binary counter does.
    while (runs.length >= 2 && runs[runs.length - 2].length <= 2 * runs[runs.length - 1].length) {
      const b = runs.pop()!;
      const a = runs.pop()!;
      runs.push(mergeRows(a, b));
    }
  }

  /** Every row added, in index order. */
  finish(): IndexRow[] {
    const runs = this.runs;
    while (runs.length >= 2) {
      const b = runs.pop()!;
      const a = runs.pop()!;
      runs.push(mergeRows(a, b));
    }
    return runs.pop() ?? [];
  }
}
