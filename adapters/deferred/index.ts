// deferbase/deferred: the Twisted (txcouchbase) flavour. Every Bucket operation returns a Deferred.
export * from '../common/public';
export { Bucket, BucketManager, type Collection, N1QLRequest, ViewRequest, StreamRequest, type DeferredBucketOptions, type RowList, type BucketEvent } from './bucket';
export { startEmbedded, connectEmbedded } from './embedded';
export type { KvOptions, MultiKeys } from '../common/methods';
export type { ViewOptions } from '../common/api';
export type { EmbeddedCluster, EmbeddedOptions, SampleName } from '../common/embedded';
export { Cluster } from './cluster';
export { Admin } from './admin';
