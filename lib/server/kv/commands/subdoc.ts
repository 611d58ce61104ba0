// Sub-document multi lookup / multi mutation (PROTOCOL.md §1.5) on JSON documents.
// Lookups support GET / EXISTS / GET_COUNT / whole-doc GET and the `$document` virtual xattr
// (what the SDK uses for get-with-expiry); user xattrs do not exist here, so xattr lookups on
// anything else report PATH_ENOENT. Mutations are all-or-nothing on a parsed copy.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { ProtocolError, type Packet } from '../../../protocol/packet';
import {
  SUBDOC_MAX_SPECS as MAX_SPECS,
  SPEC_TRUNCATED,
  SubdocDocFlag,
  SubdocPathFlag,
  decodeSubdocMutationExtras,
  encodeLookupResults,
  encodeMutationFailure,
  encodeMutationResults,
  readLookupSpec,
  readMutationSpec,
  type LookupSpec,
  type SubdocMutationExtras,
} from '../../../protocol/subdoc';
import { StoreError, DATATYPE_JSON, type DocumentStore, type Item } from '../../store';
import type { CommandHandler, KvConnection, FrameOptions } from '../connection';

const PATH_XATTR = SubdocPathFlag.XATTR;
const PATH_MKDIR_P = SubdocPathFlag.MKDIR_P;
const DOC_MKDOC = SubdocDocFlag.MKDOC;
const DOC_ADD = SubdocDocFlag.ADD;
const EMPTY = Buffer.alloc(0);

type Segment = string | number;

class PathError extends Error {
  constructor(readonly status: number) {
    super(`subdoc status 0x${status.toString(16)}`);
  }
}

/** `a.b[2].c`, with backquotes around names containing dots or brackets. */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  const n = path.length;
  if (n === 0) return out;
  let expectName = true;
  while (i < n) {
    const ch = path[i];
    if (ch === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const text = path.slice(i + 1, end);
      if (!/^-?\d+$/.test(text)) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const idx = Number(text);
      if (idx < -1) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      out.push(idx);
      i = end + 1;
      expectName = false;
    } else if (ch === '.') {
      if (expectName) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      i++;
      expectName = true;
      if (i === n) throw new PathError(Status.SUBDOC_PATH_EINVAL);
    } else {
      if (!expectName) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      let name = '';
      if (ch === '`') {
        i++;
        for (;;) {
          if (i >= n) throw new PathError(Status.SUBDOC_PATH_EINVAL);
          if (path[i] === '`') {
            if (path[i + 1] === '`') {
              name += '`';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          name += path[i++];
        }
      } else {
        while (i < n && path[i] !== '.' && path[i] !== '[') name += path[i++];
      }
      out.push(name);
      expectName = false;
    }
  }
  return out;
}

type Json = unknown;

function isContainer(v: Json): v is Record<string, Json> | Json[] {
  return typeof v === 'object' && v !== null;
}

/** Walks to the value at `path`; PATH_ENOENT / PATH_MISMATCH on the way. */
function lookup(root: Json, path: Segment[]): Json {
  let cur = root;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const idx = seg === -1 ? cur.length - 1 : seg;
      if (idx < 0 || idx >= cur.length) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      cur = cur[idx];
    } else {
      if (!isContainer(cur) || Array.isArray(cur)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      cur = (cur as Record<string, Json>)[seg];
    }
  }
  return cur;
}

/** The container holding the last segment, creating objects on the way when mkdir. */
function parentOf(root: Json, path: Segment[], mkdir: boolean): Json {
  let cur = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    if (typeof seg === 'number') {
      cur = lookup(cur, [seg]);
    } else {
      if (!isContainer(cur) || Array.isArray(cur)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const obj = cur as Record<string, Json>;
      if (!Object.prototype.hasOwnProperty.call(obj, seg)) {
        if (!mkdir) throw new PathError(Status.SUBDOC_PATH_ENOENT);
        obj[seg] = typeof path[i + 1] === 'number' ? [] : {};
      }
      cur = obj[seg];
    }
  }
  return cur;
}

function parseFragment(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
  }
}

function parseValues(text: string): Json[] {
  try {
    return JSON.parse(`[${text}]`) as Json[];
  } catch {
    throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
  }
}

function documentVattr(store: DocumentStore, item: Item): Record<string, Json> {
  return {
    CAS: '0x' + item.cas.toString(16).padStart(16, '0'),
    vbucket_uuid: '0x' + store.vbucketUuid(item.vbucket).toString(16).padStart(16, '0'),
    seqno: '0x' + item.seqno.toString(16).padStart(16, '0'),
    exptime: item.expiry,
    value_bytes: item.value.length,
    datatype: item.datatype & DATATYPE_JSON ? ['json'] : ['raw'],
    deleted: false,
    flags: item.flags,
    last_modified: String(Number(item.cas / 1_000_000_000n)),
    revid: String(item.seqno),
  };
}

function lookupXattr(store: DocumentStore, item: Item, path: string): Json {
  const segs = parsePath(path);
  if (segs[0] === '$document') return lookup(documentVattr(store, item), segs.slice(1));
  if (segs[0] === '$XTOC') return [];
  if (typeof segs[0] === 'string' && segs[0].startsWith('$')) throw new PathError(Status.SUBDOC_XATTR_UNKNOWN_VATTR);
  throw new PathError(Status.SUBDOC_PATH_ENOENT);
}

export function subdocMultiLookup(c: KvConnection, req: Packet, store: DocumentStore, id: string): void {
  if (req.extras.length > 1) return c.respondStatus(req, Status.EINVAL);
  const item = store.live(id);
  if (item === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  const v = req.value;
  const results: Array<{ status: number; value: Buffer }> = [];
  let doc: Json;
  let parsed = false;
  let docIsJson = true;
  const spec: LookupSpec = { opcode: 0, flags: 0, path: EMPTY };
  let p = 0;
  while (p < v.length) {
    if (results.length === MAX_SPECS) return c.respondStatus(req, Status.EINVAL);
    p = readLookupSpec(v, p, spec);
    if (p === SPEC_TRUNCATED) return c.respondStatus(req, Status.EINVAL);
    const op = spec.opcode;
    const flags = spec.flags;
    const path = spec.path.toString('utf8');
    try {
      let value: Buffer = EMPTY;
      if (op === Opcode.GET && (flags & PATH_XATTR) === 0) {
        if (path !== '') throw new PathError(Status.SUBDOC_PATH_EINVAL);
        value = item.value;
      } else if (op === Opcode.SUBDOC_GET || op === Opcode.SUBDOC_EXISTS || op === Opcode.SUBDOC_GET_COUNT) {
        let found: Json;
        if ((flags & PATH_XATTR) !== 0) {
          found = lookupXattr(store, item, path);
        } else {
          if (!parsed) {
            parsed = true;
            try {
              doc = JSON.parse(item.value.toString('utf8'));
            } catch {
              docIsJson = false;
            }
          }
          if (!docIsJson) throw new PathError(Status.SUBDOC_DOC_NOT_JSON);
          found = lookup(doc, parsePath(path));
        }
        if (op === Opcode.SUBDOC_GET) value = Buffer.from(JSON.stringify(found));
        else if (op === Opcode.SUBDOC_GET_COUNT) {
          if (!isContainer(found)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
          value = Buffer.from(String(Array.isArray(found) ? found.length : Object.keys(found).length));
        }
      } else {
        return c.respondStatus(req, Status.SUBDOC_INVALID_COMBO);
      }
      results.push({ status: Status.SUCCESS, value });
    } catch (err) {
      if (!(err instanceof PathError)) throw err;
      results.push({ status: err.status, value: EMPTY });
    }
  }
  const failed = results.some((r) => r.status !== Status.SUCCESS);
  c.respond(req, failed ? Status.SUBDOC_MULTI_PATH_FAILURE : Status.SUCCESS, store.isLocked(item) ? 0xffffffffffffffffn : item.cas, EMPTY, EMPTY, encodeLookupResults(results), 0);
}

interface MutationSpec {
  op: number;
  flags: number;
  path: string;
  value: string;
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

function applyMutation(root: { doc: Json }, spec: MutationSpec): Buffer | undefined {
  const mkdir = (spec.flags & PATH_MKDIR_P) !== 0;
  const segs = parsePath(spec.path);
  if (segs.length === 0 && spec.op !== Opcode.SUBDOC_ARRAY_PUSH_LAST && spec.op !== Opcode.SUBDOC_ARRAY_PUSH_FIRST && spec.op !== Opcode.SUBDOC_ARRAY_ADD_UNIQUE) {
    throw new PathError(Status.SUBDOC_PATH_EINVAL);
  }
  const last = segs[segs.length - 1];
  switch (spec.op) {
    case Opcode.SUBDOC_DICT_ADD:
    case Opcode.SUBDOC_DICT_UPSERT: {
      if (typeof last !== 'string') throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const parent = parentOf(root.doc, segs, mkdir);
      if (!isContainer(parent) || Array.isArray(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const obj = parent as Record<string, Json>;
      if (spec.op === Opcode.SUBDOC_DICT_ADD && Object.prototype.hasOwnProperty.call(obj, last)) throw new PathError(Status.SUBDOC_PATH_EEXISTS);
      obj[last] = parseFragment(spec.value);
      return undefined;
    }
    case Opcode.SUBDOC_REPLACE:
    case Opcode.SUBDOC_DELETE: {
      const parent = parentOf(root.doc, segs, false);
      lookup(parent, [last]); // must exist
      if (typeof last === 'number') {
        const arr = parent as Json[];
        const idx = last === -1 ? arr.length - 1 : last;
        if (spec.op === Opcode.SUBDOC_DELETE) arr.splice(idx, 1);
        else arr[idx] = parseFragment(spec.value);
      } else {
        const obj = parent as Record<string, Json>;
        if (spec.op === Opcode.SUBDOC_DELETE) delete obj[last];
        else obj[last] = parseFragment(spec.value);
      }
      return undefined;
    }
    case Opcode.SUBDOC_ARRAY_PUSH_LAST:
    case Opcode.SUBDOC_ARRAY_PUSH_FIRST:
    case Opcode.SUBDOC_ARRAY_ADD_UNIQUE: {
      let arr: Json;
      if (segs.length === 0) arr = root.doc;
      else {
        const parent = parentOf(root.doc, segs, mkdir);
        if (typeof last === 'string' && isContainer(parent) && !Array.isArray(parent) && !(last in parent) && mkdir) {
          (parent as Record<string, Json>)[last] = [];
        }
        arr = lookup(parent, [last]);
      }
      if (!Array.isArray(arr)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const values = parseValues(spec.value);
      if (spec.op === Opcode.SUBDOC_ARRAY_ADD_UNIQUE) {
        if (values.length !== 1 || isContainer(values[0])) throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
        if (arr.some((x) => x === values[0])) throw new PathError(Status.SUBDOC_PATH_EEXISTS);
        arr.push(values[0]);
      } else if (spec.op === Opcode.SUBDOC_ARRAY_PUSH_LAST) arr.push(...values);
      else arr.unshift(...values);
      return undefined;
    }
    case Opcode.SUBDOC_ARRAY_INSERT: {
      if (typeof last !== 'number' || last < 0) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const parent = parentOf(root.doc, segs, false);
      if (!Array.isArray(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      if (last > parent.length) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      parent.splice(last, 0, ...parseValues(spec.value));
      return undefined;
    }
    case Opcode.SUBDOC_COUNTER: {
      if (!/^[+-]?\d+$/.test(spec.value.trim())) throw new PathError(Status.SUBDOC_DELTA_EINVAL);
      const delta = Number(spec.value);
      if (delta === 0 || !Number.isSafeInteger(delta)) throw new PathError(Status.SUBDOC_DELTA_EINVAL);
      const parent = parentOf(root.doc, segs, mkdir);
      if (!isContainer(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      let current: Json = 0;
      try {
        current = lookup(parent, [last]);
      } catch (err) {
        if (!(err instanceof PathError) || err.status !== Status.SUBDOC_PATH_ENOENT || typeof last !== 'string') throw err;
      }
      if (typeof current !== 'number' || !Number.isInteger(current)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const next = current + delta;
      if (!Number.isSafeInteger(next)) throw new PathError(Status.SUBDOC_NUM_ERANGE);
      if (typeof last === 'number') (parent as Json[])[last === -1 ? (parent as Json[]).length - 1 : last] = next;
      else (parent as Record<string, Json>)[last] = next;
      return Buffer.from(String(next));
    }
    default:
      throw new PathError(Status.SUBDOC_INVALID_COMBO);
  }
}

export function subdocMultiMutation(c: KvConnection, req: Packet, store: DocumentStore, id: string, opts: FrameOptions): void {
  const x = mutationExtrasOf(req.extras);
  if (x === undefined) return c.respondStatus(req, Status.EINVAL);
  const expiry = x.expiry ?? 0;
  const flags = x.flags;
  const docFlags = x.docFlags ?? 0;
  if ((docFlags & DOC_MKDOC) !== 0 && (docFlags & DOC_ADD) !== 0) return c.respondStatus(req, Status.EINVAL);
  const specs: MutationSpec[] = [];
  const v = req.value;
  const raw = { opcode: 0, flags: 0, path: EMPTY, value: EMPTY };
  let p = 0;
  while (p < v.length) {
    if (specs.length === MAX_SPECS) return c.respondStatus(req, Status.EINVAL);
    p = readMutationSpec(v, p, raw);
    if (p === SPEC_TRUNCATED) return c.respondStatus(req, Status.EINVAL);
    specs.push({ op: raw.opcode, flags: raw.flags, path: raw.path.toString('utf8'), value: raw.value.toString('utf8') });
  }
  if (specs.length === 0) return c.respondStatus(req, Status.EINVAL);

  const existing = store.live(id);
  if (existing === undefined && (docFlags & (DOC_MKDOC | DOC_ADD)) === 0) return c.respondStatus(req, Status.KEY_ENOENT);
  if (existing !== undefined && (docFlags & DOC_ADD) !== 0) return c.respondStatus(req, Status.KEY_EEXISTS);

  // A whole-document delete stands alone.
  if (specs.length === 1 && specs[0].op === Opcode.DELETE) {
    const tomb = store.delete(id, req.cas);
    c.respondMutation(req, tomb.cas, tomb.vbucket, tomb.seqno);
    return;
  }

  const root: { doc: Json } = { doc: {} };
  if (existing !== undefined) {
    try {
      root.doc = JSON.parse(existing.value.toString('utf8'));
    } catch {
      return c.respondStatus(req, Status.SUBDOC_DOC_NOT_JSON);
    }
  }
  const outputs: Array<{ index: number; value: Buffer }> = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    try {
      if ((spec.flags & PATH_XATTR) !== 0) throw new PathError(Status.SUBDOC_XATTR_INVALID_KEY_COMBO);
      if (spec.op === Opcode.SET) {
        root.doc = parseFragment(spec.value);
        continue;
      }
      const out = applyMutation(root, spec);
      if (out !== undefined) outputs.push({ index: i, value: out });
    } catch (err) {
      if (!(err instanceof PathError)) throw err;
      return c.respond(req, Status.SUBDOC_MULTI_PATH_FAILURE, 0n, EMPTY, EMPTY, encodeMutationFailure(i, err.status), 0);
    }
  }
  const value = Buffer.from(JSON.stringify(root.doc));
  const mode = existing === undefined ? ((docFlags & DOC_ADD) !== 0 ? 'insert' : 'upsert') : 'replace';
  let item: Item;
  try {
    item = store.write(id, value, mode, {
      cas: req.cas,
      expiry,
      flags: flags ?? existing?.flags ?? 0,
      datatype: DATATYPE_JSON,
      preserveExpiry: opts.preserveTtl,
    }) as Item;
  } catch (err) {
    if (err instanceof StoreError) return c.respondStatus(req, err.status);
    throw err;
  }
  c.respondMutation(req, item.cas, item.vbucket, item.seqno, encodeMutationResults(outputs));
}

export const subdocLookup: CommandHandler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  subdocMultiLookup(c, req, store, id);
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
