// The prepared-statement cache. Names are scoped to the user who prepared them, so one user can
// neither run nor replace another's statement by guessing its name (every EXECUTE is planned
// again with the executing user's privileges as well). The cache is bounded like Couchbase's
// (the query service's `prepared-limit`, 16384 by default) and evicts the least recently used.
import type * as A from './ast';

export interface Prepared {
  name: string;
  text: string;
  stmt: A.Statement;
  /** How many times it was executed (system:prepareds). */
  uses?: number;
}

export const DEFAULT_PREPARED_LIMIT = 16384;

export class PreparedCache {
  private readonly entries = new Map<string, Prepared>();

  constructor(readonly limit = DEFAULT_PREPARED_LIMIT) {}

  get size(): number {
    return this.entries.size;
  }

  /** Every statement `user` prepared (every one when `user` is undefined), least recently used first. */
  list(user?: string): Prepared[] {
    const prefix = user === undefined ? undefined : user + '\u0000';
    return [...this.entries].filter(([k]) => prefix === undefined || k.startsWith(prefix)).map(([, p]) => p);
  }

  /** The statement `user` prepared as `name`; a hit makes it the most recently used. */
  get(user: string, name: string): Prepared | undefined {
    const key = keyOf(user, name);
    const p = this.entries.get(key);
    if (p) {
      this.entries.delete(key);
      this.entries.set(key, p);
    }
    return p;
  }

  set(user: string, p: Prepared): void {
    const key = keyOf(user, p.name);
    this.entries.delete(key);
    this.entries.set(key, p);
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }
}

function keyOf(user: string, name: string): string {
  return user + '\u0000' + name;
}
