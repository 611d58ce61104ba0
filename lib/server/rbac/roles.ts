// Couchbase Server 7.6's roles: their names, what they are parametrised by (nothing, a bucket, a
// scope or a collection), and the permission patterns each grants, in ns_server's order (the first
// pattern that covers an object decides). Patterns are written as text, one per line:
//
//   <object> : <operations>
//
// where <object> is a dot-separated path from the cluster root ('' is the root itself),
// `bucket[$]` / `collection[$]` stand for the role's own bucket / bucket:scope:collection, `[*]`
// for any, and <operations> is `all`, `none` or a comma-separated list.
import { ANY, type CompiledRole, type Operations, type Pattern, type Vertex } from './permission';

/** What a role is parametrised by. */
export type RoleParams = 'none' | 'bucket' | 'scope' | 'collection';

export interface RoleDefinition {
  readonly name: string;
  readonly params: RoleParams;
  /** The name the web console shows. */
  readonly displayName: string;
  readonly description: string;
  readonly patterns: readonly string[];
}

/** How many parameters a role of each kind takes: bucket, then scope, then collection. */
export const PARAM_COUNT: Readonly<Record<RoleParams, number>> = { none: 0, bucket: 1, scope: 2, collection: 3 };

/** The JSON names of the parameters, in order (`/settings/rbac/roles`, `/settings/rbac/users`). */
export const PARAM_NAMES = ['bucket_name', 'scope_name', 'collection_name'] as const;

// Shorthands for the tails most roles share.
const SEES_CLUSTER = ['pools : read'];
const CONSOLE = ['ui : read', 'pools : read'];
const READS_OWN_SETTINGS = ['bucket[$].settings : read'];

const ROLES: readonly RoleDefinition[] = [
  // ---- administrative ----------------------------------------------------------------------------
  {
    name: 'admin',
    params: 'none',
    displayName: 'Full Admin',
    description: 'Can manage all cluster features (including security). This user can access the web console. This user can read and write all data.',
    patterns: [' : all'],
  },
  {
    name: 'ro_admin',
    params: 'none',
    displayName: 'Read-Only Admin',
    description: 'Can view all cluster statistics. This user can access the web console. This user can read some data.',
    patterns: ['bucket[*].password : none', 'bucket[*].data : none', 'bucket[*].fts : none', 'admin.security : read', 'admin : none', 'eventing : none', ' : read,list'],
  },
  ...(['local', 'external'] as const).map(securityAdmin),
  {
    name: 'user_admin_local',
    params: 'none',
    displayName: 'Local User Admin',
    description: 'Can manage local users and groups and assign them any role except the security admin roles. This user can access the web console. This user cannot read data.',
    patterns: ['admin.security.admin : none', 'admin.security.local : all', 'admin.security : read', ...CONSOLE],
  },
  {
    name: 'user_admin_external',
    params: 'none',
    displayName: 'External User Admin',
    description: 'Can manage external users and groups and assign them any role except the security admin roles. This user can access the web console. This user cannot read data.',
    patterns: ['admin.security.admin : none', 'admin.security.external : all', 'admin.security : read', ...CONSOLE],
  },
  {
    name: 'cluster_admin',
    params: 'none',
    displayName: 'Cluster Admin',
    description: 'Can manage all cluster features except security. This user can access the web console. This user cannot read data.',
    patterns: [
      'admin.internal : none',
      'admin.security : none',
      'admin.diag : read',
      'bucket[*].data : none',
      'bucket[*].views : none',
      'bucket[*].n1ql : none',
      'bucket[*].fts : none',
      'bucket[*].password : none',
      'n1ql.curl : none',
      'eventing : none',
      ' : all',
    ],
  },
  {
    name: 'eventing_admin',
    params: 'none',
    displayName: 'Eventing Full Admin',
    description: 'Can create and manage eventing functions, and the buckets, data, queries and views they work on. This user can access the web console.',
    patterns: ['admin.security : none', 'admin.internal : none', 'admin : none', 'n1ql.curl : none', 'bucket[*] : all', 'buckets : all', 'eventing : all', 'n1ql : all', 'xdcr : read', ' : read'],
  },
  {
    name: 'backup_admin',
    params: 'none',
    displayName: 'Backup Full Admin',
    description: 'Can perform backup related tasks and manage everything except security. This user can access the web console. This user can read and write all data.',
    patterns: ['admin.security : none', 'admin.internal : none', ' : all'],
  },
  {
    name: 'external_stats_reader',
    params: 'none',
    displayName: 'External Stats Reader',
    description: 'Can read the statistics exported for Prometheus (/metrics). This user cannot access the web console or read data.',
    patterns: ['admin.internal.stats : read'],
  },
  // ---- buckets -----------------------------------------------------------------------------------
  {
    name: 'bucket_admin',
    params: 'bucket',
    displayName: 'Bucket Admin',
    description: 'Can manage ALL bucket features for a given bucket (including start/stop XDCR). This user can access the web console. This user cannot read data.',
    patterns: [
      'bucket[$].xdcr : read,execute',
      'bucket[$].data : none',
      'bucket[$].views : none',
      'bucket[$].n1ql : none',
      'bucket[$].password : none',
      'bucket[$].fts : none',
      'bucket[$] : all',
      'bucket[*].settings : read',
      'bucket[*] : none',
      'xdcr : none',
      'admin : none',
      'eventing : none',
      ' : read',
    ],
  },
  {
    name: 'scope_admin',
    params: 'scope',
    displayName: 'Manage Scopes',
    description: 'Can create, drop and list the collections of a given scope, or the scopes and collections of a given bucket. This user cannot access the web console or read data.',
    patterns: ['collection[$].collections : all', ...READS_OWN_SETTINGS, ...SEES_CLUSTER],
  },
  {
    name: 'bucket_full_access',
    params: 'bucket',
    displayName: 'Application Access',
    description: 'Full access to bucket data. This user cannot access the web console and is intended only for application access. This user can read and write data.',
    patterns: [
      'bucket[$].data : all',
      'bucket[$].views : all',
      'bucket[$].n1ql.index : all',
      'bucket[$].n1ql : execute',
      'bucket[$] : read,flush',
      'bucket[$].settings : read',
      ...SEES_CLUSTER,
    ],
  },
  // ---- data --------------------------------------------------------------------------------------
  {
    name: 'data_reader',
    params: 'collection',
    displayName: 'Data Reader',
    description: 'Can read data from a given bucket, scope or collection. This user cannot access the web console and is intended only for application access. This user can read data, but cannot write it.',
    patterns: ['collection[$].data.docs : read', 'collection[$].data.meta : read', 'collection[$].data.xattr : read', 'collection[$].collections : read', ...READS_OWN_SETTINGS, ...SEES_CLUSTER],
  },
  {
    name: 'data_writer',
    params: 'collection',
    displayName: 'Data Writer',
    description: 'Can write data to a given bucket, scope or collection. This user cannot access the web console and is intended only for application access. This user can write data, but cannot read it.',
    patterns: ['collection[$].data.docs : insert,upsert,delete', 'collection[$].data.xattr : write', 'collection[$].collections : read', ...READS_OWN_SETTINGS, ...SEES_CLUSTER],
  },
  {
    name: 'data_dcp_reader',
    params: 'collection',
    displayName: 'Data DCP Reader',
    description: 'Can initiate DCP streams for a given bucket, scope or collection. This user cannot access the web console and is intended only for application access. This user can read data.',
    patterns: [
      'collection[$].data.docs : read',
      'collection[$].data.meta : read',
      'collection[$].data.dcpstream : read',
      'collection[$].data.sxattr : read',
      'collection[$].data.xattr : read',
      'collection[$].collections : read',
      'bucket[$].data.dcp : read',
      ...READS_OWN_SETTINGS,
      'admin.memcached.idle : write',
      ...SEES_CLUSTER,
    ],
  },
  {
    name: 'data_backup',
    params: 'bucket',
    displayName: 'Data Backup & Restore',
    description: 'Can backup and restore a given bucket’s data. This user cannot access the web console and is intended only for application access. This user can read data.',
    patterns: [
      'bucket[$].data : all',
      'bucket[$].views : read,write',
      'bucket[$].fts : read,write,manage',
      'bucket[$].stats : read',
      'bucket[$].settings : read',
      'bucket[$].n1ql.index : create,list,build',
      'bucket[$].analytics : manage,select',
      'analytics : select,backup',
      ...SEES_CLUSTER,
    ],
  },
  {
    name: 'data_monitoring',
    params: 'collection',
    displayName: 'Data Monitor',
    description: 'Can read statistics for a given bucket, scope or collection. This user cannot access the web console and is intended only for application access. This user cannot read data.',
    patterns: ['collection[$].stats : read', ...READS_OWN_SETTINGS, 'tasks : read', ...SEES_CLUSTER],
  },
  // ---- views and XDCR ----------------------------------------------------------------------------
  {
    name: 'views_admin',
    params: 'bucket',
    displayName: 'Views Admin',
    description: 'Can create and manage views of a given bucket. This user can access the web console. This user can read some data.',
    patterns: [
      'bucket[$].views : all',
      'bucket[$].data : read',
      'bucket[$].stats : read',
      'bucket[*].settings : read',
      'bucket[*] : none',
      'bucket[$].n1ql : execute',
      'xdcr : none',
      'admin : none',
      'eventing : none',
      ' : read',
    ],
  },
  {
    name: 'views_reader',
    params: 'bucket',
    displayName: 'Views Reader',
    description: 'Can read data from the views of a given bucket. This user cannot access the web console and is intended only for application access. This user can read some data.',
    patterns: ['bucket[$].views : read', 'bucket[$].data.docs : read', ...SEES_CLUSTER],
  },
  {
    name: 'replication_admin',
    params: 'none',
    displayName: 'XDCR Admin',
    description: 'Can administer XDCR features to create cluster references and replication streams out of this cluster. This user can access the web console. This user can read some data.',
    patterns: ['bucket[*].xdcr : all', 'bucket[*].data : read', 'bucket[*].settings : read', 'bucket[*].stats : read', 'bucket[*] : none', 'xdcr : all', 'admin : none', 'eventing : none', ' : read'],
  },
  {
    name: 'replication_target',
    params: 'bucket',
    displayName: 'XDCR Inbound',
    description: 'Can create XDCR streams into a given bucket. This user cannot access the web console or read any data.',
    patterns: ['bucket[$].settings : read', 'bucket[$].data.meta : read,write', 'bucket[$].stats : read', ...SEES_CLUSTER],
  },
  // ---- search ------------------------------------------------------------------------------------
  {
    name: 'fts_admin',
    params: 'bucket',
    displayName: 'Search Admin',
    description: 'Can administer all Full Text Search features. This user can access the web console. This user can read some data.',
    patterns: ['bucket[$].fts : read,write,manage', 'settings.fts : read,write,manage', ...CONSOLE, 'bucket[$].settings : read'],
  },
  {
    name: 'fts_searcher',
    params: 'collection',
    displayName: 'Search Reader',
    description: 'Can query Full Text Search indexes for a given bucket, scope or collection. This user can access the web console. This user can read some data.',
    patterns: ['collection[$].fts : read', 'settings.fts : read', ...CONSOLE, 'bucket[$].settings : read'],
  },
  // ---- query and index ---------------------------------------------------------------------------
  ...(['select', 'update', 'insert', 'delete'] as const).map(
    (verb): RoleDefinition => ({
      name: `query_${verb}`,
      params: 'collection',
      displayName: `Query ${verb[0].toUpperCase()}${verb.slice(1)}`,
      description: `Can execute a ${verb.toUpperCase()} statement on a given bucket, scope or collection. This user can access the web console.`,
      patterns: [
        `collection[$].n1ql.${verb} : execute`,
        `collection[$].data.docs : ${({ select: 'read', update: 'upsert', insert: 'insert', delete: 'delete' } as const)[verb]}`,
        'collection[$].collections : read',
        ...READS_OWN_SETTINGS,
        ...CONSOLE,
      ],
    }),
  ),
  {
    name: 'query_manage_index',
    params: 'collection',
    displayName: 'Query Manage Index',
    description: 'Can manage indexes for a given bucket, scope or collection. This user can access the web console, but cannot read data.',
    patterns: ['collection[$].n1ql.index : all', ...READS_OWN_SETTINGS, ...CONSOLE],
  },
  {
    name: 'query_system_catalog',
    params: 'none',
    displayName: 'Query System Catalog',
    description: 'Can look up system catalog information via N1QL. This user can access the web console, but cannot read user data.',
    patterns: ['bucket[*].n1ql.index : list', 'bucket[*].settings : read', 'n1ql.meta : read', ...CONSOLE],
  },
  {
    name: 'query_external_access',
    params: 'none',
    displayName: 'Query CURL Access',
    description: 'Can execute the CURL statement from within N1QL. This user can access the web console, but cannot read data (within Couchbase).',
    patterns: ['n1ql.curl : execute', 'bucket[*].settings : read', ...CONSOLE],
  },
  ...functionRoles(),
  {
    name: 'query_manage_sequences',
    params: 'scope',
    displayName: 'Manage Sequences',
    description: 'Can create, alter and drop sequences in a given scope. This user can access the web console.',
    patterns: ['collection[$].n1ql.sequences : manage,execute', ...READS_OWN_SETTINGS, ...CONSOLE],
  },
  {
    name: 'query_use_sequences',
    params: 'scope',
    displayName: 'Use Sequences',
    description: 'Can use the sequences of a given scope. This user can access the web console.',
    patterns: ['collection[$].n1ql.sequences : execute', ...READS_OWN_SETTINGS, ...CONSOLE],
  },
  // ---- analytics ---------------------------------------------------------------------------------
  {
    name: 'analytics_manager',
    params: 'bucket',
    displayName: 'Analytics Manager',
    description: 'Can manage Analytics local links. Can manage datasets on a given bucket. Can query datasets created on this bucket. This user can access the web console and read some data.',
    patterns: ['bucket[$].analytics : manage,select', ...CONSOLE],
  },
  {
    name: 'analytics_reader',
    params: 'none',
    displayName: 'Analytics Reader',
    description: 'Can query datasets. This is a global role as datasets may be created on different buckets. This user can access the web console and read some data.',
    patterns: ['analytics : select', 'bucket[*].analytics : select', ...CONSOLE],
  },
  {
    name: 'analytics_select',
    params: 'collection',
    displayName: 'Analytics Select',
    description: 'Can query datasets on a given bucket, scope or collection. This user can access the web console and read some data.',
    patterns: ['collection[$].analytics : select', ...CONSOLE],
  },
  {
    name: 'analytics_admin',
    params: 'none',
    displayName: 'Analytics Admin',
    description: 'Can manage dataverses. Can manage all Analytics links. Can manage all datasets. This user can access the web console but cannot read data.',
    patterns: ['analytics : manage', 'bucket[*].analytics : manage', ...CONSOLE],
  },
  // ---- eventing ----------------------------------------------------------------------------------
  {
    name: 'eventing_manage_functions',
    params: 'scope',
    displayName: 'Eventing Manage Scope Functions',
    description: 'Can manage the eventing functions of a given scope. This user can access the web console.',
    patterns: ['collection[$].eventing.function : manage', ...READS_OWN_SETTINGS, ...CONSOLE],
  },
  // ---- mobile ------------------------------------------------------------------------------------
  {
    name: 'mobile_sync_gateway',
    params: 'bucket',
    displayName: 'Sync Gateway',
    description: 'Full access to bucket data as required by Sync Gateway. This user cannot access the web console and is intended only for use by Sync Gateway. This user can read and write data, manage indexes and views, and read some cluster information.',
    patterns: [
      'bucket[$].data : all',
      'bucket[$].views : all',
      'bucket[$].n1ql.index : all',
      'bucket[$].n1ql : execute',
      'bucket[$] : read,flush',
      'bucket[$].settings : read',
      'admin.memcached.idle : write',
      'settings.autocompaction : read',
      ...SEES_CLUSTER,
    ],
  },
  ...(
    [
      ['sync_gateway_configurator', 'Sync Gateway Architect', 'Can manage Sync Gateway databases and users, and access Sync Gateway’s /metrics endpoint.'],
      ['sync_gateway_app', 'Sync Gateway Application', 'Can manage Sync Gateway users and roles, and read and write data through the Sync Gateway.'],
      ['sync_gateway_app_ro', 'Sync Gateway Application Read Only', 'Can read Sync Gateway users and roles, and read data through the Sync Gateway.'],
      ['sync_gateway_replicator', 'Sync Gateway Replicator', 'Can manage inter-Sync Gateway replications.'],
    ] as const
  ).map(
    ([name, displayName, description]): RoleDefinition => ({
      name,
      params: 'scope',
      displayName,
      description,
      patterns: [`collection[$].sgw.${name.slice('sync_gateway_'.length)} : all`, ...READS_OWN_SETTINGS, ...SEES_CLUSTER],
    }),
  ),
  {
    name: 'sync_gateway_dev_ops',
    params: 'none',
    displayName: 'Sync Gateway Dev Ops',
    description: 'Can manage Sync Gateway node-level configuration, and access Sync Gateway’s /metrics endpoint.',
    patterns: ['sgw.dev_ops : all', ...SEES_CLUSTER],
  },
];

/** Local / External User Security Admin: manage the users and groups of one domain, read everything but data. */
function securityAdmin(domain: 'local' | 'external'): RoleDefinition {
  const other = domain === 'local' ? 'external' : 'local';
  const Domain = domain === 'local' ? 'Local' : 'External';
  return {
    name: `security_admin_${domain}`,
    params: 'none',
    displayName: `${Domain} User Security Admin`,
    description: `Can view all cluster statistics and manage ${domain} users and groups, but cannot grant Full Admin or security admin roles. This user can access the web console. This user cannot read data.`,
    patterns: [
      'admin.security.admin : none',
      `admin.security.${other} : none`,
      `admin.security.${domain} : all`,
      'admin.security : read',
      'admin.logs : none',
      ...['data', 'views', 'n1ql', 'fts', 'password'].map((v) => `bucket[*].${v} : none`),
      'bucket[*] : read',
      ' : read,list',
    ],
  };
}

/** The eight roles of N1QL user-defined functions: manage or execute, global or per scope, SQL++ or external (JavaScript). */
function functionRoles(): RoleDefinition[] {
  const out: RoleDefinition[] = [];
  for (const external of [false, true]) {
    for (const scoped of [false, true]) {
      for (const manage of [true, false]) {
        const verb = manage ? 'manage' : 'execute';
        const kind = external ? 'external_functions' : 'functions';
        const object = `${scoped ? 'collection[$].' : ''}n1ql.udf${external ? '_external' : ''}`;
        out.push({
          name: `query_${verb}_${scoped ? '' : 'global_'}${kind}`,
          params: scoped ? 'scope' : 'none',
          displayName: `${manage ? 'Manage' : 'Execute'} ${scoped ? 'Scope' : 'Global'} ${external ? 'External ' : ''}Functions`,
          description: `Can ${manage ? 'create and drop' : 'execute'} ${scoped ? 'the' : 'global'} ${external ? 'external (JavaScript)' : 'SQL++'} user-defined functions${scoped ? ' of a given scope' : ''}. This user can access the web console.`,
          patterns: [`${object} : ${manage ? 'manage' : 'execute'}`, ...(scoped ? READS_OWN_SETTINGS : []), ...CONSOLE],
        });
      }
    }
  }
  return out;
}

// ---- compiled form --------------------------------------------------------------------------------

interface ParsedPattern {
  readonly path: readonly (string | { kind: 'bucket' | 'collection'; own: boolean })[];
  readonly ops: Operations;
}

const VERTEX_RE = /^(bucket|collection)\[(\$|\*)\]$/;

function parsePattern(role: string, text: string): ParsedPattern {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new Error(`role ${role}: pattern ${JSON.stringify(text)} has no operations`);
  const object = text.slice(0, colon).trim();
  const opsText = text.slice(colon + 1).trim();
  const ops: Operations = opsText === 'all' || opsText === 'none' ? opsText : opsText.split(',').map((s) => s.trim());
  const path = object === '' ? [] : object.split('.').map((v) => {
    const m = VERTEX_RE.exec(v);
    return m === null ? v : { kind: m[1] as 'bucket' | 'collection', own: m[2] === '$' };
  });
  return { path, ops };
}

const PARSED = new Map<string, ParsedPattern[]>(ROLES.map((r) => [r.name, r.patterns.map((p) => parsePattern(r.name, p))]));
const BY_NAME = new Map<string, RoleDefinition>(ROLES.map((r) => [r.name, r]));

/** Every role, in the order `/settings/rbac/roles` lists them. */
export function roleDefinitions(): readonly RoleDefinition[] {
  return ROLES;
}

export function roleDefinition(name: string): RoleDefinition | undefined {
  return BY_NAME.get(name);
}

/**
 * The patterns of role `name` with its parameters substituted (`params` as long as the role takes,
 * ANY where a role is given on a whole bucket or scope).
 */
export function compileRole(name: string, params: readonly string[]): CompiledRole {
  const parsed = PARSED.get(name);
  if (parsed === undefined) throw new Error(`no role ${name}`);
  const [b = ANY, s = ANY, c = ANY] = params;
  return parsed.map(
    (p): Pattern => ({
      ops: p.ops,
      object: p.path.map((v): Vertex => {
        if (typeof v === 'string') return v;
        if (v.kind === 'bucket') return { bucket: v.own ? b : ANY };
        return { collection: v.own ? [b, s, c] : [ANY, ANY, ANY] };
      }),
    }),
  );
}
