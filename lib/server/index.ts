// deferbase/server: an embedded Couchbase-compatible cluster.
//
// Importing this module registers the N1QL and views services as the defaults every node
// starts (Cluster.start({ queryService: null }) turns one off).
import { Cluster } from './cluster';
import { createQueryService } from './n1ql';
import { createViewsService } from './views';

Cluster.defaults.queryService ??= createQueryService;
Cluster.defaults.viewsService ??= createViewsService;

export { Cluster };
export type { ClusterOptions, ClusterUser, ClusterNode } from './cluster';
export { DocumentStore, StoreError, StoreStatus, type DocMeta, type Tombstone, type Item } from './store';
export { ManualClock, systemClock } from './clock';
export type { FsyncPolicy } from './persistence';
export type { NodePorts } from './cluster-config';
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
export { travelSampleDocs, travelSampleIndexes } from './samples/travel-sample';
export { createQueryService } from './n1ql';
