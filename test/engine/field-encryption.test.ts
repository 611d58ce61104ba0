import { expect } from 'chai';
import {
  AES256HMACSHA256Provider,
  CryptoError,
  CryptoExecutionError,
  CryptoKeyError,
  CryptoProviderNotFoundError,
  CryptoProviders,
  CryptoSignatureError,
  InMemoryKeyStore,
} from '../../lib/engine/field-encryption';

// The cross-SDK vector the Couchbase SDKs 2.x test against (Java, .NET, Go, Python 2.5): the
// same keys, IV and plaintext give these bytes in every one of them.
const AES_KEY = '!mysecretkey#9^5usdk39d&dlf)03sL';
const HMAC_KEY = 'myauthpassword';
const IV = 'Cfq84/46Qjet3EEQ1HUwSg==';
const MESSAGE = 'The old grey goose jumped over the wrickety gate.';
const EXPECTED = {
  __crypt_message: {
    alg: 'AES-256-HMAC-SHA256',
    kid: 'mypublickey',
    iv: IV,
    ciphertext: 'sR6AFEIGWS5Fy9QObNOhbCgfg3vXH4NHVRK1qkhKLQqjkByg2n69lot89qFEJuBsVNTXR77PZR6RjN4h4M9evg==',
    sig: 'rT89aCj1WosYjWHHu0mf92S195vYnEGA/reDnYelQsM=',
  },
};
const SPEC = [{ name: 'message', alg: 'AES-256-HMAC-SHA256' }];

function setup(iv?: Buffer, aesKey = AES_KEY): { providers: CryptoProviders; store: InMemoryKeyStore } {
  const store = new InMemoryKeyStore();
  store.setKey('mypublickey', aesKey);
  store.set_key('myhmackey', HMAC_KEY);
  const providers = new CryptoProviders();
  providers.register('AES-256-HMAC-SHA256', new AES256HMACSHA256Provider({ keyStore: store, keyId: 'mypublickey', hmacKeyId: 'myhmackey', iv }));
  return { providers, store };
}

describe('field-level encryption (Python 2.5 encrypt_fields / decrypt_fields, the legacy AES-256-HMAC-SHA256 format)', () => {
  it('writes the cross-SDK vector byte for byte with its IV, and reads it back', () => {
    const { providers } = setup(Buffer.from(IV, 'base64'));
    const doc = { message: MESSAGE, plain: 1 };
    const enc = providers.encryptFields(doc, SPEC, '__crypt_');
    expect(enc).to.deep.equal({ ...EXPECTED, plain: 1 });
    expect(JSON.stringify(enc.__crypt_message)).to.equal(JSON.stringify(EXPECTED.__crypt_message));
    expect(doc).to.deep.equal({ message: MESSAGE, plain: 1 }, 'the document given is left alone');
    expect(providers.decryptFields(EXPECTED, SPEC)).to.deep.equal({ message: MESSAGE });
  });

  it('round-trips any JSON value with a fresh random IV per field, and the default prefix', () => {
    const { providers } = setup();
    const doc = { s: 'x', n: 42.5, a: [1, { b: null }], o: { deep: ['é', true] }, keep: 'clear', nul: null };
    const spec = ['s', 'n', 'a', 'o', 'nul', 'absent'].map((name) => ({ name, alg: 'AES-256-HMAC-SHA256' }));
    const enc = providers.encryptFields(doc, spec);
    expect(Object.keys(enc).sort()).to.deep.equal(['__crypt_a', '__crypt_n', '__crypt_o', '__crypt_s', 'keep', 'nul']);
    const ivs = new Set(['a', 'n', 'o', 's'].map((f) => (enc[`__crypt_${f}`] as { iv: string }).iv));
    expect(ivs.size).to.equal(4);
    expect(providers.decryptFields(enc, spec)).to.deep.equal(doc);
    const custom = providers.encryptFields(doc, spec.slice(0, 1), 'enc$');
    expect(custom).to.have.property('enc$s');
    expect(providers.decryptFields(custom, spec.slice(0, 1), 'enc$')).to.deep.equal(doc);
  });

  it('refuses a tampered field or a wrong signing key with CryptoSignatureError, and a wrong AES key with a typed error', () => {
    const { providers } = setup();
    const tampered = { __crypt_message: { ...EXPECTED.__crypt_message, ciphertext: EXPECTED.__crypt_message.ciphertext.replace(/^s/, 't') } };
    expect(() => providers.decryptFields(tampered, SPEC)).to.throw(CryptoSignatureError, /does not verify/);
    const noSig = { __crypt_message: { ...EXPECTED.__crypt_message, sig: undefined } };
    expect(() => providers.decryptFields(noSig, SPEC)).to.throw(CryptoSignatureError, /no signature/);

    const otherHmac = new InMemoryKeyStore();
    otherHmac.setKey('mypublickey', AES_KEY);
    otherHmac.setKey('myhmackey', 'another password');
    const p2 = new CryptoProviders();
    p2.register('AES-256-HMAC-SHA256', new AES256HMACSHA256Provider({ keyStore: otherHmac, keyId: 'mypublickey', hmacKeyId: 'myhmackey' }));
    expect(() => p2.decryptFields(EXPECTED, SPEC)).to.throw(CryptoSignatureError);

    // Same signing key, other AES key: the signature holds, the padding does not.
    const { providers: wrongAes } = setup(undefined, 'Z'.repeat(32));
    const err = (() => {
      try {
        wrongAes.decryptFields(EXPECTED, SPEC);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).to.be.instanceOf(CryptoError);
    expect(err).to.be.instanceOf(CryptoExecutionError);
  });

  it('says what is missing: an unregistered algorithm, a missing or short key, a malformed spec', () => {
    const { providers, store } = setup();
    expect(() => providers.encryptFields({ m: 1 }, [{ name: 'm', alg: 'RSA-2048-OAEP-SHA1' }])).to.throw(CryptoProviderNotFoundError, /registerCryptoProvider/);
    expect(() => providers.decryptFields(EXPECTED, [{ name: 'message', alg: 'other' }])).to.throw(CryptoError, /was encrypted with "AES-256-HMAC-SHA256"/);
    expect(() => providers.encryptFields({ m: 1 }, [])).to.throw(CryptoError, /non-empty array/);
    expect(() => providers.encryptFields([1], SPEC)).to.throw(CryptoError, /JSON object/);
    store.setKey('mypublickey', 'short');
    expect(() => providers.encryptFields({ message: 'x' }, SPEC)).to.throw(CryptoKeyError, /32-byte key/);
    const empty = new CryptoProviders();
    empty.register('AES-256-HMAC-SHA256', new AES256HMACSHA256Provider({ keyStore: new InMemoryKeyStore(), keyId: 'k', hmacKeyId: 'h' }));
    expect(() => empty.encryptFields({ message: 'x' }, SPEC)).to.throw(CryptoKeyError, /no AES key "k"/);
    providers.unregister('AES-256-HMAC-SHA256');
    expect(() => providers.decryptFields(EXPECTED, SPEC)).to.throw(CryptoProviderNotFoundError);
    expect(() => providers.unregister('AES-256-HMAC-SHA256')).to.throw(CryptoProviderNotFoundError);
  });

  it('takes a provider written with Python\'s snake_case method names', () => {
    const providers = new CryptoProviders();
    const xor = (b: Buffer): Buffer => Buffer.from(b.map((x) => x ^ 0x5a));
    providers.register('XOR', {
      generate_iv: () => Buffer.alloc(4, 1),
      get_key_id: () => 'xk',
      encrypt: (input: Buffer) => xor(input),
      decrypt: (input: Buffer) => xor(input),
    } as never);
    const enc = providers.encryptFields({ f: [1, 2] }, [{ name: 'f', alg: 'XOR' }]);
    expect(enc.__crypt_f).to.deep.equal({ alg: 'XOR', kid: 'xk', iv: 'AQEBAQ==', ciphertext: xor(Buffer.from('[1,2]')).toString('base64') });
    expect(providers.decryptFields(enc, [{ name: 'f', alg: 'XOR' }])).to.deep.equal({ f: [1, 2] });
  });
});
