// The system catalogs about the cluster rather than its data (SQL++ reference: Get System
// Information, Monitor Queries): nodes, the requests of this query node, its prepared statements,
// and users with their roles. A user sees their own requests and user info; seeing everyone's
// takes the cluster's security read privilege (admin, security_admin, ro_admin), as on a server.
import { QueryError } from './errors';
import type { Env } from './keyspace';
import type { Value } from './value';

const mayReadSecurity = (env: Env): boolean => env.holdsCluster?.(['admin', 'security'], 'read') ?? true;

function requireSecurityRead(env: Env, catalog: string): void {
  if (!mayReadSecurity(env)) {
    throw new QueryError(13014, `User does not have credentials to run SELECT queries on system:${catalog}. Add role security_admin to allow the statement to run.`);
  }
}

/** Requests are everyone's to an administrator, else the caller's own. */
const requestsUser = (env: Env): string | undefined => (env.holdsCluster?.(['n1ql', 'meta'], 'read') ?? true) ? undefined : env.username;

function roleRows(grantee: string, roles: unknown): Value[] {
  if (!Array.isArray(roles)) return [];
  return roles.map((r: Record<string, unknown>) => {
    const row: Record<string, Value> = { grantee, role: String(r.role) };
    for (const k of ['bucket_name', 'scope_name', 'collection_name']) if (typeof r[k] === 'string') row[k] = r[k] as string;
    return row;
  });
}

export const ADMIN_CATALOGS: Readonly<Record<string, (env: Env) => Value[]>> = {
  nodes: (env) =>
    (env.nodes?.() ?? []).map((n) => ({ name: n.name, ports: { ...n.ports }, services: [...n.services] })),
  active_requests: (env) => env.requests?.activeRows(requestsUser(env)) ?? [],
  completed_requests: (env) => env.requests?.completedRows(requestsUser(env)) ?? [],
  prepareds: (env) =>
    (env.preparedList?.() ?? []).map((p) => ({ name: p.name, node: env.nodeName ?? '127.0.0.1:8091', statement: p.text, uses: p.uses ?? 0 })),
  user_info: (env) => {
    requireSecurityRead(env, 'user_info');
    return (env.security?.users() ?? []) as Value[];
  },
  my_user_info: (env) => {
    const u = env.username === undefined ? undefined : env.security?.user(env.username);
    return u === undefined ? [] : [u as Value];
  },
  applicable_roles: (env) => {
    const users = mayReadSecurity(env) ? (env.security?.users() ?? []) : [env.username === undefined ? undefined : env.security?.user(env.username)].filter((u) => u !== undefined);
    return users.flatMap((u) => roleRows(String(u!.id), u!.roles));
  },
};
