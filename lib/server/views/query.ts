// Runs a parsed view query against a view index and yields the response as JSON text pieces:
// a header, one string per row, then a trailer. The HTTP layer pulls the pieces at the pace the
// socket takes them. The selected rows are copied (pointers only) when the query starts, so an
// index update during a slow read does not shift what the reader sees.
import type { BucketStore } from '../service-types';
import { compareKeys, type IndexRow } from './collation';
import type { ViewQueryArgs } from './query-params';
import type { ReduceResult, RowRange } from './reduce';
import type { ViewIndex } from './view-index';
import { bodyOf, revOf, type DesignDocIndex } from './design-doc-index';
import { SandboxFailedError } from './sandbox';

/** Groups reduced per reducer call while streaming a grouped reduce. */
const GROUPS_PER_STEP = 1000;

export interface QueryError {
  readonly from: string;
  readonly reason: string;
}

export interface QueryOutput {
  readonly header: string;
  /** Row texts; asynchronous when producing them waits for a sandbox (custom reduces). */
  readonly rows: Iterator<string> | AsyncIterator<string>;
  /** The closing text; call after `rows` is exhausted (it carries errors found on the way). */
  trailer(): string;
}

function encodeKey(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'null' : s;
}

/** Index positions [lo, hi) that the key range of `args` selects. */
function selectRange(view: ViewIndex, args: ViewQueryArgs): [number, number] {
  let lo = 0;
  let hi = view.size;
  if (!args.descending) {
    if (args.hasStartKey) lo = view.lowerBound(args.startKey, args.startDocId);
    if (args.hasEndKey) hi = args.inclusiveEnd ? view.upperBound(args.endKey, args.endDocId) : view.lowerBound(args.endKey, args.endDocId);
  } else {
    if (args.hasStartKey) hi = view.upperBound(args.startKey, args.startDocId);
    if (args.hasEndKey) lo = args.inclusiveEnd ? view.lowerBound(args.endKey, args.endDocId) : view.upperBound(args.endKey, args.endDocId);
  }
  return [lo, Math.max(lo, hi)];
}

/** The rows a map query returns, in output order, before skip/limit (those are applied lazily). */
function selectRows(view: ViewIndex, args: ViewQueryArgs, max: number): IndexRow[] {
  if (args.keys) {
    const out: IndexRow[] = [];
    for (const key of args.keys) {
      const lo = view.lowerBound(key);
      const hi = view.upperBound(key);
      const part = view.slice(lo, Math.min(hi, lo + (max - out.length)));
      if (args.descending) part.reverse();
      for (const r of part) out.push(r);
      if (out.length >= max) break;
    }
    return out;
  }
  const [lo, hi] = selectRange(view, args);
  if (!args.descending) return view.slice(lo, Math.min(hi, lo + max));
  return view.slice(Math.max(lo, hi - max), hi).reverse();
}

function docMember(store: BucketStore, id: string): string {
  const doc = store.get(id);
  if (!doc) return 'null';
  const meta = `{"id":${JSON.stringify(doc.id)},"rev":${JSON.stringify(revOf(doc))},"expiration":${doc.expiry},"flags":${doc.flags}}`;
  const body = bodyOf(doc);
  if ((doc.datatype & 0x01) !== 0) return `{"meta":${meta},"json":${body.toString('utf8')}}`;
  return `{"meta":${meta},"base64":${JSON.stringify(body.toString('base64'))}}`;
}

function debugInfo(group: DesignDocIndex, view: ViewIndex): string {
  return JSON.stringify({
    local: {
      design_document: `_design/${group.name}`,
      view: view.name,
      indexed_rows: view.size,
      map_errors_count: group.errorCount,
      map_errors: group.errors.map((e) => ({ id: e.docId, view: e.view, reason: e.reason })),
      ...(group.failureText === undefined ? {} : { failure: group.failureText }),
    },
  });
}

function trailerText(errors: QueryError[], debug: string | undefined): string {
  let s = '\r\n]';
  if (errors.length > 0) s += ',\r\n"errors":[' + errors.map((e) => JSON.stringify(e)).join(',') + ']';
  if (debug !== undefined) s += ',\r\n"debug_info":' + debug;
  return s + '\r\n}';
}

function* mapRows(store: BucketStore, rows: IndexRow[], args: ViewQueryArgs): Generator<string> {
  const limit = args.limit ?? Infinity;
  let emitted = 0;
  for (let i = args.skip; i < rows.length && emitted < limit; i++, emitted++) {
    const r = rows[i];
    let s = `{"id":${JSON.stringify(r.id)},"key":${encodeKey(r.key)},"value":${encodeKey(r.value)}`;
    if (args.includeDocs) s += `,"doc":${docMember(store, r.id)}`;
    yield s + '}';
  }
}

function groupKey(key: unknown, level: number | 'exact'): unknown {
  if (level === 'exact') return key;
  if (level === 0) return null;
  return Array.isArray(key) ? key.slice(0, level) : key;
}

/** Splits ascending `rows` into runs whose group keys are equal. */
function groupRanges(rows: readonly IndexRow[], level: number | 'exact'): Array<{ key: unknown; range: RowRange }> {
  if (rows.length === 0) return [];
  if (level === 0) return [{ key: null, range: [0, rows.length] }];
  const out: Array<{ key: unknown; range: RowRange }> = [];
  let start = 0;
  let current = groupKey(rows[0].key, level);
  for (let i = 1; i < rows.length; i++) {
    const k = groupKey(rows[i].key, level);
    if (compareKeys(k, current) !== 0) {
      out.push({ key: current, range: [start, i] });
      start = i;
      current = k;
    }
  }
  out.push({ key: current, range: [start, rows.length] });
  return out;
}

async function* reduceRows(group: DesignDocIndex, view: ViewIndex, args: ViewQueryArgs, errors: QueryError[]): AsyncGenerator<string> {
  const reducer = view.reducer!;
  let rows: IndexRow[];
  let groups: Array<{ key: unknown; range: RowRange }>;
  if (args.keys) {
    rows = [];
    groups = [];
    for (const key of args.keys) {
      const part = view.slice(view.lowerBound(key), view.upperBound(key));
      if (part.length === 0) continue;
      const start = rows.length;
      for (const r of part) rows.push(r);
      groups.push({ key: part[0].key, range: [start, rows.length] });
    }
  } else {
    const [lo, hi] = selectRange(view, args);
    rows = view.slice(lo, hi);
    groups = groupRanges(rows, args.groupLevel);
    if (args.descending) groups.reverse();
  }
  let skip = args.skip;
  let left = args.limit ?? Infinity;
  for (let g = 0; g < groups.length && left > 0; g += GROUPS_PER_STEP) {
    const step = groups.slice(g, g + GROUPS_PER_STEP);
    // Skipped groups are not reduced at all.
    const wanted = step.slice(Math.min(skip, step.length));
    skip -= step.length - wanted.length;
    if (wanted.length === 0) continue;
    let results: ReduceResult[];
    try {
      results = await reducer.reduce(rows, wanted.map((x) => x.range));
    } catch (err) {
      if (!(err instanceof SandboxFailedError)) throw err;
      // The design document stopped: one error for it, not one per group.
      const reason = group.failureText ?? err.reason;
      if (!errors.some((e) => e.reason === reason)) errors.push({ from: 'local', reason });
      return;
    }
    for (let i = 0; i < results.length && left > 0; i++) {
      const res = results[i];
      if (!res.ok) {
        errors.push({ from: 'local', reason: res.reason });
        if (args.onError === 'stop') return;
        continue;
      }
      left--;
      yield `{"key":${encodeKey(wanted[i].key)},"value":${encodeKey(res.value)}}`;
    }
  }
}

/** Plans a query; the caller has already brought the index up to date as `stale` asks. */
export function runViewQuery(store: BucketStore, group: DesignDocIndex, view: ViewIndex, args: ViewQueryArgs): QueryOutput {
  const errors: QueryError[] = [];
  // A design document that failed answers from the index it has, and says why it stopped.
  const failed = group.failureText;
  if (failed !== undefined) errors.push({ from: 'local', reason: failed });
  // Documents left out for what they emitted (too large, too many rows, too deep), as Couchbase reports them.
  for (const reason of group.refused.values()) errors.push({ from: 'local', reason });
  const debug = args.debug ? () => debugInfo(group, view) : () => undefined;
  if (args.reduce) {
    return {
      header: '{"rows":[\r\n',
      rows: reduceRows(group, view, args, errors),
      trailer: () => trailerText(errors, debug()),
    };
  }
  const max = args.limit === undefined ? Infinity : args.skip + args.limit;
  const selected = selectRows(view, args, max);
  return {
    header: `{"total_rows":${view.size},"rows":[\r\n`,
    rows: mapRows(store, selected, args),
    trailer: () => trailerText(errors, debug()),
  };
}
