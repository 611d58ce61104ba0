// How an index is laid out over the index service's nodes: CREATE INDEX's PARTITION BY HASH,
// num_partition and num_replica, and ALTER INDEX's move / replica_count / drop_replica (SQL++
// reference: CREATE INDEX, ALTER INDEX). The embedded cluster's indexes are one catalog every
// node shares, so a move or a replica changes no data; what is checked and recorded is what the
// index service would check and record, with its messages.
import type * as A from './ast';
import { QueryError, ErrorCode } from './errors';
import type { ExecContext } from './expr';
import { catalogFor, type IndexLayout } from './indexes';
import { resolveBucket, type Env } from './keyspace';
import { EMPTY_ROW, rootScope } from './select';
import { compile } from './expr';
import { isObject, type ObjectValue } from './value';

/** The index service's default number of partitions of a partitioned index. */
const DEFAULT_PARTITIONS = 8;

function gsiError(op: 'CreateIndex' | 'AlterIndex', cause: string): QueryError {
  return new QueryError(ErrorCode.EXECUTION, `GSI ${op}() - cause: ${cause}`);
}

/** The nodes running the index service (`host:port`); one (this one) outside a Cluster. */
function indexNodes(env: Env): string[] {
  const nodes = env.nodes?.();
  if (nodes === undefined) return ['127.0.0.1:8091'];
  return nodes.filter((n) => n.services.includes('index')).map((n) => n.name);
}

function nonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** The layout CREATE INDEX's PARTITION BY and WITH {num_partition, num_replica} ask for. */
export function createLayout(stmt: A.CreateIndexStatement, w: ObjectValue | undefined, env: Env): IndexLayout {
  const layout: IndexLayout = {};
  if (stmt.partition) {
    layout.partition = stmt.partition;
    const n = w?.num_partition;
    if (n !== undefined && (!nonNegativeInt(n) || n === 0)) throw gsiError('CreateIndex', 'Fails to create index.  Invalid num_partition value. num_partition must be a positive integer.');
    layout.numPartition = (n as number | undefined) ?? DEFAULT_PARTITIONS;
  }
  const replicas = w?.num_replica;
  if (replicas !== undefined) {
    if (!nonNegativeInt(replicas)) throw gsiError('CreateIndex', 'Fails to create index.  Invalid num_replica value. num_replica must be a non-negative integer.');
    checkReplicaCount('CreateIndex', 'create', replicas, env);
    if (replicas > 0) layout.numReplica = replicas;
  }
  return layout;
}

function checkReplicaCount(op: 'CreateIndex' | 'AlterIndex', verb: string, replicas: number, env: Env): void {
  if (replicas >= indexNodes(env).length) {
    throw gsiError(op, `Fails to ${verb} index.  There are not enough indexer nodes to create index with replica count of ${replicas}. Some indexer nodes may be marked as excluded.`);
  }
}

/** ALTER INDEX: checks the action as the index service does and records the new replica count. */
export function runAlterIndex(stmt: A.AlterIndexStatement, env: Env, ctx: ExecContext): void {
  if (stmt.target.namespace === 'system') throw new QueryError(ErrorCode.SEMANTIC, 'Indexes cannot be managed on system keyspaces.');
  const store = resolveBucket(env, stmt.target, 'INDEX');
  const catalog = catalogFor(store);
  const w = compile(stmt.with, rootScope(env))(EMPTY_ROW, ctx);
  if (!isObject(w)) throw new QueryError(ErrorCode.EXECUTION, 'WITH clause of ALTER INDEX must be an object.');
  const ix = catalog.get(stmt.name);
  if (!ix) throw new QueryError(ErrorCode.INDEX_NOT_FOUND, `Index Not Found - cause: GSI index ${stmt.name} not found.`);
  const nodes = indexNodes(env);
  switch (w.action) {
    case 'move': {
      if (!Array.isArray(w.nodes) || w.nodes.length === 0) throw gsiError('AlterIndex', 'Missing Node Information For Move Index');
      for (const n of w.nodes) {
        if (typeof n !== 'string' || !nodes.includes(n)) throw gsiError('AlterIndex', `Unable to find Index service for destination ${String(n)} or destination is not part of the cluster`);
      }
      const current = ix.layout.nodes ?? nodes.slice(0, 1 + (ix.layout.numReplica ?? 0));
      const wanted = [...new Set(w.nodes as string[])];
      if (wanted.length === current.length && wanted.every((n) => current.includes(n))) throw gsiError('AlterIndex', 'No Index Movement Required for Specified Destination List');
      catalog.relayout(ix, { nodes: wanted });
      return;
    }
    case 'replica_count': {
      const n = w.num_replica;
      if (!nonNegativeInt(n)) throw gsiError('AlterIndex', 'Fail to alter index: num_replica must be a non-negative integer');
      if (n === (ix.layout.numReplica ?? 0)) throw gsiError('AlterIndex', 'Fail to alter index: The index already has the requested number of replicas');
      checkReplicaCount('AlterIndex', 'alter', n, env);
      catalog.relayout(ix, { numReplica: n });
      return;
    }
    case 'drop_replica': {
      const id = w.replicaId;
      if (!nonNegativeInt(id) || id < 1 || id > (ix.layout.numReplica ?? 0)) throw gsiError('AlterIndex', 'Fail to alter index: Fail to drop replica');
      return;
    }
    default:
      throw gsiError('AlterIndex', 'Unsupported action value');
  }
}
