// The index catalog of one bucket: a primary index (document ids in order) and secondary
// indexes (sorted composite keys -> document id), all kept current synchronously from the
// store's onMutation events. Because updates happen inside the write itself, every mutation
// acknowledged to a client is already indexed: request_plus holds without waiting.
import { randomUUID } from 'node:crypto';
import type * as A from './ast';
import type { BucketStore, MutationEvent, StoredDoc } from '../service-types';
import { compile, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { QueryError, ErrorCode } from './errors';
import { formatExpr } from './format';
import { sargKeyText } from './sargs-text';
import { parseJson } from './json';
import { parseExpression } from './parser';
import { SortedList } from './sorted';
import { collate, truthy, valueKey, type Value } from './value';

export const DOC = '\u0000doc';

// Parsed documents are cached per stored version (a StoredDoc is immutable and replaced on every
// write, so a WeakMap forgets old versions by itself). Admission stops at a budget of raw JSON
// bytes; a FinalizationRegistry gives the bytes back when a cached version is collected. Scans
// larger than the budget then still hit the cache for the part that fits, instead of thrashing.
const parsed = new WeakMap<StoredDoc, Value>();
let parsedBytes = 0;
let parsedBudget = 128 * 1024 * 1024;
const released = new FinalizationRegistry<number>((bytes) => {
  parsedBytes -= bytes;
});

/** Sets the parsed-document cache budget in raw JSON bytes (0 stops caching new documents). */
export function setParsedDocCacheBytes(bytes: number): void {
  parsedBudget = bytes;
}

/** The document's value as N1QL sees it. */
export function docValue(doc: StoredDoc): Value {
  let v = parsed.get(doc);
  if (v === undefined) {
    if (doc.datatype & 1 || looksJson(doc.value)) {
      try {
        v = parseJson(doc.value.toString('utf8'));
      } catch {
        v = `<binary (${doc.value.length} b)>`;
      }
    } else v = `<binary (${doc.value.length} b)>`;
    const n = doc.value.length;
    if (parsedBytes + n <= parsedBudget) {
      parsed.set(doc, v);
      released.register(doc, n);
      parsedBytes += n;
    }
  }
  return v;
}

function looksJson(b: Buffer): boolean {
  const c = b[0];
  return c === 0x7b || c === 0x5b;
}

export interface IndexEntry {
  key: Value[];
  id: string;
}

export interface Span {
  low?: Value[];
  lowIncl: boolean;
  high?: Value[];
  highIncl: boolean;
}

function compareKeys(a: Value[], b: Value[], n = Math.max(a.length, b.length)): number {
  for (let i = 0; i < n; i++) {
    const c = collate(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** The SortedList bound of a span's low end: entries before it compare below (-1). */
function lowerBound(span: Span): ((e: IndexEntry) => number) | undefined {
  const low = span.low;
  if (!low) return undefined;
  return (e) => {
    const c = compareKeys(e.key, low, low.length);
    return c < 0 || (c === 0 && !span.lowIncl) ? -1 : 1;
  };
}

/** The SortedList bound of a span's high end: entries after it compare above (1). */
function upperBound(span: Span): ((e: IndexEntry) => number) | undefined {
  const high = span.high;
  if (!high) return undefined;
  return (e) => {
    const c = compareKeys(e.key, high, high.length);
    return c > 0 || (c === 0 && !span.highIncl) ? 1 : -1;
  };
}

function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return compareKeys(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const indexScope: Scope = {
  names: new Set(['self']),
  implicit: DOC,
  subquery: () => {
    throw new QueryError(ErrorCode.SEMANTIC, 'Subqueries are not allowed in index keys.');
  },
};

const nullCtx: ExecContext = { now: 0, positional: [], named: {}, checkDeadline: () => undefined };

/** How the index service lays an index out: hash partitions and replicas (one node keeps them all). */
export interface IndexLayout {
  /** PARTITION BY HASH(...) keys. */
  partition?: A.Expr[];
  /** num_partition (8 by default for a partitioned index). */
  numPartition?: number;
  /** num_replica: replicas on other index nodes. */
  numReplica?: number;
  /** The index nodes ALTER INDEX moved the index and its replicas to. */
  nodes?: string[];
}

export class Index {
  readonly id: string;
  state: 'online' | 'deferred';
  readonly entries = new SortedList<IndexEntry>(compareEntries);
  private readonly byId = new Map<string, IndexEntry[]>();
  private readonly keyFns: Compiled[];
  private readonly whereFn?: Compiled;
  /** Position of a DISTINCT/ALL ARRAY key, whose elements each get an entry. */
  readonly arrayKey: number;

  constructor(
    readonly name: string,
    readonly bucket: string,
    readonly primary: boolean,
    readonly keys: A.IndexKey[],
    readonly where: A.Expr | undefined,
    deferred: boolean,
    id?: string,
    readonly layout: IndexLayout = {},
  ) {
    this.id = id ?? randomUUID().replace(/-/g, '').slice(0, 16);
    this.state = deferred ? 'deferred' : 'online';
    this.keyFns = keys.map((k) => compile(k.expr, indexScope));
    this.whereFn = where ? compile(where, indexScope) : undefined;
    this.arrayKey = keys.findIndex((k) => k.expr.kind === 'collect' && k.expr.collect === 'array');
    const ak = this.arrayKey >= 0 ? keys[this.arrayKey].expr : undefined;
    if (ak?.kind === 'collect' && ak.value.kind === 'call' && ak.value.name === 'flatten_keys') this.flattened = ak.value.args.length;
  }

  /** FLATTEN_KEYS(a, b, ...) in the array key: how many index keys each element's values make. */
  readonly flattened: number = 0;

  /**
   * The keys as scans see them: a FLATTEN_KEYS array key is one key per argument, each an array
   * key of its own (`DISTINCT ARRAY r.author FOR r IN reviews END`, ...).
   */
  private splitKeys(): A.Expr[] {
    const exprs = this.keys.map((k) => k.expr);
    if (!this.flattened) return exprs;
    const ak = exprs[this.arrayKey] as A.Expr & { kind: 'collect' };
    const parts = (ak.value as A.Expr & { kind: 'call' }).args.map((arg): A.Expr => ({ ...ak, value: arg }));
    return [...exprs.slice(0, this.arrayKey), ...parts, ...exprs.slice(this.arrayKey + 1)];
  }

  /** Each scan key's text in EXPLAIN's spans. */
  get spanKeyTexts(): string[] {
    this.spanKeyTextsCache ??= this.splitKeys().map(formatExpr);
    return this.spanKeyTextsCache;
  }

  private spanKeyTextsCache?: string[];

  /** The texts predicates are matched against, per key (array keys with their loop variable renamed). */
  get sargTexts(): string[] {
    this.sargTextsCache ??= this.primary ? ['(meta().`id`)'] : this.splitKeys().map(sargKeyText);
    return this.sargTextsCache;
  }

  private sargTextsCache?: string[];

  /** The texts of the partial index's WHERE conjuncts (the query must imply each). */
  get whereTexts(): string[] {
    this.whereTextsCache ??= this.where ? conjunctTexts(this.where) : [];
    return this.whereTextsCache;
  }

  private whereTextsCache?: string[];

  /** Each key as a document path (`a.b` -> ['a', 'b']), undefined for keys that are not paths (a covering index copies paths). */
  get keyPaths(): (string[] | undefined)[] {
    this.keyPathsCache ??= this.keys.map((k) => keyPath(k.expr));
    return this.keyPathsCache;
  }

  private keyPathsCache?: (string[] | undefined)[];

  get keyTexts(): string[] {
    return this.keys.map((k) => formatExpr(k.expr) + (k.includeMissing ? ' INCLUDE MISSING' : '') + (k.desc ? ' DESC' : ''));
  }

  /** Entries a document contributes (none when the leading key is MISSING or WHERE fails). */
  entriesFor(doc: StoredDoc): IndexEntry[] {
    if (this.primary) return [{ key: [doc.id], id: doc.id }];
    const value = docValue(doc);
    const row: Row = { vars: { [DOC]: value, self: value }, metas: { [DOC]: doc } };
    if (this.whereFn && !truthy(this.whereFn(row, nullCtx))) return [];
    const key = this.keyFns.map((f) => f(row, nullCtx));
    if (key[0] === undefined && !this.keys[0]?.includeMissing) return [];
    if (this.arrayKey < 0) return [{ key, id: doc.id }];
    const arr = key[this.arrayKey];
    if (!Array.isArray(arr) || arr.length === 0) {
      if (this.arrayKey === 0) return [];
      key.splice(this.arrayKey, 1, ...new Array<Value>(Math.max(1, this.flattened)).fill(undefined));
      return [{ key, id: doc.id }];
    }
    const seen = new Set<string>();
    const out: IndexEntry[] = [];
    for (const el of arr) {
      const k = valueKey(el);
      if (seen.has(k)) continue;
      seen.add(k);
      const copy = key.slice();
      // A FLATTEN_KEYS element (its values as an array) fills as many key positions.
      if (this.flattened) copy.splice(this.arrayKey, 1, ...(el as Value[]));
      else copy[this.arrayKey] = el;
      out.push({ key: copy, id: doc.id });
    }
    return out;
  }

  build(store: BucketStore): void {
    const all: IndexEntry[] = [];
    this.byId.clear();
    for (const doc of store.docs()) {
      const es = this.entriesFor(doc);
      if (es.length) {
        this.byId.set(doc.id, es);
        for (const e of es) all.push(e);
      }
    }
    this.entries.load(all);
    this.state = 'online';
  }

  apply(event: MutationEvent): void {
    if (this.state !== 'online') return;
    const id = event.kind === 'set' ? event.doc.id : event.id;
    const old = this.byId.get(id);
    if (old) {
      for (const e of old) this.entries.remove(e);
      this.byId.delete(id);
    }
    if (event.kind === 'set') {
      const es = this.entriesFor(event.doc);
      if (es.length) {
        this.byId.set(id, es);
        for (const e of es) this.entries.insert(e);
      }
    }
  }

  /** Document ids in the spans, in index order, each id once. */
  *scan(spans: Span[]): Generator<string> {
    // Its own loop (not over scanEntries): one generator per row fewer on every scan.
    const seen = spans.length > 1 || this.arrayKey >= 0 ? new Set<string>() : undefined;
    for (const span of spans) {
      for (const e of this.entries.scan(lowerBound(span), upperBound(span))) {
        if (seen) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
        }
        yield e.id;
      }
    }
  }

  /** Entries in the spans, in index order, each document once (its first entry). */
  *scanEntries(spans: Span[]): Generator<IndexEntry> {
    const seen = spans.length > 1 || this.arrayKey >= 0 ? new Set<string>() : undefined;
    for (const span of spans) {
      for (const e of this.entries.scan(lowerBound(span), upperBound(span))) {
        if (seen) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
        }
        yield e;
      }
    }
  }

  /** The system:indexes row. */
  describe(): Record<string, Value> {
    const row: Record<string, Value> = {
      datastore_id: 'http://127.0.0.1:8091',
      id: this.id,
      index_key: this.primary ? [] : this.keyTexts,
      is_primary: this.primary || undefined,
      keyspace_id: this.bucket,
      name: this.name,
      namespace_id: 'default',
      state: this.state,
      using: 'gsi',
    };
    if (this.where) row.condition = formatExpr(this.where);
    if (this.layout.partition) row.partition = partitionText(this.layout.partition);
    return row;
  }
}

/** A partitioned index's scheme as system:indexes shows it: `HASH(key, ...)`. */
export function partitionText(keys: A.Expr[]): string {
  return `HASH(${keys.map((k) => formatExpr(k)).join(',')})`;
}

function keyPath(e: A.Expr): string[] | undefined {
  if (e.kind === 'ident') return e.name === 'self' ? undefined : [e.name];
  if (e.kind === 'field') {
    const t = keyPath(e.target);
    return t && [...t, e.name];
  }
  return undefined;
}

function conjunctTexts(e: A.Expr): string[] {
  return e.kind === 'and' ? e.args.flatMap(conjunctTexts) : [formatExpr(e)];
}

/** Name of the bucket metadata entry holding the index definitions (see BucketMetadata). */
export const N1QL_INDEX_METADATA = 'n1ql.indexes';

/** An index definition as it survives a restart: the expressions as N1QL text, as Couchbase keeps them. */
interface SavedIndex {
  name: string;
  id: string;
  primary: boolean;
  keys: { expr: string; desc: boolean; includeMissing?: boolean }[];
  where?: string;
  state: 'online' | 'deferred';
  partition?: string[];
  numPartition?: number;
  numReplica?: number;
  nodes?: string[];
}

function saved(ix: Index): SavedIndex {
  const out: SavedIndex = {
    name: ix.name,
    id: ix.id,
    primary: ix.primary,
    keys: ix.keys.map((k) => (k.includeMissing ? { expr: formatExpr(k.expr), desc: k.desc, includeMissing: true } : { expr: formatExpr(k.expr), desc: k.desc })),
    state: ix.state,
  };
  if (ix.where) out.where = formatExpr(ix.where);
  if (ix.layout.partition) out.partition = ix.layout.partition.map((e) => formatExpr(e));
  if (ix.layout.numPartition !== undefined) out.numPartition = ix.layout.numPartition;
  if (ix.layout.numReplica) out.numReplica = ix.layout.numReplica;
  if (ix.layout.nodes) out.nodes = ix.layout.nodes;
  return out;
}

export class IndexCatalog {
  private readonly indexes = new Map<string, Index>();
  private unsubscribe?: () => void;

  constructor(readonly store: BucketStore) {
    this.load();
  }

  /** Recreates the indexes kept in the bucket's metadata over the documents loaded so far. */
  private load(): void {
    const list = this.store.metadata.get(N1QL_INDEX_METADATA) as SavedIndex[] | undefined;
    if (!Array.isArray(list)) return;
    for (const d of list) {
      let ix: Index;
      try {
        const keys = d.keys.map((k) => ({ expr: parseExpression(k.expr), desc: k.desc, ...(k.includeMissing ? { includeMissing: true } : {}) }));
        const where = d.where === undefined ? undefined : parseExpression(d.where);
        const layout: IndexLayout = {};
        if (d.partition) layout.partition = d.partition.map((text) => parseExpression(text));
        if (d.numPartition !== undefined) layout.numPartition = d.numPartition;
        if (d.numReplica) layout.numReplica = d.numReplica;
        if (d.nodes) layout.nodes = d.nodes;
        ix = new Index(d.name, this.store.name, d.primary, keys, where, d.state !== 'online', d.id, layout);
      } catch (err) {
        // Never silently: the definition stays in the metadata until the index is dropped or recreated.
        throw new QueryError(ErrorCode.EXECUTION, `Stored definition of index ${d.name} on ${this.store.name} cannot be read: ${(err as Error).message}`);
      }
      this.insert(ix);
    }
  }

  /** Records `list` as the bucket's index definitions; throws (nothing recorded) when that fails. */
  private save(list: Index[]): void {
    this.store.metadata.set(N1QL_INDEX_METADATA, list.length === 0 ? undefined : list.map(saved));
  }

  list(): Index[] {
    return [...this.indexes.values()];
  }

  get(name: string): Index | undefined {
    return this.indexes.get(name);
  }

  /** The online primary index, if any. */
  primary(): Index | undefined {
    for (const ix of this.indexes.values()) if (ix.primary && ix.state === 'online') return ix;
    return undefined;
  }

  add(ix: Index): void {
    if (this.indexes.has(ix.name)) throw new QueryError(ErrorCode.INDEX_EXISTS, `The index ${ix.name} already exists.`);
    this.insert(ix);
    try {
      this.save(this.list());
    } catch (err) {
      this.remove(ix.name);
      throw err;
    }
  }

  private insert(ix: Index): void {
    if (ix.state === 'online') ix.build(this.store);
    this.indexes.set(ix.name, ix);
    if (!this.unsubscribe) this.unsubscribe = this.store.onMutation((ev) => this.onMutation(ev));
  }

  /** BUILD INDEX: brings deferred indexes online (and records that they are). */
  build(list: Index[]): void {
    const todo = list.filter((ix) => ix.state !== 'online');
    if (todo.length === 0) return;
    for (const ix of todo) ix.build(this.store);
    try {
      this.save(this.list());
    } catch (err) {
      for (const ix of todo) ix.state = 'deferred';
      throw err;
    }
  }

  /** Records a change of an index's layout (ALTER INDEX); the change is undone when it cannot be recorded. */
  relayout(ix: Index, layout: IndexLayout): void {
    const before = { ...ix.layout };
    Object.assign(ix.layout, layout);
    try {
      this.save(this.list());
    } catch (err) {
      for (const k of Object.keys(ix.layout) as (keyof IndexLayout)[]) delete ix.layout[k];
      Object.assign(ix.layout, before);
      throw err;
    }
  }

  drop(name: string): void {
    if (!this.indexes.has(name)) return;
    this.save(this.list().filter((ix) => ix.name !== name));
    this.remove(name);
  }

  private remove(name: string): void {
    this.indexes.delete(name);
    if (this.indexes.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private onMutation(ev: MutationEvent): void {
    for (const ix of this.indexes.values()) ix.apply(ev);
  }
}

const catalogs = new WeakMap<BucketStore, IndexCatalog>();

/** The one catalog of a bucket, shared by every node of the cluster (keyed by the store). */
export function catalogFor(store: BucketStore): IndexCatalog {
  let c = catalogs.get(store);
  if (!c) {
    c = new IndexCatalog(store);
    catalogs.set(store, c);
  }
  return c;
}
