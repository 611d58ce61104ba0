// Python's couchbase.cluster.Cluster, the same for each flavour: authenticate once, open buckets
// by name, and run cluster-level (cross-bucket) N1QL queries through an open bucket.
import { ArgumentError, NoBucketError } from '../../lib/engine/errors';
import { PasswordAuthenticator, bucketCredentials, clusterCredentials, type Authenticator } from '../../lib/engine/auth';
import { N1QLQuery } from '../../lib/engine/services/n1ql';

/** What a Cluster needs of its flavour's Bucket. */
export interface ClusterBucket {
  addBucketCreds(bucket: string, password: string): void;
  readonly closed: boolean;
}

/** The connection string with `bucket` as its path. */
export function connstrWithBucket(connstr: string, bucket: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/s.exec(connstr);
  if (!m) throw new ArgumentError(`malformed connection string "${connstr}"`);
  return `${m[1]}/${encodeURIComponent(bucket)}${m[3] ?? ''}`;
}

export class ClusterBase<B extends ClusterBucket, A = unknown> {
  private auth: Authenticator | undefined;
  private readonly opened: B[] = [];

  constructor(
    readonly connectionString: string,
    private readonly openWith: (connstr: string, options: Record<string, unknown>) => B,
    private readonly adminWith: (username: string, password: string, connectionString: string) => A,
  ) {
    if (typeof connectionString !== 'string' || connectionString.length === 0) throw new ArgumentError('Cluster needs a connection string like "couchbase://host"');
  }

  /**
   * Sets the credentials buckets are opened with: an authenticator, or a username and password
   * (Python's authenticate(authenticator=None, username=None, password=None)).
   */
  authenticate(authenticator?: Authenticator | { username: string; password: string }, username?: string, password?: string): void {
    if (authenticator === undefined || authenticator === null) {
      if (username === undefined || password === undefined) throw new ArgumentError('authenticate() needs an authenticator, or a username and a password');
      this.auth = new PasswordAuthenticator(username, password);
      return;
    }
    const a = authenticator as Authenticator & { username?: string; password?: string };
    this.auth = 'buckets' in a || 'certPath' in a || a instanceof PasswordAuthenticator ? a : new PasswordAuthenticator(String(a.username), String(a.password));
  }

  /** Opens a bucket of this cluster with the authenticator's credentials (options may add any Bucket option). */
  openBucket(name: string, options: Record<string, unknown> = {}): B {
    if (typeof name !== 'string' || name.length === 0) throw new ArgumentError('openBucket needs a bucket name');
    const creds = bucketCredentials(this.auth, name);
    const bucket = this.openWith(connstrWithBucket(this.connectionString, name), { ...creds.options, ...options });
    for (const [b, p] of creds.otherBuckets) bucket.addBucketCreds(b, p);
    this.opened.push(bucket);
    return bucket;
  }

  /**
   * The cluster's Admin (Python's cluster_manager()): the authenticator's administrator
   * credentials (a PasswordAuthenticator's, or a Classic/CertAuthenticator's cluster_username
   * and cluster_password) on this cluster's connection string.
   */
  clusterManager(): A {
    const creds = clusterCredentials(this.auth);
    if (creds === undefined) throw new ArgumentError('clusterManager() needs administrator credentials: authenticate() with a PasswordAuthenticator, or a ClassicAuthenticator with cluster_username and cluster_password');
    return this.adminWith(creds.username, creds.password, this.connectionString);
  }

  /** A bucket opened by this cluster and still open, for cluster-level queries. */
  protected anyBucket(): B {
    const b = this.opened.find((x) => !x.closed);
    if (b === undefined) throw new NoBucketError('a cluster-level query needs at least one open bucket: call openBucket() first');
    return b;
  }

  /** The query as a cluster-level (cross-bucket) one. */
  protected clusterQuery(query: N1QLQuery | string): N1QLQuery {
    const q = typeof query === 'string' ? new N1QLQuery(query) : query;
    if (!(q instanceof N1QLQuery)) throw new ArgumentError('a N1QL query is a N1QLQuery or a statement string');
    q.crossBucket = true;
    return q;
  }
}
