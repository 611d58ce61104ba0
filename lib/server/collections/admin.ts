// Changing a bucket's scopes and collections, for every front end that can (the REST API, N1QL's
// CREATE/DROP SCOPE/COLLECTION): the change is tried on a copy of the manifest, made durable with
// the bucket's metadata, and only then applied to the store (collections made, emptied and
// dropped, maxTTLs changed); the cluster then moves the config and recomputes privileges.
import { MANIFEST_METADATA, isCollectionMetadataName, type DocumentStore } from '../store';
import { Manifest, type ChangeResult, type CollectionsOp, type CollectionsResult } from './manifest';

/** What the cluster provides to collection changes. */
export interface CollectionsHost {
  /** The bucket's store (its default collection), or undefined when there is no such bucket. */
  store(bucket: string): DocumentStore | undefined;
  /** Whether the bucket is a magma Couchbase bucket: only these keep history, which its new collections then do by default. */
  magma(bucket: string): boolean;
  /** User scopes and collections of every other bucket (the cluster-wide limits count them). */
  countsOutside(bucket: string): { scopes: number; collections: number };
  /** The manifest of `bucket` changed: configs carry its uid, privileges are recomputed. */
  collectionsChanged(bucket: string): void;
}

/**
 * Applies one change to `bucket`. Throws only what the bucket's metadata throws when it cannot be
 * made durable (a StoreError, ETMPFAIL); nothing has changed then.
 */
export function changeCollections(host: CollectionsHost, bucket: string, op: CollectionsOp): CollectionsResult {
  const store = host.store(bucket);
  if (store === undefined) return { error: { kind: 'bucket_not_found', bucket } };
  if (store.nodeLocator === 'ketama') return { error: { kind: 'not_supported' } };
  const draft = Manifest.fromJSON(store.manifest.toJSON());
  const outside = host.countsOutside(bucket);
  const ctx = { historyDefault: host.magma(bucket), otherScopes: outside.scopes, otherCollections: outside.collections };
  let result: ChangeResult;
  switch (op.op) {
    case 'createScope':
      result = draft.createScope(op.scope, ctx);
      break;
    case 'dropScope':
      result = draft.dropScope(op.scope);
      break;
    case 'createCollection':
      result = draft.createCollection(op.scope, op.collection, op.props, ctx);
      break;
    case 'modifyCollection':
      result = draft.modifyCollection(op.scope, op.collection, op.props);
      break;
    case 'dropCollection':
      result = draft.dropCollection(op.scope, op.collection);
      break;
    case 'setManifest':
      result = draft.setManifest(op.scopes, op.validOnUid, ctx);
      break;
  }
  if ('error' in result) return result;
  const change = result.ok;
  if (change.uid === store.manifest.uid) return { ok: { uid: change.uid } };
  const meta = store.bucketMetadata;
  meta.set(MANIFEST_METADATA, draft.toJSON());
  store.manifest = draft;
  for (const { collection } of change.dropped) {
    store.dropCollection(collection.uid);
    // What services kept about the collection (its index definitions) goes with it. The drop is
    // durable already: definitions left behind by a failing disk name an id never used again.
    try {
      for (const name of [...meta.entries().keys()]) if (isCollectionMetadataName(name, collection.uid)) meta.set(name, undefined);
    } catch {
      // see above
    }
  }
  for (const { scope, collection } of change.created) store.addCollection(scope, collection);
  for (const { collection } of change.modified) {
    const target = store.collection(collection.uid);
    if (target !== undefined) target.collectionMaxTtl = collection.maxTTL;
  }
  host.collectionsChanged(bucket);
  return { ok: { uid: change.uid } };
}
