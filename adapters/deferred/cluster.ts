// Python's Cluster, opening txcouchbase-style Buckets.
import type { Deferred } from '../../lib/defer';
import type { N1QLQuery } from '../../lib/engine/services/n1ql';
import { ClusterBase } from '../common/cluster';
import { Admin } from './admin';
import type { N1QLRowOptions } from '../common/rows';
import { Bucket, type DeferredBucketOptions, type RowList } from './bucket';

export class Cluster extends ClusterBase<Bucket, Admin> {
  constructor(connectionString = 'couchbase://localhost', bucketClass: new (connstr: string, options: DeferredBucketOptions) => Bucket = Bucket) {
    super(connectionString, (c, o) => new bucketClass(c, o), (u, p, c) => new Admin(u, p, { connectionString: c }));
  }

  /** A cluster-level (cross-bucket) N1QL query through an open bucket; fires with every row. */
  n1qlQuery<T = unknown>(query: N1QLQuery | string, options: N1QLRowOptions<T> = {}): Deferred<RowList<T>> {
    return this.anyBucket().n1qlQueryAll<T>(this.clusterQuery(query), options);
  }
}
