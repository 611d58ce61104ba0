import { expect } from 'chai';
import { defaultTranscoder as tc, FMT_JSON, FMT_UTF8, FMT_BYTES, FMT_AUTO, FMT_PICKLE, FMT_LEGACY_MASK, FMT_COMMON_MASK, formatOfFlags, setJsonConverters } from '../../lib/engine/transcoder';
import * as E from '../../lib/engine/errors';
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

  // The values of couchbase/_libcouchbase (src/pycbc.h): common-flags byte | legacy bits.
  it('has exactly the Python SDK 2.x format values, legacy bits included', () => {
    expect(FMT_JSON).to.equal(0x02000000);
    expect(FMT_BYTES).to.equal(0x03000002);
    expect(FMT_UTF8).to.equal(0x04000004);
    expect(FMT_PICKLE).to.equal(0x01000001);
    expect(FMT_LEGACY_MASK).to.equal(0x07);
    expect(FMT_COMMON_MASK).to.equal(0xff000000);
  });

  it('writes strings as UTF-8 and bytes as bytes with the flags Python writes', () => {
    const u = tc.encode('k', 'héllo', FMT_UTF8);
    expect(u.flags).to.equal(0x04000004);
    expect(tc.decode('k', u.value, u.flags)).to.equal('héllo');
    const b = tc.encode('k', Buffer.from([1, 2, 3]), FMT_BYTES);
    expect(b.flags).to.equal(0x03000002);
    expect(tc.decode('k', b.value, b.flags)).to.deep.equal(Buffer.from([1, 2, 3]));
  });

  it('reads what a Python 2.x application wrote with its type, by common flags or legacy bits alone', () => {
    // couchbase 2.x writes FMT_UTF8 = 0x04000004; a 1.x client wrote the legacy 0x04 alone
    expect(tc.decode('k', Buffer.from('text'), 0x04000004)).to.equal('text');
    expect(tc.decode('k', Buffer.from('text'), 0x04)).to.equal('text');
    expect(tc.decode('k', Buffer.from([7]), 0x03000002)).to.deep.equal(Buffer.from([7]));
    expect(tc.decode('k', Buffer.from([7]), 0x02)).to.deep.equal(Buffer.from([7]));
    expect(tc.decode('k', Buffer.from('{"a":1}'), 0x02000000)).to.deep.equal({ a: 1 });
    // the common byte wins over the legacy bits
    expect(formatOfFlags(0x04000002)).to.equal(FMT_UTF8);
  });

  it('refuses FMT_PICKLE on write and reading a pickled document, saying what to do', () => {
    expect(() => tc.encode('k', { a: 1 }, FMT_PICKLE)).to.throw(ValueFormatError, /pickle.*FMT_JSON, FMT_UTF8 or FMT_BYTES/);
    expect(() => tc.decode('k', Buffer.from([0x80, 0x02]), 0x01000001)).to.throw(ValueFormatError, /pickle.*noFormat/);
    expect(() => tc.decode('k', Buffer.from([0x80, 0x02]), 0x01)).to.throw(ValueFormatError, /pickle/);
  });

  it('writes and reads JSON with the converters setJsonConverters() put in place, and gives back the old pair', () => {
    const tagged = (v: unknown): string => JSON.stringify({ tagged: v });
    const untag = (t: string): unknown => (JSON.parse(t) as { tagged: unknown }).tagged;
    const [oldEncode, oldDecode] = setJsonConverters(tagged, untag);
    try {
      expect(oldEncode).to.equal(JSON.stringify);
      expect(oldDecode).to.equal(JSON.parse);
      const e = tc.encode('k', [1], FMT_JSON);
      expect(e.value.toString()).to.equal('{"tagged":[1]}');
      expect(tc.decode('k', e.value, FMT_JSON)).to.deep.equal([1]);
    } finally {
      setJsonConverters(oldEncode, oldDecode);
    }
    expect(tc.encode('k', [1], FMT_JSON).value.toString()).to.equal('[1]');
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

  // couchbase/exceptions.py: each class raised for an rc is also an instance of the category
  // bases libcouchbase's error table gives that rc.
  it('makes every error catchable by its Python category bases', () => {
    expect(new NotFoundError('x')).to.be.instanceOf(E.CouchbaseDataError).and.not.instanceOf(E.CouchbaseTransientError);
    expect(new KeyExistsError('x')).to.be.instanceOf(E.CouchbaseDataError);
    expect(new TemporaryFailError('x')).to.be.instanceOf(E.CouchbaseTransientError);
    expect(new E.TimeoutError('x')).to.be.instanceOf(E.CouchbaseNetworkError).and.instanceOf(E.CouchbaseTransientError);
    expect(new E.NetworkError('x')).to.be.instanceOf(E.CouchbaseNetworkError);
    expect(new E.ConnectError('x')).to.be.instanceOf(E.CouchbaseNetworkError);
    expect(new E.UnknownHostError('x')).to.be.instanceOf(E.CouchbaseNetworkError).and.instanceOf(E.CouchbaseInputError);
    expect(new AuthError('x')).to.be.instanceOf(E.CouchbaseFatalError).and.instanceOf(E.CouchbaseInputError);
    expect(new BucketNotFoundError('x')).to.be.instanceOf(E.CouchbaseFatalError);
    expect(new E.SubdocPathNotFoundError('x')).to.be.instanceOf(E.CouchbaseDataError);
    expect(new E.SubdocPathInvalidError('x')).to.be.instanceOf(E.CouchbaseInputError);
    expect(new E.NotMyVbucketError('x')).to.be.instanceOf(E.CouchbaseNetworkError).and.instanceOf(E.CouchbaseTransientError);
    expect(new E.InternalError('x')).to.be.instanceOf(E.CouchbaseInternalError);
    // a code Python has no class for: a plain CouchbaseError, still caught by its categories
    const refused = new CouchbaseError('x', { rc: ErrorCode.ECONNREFUSED });
    expect(refused).to.be.instanceOf(E.CouchbaseNetworkError).and.instanceOf(E.CouchbaseTransientError).and.not.instanceOf(E.CouchbaseDataError);
    expect(refused.isNetwork && refused.isTransient && !refused.isFatal).to.equal(true);
    // not an error at all
    expect(new Error('x')).to.not.be.instanceOf(E.CouchbaseNetworkError);
    expect({ rc: ErrorCode.ETIMEDOUT }).to.not.be.instanceOf(E.CouchbaseNetworkError);
  });

  it('maps rc codes to the classes Python raises for them, with their CODE', () => {
    const cases: Array<[number, new (m: string) => CouchbaseError]> = [
      [ErrorCode.KEY_ENOENT, NotFoundError],
      [ErrorCode.KEY_EEXISTS, KeyExistsError],
      [ErrorCode.ETMPFAIL, TemporaryFailError],
      [ErrorCode.NOT_MY_VBUCKET, E.NotMyVbucketError],
      [ErrorCode.UNKNOWN_HOST, E.UnknownHostError],
      [ErrorCode.DURABILITY_ETOOMANY, E.ArgumentError],
      [ErrorCode.SUBDOC_PATH_ENOENT, E.SubdocPathNotFoundError],
      [ErrorCode.SUBDOC_PATH_EEXISTS, E.SubdocPathExistsError],
      [ErrorCode.SUBDOC_MULTI_FAILURE, E.SubdocMultipleErrors],
      [ErrorCode.EMPTY_PATH, E.SubdocEmptyPathError],
      [ErrorCode.HTTP_ERROR, E.HTTPError],
    ];
    for (const [rc, cls] of cases) {
      expect(CouchbaseError.rcToExctype(rc), `rc 0x${rc.toString(16)}`).to.equal(cls);
      expect(E.errorForRc(rc, 'm')).to.be.instanceOf(cls);
    }
    expect(CouchbaseError.rcToExctype(ErrorCode.ECONNREFUSED)).to.equal(CouchbaseError);
    expect(NotFoundError.CODE).to.equal(0x0d);
    expect(E.SubdocMultipleErrors.CODE).to.equal(0x49);
    expect(E.SubdocPathNotFoundError.CODE).to.equal(0x3f);
    // Python's subclasses where deferbase had them already: a superset of what Python catches
    expect(new ValueFormatError('x')).to.be.instanceOf(E.ArgumentError);
    expect(new E.ConnectError('x')).to.be.instanceOf(E.NetworkError).and.instanceOf(E.CouchbaseNetworkError);
    expect(new E.QueueEmpty()).to.be.instanceOf(Error).and.not.instanceOf(CouchbaseError);
  });

  it('maps sub-document statuses to the sub-document classes', () => {
    expect(errorForStatus(Status.SUBDOC_PATH_ENOENT, 'k')).to.be.instanceOf(E.SubdocPathNotFoundError);
    expect(errorForStatus(Status.SUBDOC_PATH_MISMATCH, 'k')).to.be.instanceOf(E.SubdocPathMismatchError);
    expect(errorForStatus(Status.SUBDOC_PATH_EEXISTS, 'k')).to.be.instanceOf(E.SubdocPathExistsError);
    expect(errorForStatus(Status.SUBDOC_DOC_NOT_JSON, 'k')).to.be.instanceOf(E.DocumentNotJsonError);
    expect(errorForStatus(Status.SUBDOC_VALUE_CANTINSERT, 'k')).to.be.instanceOf(E.SubdocCantInsertValueError);
    expect(errorForStatus(Status.SUBDOC_DELTA_EINVAL, 'k')).to.be.instanceOf(E.SubdocBadDeltaError);
    expect(errorForStatus(Status.SUBDOC_NUM_ERANGE, 'k')).to.be.instanceOf(E.SubdocNumberTooBigError);
    expect(errorForStatus(Status.SUBDOC_DOC_E2DEEP, 'k')).to.be.instanceOf(E.DocumentTooDeepError);
    expect(errorForStatus(Status.SUBDOC_VALUE_ETOODEEP, 'k')).to.be.instanceOf(E.SubdocValueTooDeepError);
    expect(errorForStatus(Status.SUBDOC_PATH_EINVAL, 'k')).to.be.instanceOf(E.SubdocPathInvalidError);
    expect(errorForStatus(Status.NOT_MY_VBUCKET, 'k')).to.be.instanceOf(E.NotMyVbucketError);
  });

  it('splits a multi operation\'s results into [ok, failed]', () => {
    const err = new NotFoundError('x');
    err.allResults = new Map([
      ['a', { key: 'a', success: true }],
      ['b', { key: 'b', success: false }],
    ]);
    const [ok, failed] = E.splitResults(err);
    expect([...ok.keys()]).to.deep.equal(['a']);
    expect([...failed.keys()]).to.deep.equal(['b']);
    expect(err.splitResults()[1].get('b')).to.deep.equal({ key: 'b', success: false });
    expect(E.splitResults(new Error('no results'))).to.deep.equal([new Map(), new Map()]);
  });
});
