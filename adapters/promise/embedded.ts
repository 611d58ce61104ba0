// The embedded cluster for async/await code: started on this thread.
import { EMBEDDED_USER, embeddedBucketConnstr, startEmbeddedCluster, type EmbeddedCluster, type EmbeddedOptions, type SampleName } from '../common/embedded';
import { Bucket, type PromiseBucketOptions } from './bucket';

/** Starts an embedded cluster (and loads the requested samples). */
export function startEmbedded(
  options: EmbeddedOptions = {},
  onProgress?: (sample: SampleName, loaded: number, total: number) => void,
): Promise<EmbeddedCluster> {
  return startEmbeddedCluster(options, onProgress);
}

/** Starts an embedded cluster and opens a connected Bucket on it, in one step. */
export async function connectEmbedded(
  options: EmbeddedOptions & { bucketOptions?: PromiseBucketOptions } = {},
): Promise<{ cluster: EmbeddedCluster; bucket: Bucket }> {
  const { bucketOptions, ...clusterOptions } = options;
  const cluster = await startEmbedded(clusterOptions);
  const name = options.bucket ?? options.samples?.[0] ?? options.buckets?.[0]?.name ?? 'default';
  const bucket = new Bucket(embeddedBucketConnstr(cluster.connectionString, name), { ...EMBEDDED_USER, ...bucketOptions });
  try {
    await bucket.connect();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, bucket };
}
