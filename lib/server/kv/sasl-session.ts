// One SASL exchange on a KV connection (PLAIN in one round, SCRAM-SHA* in two), on top of
// lib/protocol's state machines. Any failure, whatever its cause, is reported as a plain
// AUTH_ERROR: no hint for a prober.
import crypto from 'node:crypto';
import createDebug from 'debug';
import {
  decodePlain,
  isScramMechanism,
  scramCredentials,
  ScramServer,
  SASL_MECHANISMS as MECHS,
  type ScramCredentials,
  type ScramMechanism,
} from '../../protocol';

const debug = createDebug('deferbase:server');

/** What SASL_LIST_MECHS answers, strongest first. */
export const SASL_MECHANISMS = MECHS.join(' ');

export const SCRAM_ITERATIONS = 4096;

export interface SaslOutcome {
  status: 'continue' | 'done' | 'failed';
  value: Buffer;
  user?: string;
}

const EMPTY = Buffer.alloc(0);
const FAILED: SaslOutcome = { status: 'failed', value: EMPTY };

/** PBKDF2 is the slow part of SCRAM; derive once per (mechanism, user, password). */
const credentialCache = new Map<string, ScramCredentials>();

function credentialsFor(mech: ScramMechanism, user: string, password: string): ScramCredentials {
  const id = `${mech}\0${user}\0${password}`;
  let entry = credentialCache.get(id);
  if (entry === undefined) {
    entry = scramCredentials(mech, password, crypto.randomBytes(16), SCRAM_ITERATIONS);
    if (credentialCache.size > 1000) credentialCache.clear();
    credentialCache.set(id, entry);
  }
  return entry;
}

export class SaslSession {
  readonly mechanism: string;
  private readonly lookupPassword: (user: string) => string | undefined;
  private scram: ScramServer | undefined;

  constructor(mechanism: string, lookupPassword: (user: string) => string | undefined) {
    this.mechanism = mechanism;
    this.lookupPassword = lookupPassword;
  }

  start(data: Buffer): SaslOutcome {
    try {
      if (this.mechanism === 'PLAIN') {
        const { username, password } = decodePlain(data);
        const known = this.lookupPassword(username);
        if (known === undefined || !sameString(known, password)) throw new Error(`bad credentials for ${JSON.stringify(username)}`);
        return { status: 'done', value: EMPTY, user: username };
      }
      const mech = this.mechanism;
      if (!isScramMechanism(mech)) throw new Error('unknown mechanism');
      this.scram = new ScramServer(mech, (user) => {
        const password = this.lookupPassword(user);
        return password === undefined ? undefined : credentialsFor(mech, user, password);
      });
      return { status: 'continue', value: Buffer.from(this.scram.serverFirst(data.toString('utf8'))) };
    } catch (err) {
      debug('sasl %s: first message rejected: %s', this.mechanism, (err as Error).message);
      return FAILED;
    }
  }

  step(data: Buffer): SaslOutcome {
    const scram = this.scram;
    this.scram = undefined;
    try {
      if (scram === undefined) throw new Error('SASL_STEP without SASL_AUTH');
      const serverFinal = scram.serverFinal(data.toString('utf8'));
      return { status: 'done', value: Buffer.from(serverFinal), user: scram.username };
    } catch (err) {
      debug('sasl %s: final message rejected: %s', this.mechanism, (err as Error).message);
      return FAILED;
    }
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
