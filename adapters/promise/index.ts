// deferbase/promise: the asyncio (acouchbase) flavour. Promises and async-iterable queries.
export * from '../common/public';
export { Bucket, BucketManager, type Collection, QueryRows, type PromiseBucketOptions, type Abortable, type StreamLimits } from './bucket';
export { startEmbedded, connectEmbedded } from './embedded';
export type { KvOptions, MultiKeys } from '../common/methods';
export type { ViewOptions } from '../common/api';
export type { EmbeddedCluster, EmbeddedOptions, SampleName } from '../common/embedded';
export { Cluster } from './cluster';
export { Admin } from './admin';
