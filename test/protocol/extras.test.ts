import { expect } from 'chai';
import {
  Opcode,
  Layout,
  extrasLayoutOf,
  isValidRequestExtrasLength,
  isValidResponseExtrasLength,
  encodeMutationExtras,
  decodeMutationExtras,
  encodeCounterExtras,
  decodeCounterExtras,
  COUNTER_NO_CREATE,
  encodeExpiryExtras,
  decodeExpiryExtras,
  encodeFlagsExtras,
  decodeFlagsExtras,
  encodeLockExtras,
  decodeLockExtras,
  decodeFlushExtras,
  encodeMutationToken,
  decodeMutationToken,
  encodeGetMetaRequestExtras,
  decodeGetMetaRequestExtras,
  encodeGetMetaExtras,
  decodeGetMetaExtras,
  encodeCollectionIdExtras,
  decodeCollectionIdExtras,
  encodeClusterConfigExtras,
  decodeClusterConfigExtras,
  encodeErrorMapVersion,
  decodeErrorMapVersion,
  encodeObserveRequest,
  decodeObserveRequest,
  encodeObserveResponse,
  decodeObserveResponse,
  ObserveState,
  encodeObserveSeqnoRequest,
  decodeObserveSeqnoRequest,
  encodeObserveSeqnoResponse,
  decodeObserveSeqnoResponse,
} from '../../lib/protocol';
import { hex, reasonOf } from './helpers';

function h(b: Buffer): string {
  return b.toString('hex');
}

describe('protocol: extras layouts', () => {
  describe('the per-opcode table', () => {
    it('gives each opcode its request and response layout', () => {
      expect(extrasLayoutOf(Opcode.SET)).to.deep.equal({ request: Layout.MUTATION, response: Layout.MUTATION_TOKEN });
      expect(extrasLayoutOf(Opcode.ADDQ).request).to.equal(Layout.MUTATION);
      expect(extrasLayoutOf(Opcode.GET)).to.deep.equal({ request: Layout.NONE, response: Layout.FLAGS });
      expect(extrasLayoutOf(Opcode.GET_REPLICA).response).to.equal(Layout.FLAGS);
      expect(extrasLayoutOf(Opcode.GAT)).to.deep.equal({ request: Layout.EXPIRY, response: Layout.FLAGS });
      expect(extrasLayoutOf(Opcode.TOUCH)).to.deep.equal({ request: Layout.EXPIRY, response: Layout.NONE });
      expect(extrasLayoutOf(Opcode.GET_LOCKED)).to.deep.equal({ request: Layout.LOCK_TIME, response: Layout.FLAGS });
      expect(extrasLayoutOf(Opcode.INCREMENT)).to.deep.equal({ request: Layout.COUNTER, response: Layout.MUTATION_TOKEN });
      expect(extrasLayoutOf(Opcode.APPEND)).to.deep.equal({ request: Layout.NONE, response: Layout.MUTATION_TOKEN });
      expect(extrasLayoutOf(Opcode.GET_META)).to.deep.equal({ request: Layout.GET_META_REQUEST, response: Layout.GET_META_RESPONSE });
      expect(extrasLayoutOf(Opcode.GET_COLLECTION_ID).response).to.equal(Layout.COLLECTION_ID);
      expect(extrasLayoutOf(Opcode.SUBDOC_MULTI_MUTATION).request).to.equal(Layout.SUBDOC_MUTATION);
      expect(extrasLayoutOf(Opcode.NOOP)).to.deep.equal({ request: Layout.NONE, response: Layout.NONE });
    });

    it('says which extras lengths are acceptable', () => {
      expect(isValidRequestExtrasLength(Opcode.SET, 8)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.SET, 4)).to.equal(false);
      expect(isValidRequestExtrasLength(Opcode.GET, 0)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.GET, 4)).to.equal(false);
      expect(isValidRequestExtrasLength(Opcode.GET_LOCKED, 0)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.GET_LOCKED, 4)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.INCREMENT, 20)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.SUBDOC_GET, 3)).to.equal(true);
      expect(isValidRequestExtrasLength(Opcode.SUBDOC_GET, 5)).to.equal(false);
      expect(isValidRequestExtrasLength(Opcode.SUBDOC_MULTI_MUTATION, 9)).to.equal(true);
      expect(isValidResponseExtrasLength(Opcode.SET, 16)).to.equal(true);
      expect(isValidResponseExtrasLength(Opcode.SET, 0)).to.equal(true);
      expect(isValidResponseExtrasLength(Opcode.SET, 8)).to.equal(false);
      expect(isValidResponseExtrasLength(Opcode.GET_META, 21)).to.equal(true);
    });
  });

  it('mutation: flags(4) expiry(4)', () => {
    expect(h(encodeMutationExtras(0x02000000, 3600))).to.equal('0200000000000e10');
    expect(decodeMutationExtras(hex('03000000 ffffffff'))).to.deep.equal({ flags: 0x03000000, expiry: 0xffffffff });
    expect(reasonOf(() => decodeMutationExtras(hex('00000000')))).to.equal('bad_extras');
  });

  it('counter: delta(8) initial(8) expiry(4), 64-bit exact', () => {
    expect(h(encodeCounterExtras(1n, 0xfedcba9876543210n, COUNTER_NO_CREATE))).to.equal(
      '0000000000000001' + 'fedcba9876543210' + 'ffffffff',
    );
    expect(decodeCounterExtras(hex('ffffffffffffffff 0000000000000064 0000003c'))).to.deep.equal({
      delta: 0xffffffffffffffffn, initial: 100n, expiry: 60,
    });
    expect(reasonOf(() => decodeCounterExtras(hex('00')))).to.equal('bad_extras');
  });

  it('expiry, flags and lock time: one 32-bit field', () => {
    expect(h(encodeExpiryExtras(10))).to.equal('0000000a');
    expect(decodeExpiryExtras(hex('5f5e1000'))).to.equal(0x5f5e1000);
    expect(h(encodeFlagsExtras(0x04000000))).to.equal('04000000');
    expect(decodeFlagsExtras(hex('deadbeef'))).to.equal(0xdeadbeef);
    expect(h(encodeLockExtras(15))).to.equal('0000000f');
    expect(decodeLockExtras(hex('0000001e'))).to.equal(30);
    expect(decodeLockExtras(Buffer.alloc(0))).to.equal(0);
    expect(decodeFlushExtras(Buffer.alloc(0))).to.equal(0);
    expect(decodeFlushExtras(hex('00000005'))).to.equal(5);
    expect(reasonOf(() => decodeExpiryExtras(Buffer.alloc(0)))).to.equal('bad_extras');
    expect(reasonOf(() => decodeLockExtras(hex('00')))).to.equal('bad_extras');
  });

  it('mutation token: vbucket uuid(8) seqno(8); absent when there are no extras', () => {
    expect(h(encodeMutationToken(0x1122334455667788n, 42n))).to.equal('1122334455667788000000000000002a');
    expect(decodeMutationToken(hex('ffffffffffffffff 0000000000000001'))).to.deep.equal({ vbuuid: 0xffffffffffffffffn, seqno: 1n });
    expect(decodeMutationToken(Buffer.alloc(0))).to.equal(undefined);
    expect(reasonOf(() => decodeMutationToken(Buffer.alloc(8)))).to.equal('bad_extras');
  });

  it('GET_META: version byte in the request; 21-byte (v2) or 20-byte (v1) response', () => {
    expect(h(encodeGetMetaRequestExtras())).to.equal('02');
    expect(decodeGetMetaRequestExtras(hex('02'))).to.equal(2);
    expect(decodeGetMetaRequestExtras(Buffer.alloc(0))).to.equal(1);
    const v2 = encodeGetMetaExtras({ deleted: true, flags: 0x02000000, expiry: 1700000000, seqno: 7n, datatype: 1 });
    expect(h(v2)).to.equal('00000001' + '02000000' + '6553f100' + '0000000000000007' + '01');
    expect(decodeGetMetaExtras(v2)).to.deep.equal({ deleted: true, flags: 0x02000000, expiry: 1700000000, seqno: 7n, datatype: 1 });
    const v1 = hex('00000000 00000000 00000000 0000000000000009');
    expect(decodeGetMetaExtras(v1)).to.deep.equal({ deleted: false, flags: 0, expiry: 0, seqno: 9n });
    expect(h(encodeGetMetaExtras({ deleted: false, flags: 0, expiry: 0, seqno: 9n }))).to.equal(h(v1));
    expect(reasonOf(() => decodeGetMetaExtras(Buffer.alloc(16)))).to.equal('bad_extras');
  });

  it('GET_COLLECTION_ID response: manifest uid(8) collection id(4)', () => {
    expect(h(encodeCollectionIdExtras(0x12n, 8))).to.equal('0000000000000012' + '00000008');
    expect(decodeCollectionIdExtras(hex('0000000000000000 00000000'))).to.deep.equal({ manifestUid: 0n, id: 0 });
    expect(reasonOf(() => decodeCollectionIdExtras(Buffer.alloc(8)))).to.equal('bad_extras');
  });

  it('GET_CLUSTER_CONFIG request: optional epoch(8) rev(8)', () => {
    expect(h(encodeClusterConfigExtras(1n, 12n))).to.equal('0000000000000001000000000000000c');
    expect(decodeClusterConfigExtras(hex('0000000000000002 0000000000000010'))).to.deep.equal({ epoch: 2n, rev: 16n });
    expect(decodeClusterConfigExtras(Buffer.alloc(0))).to.equal(undefined);
  });

  it('GET_ERROR_MAP request value: version(2)', () => {
    expect(h(encodeErrorMapVersion(2))).to.equal('0002');
    expect(decodeErrorMapVersion(hex('0001'))).to.equal(1);
    expect(reasonOf(() => decodeErrorMapVersion(hex('02')))).to.equal('bad_extras');
  });

  describe('OBSERVE bodies', () => {
    it('request: repeated vbucket(2) keylen(2) key', () => {
      const keys = [{ vbucket: 5, key: Buffer.from('ab') }, { vbucket: 0x3ff, key: Buffer.from('c') }];
      const body = hex('0005 0002 6162 | 03ff 0001 63');
      expect(h(encodeObserveRequest(keys))).to.equal(h(body));
      expect(decodeObserveRequest(body).map((k) => ({ vbucket: k.vbucket, key: k.key.toString() }))).to.deep.equal([
        { vbucket: 5, key: 'ab' }, { vbucket: 0x3ff, key: 'c' },
      ]);
      expect(reasonOf(() => decodeObserveRequest(hex('0005 0003 6162')))).to.equal('bad_lengths');
      expect(reasonOf(() => decodeObserveRequest(hex('0005 00')))).to.equal('bad_lengths');
    });

    it('response: repeated vbucket(2) keylen(2) key state(1) cas(8)', () => {
      const results = [
        { vbucket: 5, key: Buffer.from('ab'), state: ObserveState.FOUND_PERSISTED, cas: 0x0102030405060708n },
        { vbucket: 6, key: Buffer.from('z'), state: ObserveState.NOT_FOUND, cas: 0n },
      ];
      const body = hex('0005 0002 6162 01 0102030405060708 | 0006 0001 7a 80 0000000000000000');
      expect(h(encodeObserveResponse(results))).to.equal(h(body));
      expect(decodeObserveResponse(body).map((r) => ({ ...r, key: r.key.toString() }))).to.deep.equal(
        results.map((r) => ({ ...r, key: r.key.toString() })),
      );
      expect(reasonOf(() => decodeObserveResponse(hex('0005 0002 6162 01 0102')))).to.equal('bad_lengths');
    });
  });

  describe('OBSERVE_SEQNO bodies', () => {
    it('request value: vbucket uuid(8)', () => {
      expect(h(encodeObserveSeqnoRequest(0xabcdn))).to.equal('000000000000abcd');
      expect(decodeObserveSeqnoRequest(hex('000000000000abcd'))).to.equal(0xabcdn);
      expect(reasonOf(() => decodeObserveSeqnoRequest(hex('00')))).to.equal('bad_lengths');
    });

    it('response format 0: format(1) vbid(2) vbuuid(8) persisted(8) current(8)', () => {
      const r = { format: 0, vbucket: 12, vbuuid: 0xaan, persistedSeqno: 3n, currentSeqno: 4n };
      const body = hex('00 000c 00000000000000aa 0000000000000003 0000000000000004');
      expect(h(encodeObserveSeqnoResponse(r))).to.equal(h(body));
      expect(decodeObserveSeqnoResponse(body)).to.deep.equal(r);
    });

    it('response format 1 (hard failover) adds old vbuuid(8) last seqno(8)', () => {
      const r = { format: 1, vbucket: 1, vbuuid: 2n, persistedSeqno: 3n, currentSeqno: 4n, oldVbuuid: 5n, lastSeqno: 6n };
      const body = hex('01 0001 0000000000000002 0000000000000003 0000000000000004 0000000000000005 0000000000000006');
      expect(h(encodeObserveSeqnoResponse(r))).to.equal(h(body));
      expect(decodeObserveSeqnoResponse(body)).to.deep.equal(r);
      expect(reasonOf(() => decodeObserveSeqnoResponse(body.subarray(0, 30)))).to.equal('bad_lengths');
    });
  });
});
