// One timer for many deadlines. Operations mostly share one timeout, so appending keeps the
// list sorted in O(1); a shorter per-op timeout walks back from the tail. A single setTimeout is
// armed for the head; completing an operation unlinks it without touching the timer (the timer
// may then fire early, find nothing due, and re-arm). That holds when the queue empties too: the
// timer stays armed, unref'd so that it keeps no process alive, and the next add refs it again.
// Sequential operations (the queue empty between them) so cost no setTimeout/clearTimeout pair
// each, which measured 0.75-0.86 us per pair here against 0.03 us for an unref/ref pair.

export interface DeadlineNode {
  deadline: number;
  dlPrev: DeadlineNode | null;
  dlNext: DeadlineNode | null;
  /** True while linked into a queue. */
  dlLinked: boolean;
}

export class DeadlineQueue<T extends DeadlineNode> {
  private head: T | null = null;
  private tail: T | null = null;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  /** The timer is armed but unref'd: the queue emptied after it was armed. */
  private idle = false;
  private size = 0;
  private readonly onExpire: (node: T) => void;
  private readonly fire = (): void => this.expire();

  constructor(onExpire: (node: T) => void) {
    this.onExpire = onExpire;
  }

  get length(): number {
    return this.size;
  }

  add(node: T): void {
    let after = this.tail;
    while (after !== null && after.deadline > node.deadline) after = after.dlPrev as T | null;
    node.dlPrev = after;
    node.dlNext = after === null ? this.head : after.dlNext;
    if (node.dlNext !== null) node.dlNext.dlPrev = node;
    else this.tail = node;
    if (after !== null) after.dlNext = node;
    else this.head = node;
    node.dlLinked = true;
    this.size++;
    if (node.deadline < this.armedFor) this.arm(node.deadline);
    else if (this.idle) {
      this.idle = false;
      this.timer!.ref();
    }
  }

  remove(node: T): void {
    if (!node.dlLinked) return;
    const prev = node.dlPrev;
    const next = node.dlNext;
    if (prev !== null) prev.dlNext = next;
    else this.head = next as T | null;
    if (next !== null) next.dlPrev = prev;
    else this.tail = prev as T | null;
    node.dlPrev = node.dlNext = null;
    node.dlLinked = false;
    this.size--;
    if (this.size === 0 && this.timer !== null) {
      // Kept armed for the next operation (see the top of this file); it must not hold the process.
      this.idle = true;
      this.timer.unref();
    }
  }

  /** Whether a timer is armed and holds the event loop open (for tests). */
  get armed(): 'no' | 'ref' | 'unref' {
    return this.timer === null ? 'no' : this.idle ? 'unref' : 'ref';
  }

  /** Unlinks every node without calling onExpire; returns them, earliest deadline first. */
  clear(): T[] {
    const out: T[] = [];
    let n = this.head;
    while (n !== null) {
      const next = n.dlNext as T | null;
      n.dlPrev = n.dlNext = null;
      n.dlLinked = false;
      out.push(n);
      n = next;
    }
    this.head = this.tail = null;
    this.size = 0;
    this.disarm();
    return out;
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.idle = false;
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - Date.now()));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.idle = false;
    this.armedFor = Infinity;
  }

  private expire(): void {
    this.timer = null;
    this.idle = false;
    this.armedFor = Infinity;
    const now = Date.now();
    while (this.head !== null && this.head.deadline <= now) {
      const node = this.head;
      this.remove(node);
      this.onExpire(node);
    }
    if (this.head !== null && this.timer === null) this.arm(this.head.deadline);
  }
}

/** A deadline node that knows what to do when its time is up (KV operations, node requests). */
export type Expirable = DeadlineNode & { onExpire(): void };
