import { expect } from 'chai';
import { ProtocolError, type Packet } from '../../lib/protocol';

/** Hex literal with any whitespace / '|' separators -> Buffer. */
export function hex(s: string): Buffer {
  const clean = s.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex literal ${s}`);
  return Buffer.from(clean, 'hex');
}

/** A packet as plain comparable data. */
export function plain(p: Packet): Record<string, unknown> {
  return {
    magic: p.magic,
    opcode: p.opcode,
    datatype: p.datatype,
    vbucket: p.vbucket,
    status: p.status,
    opaque: p.opaque,
    cas: p.cas.toString(16),
    framingExtras: p.framingExtras.toString('hex'),
    extras: p.extras.toString('hex'),
    key: p.key.toString('hex'),
    value: p.value.toString('hex'),
  };
}

/** Runs `fn`, which must throw a ProtocolError, and returns the error's machine-readable reason. */
export function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ProtocolError);
    return (err as ProtocolError).reason;
  }
  throw new Error('expected a ProtocolError');
}
