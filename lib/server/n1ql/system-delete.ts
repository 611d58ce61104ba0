// DELETE on the request catalogs (SQL++ reference: Monitor Queries): deleting a row of
// system:active_requests cancels that request; deleting rows of system:completed_requests
// forgets them; deleting a row of system:tasks_cache cancels a scheduled task or forgets a
// finished one. The other system catalogs cannot be changed.
import type * as A from './ast';
import { QueryError, ErrorCode } from './errors';
import { childScope, compile, type ExecContext } from './expr';
import type { Env } from './keyspace';
import { EMPTY_ROW, rootScope, rowOf } from './select';
import { SYSTEM_CATALOGS } from './system-keyspaces';
import { sessionsFor } from './advisor-sessions';
import { truthy, type ObjectValue } from './value';

export const DELETABLE_CATALOGS = new Set(['active_requests', 'completed_requests', 'tasks_cache']);

/** Runs the DELETE; the number of requests cancelled or forgotten. */
export function deleteFromRequests(stmt: A.DeleteStatement, env: Env, ctx: ExecContext): number {
  const name = stmt.target.ks.bucket;
  const log = env.requests;
  if (log === undefined) return 0;
  const alias = stmt.target.alias;
  const scope = childScope(rootScope(env), [alias]);
  scope.implicit = alias;
  const where = stmt.where ? compile(stmt.where, scope) : undefined;
  const keysV = stmt.useKeys ? compile(stmt.useKeys, rootScope(env))(EMPTY_ROW, ctx) : undefined;
  const keys = keysV === undefined ? undefined : new Set((Array.isArray(keysV) ? keysV : [keysV]).filter((k): k is string => typeof k === 'string'));
  const limitV = stmt.limit ? compile(stmt.limit, rootScope(env))(EMPTY_ROW, ctx) : undefined;
  if (limitV !== undefined && typeof limitV !== 'number') throw new QueryError(ErrorCode.EXECUTION, 'Invalid LIMIT value');
  let done = 0;
  for (const row of SYSTEM_CATALOGS[name](env) as ObjectValue[]) {
    if (limitV !== undefined && done >= limitV) break;
    const id = (name === 'tasks_cache' ? row.name : row.requestId) as string;
    if (keys && !keys.has(id)) continue;
    if (where && !truthy(where(rowOf(alias, row), ctx))) continue;
    // A scheduled task (an advisor session) is cancelled and kept; a finished one is forgotten.
    if (name === 'tasks_cache' ? sessionsFor(log).stop(id) : name === 'active_requests' ? log.cancel(id) : log.forget(id)) done++;
  }
  return done;
}
