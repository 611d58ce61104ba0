// Python's couchbase.cluster authenticators: what a Cluster opens its buckets with.
import { ArgumentError } from './errors';

/** An RBAC user for every bucket (Python's PasswordAuthenticator). */
export class PasswordAuthenticator {
  constructor(
    readonly username: string,
    readonly password: string,
  ) {
    if (typeof username !== 'string' || typeof password !== 'string') throw new ArgumentError('PasswordAuthenticator(username, password) takes two strings');
  }
}

/**
 * Pre-RBAC credentials (Python's ClassicAuthenticator): each bucket opens as a user named after
 * it with its password from `buckets`; the cluster credentials are for management.
 */
export class ClassicAuthenticator {
  readonly buckets: Record<string, string>;
  constructor(
    readonly clusterUsername?: string,
    readonly clusterPassword?: string,
    buckets: Record<string, string> = {},
  ) {
    this.buckets = { ...buckets };
  }
}

/** TLS client certificates (Python's CertAuthenticator): the buckets open over couchbases:// with them. */
export class CertAuthenticator {
  constructor(
    readonly certPath?: string,
    readonly keyPath?: string,
    readonly trustStorePath?: string,
    readonly clusterUsername?: string,
    readonly clusterPassword?: string,
  ) {}
}

export type Authenticator = PasswordAuthenticator | ClassicAuthenticator | CertAuthenticator;

/** The Bucket options that open `bucket` with `auth`, and the other buckets' credentials to add for cross-bucket queries. */
export function bucketCredentials(auth: Authenticator | undefined, bucket: string): { options: Record<string, unknown>; otherBuckets: Array<[string, string]> } {
  if (auth === undefined) return { options: {}, otherBuckets: [] };
  if (auth instanceof PasswordAuthenticator) return { options: { username: auth.username, password: auth.password }, otherBuckets: [] };
  if (auth instanceof ClassicAuthenticator) {
    return {
      options: { username: bucket, password: auth.buckets[bucket] ?? '' },
      otherBuckets: Object.entries(auth.buckets).filter(([b]) => b !== bucket),
    };
  }
  const options: Record<string, unknown> = {};
  if (auth.certPath !== undefined) options.certpath = auth.certPath;
  if (auth.keyPath !== undefined) options.keypath = auth.keyPath;
  if (auth.trustStorePath !== undefined) options.truststorepath = auth.trustStorePath;
  return { options, otherBuckets: [] };
}

/** The administrator's credentials an authenticator carries (Python's get_credentials for cluster_manager()), or undefined. */
export function clusterCredentials(auth: Authenticator | undefined): { username: string; password: string } | undefined {
  if (auth === undefined) return undefined;
  if (auth instanceof PasswordAuthenticator) return { username: auth.username, password: auth.password };
  if (auth.clusterUsername === undefined || auth.clusterPassword === undefined) return undefined;
  return { username: auth.clusterUsername, password: auth.clusterPassword };
}
