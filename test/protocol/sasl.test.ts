import { expect } from 'chai';
import * as crypto from 'node:crypto';
import {
  encodePlain,
  decodePlain,
  ScramClient,
  ScramServer,
  SaslError,
  ScramMechanism,
  escapeScramUsername,
  unescapeScramUsername,
  isScramMechanism,
  scramCredentials,
} from '../../lib/protocol';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(SaslError);
    return (err as SaslError).code;
  }
  throw new Error('expected a SaslError');
}

// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256) example exchanges.
const RFC5802 = {
  cnonce: 'fyko+d2lbbFgONRv9qkxdawL',
  snonce: '3rfcNHYJY1ZVvWVs7j',
  salt: 'QSXCR+Q6sek8bf92',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};
const RFC7677 = {
  cnonce: 'rOprNGfwEbeRWgbNEkqO',
  snonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const pencil = (u: string) => (u === 'user' ? 'pencil' : undefined);

describe('protocol: SASL', () => {
  describe('PLAIN', () => {
    it('encodes authzid NUL user NUL password', () => {
      expect(encodePlain('alice', 's3cret').toString('hex')).to.equal(Buffer.from('\0alice\0s3cret').toString('hex'));
      expect(encodePlain('alice', 'pw', 'admin').toString()).to.equal('admin\0alice\0pw');
    });

    it('decodes it back, UTF-8 included', () => {
      expect(decodePlain(encodePlain('jürgen', 'pässwörd'))).to.deep.equal({ authzid: '', username: 'jürgen', password: 'pässwörd' });
      expect(decodePlain(Buffer.from('z\0u\0'))).to.deep.equal({ authzid: 'z', username: 'u', password: '' });
    });

    it('rejects messages without exactly two NULs', () => {
      expect(codeOf(() => decodePlain(Buffer.from('user:pass')))).to.equal('invalid-encoding');
      expect(codeOf(() => decodePlain(Buffer.from('\0user')))).to.equal('invalid-encoding');
      expect(codeOf(() => decodePlain(Buffer.from('\0u\0p\0')))).to.equal('invalid-encoding');
    });
  });

  describe('SCRAM client', () => {
    for (const [mech, v] of [['SCRAM-SHA1', RFC5802], ['SCRAM-SHA256', RFC7677]] as const) {
      it(`produces the RFC test vector messages for ${mech} byte for byte`, () => {
        const c = new ScramClient(mech, 'user', 'pencil', v.cnonce);
        expect(c.clientFirst()).to.equal(v.clientFirst);
        expect(c.clientFinal(v.serverFirst)).to.equal(v.clientFinal);
        expect(() => c.verifyServerFinal(v.serverFinal)).to.not.throw();
      });
    }

    it('rejects a forged server signature', () => {
      const c = new ScramClient('SCRAM-SHA1', 'user', 'pencil', RFC5802.cnonce);
      c.clientFirst();
      c.clientFinal(RFC5802.serverFirst);
      expect(codeOf(() => c.verifyServerFinal('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA='))).to.equal('invalid-server-signature');
      expect(codeOf(() => c.verifyServerFinal('e=invalid-proof'))).to.equal('other-error');
    });

    it('rejects a server nonce that does not extend its own, and bad server-first messages', () => {
      const mk = () => {
        const c = new ScramClient('SCRAM-SHA1', 'user', 'pencil', 'abc');
        c.clientFirst();
        return c;
      };
      expect(codeOf(() => mk().clientFinal('r=xyz123,s=QSXCR+Q6sek8bf92,i=4096'))).to.equal('invalid-nonce');
      expect(codeOf(() => mk().clientFinal('r=abc,s=QSXCR+Q6sek8bf92,i=4096'))).to.equal('invalid-nonce');
      expect(codeOf(() => mk().clientFinal('r=abcd,s=QSXCR+Q6sek8bf92'))).to.equal('invalid-encoding');
      expect(codeOf(() => mk().clientFinal('r=abcd,s=QSXCR+Q6sek8bf92,i=0'))).to.equal('invalid-encoding');
      expect(codeOf(() => mk().clientFinal('r=abcd,s=not base64!,i=1'))).to.equal('invalid-encoding');
      expect(codeOf(() => mk().clientFinal('m=ext,r=abcd,s=QSXCR+Q6sek8bf92,i=1'))).to.equal('extensions-not-supported');
      expect(codeOf(() => mk().clientFinal('r=abcd,s=QSXCR+Q6sek8bf92,i=1,x=1'))).to.equal('invalid-encoding');
    });

    it('refuses steps out of order', () => {
      const c = new ScramClient('SCRAM-SHA256', 'u', 'p');
      expect(codeOf(() => c.clientFinal(RFC7677.serverFirst))).to.equal('out-of-order');
      expect(codeOf(() => c.verifyServerFinal(RFC7677.serverFinal))).to.equal('out-of-order');
    });

    it('generates a fresh printable nonce by default', () => {
      const a = new ScramClient('SCRAM-SHA512', 'u', 'p').clientFirst();
      const b = new ScramClient('SCRAM-SHA512', 'u', 'p').clientFirst();
      expect(a).to.match(/^n,,n=u,r=[\x21-\x2b\x2d-\x7e]{16,}$/);
      expect(a).to.not.equal(b);
    });
  });

  describe('SCRAM server', () => {
    for (const [mech, v] of [['SCRAM-SHA1', RFC5802], ['SCRAM-SHA256', RFC7677]] as const) {
      it(`answers the RFC test vector exchange for ${mech} byte for byte`, () => {
        const s = new ScramServer(mech, pencil, { nonce: v.snonce, salt: Buffer.from(v.salt, 'base64'), iterations: 4096 });
        expect(s.serverFirst(v.clientFirst)).to.equal(v.serverFirst);
        expect(s.username).to.equal('user');
        expect(s.serverFinal(v.clientFinal)).to.equal(v.serverFinal);
      });
    }

    it('rejects a proof made with the wrong password', () => {
      const s = new ScramServer('SCRAM-SHA1', pencil, { nonce: RFC5802.snonce, salt: Buffer.from(RFC5802.salt, 'base64') });
      s.serverFirst(RFC5802.clientFirst);
      const c = new ScramClient('SCRAM-SHA1', 'user', 'pencil2', RFC5802.cnonce);
      c.clientFirst();
      expect(codeOf(() => s.serverFinal(c.clientFinal(RFC5802.serverFirst)))).to.equal('invalid-proof');
    });

    it('challenges an unknown user like a known one, then fails the proof', () => {
      const s = new ScramServer('SCRAM-SHA256', pencil, { nonce: 'srv' });
      const c = new ScramClient('SCRAM-SHA256', 'mallory', 'guess', 'cli');
      const first = s.serverFirst(c.clientFirst());
      expect(first).to.match(/^r=clisrv,s=[A-Za-z0-9+/=]+,i=4096$/);
      expect(codeOf(() => s.serverFinal(c.clientFinal(first)))).to.equal('unknown-user');
      // and the salt is stable for that name, as it would be for a stored user
      const again = new ScramServer('SCRAM-SHA256', pencil, { nonce: 'srv' }).serverFirst('n,,n=mallory,r=cli');
      expect(again).to.equal(first);
    });

    it('rejects a tampered nonce or channel-binding attribute', () => {
      const mk = () => {
        const s = new ScramServer('SCRAM-SHA1', pencil, { nonce: RFC5802.snonce, salt: Buffer.from(RFC5802.salt, 'base64') });
        s.serverFirst(RFC5802.clientFirst);
        return s;
      };
      expect(codeOf(() => mk().serverFinal(RFC5802.clientFinal.replace('3rfc', '3rfd')))).to.equal('invalid-nonce');
      expect(codeOf(() => mk().serverFinal(RFC5802.clientFinal.replace('c=biws', 'c=eSws')))).to.equal('invalid-encoding');
      expect(codeOf(() => mk().serverFinal('c=biws,r=x'))).to.equal('invalid-encoding');
    });

    it('rejects malformed client-first messages and channel binding', () => {
      const s = () => new ScramServer('SCRAM-SHA1', pencil);
      expect(codeOf(() => s().serverFirst('n=user,r=abc'))).to.equal('invalid-encoding');
      expect(codeOf(() => s().serverFirst('p=tls-unique,,n=user,r=abc'))).to.equal('channel-binding-not-supported');
      expect(codeOf(() => s().serverFirst('n,,r=abc,n=user'))).to.equal('invalid-encoding');
      expect(codeOf(() => s().serverFirst('n,,n=us=er,r=abc'))).to.equal('invalid-username-encoding');
      expect(codeOf(() => s().serverFirst('n,,m=x,n=user,r=abc'))).to.equal('extensions-not-supported');
      expect(codeOf(() => s().serverFinal('c=biws,r=abc,p=AAAA'))).to.equal('out-of-order');
      expect(codeOf(() => s().username)).to.equal('out-of-order');
    });

    it('refuses an unknown mechanism', () => {
      expect(codeOf(() => new ScramServer('SCRAM-MD5' as ScramMechanism, pencil))).to.equal('unsupported-mechanism');
      expect(isScramMechanism('SCRAM-SHA512')).to.equal(true);
      expect(isScramMechanism('PLAIN')).to.equal(false);
    });
  });

  describe('client <-> server', () => {
    for (const mech of ['SCRAM-SHA1', 'SCRAM-SHA256', 'SCRAM-SHA512'] as const) {
      it(`completes a ${mech} exchange and both sides verify each other`, () => {
        const users: Record<string, string> = { 'we,ird=name': 'pässword' };
        const s = new ScramServer(mech, (u) => users[u], { iterations: 64 });
        const c = new ScramClient(mech, 'we,ird=name', 'pässword');
        const first = c.clientFirst();
        expect(first).to.contain('n=we=2Cird=3Dname,');
        const final = s.serverFinal(c.clientFinal(s.serverFirst(first)));
        expect(s.username).to.equal('we,ird=name');
        expect(() => c.verifyServerFinal(final)).to.not.throw();
      });
    }

    it('SCRAM-SHA512 matches an independent computation for fixed inputs', () => {
      // Recompute RFC 5802's formulas directly with node:crypto for a fixed exchange.
      const salt = Buffer.from('0123456789abcdef');
      const c = new ScramClient('SCRAM-SHA512', 'user', 'pencil', 'clientnonce');
      const s = new ScramServer('SCRAM-SHA512', pencil, { nonce: 'servernonce', salt, iterations: 4096 });
      const clientFirst = c.clientFirst();
      const serverFirst = s.serverFirst(clientFirst);
      expect(serverFirst).to.equal(`r=clientnonceservernonce,s=${salt.toString('base64')},i=4096`);
      const clientFinal = c.clientFinal(serverFirst);

      const salted = crypto.pbkdf2Sync('pencil', salt, 4096, 64, 'sha512');
      const clientKey = crypto.createHmac('sha512', salted).update('Client Key').digest();
      const storedKey = crypto.createHash('sha512').update(clientKey).digest();
      const authMessage = `n=user,r=clientnonce,${serverFirst},c=biws,r=clientnonceservernonce`;
      const sig = crypto.createHmac('sha512', storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
      expect(clientFinal).to.equal(`c=biws,r=clientnonceservernonce,p=${proof.toString('base64')}`);
      const serverKey = crypto.createHmac('sha512', salted).update('Server Key').digest();
      const serverSig = crypto.createHmac('sha512', serverKey).update(authMessage).digest();
      expect(s.serverFinal(clientFinal)).to.equal(`v=${serverSig.toString('base64')}`);
    });

    it('the server accepts a client nonce with spaces, as couchbase-cxx-client 1.3 sends', () => {
      const sloppyNonce = 'a b c d e f g h';
      const s = new ScramServer('SCRAM-SHA256', pencil);
      const serverFirst = s.serverFirst(`n,,n=user,r=${sloppyNonce}`);
      expect(serverFirst.startsWith(`r=${sloppyNonce}`)).to.equal(true);
      expect(codeOf(() => new ScramServer('SCRAM-SHA256', pencil).serverFirst('n,,n=user,r=has\x01control'))).to.equal('invalid-nonce');
    });

    it('the server can verify from stored credentials instead of the password', () => {
      const salt = Buffer.from('fixed-salt-bytes');
      const stored = scramCredentials('SCRAM-SHA512', 'pencil', salt, 4096);
      const c = new ScramClient('SCRAM-SHA512', 'user', 'pencil');
      const s = new ScramServer('SCRAM-SHA512', (u) => (u === 'user' ? stored : undefined));
      const serverFirst = s.serverFirst(c.clientFirst());
      expect(serverFirst).to.contain(`,s=${salt.toString('base64')},i=4096`);
      c.verifyServerFinal(s.serverFinal(c.clientFinal(serverFirst)));
      const wrong = new ScramClient('SCRAM-SHA512', 'user', 'crayon');
      const s2 = new ScramServer('SCRAM-SHA512', (u) => (u === 'user' ? stored : undefined));
      const first2 = s2.serverFirst(wrong.clientFirst());
      expect(codeOf(() => s2.serverFinal(wrong.clientFinal(first2)))).to.equal('invalid-proof');
    });

    it('escapes and unescapes user names per RFC 5802', () => {
      expect(escapeScramUsername('a,b=c')).to.equal('a=2Cb=3Dc');
      expect(unescapeScramUsername('a=2Cb=3Dc')).to.equal('a,b=c');
      expect(codeOf(() => unescapeScramUsername('a=2Xb'))).to.equal('invalid-username-encoding');
    });
  });
});
