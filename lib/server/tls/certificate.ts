// A self-signed certificate for the cluster's TLS listeners, made without OpenSSL's command line:
// an EC P-256 key from node:crypto, and an X.509 v3 certificate (RFC 5280) written in DER here —
// a CA certificate for the cluster's own addresses, so that clients can trust it directly
// (certpath / truststorepath, or the official SDKs' trust certificate option).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import net from 'node:net';

// --- DER, the few types a certificate needs ---------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

function integer(b: Buffer): Buffer {
  // Positive: a leading 1 bit would read as negative.
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  // UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write the eight groups.
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface CertificateAndKey {
  /** PEM. */
  cert: string;
  /** PEM (PKCS#8). */
  key: string;
}

/**
 * A self-signed CA certificate valid for `names` (addresses go in as IP SANs, the rest as DNS
 * names; the first is the subject's common name), for `days` days from now.
 */
export function selfSignedCertificate(names: readonly string[], days = 3650): CertificateAndKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { cert: certificateFor(names, publicKey, privateKey, days), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function certificateFor(names: readonly string[], publicKey: KeyObject, privateKey: KeyObject, days: number): string {
  const unique = [...new Set(names)];
  const subject = seq(set(seq(oid(OID.commonName), utf8(unique[0] ?? 'deferbase'))));
  const sans = unique.map((n) => (net.isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii'))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const now = Date.now();
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    subject,
    seq(time(new Date(now - 60_000)), time(new Date(now + days * 86_400_000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq(bool(true))),
        // digitalSignature (bit 0) and keyCertSign (bit 5): 1000 0100, two unused bits.
        extension(OID.keyUsage, true, bits(Buffer.from([0x84]), 2)),
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, seq(...sans)),
      ),
    ),
  );
  const der = seq(tbs, algorithm, bits(sign('sha256', tbs, privateKey)));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** Checks that a given key is a private key Node can use (a clear error at start instead of at the first handshake). */
export function checkPrivateKey(key: string | Buffer): void {
  createPrivateKey(key);
}
