// The sorted index of one view: every emitted row in view collation order (key, then doc id),
// plus doc id -> rows so a mutation replaces exactly that document's rows.
//
// Rows live in sorted blocks of at most 2*BLOCK rows (a flat, one-level B-tree): a binary search
// over the blocks' last rows finds the block, a splice inside it costs at most ~1,000 moves, and
// a position is the sum of the block sizes before it. A large batch of changes is merged (drop
// the old rows, sort the new ones, merge, re-block) instead of spliced row by row.
import { compareIds, compareKeys, compareRows, type IndexRow } from './collation';
import type { Reducer } from './reduce';
import { mergeRows } from './sorted-runs';

const BLOCK = 512;

/** True for every row before a boundary and false from it on. */
type Before = (row: IndexRow) => boolean;

function bound(rows: readonly IndexRow[], before: Before, lo = 0, hi = rows.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(rows[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const NO_ROWS: readonly IndexRow[] = Object.freeze([]);

function toBlocks(rows: IndexRow[]): IndexRow[][] {
  const blocks: IndexRow[][] = [];
  for (let i = 0; i < rows.length; i += BLOCK) blocks.push(rows.slice(i, i + BLOCK));
  return blocks;
}

export class ViewIndex {
  private blocks: IndexRow[][] = [];
  private count = 0;
  private readonly byId = new Map<string, readonly IndexRow[]>();

  constructor(
    readonly name: string,
    readonly map: string,
    readonly reduceSource: string | undefined,
    readonly reducer: Reducer | undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  rowsOf(id: string): readonly IndexRow[] {
    return this.byId.get(id) ?? NO_ROWS;
  }

  /** A copy of the rows at positions [lo, hi), in index order. */
  slice(lo = 0, hi = this.count): IndexRow[] {
    const out: IndexRow[] = [];
    if (hi <= lo) return out;
    let base = 0;
    for (const b of this.blocks) {
      const end = base + b.length;
      if (end > lo) {
        const from = Math.max(0, lo - base);
        const to = Math.min(b.length, hi - base);
        for (let i = from; i < to; i++) out.push(b[i]);
        if (end >= hi) break;
      }
      base = end;
    }
    return out;
  }

  /** Takes over the rows of `other` (same view definition, new design document revision). */
  adoptFrom(other: ViewIndex): void {
    this.blocks = other.blocks;
    this.count = other.count;
    this.byId.clear();
    for (const [id, rows] of other.byId) this.byId.set(id, rows);
    other.blocks = [];
    other.count = 0;
    other.byId.clear();
  }

  /** Replaces the whole index (initial build); `rows` need not be sorted unless `sorted` says they are. */
  load(rows: IndexRow[], sorted = false): void {
    this.byId.clear();
    for (const row of rows) {
      const list = this.byId.get(row.id) as IndexRow[] | undefined;
      if (list) list.push(row);
      else this.byId.set(row.id, [row]);
    }
    if (!sorted) rows.sort(compareRows);
    this.blocks = toBlocks(rows);
    this.count = rows.length;
  }

  /** Replaces the rows of each document in `changes` (an empty list removes the document). */
  apply(changes: ReadonlyMap<string, readonly IndexRow[]>): void {
    let removed = 0;
    let added = 0;
    for (const [id, rows] of changes) {
      removed += this.rowsOf(id).length;
      added += rows.length;
    }
    if (removed + added === 0) return;
    if (removed + added <= 256 + (this.count >>> 3)) this.splice(changes);
    else this.merge(changes);
    for (const [id, rows] of changes) {
      if (rows.length === 0) this.byId.delete(id);
      else this.byId.set(id, rows);
    }
  }

  /** Index of the first block whose last row is not before the boundary (blocks.length if none). */
  private blockFor(before: Before): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = blocks[mid];
      if (before(b[b.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private splice(changes: ReadonlyMap<string, readonly IndexRow[]>): void {
    for (const [id] of changes) {
      for (const old of this.rowsOf(id)) this.removeRow(old);
    }
    for (const [, fresh] of changes) {
      for (const row of fresh) this.insertRow(row);
    }
  }

  private removeRow(row: IndexRow): void {
    const before: Before = (r) => compareRows(r, row) < 0;
    for (let bi = this.blockFor(before); bi < this.blocks.length; bi++) {
      const b = this.blocks[bi];
      let i = bound(b, before);
      while (i < b.length && b[i] !== row && compareRows(b[i], row) === 0) i++;
      if (i < b.length && b[i] === row) {
        b.splice(i, 1);
        this.count--;
        if (b.length === 0) this.blocks.splice(bi, 1);
        return;
      }
      // Equal rows can straddle a block boundary; keep looking only while they are equal.
      if (i < b.length) return;
    }
  }

  private insertRow(row: IndexRow): void {
    const before: Before = (r) => compareRows(r, row) <= 0;
    if (this.blocks.length === 0) {
      this.blocks.push([row]);
      this.count = 1;
      return;
    }
    let bi = this.blockFor(before);
    if (bi === this.blocks.length) bi--;
    const b = this.blocks[bi];
    b.splice(bound(b, before), 0, row);
    this.count++;
    if (b.length > 2 * BLOCK) this.blocks.splice(bi, 1, b.slice(0, BLOCK), b.slice(BLOCK));
  }

  private merge(changes: ReadonlyMap<string, readonly IndexRow[]>): void {
    const kept: IndexRow[] = [];
    for (const b of this.blocks) for (const r of b) if (!changes.has(r.id)) kept.push(r);
    const fresh: IndexRow[] = [];
    for (const rows of changes.values()) for (const r of rows) fresh.push(r);
    fresh.sort(compareRows);
    const out = mergeRows(kept, fresh);
    this.blocks = toBlocks(out);
    this.count = out.length;
  }

  /** Position of the first row at which `before` turns false. */
  private position(before: Before): number {
    const bi = this.blockFor(before);
    let base = 0;
    for (let i = 0; i < bi; i++) base += this.blocks[i].length;
    return bi === this.blocks.length ? base : base + bound(this.blocks[bi], before);
  }

  /** First position whose row is at or after (key, docId); no docId = before every id of key. */
  lowerBound(key: unknown, docId?: string): number {
    return this.position((r) => {
      const c = compareKeys(r.key, key);
      return c < 0 || (c === 0 && docId !== undefined && compareIds(r.id, docId) < 0);
    });
  }

  /** First position whose row is after (key, docId); no docId = after every id of key. */
  upperBound(key: unknown, docId?: string): number {
    return this.position((r) => {
      const c = compareKeys(r.key, key);
      return c < 0 || (c === 0 && (docId === undefined || compareIds(r.id, docId) <= 0));
    });
  }
}
