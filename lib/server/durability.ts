// Durable writes (kv_engine's SyncWrites, Couchbase's "durability levels") across the replicas
// of the embedded cluster. Every node shares one copy of the data, so what is modelled here is the
// protocol around it, as the active's durability monitor runs it: a write is prepared, each node
// of its vBucket's chain acknowledges it (the active at once, a replica once it has it), and it
// commits when a majority of the chain has; the persistence levels then also wait for the
// write-ahead log (the front end's log wait does that). A replica can be held back
// (`pauseReplication`), as a slow or partitioned node is; a write that does not reach a majority
// within its timeout is aborted and its client told SYNC_WRITE_AMBIGUOUS, and so is a write whose
// active node fails over (the replica promoted in its place commits it if it had received it).
import type { DocumentStore, SyncWrite } from './store';
import type { Topology } from './topology';
import { Status } from '../protocol/status';

/** kv_engine's default when the frame gives no timeout. */
export const DEFAULT_SYNC_WRITE_TIMEOUT_MS = 30_000;

/** The levels, as the durability frame encodes them. */
export const DurabilityLevel = { NONE: 0, MAJORITY: 1, MAJORITY_AND_PERSIST_ACTIVE: 2, PERSIST_TO_MAJORITY: 3 } as const;

/** A bucket setting's name for a level (ns_server's `durabilityMinLevel`). */
export function durabilityLevelOf(name: string): number {
  switch (name) {
    case 'majority':
      return DurabilityLevel.MAJORITY;
    case 'majorityAndPersistActive':
      return DurabilityLevel.MAJORITY_AND_PERSIST_ACTIVE;
    case 'persistToMajority':
      return DurabilityLevel.PERSIST_TO_MAJORITY;
    default:
      return DurabilityLevel.NONE;
  }
}

/** One sync write being tracked: the nodes that have it, and who waits for the outcome. */
class Tracked {
  readonly acked = new Set<number>();
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly store: DocumentStore,
    readonly sw: SyncWrite,
    readonly vbucket: number,
    /** The node that took the write (the vBucket's active then). */
    readonly active: number,
    readonly done: (status: number) => void,
  ) {}
}

export class DurabilityMonitor {
  private readonly pending = new Set<Tracked>();
  private readonly paused = new Set<number>();

  constructor(private readonly topology: Topology) {}

  /**
   * Whether a write at `level` can be taken for `vbucket` of `store`: 0, or the status to refuse it
   * with (DURABILITY_INVALID_LEVEL, DURABILITY_IMPOSSIBLE when the chain cannot make a majority).
   */
  check(store: DocumentStore, vbucket: number, level: number): number {
    if (level < DurabilityLevel.MAJORITY || level > DurabilityLevel.PERSIST_TO_MAJORITY) return Status.DURABILITY_INVALID_LEVEL;
    if (store.ephemeral && level !== DurabilityLevel.MAJORITY) return Status.DURABILITY_INVALID_LEVEL;
    const chain = this.chainOf(store, vbucket);
    return chain.filter((n) => n !== -1).length < majority(chain.length) ? Status.DURABILITY_IMPOSSIBLE : 0;
  }

  /**
   * Tracks a prepared write until a majority of its chain has it (then commits it in the store
   * and calls `done(SUCCESS)`), its timeout passes or its active fails over (SYNC_WRITE_AMBIGUOUS).
   */
  track(store: DocumentStore, sw: SyncWrite, vbucket: number, active: number, done: (status: number) => void): void {
    const t = new Tracked(store, sw, vbucket, active, done);
    this.pending.add(t);
    t.acked.add(active);
    t.timer = setTimeout(() => this.finish(t, false, Status.SYNC_WRITE_AMBIGUOUS), sw.timeoutMs);
    t.timer.unref?.();
    // Replicas receive the prepare over DCP: a moment later, not in the same turn.
    setImmediate(() => this.replicate(t));
  }

  /** Holds back the replication to `node` (a slow or unreachable replica): it acknowledges nothing. */
  pauseReplication(node: number): void {
    this.paused.add(node);
  }

  /** Lets `node` catch up: it acknowledges every write it holds back. */
  resumeReplication(node: number): void {
    if (!this.paused.delete(node)) return;
    for (const t of [...this.pending]) this.replicate(t);
  }

  /** The map changed (failover, rebalance): writes whose active left are ambiguous, the others count again. */
  topologyChanged(): void {
    for (const t of [...this.pending]) {
      if (this.topology.active(t.vbucket) !== t.active) {
        // The promoted replica commits the write if it had received it, else it is lost.
        const survived = [...t.acked].some((n) => n !== t.active && this.topology.isMember(n));
        this.finish(t, survived, Status.SYNC_WRITE_AMBIGUOUS);
      } else this.evaluate(t);
    }
  }

  /** Sync writes in flight (for tests and stats). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Stops every timer (the cluster is stopping): writes in flight are aborted as ambiguous. */
  close(): void {
    for (const t of [...this.pending]) this.finish(t, false, Status.SYNC_WRITE_AMBIGUOUS);
  }

  private chainOf(store: DocumentStore, vbucket: number): readonly number[] {
    return this.topology.chain(vbucket).slice(0, 1 + store.replicas);
  }

  private replicate(t: Tracked): void {
    if (!this.pending.has(t)) return;
    for (const n of this.chainOf(t.store, t.vbucket)) if (n !== -1 && !this.paused.has(n)) t.acked.add(n);
    this.evaluate(t);
  }

  private evaluate(t: Tracked): void {
    const chain = this.chainOf(t.store, t.vbucket);
    let acks = 0;
    for (const n of chain) if (n !== -1 && t.acked.has(n)) acks++;
    if (acks >= majority(chain.length)) this.finish(t, true, Status.SUCCESS);
  }

  private finish(t: Tracked, commit: boolean, status: number): void {
    if (!this.pending.delete(t)) return;
    clearTimeout(t.timer);
    if (commit) {
      try {
        t.store.commitPrepared(t.sw);
      } catch (err) {
        // The write-ahead log refused the commit (disk full): nothing changed, the writer hears why.
        t.store.abortPrepared(t.sw);
        status = (err as { status?: number }).status ?? Status.ETMPFAIL;
      }
    } else t.store.abortPrepared(t.sw);
    t.done(status);
  }
}

const majority = (chainLength: number): number => Math.floor(chainLength / 2) + 1;
