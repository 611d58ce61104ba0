// The embedded cluster for Deferred code: started on this thread (a Deferred never blocks it).
import { Deferred } from '../../lib/defer';
import { EMBEDDED_USER, embeddedBucketConnstr, startEmbeddedCluster, type EmbeddedCluster, type EmbeddedOptions, type SampleName } from '../common/embedded';
import { Bucket, type DeferredBucketOptions } from './bucket';

/** Starts an embedded cluster (and loads the requested samples); fires with it. */
export function startEmbedded(
  options: EmbeddedOptions = {},
  onProgress?: (sample: SampleName, loaded: number, total: number) => void,
): Deferred<EmbeddedCluster> {
  return Deferred.fromPromise(startEmbeddedCluster(options, onProgress)) as Deferred<EmbeddedCluster>;
}

/** Starts an embedded cluster and opens a connected Bucket on it, in one step. */
export function connectEmbedded(
  options: EmbeddedOptions & { bucketOptions?: DeferredBucketOptions } = {},
): Deferred<{ cluster: EmbeddedCluster; bucket: Bucket }> {
  const { bucketOptions, ...clusterOptions } = options;
  return startEmbedded(clusterOptions).addCallback((cluster: EmbeddedCluster) => {
    const name = options.bucket ?? options.samples?.[0] ?? options.buckets?.[0]?.name ?? 'default';
    const bucket = new Bucket(embeddedBucketConnstr(cluster.connectionString, name), { ...EMBEDDED_USER, ...bucketOptions });
    return bucket.connect().addCallbacks(
      () => ({ cluster, bucket }),
      (failure) => Deferred.fromPromise(cluster.stop()).addCallback(() => failure),
    );
  }) as Deferred<{ cluster: EmbeddedCluster; bucket: Bucket }>;
}
