// FINDERR(code | text | regexp): the details of the query service's errors. The catalog holds
// the errors this engine reports, with the details the FINDERR reference shows for them where
// it shows them (5011, 3100, 3150, 3220, 3300, 5072, 15005) and the message templates otherwise.
// Text is matched as a case-insensitive RE2 expression against every field but user_error.
import { RE2JS } from 're2js';
import type { Value } from '../value';
import { family, def, isNum, isStr } from './registry';

family({ floatArgs: false });

interface ErrorDetails {
  code: number;
  symbol: string;
  description: string;
  reason?: (string | string[])[];
  user_action?: string[];
  user_error?: 'Yes' | 'No' | 'Maybe';
}

const CATALOG: ErrorDetails[] = [
  { code: 1000, symbol: 'E_SERVICE_READONLY', description: 'The server or request is read-only and cannot accept this write statement.', user_error: 'Yes' },
  { code: 1050, symbol: 'E_SERVICE_MISSING_VALUE', description: 'No «value» value', user_error: 'Yes' },
  { code: 1065, symbol: 'E_SERVICE_UNRECOGNIZED_PARAMETER', description: 'Unrecognized parameter in request: «parameter»', user_error: 'Yes' },
  { code: 1080, symbol: 'E_SERVICE_TIMEOUT', description: 'Timeout «duration» exceeded', user_error: 'Maybe' },
  { code: 1100, symbol: 'E_SERVICE_INVALID_JSON', description: 'Error processing JSON request body: «cause»', user_error: 'Yes' },
  { code: 3000, symbol: 'E_PARSE_SYNTAX', description: 'syntax error - «details»', user_error: 'Yes' },
  { code: 3080, symbol: 'E_AMBIGUOUS_REFERENCE', description: "Ambiguous reference to field '«field»'«context».", user_error: 'Yes' },
  {
    code: 3100,
    symbol: 'E_SEMANTICS',
    description: 'A semantic error is present in the statement.',
    reason: ['The statement includes portions that violate semantic constraints.'],
    user_action: ['The cause will contain more detail on the violation; revise the statement and re-submit.'],
    user_error: 'Yes',
  },
  {
    code: 3150,
    symbol: 'E_MERGE_INSERT_NO_KEY',
    description: 'MERGE with ON KEY clause cannot have document key specification in INSERT action.',
    reason: [["A lookup merge statement specified a document key.", "e.g. MERGE INTO default USING [{},{}] AS source ON KEY 'aaa' WHEN NOT MATCHED THEN INSERT ('key',{})"]],
    user_action: ['Refer to the documentation for lookup merge statements.'],
    user_error: 'Yes',
  },
  { code: 3160, symbol: 'E_MERGE_INSERT_MISSING_KEY', description: 'MERGE with ON clause must have document key specification in INSERT action.', user_error: 'Yes' },
  { code: 3170, symbol: 'E_MERGE_MISSING_SOURCE', description: 'MERGE is missing source.', user_error: 'Yes' },
  { code: 3180, symbol: 'E_MERGE_NO_INDEX_HINT', description: 'MERGE with ON KEY clause cannot have USE INDEX hint specified on target.', user_error: 'Yes' },
  { code: 3190, symbol: 'E_MERGE_NO_JOIN_HINT', description: 'MERGE with ON KEY clause cannot have join hint specified on source.', user_error: 'Yes' },
  {
    code: 3220,
    symbol: 'E_WINDOW_SEMANTIC',
    description: '«name» window function «clause» «reason»',
    reason: ['A violation of the window function semantic restrictions was present in the statement.'],
    user_action: ['Revise the statement to remove the violation.'],
    user_error: 'Yes',
  },
  {
    code: 3300,
    symbol: 'E_RECURSIVE_WITH_SEMANTIC',
    description: 'recursive_with semantics: «cause»',
    reason: ['The statement specifies restricted syntax in a recursive common table expression definition.'],
    user_action: ['Revise the statement removing the restricted syntax.'],
    user_error: 'Yes',
  },
  { code: 4000, symbol: 'E_PLAN', description: '«cause»', reason: ['The statement could not be planned: no index serves it, or a clause holds something the planner refuses.'], user_error: 'Maybe' },
  { code: 4010, symbol: 'E_NO_TERM_NAME', description: '«term» term must have a name or alias', user_error: 'Yes' },
  { code: 4020, symbol: 'E_DUPLICATE_ALIAS', description: 'Duplicate «term» alias «alias»', user_error: 'Yes' },
  { code: 4040, symbol: 'E_NO_SUCH_PREPARED', description: 'No such prepared statement: «name»', user_error: 'Yes' },
  { code: 4060, symbol: 'E_PREPARED_NAME', description: 'Unable to add name: «reason»', user_error: 'Yes' },
  { code: 4070, symbol: 'E_PREPARED_DECODING', description: 'Unable to decode prepared statement', user_error: 'Yes' },
  { code: 4090, symbol: 'E_ENCODING_NAME_MISMATCH', description: 'Mismatching name in encoded plan, expecting: «expected», found: «found»', user_error: 'Yes' },
  { code: 4210, symbol: 'E_NOT_GROUP_KEY_OR_AGG', description: 'Expression «expression» must depend only on group keys or aggregates.', user_error: 'Yes' },
  { code: 4300, symbol: 'E_INDEX_ALREADY_EXISTS', description: 'The index «name» already exists.', user_error: 'Yes' },
  { code: 4310, symbol: 'E_AMBIGUOUS_META', description: '«function»() in query with multiple FROM terms requires an argument«context».', user_error: 'Yes' },
  { code: 5000, symbol: 'E_INTERNAL', description: '«cause»', user_error: 'No' },
  { code: 5010, symbol: 'E_EVALUATION', description: 'Error evaluating «term». - cause: «cause»', user_error: 'Maybe' },
  {
    code: 5011,
    symbol: 'E_EVALUATION_ABORT',
    description: 'Abort: «reason»',
    reason: [['The SQL++ abort() function was called in the statement.', "e.g. SELECT abort('An example cause')"]],
    user_error: 'Yes',
  },
  { code: 5036, symbol: 'W_DIVIDE_BY_ZERO', description: 'Division by 0.', user_error: 'Yes' },
  { code: 5050, symbol: 'E_INSERT_KEY', description: 'No INSERT key for «value»', user_error: 'Yes' },
  { code: 5060, symbol: 'E_INSERT_VALUE', description: 'No INSERT value for «value»', user_error: 'Yes' },
  { code: 5070, symbol: 'E_INSERT_KEY_TYPE', description: 'Cannot INSERT non-string key «key» of type «type».', user_error: 'Yes' },
  { code: 5071, symbol: 'E_INSERT_OPTIONS_TYPE', description: 'Cannot INSERT non-OBJECT options «options» of type «type».', user_error: 'Yes' },
  { code: 5072, symbol: 'E_UPSERT_KEY', description: 'No UPSERT key for «value»', user_action: ['Contact support.'] },
  { code: 5075, symbol: 'E_UPSERT_VALUE', description: 'No UPSERT value for «value»', user_error: 'Yes' },
  { code: 5078, symbol: 'E_UPSERT_KEY_TYPE', description: 'Cannot UPSERT non-string key «key» of type «type».', user_error: 'Yes' },
  { code: 5079, symbol: 'E_UPSERT_OPTIONS_TYPE', description: 'Cannot UPSERT non-OBJECT options «options» of type «type».', user_error: 'Yes' },
  { code: 5320, symbol: 'E_MERGE_MULTI_UPDATE', description: "Multiple UPDATE/DELETE of the same document (document key '«key»') in a MERGE statement", user_error: 'Yes' },
  { code: 5330, symbol: 'E_MERGE_MULTI_INSERT', description: "Multiple INSERT of the same document (document key '«key»') in a MERGE statement", user_error: 'Yes' },
  { code: 5340, symbol: 'E_WINDOW_EVALUATION', description: 'Error during window aggregate evaluation: «cause»', user_error: 'Maybe' },
  { code: 10000, symbol: 'E_DATASTORE_AUTHORIZATION', description: 'Unable to authorize user.', user_error: 'Yes' },
  { code: 10101, symbol: 'E_MISSING_FUNCTION', description: 'Function not found «name»', user_error: 'Yes' },
  { code: 10102, symbol: 'E_DUPLICATE_FUNCTION', description: 'Function already exists «name»', user_error: 'Yes' },
  { code: 10104, symbol: 'E_ARGUMENTS_MISMATCH', description: 'Incorrect number of arguments supplied to function «name»', user_error: 'Yes' },
  { code: 10105, symbol: 'E_INVALID_FUNCTION_NAME', description: 'Invalid function name «name»', user_error: 'Yes' },
  { code: 10109, symbol: 'E_FUNCTION_EXECUTION', description: 'Error executing function «name» «reason»', user_error: 'Maybe' },
  { code: 10112, symbol: 'E_TOO_MANY_NESTED_FUNCTIONS', description: 'Error executing function «name»: «levels» nested function calls', user_error: 'Yes' },
  { code: 12003, symbol: 'E_CB_KEYSPACE_NOT_FOUND', description: 'Keyspace not found in CB datastore: «keyspace»', user_error: 'Yes' },
  { code: 12004, symbol: 'E_CB_PRIMARY_INDEX_NOT_FOUND', description: 'Index Not Found - cause: GSI index «name» not found.', user_error: 'Yes' },
  { code: 12009, symbol: 'E_CB_DML', description: 'DML Error, possible causes include concurrent modification. Failed to perform «operation» on key «key»', user_error: 'Maybe' },
  { code: 13014, symbol: 'E_DATASTORE_INSUFFICIENT_CREDENTIALS', description: 'User does not have credentials to run «statement» queries on «keyspace». Add role «role» on «keyspace» to allow the statement to run.', user_error: 'Yes' },
  { code: 15005, symbol: 'E_FILE_NO_KEYS_INSERT', description: 'No keys to insert «details»' },
];

function shown(d: ErrorDetails): Value {
  const out: Record<string, Value> = { applies_to: 'Server', code: d.code, description: d.description };
  if (d.reason) out.reason = d.reason;
  if (d.user_action) out.user_action = d.user_action;
  if (d.user_error) out.user_error = d.user_error;
  return out;
}

function matches(d: ErrorDetails, re: RE2JS): boolean {
  const texts = [d.symbol, d.description, ...(d.reason ?? []).flat(), ...(d.user_action ?? [])];
  return texts.some((t) => re.test(t));
}

def('finderr', 1, 1, ([v]) => {
  if (isNum(v)) return CATALOG.filter((d) => d.code === v).map(shown);
  if (!isStr(v)) return null;
  let re: RE2JS;
  try {
    re = RE2JS.compile(v, RE2JS.CASE_INSENSITIVE);
  } catch {
    re = RE2JS.compile(RE2JS.quote(v), RE2JS.CASE_INSENSITIVE);
  }
  return CATALOG.filter((d) => matches(d, re)).map(shown);
});
