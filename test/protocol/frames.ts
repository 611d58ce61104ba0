// Frames written out by hand from the header layouts in PROTOCOL.md §1.1, with the packets
// they must decode to. Shared by the packet and frame-decoder tests.
import { hex } from './helpers';

export interface FrameCase {
  name: string;
  bytes: Buffer;
  fields: {
    magic: number;
    opcode: number;
    datatype: number;
    vbucket: number;
    status: number;
    opaque: number;
    cas: bigint;
    framingExtras: string;
    extras: string;
    key: string;
    value: string;
  };
}

const bigValue = Buffer.alloc(300, 0x61); // 300 x 'a'

export const FRAMES: FrameCase[] = [
  {
    name: 'GET request (key "hello", vbucket 5)',
    bytes: hex('80 00 0005 00 00 0005 00000005 11223344 0000000000000000 | 68656c6c6f'),
    fields: {
      magic: 0x80, opcode: 0x00, datatype: 0, vbucket: 5, status: 0, opaque: 0x11223344, cas: 0n,
      framingExtras: '', extras: '', key: '68656c6c6f', value: '',
    },
  },
  {
    name: 'SET request with flags/expiry extras, JSON value and CAS',
    bytes: hex('80 01 0001 08 01 0123 00000010 00000001 0102030405060708 | 02000000 00000e10 | 6b | 7b2261223a317d'),
    fields: {
      magic: 0x80, opcode: 0x01, datatype: 1, vbucket: 0x123, status: 0, opaque: 1, cas: 0x0102030405060708n,
      framingExtras: '', extras: '0200000000000e10', key: '6b', value: '7b2261223a317d',
    },
  },
  {
    name: 'GET response with flags and value',
    bytes: hex('81 00 0000 04 00 0000 00000005 00000009 deadbeefcafebabe | 02000000 | 76'),
    fields: {
      magic: 0x81, opcode: 0x00, datatype: 0, vbucket: 0, status: 0, opaque: 9, cas: 0xdeadbeefcafebaben,
      framingExtras: '', extras: '02000000', key: '', value: '76',
    },
  },
  {
    name: 'KEY_ENOENT response with a text body',
    bytes: hex('81 00 0000 00 00 0001 00000009 0000000a 0000000000000000 | 4e6f7420666f756e64'),
    fields: {
      magic: 0x81, opcode: 0x00, datatype: 0, vbucket: 0, status: 1, opaque: 10, cas: 0n,
      framingExtras: '', extras: '', key: '', value: '4e6f7420666f756e64',
    },
  },
  {
    name: 'alt (0x08) SET request with a durability frame',
    bytes: hex('08 01 02 01 08 00 0003 0000000c 00000002 0000000000000000 | 1101 | 0000000000000000 | 6b | 78'),
    fields: {
      magic: 0x08, opcode: 0x01, datatype: 0, vbucket: 3, status: 0, opaque: 2, cas: 0n,
      framingExtras: '1101', extras: '0000000000000000', key: '6b', value: '78',
    },
  },
  {
    name: 'alt (0x18) GET response with a server-duration frame',
    bytes: hex('18 00 03 00 04 00 0000 00000008 00000002 0000000000000001 | 020042 | 00000000 | 76'),
    fields: {
      magic: 0x18, opcode: 0x00, datatype: 0, vbucket: 0, status: 0, opaque: 2, cas: 1n,
      framingExtras: '020042', extras: '00000000', key: '', value: '76',
    },
  },
  {
    name: 'server-initiated (0x82) cluster map change notification',
    bytes: hex('82 01 0007 04 00 0000 0000000d 00000000 0000000000000000 | 0000000c | 64656661756c74 | 7b7d'),
    fields: {
      magic: 0x82, opcode: 0x01, datatype: 0, vbucket: 0, status: 0, opaque: 0, cas: 0n,
      framingExtras: '', extras: '0000000c', key: '64656661756c74', value: '7b7d',
    },
  },
  {
    name: 'client reply (0x83) to a server request',
    bytes: hex('83 01 0000 00 00 0000 00000000 00000000 0000000000000000'),
    fields: {
      magic: 0x83, opcode: 0x01, datatype: 0, vbucket: 0, status: 0, opaque: 0, cas: 0n,
      framingExtras: '', extras: '', key: '', value: '',
    },
  },
  {
    name: 'SET request with a 300-byte value',
    bytes: Buffer.concat([
      hex('80 01 0003 08 00 03ff 00000137 00000003 0000000000000000 | 00000000 00000000 | 6b6579'),
      bigValue,
    ]),
    fields: {
      magic: 0x80, opcode: 0x01, datatype: 0, vbucket: 0x3ff, status: 0, opaque: 3, cas: 0n,
      framingExtras: '', extras: '0000000000000000', key: '6b6579', value: bigValue.toString('hex'),
    },
  },
  {
    name: 'NOOP response (header only)',
    bytes: hex('81 0a 0000 00 00 0000 00000000 ffffffff 0000000000000000'),
    fields: {
      magic: 0x81, opcode: 0x0a, datatype: 0, vbucket: 0, status: 0, opaque: 0xffffffff, cas: 0n,
      framingExtras: '', extras: '', key: '', value: '',
    },
  },
];

export function expectedPlain(c: FrameCase): Record<string, unknown> {
  return { ...c.fields, cas: c.fields.cas.toString(16) };
}

/** All frames back to back: the "recorded" stream. */
export const STREAM: Buffer = Buffer.concat(FRAMES.map((f) => f.bytes));
