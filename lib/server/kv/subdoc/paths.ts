// The JSON side of sub-document operations: paths (`a.b[2].c`, backquotes around names holding
// dots or brackets), walking and changing a parsed document, and the limits subjson has.
//
// Documents are data: keys such as `__proto__` or `constructor` are written as own properties and
// read only as own properties. The limits are subjson's: a document nests at most 32 levels
// (deeper: DOC_E2DEEP, and it is never parsed), a path has at most 31 components (PATH_E2BIG),
// and a value may not make the document deeper than that (VALUE_ETOODEEP).
//
// Extended attributes go through the same code: their root is an object whose members are the
// xattr keys (subdoc/xattr-draft.ts), so `txn.op.type` is an ordinary path in it.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { SubdocPathFlag } from '../../../protocol/subdoc';
import { isJsonText, nestingDepth } from '../../json-syntax';
import { exactJsonText, LosslessNumber, parseJsonText, sameScalar } from './exact-json';

const PATH_MKDIR_P = SubdocPathFlag.MKDIR_P;

/** subjson's Limits::MAX_COMPONENTS: levels of nesting in a document, the top-level container being 1. */
export const MAX_DEPTH = 32;
/** A path's components; the implicit root takes one of MAX_DEPTH. */
const MAX_PATH_COMPONENTS = MAX_DEPTH - 1;

export type Segment = string | number;

export const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** Sets an own property whatever its name (`obj[k] = v` with k = `__proto__` would set the prototype). */
export function setKey(obj: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A per-path failure: its status goes into the path's result. */
export class PathError extends Error {
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
      if (out.length === MAX_PATH_COMPONENTS) throw new PathError(Status.SUBDOC_PATH_E2BIG);
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
      if (out.length === MAX_PATH_COMPONENTS) throw new PathError(Status.SUBDOC_PATH_E2BIG);
      out.push(name);
      expectName = false;
    }
  }
  return out;
}

export type Json = unknown;

export function isContainer(v: Json): v is Record<string, Json> | Json[] {
  return typeof v === 'object' && v !== null && !(v instanceof LosslessNumber);
}

/** subjson's counters: int64 arithmetic on the number the text spells. */
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const inInt64 = (n: bigint): boolean => n >= INT64_MIN && n <= INT64_MAX;

/** Walks to the value at `path`; PATH_ENOENT / PATH_MISMATCH on the way. */
export function lookup(root: Json, path: Segment[]): Json {
  let cur = root;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const idx = seg === -1 ? cur.length - 1 : seg;
      if (idx < 0 || idx >= cur.length) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      cur = cur[idx];
    } else {
      if (!isContainer(cur) || Array.isArray(cur)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      if (!hasOwn(cur, seg)) throw new PathError(Status.SUBDOC_PATH_ENOENT);
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
      if (!hasOwn(obj, seg)) {
        if (!mkdir) throw new PathError(Status.SUBDOC_PATH_ENOENT);
        setKey(obj, seg, typeof path[i + 1] === 'number' ? [] : {});
      }
      cur = obj[seg];
    }
  }
  return cur;
}

/**
 * A spec's value, placed `at` path components deep: VALUE_ETOODEEP when it would make the document
 * nest deeper than MAX_DEPTH (checked before parsing), VALUE_CANTINSERT when it is not JSON.
 */
function parseFragment(value: Buffer, at: number, target: MutationTarget): Json {
  if (nestingDepth(value, MAX_DEPTH) > MAX_DEPTH - at) throw new PathError(Status.SUBDOC_VALUE_ETOODEEP);
  return parseInto(value.toString('utf8'), target);
}

/** Parses a spec's value for `target` (which then writes its numbers as given); VALUE_CANTINSERT when it is not JSON. */
function parseInto(text: string, target: MutationTarget): Json {
  let parsed;
  try {
    parsed = parseJsonText(text);
  } catch {
    throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
  }
  if (parsed.exact) target.markExact?.();
  return parsed.value;
}

/** Comma-separated values for an array `at` components deep (its elements one deeper). */
function parseValues(value: Buffer, at: number, target: MutationTarget): Json[] {
  if (nestingDepth(value, MAX_DEPTH) > MAX_DEPTH - at - 1) throw new PathError(Status.SUBDOC_VALUE_ETOODEEP);
  return parseInto(`[${value.toString('utf8')}]`, target) as Json[];
}

/** The document body, parsed once; E2DEEP (never parsed) past MAX_DEPTH, NOT_JSON when it is not JSON. */
export class Body {
  private parsed = false;
  private doc: Json;
  private status = 0;
  /** Numbers a double would not keep are LosslessNumbers in it (see exact-json.ts). */
  exact = false;
  constructor(private readonly value: Buffer) {}

  get(): Json {
    if (!this.parsed) {
      this.parsed = true;
      if (nestingDepth(this.value, MAX_DEPTH) > MAX_DEPTH) this.status = Status.SUBDOC_DOC_E2DEEP;
      else {
        try {
          const parsed = parseJsonText(this.value.toString('utf8'));
          this.doc = parsed.value;
          this.exact = parsed.exact;
        } catch {
          this.status = Status.SUBDOC_DOC_NOT_JSON;
        }
      }
    }
    if (this.status !== 0) throw new PathError(this.status);
    return this.doc;
  }
}


export interface MutationSpec {
  op: number;
  flags: number;
  path: string;
  value: Buffer;
  /** The value already parsed (a macro's expansion): used instead of `value`. */
  literal?: Json;
}

/** What a path mutation works on: a root, produced when first needed. */
export interface MutationTarget {
  readonly root: Json;
  /** A value holding numbers kept as text went in: the target must write them as such. */
  markExact?(): void;
}

/**
 * The document being mutated: kept as its text (stored, or sent by a whole-document SET, however
 * deep) until a path needs it parsed.
 */
export class Draft implements MutationTarget {
  private text: Buffer | undefined;
  private doc: Json;
  private exact = false;

  /** `existing` is the stored text; a document being created starts as `root`. */
  constructor(existing: Buffer | undefined, root: Json = {}) {
    this.text = existing;
    this.doc = root;
  }

  /** The parsed document; DOC_E2DEEP or DOC_NOT_JSON when it cannot be. */
  get root(): Json {
    if (this.text !== undefined) {
      const body = new Body(this.text);
      this.doc = body.get();
      this.exact = body.exact;
      this.text = undefined;
    }
    return this.doc;
  }

  markExact(): void {
    this.exact = true;
  }

  /**
   * Whole-document SET: any bytes, as kv_engine takes them (the SDKs' transactions write a one-byte
   * binary body); a later body path on a value that is not JSON gets DOC_NOT_JSON.
   */
  replace(value: Buffer): void {
    this.text = value;
  }

  /** True when the document is JSON (what its datatype says). */
  get isJson(): boolean {
    return this.text === undefined || isJsonText(this.text);
  }

  serialise(): Buffer {
    if (this.text !== undefined) return Buffer.from(this.text);
    return Buffer.from(this.exact ? exactJsonText(this.doc) : JSON.stringify(this.doc));
  }
}

/**
 * The int64 a counter's current value spells: PATH_MISMATCH for anything but an integer (a
 * fraction or an exponent included), NUM_ERANGE for an integer outside int64.
 */
function counterValue(current: Json): bigint {
  if (typeof current === 'number') {
    if (!Number.isInteger(current)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
    return BigInt(current);
  }
  if (!(current instanceof LosslessNumber) || !/^-?\d+$/.test(current.value)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
  const n = BigInt(current.value);
  if (!inInt64(n)) throw new PathError(Status.SUBDOC_NUM_ERANGE);
  return n;
}

/**
 * Applies one mutation spec at `segs` in `draft`'s root; returns the value a COUNTER gives back.
 * `mkdir` is the spec's MKDIR_P, or implied by the MKDOC / ADD doc flags.
 */
export function applyMutation(draft: MutationTarget, segs: Segment[], spec: MutationSpec, mkdir = (spec.flags & PATH_MKDIR_P) !== 0): Buffer | undefined {
  if (segs.length === 0 && spec.op !== Opcode.SUBDOC_ARRAY_PUSH_LAST && spec.op !== Opcode.SUBDOC_ARRAY_PUSH_FIRST && spec.op !== Opcode.SUBDOC_ARRAY_ADD_UNIQUE) {
    throw new PathError(Status.SUBDOC_PATH_EINVAL);
  }
  const last = segs[segs.length - 1];
  const depth = segs.length;
  switch (spec.op) {
    case Opcode.SUBDOC_DICT_ADD:
    case Opcode.SUBDOC_DICT_UPSERT: {
      if (typeof last !== 'string') throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const value = spec.literal !== undefined ? spec.literal : parseFragment(spec.value, depth, draft);
      const parent = parentOf(draft.root, segs, mkdir);
      if (!isContainer(parent) || Array.isArray(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      const obj = parent as Record<string, Json>;
      if (spec.op === Opcode.SUBDOC_DICT_ADD && hasOwn(obj, last)) throw new PathError(Status.SUBDOC_PATH_EEXISTS);
      setKey(obj, last, value);
      return undefined;
    }
    case Opcode.SUBDOC_REPLACE:
    case Opcode.SUBDOC_DELETE: {
      const value = spec.op !== Opcode.SUBDOC_REPLACE ? undefined : spec.literal !== undefined ? spec.literal : parseFragment(spec.value, depth, draft);
      const parent = parentOf(draft.root, segs, false);
      lookup(parent, [last]); // must exist
      if (typeof last === 'number') {
        const arr = parent as Json[];
        const idx = last === -1 ? arr.length - 1 : last;
        if (spec.op === Opcode.SUBDOC_DELETE) arr.splice(idx, 1);
        else arr[idx] = value;
      } else {
        const obj = parent as Record<string, Json>;
        if (spec.op === Opcode.SUBDOC_DELETE) delete obj[last];
        else setKey(obj, last, value);
      }
      return undefined;
    }
    case Opcode.SUBDOC_ARRAY_PUSH_LAST:
    case Opcode.SUBDOC_ARRAY_PUSH_FIRST:
    case Opcode.SUBDOC_ARRAY_ADD_UNIQUE: {
      const values = spec.literal !== undefined ? [spec.literal] : parseValues(spec.value, depth, draft);
      let arr: Json;
      if (segs.length === 0) arr = draft.root;
      else {
        const parent = parentOf(draft.root, segs, mkdir);
        if (typeof last === 'string' && isContainer(parent) && !Array.isArray(parent) && !hasOwn(parent, last) && mkdir) {
          setKey(parent as Record<string, Json>, last, []);
        }
        arr = lookup(parent, [last]);
      }
      if (!Array.isArray(arr)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      if (spec.op === Opcode.SUBDOC_ARRAY_ADD_UNIQUE) {
        if (values.length !== 1 || isContainer(values[0])) throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
        // Uniqueness is only defined among scalars: an array holding a container cannot say.
        if (arr.some(isContainer)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
        if (arr.some((x) => sameScalar(x, values[0]))) throw new PathError(Status.SUBDOC_PATH_EEXISTS);
        arr.push(values[0]);
      } else if (spec.op === Opcode.SUBDOC_ARRAY_PUSH_LAST) arr.push(...values);
      else arr.unshift(...values);
      return undefined;
    }
    case Opcode.SUBDOC_ARRAY_INSERT: {
      if (typeof last !== 'number' || last < 0) throw new PathError(Status.SUBDOC_PATH_EINVAL);
      const values = spec.literal !== undefined ? [spec.literal] : parseValues(spec.value, depth - 1, draft);
      const parent = parentOf(draft.root, segs, false);
      if (!Array.isArray(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      if (last > parent.length) throw new PathError(Status.SUBDOC_PATH_ENOENT);
      parent.splice(last, 0, ...values);
      return undefined;
    }
    case Opcode.SUBDOC_COUNTER: {
      const text = spec.value.toString('utf8').trim();
      if (!/^[+-]?\d+$/.test(text)) throw new PathError(Status.SUBDOC_DELTA_EINVAL);
      const delta = BigInt(text);
      if (delta === 0n || !inInt64(delta)) throw new PathError(Status.SUBDOC_DELTA_EINVAL);
      const parent = parentOf(draft.root, segs, mkdir);
      if (!isContainer(parent)) throw new PathError(Status.SUBDOC_PATH_MISMATCH);
      let current: Json = 0;
      try {
        current = lookup(parent, [last]);
      } catch (err) {
        if (!(err instanceof PathError) || err.status !== Status.SUBDOC_PATH_ENOENT || typeof last !== 'string') throw err;
      }
      const next = counterValue(current) + delta;
      // The result must be an int64 too: subjson refuses to write it otherwise.
      if (!inInt64(next)) throw new PathError(Status.SUBDOC_VALUE_CANTINSERT);
      const small = next >= -BigInt(Number.MAX_SAFE_INTEGER) && next <= BigInt(Number.MAX_SAFE_INTEGER);
      const stored: Json = small ? Number(next) : new LosslessNumber(String(next));
      if (!small) draft.markExact?.();
      if (typeof last === 'number') (parent as Json[])[last === -1 ? (parent as Json[]).length - 1 : last] = stored;
      else setKey(parent as Record<string, Json>, last, stored);
      return Buffer.from(String(next));
    }
    default:
      throw new PathError(Status.SUBDOC_INVALID_COMBO);
  }
}

