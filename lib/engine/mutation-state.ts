// Python's couchbase.mutation_state.MutationState: the mutations a N1QL query must see
// (N1QLQuery.consistentWith), kept as the scan vectors the query service takes:
// { bucket: { vbucket: [seqno, "vbuuid"] } }, the latest mutation per vBucket.
import { MissingTokenError } from './errors';
import type { MutationToken } from './results';

type ScanVectors = Record<string, Record<string, [number, string]>>;

/** Something that carries a mutation token: a mutation's result, or the token itself. */
type TokenSource = { mutationToken?: MutationToken } | MutationToken;

/** Where MutationState.addAll reads the tokens of every mutation a bucket made. */
export interface TokenTracker {
  mutationTokens(): MutationToken[];
}

function tokenOf(src: TokenSource | null | undefined): MutationToken | undefined {
  if (src === null || typeof src !== 'object') return undefined;
  if ('seqno' in src && 'vbuuid' in src) return src as MutationToken;
  return (src as { mutationToken?: MutationToken }).mutationToken;
}

export class MutationState {
  private readonly sv: ScanVectors = {};

  /** A state holding the mutations of these results (each must carry a token: fetch_mutation_tokens=true). */
  constructor(...results: TokenSource[]) {
    if (results.length > 0) this.addResults(...results);
  }

  private addToken(t: MutationToken): void {
    const b = (this.sv[t.bucket] ??= {});
    const cur = b[String(t.vbucket)];
    if (cur === undefined || BigInt(cur[0]) < t.seqno) b[String(t.vbucket)] = [Number(t.seqno), String(t.vbuuid)];
  }

  /**
   * Adds the mutations of these results. A result without a token is a MissingTokenError, unless
   * the last argument is `{ quiet: true }` (then it returns false and adds nothing more).
   */
  addResults(...args: Array<TokenSource | { quiet?: boolean }>): boolean {
    let quiet = false;
    const last = args[args.length - 1];
    if (last !== undefined && last !== null && typeof last === 'object' && Object.getPrototypeOf(last) === Object.prototype && !('seqno' in last) && 'quiet' in last) {
      quiet = (last as { quiet?: boolean }).quiet === true;
      args = args.slice(0, -1);
    }
    if (args.length === 0) throw new MissingTokenError('MutationState.addResults: no results given');
    for (const r of args as TokenSource[]) {
      const t = tokenOf(r);
      if (t === undefined) {
        if (quiet) return false;
        throw new MissingTokenError('the result carries no mutation token; open the bucket with fetch_mutation_tokens=true in the connection string');
      }
      this.addToken(t);
    }
    return true;
  }

  /**
   * Adds every mutation `bucket` made (the latest per vBucket). With nothing to add it is a
   * MissingTokenError unless `quiet`; returns whether anything was added.
   */
  addAll(bucket: TokenTracker, options: { quiet?: boolean } = {}): boolean {
    const tokens = bucket.mutationTokens();
    for (const t of tokens) this.addToken(t);
    if (tokens.length === 0 && !options.quiet) throw new MissingTokenError('the bucket made no mutation with a token (fetch_mutation_tokens=true?)');
    return tokens.length > 0;
  }

  /** Whether it holds any mutation (Python's truthiness). */
  get isEmpty(): boolean {
    return Object.keys(this.sv).length === 0;
  }

  /** The scan vectors, as the query service takes them. */
  get scanVectors(): ScanVectors {
    return JSON.parse(JSON.stringify(this.sv)) as ScanVectors;
  }

  /** The state as text, to send elsewhere and decode() there. */
  encode(): string {
    return JSON.stringify(this.sv);
  }

  static decode(text: string): MutationState {
    const parsed = JSON.parse(text) as unknown;
    const out = new MutationState();
    if (typeof parsed !== 'object' || parsed === null) throw new MissingTokenError('MutationState.decode: not an encoded MutationState');
    for (const [bucket, vbs] of Object.entries(parsed as ScanVectors)) {
      for (const [vb, [seqno, vbuuid]] of Object.entries(vbs)) out.addToken({ bucket, vbucket: Number(vb), seqno: BigInt(seqno), vbuuid: BigInt(vbuuid) });
    }
    return out;
  }

  toString(): string {
    return `MutationState(${this.encode()})`;
  }
}
