// Buckets as ns_server manages them: their settings, the rules a create request is checked
// against, and the record of buckets created at run time that a `dataDir` keeps across restarts.
//
// The cluster owns the buckets (BucketHost below); this module decides what a valid bucket is
// and how a REST form becomes one. POST /pools/default/buckets takes ns_server's form fields
// (name, bucketType, ramQuota / ramQuotaMB, replicaNumber, flushEnabled) and answers its
// shapes: 202 on success, 400 with `{"errors": {field: message}}` otherwise. Validation is one
// table of field rules, so new settings (eviction policy, durability minimum, TTL, ...) are one
// row each.
import fs from 'node:fs';
import path from 'node:path';

/** ns_server's names: 'membase' is the Couchbase bucket; 'couchbase' is accepted as a synonym. */
export type BucketType = 'membase' | 'memcached';

export interface BucketSettings {
  readonly name: string;
  readonly bucketType: BucketType;
  /** Memory quota per node, MiB (reported; the embedded cluster does not evict). */
  readonly ramQuotaMB: number;
  /** Replicas per vBucket (Couchbase buckets; memcached buckets have none). */
  readonly replicaNumber: number;
  /** Whether POST .../controller/doFlush (and KV FLUSH) may empty the bucket. */
  readonly flushEnabled: boolean;
}

/** What bucket management needs from the cluster that holds the buckets. */
export interface BucketHost {
  /** Replicas the cluster's vBucket chains carry (a bucket can have up to this many). */
  readonly maxReplicas: number;
  settingsOf(name: string): BucketSettings | undefined;
  bucketNames(): string[];
  createBucket(settings: BucketSettings): void;
  deleteBucket(name: string): void;
}

export const DEFAULT_RAM_QUOTA_MB = 256;
const MIN_RAM_QUOTA_MB = 100;
const MAX_BUCKETS = 30;
const NAME_RE = /^[A-Za-z0-9._%-]+$/;

/** Settings of a bucket given at start (`ClusterOptions.buckets`), ns_server's defaults otherwise. */
export function defaultSettings(name: string, replicas: number, given: Partial<Omit<BucketSettings, 'name'>> = {}): BucketSettings {
  return {
    name,
    bucketType: given.bucketType ?? 'membase',
    ramQuotaMB: given.ramQuotaMB ?? DEFAULT_RAM_QUOTA_MB,
    replicaNumber: given.bucketType === 'memcached' ? 0 : given.replicaNumber ?? replicas,
    // Buckets given at start have always been flushable here; ones created over REST follow ns_server (off unless asked).
    flushEnabled: given.flushEnabled ?? true,
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

type Form = Pick<URLSearchParams, 'get' | 'has'>;
type Draft = { -readonly [K in keyof BucketSettings]?: BucketSettings[K] };

interface FieldRule {
  /** Form fields this rule reads (the first present one wins). */
  fields: readonly string[];
  /** Sets the draft from the value, or returns the error message. `raw` is undefined when absent. */
  apply(raw: string | undefined, draft: Draft, host: BucketHost): string | undefined;
}

const nonNegativeInt = (raw: string): number | undefined => (/^\d+$/.test(raw.trim()) ? Number(raw) : undefined);

// Order matters: bucketType first, since the other rules depend on it.
const RULES: readonly FieldRule[] = [
  {
    fields: ['bucketType'],
    apply(raw, d) {
      const t = raw ?? 'membase';
      if (t === 'membase' || t === 'couchbase') d.bucketType = 'membase';
      else if (t === 'memcached') d.bucketType = 'memcached';
      else if (t === 'ephemeral') return 'Ephemeral buckets are not supported by the embedded cluster; use couchbase or memcached';
      else return 'invalid bucket type';
      return undefined;
    },
  },
  {
    fields: ['name'],
    apply(raw, d, host) {
      if (raw === undefined) return 'Bucket name needs to be specified';
      const problem = bucketNameProblem(raw, host.bucketNames());
      if (problem !== undefined) return problem;
      if (host.bucketNames().length >= MAX_BUCKETS) return `Cannot create more than ${MAX_BUCKETS} buckets due to resource limitations.`;
      d.name = raw;
      return undefined;
    },
  },
  {
    fields: ['ramQuotaMB', 'ramQuota'],
    apply(raw, d) {
      if (raw === undefined) return 'The RAM Quota must be specified and must be a positive integer.';
      const n = nonNegativeInt(raw);
      if (n === undefined) return 'The RAM Quota must be specified and must be a positive integer.';
      if (n < MIN_RAM_QUOTA_MB) return `RAM quota cannot be less than ${MIN_RAM_QUOTA_MB} MiB`;
      d.ramQuotaMB = n;
      return undefined;
    },
  },
  {
    fields: ['replicaNumber'],
    apply(raw, d, host) {
      if (d.bucketType === 'memcached') {
        if (raw !== undefined && raw !== '0') return 'replicas are not supported for memcached buckets';
        d.replicaNumber = 0;
        return undefined;
      }
      const n = raw === undefined ? 1 : nonNegativeInt(raw);
      if (n === undefined || n > 3) return 'The replica number must be specified and must be a non-negative integer.';
      // The embedded cluster's vBucket chains are laid out once, for the replicas it started with.
      if (n > host.maxReplicas) {
        if (raw === undefined) {
          d.replicaNumber = host.maxReplicas;
          return undefined;
        }
        return `The embedded cluster was started with ${host.maxReplicas} replica${host.maxReplicas === 1 ? '' : 's'} per vBucket; a bucket can have at most that many (start it with more replicas, e.g. \`deferbase serve --nodes ${n + 1} --replicas ${n}\`)`;
      }
      d.replicaNumber = n;
      return undefined;
    },
  },
  {
    fields: ['flushEnabled'],
    apply(raw, d) {
      if (raw === undefined || raw === '0') d.flushEnabled = false;
      else if (raw === '1') d.flushEnabled = true;
      else return 'flushEnabled can only be 1 or 0';
      return undefined;
    },
  },
];

export type CreateCheck = { ok: true; settings: BucketSettings } | { ok: false; errors: Record<string, string> };

/** Checks a POST /pools/default/buckets form against every rule; all errors are reported at once. */
export function checkCreateForm(form: Form, host: BucketHost): CreateCheck {
  const draft: Draft = {};
  const errors: Record<string, string> = {};
  for (const rule of RULES) {
    const field = rule.fields.find((f) => form.has(f)) ?? rule.fields[0];
    const problem = rule.apply(form.has(field) ? form.get(field)! : undefined, draft, host);
    if (problem !== undefined) errors[field] = problem;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, settings: draft as BucketSettings };
}

// ---- buckets created at run time, kept with the data --------------------------------------------

const REGISTRY_FILE = 'buckets.json';

/** Buckets created over REST in an earlier run with this `dataDir`. */
export function loadBucketRegistry(dataDir: string): BucketSettings[] {
  const file = path.join(dataDir, REGISTRY_FILE);
  if (!fs.existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${file} must hold a JSON array of bucket settings; fix or remove it`);
  return parsed.map((b: Partial<BucketSettings> & { name: string }) => defaultSettings(b.name, b.replicaNumber ?? 0, b));
}

/** Records the buckets created at run time (atomically: temp file, fsync, rename). */
export function saveBucketRegistry(dataDir: string, buckets: readonly BucketSettings[]): void {
  const file = path.join(dataDir, REGISTRY_FILE);
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(buckets, null, 1) + '\n');
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
