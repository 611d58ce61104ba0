// bucket.collection('scope.collection') and bucket.scope('scope').collection('collection') in
// every flavour: an object with the Bucket's KV methods (the same table, the same async type),
// each call going to the Bucket's method with `collection` in its options. The engine looks the
// collection's id up once (GET_COLLECTION_ID), caches it, and asks again when a node no longer
// knows it; the Bucket's own methods stay on the default collection, unchanged.
import { checkCollectionPath } from '../../lib/engine/kv/collections';
import { KV_ALIASES, KV_METHOD_NAMES, KV_METHODS, callOptions, optionsIndex, replaceOptions, type MethodSpec } from './methods';

/** What a collection object says of itself beside its KV methods. */
export interface CollectionInfo<B> {
  /** The Bucket it belongs to. */
  readonly bucket: B;
  readonly scopeName: string;
  readonly name: string;
}

/** A flavour's collection: its Bucket's KV methods (`stats` is the bucket's alone) and CollectionInfo. */
export type CollectionOf<Kv, B> = Omit<Kv, 'stats'> & CollectionInfo<B>;

/** What bucket.scope(name) gives: the scope's collections. */
export interface ScopeOf<C> {
  readonly name: string;
  collection(name: string): C;
}

/** The methods defineCollections puts on a Bucket. */
export interface CollectionAccess<C> {
  /** The collection `path` ("scope.collection"): the Bucket's KV methods, in that collection. */
  collection(path: string): C;
  /** Scope `name`, whose collection(name) is bucket.collection(`${scope}.${name}`). */
  scope(name: string): ScopeOf<C>;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

class Collection {
  /** `{ collection }`: the options of a call that gave none (shared, never changed). */
  readonly options: Readonly<{ collection: string }>;
  constructor(
    readonly bucket: Record<string, Method>,
    readonly scopeName: string,
    readonly name: string,
  ) {
    this.options = Object.freeze({ collection: `${scopeName}.${name}` });
  }
}

class Scope {
  constructor(
    private readonly bucket: { collection(path: string): unknown },
    readonly name: string,
  ) {}
  collection(name: string): unknown {
    return this.bucket.collection(`${this.name}.${name}`);
  }
}

/** The options at a fixed place with `collection` set: a positional option (ttl, cas, delta) becomes an object. */
function withCollection(c: Collection, spec: MethodSpec, given: unknown): unknown {
  if (given === undefined || given === null) return c.options;
  if (typeof given === 'object' && !Array.isArray(given) && !Buffer.isBuffer(given)) {
    const proto = Object.getPrototypeOf(given);
    if (proto === Object.prototype || proto === null) return { ...given, collection: c.options.collection };
  }
  // Not an options object: a positional option, or nonsense the Bucket's method reports.
  return spec.positional !== undefined ? { [spec.positional]: given, collection: c.options.collection } : given;
}

/**
 * A call's arguments with `collection` in its options, for the shapes whose options have no fixed
 * place: named arguments, a rest argument (lookupIn(key, ...specs, options?)).
 */
function argsWithCollection(c: Collection, spec: MethodSpec, args: unknown[]): unknown[] {
  const form = spec.rest !== undefined ? [args[0], args.slice(1)] : args;
  const found = callOptions(spec, form);
  let next: unknown[];
  if (found !== undefined) next = replaceOptions(spec, form, found[0], { ...found[1], collection: c.options.collection });
  else if (spec.rest !== undefined) next = [form[0], [...(form[1] as unknown[]), c.options]];
  else {
    next = form.slice();
    const at = optionsIndex(spec, form[0], form[1]);
    next[at] = withCollection(c, spec, next[at]);
  }
  return spec.rest !== undefined ? [next[0], ...(next[1] as unknown[])] : next;
}

const prototype = Collection.prototype as unknown as Record<string, Method>;
for (const name of KV_METHOD_NAMES) {
  const spec = KV_METHODS[name];
  if (spec.shape === 'stats') continue;
  // Named after the method, so stack traces and `collection.get.name` read right.
  prototype[name] =
    spec.shape === 'args'
      ? ({
          [name](this: Collection, ...args: unknown[]): unknown {
            return this.bucket[name].apply(this.bucket, argsWithCollection(this, spec, args));
          },
        }[name] as Method)
      : ({
          [name](this: Collection, a0?: unknown, a1?: unknown, a2?: unknown): unknown {
            const method = this.bucket[name];
            return optionsIndex(spec, a0, a1) === 1 ? method.call(this.bucket, a0, withCollection(this, spec, a1), a2) : method.call(this.bucket, a0, a1, withCollection(this, spec, a2));
          },
        }[name] as Method);
}
// Python's other names (rget, set, add, delete, ...) name the same methods here too.
for (const [alias, target] of Object.entries(KV_ALIASES)) {
  if (prototype[target] === undefined) continue;
  prototype[alias] = {
    [alias](this: Collection, ...args: unknown[]): unknown {
      return prototype[target].apply(this, args);
    },
  }[alias] as Method;
}

/** Puts collection() and scope() on a flavour's Bucket prototype (whose KV methods are already there). */
export function defineCollections(proto: object): void {
  Object.defineProperty(proto, 'collection', {
    configurable: true,
    writable: true,
    value: function collection(this: Record<string, Method>, path: string): Collection {
      checkCollectionPath(path);
      const dot = path.indexOf('.');
      return new Collection(this, path.slice(0, dot), path.slice(dot + 1));
    },
  });
  Object.defineProperty(proto, 'scope', {
    configurable: true,
    writable: true,
    value: function scope(this: { collection(path: string): unknown }, name: string): Scope {
      checkCollectionPath(`${name}._default`);
      return new Scope(this, name);
    },
  });
}
