// Couchbase MapReduce views for the embedded cluster: the CAPI REST service (one handler per
// node, sharing per-bucket design documents and indexes) and the functions the management REST
// and the sample loaders use.
import type { BucketStore, HttpServiceFactory } from '../service-types';
import { bucketViews, designDocName, type BuildStats, type MapErrorRecord, type ViewsOptions } from './bucket-views';
import { ViewsHttpHandler } from './http';
import { listDesignDocs, type DesignDocInfo } from './listing';

export { listDesignDocs, designDocsListing, type DesignDocInfo } from './listing';

export { ViewHttpError } from './errors';
export { compareKeys, compareRows } from './collation';
export type { MapErrorRecord, BuildStats, ViewsOptions } from './bucket-views';
export { DEFAULT_FUNCTION_TIMEOUT_MS, DEFAULT_MEMORY_LIMIT_MB, DEFAULT_MAX_TIMEOUTS } from './sandbox-limits';

/** The views service: pass as `viewsService` to the embedded cluster. */
export const createViewsService: HttpServiceFactory = (ctx) => new ViewsHttpHandler(ctx);

/**
 * A views service with options: `timeoutMs`, the time one document may spend in the map
 * functions; `memoryLimitMb`, the heap of a design document's sandbox thread; `maxTimeouts`,
 * the documents that may run past the time limit before the design document fails. Options
 * take effect for a bucket the first time any views code touches it.
 */
export function createViewsServiceWith(options: ViewsOptions): HttpServiceFactory {
  for (const name of ['timeoutMs', 'memoryLimitMb', 'maxTimeouts', 'idleMs'] as const) {
    const v = options[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new TypeError(`views option ${name} must be a positive number, got ${String(v)}`);
    }
  }
  return (ctx) => new ViewsHttpHandler(ctx, options);
}

/**
 * Stores (validates, indexes) a design document; `name` may carry `_design/`. Throws
 * ViewHttpError when invalid. Sources are parsed here and compiled in the design document's
 * sandbox: one that does not evaluate to a function leaves it failed (see designDocStatus),
 * where the REST API refuses it with a 400.
 */
export function putDesignDoc(store: BucketStore, name: string, body: unknown): DesignDocInfo {
  const d = bucketViews(store).put(designDocName(name), body);
  return { id: `_design/${d.name}`, rev: d.rev, json: d.ddoc.body };
}

export function getDesignDoc(store: BucketStore, name: string): DesignDocInfo | undefined {
  const d = bucketViews(store).get(designDocName(name));
  return d && { id: `_design/${d.name}`, rev: d.rev, json: d.ddoc.body };
}

/** Removes a design document and its indexes; false when there was none. */
export function deleteDesignDoc(store: BucketStore, name: string): boolean {
  return bucketViews(store).delete(designDocName(name));
}

/** Map-function errors recorded for a design document (documents skipped while indexing), newest last. */
export function viewMapErrors(store: BucketStore, name: string): { count: number; recent: MapErrorRecord[] } {
  const d = bucketViews(store).get(designDocName(name));
  return { count: d?.errorCount ?? 0, recent: d ? [...d.errors] : [] };
}

export interface DesignDocStatus {
  /** building: no complete index yet; ready; failed: stored, but its index no longer updates. */
  readonly state: 'building' | 'ready' | 'failed';
  /** Why it failed (the text query responses carry in `errors`). */
  readonly reason?: string;
  /** The last full build: documents, milliseconds, documents per second. */
  readonly build?: BuildStats;
}

/** The state of a design document's index, or undefined when there is no such design document. */
export function designDocStatus(store: BucketStore, name: string): DesignDocStatus | undefined {
  const d = bucketViews(store).get(designDocName(name));
  if (!d) return undefined;
  const reason = d.failureText;
  return { state: d.state, ...(reason === undefined ? {} : { reason }), ...(d.lastBuild ? { build: d.lastBuild } : {}) };
}

/** Resolves once every design document of the bucket has indexed every mutation made so far (or failed). */
export async function waitForIndexes(store: BucketStore): Promise<void> {
  await Promise.all(bucketViews(store).list().map((d) => d.refresh()));
}
