// The HTTP services each node runs beside KV and management, one row each. The cluster starts
// a listener per row and node (behind the row's HTTP guard), and the cluster map and the
// management API advertise whichever run; a new service is a module under lib/server written
// against service-types.ts, plus one row here.
import type { HttpServiceFactory } from './service-types';
import type { HttpServiceKind } from './http-guard';
import { createQueryService } from './n1ql';
import { createViewsService } from './views';

export interface ServiceDef {
  /** The port's name: its key in NodePorts, in the cluster map's nodesExt and in `services` options. */
  readonly name: string;
  /** Its name in the management API's list of a node's services. */
  readonly mgmtName: string;
  /** The guard in front of its listener, which answers failures in the service's own shape. */
  readonly guard: HttpServiceKind;
  readonly factory: HttpServiceFactory;
  /** The older ClusterOptions key that replaces or (null) turns off the factory. */
  readonly option?: 'queryService' | 'viewsService';
  /** Its requests are counted for the `@query` statistics (GET /pools/default/buckets/@query/stats). */
  readonly countedAsQuery?: boolean;
  /** Advertised in the cluster map's clusterCapabilities, under `name`, while any node runs it. */
  readonly clusterCapabilities?: readonly string[];
}

export const DEFAULT_SERVICES = [
  {
    name: 'n1ql',
    mgmtName: 'n1ql',
    guard: 'query',
    factory: createQueryService,
    option: 'queryService',
    countedAsQuery: true,
    // enhancedPreparedStatements: PREPARE with auto_execute answers the statement's rows and its
    // name in `prepared` (the SDKs then send only the name).
    clusterCapabilities: ['costBasedOptimizer', 'indexAdvisor', 'javaScriptFunctions', 'inlineFunctions', 'enhancedPreparedStatements'],
  },
  { name: 'capi', mgmtName: 'index', guard: 'views', factory: createViewsService, option: 'viewsService' },
] as const satisfies readonly ServiceDef[];

export type ServiceName = (typeof DEFAULT_SERVICES)[number]['name'];

/** Per service: a factory that replaces the default, or null to run without it. */
export type ServiceChoice = { readonly [S in ServiceName]?: HttpServiceFactory | null };

/** The cluster options that choose services. */
export interface ServiceOptions {
  services?: ServiceChoice;
  queryService?: HttpServiceFactory | null;
  viewsService?: HttpServiceFactory | null;
}

/**
 * The rows to start: each default service with the factory the options choose (`services.<name>`
 * first, then the older `queryService` / `viewsService`), without those turned off with null.
 */
export function chooseServices(options: ServiceOptions, defaults: readonly ServiceDef[] = DEFAULT_SERVICES): ServiceDef[] {
  const out: ServiceDef[] = [];
  for (const def of defaults) {
    const byName = options.services?.[def.name as ServiceName];
    const byOption = def.option !== undefined ? options[def.option] : undefined;
    const chosen = byName !== undefined ? byName : byOption;
    if (chosen === null) continue;
    out.push(chosen === undefined ? def : { ...def, factory: chosen });
  }
  return out;
}
