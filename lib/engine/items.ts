// Python's couchbase.items: Item objects and the collections that carry them (with per-item
// options) into the *Multi methods. An item is read from (its value and CAS feed stores, its CAS
// feeds remove/unlock/endure) and written back: after the call it holds the outcome, and the
// MultiResult maps each key to its item.
import { ValueResult } from './results';
import type { KvOptions } from './kv/spec';

/** Per-item options: any option of the operation, and `ignoreCas` (stores: do not send the item's CAS). */
export interface ItemOptions extends Omit<KvOptions, 'value'> {
  ignoreCas?: boolean;
  /** appendMulti / prependMulti (and appendItems / prependItems): what to add to the item's document. */
  fragment?: unknown;
}

/**
 * After appendItems / prependItems succeeded: each item's value takes its fragment, as the
 * server's copy did (Python's append_items / prepend_items). Strings and bytes join as they do.
 */
export function applyFragments(items: ItemOptionDict, where: 'append' | 'prepend'): void {
  for (const [item, o] of items.dict) {
    const f = o?.fragment;
    if (!item.success || f === undefined) continue;
    const v = item.value;
    if (Buffer.isBuffer(v) || Buffer.isBuffer(f)) {
      const a = Buffer.from(v as string | Buffer);
      const b = Buffer.from(f as string | Buffer);
      item.value = where === 'append' ? Buffer.concat([a, b]) : Buffer.concat([b, a]);
    } else {
      item.value = where === 'append' ? `${String(v ?? '')}${String(f)}` : `${String(f)}${String(v ?? '')}`;
    }
  }
}

/** A document to operate on and, afterwards, its outcome (a ValueResult whose fields are writable). */
export class Item extends ValueResult {
  constructor(key = '', value?: unknown) {
    super(key, value, 0n, 0);
  }

  /** This item alone as a collection (Python's as_itcoll), with options when given. */
  asItcoll(options?: ItemOptions): ItemCollection {
    if (options === undefined || Object.keys(options).length === 0) return new ItemSequence([this]);
    return new ItemOptionDict(new Map([[this, options]]));
  }
}

/** The base of the item collections the *Multi methods accept. */
export abstract class ItemCollection {
  /** How many items. */
  abstract get length(): number;
  /** Each item with its options (undefined when it has none). */
  abstract dictItems(): Array<[Item, ItemOptions | undefined]>;
}

/** Items, each with its own options (Python's ItemOptionDict). */
export class ItemOptionDict extends ItemCollection {
  /** The items and their options. */
  readonly dict: Map<Item, ItemOptions | undefined>;

  constructor(d?: Map<Item, ItemOptions | undefined> | Iterable<[Item, ItemOptions | undefined]>) {
    super();
    this.dict = new Map(d ?? []);
  }

  get length(): number {
    return this.dict.size;
  }

  /** Adds (or replaces) an item with its options. */
  add(item: Item, options?: ItemOptions): this {
    this.dict.set(item, options !== undefined && Object.keys(options).length > 0 ? options : undefined);
    return this;
  }

  /** Creates an item and adds it (Python's create_and_add). */
  createAndAdd(key: string, value?: unknown, cas = 0n, options?: ItemOptions): this {
    const item = new Item(key, value);
    item.cas = cas;
    return this.add(item, options);
  }

  dictItems(): Array<[Item, ItemOptions | undefined]> {
    return [...this.dict];
  }
}

/** Items without options (Python's ItemSequence). */
export class ItemSequence extends ItemCollection {
  readonly sequence: Item[];

  constructor(items: Item | Iterable<Item>) {
    super();
    this.sequence = items instanceof Item ? [items] : [...items];
  }

  get length(): number {
    return this.sequence.length;
  }

  dictItems(): Array<[Item, ItemOptions | undefined]> {
    return this.sequence.map((i) => [i, undefined]);
  }
}
