// Datatype bits of the memcached header (byte 5). Zero means raw bytes.

export const Datatype = {
  RAW: 0x00,
  JSON: 0x01,
  SNAPPY: 0x02,
  XATTR: 0x04,
} as const;

export type DatatypeName = keyof typeof Datatype;

/** Human-readable list of the bits set, e.g. `json,snappy`; `raw` for zero. */
export function datatypeName(bits: number): string {
  if (bits === 0) return 'raw';
  const parts: string[] = [];
  if (bits & Datatype.JSON) parts.push('json');
  if (bits & Datatype.SNAPPY) parts.push('snappy');
  if (bits & Datatype.XATTR) parts.push('xattr');
  const unknown = bits & ~0x07;
  if (unknown) parts.push(`0x${unknown.toString(16)}`);
  return parts.join(',');
}
