import { expect } from 'chai';
import { defaultTranscoder as tc, FMT_JSON, FMT_UTF8, FMT_BYTES, FMT_AUTO, formatOfFlags } from '../../lib/engine/transcoder';
import { ValueFormatError, errorForStatus, NotFoundError, KeyExistsError, LockedError, TemporaryFailError, TooBigError, CouchbaseError, ErrorCode, parseXerror, AuthError, BucketNotFoundError } from '../../lib/engine/errors';
import { Status } from '../../lib/protocol/status';

describe('engine transcoding', () => {
  it('writes JSON with the common JSON flag and the JSON datatype', () => {
    const e = tc.encode('k', { a: [1, 'x'] }, FMT_JSON);
    expect(e.flags).to.equal(0x02000000);
    expect(e.datatype).to.equal(1);
    expect(e.value.toString()).to.equal('{"a":[1,"x"]}');
    expect(tc.decode('k', e.value, e.flags)).to.deep.equal({ a: [1, 'x'] });
  });

  it('writes strings as UTF-8 and bytes as bytes with their common flags', () => {
    const u = tc.encode('k', 'héllo', FMT_UTF8);
    expect(u.flags).to.equal(0x04000000);
    expect(tc.decode('k', u.value, u.flags)).to.equal('héllo');
    const b = tc.encode('k', Buffer.from([1, 2, 3]), FMT_BYTES);
    expect(b.flags).to.equal(0x03000000);
    expect(tc.decode('k', b.value, b.flags)).to.deep.equal(Buffer.from([1, 2, 3]));
  });

  it('picks the format from the value type with FMT_AUTO', () => {
    expect(tc.encode('k', Buffer.from('x'), FMT_AUTO).flags).to.equal(FMT_BYTES);
    expect(tc.encode('k', 'x', FMT_AUTO).flags).to.equal(FMT_UTF8);
    expect(tc.encode('k', { x: 1 }, FMT_AUTO).flags).to.equal(FMT_JSON);
    expect(tc.encode('k', new Uint8Array([9]), FMT_AUTO).value).to.deep.equal(Buffer.from([9]));
  });

  it('refuses values that cannot be written in the chosen format', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => tc.encode('k', circular, FMT_JSON)).to.throw(ValueFormatError, /cannot be encoded as JSON/);
    expect(() => tc.encode('k', 10n, FMT_JSON)).to.throw(ValueFormatError);
    expect(() => tc.encode('k', undefined, FMT_JSON)).to.throw(ValueFormatError);
    expect(() => tc.encode('k', () => 1, FMT_JSON)).to.throw(ValueFormatError);
    expect(() => tc.encode('k', 42, FMT_UTF8)).to.throw(ValueFormatError, /FMT_UTF8 needs a string/);
    expect(() => tc.encode('k', 'text', FMT_BYTES)).to.throw(ValueFormatError, /FMT_BYTES needs a Buffer/);
    expect(() => tc.encode('k', 'x', 0x7)).to.throw(ValueFormatError, /unknown format/);
  });

  it('reads legacy flags (0 = JSON, 2 = bytes, 4 = UTF-8)', () => {
    expect(formatOfFlags(0)).to.equal(FMT_JSON);
    expect(formatOfFlags(2)).to.equal(FMT_BYTES);
    expect(formatOfFlags(4)).to.equal(FMT_UTF8);
    expect(tc.decode('k', Buffer.from('[1]'), 0)).to.deep.equal([1]);
    // other clients store plain strings with flags 0: keep them readable
    expect(tc.decode('k', Buffer.from('plain'), 0)).to.equal('plain');
  });

  it('reports a JSON-flagged value that is not JSON', () => {
    expect(() => tc.decode('k', Buffer.from('{oops'), FMT_JSON)).to.throw(ValueFormatError, /does not parse as JSON/);
  });
});

describe('engine errors', () => {
  it('maps memcached statuses to the Python SDK 2.x classes with libcouchbase rc codes', () => {
    const nf = errorForStatus(Status.KEY_ENOENT, 'doc');
    expect(nf).to.be.instanceOf(NotFoundError).and.instanceOf(CouchbaseError);
    expect(nf.rc).to.equal(ErrorCode.KEY_ENOENT);
    expect(nf.key).to.equal('doc');
    expect(nf.status).to.equal(1);
    expect(nf.message).to.match(/does not exist.*"doc"/);
    expect(errorForStatus(Status.KEY_EEXISTS, 'k')).to.be.instanceOf(KeyExistsError);
    expect(errorForStatus(Status.E2BIG, 'k')).to.be.instanceOf(TooBigError);
    expect(errorForStatus(Status.AUTH_ERROR, undefined)).to.be.instanceOf(AuthError);
    expect(errorForStatus(Status.NO_BUCKET, undefined)).to.be.instanceOf(BucketNotFoundError);
    const locked = errorForStatus(Status.LOCKED, 'k');
    expect(locked).to.be.instanceOf(LockedError).and.instanceOf(TemporaryFailError);
    expect(errorForStatus(0x77, 'k').rc).to.equal(ErrorCode.UNKNOWN_MEMCACHED_ERROR);
  });

  it('carries the XERROR context and ref', () => {
    const x = parseXerror(Buffer.from('{"error":{"context":"Requested resource is locked","ref":"abc"}}'));
    expect(x).to.deep.equal({ context: 'Requested resource is locked', ref: 'abc' });
    const e = errorForStatus(Status.LOCKED, 'k', x.context, x.ref);
    expect(e.context).to.equal('Requested resource is locked');
    expect(e.ref).to.equal('abc');
    expect(e.message).to.include('Requested resource is locked');
    expect(parseXerror(Buffer.from('Not found'))).to.deep.equal({});
  });

  it('names the class after the error', () => {
    expect(new NotFoundError('x').name).to.equal('NotFoundError');
    expect(new NotFoundError('x').isData).to.equal(true);
    expect(new TemporaryFailError('x').isTransient).to.equal(true);
  });
});
