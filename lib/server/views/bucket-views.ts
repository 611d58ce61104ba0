// Per-bucket views state, shared by every node of the embedded cluster: the design documents
// (kept in the bucket's metadata, so they survive restarts) and one index group per design
// document (design-doc-index.ts), each with its own sandbox thread.
//
// Nothing here runs user code on the event loop, and nothing a design document does stops the
// others or the cluster: a stored design document that no longer validates, or whose functions
// fail in their sandbox, is kept and listed as failed; restored indexes build in the background.
import debugFactory from 'debug';
import type { BucketStore, MutationEvent } from '../service-types';
import { DesignDocIndex } from './design-doc-index';
import { DESIGN_PREFIX, sameViews, storedViews, validateDesignDocument, type DesignDocument } from './design-docs';
import { invalidDesignDocument, ViewHttpError } from './errors';
import { SandboxFailedError, ViewSandbox, type SandboxOptions } from './sandbox';

export { bodyOf, revOf, mapInputOf, type MapErrorRecord, type BuildStats, DesignDocIndex } from './design-doc-index';

const debug = debugFactory('deferbase:views');

export interface ViewsOptions extends SandboxOptions {}

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
  private readonly holders = new Set<object>();

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
      let index: DesignDocIndex;
      try {
        const ddoc = validateDesignDocument(name, json);
        index = new DesignDocIndex(this.store, ddoc, rev, this.newSandbox(ddoc));
      } catch (err) {
        // Kept, listed and queryable as failed: a restart never drops a design document, nor stops on one.
        const reason = err instanceof ViewHttpError ? err.reason : String((err as Error)?.message ?? err);
        debug('bucket `%s`: stored design document `%s` no longer valid: %s', this.store.name, name, reason);
        const ddoc: DesignDocument = { name, body: json, views: storedViews(json) };
        index = new DesignDocIndex(this.store, ddoc, rev, new ViewSandbox({ name: this.sandboxName(name), views: [] }, this.options, reason));
      }
      this.revCounter.set(name, revNumberOf(rev));
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

  private sandboxName(name: string): string {
    return `${this.store.name}/_design/${name}`;
  }

  private newSandbox(ddoc: DesignDocument): ViewSandbox {
    return new ViewSandbox({ name: this.sandboxName(ddoc.name), views: ddoc.views }, this.options);
  }

  /**
   * Validates and stores a design document; throws ViewHttpError (400) when invalid. Sources
   * are only parsed here: a function that does not evaluate to a function is found by its
   * sandbox and leaves the design document failed (putChecked refuses it instead).
   */
  put(name: string, body: unknown): DesignDocIndex {
    return this.install(validateDesignDocument(name, body));
  }

  /**
   * Validates, compiles in a new sandbox, and only then stores a design document: what the
   * REST API does, refusing every function Couchbase refuses with its 400 reason.
   */
  async putChecked(name: string, body: unknown): Promise<DesignDocIndex> {
    const ddoc = validateDesignDocument(name, body);
    const previous = this.ddocs.get(name);
    // Same functions as a working revision: they compiled there.
    if (previous && sameViews(previous.ddoc, ddoc) && previous.sandbox.failure === undefined) return this.install(ddoc);
    const sandbox = this.newSandbox(ddoc);
    try {
      await sandbox.ready;
    } catch (err) {
      sandbox.close();
      if (err instanceof SandboxFailedError) throw invalidDesignDocument(err.reason);
      throw err;
    }
    return this.install(ddoc, sandbox);
  }

  private install(ddoc: DesignDocument, compiled?: ViewSandbox): DesignDocIndex {
    const name = ddoc.name;
    const revNumber = (this.revCounter.get(name) ?? 0) + 1;
    const rev = `${revNumber}-${((Math.random() * 0xffffffff) >>> 0).toString(16).padStart(8, '0')}`;
    try {
      this.save((s) => {
        s.designDocs[name] = { rev, json: ddoc.body };
        delete s.deleted[name];
      });
    } catch (err) {
      compiled?.close();
      throw err;
    }
    this.revCounter.set(name, revNumber);
    const previous = this.ddocs.get(name);
    const same = previous !== undefined && sameViews(previous.ddoc, ddoc) && previous.sandbox.failure === undefined;
    const sandbox = compiled ?? (same ? previous.releaseSandbox() : this.newSandbox(ddoc));
    const index = new DesignDocIndex(this.store, ddoc, rev, sandbox);
    if (same && previous.canHandOver) index.adopt(previous);
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

  /** Records that `holder` (a views service of one node) uses this bucket's views. */
  hold(holder: object): void {
    this.holders.add(holder);
  }

  /** The last holder to let go ends every sandbox thread; the design documents stay in the bucket's metadata. */
  release(holder: object): void {
    if (!this.holders.delete(holder) || this.holders.size > 0) return;
    this.close();
    if (registry.get(this.store) === this) registry.delete(this.store);
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

/**
 * Restores the views state of every bucket that has stored design documents (buckets without
 * any stay untouched); their indexes build in the background. Returns the states restored.
 */
export function restoreBucketViews(stores: Iterable<BucketStore>, options?: ViewsOptions): BucketViews[] {
  const out: BucketViews[] = [];
  for (const store of stores) if (store.metadata.get(VIEWS_METADATA) !== undefined) out.push(bucketViews(store, options));
  return out;
}

/** Splits `_design/<name>` (or a bare name) into the design document name. */
export function designDocName(id: string): string {
  return id.startsWith(DESIGN_PREFIX) ? id.slice(DESIGN_PREFIX.length) : id;
}
