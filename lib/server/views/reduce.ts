// Reductions: Couchbase's built-ins (_count, _sum, _stats) computed on the host, and custom
// JavaScript reduces run in the design document's sandbox with CouchDB's reduce/rereduce contract.
//
// Reductions are computed at query time over the rows the query selected. Large groups are cut
// into chunks reduced separately and then re-reduced, as Couchbase's B-tree does, so a custom
// reduce sees `rereduce = true` whenever a group is bigger than one chunk.
import type { IndexRow } from './collation';
import { ViewFunctionError } from './errors';
import { SandboxFailedError, type ViewSandbox } from './sandbox';

export const SUM_ERROR = 'Builtin _sum function requires map values to be numbers';
export const STATS_ERROR = 'Builtin _stats function requires map values to be numbers';

/** Rows reduced per reduce call; groups larger than this are re-reduced from partial results. */
export const REDUCE_CHUNK = 1000;
/** Rows handed to the sandbox per vm call when many small groups are reduced. */
const ROWS_PER_CALL = 8000;

export type ReduceResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** A half-open range [start, end) of the selected rows that reduces to one value. */
export type RowRange = readonly [start: number, end: number];

export interface Reducer {
  readonly source: string;
  /** Built-ins answer at once; a JavaScript reduce answers when its sandbox has run (SandboxFailedError when it stopped). */
  reduce(rows: readonly IndexRow[], ranges: readonly RowRange[]): ReduceResult[] | Promise<ReduceResult[]>;
}

export const BUILTIN_REDUCES = ['_count', '_sum', '_stats'] as const;

export function isBuiltinReduce(source: string): boolean {
  return (BUILTIN_REDUCES as readonly string[]).includes(source);
}

interface Stats {
  sum: number;
  count: number;
  min: number;
  max: number;
  sumsqr: number;
}

function sumRange(rows: readonly IndexRow[], start: number, end: number): number {
  let total = 0;
  for (let i = start; i < end; i++) {
    const v = rows[i].value;
    if (typeof v !== 'number') throw new ViewFunctionError(SUM_ERROR);
    total += v;
  }
  return total;
}

function statsRange(rows: readonly IndexRow[], start: number, end: number): Stats | Record<string, never> {
  if (start >= end) return {};
  let sum = 0;
  let sumsqr = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = rows[i].value;
    if (typeof v !== 'number') throw new ViewFunctionError(STATS_ERROR);
    sum += v;
    sumsqr += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, count: end - start, min, max, sumsqr };
}

function builtin(source: string): Reducer {
  const one = (rows: readonly IndexRow[], s: number, e: number): unknown => {
    switch (source) {
      case '_count':
        return e - s;
      case '_sum':
        return sumRange(rows, s, e);
      default:
        return statsRange(rows, s, e);
    }
  };
  return {
    source,
    reduce(rows, ranges) {
      return ranges.map(([s, e]) => {
        try {
          return { ok: true, value: one(rows, s, e) };
        } catch (err) {
          return { ok: false, reason: (err as Error).message };
        }
      });
    },
  };
}

type Job = readonly [unknown[] | null, unknown[], boolean];

function jsReducer(source: string, sandbox: ViewSandbox): Reducer {
  const reduceJobs = (jobs: Job[]): Promise<unknown[]> => sandbox.reduce(source, jobs);

  // Reduces one range completely (chunks, then rereduce until one value remains).
  const reduceOne = async (rows: readonly IndexRow[], s: number, e: number): Promise<unknown> => {
    const jobs: Job[] = [];
    for (let c = s; c < e; c += REDUCE_CHUNK) jobs.push(jobFor(rows, c, Math.min(e, c + REDUCE_CHUNK)));
    if (jobs.length === 0) jobs.push([[], [], false]);
    let partials = await reduceJobs(jobs);
    while (partials.length > 1) {
      const rjobs: Job[] = [];
      for (let c = 0; c < partials.length; c += REDUCE_CHUNK) rjobs.push([null, partials.slice(c, c + REDUCE_CHUNK), true]);
      partials = await reduceJobs(rjobs);
    }
    return partials[0];
  };

  return {
    source,
    async reduce(rows, ranges) {
      const results: ReduceResult[] = new Array(ranges.length);
      let i = 0;
      while (i < ranges.length) {
        // Small groups travel together in one sandbox call; a failure re-runs them one by one so
        // the error lands on the group that caused it.
        const batch: number[] = [];
        let size = 0;
        while (i < ranges.length && (batch.length === 0 || size + (ranges[i][1] - ranges[i][0]) <= ROWS_PER_CALL)) {
          const n = ranges[i][1] - ranges[i][0];
          if (n > REDUCE_CHUNK && batch.length > 0) break;
          batch.push(i);
          size += n;
          i++;
          if (n > REDUCE_CHUNK) break;
        }
        if (batch.length === 1) {
          const [s, e] = ranges[batch[0]];
          results[batch[0]] = await attempt(() => reduceOne(rows, s, e));
          continue;
        }
        const jobs: Job[] = batch.map((r) => jobFor(rows, ranges[r][0], ranges[r][1]));
        let out: unknown[] | undefined;
        try {
          out = await reduceJobs(jobs);
        } catch (err) {
          if (err instanceof SandboxFailedError) throw err;
        }
        if (out) {
          const done = out;
          batch.forEach((r, k) => (results[r] = { ok: true, value: done[k] }));
          continue;
        }
        for (const r of batch) {
          const [s, e] = ranges[r];
          results[r] = await attempt(() => reduceOne(rows, s, e));
        }
      }
      return results;
    },
  };
}

function jobFor(rows: readonly IndexRow[], s: number, e: number): Job {
  const keys: unknown[] = new Array(e - s);
  const values: unknown[] = new Array(e - s);
  for (let i = s; i < e; i++) {
    keys[i - s] = [rows[i].key, rows[i].id];
    values[i - s] = rows[i].value;
  }
  return [keys, values, false];
}

/** The group's reduction, or the reason it failed; a stopped sandbox ends the whole query instead. */
async function attempt(fn: () => Promise<unknown>): Promise<ReduceResult> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof SandboxFailedError) throw err;
    return { ok: false, reason: (err as Error).message };
  }
}

/** The reducer for a view's `reduce` field. */
export function makeReducer(source: string, sandbox: ViewSandbox): Reducer {
  return isBuiltinReduce(source) ? builtin(source) : jsReducer(source, sandbox);
}
