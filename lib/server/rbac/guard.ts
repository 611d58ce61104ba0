// The management API's permission check: a route names the permission it needs, and a user
// without it gets ns_server's 403 (which lists the permission, so the caller knows what to ask for).
import type { ServerResponse } from 'node:http';
import { formatPermission, type Permission } from './permission';

export interface PermissionHolder {
  allows(permission: Permission): boolean;
}

/** ns_server's 403 body (menelaus_web_rbac:forbidden_response). */
export function forbiddenBody(missing: readonly Permission[]): { message: string; permissions: string[] } {
  return { message: 'Forbidden. User needs the following permissions', permissions: [...new Set(missing.map(formatPermission))].sort() };
}

/** True when `user` holds `permission`; otherwise answers 403 and returns false. */
export function requirePermission(user: PermissionHolder, res: ServerResponse, permission: Permission): boolean {
  if (user.allows(permission)) return true;
  const text = JSON.stringify(forbiddenBody([permission]));
  res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache' });
  res.end(text);
  return false;
}
