// The N1QL query service of the embedded cluster. The cluster calls createQueryService once per
// node; state that must look the same from every node (index catalogs, prepared statements) is
// keyed by the cluster's BucketStore objects, so all nodes of one cluster share it.
import type { BucketStore, HttpServiceFactory, ServiceContext } from '../service-types';
import { QueryService, type QueryServiceState } from './service';
import { catalogFor } from './indexes';
import { PreparedCache } from './prepared';
import { RequestLog } from './request-log';
import { TransactionTable } from './transactions';
import { DEFAULT_JAVASCRIPT_LIMITS, JavaScriptRunner, type JavaScriptLimits } from './udf-javascript';

const shared = new WeakMap<object, QueryServiceState>();

function stateFor(ctx: ServiceContext, javascript: JavaScriptLimits): QueryServiceState {
  const stores: BucketStore[] = ctx.buckets();
  const key: object = stores[0] ?? ctx;
  let s = shared.get(key);
  if (!s) {
    s = { prepareds: new PreparedCache(), javascript: new JavaScriptRunner(javascript), requests: new RequestLog(() => ctx.clock.now()), transactions: new TransactionTable() };
    shared.set(key, s);
  }
  return s;
}

export interface QueryServiceOptions {
  /** Milliseconds one call of a JavaScript function may run (default 10,000). */
  javascriptTimeoutMs?: number;
  /** Heap of each thread JavaScript functions run on, in MB (default 64). */
  javascriptMemoryLimitMb?: number;
  /** Threads JavaScript functions run on at the same time (default 2). */
  javascriptThreads?: number;
}

/** The query service with its limits set (`Cluster.start({ services: { n1ql: createQueryServiceWith({...}) } })`). */
export function createQueryServiceWith(options: QueryServiceOptions): HttpServiceFactory {
  for (const name of ['javascriptTimeoutMs', 'javascriptMemoryLimitMb', 'javascriptThreads'] as const) {
    const v = options[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new TypeError(`query service option ${name} must be a positive number, got ${String(v)}`);
    }
  }
  const limits: JavaScriptLimits = {
    timeoutMs: options.javascriptTimeoutMs ?? DEFAULT_JAVASCRIPT_LIMITS.timeoutMs,
    memoryLimitMb: options.javascriptMemoryLimitMb ?? DEFAULT_JAVASCRIPT_LIMITS.memoryLimitMb,
    threads: Math.floor(options.javascriptThreads ?? DEFAULT_JAVASCRIPT_LIMITS.threads),
  };
  return (ctx) => {
    // Index definitions kept from an earlier run are rebuilt now (over the loaded documents), not at the first query.
    for (const store of ctx.buckets()) catalogFor(store);
    return new QueryService(ctx, stateFor(ctx, limits));
  };
}

export const createQueryService: HttpServiceFactory = createQueryServiceWith({});

export { parse, parseExpression } from './parser';
export { QueryError, ErrorCode } from './errors';
export { catalogFor, setParsedDocCacheBytes } from './indexes';
export { collate } from './value';
export { runStatement } from './statement';
export { PreparedCache } from './prepared';
export { PAUSE } from './pause';
export type { Statement, Expr } from './ast';
