// SQL++ transaction statements (BEGIN WORK, COMMIT, ROLLBACK, SAVEPOINT, SET TRANSACTION). They
// parse, but the embedded query service does not run transactions yet: each is refused with a
// transaction error saying so, never answered as if a transaction had started.
import type * as A from './ast';
import { QueryError } from './errors';

/** Couchbase's 17001 "Transactions are not supported on ... store". */
const E_TRAN_DATASTORE_NOT_SUPPORTED = 17001;

export function runTransactionStatement(stmt: A.TransactionStatement): never {
  const what = { begin: 'BEGIN WORK', commit: 'COMMIT', rollback: 'ROLLBACK', savepoint: 'SAVEPOINT', isolation: 'SET TRANSACTION' }[stmt.action];
  throw new QueryError(
    E_TRAN_DATASTORE_NOT_SUPPORTED,
    `Transactions are not supported on the embedded cluster's store (${what}): run the statements outside a transaction, or use the SDK's KV transactions.`,
  );
}
