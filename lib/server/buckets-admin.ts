// Buckets as ns_server manages them: their settings, the rules a create or update request is
// checked against (menelaus_web_buckets), and the record of buckets created at run time that a
// `dataDir` keeps across restarts.
//
// The cluster owns the buckets (BucketHost below); this module decides what a valid bucket is
// and how a REST form becomes one. POST /pools/default/buckets (create) and POST
// /pools/default/buckets/<b> (update) take ns_server's form fields and answer its shapes: 202 /
// 200 on success, 400 with `{"errors": {key: message}}` otherwise, every problem at once, under
// the keys and in the words ns_server uses. Validation is one table of rules, one per setting.
import path from 'node:path';
import { readJsonFile, writeJsonAtomically } from './json-file';

/** ns_server's names: 'membase' is the Couchbase bucket ('couchbase' is accepted as a synonym). */
export type BucketType = 'membase' | 'memcached' | 'ephemeral';
export type EvictionPolicy = 'valueOnly' | 'fullEviction' | 'noEviction' | 'nruEviction';
export type DurabilityMinLevel = 'none' | 'majority' | 'majorityAndPersistActive' | 'persistToMajority';
export type ConflictResolution = 'seqno' | 'lww' | 'custom';
export type CompressionMode = 'off' | 'passive' | 'active';
export type StorageBackend = 'couchstore' | 'magma';

export interface BucketSettings {
  readonly name: string;
  readonly bucketType: BucketType;
  /** Memory quota per node, MiB (reported; the embedded cluster does not evict). */
  readonly ramQuotaMB: number;
  /** Replicas per vBucket (Couchbase and ephemeral buckets; memcached buckets have none). */
  readonly replicaNumber: number;
  /** Whether POST .../controller/doFlush may empty the bucket. */
  readonly flushEnabled: boolean;
  /** Largest expiry a document gets, seconds (0: none); writes are capped to it as kv_engine does. */
  readonly maxTTL: number;
  readonly evictionPolicy: EvictionPolicy;
  readonly durabilityMinLevel: DurabilityMinLevel;
  readonly conflictResolutionType: ConflictResolution;
  readonly compressionMode: CompressionMode;
  /** Couchbase buckets only (ephemeral and memcached buckets keep nothing on disk). */
  readonly storageBackend: StorageBackend;
  readonly replicaIndex: boolean;
  readonly threadsNumber: number;
  /** Last-write-wins buckets: the clock drift tolerated, ms. */
  readonly driftAheadThresholdMs?: number;
  readonly driftBehindThresholdMs?: number;
  /** Magma buckets: the share of the quota for the storage engine, %. */
  readonly storageQuotaPercentage?: number;
  /** Ephemeral buckets: days tombstones are kept. */
  readonly purgeInterval?: number;
}

/** What bucket management needs from the cluster that holds the buckets. */
export interface BucketHost {
  /** Data nodes the cluster has (a bucket's replicas and durability are checked against them). */
  readonly kvNodeCount: number;
  settingsOf(name: string): BucketSettings | undefined;
  bucketNames(): string[];
  createBucket(settings: BucketSettings): void;
  updateBucket(settings: BucketSettings): void;
  deleteBucket(name: string): void;
}

export const DEFAULT_RAM_QUOTA_MB = 256;
const MAX_BUCKETS = 30;
const MAX_REPLICAS = 3;
const MC_MAXINT = 2147483647;
const NAME_RE = /^[A-Za-z0-9._%-]+$/;
const MIB = 1024 * 1024;

/** Settings of a bucket given at start (`ClusterOptions.buckets`), ns_server's defaults otherwise. */
export function defaultSettings(name: string, replicas: number, given: Partial<Omit<BucketSettings, 'name'>> = {}): BucketSettings {
  const type = given.bucketType ?? 'membase';
  return {
    name,
    bucketType: type,
    ramQuotaMB: given.ramQuotaMB ?? DEFAULT_RAM_QUOTA_MB,
    replicaNumber: type === 'memcached' ? 0 : given.replicaNumber ?? replicas,
    // Buckets given at start have always been flushable here; ones created over REST follow ns_server (off unless asked).
    flushEnabled: given.flushEnabled ?? true,
    maxTTL: given.maxTTL ?? 0,
    evictionPolicy: given.evictionPolicy ?? (type === 'ephemeral' ? 'noEviction' : 'valueOnly'),
    durabilityMinLevel: given.durabilityMinLevel ?? 'none',
    conflictResolutionType: given.conflictResolutionType ?? 'seqno',
    compressionMode: given.compressionMode ?? 'passive',
    storageBackend: given.storageBackend ?? 'couchstore',
    replicaIndex: given.replicaIndex ?? false,
    threadsNumber: given.threadsNumber ?? 3,
    ...(type === 'ephemeral' ? { purgeInterval: given.purgeInterval ?? 3 } : {}),
    ...(given.conflictResolutionType === 'lww' ? { driftAheadThresholdMs: given.driftAheadThresholdMs ?? 5000, driftBehindThresholdMs: given.driftBehindThresholdMs ?? 5000 } : {}),
  };
}

/** Why `name` cannot name a new bucket (ns_server's wording), or undefined. */
export function bucketNameProblem(name: string, existing: readonly string[]): string | undefined {
  if (name === '') return 'Bucket name cannot be empty';
  if (name.length > 100) return 'Bucket name cannot exceed 100 characters';
  if (!NAME_RE.test(name)) return 'Bucket name can only contain characters in range A-Z, a-z, 0-9 as well as underscore, period, dash & percent. Consult the documentation.';
  if (name.startsWith('.')) return 'Bucket name cannot start with dot.';
  if (name === '_users.couch' || name === '_replicator.couch') return 'This name is reserved for the internal use.';
  if (existing.some((e) => e.toLowerCase() === name.toLowerCase())) return 'Bucket with given name already exists';
  return undefined;
}

// ---- the rules ------------------------------------------------------------------------------------

type Form = Pick<URLSearchParams, 'get' | 'has'>;
type Draft = { -readonly [K in keyof BucketSettings]?: BucketSettings[K] };

interface RuleContext {
  readonly form: Form;
  readonly host: BucketHost;
  /** The bucket being updated; undefined on create. */
  readonly current: BucketSettings | undefined;
  /** The type the bucket has (update) or gets (create): decided first. */
  readonly type: BucketType;
  readonly draft: Draft;
}

/** A problem, under the key ns_server reports it with. */
type Problem = readonly [key: string, message: string];

interface Rule {
  /** Which bucket types the rule applies to. */
  readonly types: readonly BucketType[];
  check(ctx: RuleContext): Problem | undefined;
}

const ALL_TYPES: readonly BucketType[] = ['membase', 'ephemeral', 'memcached'];
const VBUCKET_TYPES: readonly BucketType[] = ['membase', 'ephemeral'];

type NumberCheck = { ok: number } | 'invalid' | 'too_small' | 'too_large';

/** menelaus_util:parse_validate_number: an integer, then its range. */
function parseNumber(raw: string, min: number, max = Infinity): NumberCheck {
  if (!/^-?\d+$/.test(raw)) return 'invalid';
  const n = Number(raw);
  if (n < min) return 'too_small';
  if (n > max) return 'too_large';
  return { ok: n };
}

/**
 * ns_server's validate_with_missing: a given value is checked; a missing one takes `dflt` when
 * creating, and leaves the setting as it is when updating.
 */
function given(ctx: RuleContext, field: string, dflt: string | undefined): string | undefined {
  if (ctx.form.has(field)) return ctx.form.get(field)!;
  return ctx.current === undefined ? dflt : undefined;
}

function oneOf<T extends string>(ctx: RuleContext, field: string, key: string, dflt: T | undefined, allowed: readonly T[], message: string, set: (v: T) => void): Problem | undefined {
  const raw = given(ctx, field, dflt);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) return [key, message];
  set(raw as T);
  return undefined;
}

const RULES: readonly Rule[] = [
  {
    types: ALL_TYPES,
    check(ctx) {
      return oneOf(ctx, 'flushEnabled', 'flushEnabled', '0', ['0', '1'], 'flushEnabled can only be 1 or 0', (v) => (ctx.draft.flushEnabled = v === '1'));
    },
  },
  {
    types: ALL_TYPES,
    check({ form, draft, current }) {
      const raw = form.has('ramQuota') ? form.get('ramQuota')! : form.has('ramQuotaMB') ? form.get('ramQuotaMB')! : undefined;
      if (raw === undefined && current !== undefined) return undefined;
      const n = raw === undefined ? 'invalid' : parseNumber(raw, 0);
      if (n === 'invalid' || n === 'too_large') return ['ramQuota', 'The RAM Quota must be specified and must be a positive integer.'];
      if (n === 'too_small') return ['ramQuota', 'The RAM Quota cannot be negative.'];
      draft.ramQuotaMB = n.ok;
      return undefined;
    },
  },
  {
    types: ALL_TYPES,
    check({ form }) {
      if (!form.has('otherBucketsRamQuotaMB')) return undefined;
      return typeof parseNumber(form.get('otherBucketsRamQuotaMB')!, 0) === 'object' ? undefined : ['otherBucketsRamQuotaMB', 'The other buckets RAM Quota must be a positive integer.'];
    },
  },
  {
    types: ALL_TYPES,
    check({ form }) {
      if (!form.has('proxyPort') || form.get('proxyPort') === 'none') return undefined;
      return ['proxyPort', 'Setting proxy port is not allowed on this version of the cluster'];
    },
  },
  // The quota a bucket of its type needs, once the quota is known.
  {
    types: ALL_TYPES,
    check({ draft, type, current }) {
      if (draft.ramQuotaMB === undefined) return undefined;
      const min = type === 'memcached' ? 64 : 100;
      if (draft.ramQuotaMB < min) return ['ramQuota', `RAM quota cannot be less than ${min} MiB`];
      if (type === 'memcached' && current !== undefined && current.ramQuotaMB !== draft.ramQuotaMB) return ['ramQuota', 'cannot change quota of memcached buckets'];
      return undefined;
    },
  },
  {
    types: ['memcached'],
    check({ form }) {
      return form.has('replicaNumber') ? ['replicaNumber', 'replicaNumber is not valid for memcached buckets'] : undefined;
    },
  },
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      const raw = ctx.form.has('replicaNumber') ? ctx.form.get('replicaNumber')! : undefined;
      if (raw === undefined) return undefined;
      const n = parseNumber(raw, 0, MAX_REPLICAS);
      if (n === 'invalid') return ['replicaNumber', 'The replica number must be specified and must be a non-negative integer.'];
      if (n === 'too_small') return ['replicaNumber', 'The replica number cannot be negative.'];
      if (n === 'too_large') return ['replicaNumber', `Replica number larger than ${MAX_REPLICAS} is not supported.`];
      ctx.draft.replicaNumber = n.ok;
      return undefined;
    },
  },
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      if (ctx.current !== undefined) return undefined;
      if (ctx.type === 'ephemeral') return ctx.form.has('replicaIndex') ? ['replicaIndex', 'replicaIndex not supported for ephemeral buckets'] : undefined;
      const dflt = (ctx.draft.replicaNumber ?? 1) === 0 ? '0' : '1';
      return oneOf(ctx, 'replicaIndex', 'replicaIndex', dflt, ['0', '1'], 'replicaIndex can only be 1 or 0', (v) => (ctx.draft.replicaIndex = v === '1'));
    },
  },
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      const raw = given(ctx, 'threadsNumber', '3');
      if (raw === undefined) return undefined;
      const n = parseNumber(raw, 2, 8);
      if (n === 'invalid') return ['threadsNumber', 'The number of threads must be an integer between 2 and 8, inclusive'];
      if (n === 'too_small') return ['threadsNumber', "The number of threads can't be less than 2"];
      if (n === 'too_large') return ['threadsNumber', "The number of threads can't be greater than 8"];
      ctx.draft.threadsNumber = n.ok;
      return undefined;
    },
  },
  {
    types: ['membase'],
    check(ctx) {
      return oneOf(ctx, 'evictionPolicy', 'evictionPolicy', 'valueOnly', ['valueOnly', 'fullEviction'], "Eviction policy must be either 'valueOnly' or 'fullEviction' for couchbase buckets", (v) => (ctx.draft.evictionPolicy = v));
    },
  },
  {
    types: ['ephemeral'],
    check(ctx) {
      if (ctx.current !== undefined) {
        const v = ctx.form.get('evictionPolicy');
        return v !== null && v !== ctx.current.evictionPolicy ? ['evictionPolicy', 'Eviction policy cannot be updated for ephemeral buckets'] : undefined;
      }
      return oneOf(ctx, 'evictionPolicy', 'evictionPolicy', 'noEviction', ['noEviction', 'nruEviction'], "Eviction policy must be either 'noEviction' or 'nruEviction' for ephemeral buckets", (v) => (ctx.draft.evictionPolicy = v));
    },
  },
  // The storage backend is chosen at creation (ns_server ignores it on update).
  {
    types: ['membase'],
    check(ctx) {
      if (ctx.current !== undefined) return undefined;
      return oneOf(ctx, 'storageBackend', 'storage_mode', 'couchstore', ['couchstore', 'magma'], 'storage backend must be couchstore or magma', (v) => (ctx.draft.storageBackend = v));
    },
  },
  {
    types: ['membase'],
    check(ctx) {
      return oneOf(
        ctx,
        'durabilityMinLevel',
        'durability_min_level',
        'none',
        ['none', 'majority', 'majorityAndPersistActive', 'persistToMajority'],
        "Durability minimum level must be one of 'none', 'majority', 'majorityAndPersistActive', or 'persistToMajority'",
        (v) => (ctx.draft.durabilityMinLevel = v),
      );
    },
  },
  {
    types: ['ephemeral'],
    check(ctx) {
      return oneOf(ctx, 'durabilityMinLevel', 'durability_min_level', 'none', ['none', 'majority'], "Durability minimum level must be either 'none' or 'majority' for ephemeral buckets", (v) => (ctx.draft.durabilityMinLevel = v));
    },
  },
  ...(['pitrEnabled', 'pitrGranularity', 'pitrMaxHistoryAge'] as const).map(
    (field): Rule => ({
      types: VBUCKET_TYPES,
      check: ({ form }) => (form.has(field) ? [field, 'Point in time recovery is only supported in developer preview mode'] : undefined),
    }),
  ),
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      const magma = (ctx.current?.storageBackend ?? ctx.draft.storageBackend) === 'magma' && ctx.type === 'membase';
      if (!magma) return ctx.form.has('storageQuotaPercentage') ? ['storageQuotaPercentage', 'Storage Quota Percentage is only used with Magma'] : undefined;
      const raw = given(ctx, 'storageQuotaPercentage', '10');
      if (raw === undefined) return undefined;
      const n = parseNumber(raw, 1, 85);
      if (typeof n !== 'object') return ['storageQuotaPercentage', 'Storage Quota Percentage must be between 1 and 85, inclusive'];
      ctx.draft.storageQuotaPercentage = n.ok;
      return undefined;
    },
  },
  ...(['historyRetentionCollectionDefault', 'historyRetentionBytes', 'historyRetentionSeconds'] as const).map(
    (field): Rule => ({
      types: VBUCKET_TYPES,
      check(ctx) {
        const magma = (ctx.current?.storageBackend ?? ctx.draft.storageBackend) === 'magma' && ctx.type === 'membase';
        return ctx.form.has(field) && !magma ? [field, 'History Retention can only used with Magma'] : undefined;
      },
    }),
  ),
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      const raw = given(ctx, 'maxTTL', '0');
      if (raw === undefined) return undefined;
      const n = parseNumber(raw, 0, MC_MAXINT);
      if (typeof n !== 'object') return ['maxTTL', `Max TTL must be an integer between 0 and ${MC_MAXINT}`];
      ctx.draft.maxTTL = n.ok;
      return undefined;
    },
  },
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      return oneOf(ctx, 'compressionMode', 'compressionMode', 'passive', ['off', 'passive', 'active'], "compressionMode can be set to 'off', 'passive' or 'active'", (v) => (ctx.draft.compressionMode = v));
    },
  },
  {
    types: ['ephemeral'],
    check(ctx) {
      if (ctx.form.has('autoCompactionDefined')) return ['autoCompactionDefined', 'autoCompactionDefined must not be set for ephemeral buckets'];
      if (ctx.current === undefined) ctx.draft.purgeInterval = 3;
      return undefined;
    },
  },
  {
    types: VBUCKET_TYPES,
    check(ctx) {
      const raw = ctx.form.get('conflictResolutionType');
      if (ctx.current !== undefined) return raw !== null ? ['conflictResolutionType', 'Conflict resolution type not allowed in update bucket'] : undefined;
      if (raw === null || raw === 'seqno') {
        ctx.draft.conflictResolutionType = 'seqno';
        return undefined;
      }
      if (raw === 'lww') {
        ctx.draft.conflictResolutionType = 'lww';
        return undefined;
      }
      if (raw === 'custom') return ['conflictResolutionType', "Conflict resolution type 'custom' is supported only with developer preview enabled"];
      return ['conflictResolutionType', "Conflict resolution type must be 'seqno' or 'lww' or 'custom'"];
    },
  },
  ...(
    [
      ['driftAheadThresholdMs', 100, 'ahead'],
      ['driftBehindThresholdMs', 10, 'behind'],
    ] as const
  ).map(
    ([field, min, which]): Rule => ({
      types: VBUCKET_TYPES,
      check(ctx) {
        if ((ctx.current?.conflictResolutionType ?? ctx.draft.conflictResolutionType) !== 'lww') return undefined;
        const raw = given(ctx, field, '5000');
        if (raw === undefined) return undefined;
        const n = parseNumber(raw, min);
        if (n === 'invalid' || n === 'too_large') return [field, `The drift ${which} threshold must be an integer not less than ${min}ms`];
        if (n === 'too_small') return [field, `The drift ${which} threshold can't be less than ${min}ms`];
        ctx.draft[field] = n.ok;
        return undefined;
      },
    }),
  ),
  // Settings checked against each other and the cluster, once each is known.
  {
    types: VBUCKET_TYPES,
    check({ draft, current, host }) {
      const replicas = draft.replicaNumber ?? current?.replicaNumber;
      const level = draft.durabilityMinLevel ?? current?.durabilityMinLevel;
      if (replicas === undefined || replicas === 0 || level === undefined || level === 'none') return undefined;
      if (replicas === 3) return ['durability_min_level', 'Durability minimum level cannot be specified with 3 replicas'];
      if (host.kvNodeCount === 1) return ['durability_min_level', 'You do not have enough data servers to support this durability level'];
      return undefined;
    },
  },
  {
    types: ['membase'],
    check({ draft, current }) {
      const magma = (current?.storageBackend ?? draft.storageBackend) === 'magma';
      const quota = draft.ramQuotaMB ?? current?.ramQuotaMB;
      return magma && quota !== undefined && quota < 256 ? ['ramQuota', 'Ram quota for magma must be at least 256 MiB'] : undefined;
    },
  },
];

/** ns_server's bucketType field: 'couchbase' is 'membase'; anything else is not a bucket type. */
function typeOf(raw: string | null): BucketType | undefined {
  if (raw === null || raw === 'membase' || raw === 'couchbase') return 'membase';
  if (raw === 'memcached' || raw === 'ephemeral') return raw;
  return undefined;
}

export type BucketFormCheck = { ok: true; settings: BucketSettings } | { ok: false; errors: Record<string, string> } | { ok: false; global: string };

export interface CheckOptions {
  /** `just_validate=1` without `ignore_warnings=1`: replica counts the cluster cannot place are errors too. */
  readonly warnings?: boolean;
}

/**
 * Checks a POST /pools/default/buckets form (create; `current` undefined) or a POST
 * /pools/default/buckets/<b> form (update of `current`) against every rule: the settings to
 * create or apply, or every problem at once. `global` is the answer that is not about a field
 * (too many buckets), which ns_server sends without the `errors` wrapper.
 */
export function checkBucketForm(form: Form, host: BucketHost, current: BucketSettings | undefined, opts: CheckOptions = {}): BucketFormCheck {
  if (current === undefined && host.bucketNames().length >= MAX_BUCKETS) return { ok: false, global: `Cannot create more than ${MAX_BUCKETS} buckets` };
  const errors: Record<string, string> = {};
  const draft: Draft = {};
  if (current === undefined) {
    const name = form.get('name');
    const problem = name === null ? 'Bucket name needs to be specified' : bucketNameProblem(name, host.bucketNames());
    if (problem !== undefined) errors.name = problem;
    else draft.name = name!;
  }
  // An update keeps the bucket's type; a bucketType given with it is ignored, as by ns_server.
  const type = current?.bucketType ?? typeOf(form.get('bucketType'));
  if (type === undefined) {
    errors.bucketType = 'invalid bucket type';
    return { ok: false, errors };
  }
  const ctx: RuleContext = { form, host, current, type, draft };
  for (const rule of RULES) {
    if (!rule.types.includes(type)) continue;
    const problem = rule.check(ctx);
    if (problem !== undefined && errors[problem[0]] === undefined) errors[problem[0]] = problem[1];
  }
  if (opts.warnings === true && type !== 'memcached') {
    const warning = replicaWarning(draft.replicaNumber, current, host);
    if (warning !== undefined) errors.replicaNumber ??= warning;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const base = current ?? defaultSettings(draft.name!, 1, { bucketType: type, flushEnabled: false, replicaIndex: type === 'membase' });
  const settings: BucketSettings = { ...base, ...draft, name: base.name, bucketType: type };
  return { ok: true, settings: type === 'memcached' ? { ...settings, replicaNumber: 0 } : settings };
}

/** ns_server's warnings (only reported to a validate-only request). */
function replicaWarning(replicas: number | undefined, current: BucketSettings | undefined, host: BucketHost): string | undefined {
  if (replicas === undefined) return undefined;
  const warnings: string[] = [];
  if (replicas > host.kvNodeCount - 1) warnings.push('you do not have enough data servers or server groups to support this number of replicas');
  if (current !== undefined && current.replicaNumber !== replicas) warnings.push('changing replica number may require rebalance');
  return warnings.length === 0 ? undefined : `Warning: ${warnings.join(' and ')}.`;
}

/** The memory quota a bucket reports (`quota.rawRAM`), bytes. */
export function rawRamBytes(settings: BucketSettings): number {
  return settings.ramQuotaMB * MIB;
}

// ---- buckets created at run time, kept with the data --------------------------------------------

const REGISTRY_FILE = 'buckets.json';

/** Buckets created over REST in an earlier run with this `dataDir`. */
export function loadBucketRegistry(dataDir: string): BucketSettings[] {
  const file = path.join(dataDir, REGISTRY_FILE);
  const parsed = readJsonFile(file);
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw new Error(`${file} must hold a JSON array of bucket settings; fix or remove it`);
  return parsed.map((b: Partial<BucketSettings> & { name: string }) => defaultSettings(b.name, b.replicaNumber ?? 0, b));
}

/** Records the buckets created at run time (atomically). */
export function saveBucketRegistry(dataDir: string, buckets: readonly BucketSettings[]): void {
  writeJsonAtomically(path.join(dataDir, REGISTRY_FILE), buckets);
}
