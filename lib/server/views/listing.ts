// What the management REST shows of a bucket's design documents.
import type { BucketStore } from '../service-types';
import { bucketViews } from './bucket-views';

export interface DesignDocInfo {
  /** `_design/<name>` (dev_ prefix kept). */
  readonly id: string;
  readonly rev: string;
  /** The body as stored (`{"views": {...}, ...}`). */
  readonly json: Record<string, unknown>;
  /** Set when the design document failed (stored, but its index no longer updates): why, and since when. */
  readonly failure?: { readonly reason: string; readonly since: string };
}

/** Every design document of a bucket, for `GET /pools/default/buckets/<b>/ddocs`. */
export function listDesignDocs(store: BucketStore): DesignDocInfo[] {
  return bucketViews(store)
    .list()
    .map((d) => {
      const info: DesignDocInfo = { id: `_design/${d.name}`, rev: d.rev, json: d.ddoc.body };
      const failure = d.failureText;
      return failure === undefined ? info : { ...info, failure: { reason: failure, since: d.sandbox.failure!.at.toISOString() } };
    });
}

/**
 * The whole body of `GET /pools/default/buckets/<bucket>/ddocs` as Couchbase answers it
 * (`{"rows":[{"doc":{"meta":{"id","rev"},"json":{...}},"controllers":{...}}]}`); a failed design
 * document's row also carries `"failure":{"reason","since"}`, which clients that read only
 * `doc` and `controllers` pass over.
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
      ...(d.failure === undefined ? {} : { failure: d.failure }),
    })),
  };
}

