// The in-place writers and readers the engine and the embedded server use on their hot paths,
// byte for byte: each writer at an offset inside a larger frame writes what its encode* gives,
// and each reader gives what its decode* gives (visiting entries in order, stopping when asked,
// and saying where a value is cut short instead of throwing).
import { expect } from 'chai';
import {
  COUNTER_NO_CREATE,
  SPEC_TRUNCATED,
  encodeCounterExtras,
  encodeExpiryExtras,
  encodeFlagsExtras,
  encodeLookupSpecs,
  encodeMutationExtras,
  encodeMutationSpecs,
  encodeMutationToken,
  encodeObserveRequest,
  encodeObserveResponse,
  encodeObserveSeqnoResponse,
  readFlagsExtras,
  readLookupSpec,
  readMutationExpiry,
  readMutationFlags,
  readMutationSpec,
  readObserveRequest,
  readObserveResponse,
  readObserveSeqno,
  writeCounterExtras,
  writeExpiryExtras,
  writeFlagsExtras,
  writeMutationExtras,
  writeMutationToken,
  type LookupSpec,
  type MutationSpec,
} from '../../lib/protocol';
import { hex } from './helpers';

/** Runs `write` at offset 3 of a 0xee-filled buffer; returns the whole buffer as hex. */
function framed(size: number, write: (buf: Buffer, off: number) => void): string {
  const b = Buffer.alloc(size + 5, 0xee);
  write(b, 3);
  return b.toString('hex');
}
const around = (inner: Buffer): string => `eeeeee${inner.toString('hex')}eeee`;

describe('protocol: in-place writers and readers', () => {
  it('writeMutationExtras writes encodeMutationExtras in place; the readers read it back', () => {
    expect(framed(8, (b, o) => writeMutationExtras(b, o, 0x02000006, 3600))).to.equal(around(encodeMutationExtras(0x02000006, 3600)));
    const x = hex('03000000 ffffffff');
    expect([readMutationFlags(x), readMutationExpiry(x)]).to.deep.equal([0x03000000, 0xffffffff]);
  });

  it('writeCounterExtras, writeExpiryExtras, writeFlagsExtras and writeMutationToken match their encoders', () => {
    expect(framed(20, (b, o) => writeCounterExtras(b, o, 5n, 0xfedcba9876543210n, COUNTER_NO_CREATE))).to.equal(
      around(encodeCounterExtras(5n, 0xfedcba9876543210n, COUNTER_NO_CREATE)),
    );
    expect(framed(4, (b, o) => writeExpiryExtras(b, o, 10))).to.equal(around(encodeExpiryExtras(10)));
    expect(framed(4, (b, o) => writeFlagsExtras(b, o, 0x04000000))).to.equal(around(encodeFlagsExtras(0x04000000)));
    expect(framed(16, (b, o) => writeMutationToken(b, o, 0x1122334455667788n, 42n))).to.equal(around(encodeMutationToken(0x1122334455667788n, 42n)));
    expect(readFlagsExtras(hex('deadbeef'))).to.equal(0xdeadbeef);
  });

  it('readObserveRequest visits each key in order, stops when told, and reports a cut-short value', () => {
    const body = encodeObserveRequest([
      { vbucket: 1, key: Buffer.from('a') },
      { vbucket: 2, key: Buffer.from('bc') },
    ]);
    const seen: string[] = [];
    expect(readObserveRequest(body, (vb, key) => seen.push(`${vb}:${key}`) > 0)).to.equal('complete');
    expect(seen).to.deep.equal(['1:a', '2:bc']);
    expect(readObserveRequest(body, () => false)).to.equal('stopped');
    seen.length = 0;
    expect(readObserveRequest(body.subarray(0, body.length - 1), (vb, key) => seen.push(`${vb}:${key}`) > 0)).to.equal('truncated');
    expect(seen).to.deep.equal(['1:a'], 'the entries before the cut are visited');
    expect(readObserveRequest(Buffer.alloc(0), () => true)).to.equal('complete');
  });

  it('readObserveResponse gives state and CAS per entry, as decodeObserveResponse does', () => {
    const body = encodeObserveResponse([
      { vbucket: 7, key: Buffer.from('k'), state: 0x01, cas: 0x1234n },
      { vbucket: 8, key: Buffer.from('k2'), state: 0x80, cas: 0n },
    ]);
    const seen: unknown[] = [];
    expect(readObserveResponse(body, (vb, key, state, cas) => seen.push([vb, key.toString(), state, cas]) > 0)).to.equal('complete');
    expect(seen).to.deep.equal([
      [7, 'k', 0x01, 0x1234n],
      [8, 'k2', 0x80, 0n],
    ]);
    expect(readObserveResponse(body.subarray(0, 5), () => true)).to.equal('truncated');
  });

  it('readObserveSeqno: null when shorter than every format, common fields of a cut-short failover entry', () => {
    const full = encodeObserveSeqnoResponse({ format: 1, vbucket: 1, vbuuid: 2n, persistedSeqno: 3n, currentSeqno: 4n, oldVbuuid: 5n, lastSeqno: 6n });
    expect(readObserveSeqno(full)).to.deep.equal({ format: 1, vbucket: 1, vbuuid: 2n, persistedSeqno: 3n, currentSeqno: 4n, oldVbuuid: 5n, lastSeqno: 6n });
    expect(readObserveSeqno(full.subarray(0, 30))).to.deep.equal({ format: 1, vbucket: 1, vbuuid: 2n, persistedSeqno: 3n, currentSeqno: 4n });
    expect(readObserveSeqno(full.subarray(0, 26))).to.equal(null);
  });

  it('readLookupSpec and readMutationSpec read one spec at an offset and give the next one', () => {
    const lookups = encodeLookupSpecs([
      { opcode: 0xc5, flags: 0x04, path: '$document' },
      { opcode: 0xc6, path: 'a.b' },
    ]);
    const l: LookupSpec = { opcode: 0, flags: 0, path: Buffer.alloc(0) };
    const next = readLookupSpec(lookups, 0, l);
    expect([l.opcode, l.flags, l.path.toString()]).to.deep.equal([0xc5, 0x04, '$document']);
    expect(readLookupSpec(lookups, next, l)).to.equal(lookups.length);
    expect([l.opcode, l.flags, l.path.toString()]).to.deep.equal([0xc6, 0, 'a.b']);
    expect(readLookupSpec(lookups, next + 1, l)).to.equal(SPEC_TRUNCATED);

    const mutations = encodeMutationSpecs([{ opcode: 0xc8, flags: 0x01, path: 'x', value: '1' }]);
    const m: MutationSpec = { opcode: 0, flags: 0, path: Buffer.alloc(0), value: Buffer.alloc(0) };
    expect(readMutationSpec(mutations, 0, m)).to.equal(mutations.length);
    expect([m.opcode, m.flags, m.path.toString(), m.value.toString()]).to.deep.equal([0xc8, 0x01, 'x', '1']);
    expect(readMutationSpec(mutations.subarray(0, mutations.length - 1), 0, m)).to.equal(SPEC_TRUNCATED);
  });
});
