// RANGE_SCAN_CREATE / CONTINUE / CANCEL (kv_engine docs/range_scans/*.md): the request checks and
// the create's JSON as kv_engine's validator and executor read them, the snapshot requirements
// (vb_uuid, a seqno waited for up to timeout_ms, seqno_exists), and continues that stream the
// snapshot in responses of about 8 KiB, stopping at the client's item, time and byte limits.
import { performance } from 'node:perf_hooks';
import { Status } from '../../../protocol/status';
import {
  MAX_SCAN_NAME_BYTES,
  RangeScan,
  WHOLE_RANGE,
  collectionDocuments,
  snapshotOf,
  type KeyRange,
} from '../range-scans';
import { RANGE_SCAN_CONTINUE_EXTRAS_BYTES, RANGE_SCAN_ID_BYTES, decodeRangeScanContinueExtras } from '../../../protocol/range-scan';
import { Bernoulli } from '../sampling';
import { Feat } from '../features';
import { DATATYPE_JSON, MAX_KEY_BYTES, type DocumentStore } from '../../store';
import type { CommandHandler as Handler, HeldRequest, KvConnection, ResponseTarget } from '../connection';
import type { KvRequest } from '../reader';

const EMPTY = Buffer.alloc(0);
/** The longest a create waits for its seqno: kv_engine reads timeout_ms as 32 bits, timers take 31. */
const MAX_WAIT_MS = 0x7fffffff;

/** The create's configuration, checked. */
interface CreateConfig {
  collection: number;
  keyOnly: boolean;
  range: KeyRange;
  sampling: { samples: number; seed: number } | undefined;
  snapshot: { vbUuid: bigint; seqno: bigint; seqnoExists: boolean; timeoutMs: number | undefined } | undefined;
  name: string;
}

/** A create the server refuses: EINVAL with kv_engine's context, or (`kill`) a closed connection. */
class CreateRefused extends Error {
  constructor(
    message: string,
    readonly kill = false,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optional<T>(obj: Json, key: string, is: (v: unknown) => v is T, what: string): T | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!is(v)) throw new CreateRefused(`"${key}" must be ${what}`);
  return v;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isUnsigned = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function required<T>(obj: Json, key: string, is: (v: unknown) => v is T, what: string, context: string): T {
  const v = optional(obj, key, is, what);
  if (v === undefined) throw new CreateRefused(`${context}: "${key}" is missing`);
  return v;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One end of the range: the inclusive or the exclusive key, exactly one of them, base64 decoded. */
function rangeEnd(range: Json, key: string, exclusiveKey: string): { key: Buffer; exclusive: boolean } {
  const inclusive = optional(range, key, isString, 'a base64 string');
  const exclusive = optional(range, exclusiveKey, isString, 'a base64 string');
  if (inclusive !== undefined && exclusive !== undefined) throw new CreateRefused(`range included both ${key} and ${exclusiveKey}`);
  if (inclusive === undefined && exclusive === undefined) throw new CreateRefused(`range did not include ${key} or ${exclusiveKey}`);
  const text = (inclusive ?? exclusive)!;
  if (!BASE64.test(text) || text.length % 4 === 1) throw new CreateRefused(`range ${inclusive !== undefined ? key : exclusiveKey} is not base64`);
  return { key: Buffer.from(text, 'base64'), exclusive: exclusive !== undefined };
}

/** A 64-bit vb_uuid, as a decimal string (or, from older clients, a number whose digits are read from the text). */
function vbUuidOf(reqs: Json, text: string): bigint {
  const v = reqs.vb_uuid;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v) && BigInt(v) <= 0xffffffffffffffffn) return BigInt(v);
  if (isUnsigned(v)) {
    const digits = /"vb_uuid"\s*:\s*(\d+)/.exec(text);
    if (digits !== null && BigInt(digits[1]) <= 0xffffffffffffffffn) return BigInt(digits[1]);
  }
  if (v === undefined) throw new CreateRefused('snapshot_requirements: "vb_uuid" is missing');
  // kv_engine fails to parse it and drops the connection.
  throw new CreateRefused(`snapshot_requirements: vb_uuid ${JSON.stringify(v)} is not a 64-bit decimal number`, true);
}

/** The create's JSON as kv_engine's executor reads it (unknown keys ignored). */
function parseCreate(text: string): CreateConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CreateRefused('the value is not JSON');
  }
  if (!isObject(parsed)) throw new CreateRefused('the value is not a JSON object');
  const range = optional(parsed, 'range', isObject, 'an object');
  const sampling = optional(parsed, 'sampling', isObject, 'an object');
  const reqs = optional(parsed, 'snapshot_requirements', isObject, 'an object');
  if (range !== undefined && sampling !== undefined) throw new CreateRefused('a scan is a range or a sampling, not both');

  let keyRange: KeyRange = WHOLE_RANGE;
  if (range !== undefined) {
    const start = rangeEnd(range, 'start', 'excl_start');
    const end = rangeEnd(range, 'end', 'excl_end');
    if (start.key.length > MAX_KEY_BYTES || end.key.length > MAX_KEY_BYTES) {
      throw new CreateRefused(`invalid key size in range start:${start.key.length}, end:${end.key.length}`);
    }
    keyRange = { start: start.key, excludeStart: start.exclusive, end: end.key, excludeEnd: end.exclusive };
  }

  const collectionHex = optional(parsed, 'collection', isString, 'a collection id in hexadecimal');
  if (collectionHex !== undefined && !/^[0-9a-fA-F]{1,8}$/.test(collectionHex)) throw new CreateRefused(`"collection" ${JSON.stringify(collectionHex)} is not a collection id in hexadecimal`);

  const name = optional(parsed, 'name', isString, 'a string') ?? '';
  if (Buffer.byteLength(name) > MAX_SCAN_NAME_BYTES) throw new CreateRefused(`"name" is longer than ${MAX_SCAN_NAME_BYTES} bytes`);

  return {
    collection: collectionHex === undefined ? 0 : parseInt(collectionHex, 16),
    keyOnly: optional(parsed, 'key_only', isBool, 'true or false') ?? false,
    range: keyRange,
    sampling:
      sampling === undefined
        ? undefined
        : { samples: required(sampling, 'samples', isUnsigned, 'an unsigned integer', 'sampling'), seed: (optional(sampling, 'seed', isUnsigned, 'an unsigned integer') ?? 0) >>> 0 },
    snapshot:
      reqs === undefined
        ? undefined
        : {
            vbUuid: vbUuidOf(reqs, text),
            seqno: BigInt(required(reqs, 'seqno', isUnsigned, 'an unsigned integer', 'snapshot_requirements')),
            seqnoExists: optional(reqs, 'seqno_exists', isBool, 'true or false') ?? false,
            timeoutMs: optional(reqs, 'timeout_ms', isUnsigned, 'an unsigned integer'),
          },
    name,
  };
}

// ---- create -------------------------------------------------------------------------------------

export const rangeScanCreate: Handler = (c, req) => {
  // No bucket: NO_BUCKET (or EACCESS) before anything else.
  if (c.store === undefined) return void c.ownedStore(req);
  if (req.extras.length !== 0 || req.keyLength !== 0 || req.value.length === 0 || (req.datatype & DATATYPE_JSON) === 0) {
    return c.respondError(req, Status.EINVAL, 'RANGE_SCAN_CREATE takes no extras, no key and a JSON value (datatype JSON)');
  }
  let config: CreateConfig;
  try {
    config = parseCreate(req.value.toString('utf8'));
  } catch (err) {
    if (!(err instanceof CreateRefused)) throw err;
    if (err.kill) return c.kill(`RANGE_SCAN_CREATE: ${err.message}`);
    return c.respondError(req, Status.EINVAL, err.message);
  }
  // As kv_engine's executor: the JSON read, then the vBucket and the collection it names (which
  // must exist for the user, who needs RangeScan's privileges there).
  const coll = c.ownedStore(req, false, config.collection);
  if (coll === undefined) return;
  const store = coll.bucket;
  const vb = req.vbucket;
  const target: ResponseTarget = { opcode: req.opcode, opaque: req.opaque };
  const wanted = config.snapshot;
  if (wanted === undefined || store.vbucketSeqno(vb) >= wanted.seqno) return finishCreate(c, target, store, vb, config);
  // The seqno is not in the vBucket yet: fail at once without a timeout, else wait up to it.
  if (wanted.timeoutMs === undefined) return c.respondStatus(req, Status.ETMPFAIL);
  c.hold(waitForSeqno(c, target, store, vb, config, wanted.seqno, Math.min(wanted.timeoutMs, MAX_WAIT_MS)));
};

/** A create waiting for its vBucket to reach `seqno`: woken by each mutation of the bucket and by its timeout. */
function waitForSeqno(c: KvConnection, target: ResponseTarget, store: DocumentStore, vb: number, config: CreateConfig, seqno: bigint, timeoutMs: number): HeldRequest {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    c.wake();
  }, timeoutMs);
  // The vBucket's seqno counts the changes of every collection: each one's can wake the create.
  const unsubscribes = store.collections().map((coll) =>
    coll.onMutation((event) => {
      const changedVb = event.kind === 'set' ? event.doc.vbucket : event.vbucket;
      if (changedVb === vb) c.wake();
    }),
  );
  const stop = (): void => {
    clearTimeout(timer);
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
  return {
    resume(conn) {
      if (store.vbucketSeqno(vb) >= seqno) {
        stop();
        finishCreate(conn, target, store, vb, config);
        return 'done';
      }
      if (!timedOut) return 'wait';
      stop();
      // An expired wait answers as an expired SeqnoPersistenceRequest does.
      conn.respondStatus(target, Status.ETMPFAIL);
      return 'done';
    },
    abandon: stop,
  };
}

/** The create once its seqno is there: capacity, vb_uuid, seqno_exists, then the snapshot. */
function finishCreate(c: KvConnection, target: ResponseTarget, store: DocumentStore, vb: number, config: CreateConfig): void {
  const registry = c.node.rangeScans;
  if (!registry.hasRoomFor(store)) return c.respondStatus(target, Status.EBUSY);
  const wanted = config.snapshot;
  if (wanted !== undefined) {
    if (wanted.vbUuid !== store.vbucketUuid(vb)) return c.respondStatus(target, Status.VBUUID_NOT_EQUAL);
    if (wanted.seqnoExists && !store.collections().some((coll) => coll.seqnoExists(vb, wanted.seqno))) {
      return c.respondError(target, Status.NOT_STORED, `snapshot requirements not met: seqno ${wanted.seqno} not stored`);
    }
  }
  // Dropped while the create waited for its seqno: gone.
  const docs = collectionDocuments(store, config.collection, vb);
  if (docs === undefined) return c.respondUnknownCollection(target);
  let sampler: Bernoulli | undefined;
  if (config.sampling !== undefined) {
    // Sampling reads the whole collection, keeping each key with probability samples / items.
    if (docs.length === 0) return c.respondError(target, Status.KEY_ENOENT, `cannot sample an empty collection, samples:${config.sampling.samples}`);
    if (docs.length > config.sampling.samples) sampler = new Bernoulli(config.sampling.seed, config.sampling.samples / docs.length);
  }
  const entries = snapshotOf(docs, config.range);
  if (entries.length === 0) return c.respondError(target, Status.KEY_ENOENT, 'no keys in range');
  const scan = new RangeScan(
    { store, vbucket: vb, collection: config.collection, keyOnly: config.keyOnly, entries, sampler, name: config.name, snappy: c.has(Feat.SNAPPY), json: c.has(Feat.JSON) },
    store.clock.now(),
  );
  registry.add(scan);
  c.respond(target, Status.SUCCESS, 0n, EMPTY, EMPTY, scan.id, 0);
}

// ---- continue -----------------------------------------------------------------------------------

/** scanOf's answer when the request names no open scan of the vBucket. */
const NO_SCAN = Symbol('no scan');

/**
 * The open scan a continue or cancel names (by the id at the start of its `extrasBytes` of
 * extras), checked as ownedStore checks a key's request: the bucket, the vBucket, and the
 * scan's collection, which must still exist for the user (a dropped one cancels the scan), with
 * the command's privileges there. NO_SCAN when the vBucket has no such scan; undefined once it
 * has answered.
 */
function scanOf(c: KvConnection, req: KvRequest, extrasBytes: number): RangeScan | typeof NO_SCAN | undefined {
  const bucket = c.store;
  const scan = bucket !== undefined && req.extras.length === extrasBytes ? c.node.rangeScans.find(bucket, req.vbucket, req.extras.subarray(0, RANGE_SCAN_ID_BYTES)) : undefined;
  if (scan !== undefined && bucket!.collection(scan.collection) === undefined) {
    c.node.rangeScans.remove(scan, true);
    c.respondUnknownCollection(req);
    return undefined;
  }
  if (scan === undefined) return c.ownedBucket(req) === undefined ? undefined : NO_SCAN;
  return c.ownedStore(req, false, scan.collection) === undefined ? undefined : scan;
}

function checkNoKeyNoValue(c: KvConnection, req: KvRequest, extras: number, what: string): boolean {
  if (req.extras.length === extras && req.keyLength === 0 && req.value.length === 0) return true;
  c.respondError(req, Status.EINVAL, `${what} takes ${extras} bytes of extras, no key and no value`);
  return false;
}

export const rangeScanContinue: Handler = (c, req) => {
  const scan = scanOf(c, req, RANGE_SCAN_CONTINUE_EXTRAS_BYTES);
  if (scan === undefined) return;
  if (!checkNoKeyNoValue(c, req, RANGE_SCAN_CONTINUE_EXTRAS_BYTES, 'RANGE_SCAN_CONTINUE')) return;
  const { itemLimit, timeLimitMs, byteLimit } = decodeRangeScanContinueExtras(req.extras);
  if (scan === NO_SCAN) return c.respondStatus(req, Status.KEY_ENOENT);
  if (scan.state === 'continuing') return c.respondStatus(req, Status.EBUSY);
  scan.begin({ itemLimit, timeLimitMs, byteLimit }, performance.now());
  const target: ResponseTarget = { opcode: req.opcode, opaque: req.opaque };
  if (pump(c, target, scan) === 'output') {
    c.hold({
      resume: (conn) => pump(conn, target, scan),
      // The peer went away mid-continue: there is no resuming the scan safely (kv_engine cancels it).
      abandon: () => c.node.rangeScans.remove(scan, true),
    });
  }
}

const now = (): number => performance.now();

/**
 * Writes the continue's responses until its last (MORE, COMPLETE, or CANCELLED when the scan was
 * cancelled meanwhile), or until the connection's unsent output reaches its allowance ('output':
 * the rest follows when the peer has read).
 */
function pump(c: KvConnection, target: ResponseTarget, scan: RangeScan): 'done' | 'output' {
  for (;;) {
    if (scan.state === 'cancelled') {
      c.respondStatus(target, Status.RANGE_SCAN_CANCELLED);
      return 'done';
    }
    const chunk = scan.nextChunk(now);
    c.respond(target, chunk.status, 0n, scan.extras, EMPTY, chunk.value, 0);
    if (chunk.status === Status.RANGE_SCAN_MORE) {
      scan.state = 'idle';
      return 'done';
    }
    if (chunk.status === Status.RANGE_SCAN_COMPLETE) {
      c.node.rangeScans.remove(scan);
      return 'done';
    }
    if (c.outputRoom() <= 0) return 'output';
  }
}

// ---- cancel -------------------------------------------------------------------------------------

export const rangeScanCancel: Handler = (c, req) => {
  const scan = scanOf(c, req, RANGE_SCAN_ID_BYTES);
  if (scan === undefined) return;
  if (!checkNoKeyNoValue(c, req, RANGE_SCAN_ID_BYTES, 'RANGE_SCAN_CANCEL')) return;
  if (scan === NO_SCAN) return c.respondStatus(req, Status.KEY_ENOENT);
  // A continue still answering it ends with RANGE_SCAN_CANCELLED.
  c.node.rangeScans.remove(scan, true);
  c.respondOk(req);
};
