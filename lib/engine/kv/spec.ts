// What one row of the KV operation table (operations.ts) says, the op() factory every row is
// built with, and the pieces rows share: option checks, extras writers, result builders. Also
// the types of where an operation's outcome goes (callbacks, handler objects).
import type { Packet } from '../../protocol/packet';
import { readFlagsExtras, decodeMutationToken } from '../../protocol/extras';
import { ArgumentError, type CouchbaseError, type ErrorClass } from '../errors';
import { OperationResult, ValueResult, type MultiResult, type Result, type MutationToken } from '../results';
import { FMT_AUTO, FMT_JSON, type Transcoder } from '../transcoder';

export type KvCallback<R extends Result = Result> = (err: CouchbaseError | null, result: R | null) => void;
export type MultiCallback = (err: CouchbaseError | null, result: MultiResult | null) => void;

/**
 * Receives a KV operation's outcome (see dispatchKv): an object the caller already has for the
 * call, such as its Deferred, so the call needs no closure. Called once, asynchronously.
 */
export interface KvHandler<R extends Result = Result> {
  kvDone(err: CouchbaseError | null, result: R | null): void;
}

/** What `engine.kv()` returns: `cancel()` removes a pending operation and fails it with CancelledError. */
export interface KvHandle {
  cancel(): void;
}

/** Options any operation may take; each row reads the ones it understands. */
export interface KvOptions {
  /** The document (upsert/insert/replace/append/prepend). */
  value?: unknown;
  /** Only apply when the document's CAS still equals this (replace, upsert, remove, unlock). */
  cas?: bigint;
  /** Expiry in seconds (<= 30 days: relative, larger: Unix time); 0 = never. For lock: lock time. */
  ttl?: number;
  /** FMT_JSON (default), FMT_UTF8, FMT_BYTES, FMT_AUTO. For get: force how the value is read. */
  format?: number;
  /** Per-operation timeout in seconds (libcouchbase unit); default operation_timeout. */
  timeout?: number;
  /** Wait until the mutation is persisted on this many nodes (-1: all copies). */
  persistTo?: number;
  /** Wait until the mutation is on this many replicas (-1: all replicas). */
  replicateTo?: number;
  /** counter: amount to add (negative to subtract). Default 1. */
  delta?: number | bigint;
  /** counter: value to create the document with when missing; absent: fail with NotFoundError. */
  initial?: number | bigint;
  /** getReplica: replica index (0 = first replica) or 'any' (first to answer). Default 'any'. */
  replica?: number | 'any';
  /** observe: ask only the master. */
  masterOnly?: boolean;
  /** endure: wait for the removal (not the value) to be durable. */
  checkRemoved?: boolean;
  /** get/remove: a missing key gives a result with success false instead of an error (Python's quiet=True). */
  quiet?: boolean;
  /** get: return the raw bytes whatever the flags say (Python's no_format). */
  noFormat?: boolean;
}

export interface BuildContext {
  transcoder: Transcoder;
  bucket: string;
  vbucket: number;
  /** Whether results should expose mutation tokens (fetch_mutation_tokens). */
  exposeTokens: boolean;
}

/** Runs an operation that is not one request and one reply (replica reads, observe, endure, stats). */
export type CompositeRun<Host> = (host: Host, key: string, opts: KvOptions, cb: KvCallback) => void;

/** The result an operation gives: also what a failed key of its *Multi variant holds. */
export type ResultKind = 'value' | 'mutation' | 'observe' | 'stats';

/**
 * One operation. Every row has every key, in this order (op() makes sure), so that reading a
 * field in the hot path sees one object shape. `Host` is what composite rows run against
 * (kv/host.ts's KvHost); it is a parameter so this module stays below that one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface OpSpec<Host = any> {
  name: string;
  /** Opcode for simple ops; -1 for composite ones. */
  opcode: number;
  /** Safe to resend after a lost connection (reads, idempotent ops). */
  retrySafe: boolean;
  /** 'value': sends a transcoded value; 'none': no value. */
  value: 'value' | 'none';
  /** Format used when the caller gives none. */
  defaultFormat: number;
  /** Accepts persistTo/replicateTo. */
  durable: boolean;
  /** Removes the document: durability waits for the removal to be persisted and replicated. */
  removes: boolean;
  /** 'document': the key is a document id; 'statGroup': a STAT group name ('' for the default). */
  keyKind: 'document' | 'statGroup';
  result: ResultKind;
  /** With `quiet: true`, a missing key gives a result with success false instead of NotFoundError. */
  quietMiss: boolean;
  /**
   * What the per-key values of the *Multi call are: the 'document', a 'cas' (or the result of the
   * call that returned one), per-key 'options', or 'optionsOrResult' (per-key options, or the
   * result whose CAS to check).
   */
  multiValue: 'document' | 'cas' | 'options' | 'optionsOrResult';
  /** The flavours have a `${name}Multi` method for it. */
  hasMulti: boolean;
  /** The option a bare second argument stands for in the flavours (`touch(key, 10)`), or null. */
  positional: 'ttl' | 'cas' | 'delta' | null;
  /** Checks options before anything is encoded; throws ArgumentError. */
  validate(key: string, o: KvOptions): void;
  /** Opcode for these options (get with ttl -> GAT, counter sign -> INCR/DECR). */
  opcodeFor(o: KvOptions): number;
  extrasLength(o: KvOptions): number;
  /** Writes extras at buf[off]; `flags` is the transcoded item flags for stores. */
  writeExtras(buf: Buffer, off: number, o: KvOptions, flags: number): void;
  /** CAS to put in the header. */
  casOf(o: KvOptions): bigint;
  /** Turns the success reply into the result; null for composite rows, which build their own. */
  build: ((key: string, p: Packet, o: KvOptions, ctx: BuildContext) => Result) | null;
  /** Status -> [error class, advice] where this operation differs from the shared table. */
  errors: Partial<Record<number, readonly [ErrorClass, string]>>;
  /** The runner of a composite row; null for one request, one reply. */
  run: CompositeRun<Host> | null;
}

/** A row as written in the table: the fields that shape the flavours' methods are required. */
export interface OpInit<Host> {
  name: string;
  opcode: number;
  retrySafe: boolean;
  value: 'value' | 'none';
  result: ResultKind;
  hasMulti: boolean;
  positional: OpSpec['positional'];
  defaultFormat?: number;
  durable?: boolean;
  removes?: boolean;
  keyKind?: OpSpec['keyKind'];
  quietMiss?: boolean;
  multiValue?: OpSpec['multiValue'];
  validate?: OpSpec['validate'];
  opcodeFor?: OpSpec['opcodeFor'];
  extrasLength?: OpSpec['extrasLength'];
  writeExtras?: OpSpec['writeExtras'];
  casOf?: OpSpec['casOf'];
  build?: OpSpec['build'];
  errors?: OpSpec['errors'];
  run?: CompositeRun<Host> | null;
}

/** The row op() builds: an OpSpec that keeps the literal types of the fields the flavours derive from. */
export type Row<I extends OpInit<Host>, Host> = OpSpec<Host> & {
  readonly name: I['name'];
  readonly value: I['value'];
  readonly result: I['result'];
  readonly hasMulti: I['hasMulti'];
  readonly positional: I['positional'];
  readonly keyKind: I extends { keyKind: infer K } ? K : 'document';
};

const noCheck = (): void => {};
export const noExtras = (): number => 0;
export const writeNothing = (): void => {};
export const noCas = (): bigint => 0n;
export const casOption = (o: KvOptions): bigint => o.cas ?? 0n;

/** Builds a row with every field present and in OpSpec's order. */
export function op<Host, const I extends OpInit<Host>>(init: I): Row<I, Host> {
  const opcode = init.opcode;
  const row: OpSpec<Host> = {
    name: init.name,
    opcode,
    retrySafe: init.retrySafe,
    value: init.value,
    defaultFormat: init.defaultFormat ?? FMT_JSON,
    durable: init.durable ?? false,
    removes: init.removes ?? false,
    keyKind: init.keyKind ?? 'document',
    result: init.result,
    quietMiss: init.quietMiss ?? false,
    multiValue: init.multiValue ?? (init.value === 'value' ? 'document' : 'options'),
    hasMulti: init.hasMulti,
    positional: init.positional,
    validate: init.validate ?? noCheck,
    opcodeFor: init.opcodeFor ?? (() => opcode),
    extrasLength: init.extrasLength ?? noExtras,
    writeExtras: init.writeExtras ?? writeNothing,
    casOf: init.casOf ?? noCas,
    build: init.build ?? null,
    errors: init.errors ?? {},
    run: init.run ?? null,
  };
  return row as Row<I, Host>;
}

// --- option checks ---------------------------------------------------------------------------

export function checkTtl(key: string, o: KvOptions): void {
  const t = o.ttl;
  if (t === undefined) return;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffffffff) {
    throw new ArgumentError(`ttl for key "${key}" must be a whole number of seconds >= 0 (got ${String(t)})`, { key });
  }
}

export function checkCas(key: string, o: KvOptions): void {
  if (o.cas !== undefined && (typeof o.cas !== 'bigint' || o.cas < 0n || o.cas > 0xffffffffffffffffn)) {
    throw new ArgumentError(`cas for key "${key}" must be a bigint as returned by a previous operation`, { key });
  }
}

export function checkDurability(key: string, o: KvOptions): void {
  for (const name of ['persistTo', 'replicateTo'] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < -1 || v > 4)) {
      throw new ArgumentError(`${name} for key "${key}" must be an integer from -1 (all) to 4`, { key });
    }
  }
}

// --- results -----------------------------------------------------------------------------------

export function tokenOf(p: Packet, ctx: BuildContext): MutationToken | undefined {
  if (!ctx.exposeTokens || p.extras.length !== 16) return undefined;
  const t = decodeMutationToken(p.extras)!;
  return { vbucket: ctx.vbucket, vbuuid: t.vbuuid, seqno: t.seqno, bucket: ctx.bucket };
}

export function mutationResult(key: string, p: Packet, _o: KvOptions, ctx: BuildContext): Result {
  const r = new OperationResult(key, p.cas);
  if (ctx.exposeTokens) r.mutationToken = tokenOf(p, ctx);
  return r;
}

export function valueResult(key: string, p: Packet, o: KvOptions, ctx: BuildContext): Result {
  const flags = p.extras.length >= 4 ? readFlagsExtras(p.extras) : 0;
  let value: unknown;
  if (o.noFormat) value = Buffer.from(p.value);
  else value = ctx.transcoder.decode(key, p.value, flags, o.format === undefined || o.format === FMT_AUTO ? undefined : o.format);
  return new ValueResult(key, value, p.cas, flags);
}
