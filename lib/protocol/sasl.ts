// SASL mechanisms Couchbase speaks over SASL_AUTH / SASL_STEP: PLAIN (RFC 4616) and
// SCRAM-SHA1/256/512 (RFC 5802, without channel binding: gs2 header "n,,").
// Pure state machines; the caller moves the messages.
import * as crypto from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA1' | 'SCRAM-SHA256' | 'SCRAM-SHA512';
export type SaslMechanism = ScramMechanism | 'PLAIN';

/** Mechanisms in the order Couchbase prefers them (strongest first). */
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['SCRAM-SHA512', 'SCRAM-SHA256', 'SCRAM-SHA1', 'PLAIN'];

/**
 * Why an exchange failed. Values follow RFC 5802's server-error names so a server can send
 * `e=<code>`; `other-error` covers everything else.
 */
export type SaslErrorCode =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'invalid-proof'
  | 'channel-binding-not-supported'
  | 'unknown-user'
  | 'invalid-username-encoding'
  | 'invalid-nonce'
  | 'invalid-server-signature'
  | 'unsupported-mechanism'
  | 'out-of-order'
  | 'other-error';

/** Authentication failed or a SASL message was malformed. The server answers AUTH_ERROR. */
export class SaslError extends Error {
  readonly code: SaslErrorCode;
  constructor(code: SaslErrorCode, message: string) {
    super(message);
    this.name = 'SaslError';
    this.code = code;
  }
}

// --- PLAIN: [authzid] NUL authcid NUL password

export function encodePlain(username: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\0${username}\0${password}`, 'utf8');
}

export function decodePlain(buf: Buffer): { authzid: string; username: string; password: string } {
  const a = buf.indexOf(0);
  const b = a < 0 ? -1 : buf.indexOf(0, a + 1);
  if (a < 0 || b < 0 || buf.indexOf(0, b + 1) >= 0) {
    throw new SaslError('invalid-encoding', 'PLAIN message must be authzid NUL username NUL password');
  }
  return {
    authzid: buf.toString('utf8', 0, a),
    username: buf.toString('utf8', a + 1, b),
    password: buf.toString('utf8', b + 1),
  };
}

// --- SCRAM primitives

interface ScramHash {
  name: 'sha1' | 'sha256' | 'sha512';
  size: number;
}

const HASHES: Record<ScramMechanism, ScramHash> = {
  'SCRAM-SHA1': { name: 'sha1', size: 20 },
  'SCRAM-SHA256': { name: 'sha256', size: 32 },
  'SCRAM-SHA512': { name: 'sha512', size: 64 },
};

function hashOf(mech: string): ScramHash {
  const h = (HASHES as Record<string, ScramHash | undefined>)[mech];
  if (!h) throw new SaslError('unsupported-mechanism', `unsupported SASL mechanism ${JSON.stringify(mech)}`);
  return h;
}

/** True for the SCRAM mechanism names Couchbase uses. */
export function isScramMechanism(mech: string): mech is ScramMechanism {
  return Object.prototype.hasOwnProperty.call(HASHES, mech);
}

function hmac(h: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return crypto.createHmac(h.name, key).update(data).digest();
}

function digest(h: ScramHash, data: Buffer): Buffer {
  return crypto.createHash(h.name).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** The keys both sides derive from a password (RFC 5802 §3). */
export interface ScramKeys {
  saltedPassword: Buffer;
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramKeys(mech: ScramMechanism, password: string, salt: Buffer, iterations: number): ScramKeys {
  const h = hashOf(mech);
  const saltedPassword = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, h.size, h.name);
  const clientKey = hmac(h, saltedPassword, 'Client Key');
  return {
    saltedPassword,
    clientKey,
    storedKey: digest(h, clientKey),
    serverKey: hmac(h, saltedPassword, 'Server Key'),
  };
}

/** RFC 5802 §5.1: ',' and '=' in a username are sent as =2C and =3D. */
export function escapeScramUsername(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export function unescapeScramUsername(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new SaslError('invalid-username-encoding', `bad escape in SCRAM username`);
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * Parses `a=1,b=2,...` into [name, value] pairs in order. Values may contain '='.
 */
function parseAttributes(msg: string): Array<[string, string]> {
  if (msg.length === 0) throw new SaslError('invalid-encoding', 'empty SCRAM message');
  const out: Array<[string, string]> = [];
  for (const part of msg.split(',')) {
    if (part.length < 2 || part[1] !== '=' || !/[a-zA-Z]/.test(part[0])) {
      throw new SaslError('invalid-encoding', `malformed SCRAM attribute ${JSON.stringify(part)}`);
    }
    out.push([part[0], part.slice(2)]);
  }
  return out;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
// What a server accepts from a client: RFC 5802's printable plus the space, because
// couchbase-cxx-client 1.3.x (the official Node SDK 4.7) sends nonces containing spaces and
// Couchbase Server takes them. The nonce is used verbatim in the AuthMessage, so the
// exchange stays sound.
const CLIENT_NONCE = /^[\x20-\x2b\x2d-\x7e]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(s: string, what: string): Buffer {
  if (s.length % 4 !== 0 || !BASE64.test(s)) throw new SaslError('invalid-encoding', `${what} is not base64`);
  return Buffer.from(s, 'base64');
}

function randomNonce(): string {
  // 18 random bytes -> 24 base64 chars, none of them ','.
  return crypto.randomBytes(18).toString('base64');
}

// --- client

/**
 * The client side of one SCRAM exchange:
 * `clientFirst()` -> SASL_AUTH value; `clientFinal(challenge)` -> SASL_STEP value;
 * `verifyServerFinal(reply)` checks the server's signature (throws SaslError when wrong).
 */
export class ScramClient {
  readonly mechanism: ScramMechanism;
  private readonly hash: ScramHash;
  private readonly username: string;
  private readonly password: string;
  private readonly nonce: string;
  private firstBare: string | undefined;
  private serverSignature: Buffer | undefined;

  /** `nonce` is for tests; by default 24 random base64 characters. */
  constructor(mech: ScramMechanism, username: string, password: string, nonce?: string) {
    this.hash = hashOf(mech);
    this.mechanism = mech;
    this.username = username;
    this.password = password;
    this.nonce = nonce ?? randomNonce();
    if (!PRINTABLE_NONCE.test(this.nonce)) throw new SaslError('invalid-nonce', 'client nonce must be printable and contain no comma');
  }

  clientFirst(): string {
    this.firstBare = `n=${escapeScramUsername(this.username)},r=${this.nonce}`;
    return `n,,${this.firstBare}`;
  }

  clientFinal(serverFirst: string): string {
    if (this.firstBare === undefined) throw new SaslError('out-of-order', 'clientFinal() called before clientFirst()');
    let nonce: string | undefined;
    let salt: Buffer | undefined;
    let iterations: number | undefined;
    for (const [k, v] of parseAttributes(serverFirst)) {
      if (k === 'r' && nonce === undefined) nonce = v;
      else if (k === 's' && salt === undefined) salt = decodeBase64(v, 'salt');
      else if (k === 'i' && iterations === undefined) {
        if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new SaslError('invalid-encoding', `bad iteration count ${JSON.stringify(v)}`);
        iterations = Number(v);
      } else if (k === 'm') throw new SaslError('extensions-not-supported', 'server requires an unsupported SCRAM extension');
      else if (k === 'e') throw new SaslError('other-error', `server error: ${v}`);
      else throw new SaslError('invalid-encoding', `unexpected attribute ${k} in server-first message`);
    }
    if (nonce === undefined || salt === undefined || iterations === undefined) {
      throw new SaslError('invalid-encoding', 'server-first message needs r, s and i');
    }
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length || !PRINTABLE_NONCE.test(nonce)) {
      throw new SaslError('invalid-nonce', 'server nonce does not extend the client nonce');
    }
    const keys = scramKeys(this.mechanism, this.password, salt, iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const proof = xor(keys.clientKey, hmac(this.hash, keys.storedKey, authMessage));
    this.serverSignature = hmac(this.hash, keys.serverKey, authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verifyServerFinal(serverFinal: string): void {
    if (this.serverSignature === undefined) {
      throw new SaslError('out-of-order', 'verifyServerFinal() called before clientFinal()');
    }
    const attrs = parseAttributes(serverFinal);
    const [k, v] = attrs[0];
    if (k === 'e') throw new SaslError('other-error', `server rejected the authentication: ${v}`);
    if (k !== 'v') throw new SaslError('invalid-encoding', 'server-final message needs v=');
    const sig = decodeBase64(v, 'server signature');
    if (sig.length !== this.serverSignature.length || !crypto.timingSafeEqual(sig, this.serverSignature)) {
      throw new SaslError('invalid-server-signature', 'server signature does not match: the server does not know the password');
    }
  }
}

// --- server

/**
 * What a server keeps for a SCRAM user instead of the password (RFC 5802 §3), so PBKDF2 runs
 * once per user rather than once per login.
 */
export interface ScramCredentials {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Derives the stored SCRAM credentials for a password. */
export function scramCredentials(mech: ScramMechanism, password: string, salt: Buffer, iterations: number): ScramCredentials {
  const { storedKey, serverKey } = scramKeys(mech, password, salt, iterations);
  return { salt, iterations, storedKey, serverKey };
}

/** A user's password, or credentials already derived for this mechanism; undefined when unknown. */
export type ScramLookup = (user: string) => string | ScramCredentials | undefined;

export interface ScramServerOptions {
  /** Server part of the nonce (tests); by default 24 random base64 characters. */
  nonce?: string;
  /** Salt for this user; by default 16 random bytes. */
  salt?: Buffer;
  /** PBKDF2 iterations; default 4096 (RFC 5802's minimum). */
  iterations?: number;
}

/**
 * The server side of one SCRAM exchange:
 * `serverFirst(SASL_AUTH value)` -> AUTH_CONTINUE value;
 * `serverFinal(SASL_STEP value)` -> SUCCESS value, or throws SaslError (answer AUTH_ERROR).
 * An unknown user gets a normal-looking challenge and fails at the proof, so user names
 * cannot be probed.
 */
export class ScramServer {
  readonly mechanism: ScramMechanism;
  private readonly hash: ScramHash;
  private readonly lookupPassword: ScramLookup;
  private readonly opts: ScramServerOptions;
  private user: string | undefined;
  private gs2Header = '';
  private firstBare = '';
  private first = '';
  private nonce = '';
  private keys: Pick<ScramKeys, 'storedKey' | 'serverKey'> | undefined;

  constructor(mech: ScramMechanism, lookupPassword: ScramLookup, opts?: ScramServerOptions) {
    this.hash = hashOf(mech);
    this.mechanism = mech;
    this.lookupPassword = lookupPassword;
    this.opts = opts ?? {};
  }

  /** The authenticating user, known after `serverFirst()`. */
  get username(): string {
    if (this.user === undefined) throw new SaslError('out-of-order', 'username is known only after serverFirst()');
    return this.user;
  }

  serverFirst(clientFirst: string): string {
    if (this.user !== undefined) throw new SaslError('out-of-order', 'serverFirst() called twice');
    // gs2-header = gs2-cbind-flag "," [authzid] ","
    const c1 = clientFirst.indexOf(',');
    const c2 = c1 < 0 ? -1 : clientFirst.indexOf(',', c1 + 1);
    if (c2 < 0) throw new SaslError('invalid-encoding', 'client-first message lacks a gs2 header');
    const flag = clientFirst.slice(0, c1);
    if (flag.startsWith('p=')) throw new SaslError('channel-binding-not-supported', 'channel binding is not supported');
    if (flag !== 'n' && flag !== 'y') throw new SaslError('invalid-encoding', `bad gs2 channel-binding flag ${JSON.stringify(flag)}`);
    const authzid = clientFirst.slice(c1 + 1, c2);
    if (authzid !== '' && !authzid.startsWith('a=')) throw new SaslError('invalid-encoding', 'bad gs2 authzid');
    this.gs2Header = clientFirst.slice(0, c2 + 1);
    this.firstBare = clientFirst.slice(c2 + 1);
    const attrs = parseAttributes(this.firstBare);
    if (attrs[0][0] === 'm') throw new SaslError('extensions-not-supported', 'SCRAM extensions are not supported');
    if (attrs.length < 2 || attrs[0][0] !== 'n' || attrs[1][0] !== 'r') {
      throw new SaslError('invalid-encoding', 'client-first message must be n=<user>,r=<nonce>');
    }
    const user = unescapeScramUsername(attrs[0][1]);
    const cnonce = attrs[1][1];
    if (!CLIENT_NONCE.test(cnonce)) throw new SaslError('invalid-nonce', 'client nonce must be printable and contain no comma');
    const snonce = this.opts.nonce ?? randomNonce();
    if (!PRINTABLE_NONCE.test(snonce)) throw new SaslError('invalid-nonce', 'server nonce must be printable and contain no comma');
    let iterations = this.opts.iterations ?? 4096;
    const secret = this.lookupPassword(user);
    let salt = this.opts.salt;
    if (secret === undefined) {
      // A stable fake salt per user name, so an unknown user looks like a known one.
      salt ??= crypto.createHash('sha256').update('deferbase-unknown-user\0').update(user).digest().subarray(0, 16);
      this.keys = undefined;
    } else if (typeof secret === 'string') {
      salt ??= crypto.randomBytes(16);
      this.keys = scramKeys(this.mechanism, secret, salt, iterations);
    } else {
      ({ salt, iterations } = secret);
      this.keys = secret;
    }
    this.user = user;
    this.nonce = cnonce + snonce;
    this.first = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    return this.first;
  }

  serverFinal(clientFinal: string): string {
    if (this.user === undefined) throw new SaslError('out-of-order', 'serverFinal() called before serverFirst()');
    const attrs = parseAttributes(clientFinal);
    if (attrs.length < 3 || attrs[0][0] !== 'c' || attrs[1][0] !== 'r' || attrs[attrs.length - 1][0] !== 'p') {
      throw new SaslError('invalid-encoding', 'client-final message must be c=...,r=...,[...,]p=...');
    }
    const binding = decodeBase64(attrs[0][1], 'channel binding').toString('latin1');
    if (binding !== this.gs2Header) throw new SaslError('invalid-encoding', 'channel binding data does not match the gs2 header');
    if (attrs[1][1] !== this.nonce) throw new SaslError('invalid-nonce', 'nonce does not match the one issued');
    const proof = decodeBase64(attrs[attrs.length - 1][1], 'proof');
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const keys = this.keys;
    if (keys === undefined) throw new SaslError('unknown-user', `unknown user ${JSON.stringify(this.user)}`);
    const authMessage = `${this.firstBare},${this.first},${withoutProof}`;
    const clientSignature = hmac(this.hash, keys.storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw new SaslError('invalid-proof', 'wrong password');
    const clientKey = xor(proof, clientSignature);
    if (!crypto.timingSafeEqual(digest(this.hash, clientKey), keys.storedKey)) {
      throw new SaslError('invalid-proof', 'wrong password');
    }
    return `v=${hmac(this.hash, keys.serverKey, authMessage).toString('base64')}`;
  }
}
