// A document's extended attributes while a sub-document request reads or changes them. The xattrs
// are seen as one JSON object whose members are the X-Keys, so a path (`txn.op.type`) walks them
// as it walks a body; only the keys a request touches are parsed, and only changed ones are
// serialised again (output macros are filled in then, once the new CAS and seqno exist).
import type { Xattrs } from '../../xattrs';
import { xattrsOrNone } from '../../xattrs';
import { Body, hasOwn, setKey, type Json, type MutationTarget } from './paths';
import { jsonText } from './exact-json';

export class XattrDraft {
  /** Keys parsed so far, with their current values (a deleted key: absent from `root`). */
  private readonly root: Record<string, Json> = Object.create(null) as Record<string, Json>;
  private readonly loaded = new Set<string>();
  private changed = false;

  constructor(private readonly stored: Xattrs | undefined) {}

  /** The object path operations on `key` work on: the xattrs root with that key loaded. */
  target(key: string): MutationTarget {
    this.load(key);
    const root = this.root;
    return {
      get root() {
        return root;
      },
    };
  }

  /** Reads through the draft: the root with `key` loaded (for lookups inside a mutation). */
  view(key: string): Json {
    this.load(key);
    return this.root;
  }

  markChanged(): void {
    this.changed = true;
  }

  get isChanged(): boolean {
    return this.changed;
  }

  /** Keys present now (stored ones and those added), for `$XTOC` after changes. */
  private load(key: string): void {
    if (this.loaded.has(key)) return;
    this.loaded.add(key);
    const text = this.stored?.get(key);
    if (text !== undefined) setKey(this.root, key, new Body(Buffer.from(text)).get());
  }

  /** The xattrs after the request; `replacer` fills in output macros. */
  result(replacer?: (key: string, value: unknown) => unknown): Xattrs | undefined {
    if (!this.changed) return this.stored;
    const out = new Map<string, string>();
    if (this.stored !== undefined) for (const [k, v] of this.stored) if (!this.loaded.has(k)) out.set(k, v);
    for (const k of this.loaded) if (hasOwn(this.root, k)) out.set(k, jsonText(this.root[k], replacer));
    return xattrsOrNone(out);
  }
}
