// What flows through a compiled statement: binding tuples (rows), the execution context every
// compiled expression gets, and the shape of a compiled expression. Kept apart from the compiler
// (./expr) so the modules it uses (window functions, aggregates) can name these types without an
// import cycle.
import type { FunctionContext } from './functions/registry';
import type { Suspension } from './pause';
import type { Profile } from './profile';
import type { Value } from './value';

export type Vars = Record<string, Value>;

/** What META() sees for a document; StoredDoc satisfies it. */
export interface DocMeta {
  readonly id: string;
  readonly cas: bigint;
  readonly expiry: number;
  readonly flags: number;
  readonly datatype: number;
}

/** One binding tuple flowing through the pipeline: variables by alias, plus document metadata. */
export interface Row {
  vars: Vars;
  metas: Record<string, DocMeta>;
  aggs?: Value[];
  /** Window function results, by call (see ./window). */
  wins?: Value[];
}

export interface ExecContext extends FunctionContext, Suspension {
  readonly positional: Value[];
  /** Named parameters without the `$`; only own properties count. */
  readonly named: Record<string, Value>;
  /** Whether sources should yield PAUSE now (absent: never; see ./pause). */
  pauseDue?(): boolean;
  /** Present when the request asked for a profile: sources record their phases in it. */
  profile?: Profile;
}

export type Compiled = (row: Row, ctx: ExecContext) => Value;

export interface AggregateSpec {
  name: string;
  distinct: boolean;
  star: boolean;
  arg?: Compiled;
  /** FILTER (WHERE ...): the rows this aggregate sees. */
  filter?: Compiled;
}
