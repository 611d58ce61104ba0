// What the management REST shows of a bucket's design documents.
import type { BucketStore } from '../service-types';
import { bucketViews } from './bucket-views';

export interface DesignDocInfo {
  /** `_design/<name>` (dev_ prefix kept). */
  readonly id: string;
  readonly rev: string;
  /** The body as stored (`{"views": {...}, ...}`). */
  readonly json: Record<string, unknown>;
}

/** Every design document of a bucket, for `GET /pools/default/buckets/<b>/ddocs`. */
export function listDesignDocs(store: BucketStore): DesignDocInfo[] {
  return bucketViews(store)
    .list()
    .map((d) => ({ id: `_design/${d.name}`, rev: d.rev, json: d.ddoc.body }));
}

/**
 * The whole body of `GET /pools/default/buckets/<bucket>/ddocs` as Couchbase answers it
 * (`{"rows":[{"doc":{"meta":{"id","rev"},"json":{...}},"controllers":{...}}]}`).
 */
export function designDocsListing(store: BucketStore): { rows: unknown[] } {
  const base = `/pools/default/buckets/${encodeURIComponent(store.name)}/ddocs`;
  return {
    rows: listDesignDocs(store).map((d) => ({
      doc: { meta: { id: d.id, rev: d.rev }, json: d.json },
      controllers: {
        compact: `${base}/${encodeURIComponent(d.id)}/controller/compactView`,
        setUpdateMinChanges: `${base}/${encodeURIComponent(d.id)}/controller/setUpdateMinChanges`,
      },
    })),
  };
}

