// SQL++ transactions (SQL++ reference: BEGIN TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, SET
// TRANSACTION; the query service's txid / tximplicit / txtimeout request parameters). A
// transaction keeps its writes staged in memory, per collection: the statements of the
// transaction read through a view of each collection that overlays them (so they see their own
// writes, with the collection's indexes built over that view), other requests see none of them
// until COMMIT writes them, each checked against the CAS the transaction first saw (a document
// changed meanwhile fails the commit, 17007, and nothing is written). SAVEPOINT keeps a copy of
// the staged writes; ROLLBACK [TO SAVEPOINT] goes back to it. A transaction not committed within
// its txtimeout (15 s by default) is rolled back.
//
// An SDK transaction hands itself over at its first ctx.query(): BEGIN WORK with txdata (whose
// attempt id becomes the txid, and whose mutations, staged through KV, the transaction takes over:
// ./transactions-handover.ts), then its key-value operations as EXECUTE __get / __insert /
// __update / __delete (./transaction-kv.ts). The transaction's own writes are staged in this
// process's memory, not in the documents.
//
// As in the query service, a transaction's statements run one at a time (those sent meanwhile
// wait their turn, 16 at most: 17021 beyond), and each is atomic: one that fails undoes whatever
// it had written, and the transaction goes on (a failed COMMIT rolls all of it back).
import { randomUUID } from 'node:crypto';
import type * as A from './ast';
import type { BucketMetadata, BucketStore, MutationEvent, StoredDoc, StoreWriteMode, StoreWriteOptions } from '../service-types';
import { parseDuration } from './duration';
import { QueryError, ErrorCode } from './errors';
import type { Env } from './keyspace';
import { Handover } from './transactions-handover';

export const TX_ERRORS = {
  STATEMENT_NOT_SUPPORTED: 17002,
  CONTEXT: 17004,
  OUT_OF_ORDER: 17005,
  START: 17006,
  COMMIT: 17007,
  ROLLBACK: 17008,
  NO_SAVEPOINT: 17009,
  EXPIRED: 17010,
  RELEASED: 17011,
  QUEUE_FULL: 17021,
} as const;

const DEFAULT_TIMEOUT_MS = 15_000;
/** How many statements of one transaction may wait for the running one (the query service's _TX_QUEUE_SIZE). */
const MAX_WAITING = 16;
/** The query service's limit on txtimeout (`txtimeout` above it is refused). */
const MAX_TIMEOUT_MS = 20 * 60_000;
const DURABILITY_LEVELS = new Set(['none', 'majority', 'majorityandpersistactive', 'persisttomajority']);

/**
 * A write the transaction made: the new document (null: deleted) and the CAS of the committed one
 * it replaces (0n: none); `kv` when the SDK staged it in the document before handing over (its
 * CAS is then the staged document's, live or deleted).
 */
interface Staged {
  doc: StoredDoc | null;
  baseCas: bigint;
  kv?: true;
}

/**
 * A transaction error with the `cause` the query service gives it from the transactions library:
 * whether the SDK should retry the transaction, roll it back, and what to raise. The SDKs act on
 * it (a write-write conflict at COMMIT: retry, the transaction being rolled back already).
 */
export class TransactionError extends QueryError {
  constructor(
    code: number,
    msg: string,
    readonly txCause: { cause: { msg: string }; retry: boolean; rollback: boolean; raise: 'failed' | 'expired' },
  ) {
    super(code, msg);
  }

  override toJSON(): ReturnType<QueryError['toJSON']> & { cause: TransactionError['txCause'] } {
    return { ...super.toJSON(), cause: this.txCause };
  }
}

class StoreErrorWithStatus extends Error {
  constructor(
    readonly status: number,
    id: string,
  ) {
    super(status === 0x02 ? `key ${id} exists` : `key ${id} not found`);
  }
}

/** One collection as a transaction sees it: its committed documents with the transaction's writes over them. */
class TxStore implements BucketStore {
  readonly listeners: Array<(event: MutationEvent) => void> = [];
  readonly metadata: BucketMetadata;

  constructor(
    readonly tx: Transaction,
    readonly base: BucketStore,
  ) {
    this.metadata = {
      get: (name) => base.metadata.get(name),
      set: () => {
        throw new QueryError(TX_ERRORS.STATEMENT_NOT_SUPPORTED, 'Definitions cannot be changed within the transaction');
      },
    };
  }

  private get staged(): Map<string, Staged> {
    return this.tx.stagedFor(this.base);
  }

  get name(): string {
    return this.base.name;
  }
  get scopeName(): string | undefined {
    return this.base.scopeName;
  }
  get collectionName(): string | undefined {
    return this.base.collectionName;
  }
  get uuid(): string {
    return this.base.uuid;
  }
  get highSeqno(): bigint {
    return this.base.highSeqno;
  }

  collectionNamed(scope: string, name: string): BucketStore | undefined {
    const found = this.base.collectionNamed?.(scope, name);
    return found === undefined ? undefined : found === this.base ? this : this.tx.view(found);
  }

  collections(): BucketStore[] {
    return (this.base.collections?.() ?? [this.base]).map((s) => (s === this.base ? this : this.tx.view(s)));
  }

  scopes(): ReadonlyArray<{ readonly name: string; readonly collections: readonly string[] }> {
    return this.base.scopes?.() ?? [];
  }

  get size(): number {
    let n = this.base.size;
    for (const [id, s] of this.staged) n += (s.doc ? 1 : 0) - (this.base.get(id) ? 1 : 0);
    return n;
  }

  get(id: string): StoredDoc | undefined {
    const s = this.staged.get(id);
    return s ? (s.doc ?? undefined) : this.base.get(id);
  }

  *docs(): IterableIterator<StoredDoc> {
    const staged = this.staged;
    for (const d of this.base.docs()) if (!staged.has(d.id)) yield d;
    for (const s of [...staged.values()]) if (s.doc) yield s.doc;
  }

  write(id: string, value: Buffer, mode: StoreWriteMode, options: StoreWriteOptions = {}): StoredDoc {
    this.tx.checkLive();
    const current = this.get(id);
    if (mode === 'insert' && current) throw new StoreErrorWithStatus(0x02, id);
    if (mode === 'replace' && !current) throw new StoreErrorWithStatus(0x01, id);
    if (options.cas && current && current.cas !== options.cas) throw new StoreErrorWithStatus(0x02, id);
    const doc: StoredDoc = {
      id,
      value,
      flags: options.flags ?? current?.flags ?? 0,
      datatype: options.datatype ?? (value[0] === 0x7b || value[0] === 0x5b ? 1 : 0),
      cas: this.tx.nextCas(),
      expiry: options.expiry ?? 0,
      seqno: 0n,
      vbucket: current?.vbucket ?? 0,
    };
    this.stage(id, doc, current);
    for (const l of this.listeners) l({ kind: 'set', doc, previous: current });
    return doc;
  }

  remove(id: string, options: { cas?: bigint } = {}): void {
    this.tx.checkLive();
    const current = this.get(id);
    if (!current) throw new StoreErrorWithStatus(0x01, id);
    if (options.cas && current.cas !== options.cas) throw new StoreErrorWithStatus(0x02, id);
    this.stage(id, null, current);
    for (const l of this.listeners) l({ kind: 'delete', id, vbucket: current.vbucket, seqno: 0n, previous: current });
  }

  private stage(id: string, doc: StoredDoc | null, _current: StoredDoc | undefined): void {
    const staged = this.staged;
    const before = staged.get(id);
    this.tx.undo?.push({ staged, id, before });
    staged.set(id, before ? { ...before, doc } : { doc, baseCas: this.base.get(id)?.cas ?? 0n });
  }

  onMutation(listener: (event: MutationEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}

export interface TransactionOptions {
  timeoutMs: number;
  durabilityLevel?: string;
  /** The attempt id an SDK transaction handing over to the query service gives in txdata (it becomes the txid). */
  id?: string;
  /** The writes that SDK transaction staged through KV before handing over. */
  handover?: Handover;
}

export class Transaction {
  readonly id: string;
  private readonly writes = new Map<BucketStore, Map<string, Staged>>();
  private readonly views = new Map<BucketStore, TxStore>();
  private savepoints: Array<{ name: string; writes: Map<BucketStore, Map<string, Staged>> }> = [];
  private cas = BigInt(Date.now()) * 1_000_000n;
  private readonly timer: NodeJS.Timeout;
  /** Whether a statement of the transaction runs now; the ones sent meanwhile wait their turn. */
  private turnTaken = false;
  private readonly waiting: Array<() => void> = [];
  /** What the running statement changed, to undo it if it fails (statement atomicity). */
  undo: Array<{ staged: Map<string, Staged>; id: string; before: Staged | undefined }> | undefined;
  lastStatement = 0;
  ended: 'committed' | 'rolled back' | 'expired' | undefined;

  constructor(
    readonly options: TransactionOptions,
    private readonly onEnd: (tx: Transaction) => void,
  ) {
    this.id = options.id ?? randomUUID();
    for (const w of options.handover?.writes ?? []) this.stagedFor(w.store).set(w.id, { doc: w.doc, baseCas: w.cas, kv: true });
    this.timer = setTimeout(() => this.end('expired'), options.timeoutMs);
    this.timer.unref();
  }

  /**
   * Takes the transaction's turn, as the query service runs a transaction's statements: one at
   * a time, those sent meanwhile queued in order (17021 when 16 already wait). `ready` (when the
   * turn is not free at once) settles when it comes; `release` gives it on, or leaves the queue
   * (`cutShort`: the statement did not finish, so what it wrote is undone first).
   */
  takeTurn(): { ready: Promise<void> | undefined; release: (cutShort?: boolean) => void } {
    let state: 'waiting' | 'running' | 'done' = 'running';
    let wake: (() => void) | undefined;
    let ready: Promise<void> | undefined;
    if (this.turnTaken) {
      if (this.waiting.length >= MAX_WAITING) throw new QueryError(TX_ERRORS.QUEUE_FULL, 'Transaction queue is full');
      state = 'waiting';
      ready = new Promise((resolve) => {
        wake = () => {
          state = 'running';
          resolve();
        };
        this.waiting.push(wake);
      });
    } else this.turnTaken = true;
    const release = (cutShort = false): void => {
      if (state === 'waiting') this.waiting.splice(this.waiting.indexOf(wake!), 1);
      else if (state === 'running') {
        if (cutShort) this.endStatement(false);
        const next = this.waiting.shift();
        if (next) next();
        else this.turnTaken = false;
      }
      state = 'done';
    };
    return { ready, release };
  }

  /** Starts a statement: from here its writes can be undone. */
  beginStatement(): void {
    this.undo = [];
  }

  /** Ends a statement; one that failed leaves the transaction as it was before it. */
  endStatement(ok: boolean): void {
    const undo = this.undo;
    this.undo = undefined;
    if (ok || undo === undefined || undo.length === 0 || this.ended) return;
    for (let i = undo.length - 1; i >= 0; i--) {
      const { staged, id, before } = undo[i];
      if (before === undefined) staged.delete(id);
      else staged.set(id, before);
    }
    // The views' indexes followed the undone writes: rebuild them over the restored state.
    this.views.clear();
  }

  checkLive(): void {
    if (this.ended === 'expired') throw new QueryError(TX_ERRORS.EXPIRED, 'Transaction timeout');
    if (this.ended) throw new QueryError(TX_ERRORS.RELEASED, 'Transaction is released');
  }

  nextCas(): bigint {
    return ++this.cas;
  }

  stagedFor(base: BucketStore): Map<string, Staged> {
    let m = this.writes.get(base);
    if (!m) this.writes.set(base, (m = new Map()));
    return m;
  }

  /** The collection `base` as this transaction sees it (one view per collection, so its indexes are built once). */
  view(base: BucketStore): TxStore {
    let v = this.views.get(base);
    if (!v) this.views.set(base, (v = new TxStore(this, base)));
    return v;
  }

  /** The statement's environment with every bucket seen through this transaction. */
  envFor(env: Env): Env {
    return {
      ...env,
      bucket: (name) => {
        const b = env.bucket(name);
        return b === undefined ? undefined : this.view(b);
      },
      buckets: () => env.buckets().map((b) => this.view(b)),
    };
  }

  savepoint(name: string): void {
    this.savepoints = this.savepoints.filter((s) => s.name !== name);
    this.savepoints.push({ name, writes: copyWrites(this.writes) });
  }

  rollbackTo(name: string): void {
    const i = this.savepoints.findIndex((s) => s.name === name);
    if (i < 0) throw new QueryError(TX_ERRORS.NO_SAVEPOINT, `${name} savepoint is not defined`);
    const saved = copyWrites(this.savepoints[i].writes);
    this.savepoints = this.savepoints.slice(0, i + 1);
    this.writes.clear();
    for (const [k, v] of saved) this.writes.set(k, v);
    // The views' indexes were kept current write by write: rebuild them over the restored state.
    this.views.clear();
  }

  /** Writes every staged change, after checking none of the documents changed since the transaction read them. */
  commit(): number {
    this.checkLive();
    // As the query service words it: the detail in the cause, which tells the SDK whether to retry.
    const fail = (why: string, retry: boolean): QueryError => {
      this.end('rolled back');
      return new TransactionError(TX_ERRORS.COMMIT, 'Commit Transaction statement error', { cause: { msg: `${why}; the transaction was rolled back` }, retry, rollback: false, raise: 'failed' });
    };
    for (const [base, staged] of this.writes) {
      for (const [id, s] of staged) {
        const now = s.kv ? Handover.casNow(base, id) : (base.get(id)?.cas ?? 0n);
        if (now !== s.baseCas) throw fail(`document ${id} was changed outside the transaction (write-write conflict)`, true);
      }
    }
    const handover = this.options.handover;
    if (handover && !handover.pending) throw fail(`the ATR entry of attempt ${this.id} is no longer PENDING (aborted by a cleanup)`, false);
    // The protocol's order: the ATR entry says COMMITTED before any document does. From then on
    // the commit is decided: should a write fail, the entry stays for a cleanup to roll forward.
    try {
      handover?.markCommitted();
    } catch (e) {
      throw fail(`the ATR entry of attempt ${this.id} could not be marked COMMITTED (${(e as Error).message})`, false);
    }
    let n = 0;
    try {
      for (const [base, staged] of this.writes) {
        for (const [id, s] of staged) {
          if (s.kv) handover!.unstage(base, id, s.doc);
          else if (s.doc) base.write(id, s.doc.value, 'upsert', { flags: s.doc.flags, datatype: s.doc.datatype, expiry: s.doc.expiry });
          else if (base.get(id)) base.remove(id);
          n++;
        }
      }
      handover?.complete();
    } finally {
      this.end('committed');
    }
    return n;
  }

  end(how: 'committed' | 'rolled back' | 'expired'): void {
    if (this.ended) return;
    this.ended = how;
    clearTimeout(this.timer);
    this.writes.clear();
    this.views.clear();
    this.undo = undefined;
    if (how !== 'committed') {
      try {
        this.options.handover?.rollBack();
      } catch {
        // A write the rollback could not make (a sync write in progress on the document): the ATR
        // entry stays, and the SDKs' lost-transaction cleanup finishes the rollback once it expires.
      }
    }
    this.onEnd(this);
  }
}

function copyWrites(w: Map<BucketStore, Map<string, Staged>>): Map<BucketStore, Map<string, Staged>> {
  return new Map([...w].map(([k, v]) => [k, new Map(v)]));
}

/** The transactions a query service has open, by txid (shared by its nodes, like the request log). */
export class TransactionTable {
  private readonly open = new Map<string, Transaction>();

  begin(options: TransactionOptions): Transaction {
    if (options.id !== undefined && this.open.has(options.id)) throw new QueryError(TX_ERRORS.START, `Start Transaction statement error: transaction ${options.id} is already started`);
    const tx = new Transaction(options, (t) => {
      // An expired transaction stays findable, so its next statement gets 17010 rather than "unknown txid".
      if (t.ended !== 'expired') this.open.delete(t.id);
      else setTimeout(() => this.open.delete(t.id), 60_000).unref();
    });
    this.open.set(tx.id, tx);
    return tx;
  }

  get(txid: string): Transaction {
    const tx = this.open.get(txid);
    if (!tx) throw new QueryError(TX_ERRORS.CONTEXT, `Transaction context error: transaction (${txid}) is not present`);
    return tx;
  }

  get size(): number {
    return this.open.size;
  }
}

/** The transaction request parameters, checked as the query service checks them. */
export function transactionOptions(params: Record<string, unknown>): TransactionOptions {
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (params.txtimeout !== undefined) {
    const t = typeof params.txtimeout === 'string' ? parseDuration(params.txtimeout) : undefined;
    if (t === undefined || t <= 0) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for txtimeout parameter: ${String(params.txtimeout)}`);
    if (t > MAX_TIMEOUT_MS) throw new QueryError(ErrorCode.BAD_PARAMETER, `txtimeout parameter ${String(params.txtimeout)} exceeds the maximum of 20m0s`);
    timeoutMs = t;
  }
  const level = params.durability_level;
  if (level !== undefined && (typeof level !== 'string' || !DURABILITY_LEVELS.has(level.toLowerCase()))) {
    throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for durability_level parameter: ${String(level)}`);
  }
  for (const k of ['kvtimeout'] as const) {
    const v = params[k];
    if (v !== undefined && (typeof v !== 'string' || parseDuration(v) === undefined)) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for ${k} parameter: ${String(v)}`);
  }
  if (params.numatrs !== undefined) {
    const n = typeof params.numatrs === 'string' ? Number(params.numatrs) : params.numatrs;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > 1024) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for numatrs parameter: ${String(params.numatrs)}`);
  }
  if (params.atrcollection !== undefined && typeof params.atrcollection !== 'string') throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for atrcollection parameter: ${String(params.atrcollection)}`);
  const txdata = params.txdata as { id?: { atmpt?: unknown } } | undefined;
  const id = typeof txdata?.id?.atmpt === 'string' ? txdata.id.atmpt : undefined;
  return { timeoutMs, durabilityLevel: typeof level === 'string' ? level : undefined, id };
}

/**
 * A document's DML failure as a transaction reports it: the transaction error itself (17012
 * Duplicate Key, 17014 Key not found), where outside one it is the cause of a 12009.
 */
export function inTransactionError(e: QueryError): QueryError {
  const cause = e.reason;
  if (e.code === ErrorCode.DML && cause && (cause.code === 17012 || cause.code === 17014) && typeof cause.message === 'string') {
    return new QueryError(cause.code, cause.code === 17014 ? cause.message.replace('Key not found: ', 'Key not found : ') : cause.message);
  }
  return e;
}

/** Statements a transaction may run (the others only outside one, and not with tximplicit). */
const IN_TRANSACTION = new Set(['select', 'insert', 'update', 'delete', 'merge', 'executeFunction', 'execute', 'prepare']);

const TRANSACTION_STATEMENTS: Record<A.TransactionStatement['action'], string> = {
  begin: 'START_TRANSACTION',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT',
  isolation: 'SET_TRANSACTION_ISOLATION',
};

/** A statement's type as the query service names it in its messages (CREATE_INDEX, ROLLBACK_SAVEPOINT, ...). */
function statementTypeName(stmt: A.Statement): string {
  switch (stmt.type) {
    case 'transaction':
      return stmt.action === 'rollback' && stmt.savepoint !== undefined ? 'ROLLBACK_SAVEPOINT' : TRANSACTION_STATEMENTS[stmt.action];
    case 'createIndex':
      return stmt.primary ? 'CREATE_PRIMARY_INDEX' : 'CREATE_INDEX';
    case 'collectionDdl':
      return `${stmt.action}_${stmt.what}`.toUpperCase();
    case 'grant':
    case 'revoke':
      return `${stmt.type}_ROLE`.toUpperCase();
    default:
      return stmt.type.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
  }
}

/**
 * Whether a statement may run where the request puts it, as the query service decides before
 * planning: DML, SELECT, PREPARE, EXECUTE [FUNCTION] anywhere; COMMIT, ROLLBACK, SAVEPOINT and SET
 * TRANSACTION only in a transaction (txid), BEGIN only outside one; anything else neither in a
 * transaction nor with tximplicit (EXPLAIN and ADVISE are judged by the statement they explain,
 * which may be a transaction statement anywhere). 17002 otherwise.
 */
export function checkStatementKind(stmt: A.Statement, inTransaction: boolean, implicit: boolean): void {
  const target = stmt.type === 'explain' || stmt.type === 'advise' ? stmt.stmt : stmt;
  if (IN_TRANSACTION.has(target.type)) return;
  let where: string | undefined;
  if (target.type === 'transaction') {
    if (target === stmt && inTransaction === (target.action === 'begin')) where = inTransaction ? 'within the' : 'outside the';
  } else if (inTransaction) where = 'within the';
  else if (implicit) where = 'in implicit';
  if (where !== undefined) throw new QueryError(TX_ERRORS.STATEMENT_NOT_SUPPORTED, `${statementTypeName(target)} statement is not supported ${where} transaction`);
}

/** Runs BEGIN / COMMIT / ROLLBACK / SAVEPOINT / SET TRANSACTION; the rows they answer with. */
export function runTransactionStatement(stmt: A.TransactionStatement, table: TransactionTable | undefined, tx: Transaction | undefined, params: Record<string, unknown>, env: Env): Array<Record<string, string>> {
  if (table === undefined) throw new QueryError(TX_ERRORS.CONTEXT, 'Transaction context error: this query service runs no transactions');
  switch (stmt.action) {
    case 'begin': {
      if (tx) throw new QueryError(TX_ERRORS.START, `Start Transaction statement error: transaction ${tx.id} is already started (nested transactions are not supported)`);
      const options = transactionOptions(params);
      return [{ txid: table.begin({ ...options, handover: Handover.take(params.txdata, (name) => env.bucket(name)) }).id }];
    }
    case 'isolation':
      // READ COMMITTED is the only level, and the one every transaction has.
      return [];
    default:
      break;
  }
  if (!tx) throw new QueryError(TX_ERRORS.STATEMENT_NOT_SUPPORTED, `${statementTypeName(stmt)} statement is not supported outside the transaction`);
  tx.checkLive();
  switch (stmt.action) {
    case 'commit':
      tx.commit();
      return [];
    case 'savepoint':
      tx.savepoint(stmt.savepoint!);
      return [];
    default:
      if (stmt.savepoint !== undefined) tx.rollbackTo(stmt.savepoint);
      else tx.end('rolled back');
      return [];
  }
}
