// Key -> server for memcached buckets (nodeLocator "ketama"): the ketama continuum of SDK RFC 26,
// built the way libcouchbase's vbucket.c builds it, so that every SDK puts a key on the same node.
//
// Each data server is named by its authority "host:port" (the plain KV port, whatever port the
// client connects to). Servers are taken in byte order of their authority; for each, the MD5 of
// "<authority>-<i>" for i = 0..39 gives four points (its little-endian 32-bit words), 160 points
// per server. A key hashes to the first word of its MD5 and belongs to the server of the first
// point at or after that hash, wrapping to the first point past the top.
import { createHash } from 'node:crypto';

/** Points per server: 40 digests of 4 words each. */
const DIGESTS_PER_SERVER = 40;
const POINTS_PER_DIGEST = 4;

function md5(data: string | Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

/** The ketama hash of a key: the first 32-bit little-endian word of its MD5. */
export function ketamaHash(key: string | Buffer): number {
  return md5(key).readUInt32LE(0);
}

export class KetamaContinuum {
  /** The servers as given; serverOf() answers indexes into this list. */
  readonly servers: readonly string[];
  /** Continuum points, ascending. */
  private readonly points: Uint32Array;
  /** owners[i]: index into `servers` of the server that put points[i] there. */
  private readonly owners: Uint16Array;

  /** `servers`: the data servers' authorities, "host:port" (IPv6 hosts in brackets). */
  constructor(servers: readonly string[]) {
    this.servers = [...servers];
    // Byte order, as libcouchbase's strcmp sort: ties between equal points then fall the same way.
    const order = this.servers.map((s, i) => ({ key: Buffer.from(s, 'utf8'), i })).sort((a, b) => Buffer.compare(a.key, b.key));
    const n = order.length * DIGESTS_PER_SERVER * POINTS_PER_DIGEST;
    const entries = new Array<{ point: number; owner: number }>(n);
    let k = 0;
    for (const { i } of order) {
      for (let d = 0; d < DIGESTS_PER_SERVER; d++) {
        const digest = md5(`${this.servers[i]}-${d}`);
        for (let w = 0; w < POINTS_PER_DIGEST; w++) entries[k++] = { point: digest.readUInt32LE(w * 4), owner: i };
      }
    }
    entries.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = Uint16Array.from(entries, (e) => e.owner);
  }

  get size(): number {
    return this.points.length;
  }

  /** Index into `servers` of the server owning `key`; -1 when there is no server. */
  serverOf(key: string | Buffer): number {
    return this.serverOfHash(ketamaHash(key));
  }

  /** Index into `servers` of the server owning hash `h` (first point >= h, wrapping). */
  serverOfHash(h: number): number {
    const pts = this.points;
    if (pts.length === 0) return -1;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pts[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === pts.length ? 0 : lo];
  }

  /** The continuum as [point, server index] pairs, ascending (for inspection and tests). */
  entries(): Array<[number, number]> {
    return Array.from(this.points, (p, i) => [p, this.owners[i]]);
  }
}
