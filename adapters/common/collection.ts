// bucket.collection('scope.collection') and bucket.scope('scope').collection('collection') in
// every flavour: an object with the Bucket's KV methods (the same table, the same async type),
// each call going to the Bucket's method with `collection` in its options. The engine looks the
// collection's id up once (GET_COLLECTION_ID), caches it, and asks again when a node no longer
// knows it; the Bucket's own methods stay on the default collection, unchanged.
import { checkCollectionPath } from '../../lib/engine/kv/collections';
import { KV_METHOD_NAMES, KV_METHODS, optionsIndex, type MethodSpec } from './methods';

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

type Method = (this: unknown, a0?: unknown, a1?: unknown, a2?: unknown) => unknown;

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

/** The call's options with `collection` set: a positional option (ttl, cas, delta) becomes an object. */
function withCollection(c: Collection, spec: MethodSpec, given: unknown): unknown {
  if (given === undefined || given === null) return c.options;
  if (typeof given === 'object' && !Array.isArray(given) && !Buffer.isBuffer(given)) return { ...given, collection: c.options.collection };
  // Not an options object: a positional option, or nonsense the Bucket's method reports.
  return spec.positional !== undefined ? { [spec.positional]: given, collection: c.options.collection } : given;
}

const prototype = Collection.prototype as unknown as Record<string, Method>;
for (const name of KV_METHOD_NAMES) {
  const spec = KV_METHODS[name];
  if (spec.shape === 'stats') continue;
  prototype[name] = {
    [name](this: Collection, a0?: unknown, a1?: unknown, a2?: unknown): unknown {
      // Named after the method, so stack traces and `collection.get.name` read right.
      const method = this.bucket[name];
      switch (optionsIndex(spec, a0, a1)) {
        case 1:
          return method.call(this.bucket, a0, withCollection(this, spec, a1), a2);
        default:
          return method.call(this.bucket, a0, a1, withCollection(this, spec, a2));
      }
    },
  }[name] as Method;
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
