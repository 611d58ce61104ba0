// Sub-document commands (PROTOCOL.md §1.5; kv_engine's subdocument validators and executors):
// multi lookup / multi mutation and the single-path opcodes, on the document body and its
// extended attributes (user, system and virtual), with AccessDeleted, CreateAsDeleted and
// ReviveDocument on deleted documents and macro expansion in xattr values.
//
// A request is first validated as kv_engine's validator does it (statuses for the whole request:
// EINVAL, SUBDOC_INVALID_COMBO, XATTR_EINVAL, SUBDOC_XATTR_*, SUBDOC_INVALID_XATTR_ORDER,
// NOT_SUPPORTED without the XATTR HELLO feature, EACCESS without the xattr privileges), then run
// on one consistent view of the document; mutations are all-or-nothing. The JSON path machinery
// is in kv/subdoc/paths.ts, xattrs in kv/subdoc/xattr-draft.ts, virtual xattrs and macros in
// kv/subdoc/vattrs.ts.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { ProtocolError, type Packet } from '../../../protocol/packet';
import {
  SUBDOC_MAX_SPECS as MAX_SPECS,
  SPEC_TRUNCATED,
  SubdocDocFlag,
  SubdocPathFlag,
  decodeSubdocMutationExtras,
  encodeMutationFailure,
  lookupResultParts,
  encodeMutationResults,
  readLookupSpec,
  readMutationSpec,
  type LookupSpec,
  type SubdocMutationExtras,
} from '../../../protocol/subdoc';
import { StoreError, DATATYPE_JSON, MAX_VALUE_BYTES, type DocumentStore, type Item, type Tombstone } from '../../store';
import { isSystemXattr, isValidXattrKey, isVirtualXattr, MAX_SYSTEM_XATTR_BYTES, systemXattrsOf, xattrKeyOf, xattrSizes, type Xattrs } from '../../xattrs';
import { KvPrivilege } from '../../rbac/kv-privileges';
import { Feat } from '../features';
import type { CommandHandler, KvConnection, FrameOptions } from '../connection';
import type { KvRequest } from '../reader';
import { applyMutation, Body, Draft, isContainer, lookup, parsePath, PathError, type Json, type MutationSpec } from '../subdoc/paths';
import { jsonText } from '../subdoc/exact-json';
import { isKnownMacro, lookupVattr, MacroExpander, type DocView } from '../subdoc/vattrs';
import { XattrDraft } from '../subdoc/xattr-draft';

export { parsePath } from '../subdoc/paths';

const PATH_XATTR = SubdocPathFlag.XATTR;
const PATH_MKDIR_P = SubdocPathFlag.MKDIR_P;
const PATH_EXPAND = SubdocPathFlag.EXPAND_MACROS;
const DOC_MKDOC = SubdocDocFlag.MKDOC;
const DOC_ADD = SubdocDocFlag.ADD;
const DOC_ACCESS_DELETED = SubdocDocFlag.ACCESS_DELETED;
const DOC_CREATE_AS_DELETED = SubdocDocFlag.CREATE_AS_DELETED;
const DOC_REVIVE = SubdocDocFlag.REVIVE_DOCUMENT;
const DOC_REPLICA_READ = SubdocDocFlag.REPLICA_READ;
const LOOKUP_DOC_FLAGS = DOC_ACCESS_DELETED | DOC_REPLICA_READ;
const MUTATION_DOC_FLAGS = DOC_MKDOC | DOC_ADD | DOC_ACCESS_DELETED | DOC_CREATE_AS_DELETED | DOC_REVIVE;
const EMPTY = Buffer.alloc(0);
const LOCKED_CAS = 0xffffffffffffffffn;

/** kv_engine's SUBDOC_PATH_MAX_LENGTH, in bytes. */
const MAX_PATH_BYTES = 1024;

/** What kv_engine's traits say of one opcode inside a sub-document request. */
interface Traits {
  readonly mutator: boolean;
  /** Path flags it accepts (others: EINVAL). */
  readonly flags: number;
  /** Path flags it requires. */
  readonly mandatory: number;
  readonly docFlags: number;
  readonly emptyPath: boolean;
  readonly hasValue: boolean;
  /** GET / SET / DELETE of the whole document (no path). */
  readonly wholeDoc: boolean;
}

const trait = (mutator: boolean, flags: number, emptyPath: boolean, hasValue: boolean, extra: Partial<Traits> = {}): Traits => ({
  mutator,
  flags,
  mandatory: 0,
  docFlags: mutator ? MUTATION_DOC_FLAGS : LOOKUP_DOC_FLAGS,
  emptyPath,
  hasValue,
  wholeDoc: false,
  ...extra,
});

const CREATE = PATH_MKDIR_P | PATH_XATTR | PATH_EXPAND;
const TRAITS: ReadonlyMap<number, Traits> = new Map([
  [Opcode.GET, trait(false, 0, true, false, { wholeDoc: true })],
  [Opcode.SUBDOC_GET, trait(false, PATH_XATTR, false, false)],
  [Opcode.SUBDOC_EXISTS, trait(false, PATH_XATTR, false, false)],
  [Opcode.SUBDOC_GET_COUNT, trait(false, PATH_XATTR, true, false)],
  [Opcode.SET, trait(true, 0, true, true, { wholeDoc: true, docFlags: DOC_MKDOC | DOC_ADD })],
  [Opcode.DELETE, trait(true, 0, true, false, { wholeDoc: true, docFlags: DOC_MKDOC | DOC_ADD })],
  [Opcode.SUBDOC_DICT_ADD, trait(true, CREATE, false, true)],
  [Opcode.SUBDOC_DICT_UPSERT, trait(true, CREATE, false, true)],
  [Opcode.SUBDOC_DELETE, trait(true, PATH_XATTR, false, false)],
  [Opcode.SUBDOC_REPLACE, trait(true, PATH_XATTR | PATH_EXPAND, false, true)],
  [Opcode.SUBDOC_ARRAY_PUSH_LAST, trait(true, CREATE, true, true)],
  [Opcode.SUBDOC_ARRAY_PUSH_FIRST, trait(true, CREATE, true, true)],
  [Opcode.SUBDOC_ARRAY_ADD_UNIQUE, trait(true, CREATE, true, true)],
  [Opcode.SUBDOC_ARRAY_INSERT, trait(true, PATH_XATTR | PATH_EXPAND, false, true)],
  [Opcode.SUBDOC_COUNTER, trait(true, PATH_MKDIR_P | PATH_XATTR, false, true)],
  [Opcode.SUBDOC_REPLACE_BODY_WITH_XATTR, trait(true, PATH_XATTR, false, false, { mandatory: PATH_XATTR })],
]);

/** One spec of a request, validated. */
interface Spec extends MutationSpec {
  readonly xattr: boolean;
  /** The X-Key of an xattr path ('' for a body path). */
  readonly key: string;
  readonly traits: Traits;
}

/** A request-level refusal: its status answers the whole request. */
class RequestError extends Error {
  constructor(readonly status: number) {
    super(`subdoc request status 0x${status.toString(16)}`);
  }
}

/** kv_engine's validate_xattr_section for one spec. */
function checkXattrSection(c: KvConnection, mutator: boolean, flags: number, path: string, value: Buffer): string {
  if ((flags & PATH_XATTR) === 0) {
    if ((flags & PATH_EXPAND) !== 0) throw new RequestError(Status.SUBDOC_XATTR_INVALID_FLAG_COMBO);
    return '';
  }
  if (!c.has(Feat.XATTR)) throw new RequestError(Status.NOT_SUPPORTED);
  const key = xattrKeyOf(path);
  if (!isValidXattrKey(key)) throw new RequestError(Status.XATTR_EINVAL);
  if (mutator && isVirtualXattr(key)) throw new RequestError(Status.SUBDOC_XATTR_CANT_MODIFY_VATTR);
  if ((flags & PATH_EXPAND) !== 0 && !isKnownMacro(value.toString('utf8'))) throw new RequestError(Status.SUBDOC_XATTR_UNKNOWN_MACRO);
  return key;
}

/** One spec as the validator checks it (is_valid_multipath_spec / subdoc_validator). */
function validateSpec(c: KvConnection, mutator: boolean, op: number, flags: number, pathBytes: Buffer, value: Buffer, docFlags: number): Spec {
  const traits = TRAITS.get(op);
  if (traits === undefined || traits.mutator !== mutator) throw new RequestError(Status.SUBDOC_INVALID_COMBO);
  if ((flags & ~traits.flags) !== 0 || (flags & traits.mandatory) !== traits.mandatory) throw new RequestError(Status.EINVAL);
  if ((docFlags & ~traits.docFlags) !== 0) throw new RequestError(Status.EINVAL);
  if (pathBytes.length > MAX_PATH_BYTES) throw new RequestError(Status.EINVAL);
  if (traits.wholeDoc && pathBytes.length > 0) throw new RequestError(Status.EINVAL);
  const path = pathBytes.toString('utf8');
  const key = checkXattrSection(c, mutator, flags, path, value);
  const xattr = (flags & PATH_XATTR) !== 0;
  if (!xattr && !traits.emptyPath && pathBytes.length === 0) throw new RequestError(Status.EINVAL);
  if (traits.hasValue ? value.length === 0 : value.length !== 0) throw new RequestError(Status.EINVAL);
  return { op, flags, path, value, xattr, key, traits };
}

/** The privilege an xattr spec needs: system keys their own, virtual ones and user keys XattrRead / XattrWrite. */
function privilegeFor(spec: Spec): number {
  if (isSystemXattr(spec.key)) return spec.traits.mutator ? KvPrivilege.SystemXattrWrite : KvPrivilege.SystemXattrRead;
  return spec.traits.mutator ? KvPrivilege.XattrWrite : KvPrivilege.XattrRead;
}

/**
 * The order rules of a multi-path request: xattr specs first (SUBDOC_INVALID_XATTR_ORDER), a
 * whole-document DELETE alone among body specs and last (SUBDOC_INVALID_COMBO); then the
 * privileges its xattr paths need (EACCESS).
 */
function checkSpecs(c: KvConnection, specs: readonly Spec[]): void {
  let xattrsAllowed = true;
  let bodyAllowed = true;
  for (const s of specs) {
    if (!bodyAllowed) throw new RequestError(Status.SUBDOC_INVALID_COMBO);
    const isolated = s.op === Opcode.DELETE && s.traits.wholeDoc;
    if (xattrsAllowed) xattrsAllowed = s.xattr;
    else if (s.xattr) throw new RequestError(Status.SUBDOC_INVALID_XATTR_ORDER);
    else if (isolated) throw new RequestError(Status.SUBDOC_INVALID_COMBO);
    if (isolated) bodyAllowed = false;
  }
  for (const s of specs) if (s.xattr && (c.lacking & privilegeFor(s)) !== 0) throw new RequestError(Status.EACCESS);
}

/** Doc flag rules shared by lookups and mutations (subdoc_multi_validator). */
function checkDocFlags(docFlags: number, cas: bigint, mutator: boolean): void {
  if ((docFlags & ~(mutator ? MUTATION_DOC_FLAGS : LOOKUP_DOC_FLAGS)) !== 0) throw new RequestError(Status.EINVAL);
  if ((docFlags & DOC_ADD) !== 0 && cas !== 0n) throw new RequestError(Status.EINVAL);
  if ((docFlags & DOC_ADD) !== 0 && (docFlags & DOC_MKDOC) !== 0) throw new RequestError(Status.EINVAL);
  if ((docFlags & DOC_REVIVE) !== 0 && ((docFlags & DOC_ACCESS_DELETED) === 0 || (docFlags & DOC_CREATE_AS_DELETED) !== 0)) {
    throw new RequestError(Status.EINVAL);
  }
  // Deleted documents are not read on replicas.
  if ((docFlags & DOC_REPLICA_READ) !== 0 && (docFlags & DOC_ACCESS_DELETED) !== 0) throw new RequestError(Status.EINVAL);
}

/** The specs of a multi-path request, validated; throws a RequestError. */
function readMultiSpecs(c: KvConnection, req: Packet, mutator: boolean, docFlags: number): Spec[] {
  checkDocFlags(docFlags, req.cas, mutator);
  const v = req.value;
  const specs: Spec[] = [];
  const lookupSpec: LookupSpec = { opcode: 0, flags: 0, path: EMPTY };
  const mutationSpec = { opcode: 0, flags: 0, path: EMPTY, value: EMPTY };
  let p = 0;
  while (p < v.length) {
    if (specs.length === MAX_SPECS) throw new RequestError(Status.SUBDOC_INVALID_COMBO);
    let op: number;
    let flags: number;
    let path: Buffer;
    let value = EMPTY;
    if (mutator) {
      p = readMutationSpec(v, p, mutationSpec);
      ({ opcode: op, flags, path, value } = mutationSpec);
    } else {
      p = readLookupSpec(v, p, lookupSpec);
      ({ opcode: op, flags, path } = lookupSpec);
    }
    if (p === SPEC_TRUNCATED) throw new RequestError(Status.EINVAL);
    specs.push(validateSpec(c, mutator, op, flags, path, value, docFlags));
  }
  if (specs.length === 0) throw new RequestError(Status.SUBDOC_INVALID_COMBO);
  checkSpecs(c, specs);
  return specs;
}

/** The single-path request as one spec: extras path length(2) flags(1) [expiry(4)] [doc flags(1)]. */
function readSingleSpec(c: KvConnection, req: Packet, mutator: boolean): { spec: Spec; expiry: number; docFlags: number } {
  const x = req.extras;
  const n = x.length;
  if (n !== 3 && n !== 4 && ((n !== 7 && n !== 8) || !mutator)) throw new RequestError(Status.EINVAL);
  const pathLength = x.readUInt16BE(0);
  const flags = x[2];
  const expiry = n >= 7 ? x.readUInt32BE(3) : 0;
  const docFlags = n === 4 || n === 8 ? x[n - 1] : 0;
  if (pathLength > MAX_PATH_BYTES || pathLength > req.value.length) throw new RequestError(Status.EINVAL);
  checkDocFlags(docFlags, req.cas, mutator);
  // The single-path validator's own rules for CreateAsDeleted (a multi mutation may carry it with
  // replace semantics: the SDKs' transactions overwrite their own staged insert so).
  if ((docFlags & DOC_CREATE_AS_DELETED) !== 0 && ((docFlags & (DOC_ADD | DOC_MKDOC)) === 0 || (flags & PATH_XATTR) === 0)) throw new RequestError(Status.EINVAL);
  const spec = validateSpec(c, mutator, req.opcode, flags, req.value.subarray(0, pathLength), req.value.subarray(pathLength), docFlags);
  checkSpecs(c, [spec]);
  return { spec, expiry, docFlags };
}

// ---- lookups --------------------------------------------------------------------------------------

/** The document a request sees: the live one, or (AccessDeleted) the deleted one. */
function fetch(store: DocumentStore, id: string, accessDeleted: boolean): DocView | undefined {
  const item = store.live(id);
  if (item !== undefined || !accessDeleted) return item;
  return store.tombstone(id) as DocView | undefined;
}

const isDeleted = (doc: DocView): boolean => doc.value === undefined;

interface PathResult {
  status: number;
  value: Buffer;
}

function runLookups(c: KvConnection, store: DocumentStore, doc: DocView, specs: readonly Spec[]): PathResult[] {
  const deleted = isDeleted(doc);
  const body = deleted ? undefined : new Body(doc.value!);
  const xattrs = new XattrDraft(doc.xattrs);
  const systemReadable = (c.lacking & KvPrivilege.SystemXattrRead) === 0;
  const results: PathResult[] = [];
  for (const spec of specs) {
    try {
      let found: Json;
      if (spec.traits.wholeDoc) {
        if (body === undefined) throw new PathError(Status.SUBDOC_PATH_ENOENT);
        results.push({ status: Status.SUCCESS, value: doc.value! });
        continue;
      }
      const segs = parsePath(spec.path);
      if (spec.xattr) found = isVirtualXattr(spec.key) ? lookupVattr(store, doc, segs, systemReadable) : lookup(xattrs.view(spec.key), segs);
      else if (body === undefined) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      else found = lookup(body.get(), segs);
      let value = EMPTY;
      if (spec.op === Opcode.SUBDOC_GET) value = Buffer.from(jsonText(found));
      else if (spec.op === Opcode.SUBDOC_GET_COUNT) {
        if (!isContainer(found)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
        value = Buffer.from(String(Array.isArray(found) ? found.length : Object.keys(found).length));
      }
      results.push({ status: Status.SUCCESS, value });
    } catch (err) {
      if (!(err instanceof PathError)) throw err;
      results.push({ status: err.status, value: EMPTY });
    }
  }
  return results;
}

/**
 * The CAS a lookup reports: a locked document's is hidden, as for GET. A replica has no lock: it
 * reports the last mutation's CAS, as GET_REPLICA does.
 */
function lookupCas(store: DocumentStore, doc: DocView, replica: boolean): bigint {
  if (isDeleted(doc)) return doc.cas;
  if (replica) return (doc as Item).replicaCas;
  return store.isLocked(doc as Item) ? LOCKED_CAS : doc.cas;
}

export function subdocMultiLookup(c: KvConnection, req: Packet, store: DocumentStore, id: string, replica = false): void {
  if (req.extras.length > 1) return c.respondStatus(req, Status.EINVAL);
  const docFlags = req.extras.length === 1 ? req.extras[0] : 0;
  let specs: Spec[];
  try {
    specs = readMultiSpecs(c, req, false, docFlags);
  } catch (err) {
    if (err instanceof RequestError) return c.respondStatus(req, err.status);
    throw err;
  }
  const doc = fetch(store, id, (docFlags & DOC_ACCESS_DELETED) !== 0);
  if (doc === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  const results = runLookups(c, store, doc, specs);
  const failed = results.some((r) => r.status !== Status.SUCCESS);
  const deleted = isDeleted(doc);
  const status = failed
    ? deleted
      ? Status.SUBDOC_MULTI_PATH_FAILURE_DELETED
      : Status.SUBDOC_MULTI_PATH_FAILURE
    : deleted
      ? Status.SUBDOC_SUCCESS_DELETED
      : Status.SUCCESS;
  // The values go out by reference: a whole-document GET is not copied.
  c.respondParts(req, status, lookupCas(store, doc, replica), lookupResultParts(results));
}

// ---- mutations ------------------------------------------------------------------------------------

/**
 * The document a creating mutation (MKDOC / ADD) starts from, as subjson's get_root_type picks it
 * from the first body path: an array for an array operation on the root (`arrayAppend('')`, what
 * the SDKs' list, set and queue structures send) or on a path starting with an index, else an object.
 */
function emptyRootFor(specs: readonly Spec[]): Json {
  const first = specs.find((s) => !s.xattr);
  if (first === undefined) return {};
  const arrayOp = first.op === Opcode.SUBDOC_ARRAY_PUSH_LAST || first.op === Opcode.SUBDOC_ARRAY_PUSH_FIRST || first.op === Opcode.SUBDOC_ARRAY_ADD_UNIQUE;
  return (arrayOp && first.path === '') || first.path.startsWith('[') ? [] : {};
}

interface MutationOutcome {
  /** A path failed: its index and status (nothing was applied). */
  failure?: { index: number; status: number };
  item?: Item | Tombstone;
  deleted?: boolean;
  outputs?: Array<{ index: number; value: Buffer }>;
}

interface MutationRequest {
  id: string;
  specs: readonly Spec[];
  docFlags: number;
  cas: bigint;
  expiry: number;
  flags: number | undefined;
  preserveTtl: boolean;
}

/** Runs a mutation request to its new document; throws RequestError or StoreError for the whole request. */
function runMutation(store: DocumentStore, m: MutationRequest): MutationOutcome {
  const { id, specs, docFlags } = m;
  const accessDeleted = (docFlags & DOC_ACCESS_DELETED) !== 0;
  const live = store.live(id);
  let base: DocView | undefined = live ?? (accessDeleted ? (store.tombstone(id) as DocView | undefined) : undefined);
  if ((docFlags & DOC_REVIVE) !== 0) {
    if (base === undefined) throw new RequestError(Status.KEY_ENOENT);
    if (!isDeleted(base)) throw new RequestError(Status.SUBDOC_CAN_ONLY_REVIVE_DELETED_DOCUMENTS);
  }
  if ((docFlags & DOC_ADD) !== 0) {
    if (live !== undefined) throw new RequestError(Status.KEY_EEXISTS);
    base = undefined; // a deleted document does not stop an insert: it is replaced
  } else if (base === undefined && (docFlags & DOC_MKDOC) === 0) {
    throw new RequestError(Status.KEY_ENOENT);
  }
  const creating = base === undefined;
  const implyMkdir = (docFlags & (DOC_MKDOC | DOC_ADD)) !== 0;
  const baseDeleted = base !== undefined && isDeleted(base);
  let deleted = creating ? (docFlags & DOC_CREATE_AS_DELETED) !== 0 : baseDeleted && (docFlags & DOC_REVIVE) === 0;

  const body = creating || baseDeleted ? new Draft(undefined, emptyRootFor(specs)) : new Draft(base!.value);
  let bodyTouched = false;
  let removed = false;
  const xattrs = new XattrDraft(base?.xattrs);
  const macros = new MacroExpander(store, base);
  const outputs: Array<{ index: number; value: Buffer }> = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    try {
      if (spec.xattr) {
        const segs = parsePath(spec.path);
        if (spec.op === Opcode.SUBDOC_REPLACE_BODY_WITH_XATTR) {
          body.replace(Buffer.from(jsonText(lookup(xattrs.view(spec.key), segs))));
          bodyTouched = true;
          continue;
        }
        const literal = (spec.flags & PATH_EXPAND) !== 0 ? macros.expand(spec.value.toString('utf8')) : undefined;
        const out = applyMutation(xattrs.target(spec.key), segs, literal === undefined ? spec : { ...spec, literal }, implyMkdir || (spec.flags & PATH_MKDIR_P) !== 0);
        xattrs.markChanged();
        if (out !== undefined) outputs.push({ index: i, value: out });
        continue;
      }
      if (spec.op === Opcode.DELETE) {
        if (deleted || creating) throw new RequestError(Status.KEY_ENOENT);
        deleted = removed = true;
        continue;
      }
      if (deleted) throw new RequestError(Status.SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE);
      bodyTouched = true;
      if (spec.op === Opcode.SET) {
        body.replace(spec.value);
        continue;
      }
      const out = applyMutation(body, parsePath(spec.path), spec, implyMkdir || (spec.flags & PATH_MKDIR_P) !== 0);
      if (out !== undefined) outputs.push({ index: i, value: out });
    } catch (err) {
      if (!(err instanceof PathError)) throw err;
      return { failure: { index: i, status: err.status }, deleted: baseDeleted };
    }
  }

  const value = deleted ? EMPTY : bodyTouched || creating || baseDeleted ? body.serialise() : base!.value!;
  const keep = (x: Xattrs | undefined): Xattrs | undefined => (deleted && !baseDeleted && !creating ? systemXattrsOf(x) : x);
  const now = keep(xattrs.result());
  const sizes = xattrSizes(now);
  if (value.length + sizes.user > MAX_VALUE_BYTES || sizes.system > MAX_SYSTEM_XATTR_BYTES) throw new StoreError(Status.E2BIG, id);
  const item = store.putDocument(
    id,
    {
      value,
      datatype: deleted || (bodyTouched && !body.isJson) ? 0 : DATATYPE_JSON,
      flags: m.flags ?? base?.flags ?? 0,
      xattrs: now,
      expiry: m.expiry,
      preserveExpiry: m.preserveTtl,
      deleted,
      stamp: macros.hasOutputMacros ? (cas, seqno) => keep(xattrs.result(macros.replacer(cas, seqno, value))) : undefined,
    },
    m.cas,
  );
  // A whole-document DELETE answers SUCCESS; a document left (or created) deleted SUBDOC_SUCCESS_DELETED.
  return { item, deleted: deleted && !removed, outputs };
}

/** The multi-mutation extras, or undefined when their length is not one the layout allows. */
function mutationExtrasOf(x: Buffer): SubdocMutationExtras | undefined {
  try {
    return decodeSubdocMutationExtras(x);
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

export function subdocMultiMutation(c: KvConnection, req: Packet, store: DocumentStore, id: string, opts: FrameOptions): void {
  const x = mutationExtrasOf(req.extras);
  if (x === undefined) return c.respondStatus(req, Status.EINVAL);
  const docFlags = x.docFlags ?? 0;
  let outcome: MutationOutcome;
  try {
    const specs = readMultiSpecs(c, req, true, docFlags);
    outcome = runMutation(store, { id, specs, docFlags, cas: req.cas, expiry: x.expiry ?? 0, flags: x.flags, preserveTtl: opts.preserveTtl });
  } catch (err) {
    if (err instanceof RequestError || err instanceof StoreError) return c.respondStatus(req, err.status);
    throw err;
  }
  if (outcome.failure !== undefined) {
    const status = outcome.deleted ? Status.SUBDOC_MULTI_PATH_FAILURE_DELETED : Status.SUBDOC_MULTI_PATH_FAILURE;
    return c.respond(req, status, 0n, EMPTY, EMPTY, encodeMutationFailure(outcome.failure.index, outcome.failure.status), 0);
  }
  const item = outcome.item!;
  c.respondMutation(req, item.cas, item.vbucket, item.seqno, encodeMutationResults(outcome.outputs!), outcome.deleted ? Status.SUBDOC_SUCCESS_DELETED : Status.SUCCESS);
}

// ---- handlers -------------------------------------------------------------------------------------

export const subdocLookup: CommandHandler = (c, req) => {
  // ReplicaRead: served by a replica vBucket (an active one answers NOT_MY_VBUCKET), as GET_REPLICA is.
  const replica = req.extras.length === 1 && (req.extras[0] & DOC_REPLICA_READ) !== 0;
  const store = c.ownedStore(req, replica);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  subdocMultiLookup(c, req, store, id, replica);
};

export const subdocMutation: CommandHandler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  if (!c.checkValueSize(req)) return;
  const opts = c.frameOptions(req);
  if (opts === undefined) return;
  subdocMultiMutation(c, req, store, id, opts);
};

/** The single-path opcodes (0xc5-0xcf, 0xd2): one spec, its status and value as the response's. */
export const subdocSinglePath: CommandHandler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  const mutator = TRAITS.get(req.opcode)?.mutator === true;
  if (mutator && !c.checkValueSize(req)) return;
  const opts = mutator ? c.frameOptions(req) : undefined;
  if (mutator && opts === undefined) return;
  single(c, req as KvRequest, store, id, mutator, opts);
};

function single(c: KvConnection, req: KvRequest, store: DocumentStore, id: string, mutator: boolean, opts: FrameOptions | undefined): void {
  try {
    const { spec, expiry, docFlags } = readSingleSpec(c, req, mutator);
    if (!mutator) {
      const doc = fetch(store, id, (docFlags & DOC_ACCESS_DELETED) !== 0);
      if (doc === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
      const [r] = runLookups(c, store, doc, [spec]);
      const status = r.status !== Status.SUCCESS ? r.status : isDeleted(doc) ? Status.SUBDOC_SUCCESS_DELETED : Status.SUCCESS;
      return c.respond(req, status, r.status === Status.SUCCESS ? lookupCas(store, doc, false) : 0n, EMPTY, EMPTY, r.value, 0);
    }
    const outcome = runMutation(store, { id, specs: [spec], docFlags, cas: req.cas, expiry, flags: undefined, preserveTtl: opts!.preserveTtl });
    if (outcome.failure !== undefined) return c.respondStatus(req, outcome.failure.status);
    const item = outcome.item!;
    c.respondMutation(req, item.cas, item.vbucket, item.seqno, outcome.outputs![0]?.value ?? EMPTY, outcome.deleted ? Status.SUBDOC_SUCCESS_DELETED : Status.SUCCESS);
  } catch (err) {
    if (err instanceof RequestError || err instanceof StoreError) return c.respondStatus(req, err.status);
    throw err;
  }
}
