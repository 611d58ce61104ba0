// deferbase/blocking: the gevent-style (gcouchbase) flavour. Plain synchronous calls; the engine
// runs in a worker thread and the caller waits on shared memory.
export * from '../common/public';
export { Bucket, BlockingRows, type BlockingBucketOptions } from './bucket';
export { startEmbedded, connectEmbedded, EmbeddedClusterThread, type BlockingEmbeddedOptions } from './embedded';
export { ChannelError } from './channel';
export type { KvOptions, MultiKeys } from '../common/methods';
export type { ViewOptions } from '../common/api';
export type { EmbeddedOptions, SampleName } from '../common/embedded';
