// The random sampling of a range scan, bit for bit as kv_engine draws it: a std::mt19937 seeded
// with the request's seed, and std::bernoulli_distribution(samples / items) asked once per key
// in key order (libstdc++: a 53-bit generate_canonical from two 32-bit draws, compared with p).
// Same data and seed, same sample as a Couchbase Server.

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

/** The 32-bit Mersenne Twister (std::mt19937). */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, mod 2^32, without losing bits to doubles
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output. */
  next(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let i = 0; i < N; i++) {
        const y = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER);
        mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

const TWO_32 = 4294967296;
const TWO_64 = TWO_32 * TWO_32;
/** The largest double below 1 (generate_canonical never returns 1). */
const BELOW_ONE = 1 - Number.EPSILON / 2;

/** std::bernoulli_distribution(p) over an mt19937, as libstdc++ computes it. */
export class Bernoulli {
  private readonly rng: Mt19937;
  readonly p: number;

  constructor(seed: number, p: number) {
    this.rng = new Mt19937(seed);
    this.p = p;
  }

  /** True with probability p. */
  draw(): boolean {
    // generate_canonical<double, 53>: k = 2 draws, sum = x0 + x1 * 2^32 (in doubles), over 2^64.
    const sum = this.rng.next() + this.rng.next() * TWO_32;
    let u = sum / TWO_64;
    if (u >= 1) u = BELOW_ONE;
    return u < this.p;
  }
}
