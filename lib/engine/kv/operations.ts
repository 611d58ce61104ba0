// The KV operation table. One row per operation says everything the engine needs: opcode,
// extras layout, whether a value is sent, how the reply becomes a result, which statuses mean
// something special for it, and whether it is safe to send twice.
import { Opcode } from '../../protocol/opcodes';
import { Status } from '../../protocol/status';
import type { Packet } from '../../protocol/packet';
import { ArgumentError, KeyExistsError, NotFoundError, NotStoredError, type ErrorClass } from '../errors';
import { OperationResult, ValueResult, type Result, type MutationToken } from '../results';
import { FMT_JSON, FMT_UTF8, FMT_AUTO, type Transcoder } from '../transcoder';

export type OpName =
  | 'upsert'
  | 'insert'
  | 'replace'
  | 'append'
  | 'prepend'
  | 'get'
  | 'touch'
  | 'lock'
  | 'unlock'
  | 'remove'
  | 'counter'
  | 'getReplica'
  | 'observe'
  | 'endure'
  | 'stats';

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

export interface OpSpec {
  name: OpName;
  /** Opcode for simple ops; composite ops (endure, observe, stats, getReplica any) use `composite`. */
  opcode: number;
  /** Safe to resend after a lost connection (reads, idempotent ops). */
  retrySafe: boolean;
  /** 'value': sends a transcoded value; 'none': no value. */
  value: 'value' | 'none';
  /** Format used when the caller gives none. */
  defaultFormat: number;
  /** Accepts persistTo/replicateTo. */
  durable: boolean;
  /** Handled by the engine's composite runners instead of one request/one reply. */
  composite: boolean;
  /** Checks options before anything is encoded; throws ArgumentError. */
  validate(key: string, o: KvOptions): void;
  /** Opcode for these options (get with ttl -> GAT, counter sign -> INCR/DECR). */
  opcodeFor(o: KvOptions): number;
  extrasLength(o: KvOptions): number;
  /** Writes extras at buf[off]; `flags` is the transcoded item flags for stores. */
  writeExtras(buf: Buffer, off: number, o: KvOptions, flags: number): void;
  /** CAS to put in the header. */
  casOf(o: KvOptions): bigint;
  build(key: string, p: Packet, o: KvOptions, ctx: BuildContext): Result;
  /** Status -> [error class, advice] where this operation differs from the shared table. */
  errors: Partial<Record<number, readonly [ErrorClass, string]>>;
}

function checkTtl(key: string, o: KvOptions): void {
  const t = o.ttl;
  if (t === undefined) return;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffffffff) {
    throw new ArgumentError(`ttl for key "${key}" must be a whole number of seconds >= 0 (got ${String(t)})`, { key });
  }
}

function checkCas(key: string, o: KvOptions): void {
  if (o.cas !== undefined && (typeof o.cas !== 'bigint' || o.cas < 0n || o.cas > 0xffffffffffffffffn)) {
    throw new ArgumentError(`cas for key "${key}" must be a bigint as returned by a previous operation`, { key });
  }
}

function checkDurability(key: string, o: KvOptions): void {
  for (const name of ['persistTo', 'replicateTo'] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < -1 || v > 4)) {
      throw new ArgumentError(`${name} for key "${key}" must be an integer from -1 (all) to 4`, { key });
    }
  }
}

function tokenOf(p: Packet, ctx: BuildContext): MutationToken | undefined {
  if (!ctx.exposeTokens || p.extras.length !== 16) return undefined;
  return { vbucket: ctx.vbucket, vbuuid: p.extras.readBigUInt64BE(0), seqno: p.extras.readBigUInt64BE(8), bucket: ctx.bucket };
}

function mutationResult(key: string, p: Packet, _o: KvOptions, ctx: BuildContext): Result {
  const r = new OperationResult(key, p.cas);
  if (ctx.exposeTokens) r.mutationToken = tokenOf(p, ctx);
  return r;
}

function valueResult(key: string, p: Packet, o: KvOptions, ctx: BuildContext): Result {
  const flags = p.extras.length >= 4 ? p.extras.readUInt32BE(0) : 0;
  let value: unknown;
  if (o.noFormat) value = Buffer.from(p.value);
  else value = ctx.transcoder.decode(key, p.value, flags, o.format === undefined || o.format === FMT_AUTO ? undefined : o.format);
  return new ValueResult(key, value, p.cas, flags);
}

const noExtras = (): number => 0;
const writeNothing = (): void => {};
// touch and lock: expiry(4), the ttl option (0 when absent)
const ttlExtrasLength = (): number => 4;
const writeTtlExtras = (buf: Buffer, off: number, o: KvOptions): void => {
  buf.writeUInt32BE(o.ttl ?? 0, off);
};
const casOption = (o: KvOptions): bigint => o.cas ?? 0n;
const noCas = (): bigint => 0n;

function store(name: OpName, opcode: number, errors: OpSpec['errors'], allowCas: boolean): OpSpec {
  return {
    name,
    opcode,
    retrySafe: false,
    value: 'value',
    defaultFormat: FMT_JSON,
    durable: true,
    composite: false,
    validate(key, o) {
      checkTtl(key, o);
      checkCas(key, o);
      checkDurability(key, o);
      if (!allowCas && o.cas !== undefined && o.cas !== 0n) throw new ArgumentError(`${name} does not take a cas (key "${key}"); use replace`, { key });
    },
    opcodeFor: () => opcode,
    extrasLength: () => 8,
    writeExtras(buf, off, o, flags) {
      buf.writeUInt32BE(flags >>> 0, off);
      buf.writeUInt32BE(o.ttl ?? 0, off + 4);
    },
    casOf: allowCas ? casOption : noCas,
    build: mutationResult,
    errors,
  };
}

function concat(name: OpName, opcode: number): OpSpec {
  return {
    name,
    opcode,
    retrySafe: false,
    value: 'value',
    defaultFormat: FMT_UTF8,
    durable: true,
    composite: false,
    validate(key, o) {
      checkCas(key, o);
      checkDurability(key, o);
      if (o.format === FMT_JSON) throw new ArgumentError(`${name} cannot add to a JSON document (key "${key}"); use format FMT_UTF8 or FMT_BYTES`, { key });
      if (o.ttl) throw new ArgumentError(`${name} does not take a ttl (key "${key}")`, { key });
    },
    opcodeFor: () => opcode,
    extrasLength: noExtras,
    writeExtras: writeNothing,
    casOf: casOption,
    build: mutationResult,
    errors: { [Status.NOT_STORED]: [NotStoredError, 'the document does not exist; append/prepend need an existing document'], [Status.KEY_ENOENT]: [NotStoredError, 'the document does not exist; append/prepend need an existing document'] },
  };
}

function toBigInt(v: number | bigint, what: string, key: string): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new ArgumentError(`${what} for key "${key}" must be an integer (got ${v})`, { key });
  return BigInt(v);
}

const U64 = 0xffffffffffffffffn;

function composite(name: OpName, retrySafe: boolean, validate: (key: string, o: KvOptions) => void): OpSpec {
  return {
    name,
    opcode: -1,
    retrySafe,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: false,
    composite: true,
    validate,
    opcodeFor: () => -1,
    extrasLength: noExtras,
    writeExtras: writeNothing,
    casOf: noCas,
    build() {
      throw new Error(`${name} is composite`);
    },
    errors: {},
  };
}

export const OPERATIONS: Readonly<Record<OpName, OpSpec>> = {
  upsert: store('upsert', Opcode.SET, {}, true),
  insert: store('insert', Opcode.ADD, { [Status.NOT_STORED]: [KeyExistsError, 'the document already exists; use upsert or replace'], [Status.KEY_EEXISTS]: [KeyExistsError, 'the document already exists; use upsert or replace'] }, false),
  replace: store('replace', Opcode.REPLACE, { [Status.NOT_STORED]: [NotFoundError, 'the document does not exist; use insert or upsert'], [Status.KEY_ENOENT]: [NotFoundError, 'the document does not exist; use insert or upsert'] }, true),
  append: concat('append', Opcode.APPEND),
  prepend: concat('prepend', Opcode.PREPEND),

  get: {
    name: 'get',
    opcode: Opcode.GET,
    retrySafe: true,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: false,
    composite: false,
    validate: checkTtl,
    // get with a ttl is get-and-touch; then the reply is still a value
    opcodeFor: (o) => (o.ttl !== undefined ? Opcode.GAT : Opcode.GET),
    extrasLength: (o) => (o.ttl !== undefined ? 4 : 0),
    writeExtras(buf, off, o) {
      if (o.ttl !== undefined) buf.writeUInt32BE(o.ttl, off);
    },
    casOf: noCas,
    build: valueResult,
    errors: {},
  },

  touch: {
    name: 'touch',
    opcode: Opcode.TOUCH,
    retrySafe: true,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: false,
    composite: false,
    validate: checkTtl,
    opcodeFor: () => Opcode.TOUCH,
    extrasLength: ttlExtrasLength,
    writeExtras: writeTtlExtras,
    casOf: noCas,
    build: mutationResult,
    errors: {},
  },

  lock: {
    name: 'lock',
    opcode: Opcode.GET_LOCKED,
    retrySafe: false,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: false,
    composite: false,
    validate(key, o) {
      checkTtl(key, o);
      if (!o.ttl) throw new ArgumentError(`lock on key "${key}" needs ttl: the lock time in seconds (max 30)`, { key });
    },
    opcodeFor: () => Opcode.GET_LOCKED,
    extrasLength: ttlExtrasLength,
    writeExtras: writeTtlExtras,
    casOf: noCas,
    build: valueResult,
    errors: {},
  },

  unlock: {
    name: 'unlock',
    opcode: Opcode.UNLOCK_KEY,
    retrySafe: true,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: false,
    composite: false,
    validate(key, o) {
      checkCas(key, o);
      if (!o.cas) throw new ArgumentError(`unlock on key "${key}" needs the cas that lock() returned`, { key });
    },
    opcodeFor: () => Opcode.UNLOCK_KEY,
    extrasLength: noExtras,
    writeExtras: writeNothing,
    casOf: casOption,
    build: (key, p) => new OperationResult(key, p.cas),
    errors: {},
  },

  remove: {
    name: 'remove',
    opcode: Opcode.DELETE,
    retrySafe: false,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: true,
    composite: false,
    validate(key, o) {
      checkCas(key, o);
      checkDurability(key, o);
    },
    opcodeFor: () => Opcode.DELETE,
    extrasLength: noExtras,
    writeExtras: writeNothing,
    casOf: casOption,
    build: mutationResult,
    errors: {},
  },

  counter: {
    name: 'counter',
    opcode: Opcode.INCREMENT,
    retrySafe: false,
    value: 'none',
    defaultFormat: FMT_JSON,
    durable: true,
    composite: false,
    validate(key, o) {
      checkTtl(key, o);
      checkDurability(key, o);
      const d = toBigInt(o.delta ?? 1, 'delta', key);
      if (d > U64 || -d > U64) throw new ArgumentError(`delta for key "${key}" does not fit 64 bits`, { key });
      if (o.initial !== undefined) {
        const i = toBigInt(o.initial, 'initial', key);
        if (i < 0n || i > U64) throw new ArgumentError(`initial for key "${key}" must be from 0 to 2^64-1`, { key });
      }
    },
    opcodeFor: (o) => (typeof o.delta === 'bigint' ? o.delta < 0n : (o.delta ?? 1) < 0) ? Opcode.DECREMENT : Opcode.INCREMENT,
    extrasLength: () => 20,
    writeExtras(buf, off, o) {
      let d = typeof o.delta === 'bigint' ? o.delta : BigInt(o.delta ?? 1);
      if (d < 0n) d = -d;
      buf.writeBigUInt64BE(d, off);
      const initial = o.initial === undefined ? 0n : typeof o.initial === 'bigint' ? o.initial : BigInt(o.initial);
      buf.writeBigUInt64BE(initial, off + 8);
      // 0xffffffff: do not create a missing counter (the caller gave no initial value).
      buf.writeUInt32BE(o.initial === undefined ? 0xffffffff : (o.ttl ?? 0), off + 16);
    },
    casOf: noCas,
    build(key, p, _o, ctx) {
      let value: number | bigint = 0;
      if (p.value.length === 8) {
        const big = p.value.readBigUInt64BE(0);
        value = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      } else if (p.value.length > 0) {
        value = Number(p.value.toString('ascii'));
      }
      const r = new ValueResult(key, value, p.cas, 0);
      if (ctx.exposeTokens) r.mutationToken = tokenOf(p, ctx);
      return r;
    },
    errors: {},
  },

  getReplica: composite('getReplica', true, (key, o) => {
    const r = o.replica;
    if (r !== undefined && r !== 'any' && (!Number.isInteger(r) || r < 0 || r > 3)) {
      throw new ArgumentError(`replica for key "${key}" must be 'any' or an index from 0 to 3`, { key });
    }
  }),
  observe: composite('observe', true, () => {}),
  endure: composite('endure', true, (key, o) => {
    checkCas(key, o);
    checkDurability(key, o);
    if (!o.persistTo && !o.replicateTo) throw new ArgumentError(`endure on key "${key}" needs persistTo and/or replicateTo`, { key });
  }),
  stats: composite('stats', true, () => {}),
};

export function opSpec(name: string): OpSpec {
  const spec = (OPERATIONS as Record<string, OpSpec | undefined>)[name];
  if (spec === undefined) throw new ArgumentError(`unknown operation "${name}"; known: ${Object.keys(OPERATIONS).join(', ')}`);
  return spec;
}
