// MD4 (RFC 1320), for HASHBYTES(x, "md4"): Node's OpenSSL 3 no longer provides it (it sits in the
// legacy provider), and no maintained npm package is worth a dependency for forty lines.

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** The MD4 digest of `data`, as 32 hex digits. */
export function md4(data: Uint8Array): string {
  // Pad: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit little-endian number.
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = data.length * 8;
  view.setUint32(padded.length - 8, bits >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bits / 2 ** 32), true);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const f = (u: number, v: number, w: number): number => (u & v) | (~u & w);
  const g = (u: number, v: number, w: number): number => (u & v) | (u & w) | (v & w);
  const h = (u: number, v: number, w: number): number => u ^ v ^ w;
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(off + i * 4, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    // Round 1: words in order, shifts 3 7 11 19.
    for (let i = 0; i < 16; i += 4) {
      a = rotl((a + f(b, c, d) + x[i]) | 0, 3);
      d = rotl((d + f(a, b, c) + x[i + 1]) | 0, 7);
      c = rotl((c + f(d, a, b) + x[i + 2]) | 0, 11);
      b = rotl((b + f(c, d, a) + x[i + 3]) | 0, 19);
    }
    // Round 2: words by column, shifts 3 5 9 13.
    for (let i = 0; i < 4; i++) {
      a = rotl((a + g(b, c, d) + x[i] + 0x5a827999) | 0, 3);
      d = rotl((d + g(a, b, c) + x[i + 4] + 0x5a827999) | 0, 5);
      c = rotl((c + g(d, a, b) + x[i + 8] + 0x5a827999) | 0, 9);
      b = rotl((b + g(c, d, a) + x[i + 12] + 0x5a827999) | 0, 13);
    }
    // Round 3: words in bit-reversed order, shifts 3 9 11 15.
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + h(b, c, d) + x[i] + 0x6ed9eba1) | 0, 3);
      d = rotl((d + h(a, b, c) + x[i + 8] + 0x6ed9eba1) | 0, 9);
      c = rotl((c + h(d, a, b) + x[i + 4] + 0x6ed9eba1) | 0, 11);
      b = rotl((b + h(c, d, a) + x[i + 12] + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = new DataView(new ArrayBuffer(16));
  [a, b, c, d].forEach((w, i) => out.setUint32(i * 4, w, true));
  return Buffer.from(out.buffer).toString('hex');
}
