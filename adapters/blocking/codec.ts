// A compact tagged binary codec for what crosses between the blocking caller and its worker:
// request arguments, result objects, typed errors and row batches. It exists because
// structured clone (postMessage, v8.serialize) drops prototypes and is slower for the small
// objects a KV round trip carries; here a result comes back as the same class it left as.
//
// Class instances and errors travel by name: both ends build the same ClassRegistry from the
// same exports, so `ValueResult` leaves the worker as a ValueResult and arrives as one.

const enum Tag {
  UNDEFINED = 0,
  NULL = 1,
  TRUE = 2,
  FALSE = 3,
  INT32 = 4,
  FLOAT64 = 5,
  STRING = 6,
  BIGUINT64 = 7,
  BIGINT_TEXT = 8,
  BYTES = 9,
  ARRAY = 10,
  OBJECT = 11,
  INSTANCE = 12,
  ERROR = 13,
  DATE = 14,
  JSON = 15,
  MAP = 16,
}

/** A value already serialised as JSON text; written as-is and read back with JSON.parse. */
export class JsonText {
  constructor(readonly text: string) {}
}

type Ctor = abstract new (...args: never[]) => object;

/** Name <-> class table shared by both ends of a channel. */
export class ClassRegistry {
  private readonly byName = new Map<string, Ctor>();
  private readonly names = new Map<object, string>();

  /** Registers every class (function with a prototype) found among `exports`' values. */
  addExports(exports: Record<string, unknown>): this {
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value === 'function' && value.prototype && /^[A-Z]/.test(name)) this.add(name, value as Ctor);
    }
    return this;
  }

  add(name: string, ctor: Ctor): this {
    if (!this.byName.has(name)) this.byName.set(name, ctor);
    if (!this.names.has(ctor.prototype)) this.names.set(ctor.prototype, name);
    return this;
  }

  nameOf(proto: object | null): string | undefined {
    return proto === null ? undefined : this.names.get(proto);
  }

  get(name: string): Ctor | undefined {
    return this.byName.get(name);
  }
}

const EMPTY_REGISTRY = new ClassRegistry();

/** Strings up to this many UTF-16 units take the byte-loop paths (no call into C++). */
const SHORT_STRING = 64;
const STRING_CACHE_SIZE = 256;
/** Scratch for 64-bit integers (native byte order: both ends share the process): setting a BigUint64Array element is far cheaper than Buffer's BigInt methods. */
const U64 = new BigUint64Array(1);
const U64_BYTES = new Uint8Array(U64.buffer);

/**
 * Growable write buffer; reused across messages so the fast path allocates nothing. Given a
 * Buffer (a channel's shared area), it writes there directly and moves to a private buffer only
 * for a message that outgrows it; `buf === target` then tells the sender no copy is needed.
 */
export class Encoder {
  buf: Buffer;
  pos = 0;
  private readonly home: Buffer;

  constructor(
    private readonly registry: ClassRegistry = EMPTY_REGISTRY,
    target: number | Buffer = 64 * 1024,
  ) {
    this.home = typeof target === 'number' ? Buffer.allocUnsafe(target) : target;
    this.buf = this.home;
  }

  reset(): this {
    this.pos = 0;
    this.buf = this.home;
    return this;
  }

  /** The bytes written since the last reset (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  private str(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; write in place, then patch the length.
    const len = s.length;
    this.ensure(4 + len * 3);
    const buf = this.buf;
    const at = this.pos;
    if (len <= SHORT_STRING) {
      // Field names, class names and keys are short ASCII: a byte loop beats a call into C++.
      let p = at + 4;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        buf.writeUInt32LE(len, at);
        this.pos = p;
        return;
      }
    }
    const n = buf.write(s, at + 4, 'utf8');
    buf.writeUInt32LE(n, at);
    this.pos = at + 4 + n;
  }

  private u64(v: bigint): void {
    this.ensure(8);
    U64[0] = v;
    const buf = this.buf;
    for (let i = 0; i < 8; i++) buf[this.pos + i] = U64_BYTES[i];
    this.pos += 8;
  }

  /** Writes a JSON text as one value; the reader gets JSON.parse of it (fast for row batches). */
  writeJson(text: string): this {
    this.u8(Tag.JSON);
    this.str(text);
    return this;
  }

  write(v: unknown): this {
    switch (typeof v) {
      case 'undefined':
      case 'function':
      case 'symbol':
        this.u8(Tag.UNDEFINED);
        return this;
      case 'boolean':
        this.u8(v ? Tag.TRUE : Tag.FALSE);
        return this;
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.ensure(5);
          this.buf[this.pos++] = Tag.INT32;
          this.buf.writeInt32LE(v, this.pos);
          this.pos += 4;
        } else {
          this.ensure(9);
          this.buf[this.pos++] = Tag.FLOAT64;
          this.buf.writeDoubleLE(v, this.pos);
          this.pos += 8;
        }
        return this;
      case 'string':
        this.u8(Tag.STRING);
        this.str(v);
        return this;
      case 'bigint':
        if (v >= 0n && v < 0x10000000000000000n) {
          this.u8(Tag.BIGUINT64);
          this.u64(v);
        } else {
          this.u8(Tag.BIGINT_TEXT);
          this.str(v.toString());
        }
        return this;
    }
    if (v === null) {
      this.u8(Tag.NULL);
      return this;
    }
    return this.writeObject(v as object);
  }

  private writeObject(v: object): this {
    if (v instanceof JsonText) return this.writeJson(v.text);
    if (v instanceof Uint8Array) {
      this.u8(Tag.BYTES);
      this.u32(v.byteLength);
      this.ensure(v.byteLength);
      this.buf.set(v, this.pos);
      this.pos += v.byteLength;
      return this;
    }
    if (Array.isArray(v)) {
      this.u8(Tag.ARRAY);
      this.u32(v.length);
      for (let i = 0; i < v.length; i++) this.write(v[i]);
      return this;
    }
    if (v instanceof Date) {
      this.ensure(9);
      this.buf[this.pos++] = Tag.DATE;
      this.buf.writeDoubleLE(v.getTime(), this.pos);
      this.pos += 8;
      return this;
    }
    const proto = Object.getPrototypeOf(v);
    if (v instanceof Error) {
      this.u8(Tag.ERROR);
      this.str(this.registry.nameOf(proto) ?? v.name ?? 'Error');
      this.str(v.message);
      this.str(v.stack ?? '');
      this.fields(v, ['message', 'stack']);
      return this;
    }
    if (v instanceof Map) {
      this.u8(Tag.MAP);
      this.str(this.registry.nameOf(proto) ?? '');
      this.u32(v.size);
      for (const [k, val] of v) {
        this.write(k);
        this.write(val);
      }
      this.fields(v);
      return this;
    }
    if (proto === Object.prototype || proto === null) {
      this.u8(Tag.OBJECT);
      this.fields(v);
      return this;
    }
    const name = this.registry.nameOf(proto);
    if (name === undefined) {
      // An unknown class travels as its JSON form (toJSON honoured), as JSON.stringify would send it.
      const json = JSON.stringify(v, (_k, val) => (typeof val === 'bigint' ? val.toString() : val));
      return json === undefined ? this.write(undefined) : this.writeJson(json);
    }
    this.u8(Tag.INSTANCE);
    this.str(name);
    this.fields(v);
    return this;
  }

  private fields(v: object, skip?: string[]): void {
    let keys = Object.keys(v);
    if (skip) keys = keys.filter((k) => !skip.includes(k));
    this.u32(keys.length);
    const rec = v as Record<string, unknown>;
    for (const k of keys) {
      this.str(k);
      this.write(rec[k]);
    }
  }
}

/** Sets an own data property; `__proto__` becomes a field, as JSON.parse makes it, not a prototype. */
function setField(target: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else (target as Record<string, unknown>)[key] = value;
}

type Builder = (proto: object, values: unknown[]) => object;

interface Shape {
  keys: string[];
  seen: number;
  build: Builder | null;
}

/**
 * Object builders by shape. A shape seen COMPILE_AFTER times gets a builder compiled from its key
 * list (`o["key"] = values[0]; ...`); until then, and for shapes past the cache's limits, fields
 * are set one by one. Keys are embedded with JSON.stringify, so no key can escape the literal.
 */
class ShapeCache {
  static readonly COMPILE_AFTER = 4;
  static readonly PER_PROTO = 16;
  static readonly MAX_COMPILED = 512;
  private readonly byProto = new Map<object, Shape[]>();
  private compiled = 0;

  build(proto: object, keys: string[], values: unknown[]): object {
    const shape = this.lookup(proto, keys);
    if (shape !== undefined) {
      if (shape.build !== null) return shape.build(proto, values);
      if (++shape.seen >= ShapeCache.COMPILE_AFTER && this.compiled < ShapeCache.MAX_COMPILED) {
        shape.build = compileBuilder(keys);
        this.compiled++;
        if (shape.build !== null) return shape.build(proto, values);
      }
    }
    const o = proto === Object.prototype ? {} : Object.create(proto);
    for (let i = 0; i < keys.length; i++) setField(o, keys[i], values[i]);
    return o;
  }

  private lookup(proto: object, keys: string[]): Shape | undefined {
    let list = this.byProto.get(proto);
    if (list === undefined) {
      list = [];
      this.byProto.set(proto, list);
    }
    const n = keys.length;
    outer: for (let s = 0; s < list.length; s++) {
      const k = list[s].keys;
      if (k.length !== n) continue;
      for (let i = 0; i < n; i++) if (k[i] !== keys[i]) continue outer;
      return list[s];
    }
    if (list.length >= ShapeCache.PER_PROTO) return undefined;
    const shape: Shape = { keys, seen: 0, build: null };
    list.push(shape);
    return shape;
  }
}

function compileBuilder(keys: string[]): Builder | null {
  // Keys that are array indices or __proto__ behave differently as literal stores; keep those on the slow path.
  if (keys.some((k) => k === '__proto__' || /^\d+$/.test(k))) return null;
  const body = keys.map((k, i) => `o[${JSON.stringify(k)}] = v[${i}];`).join('\n');
  return new Function('proto', 'v', `const o = proto === Object.prototype ? {} : Object.create(proto);\n${body}\nreturn o;`) as Builder;
}

/** What a decoded error needs to look like a local one. */
export interface ErrorRebuild {
  /** Replaces the remote stack; called with the rebuilt error (e.g. Error.captureStackTrace). */
  captureStack?(err: Error): void;
}

export class Decoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Recently decoded short ASCII strings, by hash (see str()). */
  private readonly strings: (string | undefined)[] = new Array(STRING_CACHE_SIZE).fill(undefined);
  private readonly shapes = new ShapeCache();

  constructor(
    private readonly registry: ClassRegistry = EMPTY_REGISTRY,
    private readonly rebuild: ErrorRebuild = {},
  ) {}

  /** Decodes one value from `buf`; byte arrays in the result are copies, never views of `buf`. */
  decode(buf: Buffer, start = 0): unknown {
    this.buf = buf;
    this.pos = start;
    return this.read();
  }

  /** Decodes `count` values written back to back. */
  decodeSequence(buf: Buffer, count: number): unknown[] {
    this.buf = buf;
    this.pos = 0;
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.read();
    return out;
  }

  private u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  private str(): string {
    const n = this.u32();
    const buf = this.buf;
    const at = this.pos;
    this.pos = at + n;
    if (n > SHORT_STRING) return buf.toString('utf8', at, at + n);
    // Short ASCII strings repeat (field and class names): look them up in a small cache by
    // hash instead of building them again.
    let h = n;
    for (let i = 0; i < n; i++) {
      const c = buf[at + i];
      if (c >= 0x80) return buf.toString('utf8', at, at + n);
      h = (Math.imul(h, 31) + c) | 0;
    }
    const slot = (h ^ (h >>> 11)) & (STRING_CACHE_SIZE - 1);
    const cached = this.strings[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[at + i]) i++;
      if (i === n) return cached;
    }
    const s = n === 0 ? '' : buf.toString('latin1', at, at + n);
    this.strings[slot] = s;
    return s;
  }

  private read(): unknown {
    const tag = this.buf[this.pos++];
    switch (tag) {
      case Tag.UNDEFINED:
        return undefined;
      case Tag.NULL:
        return null;
      case Tag.TRUE:
        return true;
      case Tag.FALSE:
        return false;
      case Tag.INT32: {
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return v;
      }
      case Tag.FLOAT64: {
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case Tag.STRING:
        return this.str();
      case Tag.BIGUINT64: {
        const buf = this.buf;
        for (let i = 0; i < 8; i++) U64_BYTES[i] = buf[this.pos + i];
        this.pos += 8;
        return U64[0];
      }
      case Tag.BIGINT_TEXT:
        return BigInt(this.str());
      case Tag.BYTES: {
        const n = this.u32();
        const out = Buffer.allocUnsafe(n);
        this.buf.copy(out, 0, this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case Tag.ARRAY: {
        const n = this.u32();
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.read();
        return out;
      }
      case Tag.OBJECT:
        return this.readObject(Object.prototype);
      case Tag.DATE: {
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return new Date(v);
      }
      case Tag.JSON:
        return JSON.parse(this.str());
      case Tag.INSTANCE: {
        const name = this.str();
        const ctor = this.registry.get(name);
        return this.readObject(ctor ? (ctor.prototype as object) : Object.prototype);
      }
      case Tag.MAP: {
        const name = this.str();
        const ctor = this.registry.get(name);
        const map: Map<unknown, unknown> = ctor ? Reflect.construct(Map, [], ctor) : new Map();
        const n = this.u32();
        for (let i = 0; i < n; i++) {
          const k = this.read();
          map.set(k, this.read());
        }
        return this.readFields(map);
      }
      case Tag.ERROR:
        return this.readError();
      default:
        throw new Error(`blocking codec: unknown tag ${tag} at offset ${this.pos - 1}`);
    }
  }

  private readFields<T extends object>(target: T): T {
    const n = this.u32();
    for (let i = 0; i < n; i++) setField(target, this.str(), this.read());
    return target;
  }

  /**
   * A plain object or class instance: its fields are read first, then the object is built by
   * the builder compiled for its shape (prototype + key list) once that shape has recurred, so
   * its stores are monomorphic instead of one megamorphic keyed store per field.
   */
  private readObject(proto: object): object {
    const n = this.u32();
    const keys: string[] = new Array(n);
    const values: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      keys[i] = this.str();
      values[i] = this.read();
    }
    return this.shapes.build(proto, keys, values);
  }

  private readError(): Error {
    const name = this.str();
    const message = this.str();
    const remoteStack = this.str();
    const ctor = this.registry.get(name);
    const err: Error = Object.create(ctor ? ctor.prototype : Error.prototype);
    Object.defineProperty(err, 'message', { value: message, writable: true, configurable: true, enumerable: false });
    if (!ctor && name !== 'Error') Object.defineProperty(err, 'name', { value: name, writable: true, configurable: true });
    this.readFields(err);
    if (this.rebuild.captureStack) this.rebuild.captureStack(err);
    else Object.defineProperty(err, 'stack', { value: remoteStack, writable: true, configurable: true });
    return err;
  }
}
