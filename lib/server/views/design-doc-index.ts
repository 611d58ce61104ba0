// The index group of one design document: all its views share one map pass, as in Couchbase,
// and its functions run in the design document's sandbox thread (sandbox.ts), so building and
// updating never run user code on the event loop.
//
// Updates are incremental and batched. noteMutation only records the document id; the updater
// maps the current state of every recorded id (a delete or expiry finds no document and removes
// its rows) and patches each view's sorted index. It runs on a short timer so bursts of writes
// become one batch, and queries with stale=false / update_after run it first and wait for it;
// stale=ok reads the index as it is. A build keeps two batches in flight, so the thread maps one
// while the event loop prepares the next and files the last.
//
// When the sandbox fails (a function past its memory limit, too many documents past the time
// limit), the index stops where it is: queries answer from it with the reason in `errors`.
import debugFactory from 'debug';
import type { BucketStore, StoredDoc } from '../service-types';
import type { IndexRow } from './collation';
import type { DesignDocument } from './design-docs';
import { makeReducer } from './reduce';
import { SortedRuns } from './sorted-runs';
import { SandboxFailedError, type MapInput, type MapOutput, type ViewSandbox } from './sandbox';
import { ViewIndex } from './view-index';

const debug = debugFactory('deferbase:views');

/** Documents mapped per sandbox request. */
const MAP_BATCH = 512;
/** Bytes of document bodies per sandbox request, whatever the document count. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Map requests a build keeps in flight. */
const PIPELINE = 2;
/** Delay that turns a burst of mutations into one update batch. */
const UPDATE_DELAY_MS = 10;
/** Map errors kept per design document (the count keeps going). */
const MAX_ERRORS_KEPT = 100;

export interface MapErrorRecord {
  readonly docId: string;
  readonly view: string;
  readonly reason: string;
}

/** The last full build of a design document's index. */
export interface BuildStats {
  readonly docs: number;
  readonly ms: number;
  /** Documents mapped per second, sandbox round trips and sorting included. */
  readonly docsPerSecond: number;
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
  return {
    id: doc.id,
    body: bodyOf(doc),
    json: (doc.datatype & 0x01) !== 0,
    rev: revOf(doc),
    seq: Number(doc.seqno),
    vb: doc.vbucket,
    expiration: doc.expiry,
    flags: doc.flags,
  };
}

const ignore = (): void => undefined;

export class DesignDocIndex {
  readonly views = new Map<string, ViewIndex>();
  private readonly order: ViewIndex[];
  private pending = new Set<string>();
  private mutationSeq = 0;
  private appliedSeq = 0;
  private built = false;
  private disposed = false;
  private ownsSandbox = true;
  private updating: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly errors: MapErrorRecord[] = [];
  errorCount = 0;
  /** Documents left out of the index for what they emitted, by id, until they change (query responses list them in `errors`). */
  readonly refused = new Map<string, string>();
  lastBuild: BuildStats | undefined;

  constructor(
    private readonly store: BucketStore,
    readonly ddoc: DesignDocument,
    readonly rev: string,
    readonly sandbox: ViewSandbox,
  ) {
    this.order = ddoc.views.map((v) => new ViewIndex(v.name, v.map, v.reduce, v.reduce === undefined ? undefined : makeReducer(v.reduce, sandbox)));
    for (const v of this.order) this.views.set(v.name, v);
  }

  get name(): string {
    return this.ddoc.name;
  }

  get isBuilt(): boolean {
    return this.built;
  }

  /** Why the design document stopped, as query responses and the management API show it; undefined while it works. */
  get failureText(): string | undefined {
    const f = this.sandbox.failure;
    return f && `design document \`_design/${this.name}\` failed: ${f.reason}`;
  }

  /** building (no complete index yet), ready, or failed. */
  get state(): 'building' | 'ready' | 'failed' {
    return this.sandbox.failure ? 'failed' : this.built ? 'ready' : 'building';
  }

  /** Built and not in the middle of an update: its index can be handed over as it is. */
  get canHandOver(): boolean {
    return this.built && this.updating === null && !this.disposed && this.sandbox.failure === undefined;
  }

  /** Keeps the built index of `previous` (same views, new body/revision). */
  adopt(previous: DesignDocIndex): void {
    previous.views.forEach((v, name) => this.views.get(name)!.adoptFrom(v));
    this.pending = previous.pending;
    this.mutationSeq = previous.mutationSeq;
    this.appliedSeq = previous.built ? previous.appliedSeq : 0;
    this.built = previous.built;
    this.lastBuild = previous.lastBuild;
    this.errors.push(...previous.errors);
    this.errorCount = previous.errorCount;
    for (const [id, reason] of previous.refused) this.refused.set(id, reason);
    if (this.pending.size > 0) this.schedule();
  }

  /** Hands the sandbox to the next revision of this design document (same functions): disposing this index keeps it running. */
  releaseSandbox(): ViewSandbox {
    this.ownsSandbox = false;
    return this.sandbox;
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

  /** Starts building now, in the background, without waiting for a query. */
  startBuild(): void {
    this.update().catch((err) => debug('build of %s failed: %O', this.name, err));
  }

  private get stopped(): boolean {
    return this.disposed || this.sandbox.failure !== undefined;
  }

  /** Resolves once every mutation seen before the call is in the index (or the design document failed). */
  async refresh(): Promise<void> {
    const target = this.mutationSeq;
    while (!this.stopped && (!this.built || this.appliedSeq < target)) await this.update();
  }

  /** Resolves once the first build is done (stale=ok still needs an index to read), or the design document failed. */
  async ensureBuilt(): Promise<void> {
    while (!this.stopped && !this.built) await this.update();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ownsSandbox) this.sandbox.close();
  }

  private update(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.updating) {
      this.updating = (this.built ? this.applyPending() : this.build()).finally(() => {
        this.updating = null;
        // Writes that landed during a build or an update get their own batch.
        if (this.built && this.pending.size > 0) this.schedule();
      });
    }
    return this.updating;
  }

  private async build(): Promise<void> {
    const started = performance.now();
    const target = this.mutationSeq;
    this.pending.clear();
    this.refused.clear();
    const perView = this.order.map(() => new SortedRuns());
    const inflight: Array<{ batch: MapInput[]; result: Promise<MapOutput[]> }> = [];
    let docs = 0;
    try {
      await this.sandbox.ready;
      if (this.disposed) return;
      const send = (batch: MapInput[]) => {
        const result = this.sandbox.map(batch);
        // Rejections are read when the batch's turn comes; until then they are not unhandled.
        result.catch(ignore);
        inflight.push({ batch, result });
      };
      const file = async () => {
        const { batch, result } = inflight.shift()!;
        const rows: IndexRow[][] = this.order.map(() => []);
        this.file(batch, await result, (v) => rows[v]);
        // Sorted now, while the sandbox maps the next batch.
        rows.forEach((r, v) => perView[v].add(r));
        docs += batch.length;
      };
      if (this.order.length > 0) {
        let batch: MapInput[] = [];
        let bytes = 0;
        for (const doc of this.store.docs()) {
          const input = mapInputOf(doc);
          batch.push(input);
          bytes += input.body.length;
          if (batch.length < MAP_BATCH && bytes < MAX_BATCH_BYTES) continue;
          send(batch);
          batch = [];
          bytes = 0;
          if (inflight.length >= PIPELINE) await file();
          if (this.disposed) return;
        }
        if (batch.length > 0) send(batch);
        while (inflight.length > 0) await file();
      }
    } catch (err) {
      if (!(err instanceof SandboxFailedError)) throw err;
      // Stopped: the index keeps what was mapped before the failure.
    }
    if (this.disposed) return;
    this.order.forEach((v, i) => v.load(perView[i].finish(), true));
    this.built = true;
    this.appliedSeq = target;
    const ms = performance.now() - started;
    this.lastBuild = { docs, ms, docsPerSecond: ms > 0 ? (docs * 1000) / ms : 0 };
    debug('built %s/_design/%s: %d docs in %d ms', this.store.name, this.name, docs, Math.round(ms));
  }

  /** Files one batch's rows under their views (`sink` gives the list for a view and a document), and records the documents the map failed on. */
  private file(batch: readonly MapInput[], outputs: readonly MapOutput[], sink: (view: number, id: string) => IndexRow[]): void {
    for (let d = 0; d < outputs.length; d++) {
      const out = outputs[d];
      const id = batch[d].id;
      if (!out.ok) {
        this.recordError(id, out.view, out.reason, out.limit);
        continue;
      }
      if (this.refused.size > 0) this.refused.delete(id);
      for (let v = 0; v < out.rows.length; v++) {
        const flat = out.rows[v];
        const list = sink(v, id);
        for (let i = 0; i < flat.length; i += 2) list.push({ key: flat[i], id, value: flat[i + 1] });
      }
    }
  }

  private recordError(docId: string, viewIndex: number, reason: string, limit: boolean): void {
    const view = this.order[viewIndex]?.name ?? '';
    if (limit && (this.refused.size < MAX_ERRORS_KEPT || this.refused.has(docId))) this.refused.set(docId, reason);
    this.errorCount++;
    if (this.errors.length >= MAX_ERRORS_KEPT) this.errors.shift();
    this.errors.push({ docId, view, reason });
    debug('bucket `%s`, design document `%s`: error executing map function for document `%s`: %s', this.store.name, this.name, docId, reason);
  }

  private async applyPending(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const ids = [...this.pending];
        this.pending = new Set();
        const target = this.mutationSeq;
        for (let c = 0; c < ids.length && !this.stopped; c += MAP_BATCH) await this.applyIds(ids.slice(c, c + MAP_BATCH));
        if (this.stopped) return;
        this.appliedSeq = target;
      }
    } catch (err) {
      if (!(err instanceof SandboxFailedError)) throw err;
    }
  }

  private async applyIds(ids: string[]): Promise<void> {
    const inputs: MapInput[] = [];
    for (const id of ids) {
      const doc = this.store.get(id);
      if (doc) inputs.push(mapInputOf(doc));
      else this.refused.delete(id);
    }
    const outputs = this.order.length > 0 && inputs.length > 0 ? await this.sandbox.map(inputs) : [];
    if (this.disposed) return;
    const changes: Array<Map<string, IndexRow[]>> = this.order.map(() => new Map());
    for (const id of ids) for (const m of changes) m.set(id, []);
    this.file(inputs, outputs, (v, id) => changes[v].get(id)!);
    // A batch that stopped the sandbox is reported, but the index stays as it was.
    if (this.stopped) return;
    this.order.forEach((v, i) => v.apply(changes[i]));
  }
}
