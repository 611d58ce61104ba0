// An ordered multiset kept in chunks of bounded size (a two-level B+-tree, in effect): inserts
// and removals move at most one chunk's worth of elements, and scans stay cheap.
//
// Scans are written to survive the list changing between two `next()` calls (a streamed query
// result may be paused on backpressure while writes go on): each chunk is copied as it is
// entered, and the next chunk is found again by searching for the last element returned.

const MAX_CHUNK = 1024;

export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Rebuilds the list from unsorted items in one sort (index builds). */
  load(items: T[]): void {
    items.sort(this.cmp);
    this.chunks = [];
    for (let i = 0; i < items.length; i += MAX_CHUNK / 2) this.chunks.push(items.slice(i, i + MAX_CHUNK / 2));
    this.count = items.length;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** Index of the first chunk whose last element is >= item (by `test` returning >= 0 there). */
  private chunkFor(test: (x: T) => number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (test(c[c.length - 1]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position in `arr` where test(x) >= 0 (test must be monotonic). */
  private static lowerIn<T>(arr: T[], test: (x: T) => number): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(arr[mid]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      return;
    }
    const test = (x: T): number => this.cmp(x, item);
    const ci = this.chunkFor(test);
    const chunk = this.chunks[ci];
    chunk.splice(SortedList.lowerIn(chunk, test), 0, item);
    if (chunk.length > MAX_CHUNK) this.chunks.splice(ci, 1, chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
  }

  /** Removes one element equal (cmp === 0) to item; returns whether one was found. */
  remove(item: T): boolean {
    if (this.chunks.length === 0) return false;
    const test = (x: T): number => this.cmp(x, item);
    const ci = this.chunkFor(test);
    const chunk = this.chunks[ci];
    const i = SortedList.lowerIn(chunk, test);
    if (i >= chunk.length || this.cmp(chunk[i], item) !== 0) return false;
    chunk.splice(i, 1);
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    this.count--;
    return true;
  }

  /**
   * Elements from the first x with lower(x) >= 0 while upper(x) <= 0 (both monotonic in order),
   * in order. `lower` undefined means from the start; `upper` undefined means to the end.
   */
  *scan(lower?: (x: T) => number, upper?: (x: T) => number): Generator<T> {
    let seek: (x: T) => number = lower ?? (() => 0);
    for (;;) {
      if (this.chunks.length === 0) return;
      const ci = this.chunkFor(seek);
      const chunk = this.chunks[ci];
      let i = SortedList.lowerIn(chunk, seek);
      if (i >= chunk.length) return;
      const copy = chunk.slice(i);
      let last: T | undefined;
      for (const x of copy) {
        if (upper && upper(x) > 0) return;
        last = x;
        yield x;
      }
      if (last === undefined) return;
      const after = last;
      // Resume strictly after the last element returned.
      seek = (x: T): number => (this.cmp(x, after) > 0 ? 1 : -1);
      i = 0;
    }
  }
}
