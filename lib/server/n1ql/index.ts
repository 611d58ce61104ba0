// The N1QL query service of the embedded cluster. The cluster calls createQueryService once per
// node; state that must look the same from every node (index catalogs, prepared statements) is
// keyed by the cluster's BucketStore objects, so all nodes of one cluster share it.
import type { BucketStore, HttpServiceFactory, ServiceContext } from '../service-types';
import { QueryService, type QueryServiceState } from './service';
import { catalogFor } from './indexes';
import { PreparedCache } from './prepared';

const shared = new WeakMap<object, QueryServiceState>();

function stateFor(ctx: ServiceContext): QueryServiceState {
  const stores: BucketStore[] = ctx.buckets();
  const key: object = stores[0] ?? ctx;
  let s = shared.get(key);
  if (!s) {
    s = { prepareds: new PreparedCache() };
    shared.set(key, s);
  }
  return s;
}

export const createQueryService: HttpServiceFactory = (ctx) => {
  // Index definitions kept from an earlier run are rebuilt now (over the loaded documents), not at the first query.
  for (const store of ctx.buckets()) catalogFor(store);
  return new QueryService(ctx, stateFor(ctx));
};

export { parse, parseExpression } from './parser';
export { QueryError, ErrorCode } from './errors';
export { catalogFor, setParsedDocCacheBytes } from './indexes';
export { collate } from './value';
export { runStatement } from './statement';
export { PreparedCache } from './prepared';
export { PAUSE } from './pause';
export type { Statement, Expr } from './ast';
