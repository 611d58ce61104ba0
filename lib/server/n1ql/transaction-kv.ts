// The key-value statements an SDK transaction sends once it runs through the query service
// (after its first ctx.query()): EXECUTE __get, __insert, __update and __delete, with the
// keyspace and the key as arguments (and the value, and options), the CAS the SDK last saw in
// txdata.scas. They act on the transaction's view of the collection (./transactions.ts) and
// answer as the SDKs read them: {"scas": "<cas>", "doc": <value>}, no row for a missing document
// on __get, and 17012 / 17014 / 17015 for a duplicate, a missing document and a CAS mismatch.
import { QueryError } from './errors';
import { docValue } from './indexes';
import { jsonText } from './json';
import { resolveBucket, type Env } from './keyspace';
import { keyspaceOf } from './keyspace-params';
import { isObject, type Value } from './value';

export const TRANSACTION_KV = new Set(['__get', '__insert', '__update', '__delete']);

const VERBS: Record<string, string> = { __get: 'SELECT', __insert: 'INSERT', __update: 'UPDATE', __delete: 'DELETE' };

/** Runs one of them; the rows it answers with. */
export function runTransactionKv(name: string, args: Value[], txdata: unknown, env: Env): Value[] {
  const ksText = args[0];
  const key = args[1];
  const ks = typeof ksText === 'string' ? keyspaceOf(ksText) : undefined;
  if (ks === undefined || typeof key !== 'string') throw new QueryError(5000, `EXECUTE ${name}: expected the keyspace and the document key as the first two arguments`);
  const store = resolveBucket(env, ks, VERBS[name]);
  const current = store.get(key);
  const scas = isObject(txdata as Value) ? (txdata as Record<string, unknown>).scas : undefined;
  // As the query service words it: the operation, the CAS the SDK sent (actual) and the document's (expected).
  const casMismatch = (): QueryError => new QueryError(17015, `${name.slice(2).toUpperCase()} cas (actual:${String(scas)}, expected:${current?.cas ?? 0}) mismatch for key: ${key}`);
  if (name !== '__get' && name !== '__insert' && typeof scas === 'string' && current && String(current.cas) !== scas) throw casMismatch();
  switch (name) {
    case '__get':
      return current ? [{ scas: String(current.cas), doc: docValue(current) }] : [];
    case '__insert': {
      if (current) throw new QueryError(17012, `Duplicate Key: ${key}`);
      const doc = store.write(key, Buffer.from(jsonText(args[2] ?? null) ?? 'null'), 'insert', { flags: 0x02000000 });
      return [{ scas: String(doc.cas), doc: args[2] ?? null }];
    }
    case '__update': {
      if (!current) throw new QueryError(17014, `Key not found : ${key}`);
      const doc = store.write(key, Buffer.from(jsonText(args[2] ?? null) ?? 'null'), 'replace', { flags: current.flags || 0x02000000 });
      return [{ scas: String(doc.cas), doc: args[2] ?? null }];
    }
    default:
      if (!current) throw new QueryError(17014, `Key not found : ${key}`);
      store.remove(key);
      return [];
  }
}
