// The cluster's users and groups, as ns_server's menelaus_users keeps them: local users (name,
// password, roles, groups), the administrator of the `admin` domain, and groups (description,
// roles). A user holds its own roles and those of its groups; roles on buckets, scopes or
// collections that no longer exist grant nothing. With a `dataDir` everything is kept in
// users.json (passwords only as hashes, see ./passwords.ts) and comes back after a restart.
import crypto from 'node:crypto';
import path from 'node:path';
import type { ScramCredentials, ScramMechanism } from '../../protocol';
import { readJsonFile, writeJsonAtomically } from '../json-file';
import { allows, ANY, type CompiledRole, type Permission } from './permission';
import { compileRole } from './roles';
import { formatRole, parseRole, roleProblem, sameRole, stampRole, type KeyspaceCatalog, type RoleRef } from './role-spec';
import { hashPassword, isPasswordRecord, PasswordCheck, scramOf, type PasswordRecord } from './passwords';

/** `admin`: the cluster's administrator (ns_server's rest_creds); `local`: users created over REST or given at start. */
export type Domain = 'admin' | 'local';

export interface UserEntry {
  readonly id: string;
  readonly domain: Domain;
  readonly name: string | undefined;
  /** The user's own roles (a group's roles are the group's). */
  readonly roles: readonly RoleRef[];
  readonly groups: readonly string[];
  /** Unix ms of the last password change. */
  readonly passwordChangedAt: number;
  readonly uuid: string;
}

export interface GroupEntry {
  readonly id: string;
  readonly description: string | undefined;
  readonly roles: readonly RoleRef[];
  readonly ldapGroupRef: string | undefined;
}

/** An authenticated user and what it may do: the ServiceUser every service checks. */
export interface Identity {
  readonly username: string;
  readonly domain: Domain;
  /** Its roles and its groups' roles, each with where it comes from. */
  readonly roles: ReadonlyArray<{ readonly role: RoleRef; readonly origins: readonly Origin[] }>;
  allows(permission: Permission): boolean;
}

/** Where a user's role comes from: the user itself, or one of its groups. */
export type Origin = { readonly type: 'user' } | { readonly type: 'group'; readonly name: string };

/** What changed about a user: its roles (or its groups'), its password, or it is gone. */
export type UserChange = 'roles' | 'password' | 'deleted';

/** A user as the cluster options give it. */
export interface DeclaredUser {
  readonly username: string;
  readonly password: string;
  readonly domain: Domain;
  readonly roles: readonly RoleRef[];
}

interface UserRecord extends UserEntry {
  readonly check: PasswordCheck;
}

const USERS_FILE = 'users.json';

export class UserRegistry {
  private readonly users = new Map<string, UserRecord>();
  private readonly groups = new Map<string, GroupEntry>();
  private readonly identities = new Map<string, Identity>();
  private readonly listeners: Array<(username: string | undefined, change: UserChange) => void> = [];
  private readonly file: string | undefined;

  /**
   * The declared users (their passwords hashed now), then whatever `dataDir` kept from earlier
   * runs: users and groups changed at run time come back as they were left.
   */
  constructor(
    private readonly catalog: KeyspaceCatalog,
    private readonly clock: { now(): number },
    declared: readonly DeclaredUser[],
    dataDir?: string,
  ) {
    for (const u of declared) {
      this.users.set(u.username, { id: u.username, domain: u.domain, name: undefined, roles: u.roles, groups: [], passwordChangedAt: clock.now(), uuid: crypto.randomUUID(), check: new PasswordCheck(hashPassword(u.password)) });
    }
    this.file = dataDir === undefined ? undefined : path.join(dataDir, USERS_FILE);
    if (this.file !== undefined) this.load(this.file);
  }

  /** Calls `listener` after every change: with the user's name, or undefined when many may have changed (a group, a bucket). */
  onChange(listener: (username: string | undefined, change: UserChange) => void): void {
    this.listeners.push(listener);
  }

  // ---- reading -------------------------------------------------------------------------------------

  user(id: string): UserEntry | undefined {
    return this.users.get(id);
  }

  /** Local users, by id. */
  localUsers(): UserEntry[] {
    return [...this.users.values()].filter((u) => u.domain === 'local').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  group(id: string): GroupEntry | undefined {
    return this.groups.get(id);
  }

  allGroups(): GroupEntry[] {
    return [...this.groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The user `username` as the services see it, or undefined. */
  identity(username: string): Identity | undefined {
    let id = this.identities.get(username);
    if (id === undefined) {
      const u = this.users.get(username);
      if (u === undefined) return undefined;
      id = this.compile(u);
      this.identities.set(username, id);
    }
    return id;
  }

  /** The identity of `username` when `password` is its password. */
  authenticate(username: string, password: string): Identity | undefined {
    const u = this.users.get(username);
    if (u === undefined || !u.check.matches(password)) return undefined;
    return this.identity(username);
  }

  /** The stored SCRAM credentials of `username` for `mech`. */
  scram(mech: ScramMechanism, username: string): ScramCredentials | undefined {
    const u = this.users.get(username);
    return u === undefined ? undefined : scramOf(u.check.record, mech);
  }

  // ---- changing ------------------------------------------------------------------------------------

  /** Creates or replaces a local user; a new one needs a password. */
  putUser(id: string, fields: { name: string | undefined; password: string | undefined; roles: readonly RoleRef[]; groups: readonly string[] }): 'added' | 'updated' | 'password required' {
    const old = this.users.get(id);
    if (old === undefined && fields.password === undefined) return 'password required';
    const check = fields.password !== undefined ? new PasswordCheck(hashPassword(fields.password)) : old!.check;
    this.users.set(id, {
      id,
      domain: 'local',
      name: fields.name,
      roles: this.stamped(fields.roles),
      groups: fields.groups,
      passwordChangedAt: fields.password !== undefined ? this.clock.now() : old!.passwordChangedAt,
      uuid: old?.uuid ?? crypto.randomUUID(),
      check,
    });
    this.changed(id, old !== undefined && fields.password !== undefined ? 'password' : 'roles');
    return old === undefined ? 'added' : 'updated';
  }

  deleteUser(id: string): boolean {
    const u = this.users.get(id);
    if (u === undefined || u.domain !== 'local') return false;
    this.users.delete(id);
    this.changed(id, 'deleted');
    return true;
  }

  setPassword(id: string, password: string): boolean {
    const u = this.users.get(id);
    if (u === undefined) return false;
    this.users.set(id, { ...u, check: new PasswordCheck(hashPassword(password)), passwordChangedAt: this.clock.now() });
    this.changed(id, 'password');
    return true;
  }

  putGroup(id: string, fields: Omit<GroupEntry, 'id'>): 'added' | 'updated' {
    const existed = this.groups.has(id);
    this.groups.set(id, { id, ...fields, roles: this.stamped(fields.roles) });
    this.changed(undefined, 'roles');
    return existed ? 'updated' : 'added';
  }

  deleteGroup(id: string): boolean {
    if (!this.groups.delete(id)) return false;
    // ns_server removes the group from its members too.
    for (const [uid, u] of this.users) if (u.groups.includes(id)) this.users.set(uid, { ...u, groups: u.groups.filter((g) => g !== id) });
    this.changed(undefined, 'roles');
    return true;
  }

  /** A bucket was deleted: roles on it go from every user and group (a new bucket of the same name starts with none). */
  bucketDeleted(bucket: string): void {
    const keep = (roles: readonly RoleRef[]) => roles.filter((r) => r.params.length === 0 || r.params[0] !== bucket);
    for (const [id, u] of this.users) if (keep(u.roles).length !== u.roles.length) this.users.set(id, { ...u, roles: keep(u.roles) });
    for (const [id, g] of this.groups) if (keep(g.roles).length !== g.roles.length) this.groups.set(id, { ...g, roles: keep(g.roles) });
    this.changed(undefined, 'roles');
  }

  /** Buckets, scopes or collections were created: roles naming them may now grant something. */
  keyspacesChanged(): void {
    this.identities.clear();
    for (const l of this.listeners) l(undefined, 'roles');
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** Roles as granted now: each with the ids of what it names (see RoleRef.ids), one already stamped kept as it is. */
  private stamped(roles: readonly RoleRef[]): RoleRef[] {
    return roles.map((r) => (r.ids !== undefined ? r : stampRole(r, this.catalog)));
  }

  private changed(username: string | undefined, change: UserChange): void {
    if (username === undefined) this.identities.clear();
    else this.identities.delete(username);
    this.save();
    for (const l of this.listeners) l(username, change);
  }

  private compile(u: UserEntry): Identity {
    const effective: Array<{ role: RoleRef; origins: Origin[] }> = [];
    const add = (role: RoleRef, origin: Origin): void => {
      const have = effective.find((e) => sameRole(e.role, role));
      if (have !== undefined) have.origins.push(origin);
      else effective.push({ role, origins: [origin] });
    };
    for (const r of u.roles) add(r, { type: 'user' });
    for (const g of u.groups) for (const r of this.groups.get(g)?.roles ?? []) add(r, { type: 'group', name: g });
    // A role on a bucket, scope or collection that does not exist (any more), or on one dropped
    // and created again, grants nothing and is not shown (ns_server's filter_out_invalid_roles).
    const valid = effective.filter((e) => roleProblem(e.role, this.catalog) === undefined);
    const compiled: CompiledRole[] = valid.map((e) => compileRole(e.role.name, e.role.params));
    return { username: u.id, domain: u.domain, roles: valid, allows: (p) => allows(compiled, p) };
  }

  private save(): void {
    if (this.file === undefined) return;
    writeJsonAtomically(this.file, {
      users: [...this.users.values()].map((u) => ({
        id: u.id,
        domain: u.domain,
        name: u.name,
        roles: u.roles.map(savedRole),
        groups: u.groups,
        passwordChangedAt: u.passwordChangedAt,
        uuid: u.uuid,
        password: u.check.record,
      })),
      groups: [...this.groups.values()].map((g) => ({ ...g, roles: g.roles.map(savedRole) })),
    });
  }

  private load(file: string): void {
    const parsed = readJsonFile(file) as { users?: unknown; groups?: unknown } | undefined;
    if (parsed === undefined) return;
    const fail = (what: string): never => {
      throw new Error(`${file}: ${what}; fix or remove it`);
    };
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.users) || !Array.isArray(parsed.groups)) fail('expected {"users": [...], "groups": [...]}');
    const roles = (list: unknown, owner: string): RoleRef[] => {
      if (!Array.isArray(list)) return fail(`${owner}: roles must be a list`);
      return list.map((saved) => {
        // A role kept by id is {role, ids}; one kept by name (or saved before ids) its text.
        const byId = typeof saved === 'object' && saved !== null && Array.isArray((saved as { ids?: unknown }).ids);
        const r = parseRole(String(byId ? (saved as { role: unknown }).role : saved));
        if ('error' in r) return fail(`${owner}: unknown role ${r.error}`);
        const ids = byId ? (saved as { ids: unknown[] }).ids : undefined;
        if (ids !== undefined && !ids.every((id) => Number.isSafeInteger(id))) return fail(`${owner}: role ${formatRole(r)} has malformed ids`);
        return ids === undefined ? r : { ...r, ids: ids as number[] };
      });
    };
    for (const g of parsed.groups as Array<Record<string, unknown>>) {
      if (typeof g?.id !== 'string') fail('a group without an id');
      const id = g.id as string;
      this.groups.set(id, { id, description: optionalString(g.description), roles: roles(g.roles, `group ${id}`), ldapGroupRef: optionalString(g.ldapGroupRef) });
    }
    for (const u of parsed.users as Array<Record<string, unknown>>) {
      if (typeof u?.id !== 'string' || (u.domain !== 'local' && u.domain !== 'admin')) fail('a user without an id or a domain');
      const id = u.id as string;
      if (!isPasswordRecord(u.password)) fail(`user ${id}: no password hash`);
      this.users.set(id, {
        id,
        domain: u.domain as Domain,
        name: optionalString(u.name),
        roles: roles(u.roles, `user ${id}`),
        groups: Array.isArray(u.groups) ? u.groups.map(String) : [],
        passwordChangedAt: typeof u.passwordChangedAt === 'number' ? u.passwordChangedAt : this.clock.now(),
        uuid: typeof u.uuid === 'string' ? u.uuid : crypto.randomUUID(),
        check: new PasswordCheck(u.password as PasswordRecord),
      });
    }
  }
}

/** A role as users.json keeps it: its text, with its ids when it has them. */
function savedRole(r: RoleRef): string | { role: string; ids: readonly number[] } {
  return r.ids === undefined ? formatRole(r) : { role: formatRole(r), ids: r.ids };
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The roles a user declared in the cluster options gets: its `roles`, plus bucket_full_access on each of its `buckets`. */
export function declaredRoles(buckets: readonly string[] | '*' | undefined, roles: readonly RoleRef[] | undefined): RoleRef[] {
  const out = [...(roles ?? [])];
  if (Array.isArray(buckets)) for (const b of buckets) out.push({ name: 'bucket_full_access', params: [b] });
  // Neither: the user may do everything, as users given at start always could.
  else if (roles === undefined || buckets === ANY) out.push({ name: 'admin', params: [] });
  return out;
}

/**
 * A user holding `roles` (Couchbase role names), for services run outside a Cluster (tests,
 * benchmarks, an embedding of your own): its roles are granted as written, whatever buckets exist.
 */
export function userWithRoles(username: string, roles: readonly string[]): { readonly username: string; allows(p: Permission): boolean } {
  const compiled = roles.map((text) => {
    const r = parseRole(text);
    if ('error' in r) throw new Error(`unknown or malformed role ${JSON.stringify(text)}`);
    return compileRole(r.name, r.params);
  });
  return { username, allows: (p) => allows(compiled, p) };
}

/** The same for a list of buckets the user has full access to (`'*'`: everything, as `admin`). */
export function userWithBuckets(username: string, buckets: readonly string[] | '*'): { readonly username: string; allows(p: Permission): boolean } {
  return userWithRoles(username, buckets === '*' ? ['admin'] : buckets.map((b) => `bucket_full_access[${b}]`));
}
