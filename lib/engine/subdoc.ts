// Sub-document specs (Python's couchbase.subdocument, the `SD` module): the builders, their
// encoding into a multi-lookup / multi-mutation request body, and the reply turned into a
// SubdocResult with Python's rules: a lookup whose paths are merely missing succeeds (the result
// says which), any other per-path failure raises that path's error; a mutation is all or nothing
// and raises the error of the spec that failed.
import { Opcode } from '../protocol/opcodes';
import type { Packet } from '../protocol/packet';
import { Status } from '../protocol/status';
import { SUBDOC_MAX_SPECS, SubdocPathFlag, decodeLookupResults, decodeMutationResults, encodeLookupSpecs, encodeMutationSpecs } from '../protocol/subdoc';
import { ArgumentError, ErrorCode, SubdocEmptyPathError, errorForStatus } from './errors';
import { SubdocResult, type SubdocEntry } from './results';
import { fromJson, toJson } from './transcoder';

interface OpInfo {
  opcode: number;
  lookup: boolean;
  /** 'none', one value, or several (the array pushes and insert). */
  takes: 'none' | 'one' | 'many';
  /** The path may be '' (the document root). */
  rootOk: boolean;
  /** createParents means something for it. */
  mkdir: boolean;
}

const OPS = {
  get: { opcode: Opcode.SUBDOC_GET, lookup: true, takes: 'none', rootOk: false, mkdir: false },
  exists: { opcode: Opcode.SUBDOC_EXISTS, lookup: true, takes: 'none', rootOk: false, mkdir: false },
  getCount: { opcode: Opcode.SUBDOC_GET_COUNT, lookup: true, takes: 'none', rootOk: true, mkdir: false },
  upsert: { opcode: Opcode.SUBDOC_DICT_UPSERT, lookup: false, takes: 'one', rootOk: false, mkdir: true },
  insert: { opcode: Opcode.SUBDOC_DICT_ADD, lookup: false, takes: 'one', rootOk: false, mkdir: true },
  replace: { opcode: Opcode.SUBDOC_REPLACE, lookup: false, takes: 'one', rootOk: false, mkdir: false },
  remove: { opcode: Opcode.SUBDOC_DELETE, lookup: false, takes: 'none', rootOk: false, mkdir: false },
  arrayAppend: { opcode: Opcode.SUBDOC_ARRAY_PUSH_LAST, lookup: false, takes: 'many', rootOk: true, mkdir: true },
  arrayPrepend: { opcode: Opcode.SUBDOC_ARRAY_PUSH_FIRST, lookup: false, takes: 'many', rootOk: true, mkdir: true },
  arrayInsert: { opcode: Opcode.SUBDOC_ARRAY_INSERT, lookup: false, takes: 'many', rootOk: false, mkdir: false },
  arrayAddUnique: { opcode: Opcode.SUBDOC_ARRAY_ADD_UNIQUE, lookup: false, takes: 'one', rootOk: true, mkdir: true },
  counter: { opcode: Opcode.SUBDOC_COUNTER, lookup: false, takes: 'one', rootOk: false, mkdir: true },
} satisfies Record<string, OpInfo>;

export type SubdocOp = keyof typeof OPS;

/** Per-spec options: Python's create_parents and xattr keywords. */
export interface SpecOptions {
  createParents?: boolean;
  xattr?: boolean;
}

/**
 * One sub-document command. Built by the SD functions and immutable; `withCreateParents()` and
 * `withXattr()` give modified copies (Python's keyword arguments).
 */
export class SubdocSpec {
  constructor(
    readonly op: SubdocOp,
    readonly path: string,
    /** The value (or, for the array pushes and arrayInsert, the values). */
    readonly value: unknown,
    readonly createParents: boolean,
    readonly xattr: boolean,
  ) {
    if (!Object.prototype.hasOwnProperty.call(OPS, op)) throw new ArgumentError(`unknown sub-document command "${String(op)}"`);
    if (typeof path !== 'string') throw new ArgumentError(`SD.${op}: the path must be a string, got ${typeof path}`);
    Object.freeze(this);
  }

  /** Valid in lookupIn (true) or in mutateIn (false). */
  get isLookup(): boolean {
    return OPS[this.op].lookup;
  }

  withCreateParents(on = true): SubdocSpec {
    return new SubdocSpec(this.op, this.path, this.value, on, this.xattr);
  }

  withXattr(on = true): SubdocSpec {
    return new SubdocSpec(this.op, this.path, this.value, this.createParents, on);
  }

  toString(): string {
    return `SubdocSpec<${this.op}, ${JSON.stringify(this.path)}>`;
  }
}

function optionsOf(o: boolean | SpecOptions | undefined): SpecOptions {
  return typeof o === 'boolean' ? { createParents: o } : (o ?? {});
}

function spec(op: SubdocOp, path: string, value: unknown, o: boolean | SpecOptions | undefined): SubdocSpec {
  const { createParents = false, xattr = false } = optionsOf(o);
  return new SubdocSpec(op, path, value, createParents, xattr);
}

// --- the builders (Python's couchbase.subdocument functions) ----------------------------------

/** The value at `path` (lookupIn). */
export function get(path: string, options?: SpecOptions): SubdocSpec {
  return spec('get', path, undefined, options);
}
/** Whether `path` exists; the value is not sent (lookupIn). */
export function exists(path: string, options?: SpecOptions): SubdocSpec {
  return spec('exists', path, undefined, options);
}
/** The number of entries of the array or object at `path` ('' for the document) (lookupIn). */
export function getCount(path: string, options?: SpecOptions): SubdocSpec {
  return spec('getCount', path, undefined, options);
}
/** Sets a dictionary path, creating or replacing it (mutateIn). */
export function upsert(path: string, value: unknown, createParents?: boolean | SpecOptions): SubdocSpec {
  return spec('upsert', path, value, createParents);
}
/** Creates a dictionary path; SubdocPathExistsError if it exists (mutateIn). */
export function insert(path: string, value: unknown, createParents?: boolean | SpecOptions): SubdocSpec {
  return spec('insert', path, value, createParents);
}
/** Replaces an existing path (mutateIn). */
export function replace(path: string, value: unknown, options?: SpecOptions): SubdocSpec {
  return spec('replace', path, value, options);
}
/** Removes a path (mutateIn). */
export function remove(path: string, options?: SpecOptions): SubdocSpec {
  return spec('remove', path, undefined, options);
}
/** Appends one or more values to the array at `path` ('' for a document that is an array) (mutateIn). */
export function arrayAppend(path: string, ...values: unknown[]): SubdocSpec {
  return spec('arrayAppend', path, values, undefined);
}
/** Prepends one or more values to the array at `path` (mutateIn). */
export function arrayPrepend(path: string, ...values: unknown[]): SubdocSpec {
  return spec('arrayPrepend', path, values, undefined);
}
/** Inserts values at the position `path` names (`arr[2]`) (mutateIn). */
export function arrayInsert(path: string, ...values: unknown[]): SubdocSpec {
  return spec('arrayInsert', path, values, undefined);
}
/** Adds a primitive value to the array unless it is there; SubdocPathExistsError if it is (mutateIn). */
export function arrayAddUnique(path: string, value: unknown, createParents?: boolean | SpecOptions): SubdocSpec {
  return spec('arrayAddUnique', path, value, createParents);
}
/** Adds `delta` (a non-zero integer) to the number at `path`, creating it with `delta` if missing (mutateIn). */
export function counter(path: string, delta: number | bigint, createParents?: boolean | SpecOptions): SubdocSpec {
  if (typeof delta === 'bigint' ? delta === 0n : !Number.isInteger(delta) || delta === 0) {
    throw new ArgumentError(`SD.counter("${path}"): the delta must be a non-zero integer (got ${String(delta)})`);
  }
  return spec('counter', path, delta, createParents);
}

// --- requests ---------------------------------------------------------------------------------

function checkSpecs(method: string, key: string, specs: readonly unknown[] | undefined, lookup: boolean): readonly SubdocSpec[] {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new ArgumentError(`${method}("${key}") needs at least one spec`, { key, rc: ErrorCode.ENO_COMMANDS });
  }
  if (specs.length > SUBDOC_MAX_SPECS) throw new ArgumentError(`${method}("${key}") takes at most ${SUBDOC_MAX_SPECS} specs, got ${specs.length}`, { key });
  for (const s of specs) {
    if (!(s instanceof SubdocSpec)) {
      const what = method === 'retrieveIn' ? 'each path must be a string' : 'each spec must come from SD (SD.get, SD.upsert, ...)';
      throw new ArgumentError(`${method}("${key}"): ${what}, got ${describe(s)}`, { key });
    }
    if (s.isLookup !== lookup) {
      throw new ArgumentError(`${method}("${key}"): SD.${s.op} is only valid in ${s.isLookup ? 'lookupIn' : 'mutateIn'}`, { key, rc: ErrorCode.OPTIONS_CONFLICT });
    }
    if (s.path === '' && !OPS[s.op].rootOk) {
      throw new SubdocEmptyPathError(`${method}("${key}"): SD.${s.op} needs a path`, { key, objextra: s.path });
    }
  }
  return specs as readonly SubdocSpec[];
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : typeof v;
}

function pathFlags(s: SubdocSpec): number {
  return (s.xattr ? SubdocPathFlag.XATTR : 0) | (s.createParents && OPS[s.op].mkdir ? SubdocPathFlag.MKDIR_P : 0);
}

/** What lookupIn / mutateIn / retrieveIn carry: the specs, or (retrieveIn) the paths to get. */
interface SpecCarrier {
  specs?: readonly unknown[];
  paths?: readonly unknown[];
}

/** The call's specs: its own, or SD.get of each path (retrieveIn). */
function specsOf(o: SpecCarrier): readonly unknown[] | undefined {
  if (o.paths === undefined) return o.specs;
  return o.paths.map((p) => (typeof p === 'string' ? get(p) : p));
}

/** The multi-lookup body of lookupIn (or retrieveIn, whose paths become SD.get specs). */
export function lookupBody(key: string, o: SpecCarrier): Buffer {
  const list = checkSpecs(o.paths !== undefined ? 'retrieveIn' : 'lookupIn', key, specsOf(o), true);
  return encodeLookupSpecs(list.map((s) => ({ opcode: OPS[s.op].opcode, flags: pathFlags(s), path: s.path })));
}

function valueText(key: string, s: SubdocSpec): string {
  const what = `the value for sub-document path "${s.path}" of key "${key}"`;
  switch (OPS[s.op].takes) {
    case 'none':
      return '';
    case 'many': {
      const values = s.value as unknown[];
      if (values.length === 0) throw new ArgumentError(`SD.${s.op}("${s.path}") needs at least one value`, { key });
      return values.map((v) => toJson(what, v)).join(',');
    }
    default:
      return s.op === 'counter' ? String(s.value) : toJson(what, s.value);
  }
}

/** The multi-mutation body of mutateIn. */
export function mutationBody(key: string, o: SpecCarrier): Buffer {
  const list = checkSpecs('mutateIn', key, o.specs, false);
  return encodeMutationSpecs(list.map((s) => ({ opcode: OPS[s.op].opcode, flags: pathFlags(s), path: s.path, value: valueText(key, s) })));
}

/** mutateIn's whole-document flags (Python's create_doc / upsert_doc / insert_doc). */
export function mutationDocFlags(o: { createDoc?: boolean; upsertDoc?: boolean; insertDoc?: boolean }): number {
  return (o.createDoc || o.upsertDoc ? 0x01 : 0) | (o.insertDoc ? 0x02 : 0);
}

// --- replies ----------------------------------------------------------------------------------

function pathError(key: string, s: SubdocSpec | undefined, status: number): Error {
  const err = errorForStatus(status, key);
  if (s !== undefined) {
    err.message = `${s.isLookup ? 'lookupIn' : 'mutateIn'} SD.${s.op}("${s.path}"): ${err.message}`;
    err.objextra = s.path;
  }
  return err;
}

/** A lookup reply (success, or the multi-path failure) as a SubdocResult; throws for failures other than missing paths. */
export function lookupResult(key: string, p: Packet, o: SpecCarrier): SubdocResult {
  const specs = (specsOf(o) ?? []) as readonly SubdocSpec[];
  const entries: SubdocEntry[] = [];
  const replies = decodeLookupResults(p.value);
  for (let i = 0; i < replies.length; i++) {
    const { status, value } = replies[i];
    const s = specs[i];
    if (status !== Status.SUCCESS) {
      if (status !== Status.SUBDOC_PATH_ENOENT) throw pathError(key, s, status);
      entries.push([ErrorCode.SUBDOC_PATH_ENOENT, undefined]);
      continue;
    }
    if (s === undefined || s.op === 'exists') entries.push([0, undefined]);
    else if (s.op === 'getCount') entries.push([0, Number(value.toString('ascii'))]);
    else entries.push([0, fromJson(`sub-document path "${s.path}" of key "${key}"`, value.toString('utf8'))]);
  }
  const rc = p.status === Status.SUCCESS ? 0 : ErrorCode.SUBDOC_MULTI_FAILURE;
  return new SubdocResult(key, p.cas, specs.map((s) => s.path), entries, rc);
}

/** A mutation reply as a SubdocResult (counter values filled in); throws the failing spec's error. */
export function mutationResult(key: string, p: Packet, o: SpecCarrier): SubdocResult {
  const specs = (o.specs ?? []) as readonly SubdocSpec[];
  const replies = decodeMutationResults(p.value, p.status);
  if (p.status !== Status.SUCCESS) {
    const failed = replies[0];
    throw pathError(key, failed === undefined ? undefined : specs[failed.index], failed?.status ?? p.status);
  }
  const entries: SubdocEntry[] = specs.map(() => [0, undefined]);
  for (const r of replies) {
    if (r.index < entries.length && r.value !== undefined) entries[r.index] = [0, Number(r.value.toString('ascii'))];
  }
  return new SubdocResult(key, p.cas, specs.map((s) => s.path), entries, 0);
}

