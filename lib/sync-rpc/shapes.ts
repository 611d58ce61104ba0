// Object shapes for the blocking codec. The first time an encoder writes an object of a given
// shape (prototype + own key list), it defines the shape inline: an id, the class name and the
// keys. Later objects of that shape carry only the id and their values, so a result's field names
// cross once per channel instead of once per call, and the decoder rebuilds the object with a
// reader compiled for that shape.
//
// The two tables stay in step because each side reads the other's messages in the order they
// were written. A message that is abandoned before it is sent (its encoding threw) must take its
// definitions back with it: the encoder keeps them pending until commit() and drops them on the
// next reset() otherwise.

/** Most shapes one encoder defines; ids travel as 16-bit numbers. */
const MAX_SHAPES = 4096;
/** Most shapes per prototype: plain objects of endlessly varying shape fall back to named fields. */
const PER_PROTO = 64;
/** Uses before a shape gets a compiled writer or reader. */
const COMPILE_AFTER = 4;
/** Most compiled functions per table (each costs a `new Function`). */
const MAX_COMPILED = 512;

/** What writes a value; the compiled writers call it for each field. */
export interface ValueWriter {
  write(v: unknown): unknown;
}

/** What reads the next value; the compiled readers call it for each field. */
export interface ValueReader {
  readValue(): unknown;
}

type Writer = (enc: ValueWriter, v: object) => void;
type Reader = (dec: ValueReader) => object;

/** What both tables track per shape to decide when to compile it. */
interface Compilable {
  readonly keys: string[];
  /** False for keys a literal store treats differently from a plain field (`__proto__`, indices). */
  readonly compilable: boolean;
  uses: number;
}

interface EncoderShape extends Compilable {
  readonly id: number;
  writer: Writer | null;
}

const compilable = (keys: string[]): boolean => !keys.some((k) => k === '__proto__' || /^\d+$/.test(k));

/** How many functions a table has compiled; a shape's turn comes after COMPILE_AFTER uses. */
class CompileBudget {
  private compiled = 0;

  /** Counts a use of `shape`; true when it should be compiled now (once per shape). */
  due(shape: Compilable): boolean {
    if (++shape.uses !== COMPILE_AFTER || !shape.compilable || this.compiled >= MAX_COMPILED) return false;
    this.compiled++;
    return true;
  }
}

/** The encoder's side: which shapes the decoder already knows, by prototype. */
export class EncoderShapes {
  private readonly byProto = new Map<object, EncoderShape[]>();
  private next = 0;
  /** The list each uncommitted shape was added to, in order (next - pending.length are committed). */
  private readonly pending: EncoderShape[][] = [];
  private readonly budget = new CompileBudget();

  /** The known shape with exactly these keys, in this order, if any. */
  find(proto: object, keys: string[]): EncoderShape | undefined {
    const list = this.byProto.get(proto);
    if (list === undefined) return undefined;
    const n = keys.length;
    outer: for (let s = 0; s < list.length; s++) {
      const k = list[s].keys;
      if (k.length !== n) continue;
      for (let i = 0; i < n; i++) if (k[i] !== keys[i]) continue outer;
      return list[s];
    }
    return undefined;
  }

  /** Defines a new shape (pending until commit), or returns undefined when the table is full. */
  define(proto: object, keys: string[]): EncoderShape | undefined {
    if (this.next >= MAX_SHAPES) return undefined;
    let list = this.byProto.get(proto);
    if (list === undefined) this.byProto.set(proto, (list = []));
    if (list.length >= PER_PROTO) return undefined;
    const shape: EncoderShape = { id: this.next++, keys, compilable: compilable(keys), uses: 0, writer: null };
    list.push(shape);
    this.pending.push(list);
    return shape;
  }

  /** Writes `v`'s values in the shape's key order. */
  writeValues(shape: EncoderShape, enc: ValueWriter, v: object): void {
    if (shape.writer !== null) return shape.writer(enc, v);
    if (this.budget.due(shape)) {
      const body = shape.keys.map((k) => `e.write(v[${JSON.stringify(k)}]);`).join('\n');
      shape.writer = new Function('e', 'v', body) as Writer;
      return shape.writer(enc, v);
    }
    const rec = v as Record<string, unknown>;
    for (const k of shape.keys) enc.write(rec[k]);
  }

  /** The message that defined the pending shapes was sent: the decoder will know them. */
  commit(): void {
    if (this.pending.length !== 0) this.pending.length = 0;
  }

  /** The message was not sent: forget the shapes it defined. */
  rollback(): void {
    const n = this.pending.length;
    if (n === 0) return;
    // Each list only ever grows at its end, so undoing in reverse order pops the right entries.
    for (let i = n - 1; i >= 0; i--) this.pending[i].pop();
    this.pending.length = 0;
    this.next -= n;
  }
}

interface DecoderShape extends Compilable {
  readonly proto: object;
  reader: Reader | null;
}

/** The decoder's side: shapes by id, as the encoder defined them. */
export class DecoderShapes {
  private readonly byId: (DecoderShape | undefined)[] = [];
  private readonly budget = new CompileBudget();

  define(id: number, proto: object, keys: string[]): void {
    if (id >= MAX_SHAPES) throw new Error(`blocking codec: shape id ${id} is out of range`);
    this.byId[id] = { proto, keys, compilable: compilable(keys), uses: 0, reader: null };
  }

  /** Reads an object of shape `id` whose values follow. */
  read(id: number, dec: ValueReader): object {
    const shape = this.byId[id];
    if (shape === undefined) throw new Error(`blocking codec: unknown shape ${id} (the two ends are out of step)`);
    if (shape.reader !== null) return shape.reader(dec);
    if (this.budget.due(shape)) {
      shape.reader = compileReader(shape.proto, shape.keys);
      return shape.reader(dec);
    }
    const o = objectOf(shape.proto);
    for (const k of shape.keys) setField(o, k, dec.readValue());
    return o;
  }
}

/** `o["key"] = d.readValue(); ...` for one shape: monomorphic stores instead of keyed ones. Keys are embedded with JSON.stringify, so none can escape the literal. */
function compileReader(proto: object, keys: string[]): Reader {
  const body = keys.map((k) => `o[${JSON.stringify(k)}] = d.readValue();`).join('\n');
  const make = new Function('proto', `return function (d) {\nconst o = proto === Object.prototype ? {} : Object.create(proto);\n${body}\nreturn o;\n};`);
  return make(proto) as Reader;
}

/** A new empty object with prototype `proto` (a literal for plain objects: V8's fastest shape). */
export function objectOf(proto: object): object {
  return proto === Object.prototype ? {} : Object.create(proto);
}

/** Sets an own data property; `__proto__` becomes a field, as JSON.parse makes it, not a prototype. */
export function setField(target: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else (target as Record<string, unknown>)[key] = value;
}
