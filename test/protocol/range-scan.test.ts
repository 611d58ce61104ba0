import { expect } from 'chai';
import {
  ProtocolError,
  RANGE_SCAN_CONTINUE_EXTRAS_BYTES,
  SCAN_DOCUMENT_META_BYTES,
  decodeRangeScanContinueExtras,
  decodeScanDocuments,
  decodeScanKeys,
  encodeRangeScanContinueExtras,
  encodeRangeScanCreate,
  scanDocumentBytes,
  scanKeyBytes,
  writeScanDocument,
  writeScanKey,
  extrasLayoutOf,
  Layout,
  Opcode,
  Status,
  statusName,
} from '../../lib/protocol';

const ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('protocol: range scans', () => {
  it('knows the opcodes, the statuses and the extras layouts', () => {
    expect([Opcode.RANGE_SCAN_CREATE, Opcode.RANGE_SCAN_CONTINUE, Opcode.RANGE_SCAN_CANCEL]).to.deep.equal([0xda, 0xdb, 0xdc]);
    expect([Status.RANGE_SCAN_CANCELLED, Status.RANGE_SCAN_MORE, Status.RANGE_SCAN_COMPLETE, Status.VBUUID_NOT_EQUAL].map(statusName)).to.deep.equal([
      'RANGE_SCAN_CANCELLED',
      'RANGE_SCAN_MORE',
      'RANGE_SCAN_COMPLETE',
      'VBUUID_NOT_EQUAL',
    ]);
    expect(extrasLayoutOf(Opcode.RANGE_SCAN_CONTINUE)).to.deep.equal({ request: Layout.RANGE_SCAN_CONTINUE, response: Layout.RANGE_SCAN_CONTENT });
    expect(extrasLayoutOf(Opcode.RANGE_SCAN_CANCEL).request.lengths).to.deep.equal([16]);
  });

  it('encodes continue extras as id, item limit, time limit and byte limit, big-endian, 28 bytes', () => {
    const x = encodeRangeScanContinueExtras(ID, { itemLimit: 500, timeLimitMs: 10_000, byteLimit: 0x01020304 });
    expect(x.length).to.equal(RANGE_SCAN_CONTINUE_EXTRAS_BYTES);
    expect(x.toString('hex')).to.equal('00112233445566778899aabbccddeeff' + '000001f4' + '00002710' + '01020304');
    const back = decodeRangeScanContinueExtras(x);
    expect(back.id.equals(ID)).to.equal(true);
    expect(back).to.include({ itemLimit: 500, timeLimitMs: 10_000, byteLimit: 0x01020304 });
    expect(() => decodeRangeScanContinueExtras(x.subarray(0, 27))).to.throw(ProtocolError, /28/);
    expect(() => encodeRangeScanContinueExtras(ID.subarray(1), { itemLimit: 0, timeLimitMs: 0, byteLimit: 0 })).to.throw(ProtocolError);
  });

  it('packs key-only records as leb128 length + key (the documented three-key example)', () => {
    const keys = [Buffer.from('key0'), Buffer.from('key11'), Buffer.from('key2' + '2'.repeat(123) + '3')];
    expect(keys[2].length).to.equal(128);
    const size = keys.reduce((n, k) => n + scanKeyBytes(k.length), 0);
    // The doc's diagram ends with the last byte at offset 140 (it says "Total 140bytes"): 141 bytes.
    expect(size).to.equal(141);
    const buf = Buffer.alloc(size);
    let off = 0;
    for (const k of keys) off = writeScanKey(buf, off, k);
    expect(off).to.equal(141);
    expect(buf.subarray(0, 14).toString('hex')).to.equal('046b657930056b65793131' + '8001' + '6b');
    expect(decodeScanKeys(buf).map((k) => k.toString())).to.deep.equal(keys.map((k) => k.toString()));
    expect(() => decodeScanKeys(Buffer.from([5, 0x41]))).to.throw(ProtocolError, /runs past/);
  });

  it('packs documents as 25 bytes of metadata, then leb128-prefixed key and value (the documented example)', () => {
    const doc = { key: Buffer.from('key0'), value: Buffer.from('value0'), flags: 0xaabbccdd, expiry: 1700000000, seqno: 0x0102030405060708n, cas: 0x1122334455667788n, datatype: 1 };
    const buf = Buffer.alloc(scanDocumentBytes(4, 6));
    expect(buf.length).to.equal(SCAN_DOCUMENT_META_BYTES + 1 + 4 + 1 + 6);
    expect(writeScanDocument(buf, 0, doc)).to.equal(buf.length);
    expect(buf.toString('hex')).to.equal('aabbccdd' + '6553f100' + '0102030405060708' + '1122334455667788' + '01' + '04' + '6b657930' + '06' + '76616c756530');
    const [back] = decodeScanDocuments(buf);
    expect(back).to.deep.include({ flags: doc.flags, expiry: doc.expiry, seqno: doc.seqno, cas: doc.cas, datatype: 1 });
    expect(back.key.toString()).to.equal('key0');
    expect(back.value.toString()).to.equal('value0');
    expect(() => decodeScanDocuments(buf.subarray(0, 20))).to.throw(ProtocolError);
  });

  it('writes the create configuration as kv_engine reads it', () => {
    expect(JSON.parse(encodeRangeScanCreate({ range: { start: 'user', end: Buffer.from('user\xff', 'latin1') } }).toString())).to.deep.equal({
      range: { start: 'dXNlcg==', end: 'dXNlcv8=' },
    });
    const excl = JSON.parse(encodeRangeScanCreate({ collection: 2748, keyOnly: true, range: { start: '0', end: '3', excludeStart: true, excludeEnd: true }, name: 'n' }).toString());
    expect(excl).to.deep.equal({ collection: 'abc', key_only: true, range: { excl_start: 'MA==', excl_end: 'Mw==' }, name: 'n' });
    expect(JSON.parse(encodeRangeScanCreate({ sampling: { samples: 512, seed: 18111 } }).toString())).to.deep.equal({ sampling: { samples: 512, seed: 18111 } });
    // 64-bit numbers go out as digits: the uuid as a string, the seqno as a JSON number
    const text = encodeRangeScanCreate({ snapshot: { vbUuid: 18446744073709551615n, seqno: 9007199254740993n, timeoutMs: 2000, seqnoExists: true } }).toString();
    expect(text).to.equal('{"snapshot_requirements":{"vb_uuid":"18446744073709551615","seqno":9007199254740993,"seqno_exists":true,"timeout_ms":2000}}');
    expect(JSON.parse(encodeRangeScanCreate({ keyOnly: false, snapshot: { vbUuid: 1n, seqno: 7 } }).toString())).to.deep.equal({ key_only: false, snapshot_requirements: { vb_uuid: '1', seqno: 7 } });
  });
});
