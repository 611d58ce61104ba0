// Query Workbench: a N1QL editor (highlighting, completion of keywords and keyspaces, history),
// Ctrl-Enter to run, named and positional parameters, results as JSON, as a table, and the plan
// of an EXPLAIN drawn as a tree; metrics, and errors with their codes. The query goes through
// the management port's query proxy and streams like any client's.
import { useRef, useState } from 'preact/hooks';
import { runQuery, type QueryResponse } from '../api';
import { Editor } from '../editor';
import { ErrorBox, JsonTable, Section, useBuckets } from '../ui';

const HISTORY_KEY = 'deferbase.console.queryHistory';
const HISTORY_SIZE = 100;

function loadHistory(): string[] {
  try {
    const h = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
    return Array.isArray(h) ? h.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

type Tab = 'json' | 'table' | 'plan';

export function QueryPage() {
  const buckets = useBuckets();
  const [history, setHistory] = useState<string[]>(loadHistory);
  const [statement, setStatement] = useState(history[0] ?? 'SELECT 1 AS hello;');
  const [named, setNamed] = useState('');
  const [positional, setPositional] = useState('');
  const [running, setRunning] = useState(false);
  const [bytes, setBytes] = useState(0);
  const [result, setResult] = useState<QueryResponse>();
  const [error, setError] = useState<string>();
  const [tab, setTab] = useState<Tab>('table');
  const abort = useRef<AbortController | undefined>(undefined);
  const started = useRef(0);
  const [elapsed, setElapsed] = useState<number>();

  const remember = (s: string) => {
    const next = [s, ...history.filter((h) => h !== s)].slice(0, HISTORY_SIZE);
    setHistory(next);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
  };

  const run = async (text = statement) => {
    const s = text.trim().replace(/;\s*$/, '');
    if (s === '' || running) return;
    let args: unknown[] | undefined;
    let namedParams: Record<string, unknown> | undefined;
    try {
      if (positional.trim() !== '') {
        args = JSON.parse(positional);
        if (!Array.isArray(args)) throw new Error('positional parameters must be a JSON array, e.g. [1, "two"]');
      }
      if (named.trim() !== '') {
        namedParams = JSON.parse(named);
        if (namedParams === null || typeof namedParams !== 'object' || Array.isArray(namedParams)) throw new Error('named parameters must be a JSON object, e.g. {"city": "Paris"}');
      }
    } catch (err) {
      setError(`Parameters: ${(err as Error).message}`);
      return;
    }
    remember(text.trim());
    setRunning(true);
    setError(undefined);
    setResult(undefined);
    setBytes(0);
    const ctl = new AbortController();
    abort.current = ctl;
    started.current = performance.now();
    try {
      const r = await runQuery(s, { args, named: namedParams }, ctl.signal, setBytes);
      setResult(r);
      if (/^\s*explain\b/i.test(s) && r.results?.length) setTab('plan');
      else if (tab === 'plan') setTab('table');
    } catch (err) {
      setError(ctl.signal.aborted ? 'Cancelled.' : (err as Error).message);
    } finally {
      setElapsed(performance.now() - started.current);
      setRunning(false);
    }
  };

  const explain = () => run(/^\s*explain\b/i.test(statement) ? statement : `EXPLAIN ${statement.trim()}`);
  const keyspaces = (buckets.data ?? []).filter((b) => b.bucketType !== 'memcached').map((b) => b.name);
  const plan = result?.results?.[0] && typeof result.results[0] === 'object' ? ((result.results[0] as Record<string, unknown>).plan as PlanNode | undefined) : undefined;

  return (
    <div class="page" data-testid="query-page">
      <Section
        title="Query Workbench"
        actions={
          <>
            <select
              onChange={(e) => {
                const v = (e.target as HTMLSelectElement).value;
                if (v !== '') setStatement(v);
                (e.target as HTMLSelectElement).value = '';
              }}
              data-testid="history"
            >
              <option value="">History ({history.length})</option>
              {history.map((h) => (
                <option value={h}>{h.length > 80 ? h.slice(0, 80) + '...' : h}</option>
              ))}
            </select>
            <button onClick={explain} disabled={running} data-testid="explain">
              Explain
            </button>
            {running ? (
              <button class="danger" onClick={() => abort.current?.abort()} data-testid="cancel-query">
                Cancel
              </button>
            ) : (
              <button class="primary" onClick={() => run()} data-testid="run-query" title="Ctrl-Enter">
                Execute
              </button>
            )}
          </>
        }
      >
        <Editor value={statement} language="n1ql" keyspaces={keyspaces} onChange={setStatement} onRun={() => run()} minHeight="7em" testId="query-editor" />
        <div class="params">
          <label>
            Named parameters <input placeholder='{"city": "Paris"}' value={named} onInput={(e) => setNamed((e.target as HTMLInputElement).value)} data-testid="named-params" />
          </label>
          <label>
            Positional parameters <input placeholder='[1, "two"]' value={positional} onInput={(e) => setPositional((e.target as HTMLInputElement).value)} data-testid="positional-params" />
          </label>
        </div>
      </Section>
      <Section
        title="Results"
        actions={
          <div class="tabs">
            {(['json', 'table', 'plan'] as Tab[]).map((t) => (
              <button class={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
                {t === 'json' ? 'JSON' : t === 'table' ? 'Table' : 'Plan'}
              </button>
            ))}
          </div>
        }
      >
        {running && <p class="muted" data-testid="query-running">Running... {bytes > 0 ? `${bytes.toLocaleString()} bytes received` : ''}</p>}
        <ErrorBox error={error} />
        {result && <Metrics result={result} elapsed={elapsed} />}
        {result?.errors?.length ? (
          <div class="error" data-testid="query-errors">
            {result.errors.map((e) => (
              <div>
                <b>{e.code}</b>: {e.msg}
              </div>
            ))}
          </div>
        ) : null}
        {result?.results && tab === 'json' && <pre class="json" data-testid="result-json">{JSON.stringify(result.results, null, 2)}</pre>}
        {result?.results && tab === 'table' && <JsonTable rows={result.results} testId="result-table" />}
        {tab === 'plan' && (plan ? <PlanTree node={plan} /> : result && <p class="muted">No plan: run an EXPLAIN (the Explain button) to see one.</p>)}
      </Section>
    </div>
  );
}

function Metrics({ result, elapsed }: { result: QueryResponse; elapsed: number | undefined }) {
  const m = result.metrics ?? {};
  return (
    <div class="metrics" data-testid="query-metrics">
      <span class={`badge ${result.status === 'success' ? 'active' : 'inactiveFailed'}`}>{result.status ?? 'no status'}</span>
      {Object.entries(m).map(([k, v]) => (
        <span>
          {k}: <b>{String(v)}</b>
        </span>
      ))}
      {elapsed !== undefined && <span>round trip: <b>{elapsed.toFixed(1)}ms</b></span>}
    </div>
  );
}

interface PlanNode {
  '#operator'?: string;
  [k: string]: unknown;
}

/** The fields of an operator worth showing beside its name (the rest is in the JSON tab). */
const DETAIL_KEYS = ['index', 'keyspace', 'bucket', 'as', 'condition', 'on_keys', 'limit', 'offset', 'spans', 'result_terms', 'sort_terms', 'group_keys', 'using'];

function children(node: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === '~children' && Array.isArray(v)) out.push(...(v as PlanNode[]));
    else if ((k === '~child' || k === 'input' || k === 'first' || k === 'second') && v && typeof v === 'object') out.push(v as PlanNode);
    else if (k === 'scans' && Array.isArray(v)) out.push(...(v as PlanNode[]));
  }
  return out;
}

function detail(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 160 ? text.slice(0, 160) + '...' : text;
}

export function PlanTree({ node }: { node: PlanNode }) {
  const kids = children(node);
  const details = DETAIL_KEYS.filter((k) => node[k] !== undefined);
  return (
    <ul class="plan" data-testid="plan-tree">
      <li>
        <span class="op">{node['#operator'] ?? 'plan'}</span>
        {details.map((k) => (
          <span class="op-detail">
            {k}: {detail(node[k])}
          </span>
        ))}
        {kids.map((c) => (
          <PlanTree node={c} />
        ))}
      </li>
    </ul>
  );
}
