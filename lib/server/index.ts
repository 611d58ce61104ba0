// deferbase/server: an embedded Couchbase-compatible cluster. Every node runs the services of
// services.ts (N1QL and views) unless Cluster.start({ services: { n1ql: null } }) turns one off.
export { Cluster } from './cluster';
export type { ClusterOptions, ClusterUser, ClusterNode } from './cluster';
export { DocumentStore, StoreError, StoreStatus, type DocMeta, type Tombstone, type Item } from './store';
export { ManualClock, systemClock } from './clock';
export { LogDamagedError, type FsyncPolicy } from './persistence';
export type { NodePorts } from './cluster-config';
export type { BucketSettings, BucketType, EvictionPolicy, DurabilityMinLevel, ConflictResolution, CompressionMode, StorageBackend } from './buckets-admin';
export { userWithRoles, userWithBuckets } from './rbac/users';
export { clusterPermission, bucketPermission, scopePermission, collectionPermission, formatPermission, type Permission, type Vertex } from './rbac/permission';
export type { KvLimits } from './kv/limits';
export type { ServiceName, ServiceChoice } from './services';
export type * from './service-types';
export {
  createViewsService,
  listDesignDocs,
  designDocsListing,
  putDesignDoc,
  getDesignDoc,
  deleteDesignDoc,
  viewMapErrors,
  designDocStatus,
  createViewsServiceWith,
  waitForIndexes,
  type DesignDocStatus,
  type ViewsOptions,
} from './views';
export { beerSampleDocs, beerSampleDesignDocs } from './samples/beer-sample';
export { travelSampleDocs, travelSampleIndexes, travelSampleInventoryIndexes } from './samples/travel-sample';
export { createQueryService, createQueryServiceWith, type QueryServiceOptions } from './n1ql';
