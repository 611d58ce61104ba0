// GRANT and REVOKE (SQL++ reference: GRANT, REVOKE): roles given to or taken from local users
// in the cluster's RBAC store, the one the REST API (/settings/rbac/users) changes. Every role,
// keyspace and user is checked before anything changes; a role the user already has (GRANT) or
// never had (REVOKE) is a warning, as the query service reports it.
import type * as A from './ast';
import type { ServiceRole, ServiceSecurity } from '../service-types';
import { QueryError } from './errors';
import type { ExecContext } from './expr';
import type { Env } from './keyspace';

const E_USER_NOT_FOUND = 5210;
const E_ROLE_REQUIRES_KEYSPACE = 5220;
const E_ROLE_TAKES_NO_KEYSPACE = 5230;
const E_NO_SUCH_KEYSPACE = 5240;
const E_NO_SUCH_SCOPE = 5241;
const E_NO_SUCH_BUCKET = 5242;
const E_ROLE_NOT_FOUND = 5250;
const W_ROLE_ALREADY_PRESENT = 5260;
const W_ROLE_NOT_PRESENT = 5270;
const W_USER_WITH_NO_ROLES = 5280;

const ANY = '*';

/** The role with its parameters as ns_server writes it in messages: `name` or `name(b:s:c)`. */
function roleText(r: ServiceRole): string {
  const params = r.params.filter((p) => p !== ANY);
  return params.length === 0 ? r.name : `${r.name}(${params.join(':')})`;
}

function sameRole(a: ServiceRole, b: ServiceRole): boolean {
  return a.name === b.name && a.params.length === b.params.length && a.params.every((p, i) => p === b.params[i]);
}

/** The roles a statement names, one per role and keyspace, checked against the role catalogue and the keyspaces that exist. */
function rolesOf(stmt: A.GrantStatement, security: ServiceSecurity): ServiceRole[] {
  const out: ServiceRole[] = [];
  for (const raw of stmt.roles) {
    const name = raw.toLowerCase();
    const count = security.roleParams(name);
    if (count === undefined) throw new QueryError(E_ROLE_NOT_FOUND, `Role ${raw} is not valid.`);
    if (count === 0) {
      if (stmt.keyspaces.length > 0) throw new QueryError(E_ROLE_TAKES_NO_KEYSPACE, `Role ${raw} does not take a keyspace.`);
      out.push({ name, params: [] });
      continue;
    }
    if (stmt.keyspaces.length === 0) throw new QueryError(E_ROLE_REQUIRES_KEYSPACE, `Role ${raw} requires a keyspace.`);
    for (const ks of stmt.keyspaces) {
      const given = [ks.bucket, ...(ks.scope !== undefined ? [ks.scope] : []), ...(ks.collection !== undefined ? [ks.collection] : [])];
      const text = given.join('.');
      if (ks.namespace !== 'default' || given.length > count) throw new QueryError(E_NO_SUCH_KEYSPACE, `Keyspace ${text} is not valid.`);
      const role = { name, params: [...given, ...new Array<string>(count - given.length).fill(ANY)] };
      const problem = security.roleProblem(role);
      if (problem !== undefined) {
        if (problem.startsWith('no bucket')) throw new QueryError(E_NO_SUCH_BUCKET, `Bucket ${ks.bucket} is not valid.`);
        if (problem.startsWith('no scope')) throw new QueryError(E_NO_SUCH_SCOPE, `Scope ${ks.bucket}.${ks.scope} is not valid.`);
        throw new QueryError(E_NO_SUCH_KEYSPACE, `Keyspace ${text} is not valid.`);
      }
      out.push(role);
    }
  }
  return out;
}

/** Runs a GRANT or REVOKE; its warnings go to the request's warnings. */
export function runGrant(stmt: A.GrantStatement, env: Env, ctx: ExecContext): void {
  const security = env.security;
  if (security === undefined) throw new QueryError(5000, 'GRANT and REVOKE need the cluster user store, which this query service does not have.');
  if (env.holdsCluster !== undefined && !env.holdsCluster(['admin', 'security'], 'write')) {
    throw new QueryError(13014, `User does not have credentials to run ${stmt.type === 'grant' ? 'GRANT' : 'REVOKE'} statements. Add role admin to allow the statement to run.`);
  }
  const roles = rolesOf(stmt, security);
  const users = stmt.users.map((u) => {
    const colon = u.indexOf(':');
    const domain = colon < 0 ? 'local' : u.slice(0, colon);
    const id = colon < 0 ? u : u.slice(colon + 1);
    const current = domain === 'local' ? security.rolesOf(id) : undefined;
    if (current === undefined) throw new QueryError(E_USER_NOT_FOUND, `Unable to find user ${u}.`);
    return { id, current };
  });
  for (const { id, current } of users) {
    let next = [...current];
    for (const role of roles) {
      const has = next.some((r) => sameRole(r, role));
      if (stmt.type === 'grant') {
        if (has) ctx.warn?.(W_ROLE_ALREADY_PRESENT, `User ${id} already has role ${roleText(role)}.`);
        else next.push(role);
      } else if (!has) ctx.warn?.(W_ROLE_NOT_PRESENT, `User ${id} did not have role ${roleText(role)}.`);
      else next = next.filter((r) => !sameRole(r, role));
    }
    if (next.length === 0) ctx.warn?.(W_USER_WITH_NO_ROLES, `User ${id} has no roles. Connecting with this user may not be possible`);
    if (next.length !== current.length) security.setRoles(id, next);
  }
}
