// Virtual extended attributes and macros (kv_engine's subdocument context): `$document` (the
// document's metadata), `$vbucket` (the vBucket's hybrid logical clock), `$XTOC` (the xattr keys
// the connection may read), and the macros a mutation's xattr values expand: `${Mutation.CAS}`,
// `${Mutation.seqno}`, `${Mutation.value_crc32c}` (values after the mutation) and
// `${$document.<field>}` (the document's metadata before it).
import type { DocumentStore, Item, Tombstone } from '../../store';
import { DATATYPE_JSON } from '../../store';
import { isSystemXattr, type Xattrs } from '../../xattrs';
import { lookup, PathError, type Json, type Segment } from './paths';
import { Status } from '../../../protocol/status';

/** The document a sub-document operation reads: live, or deleted (with AccessDeleted). */
export type DocView = Item | (Tombstone & { readonly value?: undefined; readonly expiry?: undefined });

const hex16 = (n: bigint): string => '0x' + n.toString(16).padStart(16, '0');

/** A u64 as kv_engine prints it after htonll(): its bytes reversed (what SDKs byte-swap back). */
function swappedHex(n: bigint): string {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64LE(n & 0xffffffffffffffffn, 0);
  return '0x' + b.toString('hex');
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as kv_engine stamps a body's checksum. */
export function crc32c(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const crcHex = (body: Buffer): string => '0x' + crc32c(body).toString(16).padStart(8, '0');

/** The `$document` object of a live or deleted document. */
export function documentVattr(store: DocumentStore, doc: DocView): Record<string, Json> {
  const live = doc.value !== undefined;
  const body = doc.value ?? Buffer.alloc(0);
  const datatype: string[] = [];
  if (live && (doc.datatype & DATATYPE_JSON) !== 0) datatype.push('json');
  if (doc.xattrs !== undefined) datatype.push('xattr');
  if (datatype.length === 0) datatype.push('raw');
  return {
    CAS: hex16(doc.cas),
    vbucket_uuid: hex16(store.vbucketUuid(doc.vbucket)),
    seqno: hex16(doc.seqno),
    revid: String(doc.rev),
    exptime: doc.expiry ?? 0,
    value_bytes: body.length,
    deleted: !live,
    flags: doc.flags,
    value_crc32c: crcHex(body),
    datatype,
    last_modified: String(Number(doc.cas / 1_000_000_000n)),
  };
}

/** `$vbucket`: the vBucket's hybrid logical clock, in seconds, as a string. */
function vbucketVattr(store: DocumentStore): Record<string, Json> {
  return { HLC: { now: String(Math.floor(store.clock.now() / 1000)), mode: 'real' } };
}

/** `$XTOC`: the xattr keys, system ones only for a connection that may read them. */
function xtoc(xattrs: Xattrs | undefined, systemReadable: boolean): string[] {
  const keys: string[] = [];
  if (xattrs !== undefined) for (const k of xattrs.keys()) if (systemReadable || !isSystemXattr(k)) keys.push(k);
  return keys.sort();
}

/** The value at a virtual xattr path (`segs[0]` is the `$` key); UNKNOWN_VATTR for a name kv_engine does not have. */
export function lookupVattr(store: DocumentStore, doc: DocView, segs: Segment[], systemReadable: boolean): Json {
  switch (segs[0]) {
    case '$document':
      return lookup(documentVattr(store, doc), segs.slice(1));
    case '$vbucket':
      return lookup(vbucketVattr(store), segs.slice(1));
    case '$XTOC':
      return lookup(xtoc(doc.xattrs, systemReadable), segs.slice(1));
    default:
      throw new PathError(Status.SUBDOC_XATTR_UNKNOWN_VATTR);
  }
}

// ---- macros ---------------------------------------------------------------------------------------

/** The output macros, by the exact value (quotes included) a spec carries. */
const OUTPUT_MACROS: ReadonlyMap<string, 'cas' | 'seqno' | 'crc'> = new Map([
  ['"${Mutation.CAS}"', 'cas'],
  ['"${Mutation.seqno}"', 'seqno'],
  ['"${Mutation.value_crc32c}"', 'crc'],
]);

const INPUT_MACRO = /^"\$\{(\$document(?:\.[A-Za-z_0-9]+)*)\}"$/;

/** kv_engine's validate_macro: true for a value that names a macro it expands. */
export function isKnownMacro(value: string): boolean {
  return OUTPUT_MACROS.has(value) || (value.startsWith('"${$document') && value.endsWith('}"'));
}

/**
 * A macro's expansion, resolved in two steps: input macros (`${$document...}`) at once from the
 * document as it was, output macros once the mutation's CAS and seqno exist (a placeholder string
 * stands in the value until then).
 */
export class MacroExpander {
  private readonly pending = new Map<string, 'cas' | 'seqno' | 'crc'>();

  constructor(
    private readonly store: DocumentStore,
    private readonly before: DocView | undefined,
  ) {}

  /** The parsed value a macro spec stores now; UNKNOWN_VATTR_MACRO for `${$document.nope}`. */
  expand(value: string): Json {
    const out = OUTPUT_MACROS.get(value);
    if (out !== undefined) {
      const token = `\u0000macro${this.pending.size}\u0000`;
      this.pending.set(token, out);
      return token;
    }
    const m = INPUT_MACRO.exec(value);
    if (m === null || this.before === undefined) throw new PathError(Status.SUBDOC_XATTR_UNKNOWN_VATTR_MACRO);
    const segs = m[1].split('.');
    try {
      return lookup(documentVattr(this.store, this.before), segs.slice(1));
    } catch {
      throw new PathError(Status.SUBDOC_XATTR_UNKNOWN_VATTR_MACRO);
    }
  }

  get hasOutputMacros(): boolean {
    return this.pending.size !== 0;
  }

  /** A JSON.stringify replacer putting the mutation's values where the placeholders are. */
  replacer(cas: bigint, seqno: bigint, body: Buffer): (key: string, value: unknown) => unknown {
    return (_key, value) => {
      if (typeof value !== 'string') return value;
      const kind = this.pending.get(value);
      if (kind === undefined) return value;
      return kind === 'cas' ? swappedHex(cas) : kind === 'seqno' ? swappedHex(seqno) : crcHex(body);
    };
  }
}
