// deferbase engine: the callback-based core the three flavours share.
//
//   const engine = new Engine('couchbase://127.0.0.1:11210/default?operation_timeout=2.5',
//                             { username: 'Administrator', password: 'password' });
//   engine.connect((err) => ...);                       // also implicit on the first operation
//   engine.kv('upsert', 'id', { value: { a: 1 }, ttl: 0, format: FMT_JSON }, (err, result) => ...);
//   engine.kv('get', 'id', null, (err, r: ValueResult) => r.value);
//   engine.kvMulti('get', ['a', 'b'], null, (_err, multi: MultiResult) => multi.get('a'));
//   const ctl = engine.n1ql(new N1QLQuery('SELECT 1'), { onRows, onDone, onError });
//   const ctl2 = engine.view('ddoc', 'view', { limit: 10 }, { onRows, onDone, onError });
//   ctl.pause(); ctl.resume(); ctl.cancel();            // cancel -> onError(CancelledError)
//   engine.close((err) => ...);                         // pending ops -> CancelledError
//
// Operations (OPERATIONS): upsert insert replace append prepend get touch lock unlock remove
// counter getReplica observe endure stats. Options (KvOptions): value, cas (bigint), ttl (s),
// format, timeout (SECONDS, like libcouchbase), persistTo/replicateTo, delta/initial, replica,
// masterOnly, checkRemoved, quiet, noFormat. Callbacks are always called asynchronously, once.
// Events: 'connect', 'error' (background connection errors), 'config' (Topology), 'close'.
export { Engine, type EngineOptions, type EngineEvents, type KvCallback, type KvHandle, type KvHandler, type MultiCallback } from './engine';
export * from './errors';
export * from './results';
export * from './transcoder';
export { OPERATIONS, opSpec, type OpName, type OpSpec, type KvOptions } from './kv/operations';
export { parseConnstr, knownOptionNames, DEFAULT_OPTIONS, type ConnSpec, type ConnOptions, type ConnOptionsInput, type HostSpec } from './connstr';
export { Topology } from './topology';
export { N1QLQuery, CONSISTENCY_NONE, CONSISTENCY_REQUEST, CONSISTENCY_STATEMENT, CONSISTENCY_AT_PLUS, type Consistency, type N1QLMeta } from './services/n1ql';
export { encodeViewQuery, ViewQuery, STALE_OK, STALE_FALSE, STALE_UPDATE_AFTER, ONERROR_CONTINUE, ONERROR_STOP, type ViewQueryOptions, type ViewRow, type ViewMeta } from './services/views';
export type { RowsHandler, StreamControl } from './services/stream';
export { RowStreamParser, RowParseError } from './services/row-parser';
