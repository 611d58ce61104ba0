// ns_server's RBAC REST API (menelaus_web_rbac) on the management port:
//   GET    /settings/rbac/roles                      every role, parameters as *
//   GET    /settings/rbac/users[/local]              the users
//   GET    /settings/rbac/users/local/<name>         one user (404 "Unknown user.")
//   PUT    /settings/rbac/users/local/<name>         name, password, roles, groups (form)
//   DELETE /settings/rbac/users/local/<name>
//   GET    /settings/rbac/groups[/<name>]            groups
//   PUT    /settings/rbac/groups/<name>              description, roles, ldap_group_ref
//   DELETE /settings/rbac/groups/<name>
//   GET    /whoami                                   the caller, with its roles
//   POST   /controller/changePassword                the caller's own password
//   GET    /settings/passwordPolicy, POST to change it
// with ns_server's validation messages and error shapes: 400 `{"errors": {field: message}}`,
// 404 with a JSON string, 403 naming the missing permission.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readForm, reply } from '../console/http';
import { allows, clusterPermission, type Permission } from './permission';
import { requirePermission } from './guard';
import { checkRoles, roleJson, roleProblem, rolesListing, type KeyspaceCatalog, type RoleRef } from './role-spec';
import { compileRole } from './roles';
import type { Identity, UserEntry, UserRegistry } from './users';

export interface PasswordPolicy {
  minLength: number;
  enforceUppercase: boolean;
  enforceLowercase: boolean;
  enforceDigits: boolean;
  enforceSpecialChars: boolean;
}

export function defaultPasswordPolicy(): PasswordPolicy {
  return { minLength: 6, enforceUppercase: false, enforceLowercase: false, enforceDigits: false, enforceSpecialChars: false };
}

/** What the RBAC routes need from the cluster. */
export interface RbacHost {
  readonly users: UserRegistry;
  readonly keyspaces: KeyspaceCatalog;
  readonly passwordPolicy: PasswordPolicy;
}

const SECURITY_READ = clusterPermission(['admin', 'security'], 'read');
const LOCAL_WRITE = clusterPermission(['admin', 'security', 'local'], 'write');
/** Granting or taking away roles that manage security (ns_server's "security roles"). */
const SECURITY_ADMIN_WRITE = clusterPermission(['admin', 'security', 'admin'], 'write');
const POLICY_WRITE = clusterPermission(['admin', 'security'], 'write');

const SPECIAL_CHARS = '@%+\\/\'"!#$^?:,(){}[]~`-_';

/** Handles an RBAC route; false when `parts` is not one. */
export function handleRbac(host: RbacHost, user: Identity, req: IncomingMessage, res: ServerResponse, parts: readonly string[]): boolean | Promise<void> {
  const method = req.method;
  if (parts.length === 1 && parts[0] === 'whoami' && method === 'GET') {
    reply(res, 200, whoami(host, user));
    return true;
  }
  if (parts.length === 2 && parts[0] === 'controller' && parts[1] === 'changePassword' && method === 'POST') return changePassword(host, user, req, res);
  if (parts.length === 2 && parts[0] === 'settings' && parts[1] === 'passwordPolicy') {
    if (method === 'GET') {
      reply(res, 200, host.passwordPolicy);
      return true;
    }
    if (method === 'POST') return setPolicy(host, user, req, res);
    return false;
  }
  if (parts[0] !== 'settings' || parts[1] !== 'rbac') return false;
  const what = parts[2];
  if (what === 'roles' && parts.length === 3 && method === 'GET') {
    if (requirePermission(user, res, SECURITY_READ)) reply(res, 200, rolesListing());
    return true;
  }
  if (what === 'users') return users(host, user, req, res, parts.slice(3));
  if (what === 'groups') return groups(host, user, req, res, parts.slice(3));
  return false;
}

// ---- users ---------------------------------------------------------------------------------------

function users(host: RbacHost, caller: Identity, req: IncomingMessage, res: ServerResponse, rest: readonly string[]): boolean | Promise<void> {
  const method = req.method;
  if (rest.length > 2) return false;
  if (rest.length >= 1 && rest[0] !== 'local') {
    if (rest[0] === 'external') reply(res, 400, { errors: { _: 'External (LDAP) users are not supported by the embedded cluster' } });
    else replyJsonString(res, 404, 'Unknown user domain.');
    return true;
  }
  if (rest.length < 2) {
    if (method !== 'GET') return false;
    if (requirePermission(caller, res, SECURITY_READ)) reply(res, 200, host.users.localUsers().map((u) => userJson(host, u)));
    return true;
  }
  const id = rest[1];
  if (method === 'GET') {
    if (!requirePermission(caller, res, SECURITY_READ)) return true;
    const u = host.users.user(id);
    if (u === undefined || u.domain !== 'local') replyJsonString(res, 404, 'Unknown user.');
    else reply(res, 200, userJson(host, u));
    return true;
  }
  if (method === 'PUT') return putUser(host, caller, req, res, id);
  if (method === 'DELETE') {
    if (!requirePermission(caller, res, LOCAL_WRITE)) return true;
    const u = host.users.user(id);
    if (u === undefined || u.domain !== 'local') return replyJsonString(res, 404, 'User was not found.'), true;
    if (grantsSecurity(u.roles) && !requirePermission(caller, res, SECURITY_ADMIN_WRITE)) return true;
    host.users.deleteUser(id);
    replyJsonString(res, 200, '');
    return true;
  }
  return false;
}

async function putUser(host: RbacHost, caller: Identity, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  if (!requirePermission(caller, res, LOCAL_WRITE)) return;
  const idProblem = idProblemOf(id, 'Username');
  if (idProblem !== undefined) return reply(res, 400, { errors: { _: idProblem } });
  const form = await readForm(req);
  const errors: Record<string, string> = {};
  for (const key of form.keys()) if (!['name', 'password', 'roles', 'groups', 'limits'].includes(key)) errors[key] = 'Unsupported key';
  let roles: RoleRef[] = [];
  if (form.has('roles')) {
    const checked = checkRoles(form.get('roles')!, host.keyspaces);
    if (checked.ok) roles = checked.roles;
    else errors.roles = checked.message;
  }
  let groups: string[] = [];
  if (form.has('groups')) {
    groups = form.get('groups')!.split(',').map((g) => g.trim()).filter((g) => g !== '');
    const missing = groups.filter((g) => host.users.group(g) === undefined);
    if (missing.length > 0) errors.groups = `Groups do not exist: ${missing.join(',')}`;
  }
  const password = form.get('password') ?? undefined;
  if (password !== undefined) {
    const problem = passwordProblem(password, host.passwordPolicy);
    if (problem !== undefined) errors.password = problem;
  }
  if (form.has('limits')) {
    try {
      const limits: unknown = JSON.parse(form.get('limits')!);
      if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) errors.limits = 'Must be a JSON object';
    } catch {
      errors.limits = 'Invalid JSON';
    }
  }
  if (Object.keys(errors).length > 0) return reply(res, 400, { errors });
  const old = host.users.user(id);
  const groupRoles = groups.flatMap((g) => host.users.group(g)?.roles ?? []);
  if (grantsSecurity([...roles, ...groupRoles, ...(old?.roles ?? [])]) && !requirePermission(caller, res, SECURITY_ADMIN_WRITE)) return;
  const outcome = host.users.putUser(id, { name: form.get('name') ?? undefined, password, roles, groups });
  if (outcome === 'password required') return reply(res, 400, { errors: { password: 'Password is required for new user.' } });
  replyJsonString(res, 200, '');
}

export function userJson(host: RbacHost, u: UserEntry): Record<string, unknown> {
  const identity = host.users.identity(u.id)!;
  const out: Record<string, unknown> = {
    id: u.id,
    domain: u.domain,
    roles: identity.roles.map((r) => ({ ...roleJson(r.role), origins: r.origins })),
    groups: u.groups,
    external_groups: [],
  };
  if (u.name !== undefined) out.name = u.name;
  out.uuid = u.uuid;
  out.password_change_date = new Date(u.passwordChangedAt).toISOString();
  return out;
}

function whoami(host: RbacHost, user: Identity): Record<string, unknown> {
  const out: Record<string, unknown> = { id: user.username, domain: user.domain, roles: user.roles.map((r) => roleJson(r.role)) };
  const entry = host.users.user(user.username);
  if (entry?.name !== undefined) out.name = entry.name;
  if (entry?.domain === 'local') out.password_change_date = new Date(entry.passwordChangedAt).toISOString();
  return out;
}

/** ns_server answers some outcomes with a bare JSON string. */
function replyJsonString(res: ServerResponse, status: number, text: string): void {
  reply(res, status, JSON.stringify(text), { 'content-type': 'application/json' });
}

/** Whether any of `roles` lets its holder manage users or security (only a Full Admin may grant those). */
function grantsSecurity(roles: readonly RoleRef[]): boolean {
  const manages: Permission[] = [SECURITY_ADMIN_WRITE, LOCAL_WRITE, clusterPermission(['admin', 'security', 'external'], 'write')];
  return roles.some((r) => manages.some((p) => allows([compileRole(r.name, r.params)], p)));
}

async function changePassword(host: RbacHost, user: Identity, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const errors: Record<string, string> = {};
  for (const key of form.keys()) if (key !== 'password') errors[key] = 'Unsupported key';
  const password = form.get('password');
  if (password === null) errors.password = 'The value must be supplied';
  else {
    const problem = passwordProblem(password, host.passwordPolicy);
    if (problem !== undefined) errors.password = problem;
  }
  if (Object.keys(errors).length > 0) return reply(res, 400, { errors });
  if (!host.users.setPassword(user.username, password!)) return replyJsonString(res, 404, 'User was not found.');
  reply(res, 200, '');
}

async function setPolicy(host: RbacHost, user: Identity, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!requirePermission(user, res, POLICY_WRITE)) return;
  const form = await readForm(req);
  const errors: Record<string, string> = {};
  const next = { ...host.passwordPolicy };
  for (const [key, value] of form) {
    if (key === 'minLength') {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(n >= 0 && n <= 100)) errors.minLength = 'The value must be an integer between 0 and 100';
      else next.minLength = n;
    } else if (key === 'enforceUppercase' || key === 'enforceLowercase' || key === 'enforceDigits' || key === 'enforceSpecialChars') {
      if (value !== 'true' && value !== 'false') errors[key] = 'The value must be a bool';
      else next[key] = value === 'true';
    } else errors[key] = 'Unsupported key';
  }
  if (!form.has('minLength')) errors.minLength = 'The value must be supplied';
  if (Object.keys(errors).length > 0) return reply(res, 400, { errors });
  Object.assign(host.passwordPolicy, next);
  reply(res, 200, '');
}

// ---- groups --------------------------------------------------------------------------------------

function groups(host: RbacHost, caller: Identity, req: IncomingMessage, res: ServerResponse, rest: readonly string[]): boolean | Promise<void> {
  const method = req.method;
  if (rest.length > 1) return false;
  if (rest.length === 0) {
    if (method !== 'GET') return false;
    if (requirePermission(caller, res, SECURITY_READ)) reply(res, 200, host.users.allGroups().map((g) => groupJson(g, host.keyspaces)));
    return true;
  }
  const id = rest[0];
  if (method === 'GET') {
    if (!requirePermission(caller, res, SECURITY_READ)) return true;
    const g = host.users.group(id);
    if (g === undefined) replyJsonString(res, 404, 'Unknown group.');
    else reply(res, 200, groupJson(g, host.keyspaces));
    return true;
  }
  if (method === 'PUT') return putGroup(host, caller, req, res, id);
  if (method === 'DELETE') {
    if (!requirePermission(caller, res, LOCAL_WRITE)) return true;
    const g = host.users.group(id);
    if (g === undefined) return replyJsonString(res, 404, 'Group was not found.'), true;
    if (grantsSecurity(g.roles) && !requirePermission(caller, res, SECURITY_ADMIN_WRITE)) return true;
    host.users.deleteGroup(id);
    replyJsonString(res, 200, '');
    return true;
  }
  return false;
}

async function putGroup(host: RbacHost, caller: Identity, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  if (!requirePermission(caller, res, LOCAL_WRITE)) return;
  const idProblem = idProblemOf(id, 'Group name');
  if (idProblem !== undefined) return reply(res, 400, { errors: { _: idProblem } });
  const form = await readForm(req);
  const errors: Record<string, string> = {};
  for (const key of form.keys()) if (!['description', 'roles', 'ldap_group_ref'].includes(key)) errors[key] = 'Unsupported key';
  let roles: RoleRef[] = [];
  if (!form.has('roles')) errors.roles = 'The value must be supplied';
  else {
    const checked = checkRoles(form.get('roles')!, host.keyspaces);
    if (checked.ok) roles = checked.roles;
    else errors.roles = checked.message;
  }
  if (form.has('ldap_group_ref') && form.get('ldap_group_ref') !== '') errors.ldap_group_ref = 'LDAP groups are not supported by the embedded cluster';
  if (Object.keys(errors).length > 0) return reply(res, 400, { errors });
  if (grantsSecurity([...roles, ...(host.users.group(id)?.roles ?? [])]) && !requirePermission(caller, res, SECURITY_ADMIN_WRITE)) return;
  host.users.putGroup(id, { description: form.get('description') ?? undefined, roles, ldapGroupRef: undefined });
  replyJsonString(res, 200, '');
}

function groupJson(g: { id: string; description: string | undefined; roles: readonly RoleRef[]; ldapGroupRef: string | undefined }, keyspaces: KeyspaceCatalog): Record<string, unknown> {
  // Roles on what no longer exists (or was created again) are not shown, as for users.
  const out: Record<string, unknown> = { id: g.id, roles: g.roles.filter((r) => roleProblem(r, keyspaces) === undefined).map(roleJson) };
  if (g.ldapGroupRef !== undefined) out.ldap_group_ref = g.ldapGroupRef;
  if (g.description !== undefined) out.description = g.description;
  return out;
}

// ---- validation ----------------------------------------------------------------------------------

/** ns_server's validate_id for user and group names. */
export function idProblemOf(id: string, field: string): string | undefined {
  if (id === '') return `${field} must not be empty`;
  if ([...id].length > 128) return `${field} may not exceed 128 characters`;
  if (id.startsWith('@')) return `${field} cannot start with '@'`;
  for (const ch of id) {
    const c = ch.codePointAt(0)!;
    if (c <= 32 || c === 127 || '()<>,;:\\"/[]?={}'.includes(ch) || ch === '\ufffd') {
      return `${field} must not contain spaces, control or any of ()<>,;:\\"/[]?={} characters and must be valid utf8`;
    }
  }
  return undefined;
}

/** ns_server's is_valid_password under `policy`: the first rule the password breaks. */
export function passwordProblem(password: string, policy: PasswordPolicy): string | undefined {
  if ([...password].length < policy.minLength) return `The password must be at least ${policy.minLength} characters long.`;
  if (password.includes('\ufffd')) return 'The password must be valid utf8';
  for (const ch of password) {
    const c = ch.codePointAt(0)!;
    if (c <= 31 || c === 127) return 'The password must not contain control characters';
  }
  if (policy.enforceUppercase && password.toLowerCase() === password) return 'The password must contain at least one uppercase letter';
  if (policy.enforceLowercase && password.toUpperCase() === password) return 'The password must contain at least one lowercase letter';
  if (policy.enforceDigits && !/[0-9]/.test(password)) return 'The password must contain at least one digit';
  if (policy.enforceSpecialChars && ![...password].some((ch) => SPECIAL_CHARS.includes(ch))) {
    return `The password must contain at least one of the following characters: ${SPECIAL_CHARS}`;
  }
  return undefined;
}
