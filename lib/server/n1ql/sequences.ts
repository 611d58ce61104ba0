// Sequences (Couchbase Server 7.6): CREATE / ALTER / DROP SEQUENCE and the NEXT VALUE FOR /
// PREV VALUE FOR operators. A sequence lives in a bucket's scope and is kept in the bucket's
// metadata (durable with dataDir), as Couchbase keeps it in the bucket's _system scope. Like the
// server, this node reserves a block of `cache` values at a time and records only the block, so a
// restart loses the unused rest of a block rather than ever repeating a value.
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { QueryError } from './errors';
import type { Env } from './keyspace';
import type { Compiled } from './row';
import { isObject, type Value } from './value';

export const SEQUENCES_METADATA = 'n1ql.sequences';

export const MIN_INT64 = -(2n ** 63n);
export const MAX_INT64 = 2n ** 63n - 1n;

/** What CREATE SEQUENCE defines (numbers as decimal strings: they are int64). */
export interface SequenceDefinition {
  /** Where the sequence started when created: ALTER ... RESTART without a value goes back there. */
  initial: string;
  /** Where the current run of blocks starts. */
  base: string;
  increment: string;
  min: string;
  max: string;
  cycle: boolean;
  cache: number;
  /** Blocks of `cache` values handed out so far (the next value comes from a new block). */
  block: number;
}

/** The options of CREATE / ALTER SEQUENCE, from the clause syntax or the WITH object. */
export interface SequenceOptions {
  start?: bigint;
  increment?: bigint;
  min?: bigint;
  max?: bigint;
  cycle?: boolean;
  cache?: number;
  /** ALTER ... RESTART: true restarts from the start value, a number from that value. */
  restart?: bigint | true;
}

export const SequenceErrors = {
  invalidName: (name: string) => new QueryError(19113, `Invalid sequence name ${name}`),
  notFound: (name: string) => new QueryError(19106, `Sequence ${name} not found`),
  exists: (name: string) => new QueryError(19108, `Sequence ${name} already exists`),
  exhausted: (name: string) => new QueryError(19111, `Sequence ${name} has reached its limit`),
  noPrevious: () => new QueryError(19118, 'Sequence previous value cannot be accessed before next value generation.'),
  readOnly: () => new QueryError(19114, 'Sequences cannot be used in read-only requests'),
  create: (name: string, cause: QueryError) => new QueryError(19101, `Create failed for sequence ${name} - cause: ${cause.message}`),
  alter: (name: string, cause: QueryError) => new QueryError(19102, `Alter failed for sequence ${name} - cause: ${cause.message}`),
  range: (min: bigint, max: bigint) => new QueryError(19104, `Invalid range ${min} to ${max}`),
  cache: (n: number) => new QueryError(19105, `Invalid cache value ${n}`),
};

/** A sequence's place: bucket, scope and name, completed from the query context. */
export interface SequencePath {
  bucket: string;
  scope: string;
  name: string;
}

export function sequencePath(n: A.FunctionName, queryContext: { bucket: string; scope?: string } | undefined): SequencePath {
  const namespace = n.namespace ?? 'default';
  const bucket = n.bucket ?? queryContext?.bucket;
  const scope = n.scope ?? (n.bucket === undefined ? queryContext?.scope : undefined);
  if (namespace !== 'default' || bucket === undefined || scope === undefined) {
    throw SequenceErrors.invalidName(`${namespace}:${n.bucket !== undefined ? `${n.bucket}.${n.scope}.` : ''}${n.name}`);
  }
  return { bucket, scope, name: n.name };
}

export function sequenceText(p: SequencePath): string {
  return `default:${p.bucket}.${p.scope}.${p.name}`;
}

const keyOf = (p: SequencePath): string => `${p.scope}.${p.name}`;

function definitions(store: BucketStore): Record<string, SequenceDefinition> {
  const v = store.metadata.get(SEQUENCES_METADATA);
  return isObject(v as Value) ? (v as Record<string, SequenceDefinition>) : {};
}

function save(store: BucketStore, defs: Record<string, SequenceDefinition>): void {
  store.metadata.set(SEQUENCES_METADATA, Object.keys(defs).length ? defs : undefined);
}

/** The values this node holds for a sequence: the rest of its current block. */
interface Live {
  current: bigint | undefined;
  remaining: number;
}

const live = new WeakMap<BucketStore, Map<string, Live>>();

function liveOf(store: BucketStore, key: string): Live {
  let m = live.get(store);
  if (!m) live.set(store, (m = new Map()));
  let l = m.get(key);
  if (!l) m.set(key, (l = { current: undefined, remaining: 0 }));
  return l;
}

function forget(store: BucketStore, key: string): void {
  live.get(store)?.delete(key);
}

function checkRange(min: bigint, max: bigint): void {
  if (min >= max) throw SequenceErrors.range(min, max);
}

export function createSequence(store: BucketStore, p: SequencePath, o: SequenceOptions, ifNotExists: boolean): void {
  const name = sequenceText(p);
  const defs = definitions(store);
  if (defs[keyOf(p)]) {
    if (ifNotExists) return;
    throw SequenceErrors.exists(name);
  }
  const increment = o.increment ?? 1n;
  const min = o.min ?? MIN_INT64;
  const max = o.max ?? MAX_INT64;
  try {
    checkRange(min, max);
    if (o.cache !== undefined && o.cache <= 0) throw SequenceErrors.cache(o.cache);
  } catch (err) {
    throw SequenceErrors.create(name, err as QueryError);
  }
  // Without START WITH an ascending sequence starts at its minimum, a descending one at its maximum, when given.
  const start = o.start ?? (increment > 0n && o.min !== undefined ? min : increment < 0n && o.max !== undefined ? max : 0n);
  defs[keyOf(p)] = { initial: String(start), base: String(start), increment: String(increment), min: String(min), max: String(max), cycle: o.cycle ?? false, cache: o.cache ?? 50, block: 0 };
  save(store, defs);
  forget(store, keyOf(p));
}

export function alterSequence(store: BucketStore, p: SequencePath, o: SequenceOptions): void {
  const name = sequenceText(p);
  const defs = definitions(store);
  const d = defs[keyOf(p)];
  if (!d) throw SequenceErrors.notFound(name);
  const min = o.min ?? BigInt(d.min);
  const max = o.max ?? BigInt(d.max);
  try {
    checkRange(min, max);
    if (o.cache !== undefined && o.cache <= 0) throw SequenceErrors.cache(o.cache);
  } catch (err) {
    throw SequenceErrors.alter(name, err as QueryError);
  }
  const l = liveOf(store, keyOf(p));
  let restart: bigint | undefined = o.restart === true ? BigInt(d.initial ?? d.base) : o.restart;
  // A new increment or cache size restarts where the sequence stands, so no value repeats.
  if (restart === undefined && (o.increment !== undefined || o.cache !== undefined) && l.current !== undefined) restart = l.current + BigInt(d.increment);
  const next: SequenceDefinition = { ...d, min: String(min), max: String(max) };
  if (o.increment !== undefined) next.increment = String(o.increment);
  if (o.cache !== undefined) next.cache = o.cache;
  if (o.cycle !== undefined) next.cycle = o.cycle;
  if (restart !== undefined) {
    next.base = String(restart);
    next.block = 0;
  }
  defs[keyOf(p)] = next;
  save(store, defs);
  // The values left in this node's block are given up, as on the server.
  forget(store, keyOf(p));
}

export function dropSequence(store: BucketStore, p: SequencePath, ifExists: boolean): void {
  const defs = definitions(store);
  if (!defs[keyOf(p)]) {
    if (ifExists) return;
    throw SequenceErrors.notFound(sequenceText(p));
  }
  delete defs[keyOf(p)];
  save(store, defs);
  forget(store, keyOf(p));
}

function toValue(v: bigint): Value {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** NEXT VALUE FOR: the next value, reserving a new block when this node's is used up. */
export function nextValue(store: BucketStore, p: SequencePath): Value {
  const defs = definitions(store);
  const d = defs[keyOf(p)];
  if (!d) throw SequenceErrors.notFound(sequenceText(p));
  const l = liveOf(store, keyOf(p));
  const increment = BigInt(d.increment);
  const min = BigInt(d.min);
  const max = BigInt(d.max);
  let v: bigint;
  if (l.remaining > 0) {
    v = l.current! + increment;
    l.remaining--;
  } else {
    // A new block starts `block * cache` steps after the base.
    v = BigInt(d.base) + BigInt(d.block) * BigInt(d.cache) * increment;
    defs[keyOf(p)] = { ...d, block: d.block + 1 };
    save(store, defs);
    l.remaining = d.cache - 1;
  }
  if (v > max || v < min) {
    if (!d.cycle) {
      l.remaining = 0;
      throw SequenceErrors.exhausted(sequenceText(p));
    }
    // Cycling starts over from the other end, and from a fresh block there.
    v = increment > 0n ? min : max;
    defs[keyOf(p)] = { ...defs[keyOf(p)], base: String(v), block: 1 };
    save(store, defs);
    l.remaining = d.cache - 1;
  }
  l.current = v;
  return toValue(v);
}

/** PREV VALUE FOR: the value this node handed out last. */
export function previousValue(store: BucketStore, p: SequencePath): Value {
  if (!definitions(store)[keyOf(p)]) throw SequenceErrors.notFound(sequenceText(p));
  const c = liveOf(store, keyOf(p)).current;
  if (c === undefined) throw SequenceErrors.noPrevious();
  return toValue(c);
}

/** Every sequence of `store`, for system:sequences. */
export function listSequences(store: BucketStore): { path: SequencePath; def: SequenceDefinition; current: Value }[] {
  return Object.entries(definitions(store)).map(([key, def]) => {
    const dot = key.indexOf('.');
    const c = liveOf(store, key).current;
    return { path: { bucket: store.name, scope: key.slice(0, dot), name: key.slice(dot + 1) }, def, current: c === undefined ? null : toValue(c) };
  });
}

/** The value NEXT VALUE FOR gave each sequence for a document: a document increments a sequence once. */
const perDocument = new WeakMap<object, Map<string, Value>>();

/**
 * NEXT / PREV VALUE FOR as a compiled expression. The sequence's bucket must exist and the caller
 * may use its scope's sequences (13014 otherwise); both are checked when the statement is planned.
 */
export function compileSequenceOperator(e: A.Expr & { kind: 'sequence' }, env: Env): Compiled {
  const p = sequencePath(e.name, env.queryContext);
  const store = env.bucket(p.bucket);
  if (!store) throw new QueryError(12003, `Keyspace not found in CB datastore: default:${p.bucket} - cause: No bucket named ${p.bucket}`);
  const denied = env.sequenceDenied(p.bucket, p.scope, 'use');
  if (denied !== undefined) throw new QueryError(13014, denied);
  const key = sequenceText(p);
  return (row) => {
    const doc = row.vars;
    const seen = perDocument.get(doc)?.get(key);
    if (seen !== undefined) return seen;
    if (!e.next) return previousValue(store, p);
    const v = nextValue(store, p);
    let m = perDocument.get(doc);
    if (!m) perDocument.set(doc, (m = new Map()));
    m.set(key, v);
    return v;
  };
}
