// The words of N1QL (Couchbase's reserved words) and its common functions: what the shell
// completes and the console's editor highlights. Lower case; both show them as typed.
export const N1QL_KEYWORDS: readonly string[] = [
  'advise', 'all', 'alter', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'at', 'begin',
  'between', 'binary', 'boolean', 'break', 'bucket', 'build', 'by', 'call', 'case', 'cast',
  'cluster', 'collate', 'collection', 'commit', 'committed', 'connect', 'continue', 'correlated',
  'cover', 'create', 'current', 'database', 'dataset', 'datastore', 'dataverse', 'decrement',
  'declare', 'default', 'delete', 'derived', 'desc', 'describe', 'distinct', 'do', 'drop', 'each',
  'element', 'else', 'end', 'escape', 'every', 'except', 'exclude', 'execute', 'exists', 'explain',
  'false', 'fetch', 'filter', 'first', 'flatten', 'flush', 'following', 'for', 'force', 'from',
  'ftsearch', 'function', 'golang', 'grant', 'group', 'groupsi', 'hash', 'having', 'if', 'ignore',
  'ilike', 'in', 'include', 'increment', 'index', 'infer', 'inline', 'inner', 'insert',
  'intersect', 'into', 'is', 'isolation', 'javascript', 'join', 'key', 'keys', 'keyspace', 'known',
  'language', 'last', 'left', 'let', 'letting', 'level', 'like', 'limit', 'lsm', 'map', 'mapping',
  'matched', 'materialized', 'merge', 'minus', 'missing', 'namespace', 'nest', 'nl', 'no', 'not',
  'null', 'nulls', 'number', 'object', 'offset', 'on', 'option', 'or', 'order', 'others', 'outer',
  'over', 'parse', 'partition', 'password', 'path', 'pool', 'preceding', 'prepare', 'primary',
  'private', 'privilege', 'procedure', 'probe', 'public', 'range', 'raw', 'read', 'realm',
  'recursive', 'reduce', 'rename', 'replace', 'respect', 'restrict', 'return', 'returning',
  'revoke', 'right', 'role', 'roles', 'rollback', 'row', 'rows', 'satisfies', 'savepoint',
  'schema', 'scope', 'select', 'self', 'semi', 'set', 'show', 'some', 'start', 'statistics',
  'string', 'system', 'then', 'ties', 'to', 'tran', 'transaction', 'trigger', 'true', 'truncate',
  'unbounded', 'under', 'union', 'unique', 'unknown', 'unnest', 'unset', 'update', 'upsert', 'use',
  'user', 'using', 'validate', 'value', 'valued', 'values', 'via', 'view', 'when', 'where',
  'while', 'window', 'with', 'within', 'work', 'xor',
];

export const N1QL_FUNCTIONS: readonly string[] = [
  'meta', 'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'array_length', 'array_contains',
  'array_append', 'array_concat', 'array_distinct', 'object_names', 'object_values',
  'object_pairs', 'lower', 'upper', 'length', 'substr', 'trim', 'ltrim', 'rtrim', 'contains',
  'position', 'replace', 'split', 'regexp_like', 'regexp_contains', 'regexp_replace',
  'str_to_millis', 'millis_to_str', 'now_str', 'now_millis', 'date_add_str', 'date_diff_str',
  'date_part_str', 'to_string', 'to_number', 'to_boolean', 'to_array', 'to_object', 'type',
  'is_string', 'is_number', 'is_array', 'is_object', 'ifmissing', 'ifnull', 'ifmissingornull',
  'abs', 'ceil', 'floor', 'round', 'trunc', 'sqrt', 'power', 'uuid', 'base64_encode',
  'base64_decode',
];
