// Passwords as ns_server keeps them: never the password itself, but a salted PBKDF2-HMAC-SHA512
// hash for checking a password given in the clear (HTTP Basic, SASL PLAIN), and the SCRAM stored
// and server keys of each mechanism, so that SCRAM-SHA1/256/512 work without the password.
//
// Checking a password costs a PBKDF2 derivation (milliseconds, on purpose), and HTTP clients send
// their password with every request: a record remembers the last few passwords that checked out
// as keyed digests (HMAC under a key that lives only in this process), so only a new or wrong
// password pays the derivation.
import crypto from 'node:crypto';
import { scramCredentials, type ScramCredentials, type ScramMechanism } from '../../protocol';

export const HASH_ITERATIONS = 10000;
export const SCRAM_ITERATIONS = 4096;
const SCRAM_MECHS: readonly ScramMechanism[] = ['SCRAM-SHA1', 'SCRAM-SHA256', 'SCRAM-SHA512'];

/** The stored form of a password (JSON-safe: binary fields are base64). */
export interface PasswordRecord {
  readonly hash: { readonly algorithm: 'pbkdf2-hmac-sha512'; readonly salt: string; readonly iterations: number; readonly hash: string };
  readonly scram: { readonly [M in ScramMechanism]: { readonly salt: string; readonly iterations: number; readonly storedKey: string; readonly serverKey: string } };
}

/** Hashes `password` with fresh salts. */
export function hashPassword(password: string): PasswordRecord {
  const salt = crypto.randomBytes(16);
  const hash = crypto.pbkdf2Sync(password, salt, HASH_ITERATIONS, 64, 'sha512');
  const scram = {} as { -readonly [M in ScramMechanism]: PasswordRecord['scram'][M] };
  for (const mech of SCRAM_MECHS) {
    const c = scramCredentials(mech, password, crypto.randomBytes(16), SCRAM_ITERATIONS);
    scram[mech] = { salt: c.salt.toString('base64'), iterations: c.iterations, storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64') };
  }
  return { hash: { algorithm: 'pbkdf2-hmac-sha512', salt: salt.toString('base64'), iterations: HASH_ITERATIONS, hash: hash.toString('base64') }, scram };
}

/** The SCRAM credentials a server needs for `mech`. */
export function scramOf(record: PasswordRecord, mech: ScramMechanism): ScramCredentials {
  const s = record.scram[mech];
  return { salt: Buffer.from(s.salt, 'base64'), iterations: s.iterations, storedKey: Buffer.from(s.storedKey, 'base64'), serverKey: Buffer.from(s.serverKey, 'base64') };
}

/** Whether a stored record (from a file) has the shape this module writes. */
export function isPasswordRecord(v: unknown): v is PasswordRecord {
  const r = v as PasswordRecord | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.hash?.algorithm === 'pbkdf2-hmac-sha512' &&
    typeof r.hash.salt === 'string' &&
    Number.isInteger(r.hash.iterations) &&
    typeof r.hash.hash === 'string' &&
    SCRAM_MECHS.every((m) => typeof r.scram?.[m]?.storedKey === 'string' && typeof r.scram[m].serverKey === 'string' && typeof r.scram[m].salt === 'string')
  );
}

const DIGEST_KEY = crypto.randomBytes(32);
const REMEMBERED = 4;

/** Checks passwords against one record, remembering the ones that matched. */
export class PasswordCheck {
  private readonly remembered: string[] = [];

  constructor(readonly record: PasswordRecord) {}

  matches(password: string): boolean {
    const digest = crypto.createHmac('sha256', DIGEST_KEY).update(password).digest('base64');
    if (this.remembered.includes(digest)) return true;
    const h = this.record.hash;
    const expected = Buffer.from(h.hash, 'base64');
    const actual = crypto.pbkdf2Sync(password, Buffer.from(h.salt, 'base64'), h.iterations, expected.length, 'sha512');
    if (!crypto.timingSafeEqual(actual, expected)) return false;
    if (this.remembered.unshift(digest) > REMEMBERED) this.remembered.pop();
    return true;
  }
}
