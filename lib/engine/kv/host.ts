// What the KV dispatcher needs from the engine (DispatchHost), and what the composite operations
// need from the dispatcher (KvHost). Types only: the dispatcher and the composite modules import
// this, never the engine.
import type { Packet } from '../../protocol/packet';
import type { ConnOptions } from '../connstr';
import type { DeadlineQueue, Expirable } from '../deadlines';
import type { CouchbaseError } from '../errors';
import type { NodeSet } from '../nodes';
import type { Topology } from '../topology';
import type { KvOp, KvOpOwner } from './op';
import type { BuildContext, KvCallback, KvOptions } from './spec';

/** The engine, as the KV dispatcher sees it. */
export interface DispatchHost {
  readonly state: string;
  readonly topology: Topology | null;
  readonly options: ConnOptions;
  /** Why the engine failed to connect (operations then fail with it). */
  readonly connectError: CouchbaseError | null;
  readonly nodes: NodeSet;
  readonly deadlines: DeadlineQueue<Expirable>;
  connect(cb?: (err: CouchbaseError | null) => void): void;
  /** Asks a node for the cluster map (throttled; `urgent` after one throttle window). */
  requestConfig(urgent: boolean): void;
  /** Adopts a map a node sent (NOT_MY_VBUCKET), if newer; returns whether it was adopted. */
  applyConfigText(text: string, host: string): boolean;
}

/** The KV pipeline, as a composite operation (replica read, observe, endure, stats) sees it. */
export interface KvHost extends KvOpOwner {
  readonly state: string;
  readonly topology: Topology | null;
  readonly options: ConnOptions;
  readonly nodes: NodeSet;
  readonly deadlines: DeadlineQueue<Expirable>;
  /** operation_timeout in ms: what a composite waits for when the call gave no timeout. */
  readonly opTimeoutMs: number;
  /** Shared and reused: set `vbucket` before each build. */
  readonly buildCtx: BuildContext;
  /** Times and sends an operation built by the caller. */
  launch(op: KvOp, timeout: number | undefined): void;
  /** Ends an operation (once): untimes, unroutes, and reports to its parent or receiver. */
  finish(op: KvOp, err: CouchbaseError | null, p: Packet | null): void;
  /** Runs another operation of the table by name (`options.value` carries a document), as a caller would. */
  runOp(name: string, key: string, options: KvOptions, cb: KvCallback): void;
  /**
   * `key` as a frame carries it for an operation with `opts` (its collection's id resolved by
   * then): prefixed by the id on connections with COLLECTIONS. Set `cid` and `prefixed` on a KvOp
   * built with it.
   */
  collectionKey(key: string, opts: KvOptions): { bytes: Buffer; cid: number; prefixed: boolean };
}
