// Which node owns which vBucket. Node ids are fixed for the life of the cluster (0..n-1); the
// config a client sees lists only the current members, so ids are translated to positions there.

export class Topology {
  readonly numVBuckets: number;
  readonly replicas: number;
  /** Node ids currently in the cluster, ascending. */
  members: number[];
  /** Per vBucket: [active, replica1, ...] as node ids, -1 where there is none. */
  private chains: Int16Array[];
  /** Bumped on every change; the config `rev`. */
  rev = 1;
  readonly revEpoch = 1;

  constructor(nodeCount: number, replicas: number, numVBuckets: number) {
    if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new RangeError(`nodes must be >= 1, got ${nodeCount}`);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 3) throw new RangeError(`replicas must be 0..3, got ${replicas}`);
    this.numVBuckets = numVBuckets;
    this.replicas = replicas;
    this.members = Array.from({ length: nodeCount }, (_, i) => i);
    this.chains = [];
    this.spread();
  }

  /** Node id of the active copy of `vb`, or -1. */
  active(vb: number): number {
    const chain = this.chains[vb];
    return chain === undefined ? -1 : chain[0];
  }

  /** True when `node` holds replica number 1..replicas of `vb` (any replica when index is 0). */
  isReplica(vb: number, node: number, index = 0): boolean {
    const chain = this.chains[vb];
    if (chain === undefined) return false;
    if (index > 0) return chain[index] === node;
    for (let i = 1; i < chain.length; i++) if (chain[i] === node) return true;
    return false;
  }

  chain(vb: number): readonly number[] {
    return Array.from(this.chains[vb]);
  }

  isMember(node: number): boolean {
    return this.members.includes(node);
  }

  /**
   * Removes `node` from the cluster: its active vBuckets go to their first surviving replica (or,
   * with none, to another member: the data is shared, so nothing is lost), its replicas are dropped.
   */
  failover(node: number): void {
    if (!this.isMember(node)) throw new Error(`node ${node} is not in the cluster`);
    if (this.members.length === 1) throw new Error('cannot fail over the last node');
    this.members = this.members.filter((m) => m !== node);
    for (let vb = 0; vb < this.numVBuckets; vb++) {
      const chain = this.chains[vb];
      if (chain[0] === node) {
        let promoted = -1;
        for (let i = 1; i < chain.length; i++) {
          if (chain[i] !== -1 && chain[i] !== node) {
            promoted = chain[i];
            chain[i] = -1;
            break;
          }
        }
        chain[0] = promoted !== -1 ? promoted : this.members[vb % this.members.length];
      }
      for (let i = 1; i < chain.length; i++) if (chain[i] === node) chain[i] = -1;
    }
    this.rev++;
  }

  /** Marks a failed-over node for recovery; the next rebalance() gives it vBuckets again. */
  addBack(node: number): void {
    if (this.isMember(node)) return;
    this.members = [...this.members, node].sort((a, b) => a - b);
    this.rev++;
  }

  /** Spreads active and replica vBuckets evenly over the current members. */
  rebalance(): void {
    this.spread();
    this.rev++;
  }

  private spread(): void {
    const m = this.members.length;
    const chains: Int16Array[] = [];
    for (let vb = 0; vb < this.numVBuckets; vb++) {
      const chain = new Int16Array(1 + this.replicas).fill(-1);
      for (let i = 0; i <= this.replicas && i < m; i++) chain[i] = this.members[(vb + i) % m];
      chains.push(chain);
    }
    this.chains = chains;
  }

  /** The vBucketMap rows as config positions (index into the member list). */
  vbucketMap(): number[][] {
    const pos = new Map<number, number>();
    this.members.forEach((id, i) => pos.set(id, i));
    return this.chains.map((chain) => Array.from(chain, (id) => (id === -1 ? -1 : pos.get(id) ?? -1)));
  }
}
