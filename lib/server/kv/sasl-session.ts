// One SASL exchange on a KV connection (PLAIN in one round, SCRAM-SHA* in two), on top of
// lib/protocol's state machines. Any failure, whatever its cause, is reported as a plain
// AUTH_ERROR: no hint for a prober.
import createDebug from 'debug';
import {
  decodePlain,
  isScramMechanism,
  ScramServer,
  SASL_MECHANISMS as MECHS,
  type ScramCredentials,
  type ScramMechanism,
} from '../../protocol';

const debug = createDebug('deferbase:server');

/** What SASL_LIST_MECHS answers, strongest first. */
export const SASL_MECHANISMS = MECHS.join(' ');

/** The users' credentials as SASL checks them: passwords only as hashes (rbac/passwords.ts). */
export interface SaslCredentials {
  /** Whether `password` is `user`'s password (PLAIN). */
  verifyPlain(user: string, password: string): boolean;
  /** The stored SCRAM credentials of `user` for `mech`; undefined for an unknown user. */
  scram(mech: ScramMechanism, user: string): ScramCredentials | undefined;
}

export interface SaslOutcome {
  status: 'continue' | 'done' | 'failed';
  value: Buffer;
  user?: string;
}

const EMPTY = Buffer.alloc(0);
const FAILED: SaslOutcome = { status: 'failed', value: EMPTY };

export class SaslSession {
  readonly mechanism: string;
  private readonly credentials: SaslCredentials;
  private scram: ScramServer | undefined;

  constructor(mechanism: string, credentials: SaslCredentials) {
    this.mechanism = mechanism;
    this.credentials = credentials;
  }

  start(data: Buffer): SaslOutcome {
    try {
      if (this.mechanism === 'PLAIN') {
        const { username, password } = decodePlain(data);
        if (!this.credentials.verifyPlain(username, password)) throw new Error(`bad credentials for ${JSON.stringify(username)}`);
        return { status: 'done', value: EMPTY, user: username };
      }
      const mech = this.mechanism;
      if (!isScramMechanism(mech)) throw new Error('unknown mechanism');
      this.scram = new ScramServer(mech, (user) => this.credentials.scram(mech, user));
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
