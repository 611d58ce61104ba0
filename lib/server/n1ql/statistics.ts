// UPDATE STATISTICS / ANALYZE: the optimizer statistics of a collection, kept as Couchbase 7.6
// keeps them in system:dictionary. A collection's entry holds its document count and sizes, a
// distribution (histogram) per expression analysed and the indexes whose keys were analysed;
// each distribution splits the sampled values, in collation order, into bins of `resolution`
// percent of the sample. EXPLAIN reports the cardinality they give (see `estimateCardinality`).
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { compile, type ExecContext, type Scope } from './expr';
import { QueryError, ErrorCode } from './errors';
import { formatExpr } from './format';
import { catalogFor, docValue, DOC } from './indexes';
import { parseExpression } from './parser';
import { collate, isObject, type ObjectValue, type Value } from './value';

/** The bucket metadata name the statistics of a collection are kept under (durable with it). */
export const STATISTICS_METADATA = 'n1ql.statistics';

interface Bin {
  /** Largest value in the bin (collation order). */
  max: Value;
  count: number;
  distinct: number;
}

interface Distribution {
  /** Sampled documents where the expression is MISSING or NULL, apart from the bins. */
  missing: number;
  nulls: number;
  sampled: number;
  resolution: number;
  bins: Bin[];
}

interface Entry {
  docCount: number;
  avgDocSize: number;
  avgDocKeySize: number;
  /** Formatted expression -> its distribution. */
  distributions: Record<string, Distribution>;
  indexes: { indexId: string; indexName: string }[];
}

const docScope: Scope = {
  names: new Set(['self']),
  implicit: DOC,
  subquery: () => {
    throw new QueryError(ErrorCode.SEMANTIC, 'Subqueries are not allowed in UPDATE STATISTICS expressions.');
  },
};

interface Options {
  sampleSize?: number;
  resolution: number;
}

/** The WITH object: sample_size, resolution (0.02 to 5.0 percent), update_statistics_timeout, batch_size. */
function optionsOf(v: Value): Options {
  const out: Options = { resolution: 1 };
  if (v === undefined || v === null) return out;
  if (!isObject(v)) throw new QueryError(5360, 'Error in UPDATE STATISTICS: WITH clause must be an object');
  for (const [k, x] of Object.entries(v)) {
    if (k === 'sample_size' || k === 'update_statistics_timeout' || k === 'batch_size' || k === 'resolution') {
      if (typeof x !== 'number' || !(x > 0)) throw new QueryError(5360, `Error in UPDATE STATISTICS: invalid value for ${k}: ${JSON.stringify(x)}`);
    } else throw new QueryError(5360, `Error in UPDATE STATISTICS: unknown option ${k}`);
  }
  if (typeof v.sample_size === 'number') out.sampleSize = Math.floor(v.sample_size);
  // The resolution is clamped to the documented range rather than refused, as the server does.
  if (typeof v.resolution === 'number') out.resolution = Math.min(5, Math.max(0.02, v.resolution));
  return out;
}

function load(store: BucketStore): Entry | undefined {
  const e = store.metadata.get(STATISTICS_METADATA);
  return isObject(e as Value) ? (e as unknown as Entry) : undefined;
}

function save(store: BucketStore, e: Entry | undefined): void {
  store.metadata.set(STATISTICS_METADATA, e);
}

/** The histogram of `values` (already collated) in bins of `resolution` percent. */
function histogram(values: Value[], resolution: number): Bin[] {
  const per = Math.max(1, Math.ceil((values.length * resolution) / 100));
  const bins: Bin[] = [];
  let i = 0;
  while (i < values.length) {
    let end = Math.min(values.length, i + per);
    // Equal values stay in one bin, so a bin's max bounds every value below the next bin.
    while (end < values.length && collate(values[end], values[end - 1]) === 0) end++;
    let distinct = 1;
    for (let j = i + 1; j < end; j++) if (collate(values[j], values[j - 1]) !== 0) distinct++;
    bins.push({ max: values[end - 1], count: end - i, distinct });
    i = end;
  }
  return bins;
}

function distribution(exprs: A.Expr[], sample: { value: Value; doc: unknown }[], resolution: number, ctx: ExecContext): Record<string, Distribution> {
  const out: Record<string, Distribution> = {};
  for (const e of exprs) {
    const fn = compile(e, docScope);
    const values: Value[] = [];
    let missing = 0;
    let nulls = 0;
    for (const s of sample) {
      const v = fn({ vars: { [DOC]: s.value, self: s.value }, metas: { [DOC]: s.doc as never } }, ctx);
      if (v === undefined) missing++;
      else if (v === null) nulls++;
      else if (Array.isArray(v) && e.kind === 'collect') values.push(...v);
      else values.push(v);
    }
    values.sort(collate);
    out[formatExpr(e)] = { missing, nulls, sampled: sample.length, resolution, bins: histogram(values, resolution) };
  }
  return out;
}

/** Runs UPDATE STATISTICS against the collection `store` (the keyspace already resolved and authorised). */
export function updateStatistics(stmt: A.UpdateStatisticsStatement, store: BucketStore, options: Value, ctx: ExecContext, indexNames: () => Value): void {
  const opts = optionsOf(options);
  if (stmt.delete !== undefined) {
    const cur = load(store);
    if (!cur) return;
    if (stmt.delete === 'all') return save(store, undefined);
    for (const e of stmt.delete) delete cur.distributions[formatExpr(e)];
    return save(store, cur);
  }
  let exprs: A.Expr[] = stmt.exprs ?? [];
  const analysed: { indexId: string; indexName: string }[] = [];
  if (stmt.indexes !== undefined) {
    const catalog = catalogFor(store);
    let list = catalog.list();
    if (stmt.indexes !== 'all') {
      const names = new Set<string>();
      const add = (v: Value): void => {
        if (typeof v === 'string') names.add(v);
        else if (Array.isArray(v)) v.forEach(add);
        else if (isObject(v)) Object.values(v).forEach(add); // rows of a subquery: {name: ...}
      };
      add(indexNames());
      list = list.filter((ix) => names.has(ix.name));
      for (const n of names) if (!list.some((ix) => ix.name === n)) throw new QueryError(5411, `Index ${n} not found`);
    }
    for (const ix of list) {
      if (ix.primary) continue;
      analysed.push({ indexId: ix.id, indexName: ix.name });
      exprs = [...exprs, ...ix.keys.map((k) => k.expr)];
    }
  }
  // The sample: every document up to sample_size, in the store's order.
  const sample: { value: Value; doc: unknown }[] = [];
  let bytes = 0;
  let keyBytes = 0;
  let n = 0;
  for (const doc of store.docs()) {
    n++;
    bytes += doc.value.length;
    keyBytes += Buffer.byteLength(doc.id);
    if (opts.sampleSize === undefined || sample.length < opts.sampleSize) sample.push({ value: docValue(doc), doc });
    if ((n & 1023) === 0) ctx.checkDeadline();
  }
  const cur = load(store) ?? { docCount: 0, avgDocSize: 0, avgDocKeySize: 0, distributions: {}, indexes: [] };
  cur.docCount = n;
  cur.avgDocSize = n ? Math.round(bytes / n) : 0;
  cur.avgDocKeySize = n ? Math.round(keyBytes / n) : 0;
  Object.assign(cur.distributions, distribution(exprs, sample, opts.resolution, ctx));
  for (const a of analysed) if (!cur.indexes.some((x) => x.indexId === a.indexId)) cur.indexes.push(a);
  save(store, cur);
}

/** The keyspace's system:dictionary document, or undefined when it has no statistics. */
export function dictionaryRow(store: BucketStore): ObjectValue | undefined {
  const e = load(store);
  if (!e) return undefined;
  const row: ObjectValue = {
    avgDocKeySize: e.avgDocKeySize,
    avgDocSize: e.avgDocSize,
    bucket: store.name,
    docCount: e.docCount,
    indexes: e.indexes.map((x) => ({ ...x })),
    keyspace: store.collectionName ?? '_default',
    namespace: 'default',
    scope: store.scopeName ?? '_default',
  };
  const keys = Object.keys(e.distributions);
  if (keys.length) row.distributionKeys = keys;
  return row;
}

/**
 * How many documents the statistics say satisfy `expr <op> value` (op: '=', '<', '<=', '>', '>='),
 * or undefined when the expression has no distribution. The estimate within a bin assumes its
 * values spread evenly over its distinct values.
 */
export function estimateCardinality(store: BucketStore, expr: A.Expr, op: string, value: Value): number | undefined {
  const e = load(store);
  const d = e?.distributions[formatExpr(expr)];
  if (!e || !d || d.sampled === 0) return undefined;
  let hits = 0;
  let lowerMax: Value | undefined;
  for (const b of d.bins) {
    // A bin holds values in (lowerMax, max]; the first bin has no lower bound.
    const aboveLower = lowerMax === undefined || collate(value, lowerMax) > 0;
    const cHi = collate(value, b.max);
    const one = b.count / b.distinct;
    if (op === '=') {
      if (aboveLower && cHi <= 0) hits += one;
    } else if (op === '<' || op === '<=') {
      if (cHi > 0) hits += b.count;
      else if (cHi === 0) hits += op === '<=' ? b.count : b.count - one;
      else if (aboveLower) hits += b.count / 2;
    } else if (!aboveLower) hits += b.count;
    else if (cHi < 0) hits += b.count / 2;
    else if (cHi === 0 && op === '>=') hits += one;
    lowerMax = b.max;
  }
  return Math.round((hits / d.sampled) * e.docCount * 1000) / 1000;
}

const FLIPPED: Record<string, string> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * The optimizer_estimates EXPLAIN shows on a scan when the keyspace has statistics: the number of
 * documents the WHERE conjuncts comparing an analysed expression with a constant let through
 * (each conjunct's selectivity from its distribution, independent of the others), or undefined
 * without statistics. `relative` rewrites a conjunct's side to the document's expression.
 */
export function scanEstimates(store: BucketStore, conjuncts: A.Expr[], relative: (e: A.Expr) => A.Expr | undefined): { cardinality: number } | undefined {
  const e = load(store);
  if (!e) return undefined;
  let cardinality = e.docCount;
  for (const c of conjuncts) {
    if (c.kind !== 'binary' || !(c.op in FLIPPED)) continue;
    let side = relative(c.left);
    let lit = c.right;
    let op: string = c.op;
    if (!side || lit.kind !== 'lit') {
      side = relative(c.right);
      lit = c.left;
      op = FLIPPED[c.op];
    }
    if (!side || lit.kind !== 'lit' || e.docCount === 0) continue;
    const n = estimateCardinality(store, side, op, lit.value);
    if (n !== undefined) cardinality *= n / e.docCount;
  }
  return { cardinality: Math.round(cardinality * 1000) / 1000 };
}

