// deferbase/blocking: the gevent-style (gcouchbase) flavour. Plain synchronous calls; the engine
// runs in a worker thread and the caller waits on shared memory.
export * from '../common/public';
export { Bucket, BucketManager, type Collection, Pipeline, type BlockingBucketOptions } from './bucket';
export { BlockingRows } from './rows';
export { startEmbedded, connectEmbedded, EmbeddedClusterThread, type BlockingEmbeddedOptions } from './embedded';
export { ChannelError } from '../../lib/sync-rpc';
export type { KvOptions, MultiKeys } from '../common/methods';
export type { ViewOptions } from '../common/api';
export type { EmbeddedOptions, SampleName } from '../common/embedded';
export { Cluster } from './cluster';
export { Admin } from './admin';
