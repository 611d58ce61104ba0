// The KV operation table. One op() row per operation says everything the engine needs (opcode,
// extras layout, whether a value is sent, how the reply becomes a result, which statuses mean
// something special for it, whether it is safe to send twice) and everything the flavours derive
// their methods and types from (argument names, positional option, accepted options, result,
// *Multi variant). The rows follow the Python SDK 2.5 Bucket: its method names in camelCase,
// its keyword arguments as options. A new operation is one row here; a composite one adds its
// runner in composite/ and sets `run`.
import { Opcode } from '../../protocol/opcodes';
import { Status } from '../../protocol/status';
import { COUNTER_NO_CREATE, writeCounterExtras, writeExpiryExtras, writeMutationExtras } from '../../protocol/extras';
import { ArgumentError, KeyExistsError, NotFoundError, NotStoredError } from '../errors';
import { OperationResult, ValueResult } from '../results';
import { FMT_JSON, FMT_UTF8 } from '../transcoder';
import { lookupBody, lookupResult, mutationBody, mutationDocFlags, mutationResult as subdocMutationResult } from '../subdoc';
import type { KvHost } from './host';
import {
  op,
  casOption,
  noCas,
  checkCas,
  checkDurability,
  checkTtl,
  mutationResult,
  tokenOf,
  valueResult,
  type KvOptions,
  type OpInit,
  type OpSpec,
  type Row,
} from './spec';
import { getReplica } from './composite/replica';
import { observe } from './composite/observe';
import { endure } from './composite/durability';
import { stats } from './composite/stats';
import * as ds from './composite/datastructures';

export type { BuildContext, KvOptions, OpSpec } from './spec';

/** A row of this table (composite rows run against the KV pipeline, kv/host.ts). */
function row<const I extends OpInit<KvHost>>(init: I): Row<I, KvHost> {
  return op<KvHost, I>(init);
}

// touch and lock: expiry(4), the ttl option (0 when absent)
const ttlExtrasLength = (): number => 4;
const writeTtlExtras = (buf: Buffer, off: number, o: KvOptions): void => writeExpiryExtras(buf, off, o.ttl ?? 0);

const DURABILITY = ['persistTo', 'replicateTo'] as const;

function store<N extends string>(name: N, opcode: number, errors: OpSpec['errors'], allowCas: boolean) {
  return row({
    name,
    opcode,
    retrySafe: false,
    value: 'value',
    result: 'mutation',
    hasMulti: true,
    positional: null,
    options: allowCas ? ['cas', 'ttl', 'format', ...DURABILITY] : ['ttl', 'format', ...DURABILITY],
    durable: true,
    validate(key, o) {
      checkTtl(key, o);
      checkCas(key, o);
      checkDurability(key, o);
    },
    extrasLength: () => 8,
    writeExtras: (buf, off, o, flags) => writeMutationExtras(buf, off, flags, o.ttl ?? 0),
    casOf: allowCas ? casOption : noCas,
    build: mutationResult,
    errors,
  });
}

function concat<N extends string>(name: N, opcode: number) {
  const missing = [NotStoredError, 'the document does not exist; append/prepend need an existing document'] as const;
  return row({
    name,
    opcode,
    retrySafe: false,
    value: 'value',
    result: 'mutation',
    hasMulti: true,
    positional: null,
    options: ['cas', 'format', ...DURABILITY],
    // Python: FMT_UTF8 whatever the bucket's default_format (JSON cannot be appended to).
    defaultFormat: FMT_UTF8,
    multiValue: 'fragment',
    durable: true,
    validate(key, o) {
      checkCas(key, o);
      checkDurability(key, o);
      if (o.format === FMT_JSON) throw new ArgumentError(`${name} cannot add to a JSON document (key "${key}"); use format FMT_UTF8 or FMT_BYTES`, { key });
    },
    casOf: casOption,
    build: mutationResult,
    errors: { [Status.NOT_STORED]: missing, [Status.KEY_ENOENT]: missing },
  });
}

function toBigInt(v: number | bigint, what: string, key: string): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new ArgumentError(`${what} for key "${key}" must be an integer (got ${v})`, { key });
  return BigInt(v);
}

const U64 = 0xffffffffffffffffn;
const exists = [KeyExistsError, 'the document already exists; use upsert or replace'] as const;
const absent = [NotFoundError, 'the document does not exist; use insert or upsert'] as const;

/** Python's rget: one replica (replicaIndex) or the first to answer. */
const getReplicaRow = row({
  name: 'getReplica',
  opcode: -1,
  retrySafe: true,
  value: 'none',
  result: 'value',
  hasMulti: true,
  positional: null,
  options: ['replicaIndex', 'replica', 'quiet', 'noFormat', 'format'],
  quietMiss: true,
  validate(key, o) {
    const r = o.replicaIndex ?? o.replica;
    if (r !== undefined && r !== 'any' && r !== true && (!Number.isInteger(r) || (r as number) < 0 || (r as number) > 3)) {
      throw new ArgumentError(`replicaIndex for key "${key}" must be an index from 0 to 3 (or replica: 'any')`, { key });
    }
  },
  run: getReplica,
});

/** lookupIn's reply rules, shared with retrieveIn. */
function lookupRow<const N extends string, const A extends readonly string[]>(name: N, args: A) {
  return row({
    name,
    opcode: Opcode.SUBDOC_MULTI_LOOKUP,
    retrySafe: true,
    value: 'body',
    result: 'subdoc',
    hasMulti: false,
    positional: null,
    args,
    options: ['quiet'],
    quietMiss: true,
    body: lookupBody,
    alsoBuilds: Status.SUBDOC_MULTI_PATH_FAILURE,
    build: (key, p, o) => lookupResult(key, p, o),
  });
}

// Data structures (Python's map_*/list_*/set_*/queue_*): sub-document underneath, as composites.
const DS_MUTATION = ['create', 'cas', 'ttl', ...DURABILITY] as const;
function dsRow<const N extends string, const A extends readonly string[], const R extends 'subdoc' | 'value' | 'count' | 'flag' | 'optional'>(
  name: N,
  args: A,
  result: R,
  options: readonly string[],
  run: NonNullable<OpSpec<KvHost>['run']>,
  creates: OpSpec['creates'] = null,
) {
  // A mutation takes persistTo/replicateTo (and a durability() context), passed on to mutateIn.
  return row({ name, opcode: -1, retrySafe: false, value: 'none', result, hasMulti: false, positional: null, args, options, durable: options.includes('persistTo'), run, creates });
}

export const OPERATIONS = {
  upsert: store('upsert', Opcode.SET, {}, true),
  insert: store('insert', Opcode.ADD, { [Status.NOT_STORED]: exists, [Status.KEY_EEXISTS]: exists }, false),
  replace: store('replace', Opcode.REPLACE, { [Status.NOT_STORED]: absent, [Status.KEY_ENOENT]: absent }, true),
  append: concat('append', Opcode.APPEND),
  prepend: concat('prepend', Opcode.PREPEND),

  get: row({
    name: 'get',
    opcode: Opcode.GET,
    retrySafe: true,
    value: 'none',
    result: 'value',
    hasMulti: true,
    positional: null,
    options: ['ttl', 'quiet', 'replica', 'noFormat', 'format'],
    multiValue: 'ttl',
    quietMiss: true,
    validate: checkTtl,
    // get(key, { replica: true }) reads a replica, as Python's does.
    divert: (o) => (o.replica ? getReplicaRow : null),
    // get with a ttl is get-and-touch; then the reply is still a value
    opcodeFor: (o) => (o.ttl !== undefined ? Opcode.GAT : Opcode.GET),
    extrasLength: (o) => (o.ttl !== undefined ? 4 : 0),
    writeExtras(buf, off, o) {
      if (o.ttl !== undefined) writeExpiryExtras(buf, off, o.ttl);
    },
    build: valueResult,
  }),

  touch: row({
    name: 'touch',
    opcode: Opcode.TOUCH,
    retrySafe: true,
    value: 'none',
    result: 'mutation',
    hasMulti: true,
    positional: 'ttl',
    options: ['ttl'],
    validate: checkTtl,
    extrasLength: ttlExtrasLength,
    writeExtras: writeTtlExtras,
    build: mutationResult,
  }),

  lock: row({
    name: 'lock',
    opcode: Opcode.GET_LOCKED,
    retrySafe: false,
    value: 'none',
    result: 'value',
    hasMulti: true,
    positional: 'ttl',
    options: ['ttl'],
    validate(key, o) {
      checkTtl(key, o);
      if (!o.ttl) throw new ArgumentError(`lock on key "${key}" needs ttl: the lock time in seconds (max 30)`, { key });
    },
    extrasLength: ttlExtrasLength,
    writeExtras: writeTtlExtras,
    build: valueResult,
  }),

  unlock: row({
    name: 'unlock',
    opcode: Opcode.UNLOCK_KEY,
    retrySafe: true,
    value: 'none',
    result: 'mutation',
    hasMulti: true,
    positional: 'cas',
    options: ['cas'],
    validate(key, o) {
      checkCas(key, o);
      if (!o.cas) throw new ArgumentError(`unlock on key "${key}" needs the cas that lock() returned`, { key });
    },
    casOf: casOption,
    build: (key, p) => new OperationResult(key, p.cas),
  }),

  remove: row({
    name: 'remove',
    opcode: Opcode.DELETE,
    retrySafe: false,
    value: 'none',
    result: 'mutation',
    hasMulti: true,
    positional: null,
    options: ['cas', 'quiet', ...DURABILITY],
    durable: true,
    removes: true,
    quietMiss: true,
    multiValue: 'cas',
    validate(key, o) {
      checkCas(key, o);
      checkDurability(key, o);
    },
    casOf: casOption,
    build: mutationResult,
  }),

  counter: row({
    name: 'counter',
    opcode: Opcode.INCREMENT,
    retrySafe: false,
    value: 'none',
    result: 'value',
    hasMulti: true,
    positional: 'delta',
    options: ['delta', 'initial', 'ttl', ...DURABILITY],
    durable: true,
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
    opcodeFor: (o) => ((typeof o.delta === 'bigint' ? o.delta < 0n : (o.delta ?? 1) < 0) ? Opcode.DECREMENT : Opcode.INCREMENT),
    extrasLength: () => 20,
    writeExtras(buf, off, o) {
      let d = typeof o.delta === 'bigint' ? o.delta : BigInt(o.delta ?? 1);
      if (d < 0n) d = -d;
      const initial = o.initial === undefined ? 0n : typeof o.initial === 'bigint' ? o.initial : BigInt(o.initial);
      // No initial value: the server must not create a missing counter.
      writeCounterExtras(buf, off, d, initial, o.initial === undefined ? COUNTER_NO_CREATE : (o.ttl ?? 0));
    },
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
  }),

  getReplica: getReplicaRow,

  observe: row({
    name: 'observe',
    opcode: -1,
    retrySafe: true,
    value: 'none',
    result: 'observe',
    hasMulti: true,
    positional: null,
    options: ['masterOnly'],
    run: observe,
  }),

  endure: row({
    name: 'endure',
    opcode: -1,
    retrySafe: true,
    value: 'none',
    result: 'mutation',
    hasMulti: true,
    positional: null,
    options: ['persistTo', 'replicateTo', 'cas', 'checkRemoved', 'interval'],
    multiValue: 'cas',
    validate(key, o) {
      checkCas(key, o);
      checkDurability(key, o);
      if (o.interval !== undefined && (typeof o.interval !== 'number' || !(o.interval > 0))) {
        throw new ArgumentError(`interval for key "${key}" must be a positive number of seconds`, { key });
      }
    },
    run: endure,
  }),

  stats: row({
    name: 'stats',
    opcode: -1,
    retrySafe: true,
    value: 'none',
    result: 'stats',
    hasMulti: false,
    positional: null,
    options: ['keystats', 'keys'],
    keyKind: 'statGroup',
    run: stats,
  }),

  lookupIn: lookupRow('lookupIn', ['...specs']),
  retrieveIn: lookupRow('retrieveIn', ['...paths']),

  mutateIn: row({
    name: 'mutateIn',
    opcode: Opcode.SUBDOC_MULTI_MUTATION,
    retrySafe: false,
    value: 'body',
    result: 'subdoc',
    hasMulti: false,
    positional: null,
    args: ['...specs'],
    options: ['cas', 'ttl', 'createDoc', 'upsertDoc', 'insertDoc', ...DURABILITY],
    durable: true,
    validate(key, o) {
      checkTtl(key, o);
      checkCas(key, o);
      checkDurability(key, o);
      if ((o.createDoc || o.upsertDoc) && o.insertDoc) throw new ArgumentError(`mutateIn on key "${key}": insertDoc and upsertDoc/createDoc exclude each other`, { key });
    },
    body: mutationBody,
    // expiry(4) when a ttl is given, then the document flags byte when one is set
    extrasLength: (o) => (o.ttl ? 4 : 0) + (mutationDocFlags(o) !== 0 ? 1 : 0),
    writeExtras(buf, off, o) {
      if (o.ttl) {
        writeExpiryExtras(buf, off, o.ttl);
        off += 4;
      }
      const flags = mutationDocFlags(o);
      if (flags !== 0) buf[off] = flags;
    },
    casOf: casOption,
    alsoBuilds: Status.SUBDOC_MULTI_PATH_FAILURE,
    build(key, p, o, ctx) {
      const r = subdocMutationResult(key, p, o);
      if (ctx.exposeTokens) r.mutationToken = tokenOf(p, ctx);
      return r;
    },
  }),

  mapAdd: dsRow('mapAdd', ['mapkey', 'value'], 'subdoc', DS_MUTATION, ds.mapAdd, 'map'),
  mapGet: dsRow('mapGet', ['mapkey'], 'value', [], ds.mapGet),
  mapRemove: dsRow('mapRemove', ['mapkey'], 'subdoc', DS_MUTATION, ds.mapRemove),
  mapSize: dsRow('mapSize', [], 'count', [], ds.size),
  listAppend: dsRow('listAppend', ['value'], 'subdoc', DS_MUTATION, ds.listAppend, 'list'),
  listPrepend: dsRow('listPrepend', ['value'], 'subdoc', DS_MUTATION, ds.listPrepend, 'list'),
  listSet: dsRow('listSet', ['index', 'value'], 'subdoc', DS_MUTATION, ds.listSet),
  listGet: dsRow('listGet', ['index'], 'value', [], ds.listGet),
  listRemove: dsRow('listRemove', ['index'], 'subdoc', DS_MUTATION, ds.listRemove),
  listSize: dsRow('listSize', [], 'count', [], ds.size),
  setAdd: dsRow('setAdd', ['value'], 'optional', DS_MUTATION, ds.setAdd, 'list'),
  setRemove: dsRow('setRemove', ['value'], 'optional', DS_MUTATION, ds.setRemove),
  setContains: dsRow('setContains', ['value'], 'flag', [], ds.setContains),
  setSize: dsRow('setSize', [], 'count', [], ds.size),
  queuePush: dsRow('queuePush', ['value'], 'subdoc', DS_MUTATION, ds.listPrepend, 'list'),
  queuePop: dsRow('queuePop', [], 'value', DS_MUTATION, ds.queuePop),
  queueSize: dsRow('queueSize', [], 'count', [], ds.size),
};

export type OpName = keyof typeof OPERATIONS;

export function opSpec(name: string): OpSpec<KvHost> {
  const spec = (OPERATIONS as Record<string, OpSpec<KvHost> | undefined>)[name];
  if (spec === undefined) throw new ArgumentError(`unknown operation "${name}"; known: ${Object.keys(OPERATIONS).join(', ')}`);
  return spec;
}
