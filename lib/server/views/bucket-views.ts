// Per-bucket views state, shared by every node of the embedded cluster: the design documents and
// one index group per design document (all its views share one map pass, as in Couchbase).
//
// Updates are incremental and batched. onMutation only records the document id; the updater maps
// the current state of every recorded id (a delete or expiry finds no document and removes its
// rows) and patches each view's sorted index. It runs on a short timer so bursts of writes become
// one batch, and queries with stale=false / update_after run it first and wait for it; stale=ok
// reads the index as it is.
import debugFactory from 'debug';
import type { BucketStore, MutationEvent, StoredDoc } from '../service-types';
import type { IndexRow } from './collation';
import { DESIGN_PREFIX, sameViews, validateDesignDocument, type DesignDocument } from './design-docs';
import { makeReducer } from './reduce';
import { ViewSandbox, type MapInput, type SandboxOptions } from './sandbox';
import { ViewIndex } from './view-index';

const debug = debugFactory('deferbase:views');

/** Documents mapped per sandbox call. */
const MAP_BATCH = 512;
/** The updater yields to the event loop after this many milliseconds of work. */
const SLICE_MS = 25;
/** Delay that turns a burst of mutations into one update batch. */
const UPDATE_DELAY_MS = 10;
/** Map errors kept per design document (the count keeps going). */
const MAX_ERRORS_KEPT = 100;

export interface MapErrorRecord {
  readonly docId: string;
  readonly view: string;
  readonly reason: string;
}

export interface ViewsOptions extends SandboxOptions {}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Couchbase's revision string: <seq>-<cas:16 hex><expiry:8 hex><flags:8 hex>. */
export function revOf(doc: StoredDoc): string {
  const hex = (n: bigint | number, w: number) => n.toString(16).padStart(w, '0');
  return `${doc.seqno}-${hex(doc.cas, 16)}${hex(doc.expiry >>> 0, 8)}${hex(doc.flags >>> 0, 8)}`;
}

/** The document body without its extended attributes (views never see xattrs). */
export function bodyOf(doc: StoredDoc): Buffer {
  if ((doc.datatype & 0x04) === 0 || doc.value.length < 4) return doc.value;
  return doc.value.subarray(Math.min(doc.value.length, 4 + doc.value.readUInt32BE(0)));
}

export function mapInputOf(doc: StoredDoc): MapInput {
  const isJson = (doc.datatype & 0x01) !== 0;
  const body = bodyOf(doc);
  return {
    id: doc.id,
    json: isJson ? body.toString('utf8') : undefined,
    base64: isJson ? undefined : body.toString('base64'),
    rev: revOf(doc),
    seq: Number(doc.seqno),
    vb: doc.vbucket,
    expiration: doc.expiry,
    flags: doc.flags,
  };
}

/** The index group of one design document. */
export class DesignDocIndex {
  readonly views = new Map<string, ViewIndex>();
  private readonly order: ViewIndex[];
  readonly sandbox: ViewSandbox;
  readonly rev: string;
  private pending = new Set<string>();
  private mutationSeq = 0;
  private appliedSeq = 0;
  private built = false;
  private disposed = false;
  private updating: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly errors: MapErrorRecord[] = [];
  errorCount = 0;

  constructor(
    private readonly store: BucketStore,
    readonly ddoc: DesignDocument,
    revNumber: number,
    options: ViewsOptions,
    rev?: string,
  ) {
    this.rev = rev ?? `${revNumber}-${(Math.random() * 0xffffffff >>> 0).toString(16).padStart(8, '0')}`;
    const reduces = ddoc.views.map((v) => v.reduce).filter((r): r is string => r !== undefined && !r.startsWith('_'));
    this.sandbox = new ViewSandbox(
      ddoc.views.map((v) => v.map),
      reduces,
      { ...options, name: `${store.name}/_design/${ddoc.name}` },
    );
    this.order = ddoc.views.map((v) => new ViewIndex(v.name, v.map, v.reduce, v.reduce === undefined ? undefined : makeReducer(v.reduce, this.sandbox)));
    for (const v of this.order) this.views.set(v.name, v);
  }

  get name(): string {
    return this.ddoc.name;
  }

  get isBuilt(): boolean {
    return this.built;
  }

  /** Built and not in the middle of an update: its index can be handed over as it is. */
  get canHandOver(): boolean {
    return this.built && this.updating === null && !this.disposed;
  }

  /** Keeps the built index of `previous` (same views, new body/revision). */
  adopt(previous: DesignDocIndex): void {
    previous.views.forEach((v, name) => this.views.get(name)!.adoptFrom(v));
    this.pending = previous.pending;
    this.mutationSeq = previous.mutationSeq;
    this.appliedSeq = previous.built ? previous.appliedSeq : 0;
    this.built = previous.built;
    this.errors.push(...previous.errors);
    this.errorCount = previous.errorCount;
    if (this.pending.size > 0) this.schedule();
  }

  noteMutation(id: string): void {
    if (this.disposed) return;
    this.pending.add(id);
    this.mutationSeq++;
    if (this.built) this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.update().catch((err) => debug('background update of %s failed: %O', this.name, err));
    }, UPDATE_DELAY_MS);
    this.timer.unref();
  }

  /** Starts building now (in slices) without waiting for a query. */
  startBuild(): void {
    this.update().catch((err) => debug('build of %s failed: %O', this.name, err));
  }

  /** Resolves once every mutation seen before the call is in the index. */
  async refresh(): Promise<void> {
    const target = this.mutationSeq;
    while (!this.disposed && (!this.built || this.appliedSeq < target)) await this.update();
  }

  /** Resolves once the first build is done (stale=ok still needs an index to read). */
  async ensureBuilt(): Promise<void> {
    while (!this.disposed && !this.built) await this.update();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private update(): Promise<void> {
    if (!this.updating) {
      this.updating = (this.built ? this.applyPending() : this.build()).finally(() => {
        this.updating = null;
        // Writes that landed during a build or a yield get their own batch.
        if (this.built && this.pending.size > 0) this.schedule();
      });
    }
    return this.updating;
  }

  private async build(): Promise<void> {
    const started = Date.now();
    const target = this.mutationSeq;
    this.pending.clear();
    const perView: IndexRow[][] = this.order.map(() => []);
    let batch: MapInput[] = [];
    let sliceStart = Date.now();
    let docs = 0;
    for (const doc of this.store.docs()) {
      batch.push(mapInputOf(doc));
      if (batch.length === MAP_BATCH) {
        docs += batch.length;
        this.mapInto(batch, perView);
        batch = [];
        if (Date.now() - sliceStart > SLICE_MS) {
          await yieldToLoop();
          if (this.disposed) return;
          sliceStart = Date.now();
        }
      }
    }
    docs += batch.length;
    this.mapInto(batch, perView);
    if (this.disposed) return;
    this.order.forEach((v, i) => v.load(perView[i]));
    this.built = true;
    this.appliedSeq = target;
    debug('built %s/_design/%s: %d docs in %d ms', this.store.name, this.name, docs, Date.now() - started);
  }

  private mapInto(batch: MapInput[], perView: IndexRow[][]): void {
    if (batch.length === 0) return;
    const outputs = this.sandbox.map(batch);
    for (let d = 0; d < batch.length; d++) {
      const out = outputs[d];
      const id = batch[d].id;
      if (!out.ok) {
        this.recordError(id, out.view, out.reason);
        continue;
      }
      for (let v = 0; v < out.rows.length; v++) {
        const flat = out.rows[v];
        const sink = perView[v];
        for (let i = 0; i < flat.length; i += 2) sink.push({ key: flat[i], id, value: flat[i + 1] });
      }
    }
  }

  private recordError(docId: string, viewIndex: number, reason: string): void {
    const view = this.order[viewIndex]?.name ?? '';
    this.errorCount++;
    if (this.errors.length >= MAX_ERRORS_KEPT) this.errors.shift();
    this.errors.push({ docId, view, reason });
    debug('bucket `%s`, design document `%s`: error executing map function for document `%s`: %s', this.store.name, this.name, docId, reason);
  }

  private async applyPending(): Promise<void> {
    while (this.pending.size > 0 && !this.disposed) {
      const ids = [...this.pending];
      this.pending = new Set();
      const target = this.mutationSeq;
      let sliceStart = Date.now();
      for (let c = 0; c < ids.length; c += MAP_BATCH) {
        this.applyIds(ids.slice(c, c + MAP_BATCH));
        if (Date.now() - sliceStart > SLICE_MS && c + MAP_BATCH < ids.length) {
          await yieldToLoop();
          if (this.disposed) return;
          sliceStart = Date.now();
        }
      }
      this.appliedSeq = target;
    }
  }

  private applyIds(ids: string[]): void {
    const inputs: MapInput[] = [];
    for (const id of ids) {
      const doc = this.store.get(id);
      if (doc) inputs.push(mapInputOf(doc));
    }
    const changes: Array<Map<string, IndexRow[]>> = this.order.map(() => new Map());
    for (const id of ids) for (const m of changes) m.set(id, []);
    const outputs = this.sandbox.map(inputs);
    for (let d = 0; d < inputs.length; d++) {
      const out = outputs[d];
      const id = inputs[d].id;
      if (!out.ok) {
        this.recordError(id, out.view, out.reason);
        continue;
      }
      for (let v = 0; v < out.rows.length; v++) {
        const flat = out.rows[v];
        const list = changes[v].get(id)!;
        for (let i = 0; i < flat.length; i += 2) list.push({ key: flat[i], id, value: flat[i + 1] });
      }
    }
    this.order.forEach((v, i) => v.apply(changes[i]));
  }
}

/** Name of the bucket metadata entry holding the design documents (see BucketMetadata). */
export const VIEWS_METADATA = 'views.designDocs';

/** What survives a restart: every design document with its revision, and the deleted names' revision counters. */
interface SavedViews {
  designDocs: Record<string, { rev: string; json: Record<string, unknown> }>;
  deleted: Record<string, number>;
}

function revNumberOf(rev: string): number {
  const n = parseInt(rev, 10);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/** Design documents and indexes of one bucket. */
export class BucketViews {
  private readonly ddocs = new Map<string, DesignDocIndex>();
  private readonly deleted = new Set<string>();
  private revCounter = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly store: BucketStore,
    private readonly options: ViewsOptions = {},
  ) {
    this.unsubscribe = store.onMutation((event) => this.onMutation(event));
    this.load();
  }

  /** Brings back the design documents kept in the bucket's metadata and starts indexing them. */
  private load(): void {
    const saved = this.store.metadata.get(VIEWS_METADATA) as SavedViews | undefined;
    if (saved === undefined) return;
    for (const [name, n] of Object.entries(saved.deleted ?? {})) {
      this.deleted.add(name);
      this.revCounter.set(name, n);
    }
    for (const [name, { rev, json }] of Object.entries(saved.designDocs ?? {})) {
      let ddoc: DesignDocument;
      try {
        ddoc = validateDesignDocument(name, json);
      } catch (err) {
        debug('bucket `%s`: stored design document `%s` no longer valid, skipped: %s', this.store.name, name, (err as Error).message);
        continue;
      }
      const revNumber = revNumberOf(rev);
      const index = new DesignDocIndex(this.store, ddoc, revNumber, this.options, rev);
      this.revCounter.set(name, revNumber);
      this.ddocs.set(name, index);
      index.startBuild();
    }
    debug('bucket `%s`: %d design documents restored', this.store.name, this.ddocs.size);
  }

  /** Writes the design documents with `change` applied; throws (nothing changed) when that fails. */
  private save(change: (s: SavedViews) => void): void {
    const s: SavedViews = { designDocs: {}, deleted: {} };
    for (const [name, d] of this.ddocs) s.designDocs[name] = { rev: d.rev, json: d.ddoc.body };
    for (const name of this.deleted) s.deleted[name] = this.revCounter.get(name) ?? 1;
    change(s);
    this.store.metadata.set(VIEWS_METADATA, s);
  }

  private onMutation(event: MutationEvent): void {
    if (this.ddocs.size === 0) return;
    const id = event.kind === 'set' ? event.doc.id : event.id;
    for (const ddoc of this.ddocs.values()) ddoc.noteMutation(id);
  }

  get(name: string): DesignDocIndex | undefined {
    return this.ddocs.get(name);
  }

  wasDeleted(name: string): boolean {
    return this.deleted.has(name);
  }

  list(): DesignDocIndex[] {
    return [...this.ddocs.values()];
  }

  /** Validates and stores a design document; throws ViewHttpError (400) when invalid. */
  put(name: string, body: unknown): DesignDocIndex {
    const ddoc = validateDesignDocument(name, body);
    const revNumber = (this.revCounter.get(name) ?? 0) + 1;
    const previous = this.ddocs.get(name);
    const index = new DesignDocIndex(this.store, ddoc, revNumber, this.options);
    try {
      this.save((s) => {
        s.designDocs[name] = { rev: index.rev, json: ddoc.body };
        delete s.deleted[name];
      });
    } catch (err) {
      index.dispose();
      throw err;
    }
    this.revCounter.set(name, revNumber);
    if (previous && sameViews(previous.ddoc, ddoc) && previous.canHandOver) index.adopt(previous);
    previous?.dispose();
    this.ddocs.set(name, index);
    this.deleted.delete(name);
    if (!index.isBuilt) index.startBuild();
    return index;
  }

  delete(name: string): boolean {
    const index = this.ddocs.get(name);
    if (!index) return false;
    const revNumber = (this.revCounter.get(name) ?? 0) + 1;
    this.save((s) => {
      delete s.designDocs[name];
      s.deleted[name] = revNumber;
    });
    index.dispose();
    this.ddocs.delete(name);
    this.deleted.add(name);
    this.revCounter.set(name, revNumber);
    return true;
  }

  close(): void {
    for (const d of this.ddocs.values()) d.dispose();
    this.unsubscribe();
  }
}

const registry = new WeakMap<BucketStore, BucketViews>();

/**
 * The views state of `store`, created (and subscribed to its mutations) on first use, with the
 * design documents kept in the bucket's metadata restored and their indexes building.
 */
export function bucketViews(store: BucketStore, options?: ViewsOptions): BucketViews {
  let views = registry.get(store);
  if (!views) {
    views = new BucketViews(store, options);
    registry.set(store, views);
  }
  return views;
}

/** Restores the views state of every bucket that has stored design documents (buckets without any stay untouched). */
export function restoreBucketViews(stores: Iterable<BucketStore>, options?: ViewsOptions): void {
  for (const store of stores) if (store.metadata.get(VIEWS_METADATA) !== undefined) bucketViews(store, options);
}

/** Splits `_design/<name>` (or a bare name) into the design document name. */
export function designDocName(id: string): string {
  return id.startsWith(DESIGN_PREFIX) ? id.slice(DESIGN_PREFIX.length) : id;
}
