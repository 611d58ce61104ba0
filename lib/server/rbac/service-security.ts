// The RBAC store as the query service sees it (GRANT / REVOKE, system:user_info): the same
// registry, role checks and user JSON the REST API uses, so a role granted by either is the same.
import type { ServiceRole, ServiceSecurity } from '../service-types';
import { userJson, type RbacHost } from './rest';
import { roleProblem } from './role-spec';
import { PARAM_COUNT, roleDefinition } from './roles';

export function serviceSecurity(host: RbacHost): ServiceSecurity {
  const local = (id: string) => {
    const u = host.users.user(id);
    return u?.domain === 'local' ? u : undefined;
  };
  return {
    users: () => host.users.localUsers().map((u) => userJson(host, u)),
    user: (id) => {
      const u = local(id);
      return u === undefined ? undefined : userJson(host, u);
    },
    rolesOf: (id) => local(id)?.roles.map((r) => ({ name: r.name, params: [...r.params] })),
    roleParams: (name) => {
      const def = roleDefinition(name.toLowerCase());
      return def === undefined ? undefined : PARAM_COUNT[def.params];
    },
    roleProblem: (role: ServiceRole) => roleProblem(role, host.keyspaces),
    setRoles: (id, roles) => {
      const u = local(id);
      if (u === undefined) throw new Error(`no local user ${id}`);
      host.users.putUser(id, { name: u.name, password: undefined, roles, groups: u.groups });
    },
  };
}
