// When a KV operation is sent again, and after how long. One rule per reason; the dispatcher's
// four retry sites each name theirs.
import { secondsToMs, type ConnOptions } from '../connstr';
import type { KvOp } from './op';

export const enum RetryReason {
  /** The map gives the vBucket no master (mid-failover): wait for a newer map. */
  NoMaster,
  /** The map names a node the engine has no state for yet. */
  NodeUnknown,
  /** The node said NOT_MY_VBUCKET and the map did not move (or retry_nmv_imm is off). */
  NotMyVbucket,
  /** The connection closed under a retry-safe operation. */
  SocketClosed,
}

const NO_MASTER_MS = 50;
const NODE_UNKNOWN_MS = 25;
const SOCKET_CLOSED_MS = 10;
/** NOT_MY_VBUCKET backs off retry_backoff x attempts, up to this many attempts' worth... */
const NMV_MAX_STEPS = 16;
/** ...and never longer than this, so a confused node is not hammered nor waited on forever. */
const NMV_MAX_MS = 500;

/** Milliseconds until `op` is sent again for `reason`. */
export function retryDelay(op: KvOp, reason: RetryReason, options: ConnOptions): number {
  switch (reason) {
    case RetryReason.NoMaster:
      return NO_MASTER_MS;
    case RetryReason.NodeUnknown:
      return NODE_UNKNOWN_MS;
    case RetryReason.NotMyVbucket:
      return Math.min(NMV_MAX_MS, secondsToMs(options.retry_backoff) * Math.min(NMV_MAX_STEPS, op.attempts));
    case RetryReason.SocketClosed:
      return SOCKET_CLOSED_MS;
  }
}
