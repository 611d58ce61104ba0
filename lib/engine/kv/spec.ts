// What one row of the KV operation table (operations.ts) says, the op() factory every row is
// built with, and the pieces rows share: option checks, extras writers, result builders. Also
// the types of where an operation's outcome goes (callbacks, handler objects).
import type { Packet } from '../../protocol/packet';
import { readFlagsExtras, decodeMutationToken } from '../../protocol/extras';
import { ArgumentError, type CouchbaseError, type ErrorClass } from '../errors';
import { OperationResult, ValueResult, type MultiResult, type Result, type MutationToken } from '../results';
import { FMT_AUTO, type Transcoder } from '../transcoder';
import type { SubdocSpec } from '../subdoc';

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
  /** get: true reads a replica (Python's replica=True). getReplica: an index (0 = first replica) or 'any' (first to answer, the default). */
  replica?: boolean | number | 'any';
  /** observe: ask only the master. */
  masterOnly?: boolean;
  /** endure: wait for the removal (not the value) to be durable. */
  checkRemoved?: boolean;
  /** get/remove/lookupIn: a missing key gives a result with success false instead of an error (Python's quiet=True). */
  quiet?: boolean;
  /** get: return the raw bytes whatever the flags say (Python's no_format). */
  noFormat?: boolean;
  /** getReplica: Python's replica_index (same as a numeric `replica`). */
  replicaIndex?: number;
  /** endure: seconds between polls (Python's interval, default 0.010). */
  interval?: number;
  /** lookupIn/mutateIn: the specs (SD.get(...), SD.upsert(...), ...). */
  specs?: readonly SubdocSpec[];
  /** retrieveIn: the paths to get. */
  paths?: readonly string[];
  /** mutateIn: create the document if it does not exist (Python's create_doc / upsert_doc). */
  createDoc?: boolean;
  upsertDoc?: boolean;
  /** mutateIn: create the document, failing if it exists (Python's insert_doc). */
  insertDoc?: boolean;
  /** Data structures: the map key (mapAdd/mapGet/mapRemove). */
  mapkey?: string;
  /** Data structures: the list index (listSet/listGet/listRemove; -1 is the last). */
  index?: number;
  /**
   * Data structures: create the document when it does not exist (Python's create=True). An
   * adapter that encodes documents in the caller (the blocking flavour with its own transcoder)
   * gives the encoded empty document instead of true, as Python encodes it with the bucket's transcoder.
   */
  create?: boolean | object;
  /** stats: the groups (or, with keystats, the document keys) to ask for. */
  keys?: readonly string[];
  /** stats: the keys are document keys: ask their master for each key's stats (STAT key). */
  keystats?: boolean;
  /** The collection, "scope.collection" (what bucket.collection() sets); default: the bucket's default collection. */
  collection?: string;
}

export interface BuildContext {
  transcoder: Transcoder;
  bucket: string;
  vbucket: number;
  /** Whether results should expose mutation tokens (fetch_mutation_tokens). */
  exposeTokens: boolean;
  /** Python's data_passthrough: every value read comes back as raw bytes. */
  passthrough: boolean;
  /** The latest mutation token per vBucket (what MutationState.addAll reads); kept when tokens are exposed. */
  tokens: Array<MutationToken | undefined>;
}

/** Runs an operation that is not one request and one reply (replica reads, observe, endure, stats). */
export type CompositeRun<Host> = (host: Host, key: string, opts: KvOptions, cb: KvCallback) => void;

/**
 * The result an operation gives: also what a failed key of its *Multi variant holds. 'subdoc' is a
 * SubdocResult, 'count' a number, 'flag' a boolean, 'optional' an OperationResult or undefined.
 */
export type ResultKind = 'value' | 'mutation' | 'observe' | 'stats' | 'subdoc' | 'count' | 'flag' | 'optional';

/** What a *Multi call's per-key value stands for (`{key: value}` or a Map). */
export type MultiValue = 'document' | 'fragment' | 'cas' | 'ttl' | 'delta' | 'options';

/** A row's default format when it is the bucket's (Python's default_format). */
export const FMT_BUCKET_DEFAULT = -2;

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
  /** 'value': sends a transcoded value; 'body': sends what `body` builds; 'none': no value. */
  value: 'value' | 'body' | 'none';
  /** Format used when the caller gives none (FMT_BUCKET_DEFAULT: the bucket's default_format). */
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
   * What a per-key value of the *Multi call is, as Python reads it: the 'document', a
   * 'fragment' to add to it (append/prepend: an item gives it as its `fragment` option), a 'cas'
   * (or a result, whose CAS is used), a 'ttl', a 'delta', or nothing but 'options'. A plain
   * object is per-key options for every kind but 'document' and 'fragment'.
   */
  multiValue: MultiValue;
  /** The flavours have a `${name}Multi` method for it. */
  hasMulti: boolean;
  /** The option a bare second argument stands for in the flavours (`touch(key, 10)`), or null. */
  positional: 'ttl' | 'cas' | 'delta' | null;
  /**
   * The method's arguments after the key, by the option each becomes ('value', 'mapkey',
   * 'index'); a name starting with '...' takes every remaining argument (lookupIn's specs).
   */
  args: readonly string[];
  /** The options a call may give (besides `timeout`, always accepted); any other is an ArgumentError. */
  options: readonly string[];
  /** `options` (and the argument names) as a lookup table, for the check in start(). */
  accepts: Readonly<Record<string, true>>;
  /** Builds the request body of a 'body' row (sub-document specs); throws ArgumentError. */
  body: ((key: string, o: KvOptions) => Buffer) | null;
  /** A non-success status whose reply is still built into a result (sub-document's multi-path failure); -1 for none. */
  alsoBuilds: number;
  /** Another row that takes the call when these options say so (get with replica: true); null for none. */
  divert: ((o: KvOptions) => OpSpec<Host> | null) | null;
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
  /** Data structures: the empty document `create: true` inserts for a missing key ({} or []); null: the row creates nothing. */
  creates: 'map' | 'list' | null;
}

/** A row as written in the table: the fields that shape the flavours' methods are required. */
export interface OpInit<Host> {
  name: string;
  opcode: number;
  retrySafe: boolean;
  value: 'value' | 'body' | 'none';
  result: ResultKind;
  hasMulti: boolean;
  positional: OpSpec['positional'];
  options: readonly string[];
  args?: readonly string[];
  body?: OpSpec['body'];
  alsoBuilds?: number;
  divert?: ((o: KvOptions) => OpSpec<Host> | null) | null;
  defaultFormat?: number;
  durable?: boolean;
  removes?: boolean;
  keyKind?: OpSpec['keyKind'];
  quietMiss?: boolean;
  multiValue?: MultiValue;
  validate?: OpSpec['validate'];
  opcodeFor?: OpSpec['opcodeFor'];
  extrasLength?: OpSpec['extrasLength'];
  writeExtras?: OpSpec['writeExtras'];
  casOf?: OpSpec['casOf'];
  build?: OpSpec['build'];
  errors?: OpSpec['errors'];
  run?: CompositeRun<Host> | null;
  creates?: 'map' | 'list' | null;
}

/** The row op() builds: an OpSpec that keeps the literal types of the fields the flavours derive from. */
export type Row<I extends OpInit<Host>, Host> = Omit<OpSpec<Host>, 'args'> & {
  readonly name: I['name'];
  readonly value: I['value'];
  readonly result: I['result'];
  readonly hasMulti: I['hasMulti'];
  readonly positional: I['positional'];
  readonly keyKind: I extends { keyKind: infer K } ? K : 'document';
  readonly args: I extends { args: infer A } ? A : I['value'] extends 'value' ? readonly ['value'] : readonly [];
};

const noCheck = (): void => {};
export const noExtras = (): number => 0;
export const writeNothing = (): void => {};
export const noCas = (): bigint => 0n;
export const casOption = (o: KvOptions): bigint => o.cas ?? 0n;

/** Options every operation takes. */
/** Options every operation takes: its timeout, and the collection it works in (bucket.collection()). */
const ALWAYS = ['timeout', 'collection'];

/** Builds a row with every field present and in OpSpec's order. */
export function op<Host, const I extends OpInit<Host>>(init: I): Row<I, Host> {
  const opcode = init.opcode;
  const args = init.args ?? (init.value === 'value' ? ['value'] : []);
  const accepts = Object.create(null) as Record<string, true>;
  for (const name of [...ALWAYS, ...init.options, ...args.map((a) => a.replace(/^\.\.\./, ''))]) accepts[name] = true;
  const row: OpSpec<Host> = {
    name: init.name,
    opcode,
    retrySafe: init.retrySafe,
    value: init.value,
    defaultFormat: init.defaultFormat ?? FMT_BUCKET_DEFAULT,
    durable: init.durable ?? false,
    removes: init.removes ?? false,
    keyKind: init.keyKind ?? 'document',
    result: init.result,
    quietMiss: init.quietMiss ?? false,
    multiValue: init.multiValue ?? (init.value === 'value' ? 'document' : (init.positional ?? 'options')),
    hasMulti: init.hasMulti,
    positional: init.positional,
    args,
    options: init.options,
    accepts: Object.freeze(accepts),
    body: init.body ?? null,
    alsoBuilds: init.alsoBuilds ?? -1,
    divert: init.divert ?? null,
    validate: init.validate ?? noCheck,
    opcodeFor: init.opcodeFor ?? (() => opcode),
    extrasLength: init.extrasLength ?? noExtras,
    writeExtras: init.writeExtras ?? writeNothing,
    casOf: init.casOf ?? noCas,
    build: init.build ?? null,
    errors: init.errors ?? {},
    run: init.run ?? null,
    creates: init.creates ?? null,
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
  const token = { vbucket: ctx.vbucket, vbuuid: t.vbuuid, seqno: t.seqno, bucket: ctx.bucket };
  const last = ctx.tokens[ctx.vbucket];
  if (last === undefined || last.seqno < token.seqno) ctx.tokens[ctx.vbucket] = token;
  return token;
}

export function mutationResult(key: string, p: Packet, _o: KvOptions, ctx: BuildContext): Result {
  const r = new OperationResult(key, p.cas);
  if (ctx.exposeTokens) r.mutationToken = tokenOf(p, ctx);
  return r;
}

export function valueResult(key: string, p: Packet, o: KvOptions, ctx: BuildContext): Result {
  const flags = p.extras.length >= 4 ? readFlagsExtras(p.extras) : 0;
  let value: unknown;
  if (o.noFormat || ctx.passthrough) value = Buffer.from(p.value);
  else value = ctx.transcoder.decode(key, p.value, flags, o.format === undefined || o.format === FMT_AUTO ? undefined : o.format);
  return new ValueResult(key, value, p.cas, flags);
}

// --- option names ------------------------------------------------------------------------------

const camel = (name: string): string => name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The ArgumentError for an option `spec` does not take: names it, the ones it does, and a likely fix. */
export function unknownOption(spec: OpSpec, key: string, name: string): ArgumentError {
  const accepted = [...spec.options, ...ALWAYS].join(', ');
  const fix = camel(name);
  const hint = fix !== name && spec.accepts[fix] === true ? `; did you mean "${fix}"?` : '';
  return new ArgumentError(`${spec.name} does not take the option "${name}" (key "${key}")${hint}; it takes: ${accepted}`, { key });
}
