// Roles as users and groups hold them: `data_reader[travel-sample:inventory:airline]`, parsed,
// checked and written back exactly as ns_server does it (menelaus_web_rbac's parse_role and
// role_to_string, menelaus_roles' validation), and their JSON form in the REST API.
import { ANY } from './permission';
import { PARAM_COUNT, PARAM_NAMES, roleDefinition, roleDefinitions } from './roles';

/** A role given to a user or a group: its name and one parameter per parameter it takes (ANY for `*`). */
export interface RoleRef {
  readonly name: string;
  readonly params: readonly string[];
  /**
   * The ids of the scope (and collection) the role names, as they were when it was granted:
   * ns_server keeps roles by id, so a role on a dropped collection does not come back with a new
   * collection of the same name. Undefined: by name only (roles declared in the cluster options).
   */
  readonly ids?: readonly number[];
}

/** Which buckets, scopes and collections exist (a role on one that does not cannot be granted). */
export interface KeyspaceCatalog {
  hasBucket(bucket: string): boolean;
  hasScope(bucket: string, scope: string): boolean;
  hasCollection(bucket: string, scope: string, collection: string): boolean;
  /** The ids of a scope and a collection that exist (undefined otherwise); without them roles are kept by name. */
  scopeUid?(bucket: string, scope: string): number | undefined;
  collectionUid?(bucket: string, scope: string, collection: string): number | undefined;
}

/** `role` with the ids of the scope and collection it names now (see RoleRef.ids); unchanged when it names none. */
export function stampRole(role: RoleRef, catalog: KeyspaceCatalog): RoleRef {
  const [b, s, c] = role.params;
  if (s === undefined || s === ANY || catalog.scopeUid === undefined) return role;
  const ids = [catalog.scopeUid(b, s)];
  if (c !== undefined && c !== ANY) ids.push(catalog.collectionUid?.(b, s, c));
  return ids.every((id) => id !== undefined) ? { name: role.name, params: role.params, ids: ids as number[] } : role;
}

/** The outcome of parsing one role: the role, or the text that could not be read. */
export type ParsedRole = RoleRef | { readonly error: string };

/**
 * Parses one role as ns_server does: `name`, `name[*]` or `name[p1:p2:...]` (names are case
 * insensitive; missing trailing parameters inside brackets mean any). Unknown names and malformed
 * brackets are errors; a wrong parameter count is left for `roleProblem`.
 */
export function parseRole(text: string): ParsedRole {
  const raw = text.trim();
  const open = raw.indexOf('[');
  const name = (open < 0 ? raw : raw.slice(0, open)).toLowerCase();
  const def = roleDefinition(name);
  if (def === undefined || name === '') return { error: raw };
  // A role that takes parameters needs them: `data_reader` alone is refused by roleProblem.
  if (open < 0) return { name, params: [] };
  const close = raw.indexOf(']', open);
  if (close !== raw.length - 1 || close === open + 1) return { error: raw };
  const inner = raw.slice(open + 1, close);
  const given = inner === ANY ? [ANY] : inner.split(':');
  const count = PARAM_COUNT[def.params];
  const params = given.length <= count ? [...given, ...new Array<string>(count - given.length).fill(ANY)] : given;
  return { name, params };
}

/** Parses a comma-separated list of roles (the `roles` form field). */
export function parseRoles(text: string): ParsedRole[] {
  return text
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseRole);
}

/**
 * Why `role` cannot be granted, or undefined when it can: more parameters than the role takes, a
 * specific name after `*`, or a bucket, scope or collection that does not exist.
 */
export function roleProblem(role: RoleRef, catalog: KeyspaceCatalog): string | undefined {
  const def = roleDefinition(role.name);
  if (def === undefined) return 'unknown role';
  const p = role.params;
  if (p.length !== PARAM_COUNT[def.params]) return 'wrong number of parameters';
  const firstAny = p.indexOf(ANY);
  if (firstAny >= 0 && p.slice(firstAny).some((x) => x !== ANY)) return 'a parameter after * must be *';
  if (p.length >= 1 && p[0] !== ANY && !catalog.hasBucket(p[0])) return `no bucket ${p[0]}`;
  if (p.length >= 2 && p[1] !== ANY && !catalog.hasScope(p[0], p[1])) return `no scope ${p[0]}:${p[1]}`;
  if (p.length >= 3 && p[2] !== ANY && !catalog.hasCollection(p[0], p[1], p[2])) return `no collection ${p[0]}:${p[1]}:${p[2]}`;
  const ids = role.ids;
  if (ids !== undefined && catalog.scopeUid !== undefined) {
    if (catalog.scopeUid(p[0], p[1]) !== ids[0]) return `scope ${p[0]}:${p[1]} is not the one the role was granted on`;
    if (ids.length > 1 && catalog.collectionUid?.(p[0], p[1], p[2]) !== ids[1]) return `collection ${p[0]}:${p[1]}:${p[2]} is not the one the role was granted on`;
  }
  return undefined;
}

/** ns_server's role_to_string: `admin`, `bucket_admin[*]`, `data_reader[b]`, `data_reader[b:s:c]` (trailing `*`s dropped). */
export function formatRole(role: RoleRef): string {
  if (role.params.length === 0) return role.name;
  let n = role.params.length;
  while (n > 1 && role.params[n - 1] === ANY) n--;
  return `${role.name}[${role.params.slice(0, n).join(':')}]`;
}

/** ns_server's message for roles it will not grant. */
export function badRolesMessage(bad: readonly string[]): string {
  return `Cannot assign roles to user because the following roles are unknown, malformed or role parameters are undefined: [${bad.join(',')}]`;
}

/**
 * Parses and checks a `roles` form field: the roles, or ns_server's error message naming every
 * role it refused.
 */
export function checkRoles(text: string, catalog: KeyspaceCatalog): { ok: true; roles: RoleRef[] } | { ok: false; message: string } {
  const malformed: string[] = [];
  const undefinedOnes: string[] = [];
  const roles: RoleRef[] = [];
  for (const r of parseRoles(text)) {
    if ('error' in r) malformed.push(r.error);
    else if (roleProblem(r, catalog) !== undefined) undefinedOnes.push(formatRole(r));
    else if (!roles.some((x) => sameRole(x, r))) roles.push(r);
  }
  // ns_server names the roles it could not read first, then those it could not grant.
  const bad = [...malformed, ...undefinedOnes];
  return bad.length > 0 ? { ok: false, message: badRolesMessage(bad) } : { ok: true, roles };
}

export function sameRole(a: RoleRef, b: RoleRef): boolean {
  return a.name === b.name && a.params.length === b.params.length && a.params.every((p, i) => p === b.params[i]);
}

/** The JSON form of a role: `{"role": ..., "bucket_name": ..., ...}` with `*` for any. */
export function roleJson(role: RoleRef): Record<string, string> {
  const out: Record<string, string> = { role: role.name };
  role.params.forEach((p, i) => (out[PARAM_NAMES[i]] = p));
  return out;
}

/** `/settings/rbac/roles`: every role, parameters as `*`, with its name and description. */
export function rolesListing(): Array<Record<string, string>> {
  return roleDefinitions().map((def) => ({
    ...roleJson({ name: def.name, params: new Array<string>(PARAM_COUNT[def.params]).fill(ANY) }),
    name: def.displayName,
    desc: def.description,
  }));
}
