// What the blocking flavour does to a KV call's outcome so that it arrives as the other flavours
// deliver it. A failed *Multi call's error holds every key's result (`allResults`), and the
// failing key's result holds that same error: a cycle the channel cannot carry, so the worker
// sends a SelfRef in its place and the caller puts the error back. Items are the caller's own
// objects: the worker's copies come back and the caller writes their outcome into the originals.
import { ItemCollection, type Item } from '../../lib/engine/items';
import { MultiResult, OperationResult, ValueResult, type Result } from '../../lib/engine/results';

/** Stands for "the error this result belongs to" on the channel. */
export class SelfRef {}

const SELF = new SelfRef();

function entriesOf(err: unknown): MultiResult | undefined {
  const all = (err as { allResults?: unknown } | null)?.allResults;
  return all instanceof MultiResult ? all : undefined;
}

/** Worker side: the error's own entries point to a SelfRef instead of to it. */
export function breakSelfRefs(err: unknown): void {
  const all = entriesOf(err);
  if (all === undefined) return;
  for (const r of all.values()) if (r.error === err) (r as { error: unknown }).error = SELF;
}

/** Caller side: SelfRef entries point to their error again. */
export function restoreSelfRefs(err: unknown): void {
  const all = entriesOf(err);
  if (all === undefined) return;
  for (const r of all.values()) if ((r.error as unknown) instanceof SelfRef) r.error = err as Result['error'];
}

/** Copies each returned item's outcome into the caller's item, and makes the MultiResult map to those. */
export function writeBackItems(keys: unknown, multi: MultiResult | undefined): void {
  if (!(keys instanceof ItemCollection) || multi === undefined) return;
  for (const [item] of keys.dictItems()) {
    const r = multi.get(item.key);
    if (r === undefined || r === item) continue;
    copyOutcome(item, r);
    multi.set(item.key, item);
  }
}

function copyOutcome(item: Item, r: Result): void {
  item.rc = r.rc;
  item.error = r.error;
  if (r instanceof OperationResult) {
    item.cas = r.cas;
    item.mutationToken = r.mutationToken;
  }
  if (r instanceof ValueResult) {
    item.value = r.value;
    item.flags = r.flags;
  }
}

/** The MultiResult a call answered with, or its error carried. */
export function multiOf(resultOrErr: unknown): MultiResult | undefined {
  return resultOrErr instanceof MultiResult ? resultOrErr : entriesOf(resultOrErr);
}
