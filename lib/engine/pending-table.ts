// A connection's requests in flight, by opaque. Opaques come from one counter, so the requests
// in flight on a connection have nearly consecutive opaques and `opaque & mask` spreads them over
// a power-of-two array with few collisions. A set, a get and a delete are an index and a compare
// each; a Map's set/delete pair cost 65-70 ns here and reallocated its table as it filled with
// deleted entries (about 350 bytes per operation).
//
// A collision (a slot held by another request, e.g. one still waiting after thousands of quicker
// ones) doubles the array while it is at least half full, so it stays within twice the requests
// in flight; otherwise the newcomer waits in a small overflow map.

/**
 * Keys are the opaques the requests were sent with, kept beside them: a retried request gets a new
 * opaque while its old entry may still be being removed, so the request's own field is no key.
 * Opaques are never 0 (see nextOpaque), so 0 marks an empty slot.
 */
export class PendingTable<T> {
  private keys: Uint32Array;
  private slots: Array<T | null>;
  private mask: number;
  private count = 0;
  private overflow: Map<number, T> | null = null;

  /** @param capacity initial slots, rounded up to a power of two */
  constructor(capacity = 64) {
    let n = 1;
    while (n < capacity) n *= 2;
    this.keys = new Uint32Array(n);
    this.slots = new Array<T | null>(n).fill(null);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `value` under `opaque` (1 to 2^32-1), replacing what was there under it. */
  set(opaque: number, value: T): void {
    const i = opaque & this.mask;
    const held = this.keys[i];
    if (held === 0 || held === opaque) {
      // An opaque that waited in the overflow while its slot was taken moves into the slot.
      if (held === 0 && !(this.overflow !== null && this.overflow.delete(opaque))) this.count++;
      this.keys[i] = opaque;
      this.slots[i] = value;
      return;
    }
    if (this.count * 2 >= this.slots.length) {
      this.grow();
      this.set(opaque, value);
      return;
    }
    const overflow = (this.overflow ??= new Map());
    if (!overflow.has(opaque)) this.count++;
    overflow.set(opaque, value);
  }

  get(opaque: number): T | undefined {
    const i = opaque & this.mask;
    if (this.keys[i] === opaque) return this.slots[i] as T;
    return this.overflow === null ? undefined : this.overflow.get(opaque);
  }

  /** Removes what is under `opaque`; false if there was nothing. */
  delete(opaque: number): boolean {
    const i = opaque & this.mask;
    if (this.keys[i] === opaque) {
      this.keys[i] = 0;
      this.slots[i] = null;
      this.count--;
      return true;
    }
    if (this.overflow !== null && this.overflow.delete(opaque)) {
      this.count--;
      return true;
    }
    return false;
  }

  /** Every value, in no particular order. */
  values(): T[] {
    return this.entries().map((e) => e[1]);
  }

  clear(): void {
    this.keys.fill(0);
    this.slots.fill(null);
    this.overflow = null;
    this.count = 0;
  }

  private entries(): Array<[number, T]> {
    const out: Array<[number, T]> = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) out.push([this.keys[i], this.slots[i] as T]);
    if (this.overflow !== null) for (const e of this.overflow) out.push(e);
    return out;
  }

  private grow(): void {
    const all = this.entries();
    const n = this.slots.length * 2;
    this.keys = new Uint32Array(n);
    this.slots = new Array<T | null>(n).fill(null);
    this.mask = n - 1;
    this.overflow = null;
    this.count = 0;
    for (const [k, v] of all) this.set(k, v);
  }
}
