// The typed syntax tree the parser produces and the planner/executor consume.
import type { Value } from './value';

export type Expr =
  | { kind: 'lit'; value: Value }
  | { kind: 'ident'; name: string; ci?: boolean; at?: SourcePos } // ci: `name`i, matched without regard to case
  | { kind: 'field'; target: Expr; name: string; ci?: boolean }
  | { kind: 'index'; target: Expr; index: Expr }
  | { kind: 'slice'; target: Expr; from?: Expr; to?: Expr }
  | { kind: 'star'; target: Expr } // a[*]
  | { kind: 'param'; name: string } // "1" for $1 or positional ?, else the name
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'and'; args: Expr[] }
  | { kind: 'or'; args: Expr[] }
  | { kind: 'not'; arg: Expr }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'is'; arg: Expr; what: 'null' | 'missing' | 'valued'; not: boolean }
  | { kind: 'between'; arg: Expr; low: Expr; high: Expr; not: boolean }
  | { kind: 'like'; arg: Expr; pattern: Expr; escape?: Expr; not: boolean }
  | { kind: 'in'; arg: Expr; list: Expr; not: boolean; within?: boolean }
  | { kind: 'case'; subject?: Expr; whens: { when: Expr; then: Expr }[]; else?: Expr }
  | {
      kind: 'call';
      name: string;
      args: Expr[];
      distinct?: boolean;
      /** Written with ALL or DISTINCT before its argument (only aggregates take them). */
      quantified?: boolean;
      star?: boolean;
      aggIndex?: number;
      filter?: Expr;
      /** OVER (...) or OVER name: a window function call. */
      over?: WindowSpec;
      /** NTH_VALUE ... FROM LAST. */
      fromLast?: boolean;
      /** IGNORE NULLS (FIRST_VALUE, LAST_VALUE, NTH_VALUE, LAG, LEAD). */
      ignoreNulls?: boolean;
      /** A user-defined function named with its namespace or scope (`default:f`, `b.s.f`). */
      fn?: FunctionName;
      /** The name as written, when it differs from `name` (lower case): user-defined function names keep their case. */
      rawName?: string;
      /** Where the call was written (errors about it point there). */
      at?: SourcePos;
      /** FLATTEN_KEYS: the arguments written with DESC. */
      flattenDesc?: boolean[];
      /** Where the argument list starts (an arity error points there). */
      argsAt?: SourcePos;
    }
  | { kind: 'array'; items: Expr[] }
  | { kind: 'object'; entries: { key: Expr; value: Expr }[] }
  | { kind: 'quant'; quant: 'any' | 'every' | 'anyevery'; bindings: ForBinding[]; satisfies: Expr }
  | { kind: 'collect'; collect: 'array' | 'first' | 'object'; value: Expr; key?: Expr; bindings: ForBinding[]; when?: Expr; distinct?: boolean }
  | { kind: 'exists'; arg: Expr }
  | { kind: 'subquery'; query: SelectStatement }
  /** NEXT VALUE FOR / NEXTVAL FOR (next) and PREV VALUE FOR / PREVVAL FOR (prev) a sequence. */
  | { kind: 'sequence'; next: boolean; name: FunctionName };

/**
 * Where a name was written in the statement (for errors that point at it), packed into one
 * number (line * 2^20 + column) so that every identifier and call node does not carry an object.
 */
export type SourcePos = number;

const COLUMN_SPAN = 1048576;

export function sourcePos(line: number, column: number): SourcePos {
  return line * COLUMN_SPAN + Math.min(column, COLUMN_SPAN - 1);
}

export function posLine(at: SourcePos): number {
  return Math.floor(at / COLUMN_SPAN);
}

export function posColumn(at: SourcePos): number {
  return at % COLUMN_SPAN;
}

export interface WindowSpec {
  /** A window named in the WINDOW clause this one starts from. */
  ref?: string;
  /** `OVER name` without parentheses: the named window whole, its frame included. */
  bare?: boolean;
  partitionBy?: Expr[];
  orderBy?: OrderTerm[];
  frame?: WindowFrame;
}

export type FrameBound =
  | { kind: 'unbounded-preceding' }
  | { kind: 'preceding'; offset: Expr }
  | { kind: 'current' }
  | { kind: 'following'; offset: Expr }
  | { kind: 'unbounded-following' };

export interface WindowFrame {
  unit: 'rows' | 'range' | 'groups';
  /** Written as BETWEEN start AND end (else `start` alone, which ends at the current row). */
  between: boolean;
  start: FrameBound;
  end: FrameBound;
  exclude?: 'current' | 'group' | 'ties';
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '||' | '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface ForBinding {
  /** `name IN expr` or `name WITHIN expr`; `pos : name IN expr` binds the position too. */
  name: string;
  pos?: string;
  expr: Expr;
  within: boolean;
}

export interface KeyspaceRef {
  namespace: string;
  bucket: string;
  scope?: string;
  collection?: string;
}

export type FromSource =
  | { kind: 'keyspace'; ks: KeyspaceRef; alias: string; useKeys?: Expr; useIndex?: string[]; hint?: JoinHint; aliasGiven?: boolean }
  | { kind: 'subquery'; query: SelectStatement; alias: string; hint?: JoinHint; useKeysOrIndex?: boolean }
  | { kind: 'expr'; expr: Expr; alias: string; hint?: JoinHint; useKeysOrIndex?: boolean; paramUse?: { useKeys?: Expr; useIndex?: string[] } };

/** USE HASH(BUILD|PROBE) or USE NL on a join's right side. */
export type JoinHint = 'hash' | 'hash-build' | 'hash-probe' | 'nl';

export type JoinClause =
  | { kind: 'lookup'; outer: boolean; nest: boolean; right: FromSource & { kind: 'keyspace' }; onKeys: Expr; onKey?: boolean }
  | { kind: 'ansi'; outer: boolean; nest: boolean; right: FromSource; on: Expr; comma?: boolean; indexFor?: string }
  | { kind: 'unnest'; outer: boolean; expr: Expr; alias: string; at?: SourcePos };

export interface FromClause {
  source: FromSource;
  joins: JoinClause[];
}

export interface ResultTerm {
  expr?: Expr; // absent for a bare `*`
  star: boolean; // `*` or `expr.*`
  alias?: string;
  /** Where the term's name was written (`AS`, or the last field name of an unaliased path): a duplicate is reported there. */
  at?: SourcePos;
}

export interface LetBinding {
  name: string;
  expr: Expr;
  /** Where the name was written (a duplicate name is reported there). */
  at?: SourcePos;
  /** WITH RECURSIVE name AS (anchor UNION [ALL] step): the two arms, run until the step adds nothing. */
  recursive?: RecursiveCte;
  /** Written in a WITH RECURSIVE clause: the recursive-CTE restrictions apply even without a recursive arm. */
  inRecursiveClause?: boolean;
}

export interface RecursiveCte {
  anchor: SelectStatement;
  step: SelectStatement;
  /** UNION ALL keeps documents the recursion produced before; UNION drops them. */
  all: boolean;
  /** CYCLE f, ... RESTRICT: a document whose values of these fields were seen before is not added. */
  cycle?: Expr[];
  /** OPTIONS {"levels": n, "documents": n}. */
  options?: Expr;
  /** ORDER BY, LIMIT or OFFSET after the UNION: refused when the step reads the CTE (3300). */
  ordered?: boolean;
}

export interface SelectBlock {
  kind: 'block';
  distinct: boolean;
  raw: boolean;
  terms: ResultTerm[];
  /** EXCLUDE: paths removed from each projected result. */
  exclude?: Expr[];
  from?: FromClause;
  let: LetBinding[];
  where?: Expr;
  groupBy?: Expr[];
  /** GROUP AS name: each group's rows (their FROM aliases) as an array. */
  groupAs?: string;
  letting: LetBinding[];
  having?: Expr;
  /** WINDOW name AS (...), ...: windows OVER clauses may name. */
  windows?: Record<string, WindowSpec>;
}

export interface SetOp {
  kind: 'setop';
  op: 'union' | 'intersect' | 'except';
  all: boolean;
  left: SelectBody;
  right: SelectBody;
}

export type SelectBody = SelectBlock | SetOp | { kind: 'paren'; query: SelectStatement };

export interface OrderTerm {
  expr: Expr;
  desc: boolean;
  nulls?: 'first' | 'last';
}

export interface SelectStatement {
  type: 'select';
  with: LetBinding[];
  body: SelectBody;
  orderBy?: OrderTerm[];
  limit?: Expr;
  offset?: Expr;
}

export interface KeyspaceTarget {
  ks: KeyspaceRef;
  alias: string;
  /** DELETE FROM $param: the query parameter naming the keyspace (bound when the statement runs). */
  param?: string;
}

export interface InsertStatement {
  type: 'insert';
  upsert: boolean;
  target: KeyspaceTarget;
  values?: { key: Expr; value?: Expr; options?: Expr }[];
  select?: { key: Expr; value?: Expr; options?: Expr; query: SelectStatement };
  returning?: ReturningClause;
}

export interface ReturningClause {
  raw: boolean;
  terms: ResultTerm[];
}

export interface SetItem {
  path: Expr;
  value: Expr;
  for?: ForBinding[];
  when?: Expr;
}

export interface UnsetItem {
  path: Expr;
  for?: ForBinding[];
  when?: Expr;
}

export interface UpdateStatement {
  type: 'update';
  target: KeyspaceTarget;
  useKeys?: Expr;
  set: SetItem[];
  unset: UnsetItem[];
  where?: Expr;
  limit?: Expr;
  returning?: ReturningClause;
}

export interface DeleteStatement {
  type: 'delete';
  target: KeyspaceTarget;
  useKeys?: Expr;
  where?: Expr;
  limit?: Expr;
  returning?: ReturningClause;
}

export interface MergeStatement {
  type: 'merge';
  target: KeyspaceTarget & { useIndex?: string[] };
  source: FromSource;
  onKey?: Expr;
  on?: Expr;
  /** MERGE ... ON ... LET name = expr, ...: bound for each joined row. */
  let?: LetBinding[];
  update?: { set: SetItem[]; unset: UnsetItem[]; where?: Expr };
  delete?: { where?: Expr };
  insert?: { key?: Expr; value: Expr; options?: Expr; where?: Expr };
  limit?: Expr;
  returning?: ReturningClause;
}

export interface IndexKey {
  expr: Expr;
  desc: boolean;
  /** INCLUDE MISSING (leading key only): documents without the key are indexed too. */
  includeMissing?: boolean;
}

export interface CreateIndexStatement {
  type: 'createIndex';
  primary: boolean;
  name: string;
  ifNotExists: boolean;
  target: KeyspaceRef;
  keys: IndexKey[];
  where?: Expr;
  with?: Expr;
  /** PARTITION BY HASH(expr, ...): the keys a partitioned index hashes. */
  partition?: Expr[];
}

export interface DropIndexStatement {
  type: 'dropIndex';
  primary: boolean;
  name?: string;
  ifExists: boolean;
  target: KeyspaceRef;
}

export interface BuildIndexStatement {
  type: 'buildIndex';
  target: KeyspaceRef;
  names: Expr[];
}

/** A user-defined function's name: bare, `namespace:name`, or `[namespace:]bucket.scope.name`. */
export interface FunctionName {
  namespace?: string;
  bucket?: string;
  scope?: string;
  name: string;
}

export interface CreateFunctionStatement {
  type: 'createFunction';
  name: FunctionName;
  /** Parameter names; undefined for a variadic function `(...)` (arguments in `args`). */
  params?: string[];
  replace: boolean;
  ifNotExists: boolean;
  /** An inline function's expression and its text. */
  body?: { expr: Expr; text: string };
  /** A JavaScript function: its code, or the object and library it lives in. */
  javascript?: { code?: string; object?: string; library?: string };
}

export interface DropFunctionStatement {
  type: 'dropFunction';
  name: FunctionName;
  ifExists: boolean;
}

export interface ExecuteFunctionStatement {
  type: 'executeFunction';
  name: FunctionName;
  args: Expr[];
}

export interface ExplainStatement {
  type: 'explain';
  stmt: Statement;
  text: string;
}

export interface PrepareStatement {
  type: 'prepare';
  name?: string;
  stmt: Statement;
  text: string;
  force: boolean;
}

export interface ExecuteStatement {
  type: 'execute';
  name: Expr;
  using?: Expr;
}

/** A SCOPE or COLLECTION statement, as the parser returns it. */
export interface CollectionDdlStatement {
  type: 'collectionDdl';
  action: 'create' | 'drop';
  what: 'scope' | 'collection';
  /** The path as written: [namespace:]bucket.scope[.collection], or the last name alone. */
  namespace: string;
  parts: string[];
  /** IF NOT EXISTS (create) / IF EXISTS (drop). */
  quiet: boolean;
  /** CREATE COLLECTION ... WITH {"maxTTL": n}. */
  maxTTL?: number;
}

/** CREATE / ALTER SEQUENCE options, as clauses (integers) or as a WITH object. */
export interface SequenceClauses {
  start?: bigint;
  increment?: bigint;
  /** null: NO MINVALUE / NO MAXVALUE (the int64 limit). */
  min?: bigint | null;
  max?: bigint | null;
  cycle?: boolean;
  /** null: NO CACHE (a cache of 1). */
  cache?: number | null;
  /** RESTART (true) or RESTART WITH n. */
  restart?: bigint | true;
}

export interface CreateSequenceStatement {
  type: 'createSequence';
  name: FunctionName;
  ifNotExists: boolean;
  clauses: SequenceClauses;
  with?: Expr;
}

export interface AlterSequenceStatement {
  type: 'alterSequence';
  name: FunctionName;
  clauses: SequenceClauses;
  with?: Expr;
}

export interface DropSequenceStatement {
  type: 'dropSequence';
  name: FunctionName;
  ifExists: boolean;
}

export type Statement =
  | SelectStatement
  | InsertStatement
  | UpdateStatement
  | DeleteStatement
  | MergeStatement
  | CreateIndexStatement
  | DropIndexStatement
  | BuildIndexStatement
  | ExplainStatement
  | PrepareStatement
  | ExecuteStatement
  | CreateFunctionStatement
  | DropFunctionStatement
  | ExecuteFunctionStatement
  | CreateSequenceStatement
  | AlterSequenceStatement
  | DropSequenceStatement
  | CollectionDdlStatement
  | AlterIndexStatement
  | GrantStatement
  | TransactionStatement
  | UpdateStatisticsStatement
  | InferStatement
  | AdviseStatement;

/** ALTER INDEX name ON ks WITH {...} (or ALTER INDEX ks.name WITH {...}). */
export interface AlterIndexStatement {
  type: 'alterIndex';
  name: string;
  target: KeyspaceRef;
  with: Expr;
}

/** GRANT roles [ON keyspaces] TO users / REVOKE roles [ON keyspaces] FROM users. */
export interface GrantStatement {
  type: 'grant' | 'revoke';
  roles: string[];
  keyspaces: KeyspaceRef[];
  users: string[];
}

/** BEGIN WORK, COMMIT, ROLLBACK [TO SAVEPOINT s], SAVEPOINT s, SET TRANSACTION ISOLATION LEVEL READ COMMITTED. */
export interface TransactionStatement {
  type: 'transaction';
  action: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'isolation';
  savepoint?: string;
}

/**
 * UPDATE STATISTICS / ANALYZE in each documented form: distributions of expressions, of the keys
 * of some indexes (named, from a subquery, or ALL), or deleting them.
 */
export interface UpdateStatisticsStatement {
  type: 'updateStatistics';
  ks: KeyspaceRef;
  /** The expressions form: `ks (expr, ...)`. */
  exprs?: Expr[];
  /** The index forms: names (or an expression giving them), or every index of the collection. */
  indexes?: { names: Expr[] } | 'all';
  /** The delete form: `DELETE (expr, ...)` or `DELETE ALL`. */
  delete?: Expr[] | 'all';
  with?: Expr;
}

/** INFER [COLLECTION | KEYSPACE] ks [WITH options], or INFER over an expression's documents. */
export interface InferStatement {
  type: 'infer';
  ks?: KeyspaceRef;
  expr?: Expr;
  with?: Expr;
}

/** ADVISE [INDEX] statement: the index advisor's recommendations for one statement. */
export interface AdviseStatement {
  type: 'advise';
  stmt: Statement;
  text: string;
}
