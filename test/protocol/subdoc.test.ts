import { expect } from 'chai';
import {
  Opcode,
  Status,
  SubdocPathFlag,
  SubdocDocFlag,
  encodeSubdocSingleExtras,
  decodeSubdocSingleExtras,
  encodeSubdocMutationExtras,
  decodeSubdocMutationExtras,
  decodeSubdocLookupExtras,
  encodeLookupSpecs,
  decodeLookupSpecs,
  encodeLookupResults,
  lookupResultParts,
  decodeLookupResults,
  encodeMutationSpecs,
  decodeMutationSpecs,
  encodeMutationResults,
  encodeMutationFailure,
  decodeMutationResults,
  ProtocolError,
} from '../../lib/protocol';
import { hex, reasonOf } from './helpers';

describe('protocol: sub-document layouts', () => {
  it('single-path extras: path length(2) flags(1) [expiry(4)] [doc flags(1)]', () => {
    const cases: Array<[Parameters<typeof encodeSubdocSingleExtras>[0], string]> = [
      [{ pathLength: 3, pathFlags: 0 }, '000300'],
      [{ pathLength: 3, pathFlags: SubdocPathFlag.XATTR, docFlags: SubdocDocFlag.ACCESS_DELETED }, '00030404'],
      [{ pathLength: 0x102, pathFlags: SubdocPathFlag.MKDIR_P, expiry: 60 }, '0102010000003c'],
      [{ pathLength: 1, pathFlags: 0x11, expiry: 1, docFlags: SubdocDocFlag.MKDOC }, '0001110000000101'],
    ];
    for (const [e, bytes] of cases) {
      expect(encodeSubdocSingleExtras(e).toString('hex')).to.equal(bytes);
      expect(decodeSubdocSingleExtras(hex(bytes))).to.deep.equal(e);
    }
    expect(reasonOf(() => decodeSubdocSingleExtras(hex('0003')))).to.equal('bad_extras');
  });

  it('multi-mutation extras: [expiry(4) [flags(4)]] [doc flags(1)] in all six lengths', () => {
    const cases: Array<[Parameters<typeof encodeSubdocMutationExtras>[0], string]> = [
      [{}, ''],
      [{ docFlags: 2 }, '02'],
      [{ expiry: 10 }, '0000000a'],
      [{ expiry: 10, docFlags: 1 }, '0000000a01'],
      [{ expiry: 10, flags: 0x02000000 }, '0000000a02000000'],
      [{ expiry: 10, flags: 0x02000000, docFlags: 1 }, '0000000a0200000001'],
    ];
    for (const [e, bytes] of cases) {
      expect(encodeSubdocMutationExtras(e).toString('hex')).to.equal(bytes);
      expect(decodeSubdocMutationExtras(hex(bytes))).to.deep.equal(e);
    }
    expect(() => encodeSubdocMutationExtras({ flags: 1 })).to.throw(ProtocolError);
    expect(reasonOf(() => decodeSubdocMutationExtras(hex('000000')))).to.equal('bad_extras');
    expect(decodeSubdocLookupExtras(hex('04'))).to.deep.equal({ docFlags: 4 });
    expect(reasonOf(() => decodeSubdocLookupExtras(hex('0404')))).to.equal('bad_extras');
  });

  it('lookup specs and results, byte for byte', () => {
    const specs = [
      { opcode: Opcode.SUBDOC_GET, flags: SubdocPathFlag.XATTR, path: '$document.exptime' },
      { opcode: Opcode.GET, flags: 0, path: '' },
      { opcode: Opcode.SUBDOC_EXISTS, flags: 0, path: 'a.b' },
    ];
    const bytes =
      'c5 04 0011 ' + Buffer.from('$document.exptime').toString('hex') + ' | 00 00 0000 | c6 00 0003 612e62';
    expect(encodeLookupSpecs(specs).toString('hex')).to.equal(hex(bytes).toString('hex'));
    expect(decodeLookupSpecs(hex(bytes)).map((s) => ({ ...s, path: s.path.toString() }))).to.deep.equal(specs);
    expect(reasonOf(() => decodeLookupSpecs(hex('c5 00 0005 6162')))).to.equal('bad_lengths');

    const results = [
      { status: Status.SUCCESS, value: '42' },
      { status: Status.SUBDOC_PATH_ENOENT, value: '' },
    ];
    const rbytes = '0000 00000002 3432 | 00c0 00000000';
    expect(encodeLookupResults(results).toString('hex')).to.equal(hex(rbytes).toString('hex'));
    const value = Buffer.from('42');
    const parts = lookupResultParts([{ status: 0, value }, { status: Status.SUBDOC_PATH_ENOENT, value: Buffer.alloc(0) }]);
    expect(Buffer.concat(parts).toString('hex')).to.equal(hex(rbytes).toString('hex'));
    expect(parts[1]).to.equal(value); // by reference
    expect(decodeLookupResults(hex(rbytes)).map((r) => ({ status: r.status, value: r.value.toString() }))).to.deep.equal(results);
    expect(reasonOf(() => decodeLookupResults(hex('0000 00000005 34')))).to.equal('bad_lengths');
  });

  it('mutation specs and results, byte for byte', () => {
    const specs = [
      { opcode: Opcode.SUBDOC_DICT_UPSERT, flags: SubdocPathFlag.MKDIR_P, path: 'a', value: '1' },
      { opcode: Opcode.SUBDOC_COUNTER, flags: 0, path: 'n', value: '5' },
      { opcode: Opcode.SUBDOC_DELETE, flags: 0, path: 'x', value: '' },
    ];
    const bytes = 'c8 01 0001 00000001 61 31 | cf 00 0001 00000001 6e 35 | c9 00 0001 00000000 78';
    expect(encodeMutationSpecs(specs).toString('hex')).to.equal(hex(bytes).toString('hex'));
    expect(
      decodeMutationSpecs(hex(bytes)).map((s) => ({ ...s, path: s.path.toString(), value: s.value.toString() })),
    ).to.deep.equal(specs);
    expect(reasonOf(() => decodeMutationSpecs(hex('c8 01 0001 00000009 61 31')))).to.equal('bad_lengths');

    // success: only specs that return a value (the counter, index 1)
    const ok = encodeMutationResults([{ index: 1, value: '15' }]);
    expect(ok.toString('hex')).to.equal('010000000000023135');
    expect(decodeMutationResults(ok, Status.SUCCESS).map((r) => ({ ...r, value: r.value!.toString() }))).to.deep.equal([
      { index: 1, status: 0, value: '15' },
    ]);
    // failure: one index + status entry, no value
    const failed = encodeMutationFailure(2, Status.SUBDOC_PATH_ENOENT);
    expect(failed.toString('hex')).to.equal('0200c0');
    expect(decodeMutationResults(failed, Status.SUBDOC_MULTI_PATH_FAILURE)).to.deep.equal([{ index: 2, status: 0xc0 }]);
    expect(reasonOf(() => decodeMutationResults(hex('0200'), Status.SUBDOC_MULTI_PATH_FAILURE))).to.equal('bad_lengths');
  });
});
