// Generators of memcached-binary input for the KV front end: well-formed requests of every
// opcode with hostile contents, structurally broken frames, and plain garbage. Everything comes
// from one seeded random source, so a failing run is reproduced from its seed.
import { Opcode, encodePlain, vbucketOf } from '../../lib/protocol';
import type { Rng } from './rng';

const OPCODES = Object.values(Opcode);

/** Extras lengths a request of each opcode normally carries (0 where absent). */
const EXTRAS: Partial<Record<number, number>> = {
  [Opcode.SET]: 8, [Opcode.ADD]: 8, [Opcode.REPLACE]: 8, [Opcode.SETQ]: 8, [Opcode.ADDQ]: 8, [Opcode.REPLACEQ]: 8,
  [Opcode.INCREMENT]: 20, [Opcode.DECREMENT]: 20, [Opcode.INCREMENTQ]: 20, [Opcode.DECREMENTQ]: 20,
  [Opcode.TOUCH]: 4, [Opcode.GAT]: 4, [Opcode.GATQ]: 4, [Opcode.GET_LOCKED]: 4, [Opcode.FLUSH]: 4,
  [Opcode.SUBDOC_MULTI_MUTATION]: 4, [Opcode.VERBOSITY]: 4, [Opcode.GET_META]: 1,
  [Opcode.SUBDOC_GET]: 3, [Opcode.SUBDOC_EXISTS]: 3, [Opcode.SUBDOC_DICT_ADD]: 3, [Opcode.SUBDOC_DICT_UPSERT]: 3,
  [Opcode.SUBDOC_DELETE]: 3, [Opcode.SUBDOC_REPLACE]: 3, [Opcode.SUBDOC_ARRAY_PUSH_LAST]: 3,
  [Opcode.SUBDOC_ARRAY_PUSH_FIRST]: 3, [Opcode.SUBDOC_ARRAY_INSERT]: 3, [Opcode.SUBDOC_ARRAY_ADD_UNIQUE]: 3,
  [Opcode.SUBDOC_COUNTER]: 3, [Opcode.SUBDOC_GET_COUNT]: 3,
};

const LOOKUP_OPS = [Opcode.SUBDOC_GET, Opcode.SUBDOC_EXISTS, Opcode.SUBDOC_GET_COUNT, Opcode.GET];
const MUTATION_OPS = [
  Opcode.SUBDOC_DICT_ADD, Opcode.SUBDOC_DICT_UPSERT, Opcode.SUBDOC_DELETE, Opcode.SUBDOC_REPLACE,
  Opcode.SUBDOC_ARRAY_PUSH_LAST, Opcode.SUBDOC_ARRAY_PUSH_FIRST, Opcode.SUBDOC_ARRAY_INSERT,
  Opcode.SUBDOC_ARRAY_ADD_UNIQUE, Opcode.SUBDOC_COUNTER, Opcode.SET, Opcode.DELETE,
];

/** Paths an attacker or a careless client sends: prototypes, depth, bad syntax, virtual xattrs. */
const PATHS = [
  '', 'a', 'a.b', 'a[0]', 'a[-1]', 'a[2147483648]', 'arr[99999999999999999999]', '__proto__', '__proto__.polluted',
  'constructor', 'constructor.prototype.polluted', 'prototype', 'a.__proto__.x', '`weird.name`', '`unterminated',
  'a..b', '[', ']', 'a[', 'a[x]', '.', '$document', '$document.exptime', '$XTOC', '$vbucket', '_txn.staged',
  'toString', 'hasOwnProperty', 'valueOf', '\u0000', '\ud800', 'a'.repeat(1100), 'a'.repeat(1024),
  // 31 components is the most a path may have, 32 is PATH_E2BIG
  Array(31).fill('a').join('.'), Array(32).fill('a').join('.'), 'a' + '[0]'.repeat(40), '__proto__.'.repeat(40) + 'x',
];

const KEYS = ['k', 'doc-1', 'doc-2', '__proto__', 'constructor', 'toString', 'deep-32', 'deep-100k', '', '\u0000\u0001', 'é', 'x'.repeat(250), 'x'.repeat(300)];

function deepJson(depth: number, array: boolean): string {
  return (array ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
}

function jsonValue(r: Rng): string {
  switch (r.int(10)) {
    case 0: return '{"a":{"b":[1,2,3]},"n":1,"s":"x"}';
    case 1: return '[1,2,3]';
    case 2: return deepJson(r.pick([5, 30, 31, 32, 33, 100, 5000, 100_000]), r.bool());
    case 3: return '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}';
    case 4: return JSON.stringify('y'.repeat(r.int(70000)));
    case 5: return String(r.pick([0, -1, 1e308, 9007199254740993, 18446744073709551615]));
    case 6: return '{"a":' + r.bytes(r.int(20)).toString('latin1') + '}';
    case 7: return 'null';
    case 8: return r.pick(['', '{', '"unterminated', '1e99999', 'NaN', 'true false']);
    default: return JSON.stringify({ v: r.int(1000), t: 'x'.repeat(r.int(100)) });
  }
}

function header(magic: number, opcode: number, keyLen: number, extLen: number, datatype: number, vbucket: number, bodyLen: number, opaque: number, cas: bigint, feLen = 0): Buffer {
  const h = Buffer.alloc(24);
  h[0] = magic;
  h[1] = opcode;
  if (magic === 0x08) {
    h[2] = feLen;
    h[3] = keyLen & 0xff;
  } else h.writeUInt16BE(keyLen & 0xffff, 2);
  h[4] = extLen;
  h[5] = datatype;
  h.writeUInt16BE(vbucket & 0xffff, 6);
  h.writeUInt32BE(bodyLen >>> 0, 8);
  h.writeUInt32BE(opaque >>> 0, 12);
  h.writeBigUInt64BE(cas, 16);
  return h;
}

/** A request frame; lengths are consistent unless the caller mutates it afterwards. */
export function request(opcode: number, opts: { key?: Buffer | string; extras?: Buffer; value?: Buffer | string; datatype?: number; vbucket?: number; cas?: bigint; opaque?: number; framing?: Buffer } = {}): Buffer {
  const key = Buffer.isBuffer(opts.key) ? opts.key : Buffer.from(opts.key ?? '');
  const extras = opts.extras ?? Buffer.alloc(0);
  const value = Buffer.isBuffer(opts.value) ? opts.value : Buffer.from(opts.value ?? '');
  const fe = opts.framing ?? Buffer.alloc(0);
  const magic = fe.length > 0 ? 0x08 : 0x80;
  const body = Buffer.concat([fe, extras, key, value]);
  return Buffer.concat([header(magic, opcode, key.length, extras.length, opts.datatype ?? 0, opts.vbucket ?? 0, body.length, opts.opaque ?? 0, opts.cas ?? 0n, fe.length), body]);
}

/** HELLO, SASL PLAIN and SELECT_BUCKET: what an authenticated connection starts with. */
export function handshake(user: string, password: string, bucket: string, features: number[]): Buffer {
  const feats = Buffer.alloc(features.length * 2);
  features.forEach((f, i) => feats.writeUInt16BE(f, i * 2));
  return Buffer.concat([
    request(Opcode.HELLO, { key: 'fuzz', value: feats, opaque: 0xf0000001 }),
    request(Opcode.SASL_AUTH, { key: 'PLAIN', value: encodePlain(user, password), opaque: 0xf0000002 }),
    request(Opcode.SELECT_BUCKET, { key: bucket, opaque: 0xf0000003 }),
  ]);
}

function subdocSpecs(r: Rng, mutation: boolean): Buffer {
  const parts: Buffer[] = [];
  const n = r.pick([0, 1, 2, 16, 17, 40]);
  for (let i = 0; i < n; i++) {
    const path = Buffer.from(r.pick(PATHS));
    const flags = r.pick([0, 0x01, 0x04, 0x02, 0x07, 0xff]);
    if (mutation) {
      const value = Buffer.from(jsonValue(r));
      const spec = Buffer.alloc(8);
      spec[0] = r.pick(MUTATION_OPS);
      spec[1] = flags;
      spec.writeUInt16BE(r.chance(0.05) ? r.int(0x10000) : path.length, 2);
      spec.writeUInt32BE(r.chance(0.05) ? r.int(0x100000000) : value.length, 4);
      parts.push(spec, path, value);
    } else {
      const spec = Buffer.alloc(4);
      spec[0] = r.pick(LOOKUP_OPS);
      spec[1] = flags;
      spec.writeUInt16BE(r.chance(0.05) ? r.int(0x10000) : path.length, 2);
      parts.push(spec, path);
    }
  }
  return Buffer.concat(parts);
}

function extrasFor(r: Rng, opcode: number): Buffer {
  const normal = EXTRAS[opcode] ?? 0;
  const len = r.chance(0.85) ? normal : r.pick([0, 1, 3, 4, 8, 20, 24, 255]);
  const ex = r.bytes(len);
  // Expiries and counters near the edges: 30-day boundary, negative, maximal.
  if (len >= 8 && r.bool()) ex.writeUInt32BE(r.pick([0, 1, 2592000, 2592001, 0xffffffff]), len === 8 ? 4 : len === 20 ? 16 : 0);
  return ex;
}

/** One well-structured request with hostile contents. */
export function templateFrame(r: Rng): Buffer {
  const opcode = r.chance(0.9) ? r.pick(OPCODES) : r.int(256);
  let value: Buffer;
  if (opcode === Opcode.SUBDOC_MULTI_LOOKUP) value = subdocSpecs(r, false);
  else if (opcode === Opcode.SUBDOC_MULTI_MUTATION) value = subdocSpecs(r, true);
  else if (opcode === Opcode.OBSERVE) {
    value = Buffer.alloc(4 + r.int(40));
    value.writeUInt16BE(r.int(1100), 0);
    value.writeUInt16BE(r.pick([0, 1, 5, 0xffff]), 2);
  } else if (opcode >= Opcode.SUBDOC_GET && opcode <= Opcode.SUBDOC_GET_COUNT) value = Buffer.concat([Buffer.from(r.pick(PATHS)), Buffer.from(jsonValue(r))]);
  else value = r.chance(0.7) ? Buffer.from(jsonValue(r)) : r.bytes(r.int(512));
  const key = r.chance(0.9) ? Buffer.from(r.pick(KEYS)) : r.bytes(r.int(40));
  let extras = extrasFor(r, opcode);
  // Sub-document single-path ops carry the path length in their extras.
  if (EXTRAS[opcode] === 3 && extras.length === 3) extras.writeUInt16BE(Math.min(value.length, r.pick([0, 1, 4, 0xffff])), 0);
  if (r.chance(0.1)) extras = Buffer.alloc(0);
  const framing = r.chance(0.15) ? r.bytes(r.pick([1, 2, 3, 4, 9, 17])) : undefined;
  return request(opcode, {
    key,
    extras,
    value,
    datatype: r.chance(0.8) ? r.pick([0, 1]) : r.int(256),
    vbucket: r.chance(0.9) ? r.int(64) : r.pick([1023, 1024, 0xffff]),
    cas: r.chance(0.8) ? 0n : r.bigint(),
    opaque: r.int(0x7fffffff),
    framing,
  });
}

/** A well-formed frame with some of its bytes or length fields changed. */
export function mutatedFrame(r: Rng): Buffer {
  const frame = Buffer.from(templateFrame(r));
  switch (r.int(5)) {
    case 0: // flip bytes anywhere
      for (let i = r.int(8) + 1; i > 0; i--) frame[r.int(frame.length)] = r.int(256);
      return frame;
    case 1: // a body length that disagrees with the body
      frame.writeUInt32BE(r.pick([0, 1, frame.length, frame.length + 100, 0x7fffffff, 0xffffffff, 20 * 1024 * 1024 + 1025]), 8);
      return frame;
    case 2: // key and extras longer than the body
      frame.writeUInt16BE(r.pick([0xffff, 0x100, frame.length & 0xffff]), 2);
      frame[4] = r.int(256);
      return frame;
    case 3: // cut short
      return frame.subarray(0, r.int(frame.length));
    default: // a response or server magic where a request belongs
      frame[0] = r.pick([0x81, 0x18, 0x82, 0x83, 0x00, 0xff]);
      return frame;
  }
}

/** What one fuzzed connection writes: an optional handshake, then frames split at random. */
export function connectionScript(r: Rng, auth: { user: string; password: string; bucket: string }): { chunks: Buffer[]; frames: number } {
  const frames: Buffer[] = [];
  if (r.chance(0.7)) frames.push(handshake(auth.user, r.chance(0.9) ? auth.password : 'wrong', auth.bucket, r.chance(0.5) ? [0x01, 0x06, 0x0b, 0x0d, 0x12] : r.pick([[], [0x12, 0x12], [0x0a, 0x0a, 0x0a]])));
  const n = 1 + r.int(40);
  for (let i = 0; i < n; i++) {
    const kind = r.int(20);
    if (kind < 13) frames.push(templateFrame(r));
    else if (kind < 19) frames.push(mutatedFrame(r));
    else frames.push(r.bytes(1 + r.int(300)));
  }
  const all = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; ) {
    const len = r.chance(0.7) ? all.length - off : 1 + r.int(Math.min(4096, all.length - off));
    chunks.push(all.subarray(off, off + len));
    off += len;
  }
  return { chunks, frames: n };
}

/** Documents the target holds for the attacks below (fuzz/target.ts). */
export const LARGE_DOCS = ['fuzz-1m', 'fuzz-12k', 'deep-32', 'deep-100k'];

/**
 * A slow-loris connection: never authenticates, and trickles a few bytes at a time (a frame
 * announcing more than an unauthenticated peer may send, a HELLO or SASL cut short, requests
 * that need authentication). The server closes it at the frame limit or the authentication timeout.
 */
export function slowLorisScript(r: Rng): { chunks: Buffer[]; frames: number; gapMs: number } {
  const parts: Buffer[] = [];
  switch (r.int(4)) {
    case 0: {
      // a header announcing up to the 30 MiB packet limit, then a dribble of its body
      const h = request(Opcode.SASL_AUTH, { key: 'PLAIN' }).subarray(0, 24);
      h.writeUInt32BE(r.pick([16 * 1024 - 24, 16 * 1024, 1024 * 1024, 20 * 1024 * 1024, 30 * 1024 * 1024]), 8);
      parts.push(h, r.bytes(200));
      break;
    }
    case 1:
      parts.push(request(Opcode.HELLO, { key: 'loris', value: r.bytes(r.pick([2, 100, 16000])) }));
      break;
    case 2:
      parts.push(request(Opcode.GET, { key: 'doc-1', vbucket: r.int(64) }), request(Opcode.STAT), request(Opcode.SET, { key: 'k', extras: Buffer.alloc(8), value: 'v' }));
      break;
    default:
      parts.push(request(Opcode.SASL_AUTH, { key: 'SCRAM-SHA512', value: 'n,,n=Administrator,r=' + 'x'.repeat(r.int(100)) }).subarray(0, 30));
  }
  const all = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  // Mostly under half a second; one in ten outlasts the target's 2 s authentication timeout.
  const long = r.chance(0.1);
  const count = long ? 50 : 10;
  const step = Math.max(1, Math.ceil(all.length / count));
  for (let off = 0; off < all.length && chunks.length < count; ) {
    const len = 1 + r.int(step);
    chunks.push(all.subarray(off, off + len));
    off += len;
  }
  return { chunks, frames: parts.length, gapMs: long ? 60 : 5 + r.int(40) };
}

/**
 * A client that never reads its answers: after the handshake it pipelines GETs and whole-document
 * sub-document lookups of large documents, megabytes of answers it will never take.
 */
export function deafScript(r: Rng, auth: { user: string; password: string; bucket: string }): { chunks: Buffer[]; frames: number; holdMs: number } {
  const key = r.pick(LARGE_DOCS);
  const vbucket = vbucketOf(key, 64);
  const one = r.chance(0.7)
    ? request(r.pick([Opcode.GET, Opcode.GETK]), { key, vbucket })
    : request(Opcode.SUBDOC_MULTI_LOOKUP, { key, vbucket, value: Buffer.concat(Array.from({ length: 16 }, () => Buffer.from([Opcode.GET, 0, 0, 0]))) });
  const count = r.pick([100, 1000, 20000]);
  const burst = Buffer.concat(Array.from({ length: count }, () => one));
  return { chunks: [handshake(auth.user, auth.password, auth.bucket, []), burst], frames: 3 + count, holdMs: 100 + r.int(400) };
}

/** Many connections at once, some of them authenticated: past maxConnections the rest are closed at once. */
export function floodPlan(r: Rng): { connections: number; authenticated: number } {
  const connections = r.pick([20, 100, 300, 700]);
  return { connections, authenticated: Math.floor(connections * r.pick([0, 0.1, 0.5, 1])) };
}
