// Field-level encryption as Python SDK 2.5 offers it (Bucket.register_crypto_provider,
// encrypt_fields, decrypt_fields over libcouchbase's lcbcrypto): a field `name` of a JSON
// document becomes `<prefix><name>` (prefix "__crypt_" by default) holding
//   { "alg": <provider name>, "kid": <key id>, "iv": base64, "ciphertext": base64, "sig": base64 }
// where the ciphertext is the field's value as JSON text, and the signature covers the
// concatenation kid + alg + iv + ciphertext (the base64 strings). This is the legacy Couchbase
// format every 2.x SDK reads and writes (Java's AES256CryptoProvider, .NET's AesCryptoProvider,
// gocb's AesCryptoProvider), so documents cross between them.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CouchbaseError, ErrorCode } from './errors';

/** The prefix encrypted fields' names carry unless told otherwise. */
export const DEFAULT_CRYPT_PREFIX = '__crypt_';

// --- errors ----------------------------------------------------------------------------------
/** Anything field-level encryption refuses or fails at. */
export class CryptoError extends CouchbaseError {
  static override readonly defaultRc: number = ErrorCode.EINVAL;
}
/** No provider is registered under the algorithm name a field spec or an encrypted field names. */
export class CryptoProviderNotFoundError extends CryptoError {}
/** A key the provider needs is missing from its key store, or has the wrong size. */
export class CryptoKeyError extends CryptoError {}
/** An encrypted field's signature does not verify: the wrong key, or the field was tampered with. */
export class CryptoSignatureError extends CryptoError {}
/** A field could not be encrypted or decrypted (a malformed encrypted field, a wrong key). */
export class CryptoExecutionError extends CryptoError {}

// --- the provider interface (Python's PythonCryptoProvider, version 1) -------------------------
export interface CryptoProvider {
  /** A fresh initialisation vector for one field. */
  generateIv(): Buffer;
  encrypt(input: Buffer, iv: Buffer): Buffer;
  decrypt(input: Buffer, iv: Buffer): Buffer;
  /** The id of the key fields are encrypted with (written as `kid`). */
  getKeyId(): string;
  /** Signs the inputs (kid, alg, iv, ciphertext); a provider without it writes no `sig`. */
  sign?(inputs: Buffer[]): Buffer;
  verifySignature?(inputs: Buffer[], signature: Buffer): boolean;
}

/** Python's snake_case spelling of the same interface, accepted as well. */
interface SnakeCaseProvider {
  generate_iv(): Buffer;
  get_key_id(): string;
  verify_signature?(inputs: Buffer[], signature: Buffer): boolean;
}

/** A field to encrypt or decrypt: its name and the registered algorithm (provider) name. */
export interface FieldSpec {
  name: string;
  alg: string;
  /** Overrides the provider's key id for this field (Python's version-0 `kid`). */
  kid?: string;
}

/** Where providers find keys (Python's couchbase.crypto key stores). */
export interface KeyStore {
  getKey(name: string): Buffer | string | null | undefined;
}

/** Python's InMemoryKeyStore: keys kept in a map. */
export class InMemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, Buffer>();

  setKey(name: string, key: Buffer | string): void {
    this.keys.set(name, typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key));
  }

  getKey(name: string): Buffer | null {
    return this.keys.get(name) ?? null;
  }

  set_key(name: string, key: Buffer | string): void {
    this.setKey(name, key);
  }

  get_key(name: string): Buffer | null {
    return this.getKey(name);
  }
}

function keyFrom(store: KeyStore, name: string, what: string): Buffer {
  const k = store.getKey(name);
  if (k === null || k === undefined || k.length === 0) throw new CryptoKeyError(`the key store has no ${what} "${name}"; add it (keyStore.setKey("${name}", key))`);
  return typeof k === 'string' ? Buffer.from(k, 'utf8') : Buffer.from(k);
}

export interface AesProviderOptions {
  keyStore: KeyStore;
  /** The name of the 32-byte AES key in the store (written as each field's `kid`). */
  keyId: string;
  /** The name of the HMAC-SHA256 signing key in the store. */
  hmacKeyId: string;
  /** A fixed IV (16 bytes) for reproducible output in tests; a random one per field otherwise. */
  iv?: Buffer;
}

/**
 * "AES-256-HMAC-SHA256", the provider the Couchbase SDKs 2.x ship: AES-256-CBC with PKCS#7
 * padding and a random 16-byte IV, signed with HMAC-SHA256 under a separate key.
 */
export class AES256HMACSHA256Provider implements CryptoProvider {
  static readonly ALG = 'AES-256-HMAC-SHA256';
  private readonly store: KeyStore;
  private readonly keyId: string;
  private readonly hmacKeyId: string;
  private readonly fixedIv: Buffer | undefined;

  constructor(options: AesProviderOptions) {
    if (!options || typeof options.keyStore?.getKey !== 'function') throw new CryptoError('AES256HMACSHA256Provider needs { keyStore, keyId, hmacKeyId }: a key store with getKey(name)');
    if (typeof options.keyId !== 'string' || options.keyId === '') throw new CryptoError('AES256HMACSHA256Provider needs keyId, the name of the AES key in the key store');
    if (typeof options.hmacKeyId !== 'string' || options.hmacKeyId === '') throw new CryptoError('AES256HMACSHA256Provider needs hmacKeyId, the name of the signing key in the key store');
    if (options.iv !== undefined && options.iv.length !== 16) throw new CryptoError(`an AES IV is 16 bytes, not ${options.iv.length}`);
    this.store = options.keyStore;
    this.keyId = options.keyId;
    this.hmacKeyId = options.hmacKeyId;
    this.fixedIv = options.iv;
  }

  private aesKey(): Buffer {
    const k = keyFrom(this.store, this.keyId, 'AES key');
    if (k.length !== 32) throw new CryptoKeyError(`AES-256 needs a 32-byte key; "${this.keyId}" has ${k.length} bytes`);
    return k;
  }

  generateIv(): Buffer {
    return this.fixedIv !== undefined ? Buffer.from(this.fixedIv) : randomBytes(16);
  }

  encrypt(input: Buffer, iv: Buffer): Buffer {
    const c = createCipheriv('aes-256-cbc', this.aesKey(), iv);
    return Buffer.concat([c.update(input), c.final()]);
  }

  decrypt(input: Buffer, iv: Buffer): Buffer {
    const d = createDecipheriv('aes-256-cbc', this.aesKey(), iv);
    return Buffer.concat([d.update(input), d.final()]);
  }

  getKeyId(): string {
    return this.keyId;
  }

  sign(inputs: Buffer[]): Buffer {
    const h = createHmac('sha256', keyFrom(this.store, this.hmacKeyId, 'signing key'));
    for (const i of inputs) h.update(i);
    return h.digest();
  }

  verifySignature(inputs: Buffer[], signature: Buffer): boolean {
    const expected = this.sign(inputs);
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
}

/** The provider's methods under either spelling. */
function methods(p: CryptoProvider | SnakeCaseProvider): Required<Pick<CryptoProvider, 'generateIv' | 'encrypt' | 'decrypt' | 'getKeyId'>> & Pick<CryptoProvider, 'sign' | 'verifySignature'> {
  const o = p as unknown as Record<string, ((...a: never[]) => unknown) | undefined>;
  const pick = (camel: string, snake: string): ((...a: unknown[]) => unknown) | undefined => {
    const f = (o[camel] ?? o[snake]) as ((...a: unknown[]) => unknown) | undefined;
    return typeof f === 'function' ? f.bind(p) : undefined;
  };
  const generateIv = pick('generateIv', 'generate_iv');
  const encrypt = o.encrypt;
  const decrypt = o.decrypt;
  const getKeyId = pick('getKeyId', 'get_key_id');
  if (!generateIv || typeof encrypt !== 'function' || typeof decrypt !== 'function' || !getKeyId) {
    throw new CryptoError('a crypto provider needs generateIv(), encrypt(input, iv), decrypt(input, iv) and getKeyId() (or their snake_case names)');
  }
  return {
    generateIv: generateIv as () => Buffer,
    encrypt: encrypt.bind(p) as CryptoProvider['encrypt'],
    decrypt: decrypt.bind(p) as CryptoProvider['decrypt'],
    getKeyId: getKeyId as () => string,
    sign: pick('sign', 'sign') as CryptoProvider['sign'],
    verifySignature: pick('verifySignature', 'verify_signature') as CryptoProvider['verifySignature'],
  };
}

type Provider = ReturnType<typeof methods>;

function asBuffer(v: unknown, what: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new CryptoExecutionError(`the crypto provider's ${what} returned ${typeof v}, not bytes`);
}

function checkSpecs(fieldspec: unknown, what: string): FieldSpec[] {
  if (!Array.isArray(fieldspec) || fieldspec.length === 0) throw new CryptoError(`${what}: fieldspec must be a non-empty array of { name, alg }`);
  for (const f of fieldspec as FieldSpec[]) {
    if (f === null || typeof f !== 'object' || typeof f.name !== 'string' || f.name === '' || typeof f.alg !== 'string' || f.alg === '') {
      throw new CryptoError(`${what}: each field spec is { name, alg } with non-empty strings, got ${JSON.stringify(f)}`);
    }
  }
  return fieldspec as FieldSpec[];
}

function checkDocument(document: unknown, what: string): Record<string, unknown> {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new CryptoError(`${what}: the document must be a JSON object`);
  return document as Record<string, unknown>;
}

function prefixOf(prefix: unknown): string {
  if (prefix === undefined || prefix === null) return DEFAULT_CRYPT_PREFIX;
  if (typeof prefix !== 'string' || prefix === '') throw new CryptoError('the encrypted-field prefix must be a non-empty string (default "__crypt_")');
  return prefix;
}

/** The registered providers of a Bucket, by algorithm name. */
export class CryptoProviders {
  private readonly byName = new Map<string, Provider>();

  register(name: string, provider: CryptoProvider): void {
    if (typeof name !== 'string' || name === '') throw new CryptoError('registerCryptoProvider(name, provider): name must be a non-empty string');
    if (provider === null || typeof provider !== 'object') throw new CryptoError('registerCryptoProvider(name, provider): provider must be an object');
    this.byName.set(name, methods(provider));
  }

  unregister(name: string): void {
    if (!this.byName.delete(name)) throw new CryptoProviderNotFoundError(`no crypto provider is registered as "${name}"`);
  }

  private get(name: string): Provider {
    const p = this.byName.get(name);
    if (p === undefined) throw new CryptoProviderNotFoundError(`no crypto provider is registered as "${name}"; call registerCryptoProvider("${name}", provider) first`);
    return p;
  }

  /** A copy of `document` with each spec'd field encrypted under `<prefix><name>`; fields absent (or null) are left alone, as libcouchbase does. */
  encryptFields(document: unknown, fieldspec: unknown, prefix?: string | null): Record<string, unknown> {
    const doc = { ...checkDocument(document, 'encryptFields') };
    const pre = prefixOf(prefix);
    for (const f of checkSpecs(fieldspec, 'encryptFields')) {
      const value = doc[f.name];
      if (value === undefined || value === null) continue;
      const p = this.get(f.alg);
      const kid = f.kid ?? p.getKeyId();
      const text = JSON.stringify(value);
      if (text === undefined) throw new CryptoError(`encryptFields: field "${f.name}" is not a JSON value`);
      const iv = asBuffer(p.generateIv(), 'generateIv()');
      let ciphertext: Buffer;
      try {
        ciphertext = asBuffer(p.encrypt(Buffer.from(text, 'utf8'), iv), 'encrypt()');
      } catch (err) {
        if (err instanceof CryptoError) throw err;
        throw new CryptoExecutionError(`encryptFields: field "${f.name}" could not be encrypted with "${f.alg}": ${(err as Error).message}`, { cause: err });
      }
      const enc: Record<string, string> = { alg: f.alg, kid, iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64') };
      if (p.sign) enc.sig = asBuffer(p.sign(signedParts(enc)), 'sign()').toString('base64');
      delete doc[f.name];
      doc[pre + f.name] = enc;
    }
    return doc;
  }

  /** A copy of `document` with each spec'd encrypted field verified, decrypted and back under its name. */
  decryptFields(document: unknown, fieldspec: unknown, prefix?: string | null): Record<string, unknown> {
    const doc = { ...checkDocument(document, 'decryptFields') };
    const pre = prefixOf(prefix);
    for (const f of checkSpecs(fieldspec, 'decryptFields')) {
      const enc = doc[pre + f.name] as Record<string, unknown> | undefined;
      if (enc === undefined || enc === null) continue;
      if (typeof enc !== 'object' || typeof enc.alg !== 'string' || typeof enc.iv !== 'string' || typeof enc.ciphertext !== 'string' || typeof enc.kid !== 'string') {
        throw new CryptoExecutionError(`decryptFields: "${pre + f.name}" is not an encrypted field ({ alg, kid, iv, ciphertext, sig })`);
      }
      if (enc.alg !== f.alg) throw new CryptoError(`decryptFields: "${pre + f.name}" was encrypted with "${enc.alg}", not "${f.alg}"`);
      const p = this.get(f.alg);
      if (p.verifySignature) {
        if (typeof enc.sig !== 'string') throw new CryptoSignatureError(`decryptFields: "${pre + f.name}" carries no signature, and "${f.alg}" signs its fields`);
        if (!p.verifySignature(signedParts(enc as Record<string, string>), Buffer.from(enc.sig, 'base64'))) {
          throw new CryptoSignatureError(`decryptFields: the signature of "${pre + f.name}" does not verify: the field was altered, or it was signed with another key`);
        }
      }
      let value: unknown;
      try {
        const plain = asBuffer(p.decrypt(Buffer.from(enc.ciphertext, 'base64'), Buffer.from(enc.iv, 'base64')), 'decrypt()');
        value = JSON.parse(plain.toString('utf8'));
      } catch (err) {
        if (err instanceof CryptoError) throw err;
        throw new CryptoExecutionError(`decryptFields: "${pre + f.name}" does not decrypt with "${f.alg}" (key "${enc.kid}"): ${(err as Error).message}`, { cause: err });
      }
      delete doc[pre + f.name];
      doc[f.name] = value;
    }
    return doc;
  }
}

/** What the signature covers, in order: kid, alg, iv, ciphertext. */
function signedParts(enc: Record<string, string>): Buffer[] {
  return [Buffer.from(enc.kid, 'utf8'), Buffer.from(enc.alg, 'utf8'), Buffer.from(enc.iv, 'utf8'), Buffer.from(enc.ciphertext, 'utf8')];
}
