// One seeded PRNG for everything that must be reproducible from a seed: the generated sample
// buckets (same seed → byte-identical documents) and pillowfight's operation mix.

/** mulberry32: small, fast, good enough for varied but reproducible data; returns [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
