// The rest of the Bucket surface the three flavours share beside the KV methods: the
// BucketManager's methods (derived from the engine's management table) and the Bucket's
// properties (Python's Bucket attributes), each with its types. A flavour wraps the calls in its
// async type; the properties read and write the engine directly.
import { MANAGER_METHODS, type ManagerMethodName } from '../../lib/engine/services/manage';
import type { DesignOptions } from '../../lib/engine/services/design-docs';
import type { IndexCreateOptions, IndexDropOptions, IndexWatchOptions, N1qlIndex } from '../../lib/engine/services/index-management';
import type { HttpResult } from '../../lib/engine/results';
import type { EngineInfo, EngineSettings } from '../../lib/engine/engine';
import { CryptoProviders, type CryptoProvider, type FieldSpec } from '../../lib/engine/field-encryption';

export const MANAGER_METHOD_NAMES = Object.keys(MANAGER_METHODS) as ManagerMethodName[];
export type { ManagerMethodName };

type IndexListing = { otherBuckets?: boolean; timeout?: number };

/** Each BucketManager method's arguments and result. */
export interface ManagerCalls {
  designCreate: { args: [name: string, ddoc: object | string, options?: DesignOptions | boolean]; result: HttpResult };
  designGet: { args: [name: string, options?: DesignOptions | boolean]; result: HttpResult };
  designPublish: { args: [name: string, options?: { syncwait?: number }]; result: HttpResult };
  designDelete: { args: [name: string, options?: DesignOptions | boolean]; result: HttpResult };
  designList: { args: []; result: HttpResult };
  n1qlIndexCreate: { args: [name: string, options?: IndexCreateOptions]; result: N1qlIndex[] };
  n1qlIndexCreatePrimary: { args: [options?: Omit<IndexCreateOptions, 'primary' | 'fields' | 'condition'>] | [name: string, options?: Omit<IndexCreateOptions, 'primary' | 'fields' | 'condition'>]; result: N1qlIndex[] };
  n1qlIndexDrop: { args: [name: string, options?: IndexDropOptions]; result: N1qlIndex[] };
  n1qlIndexDropPrimary: { args: [options?: Omit<IndexDropOptions, 'primary'>] | [name: string, options?: Omit<IndexDropOptions, 'primary'>]; result: N1qlIndex[] };
  n1qlIndexList: { args: [options?: IndexListing]; result: N1qlIndex[] };
  n1qlIndexBuildDeferred: { args: [options?: IndexListing]; result: N1qlIndex[] };
  n1qlIndexWatch: { args: [indexes: Array<string | N1qlIndex>, options?: IndexWatchOptions]; result: N1qlIndex[] };
  createN1qlIndex: ManagerCalls['n1qlIndexCreate'];
  createN1qlPrimaryIndex: ManagerCalls['n1qlIndexCreatePrimary'];
  dropN1qlIndex: ManagerCalls['n1qlIndexDrop'];
  dropN1qlPrimaryIndex: ManagerCalls['n1qlIndexDropPrimary'];
  listN1qlIndexes: ManagerCalls['n1qlIndexList'];
  buildN1qlDeferredIndexes: ManagerCalls['n1qlIndexBuildDeferred'];
  watchN1qlIndexes: ManagerCalls['n1qlIndexWatch'];
}

/** Puts a method per name on `proto`, each handing its name and arguments to `call` (the flavour's async wrapper). */
export function defineCallMethods<P, N extends string>(proto: P, names: readonly N[], call: (target: P, name: N, args: unknown[]) => unknown): void {
  for (const name of names) {
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: {
        [name](this: P, ...args: unknown[]): unknown {
          return call(this, name, args);
        },
      }[name],
    });
  }
}

/** Puts every BucketManager method on a flavour's manager prototype. */
export function defineManagerMethods<M>(proto: M, call: (manager: M, name: ManagerMethodName, args: unknown[]) => unknown): void {
  defineCallMethods(proto, MANAGER_METHOD_NAMES, call);
}

/** The design document calls Python 2.x's Bucket still answers, deprecated for bucketManager()'s. */
export const BUCKET_DESIGN_METHODS = ['designGet', 'designCreate', 'designPublish', 'designDelete'] as const satisfies readonly ManagerMethodName[];
export type BucketDesignMethod = (typeof BUCKET_DESIGN_METHODS)[number];

const designWarned = new Set<string>();

/** Puts Bucket.designGet/Create/Publish/Delete on a flavour's Bucket: each warns once (DeprecationWarning) and calls its BucketManager's. */
export function defineBucketDesignMethods<B extends { bucketManager(): unknown }>(proto: B): void {
  for (const name of BUCKET_DESIGN_METHODS) {
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: {
        [name](this: B, ...args: unknown[]): unknown {
          if (!designWarned.has(name)) {
            designWarned.add(name);
            process.emitWarning(`Bucket.${name} is deprecated; use Bucket.bucketManager().${name}`, { type: 'DeprecationWarning', code: 'DEFERBASE_DEPRECATED_NAME' });
          }
          const manager = this.bucketManager() as Record<string, (...a: unknown[]) => unknown>;
          return manager[name](...args);
        },
      }[name],
    });
  }
}

/** Python's Bucket attributes: read from the engine's info ('info') or its settings ('setting', settable). */
export const BUCKET_PROPERTIES = {
  bucket: 'info',
  isSsl: 'info',
  serverNodes: 'info',
  configuredReplicaCount: 'info',
  timeout: 'setting',
  viewsTimeout: 'setting',
  n1qlTimeout: 'setting',
  quiet: 'setting',
  defaultFormat: 'setting',
  dataPassthrough: 'setting',
  transcoder: 'setting',
  compression: 'setting',
  compressionMinSize: 'setting',
  compressionMinRatio: 'setting',
  tracingThresholdKv: 'setting',
  tracingThresholdN1ql: 'setting',
  tracingThresholdView: 'setting',
  tracingThresholdFts: 'setting',
  tracingThresholdAnalytics: 'setting',
  tracingThresholdQueueSize: 'setting',
  tracingThresholdQueueFlushInterval: 'setting',
  tracingOrphanedQueueSize: 'setting',
  tracingOrphanedQueueFlushInterval: 'setting',
  redaction: 'setting',
} as const;

export type BucketPropertyName = keyof typeof BUCKET_PROPERTIES;

/** The properties' types, as the engine declares them: its info read-only, its settings settable. */
type InfoPropertyName = { [K in BucketPropertyName]: (typeof BUCKET_PROPERTIES)[K] extends 'info' ? K : never }[BucketPropertyName];
export interface BucketProperties extends Readonly<Pick<EngineInfo, InfoPropertyName>>, Pick<EngineSettings, Exclude<BucketPropertyName, InfoPropertyName>> {}

/** Defines the properties on a flavour's Bucket prototype over its own read and write. */
export function defineBucketProperties<B>(proto: B, read: (bucket: B, kind: 'info' | 'setting', name: BucketPropertyName) => unknown, write: (bucket: B, name: BucketPropertyName, value: unknown) => void): void {
  for (const [name, kind] of Object.entries(BUCKET_PROPERTIES) as Array<[BucketPropertyName, 'info' | 'setting']>) {
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: B) {
        return read(this, kind, name);
      },
      set:
        kind === 'setting'
          ? function (this: B, value: unknown) {
              write(this, name, value);
            }
          : function (this: B) {
              throw new TypeError(`Bucket.${name} is read-only`);
            },
    });
  }
}

/** What durability() takes (Python's DurabilityContext keywords). */
export interface DurabilityOptions {
  /** Copies that must be on disk (-1, the default: every copy). */
  persistTo?: number;
  /** Replicas that must hold it (-1, the default: every replica). */
  replicateTo?: number;
  /** Seconds to wait for them (0 or absent: durability_timeout). */
  timeout?: number;
}

/**
 * Runs `fn` with `defaults` as the durability of every mutation started while it runs
 * (synchronously) that names none, then restores the previous ones (Python's
 * `with bucket.durability(...)`).
 */
export function withDurabilityContext<D, T>(read: () => D, write: (d: D) => void, defaults: D, fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('durability(options, fn): fn must be a function');
  const previous = read();
  write(defaults);
  try {
    return fn();
  } finally {
    write(previous);
  }
}

/** Python's field-level encryption calls on a Bucket; synchronous in every flavour (they do no I/O). */
export interface FieldEncryption {
  /** Registers `provider` under the algorithm name fields name as their `alg` (Python's register_crypto_provider). */
  registerCryptoProvider(name: string, provider: CryptoProvider): void;
  unregisterCryptoProvider(name: string): void;
  /** A copy of `document` with each field of `fieldspec` encrypted under `<prefix><name>` ("__crypt_" by default). */
  encryptFields(document: object, fieldspec: FieldSpec[], prefix?: string | null): Record<string, unknown>;
  /** A copy of `document` with each field of `fieldspec` verified and decrypted back under its name. */
  decryptFields(document: object, fieldspec: FieldSpec[], prefix?: string | null): Record<string, unknown>;
}

const providersOf = new WeakMap<object, CryptoProviders>();

function cryptoProviders(bucket: object): CryptoProviders {
  let p = providersOf.get(bucket);
  if (p === undefined) providersOf.set(bucket, (p = new CryptoProviders()));
  return p;
}

/** Puts the field-level encryption calls on a flavour's Bucket prototype; each bucket keeps its own providers (in the caller's thread). */
export function defineFieldEncryption(proto: object): void {
  const calls: FieldEncryption = {
    registerCryptoProvider(this: object, name, provider) {
      cryptoProviders(this).register(name, provider);
    },
    unregisterCryptoProvider(this: object, name) {
      cryptoProviders(this).unregister(name);
    },
    encryptFields(this: object, document, fieldspec, prefix) {
      return cryptoProviders(this).encryptFields(document, fieldspec, prefix);
    },
    decryptFields(this: object, document, fieldspec, prefix) {
      return cryptoProviders(this).decryptFields(document, fieldspec, prefix);
    },
  };
  for (const [name, value] of Object.entries(calls)) Object.defineProperty(proto, name, { configurable: true, writable: true, value });
}
