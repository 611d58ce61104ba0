// What the shared Python-API cases get from the shared-behaviour suite: the flavour's driver,
// an open handle on a fresh bucket of the embedded cluster, unique keys, and ways to open more
// buckets (other options, the replica cluster).
import type { Driver, Handle, OpenOptions } from '../helpers/flavours';

export interface SharedContext {
  readonly driver: Driver;
  /** The handle the current case runs on (opened before each case, closed after). */
  h(): Handle;
  /** A key unique to the current case. */
  k(s: string): string;
  /** Options that open another bucket on the cluster the handle is on (bucket name included). */
  openOptions(extra?: { connstrSuffix?: string; bucketOptions?: Record<string, unknown>; bucket?: string }): OpenOptions;
  /** Options for a bucket of the two-node cluster whose bucket keeps one replica. */
  replicaOptions(): OpenOptions;
  /** Options for a bucket of the one-node cluster with no replica configured. */
  noReplicaOptions(): OpenOptions;
  /** The embedded cluster's ports (capi, n1ql, mgmt) for direct REST checks. */
  ports(): { mgmt: number; capi?: number; n1ql?: number };
  /** The bucket the handle is open on. */
  bucketName(): string;
}

/** Awaits a call that must fail; returns its error. */
export async function expectReject(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** Opens another handle for the duration of `fn`. */
export async function withHandle<T>(c: SharedContext, o: OpenOptions, fn: (h: Handle) => Promise<T>): Promise<T> {
  const h = c.driver.open('real', o);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}
