// Who may do what to a keyspace. Today a ServiceUser carries the list of buckets it may use
// (all or nothing per bucket); these two functions are the only place that reads it, so a finer
// RBAC check (query_select vs query_update, per collection) replaces their bodies and nothing else.
import type { ServiceUser } from '../service-types';

export type Access = 'read' | 'write';

/** SELECT, and the reads of UPDATE/DELETE/MERGE, on `bucket`. */
export function mayRead(user: ServiceUser, bucket: string): boolean {
  return user.buckets === '*' || user.buckets.includes(bucket);
}

/** INSERT/UPSERT/UPDATE/DELETE/MERGE and index DDL on `bucket`. */
export function mayWrite(user: ServiceUser, bucket: string): boolean {
  return user.buckets === '*' || user.buckets.includes(bucket);
}

export function may(user: ServiceUser, bucket: string, access: Access): boolean {
  return access === 'read' ? mayRead(user, bucket) : mayWrite(user, bucket);
}
