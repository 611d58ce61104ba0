// Python's Cluster, opening blocking (gcouchbase-style) Buckets.
import type { N1QLQuery } from '../../lib/engine/services/n1ql';
import { ClusterBase } from '../common/cluster';
import { Admin } from './admin';
import type { N1QLRowOptions } from '../common/rows';
import { Bucket, type BlockingBucketOptions } from './bucket';
import type { BlockingRows } from './rows';

export class Cluster extends ClusterBase<Bucket, Admin> {
  constructor(connectionString = 'couchbase://localhost', bucketClass: new (connstr: string, options: BlockingBucketOptions) => Bucket = Bucket) {
    super(connectionString, (c, o) => new bucketClass(c, o), (u, p, c) => new Admin(u, p, { connectionString: c }));
  }

  /** A cluster-level (cross-bucket) N1QL query through an open bucket, its rows to iterate. */
  n1qlQuery<T = unknown>(query: N1QLQuery | string, options: N1QLRowOptions<T> = {}): BlockingRows<T> {
    return this.anyBucket().n1qlQuery<T>(this.clusterQuery(query), options);
  }
}
