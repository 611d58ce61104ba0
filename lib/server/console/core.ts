// What the console's management routes need from the cluster (the Cluster implements it). Types
// only, so the routes can be built and tested against any holder of buckets and nodes.
import type { Identity } from '../rbac/users';
import type { DocumentStore } from '../store';
import type { Topology } from '../topology';
import type { NodePorts } from '../cluster-config';
import type { DurableLog } from '../kv/node';
import type { BucketHost } from '../buckets-admin';
import type { StatsArchive } from '../stats/sampler';
import type { UiSessions } from './sessions';

export interface ConsoleCore {
  readonly host: string;
  readonly version: string;
  readonly topology: Topology;
  readonly log: DurableLog | undefined;
  readonly sessions: UiSessions;
  readonly statsArchive: StatsArchive;
  readonly bucketAdmin: BucketHost;
  /** Where the bundled console (index.html, app.js, ...) is; undefined when it was not built. */
  readonly consoleDir: string | undefined;
  ports(node: number): NodePorts;
  /** Every node the cluster runs, members or not, ascending. */
  nodeIds(): number[];
  store(name: string): DocumentStore | undefined;
  /** Empties a bucket on every node (a memcached bucket keeps a store per node). */
  flushBucket(name: string): void;
  /** Checks a user name and password (the /uilogin form). */
  checkPassword(username: string, password: string): Identity | null;
  /** The user named `username` with its current roles; undefined once it is gone. */
  identity(username: string): Identity | undefined;
  /** A one-time credential that authenticates one forwarded request as `username` (rbac/delegation.ts). */
  delegate(username: string): string;
  failover(node: number): void;
  addBack(node: number): void;
  rebalance(): void;
  /** Starts one more node (its KV, management and service listeners); it joins at the next rebalance. */
  addNode(): Promise<number>;
}

/** ns_server's node name (`otpNode`); nodes of one host are told apart as cluster_run does. */
export function otpNode(core: Pick<ConsoleCore, 'host'>, id: number): string {
  return `n_${id}@${core.host}`;
}

/** The node id an otpNode names, or undefined. */
export function nodeOfOtp(core: Pick<ConsoleCore, 'host' | 'nodeIds'>, name: string): number | undefined {
  return core.nodeIds().find((id) => otpNode(core, id) === name);
}
