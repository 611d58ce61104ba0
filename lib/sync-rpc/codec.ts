// A compact tagged binary codec for what crosses between the blocking caller and its worker:
// request arguments, result objects, typed errors and row batches. It exists because
// structured clone (postMessage, v8.serialize) drops prototypes and is slower for the small
// objects a KV round trip carries; here a result comes back as the same class it left as.
//
// Class instances and errors travel by name: both ends build the same ClassRegistry from the
// same exports, so `ValueResult` leaves the worker as a ValueResult and arrives as one. Objects
// name their fields once per shape (see shapes.ts), then travel as a shape id and values.
import { DecoderShapes, EncoderShapes, objectOf, setField } from './shapes';

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
  /** A new shape: u16 id, class name ('' for a plain object), u32 key count, keys; then the values. */
  SHAPE_DEF = 17,
  /** An object of a shape defined earlier: u16 id, then the values. */
  SHAPED = 18,
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
/**
 * Strings up to this long are built with String.fromCharCode (30-60 ns for 4 characters vs
 * 100-170 through Buffer#toString); longer ones would be built as ropes, so they take toString.
 */
const CHAR_LOOP = 8;
/** Most prototypes whose class name an encoder remembers. */
const MAX_CLASS_NAMES = 1024;
/** Scratch for 64-bit integers (native byte order: both ends share the process): setting a BigUint64Array element is far cheaper than Buffer's BigInt methods. */
const U64 = new BigUint64Array(1);
const U64_BYTES = new Uint8Array(U64.buffer);

/** Little-endian 32 bits (signed or not: the low 32 bits of `v`) as byte stores, cheaper than Buffer's checked writers. */
function put32(buf: Buffer, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

/** How deeply objects and arrays may nest in one message; deeper means a value that refers to itself. */
export const MAX_NESTING = 1000;

/** A value nests deeper than MAX_NESTING (most likely it refers to itself): it cannot be sent. */
export class NestingError extends Error {
  constructor() {
    super(`a value nests deeper than ${MAX_NESTING} levels (does it refer to itself?); it cannot be sent to the other thread`);
    this.name = 'NestingError';
  }
}

/**
 * Growable write buffer; reused across messages so the fast path allocates nothing. Given a
 * Buffer (a channel's shared area), it writes there directly and moves to a private buffer only
 * for a message that outgrows it; `buf === target` then tells the sender no copy is needed.
 */
export class Encoder {
  buf: Buffer;
  pos = 0;
  private readonly home: Buffer;
  private readonly shapes = new EncoderShapes();
  /** Prototype -> registered class name, or null for built-ins and unknown classes. */
  private readonly classNames = new Map<object, string | null>();
  /** Objects and arrays open around the value being written (a cycle would grow it without end). */
  private depth = 0;

  constructor(
    private readonly registry: ClassRegistry = EMPTY_REGISTRY,
    target: number | Buffer = 64 * 1024,
  ) {
    this.home = typeof target === 'number' ? Buffer.allocUnsafe(target) : target;
    this.buf = this.home;
  }

  /**
   * Starts a new message. Shapes the previous message defined are forgotten unless it was
   * committed: a message that was never sent must not leave the decoder a shape it lacks.
   */
  reset(): this {
    this.shapes.rollback();
    this.pos = 0;
    this.buf = this.home;
    this.depth = 0;
    return this;
  }

  /** The message written since reset() was sent: the decoder will know the shapes it defined. */
  commit(): void {
    this.shapes.commit();
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

  private u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = v >>> 8;
  }

  private u32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v);
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
        put32(buf, at, len);
        this.pos = p;
        return;
      }
    }
    const n = buf.write(s, at + 4, 'utf8');
    put32(buf, at, n);
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
          put32(this.buf, this.pos, v);
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
    if (++this.depth > MAX_NESTING) throw new NestingError();
    this.writeObjectBody(v);
    this.depth--;
    return this;
  }

  private writeObjectBody(v: object): this {
    if (Array.isArray(v)) {
      this.u8(Tag.ARRAY);
      this.u32(v.length);
      for (let i = 0; i < v.length; i++) this.write(v[i]);
      return this;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto === Object.prototype || proto === null) return this.shaped(v, Object.prototype, '');
    // Result classes are the common case: their name is looked up once per class, not walked
    // through five instanceof checks per object.
    let name = this.classNames.get(proto);
    if (name === undefined) {
      name = this.classNameOf(v, proto);
      if (this.classNames.size < MAX_CLASS_NAMES) this.classNames.set(proto, name);
    }
    if (name !== null) return this.shaped(v, proto, name);
    return this.writeSpecial(v, proto);
  }

  /** A registered class's name, or null for what writeSpecial handles (built-ins, unknown classes). */
  private classNameOf(v: object, proto: object): string | null {
    if (v instanceof JsonText || v instanceof Uint8Array || v instanceof Date || v instanceof Error || v instanceof Map) return null;
    return this.registry.nameOf(proto) ?? null;
  }

  private writeSpecial(v: object, proto: object): this {
    if (v instanceof JsonText) return this.writeJson(v.text);
    if (v instanceof Uint8Array) {
      this.u8(Tag.BYTES);
      this.u32(v.byteLength);
      this.ensure(v.byteLength);
      this.buf.set(v, this.pos);
      this.pos += v.byteLength;
      return this;
    }
    if (v instanceof Date) {
      this.ensure(9);
      this.buf[this.pos++] = Tag.DATE;
      this.buf.writeDoubleLE(v.getTime(), this.pos);
      this.pos += 8;
      return this;
    }
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
    // An unknown class travels as its JSON form (toJSON honoured), as JSON.stringify would send it.
    const json = JSON.stringify(v, (_k, val) => (typeof val === 'bigint' ? val.toString() : val));
    return json === undefined ? this.write(undefined) : this.writeJson(json);
  }

  /** A plain object (name '') or registered class instance: by shape id, else with its field names. */
  private shaped(v: object, proto: object, name: string): this {
    const keys = Object.keys(v);
    let shape = this.shapes.find(proto, keys);
    if (shape !== undefined) {
      this.u8(Tag.SHAPED);
      this.u16(shape.id);
    } else if ((shape = this.shapes.define(proto, keys)) !== undefined) {
      this.u8(Tag.SHAPE_DEF);
      this.u16(shape.id);
      this.str(name);
      this.u32(keys.length);
      for (const k of keys) this.str(k);
    } else {
      // The shape table is full: name every field.
      if (name === '') this.u8(Tag.OBJECT);
      else {
        this.u8(Tag.INSTANCE);
        this.str(name);
      }
      this.fields(v);
      return this;
    }
    this.shapes.writeValues(shape, this, v);
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
  private readonly shapes = new DecoderShapes();

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

  /** Little-endian signed 32 bits, as byte loads (put32's other side). */
  private i32(): number {
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
  }

  private u32(): number {
    return this.i32() >>> 0;
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
    let s: string;
    if (n <= CHAR_LOOP) {
      // Keys of a few characters: building the string here beats a call into C++.
      s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(buf[at + i]);
    } else {
      s = buf.toString('latin1', at, at + n);
    }
    this.strings[slot] = s;
    return s;
  }

  /** The next value (the compiled shape readers call this for each field). */
  readValue(): unknown {
    return this.read();
  }

  private u16(): number {
    const v = this.buf[this.pos] | (this.buf[this.pos + 1] << 8);
    this.pos += 2;
    return v;
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
      case Tag.INT32:
        return this.i32();
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
      case Tag.SHAPED:
        return this.shapes.read(this.u16(), this);
      case Tag.SHAPE_DEF: {
        const id = this.u16();
        const name = this.str();
        const ctor = name === '' ? undefined : this.registry.get(name);
        const n = this.u32();
        const keys: string[] = new Array(n);
        for (let i = 0; i < n; i++) keys[i] = this.str();
        this.shapes.define(id, ctor ? (ctor.prototype as object) : Object.prototype, keys);
        return this.shapes.read(id, this);
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

  /** A plain object or class instance with its field names (past the shape table's limits). */
  private readObject(proto: object): object {
    return this.readFields(objectOf(proto));
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
