// INFER: the schema of a keyspace's documents (or of an expression's values) as Couchbase 7.6
// describes it: one result row, an array of flavors; each flavor a JSON Schema (draft-06) object
// of the sampled documents whose top-level fields are alike (similarity_metric), with for every
// attribute how many documents have it (#docs, %docs), some sample values and its type, per type
// when it has several; arrays add items/minItems/maxItems, objects their properties.
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { compile, type ExecContext } from './expr';
import { QueryError } from './errors';
import { docValue } from './indexes';
import { resolveBucket, type Env } from './keyspace';
import { EMPTY_ROW, rootScope } from './select';
import { collate, isObject, typeName, valueKey, type ObjectValue, type Value } from './value';

const SCHEMA = 'http://json-schema.org/draft-06/schema';

interface InferOptions {
  sampleSize: number;
  numSampleValues: number;
  similarity: number;
  dictionaryThreshold: number;
}

const NUMERIC = ['sample_size', 'num_sample_values', 'similarity_metric', 'dictionary_threshold', 'infer_timeout', 'max_schema_MB'];

function optionsOf(v: Value): InferOptions {
  const o: InferOptions = { sampleSize: 1000, numSampleValues: 5, similarity: 0.6, dictionaryThreshold: 10 };
  if (v === undefined || v === null) return o;
  if (!isObject(v)) throw new QueryError(7000, `Infer: Invalid option '${typeName(v)}'`, { invalid_option: typeName(v) });
  for (const [k, x] of Object.entries(v)) {
    if (k === 'flags') continue;
    if (!NUMERIC.includes(k)) throw new QueryError(7000, `Infer: Invalid option '${k}'`, { invalid_option: k });
    if (typeof x !== 'number') throw new QueryError(7001, `Infer: Option '${k}' must be numeric.`, { option: k, type: typeName(x) });
  }
  if (typeof v.sample_size === 'number') o.sampleSize = Math.max(1, Math.floor(v.sample_size));
  if (typeof v.num_sample_values === 'number') o.numSampleValues = Math.max(0, Math.floor(v.num_sample_values));
  if (typeof v.similarity_metric === 'number') o.similarity = v.similarity_metric;
  if (typeof v.dictionary_threshold === 'number') o.dictionaryThreshold = v.dictionary_threshold;
  return o;
}

/** JSON Schema's name for a value's type (integers are "number", as the server reports them). */
function schemaType(v: Value): string {
  return typeName(v) === 'binary' ? 'string' : typeName(v);
}

/** What the sample says about one attribute (or array element), per type seen. */
class Attr {
  readonly byType = new Map<string, { docs: number; samples: Map<string, Value>; props?: Map<string, Attr>; items?: Attr; min?: number; max?: number; elements?: number }>();

  constructor(private readonly opts: InferOptions) {}

  add(v: Value): void {
    const t = schemaType(v);
    let s = this.byType.get(t);
    if (!s) {
      s = { docs: 0, samples: new Map() };
      this.byType.set(t, s);
    }
    s.docs++;
    if (t !== 'object' && s.samples.size < Math.max(this.opts.numSampleValues * 20, 100)) s.samples.set(valueKey(v), v);
    if (t === 'object') {
      s.props ??= new Map();
      for (const [k, x] of Object.entries(v as ObjectValue)) {
        let a = s.props.get(k);
        if (!a) s.props.set(k, (a = new Attr(this.opts)));
        a.add(x);
      }
    } else if (t === 'array') {
      const arr = v as Value[];
      s.min = s.min === undefined ? arr.length : Math.min(s.min, arr.length);
      s.max = s.max === undefined ? arr.length : Math.max(s.max, arr.length);
      s.items ??= new Attr(this.opts);
      s.elements = (s.elements ?? 0) + arr.length;
      for (const x of arr) s.items.add(x);
    }
  }

  private samplesOf(t: string): Value[] {
    const s = this.byType.get(t)!;
    return [...s.samples.values()].sort(collate).slice(0, this.opts.numSampleValues);
  }

  /** The attribute's schema; `of` is the number of documents (or elements) it is counted against. */
  describe(of: number): ObjectValue {
    const types = [...this.byType.keys()].sort();
    const pct = (n: number): number => Math.round((n / of) * 100 * 100) / 100;
    const out: ObjectValue = {};
    if (types.length === 1) {
      const t = types[0];
      const s = this.byType.get(t)!;
      out['#docs'] = s.docs;
      out['%docs'] = pct(s.docs);
      Object.assign(out, this.shape(t, s.docs));
      if (t !== 'object') out.samples = this.samplesOf(t);
      out.type = t;
      return out;
    }
    out['#docs'] = types.map((t) => this.byType.get(t)!.docs);
    out['%docs'] = types.map((t) => pct(this.byType.get(t)!.docs));
    for (const t of types) Object.assign(out, this.shape(t, this.byType.get(t)!.docs));
    out.samples = types.map((t) => (t === 'object' ? [] : this.samplesOf(t)));
    out.type = types;
    return out;
  }

  /** properties of an object type, items/minItems/maxItems of an array type. */
  private shape(t: string, docs: number): ObjectValue {
    const s = this.byType.get(t)!;
    if (t === 'object') return { properties: describeProps(s.props!, docs) };
    if (t === 'array') {
      // The elements' schema, counted against the elements (a schema of its own when they are objects).
      const d = s.items!.byType.size ? s.items!.describe(s.elements!) : {};
      delete d['%docs'];
      const items: ObjectValue = d.type === 'object' ? { '#docs': d['#docs'], $schema: SCHEMA, properties: d.properties, type: 'object' } : d;
      return { items, maxItems: s.max!, minItems: s.min! };
    }
    return {};
  }
}

function describeProps(props: Map<string, Attr>, docs: number): ObjectValue {
  const out: ObjectValue = {};
  for (const k of [...props.keys()].sort()) out[k] = props.get(k)!.describe(docs);
  return out;
}

interface Flavor {
  fields: Set<string>;
  docs: ObjectValue[];
}

/** Groups documents whose top-level field names overlap by at least `similarity` (shared / all). */
function flavorsOf(docs: ObjectValue[], similarity: number): Flavor[] {
  const flavors: Flavor[] = [];
  for (const d of docs) {
    const names = Object.keys(d);
    let home: Flavor | undefined;
    for (const f of flavors) {
      let shared = 0;
      for (const n of names) if (f.fields.has(n)) shared++;
      const all = f.fields.size + names.length - shared;
      if (all === 0 || shared / all >= similarity) {
        home = f;
        break;
      }
    }
    if (!home) flavors.push((home = { fields: new Set(), docs: [] }));
    for (const n of names) home.fields.add(n);
    home.docs.push(d);
  }
  return flavors.sort((a, b) => b.docs.length - a.docs.length);
}

/** "`stops` = 0, `type` = \"route\"": the top-level scalar fields every document of the flavor has with one value. */
function flavorText(f: Flavor): string {
  const parts: string[] = [];
  for (const name of [...f.fields].sort()) {
    const first = f.docs[0][name];
    if (first === undefined || isObject(first) || Array.isArray(first)) continue;
    if (f.docs.every((d) => d[name] !== undefined && collate(d[name], first) === 0)) parts.push(`\`${name}\` = ${JSON.stringify(first)}`);
  }
  return parts.join(', ');
}

/**
 * The flavors of a keyspace's sampled documents as INFER finds them (default options), each as
 * the top-level scalar fields all its documents share with one value: what the index advisor
 * makes partial indexes of (its rule 10).
 */
export function flavorValues(store: BucketStore, sampleSize = 1000): Map<string, Value>[] {
  const docs: ObjectValue[] = [];
  for (const doc of store.docs()) {
    if (docs.length >= sampleSize) break;
    const v = docValue(doc);
    if (isObject(v)) docs.push(v);
  }
  return flavorsOf(docs, 0.6).map((f) => {
    const shared = new Map<string, Value>();
    for (const name of f.fields) {
      const first = f.docs[0][name];
      if (first === undefined || isObject(first) || Array.isArray(first)) continue;
      if (f.docs.every((d) => d[name] !== undefined && collate(d[name], first) === 0)) shared.set(name, first);
    }
    return shared;
  });
}

function infer(values: Value[], opts: InferOptions): ObjectValue[] {
  const docs = values.filter(isObject) as ObjectValue[];
  return flavorsOf(docs, opts.similarity).map((f) => {
    const props = new Map<string, Attr>();
    for (const d of f.docs) {
      for (const [k, v] of Object.entries(d)) {
        let a = props.get(k);
        if (!a) props.set(k, (a = new Attr(opts)));
        a.add(v);
      }
    }
    return { '#docs': f.docs.length, $schema: SCHEMA, Flavor: flavorText(f), properties: describeProps(props, f.docs.length), type: 'object' };
  });
}

/** The statement's one result: the array of flavors. */
export function runInfer(stmt: A.InferStatement, env: Env, ctx: ExecContext): Value {
  const scope = rootScope(env);
  const options = optionsOf(stmt.with ? compile(stmt.with, scope)(EMPTY_ROW, ctx) : undefined);
  const values: Value[] = [];
  if (stmt.ks) {
    const store = resolveBucket(env, stmt.ks, 'SELECT');
    let n = 0;
    for (const doc of store.docs()) {
      if (values.length >= options.sampleSize) break;
      if ((++n & 1023) === 0) ctx.checkDeadline();
      values.push(docValue(doc));
    }
  } else {
    const v = compile(stmt.expr!, scope)(EMPTY_ROW, ctx);
    if (Array.isArray(v)) values.push(...v.slice(0, options.sampleSize));
    else if (v !== undefined) values.push(v);
  }
  return infer(values, options);
}
