// One KV operation in flight. A KvOp is its own pending entry (on the connection), its own
// deadline node and its own cancel handle: the hot path allocates nothing else per operation.
import type { Packet } from '../../protocol/packet';
import type { KvConnection, PendingRequest } from '../connection';
import type { DeadlineNode, Expirable } from '../deadlines';
import type { CouchbaseError } from '../errors';
import type { ErrorMapEntry } from '../../protocol/errormap';
import type { KvHandle, KvHandler, KvOptions, OpSpec } from './spec';


/** For calls that have already failed (or finished) when kv() returns: nothing left to cancel. */
export const SETTLED: KvHandle = { cancel() {} };

/** What runs an operation: the packets, losses, deadlines and cancels of its ops come back to it. */
export interface KvOpOwner {
  onReply(op: KvOp, p: Packet, conn: KvConnection): void;
  onLost(op: KvOp, err: CouchbaseError): void;
  onExpire(op: KvOp): void;
  cancel(op: KvOp): void;
}

/** One KV operation in flight; it is its own pending entry and its own deadline node. */
export class KvOp implements PendingRequest, Expirable, KvHandle {
  // The fields and their order are the hidden class every operation shares: keep them so.
  deadline = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlLinked = false;
  opaque = 0;
  vbucket = 0;
  /** 0 = master, n = replica n. */
  copy = 0;
  attempts = 0;
  lastStatus = -1;
  done = false;
  conn: KvConnection | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  /** When the server first answered "not now" (ETMPFAIL...): retries stop at the map's max-duration. */
  retryStart = 0;
  /** The error map's entry for the status being retried (its class and name when time runs out). */
  retryEntry: ErrorMapEntry | undefined = undefined;
  /** performance.now() when launched, while the threshold tracer runs (0 otherwise). */
  started = 0;
  /** The id of the collection the key is in (0: the default collection). */
  cid = 0;
  /** The frame's key carries `cid` as a LEB128 prefix (a connection that negotiated COLLECTIONS). */
  prefixed = false;
  /** Receives the outcome instead of `cb` (composite operations). */
  parent: ((op: KvOp, err: CouchbaseError | null, p: Packet | null) => void) | null = null;
  constructor(
    readonly kv: KvOpOwner,
    readonly spec: OpSpec,
    readonly key: string,
    readonly opts: KvOptions,
    /** Replaced (value inflated) when it must go uncompressed to a node without SNAPPY. */
    public frame: Buffer,
    readonly cb: KvHandler,
  ) {}
  onPacket(p: Packet, conn: KvConnection): boolean {
    this.kv.onReply(this, p, conn);
    return true;
  }
  onLost(err: CouchbaseError): void {
    this.kv.onLost(this, err);
  }
  onExpire(): void {
    this.kv.onExpire(this);
  }
  /** KvHandle: removes the operation (from the pipeline, its deadline and retry timer) and fails it with CancelledError. */
  cancel(): void {
    this.kv.cancel(this);
  }
}
