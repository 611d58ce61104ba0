// Python's couchbase.admin.Admin for every flavour: the methods come from the engine's
// ADMIN_METHODS table, each flavour wrapping the call in its async type (or blocking on it).
import { ADMIN_METHODS, AdminClient, adminConnstr, type AdminMethodName, type AdminOptions, type AuthDomainName } from '../../lib/engine/services/admin';
import type { HttpResult } from '../../lib/engine/results';
import { defineCallMethods } from './bucket-api';

export const ADMIN_METHOD_NAMES = Object.keys(ADMIN_METHODS) as AdminMethodName[];
export type { AdminMethodName, AdminOptions };

type Role = string | [role: string, bucket: string];
type UserOptions = { password?: string; roles: Role[]; name?: string };
type BucketCreate = { bucketType?: 'couchbase' | 'membase' | 'memcached' | 'ephemeral'; bucketPassword?: string; replicas?: number; ramQuota?: number; flushEnabled?: boolean };
type BucketUpdate = { bucketPassword?: string; replicas?: number; ramQuota?: number; flushEnabled?: boolean };

/** Each Admin method's arguments (Python's positional order; keyword arguments as one options object). */
export interface AdminCalls {
  httpRequest: [path: string, method?: 'GET' | 'PUT' | 'POST' | 'DELETE', content?: string | Buffer, contentType?: string] | [path: string, options: { method?: string; content?: string | Buffer; contentType?: string }];
  bucketCreate: [name: string, options?: BucketCreate];
  bucketRemove: [name: string];
  bucketDelete: [name: string];
  bucketInfo: [name: string];
  bucketUpdate: [name: string, current: HttpResult | object, options?: BucketUpdate];
  waitReady: [name: string, options?: { timeout?: number; sleepInterval?: number }];
  usersGet: [domain: AuthDomainName];
  userGet: [domain: AuthDomainName, userid: string];
  userUpsert: [domain: AuthDomainName, userid: string, options: UserOptions] | [domain: AuthDomainName, userid: string, password: string | null, roles: Role[], name?: string];
  userRemove: [domain: AuthDomainName, userid: string];
  getUsers: AdminCalls['usersGet'];
  getUser: AdminCalls['userGet'];
  upsertUser: AdminCalls['userUpsert'];
  removeUser: AdminCalls['userRemove'];
}

/** Admin(username, password, host='localhost', port=8091, options) or Admin(username, password, { connectionString }). */
export function adminTarget(host?: string | AdminOptions, port?: number, options?: AdminOptions): string {
  if (typeof host === 'object' && host !== null) return adminConnstr(undefined, undefined, host);
  return adminConnstr(host, port, options);
}

/** Puts every Admin method on a flavour's Admin prototype. */
export function defineAdminMethods<A>(proto: A, call: (admin: A, name: AdminMethodName, args: unknown[]) => unknown): void {
  defineCallMethods(proto, ADMIN_METHOD_NAMES, call);
}

/** What the async flavours' Admin holds: the engine's client, made from Python's constructor arguments. */
export class AdminBase {
  /** @internal */
  readonly client: AdminClient;

  constructor(username: string, password: string, host?: string | AdminOptions, port?: number, options?: AdminOptions) {
    this.client = new AdminClient(adminTarget(host, port, options), username, password);
  }

  /** Releases the HTTP connections. */
  close(): void {
    this.client.close();
  }
}
