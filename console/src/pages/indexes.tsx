// Indexes: system:indexes with state and definition; create, drop and build deferred indexes,
// all as N1QL statements through the query service.
import { useState } from 'preact/hooks';
import { ident, n1ql } from '../api';
import { ErrorBox, Notice, Section, useAsync, useBuckets } from '../ui';

interface IndexRow {
  name: string;
  keyspace_id: string;
  state: string;
  index_key: string[];
  condition?: string;
  is_primary?: boolean;
  using: string;
}

export function IndexesPage() {
  const buckets = useBuckets();
  const indexes = useAsync(() => n1ql('SELECT i.* FROM system:indexes AS i ORDER BY i.keyspace_id, i.name') as Promise<IndexRow[]>, [], 5000);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [draft, setDraft] = useState({ name: '', bucket: '', keys: '', where: '', primary: false, defer: false });
  const set = (p: Partial<typeof draft>) => setDraft({ ...draft, ...p });

  const run = async (what: string, statement: string) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await n1ql(statement);
      setNotice(`${what}: ${statement}`);
      indexes.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const bucketNames = (buckets.data ?? []).filter((b) => b.bucketType !== 'memcached').map((b) => b.name);
  const bucket = draft.bucket || bucketNames[0] || '';
  const statement = (() => {
    const name = draft.name.trim();
    const withClause = draft.defer ? ' WITH {"defer_build": true}' : '';
    if (draft.primary) return `CREATE PRIMARY INDEX${name ? ' ' + ident(name) : ''} ON ${ident(bucket)}${withClause}`;
    const where = draft.where.trim() ? ` WHERE ${draft.where.trim()}` : '';
    return `CREATE INDEX ${ident(name || 'idx')} ON ${ident(bucket)}(${draft.keys.trim()})${where}${withClause}`;
  })();

  return (
    <div class="page" data-testid="indexes-page">
      <Section title="Indexes">
        <ErrorBox error={error ?? indexes.error} />
        <Notice text={notice} />
        <table class="grid" data-testid="index-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Bucket</th>
              <th>State</th>
              <th>Definition</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(indexes.data ?? []).map((i) => (
              <tr data-index={i.name}>
                <td>{i.name}</td>
                <td>{i.keyspace_id}</td>
                <td>
                  <span class={`badge ${i.state === 'online' ? 'active' : 'inactiveAdded'}`} data-testid="index-state">
                    {i.state}
                  </span>
                </td>
                <td class="mono">
                  {i.is_primary ? 'PRIMARY' : `(${i.index_key.join(', ')})`}
                  {i.condition ? ` WHERE ${i.condition}` : ''}
                </td>
                <td class="actions">
                  {i.state === 'deferred' && (
                    <button onClick={() => run('Built', `BUILD INDEX ON ${ident(i.keyspace_id)}(${ident(i.name)})`)} data-testid="build-index">
                      Build
                    </button>
                  )}
                  <button class="danger" onClick={() => confirm(`Drop index ${i.name}?`) && run('Dropped', `DROP INDEX ${ident(i.keyspace_id)}.${ident(i.name)}`)} data-testid="drop-index">
                    Drop
                  </button>
                </td>
              </tr>
            ))}
            {indexes.data?.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No indexes yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <Section title="Create an index">
        <form
          class="form"
          data-testid="create-index"
          onSubmit={(e) => {
            e.preventDefault();
            void run('Created', statement);
          }}
        >
          <label>
            Bucket
            <select value={bucket} onChange={(e) => set({ bucket: (e.target as HTMLSelectElement).value })}>
              {bucketNames.map((b) => (
                <option value={b}>{b}</option>
              ))}
            </select>
          </label>
          <label>
            Name
            <input value={draft.name} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} name="index-name" />
          </label>
          <label class="inline">
            <input type="checkbox" checked={draft.primary} onChange={(e) => set({ primary: (e.target as HTMLInputElement).checked })} /> Primary
          </label>
          {!draft.primary && (
            <>
              <label>
                Keys
                <input placeholder="city, name" value={draft.keys} onInput={(e) => set({ keys: (e.target as HTMLInputElement).value })} name="index-keys" />
              </label>
              <label>
                Where
                <input placeholder='type = "airline"' value={draft.where} onInput={(e) => set({ where: (e.target as HTMLInputElement).value })} name="index-where" />
              </label>
            </>
          )}
          <label class="inline">
            <input type="checkbox" checked={draft.defer} onChange={(e) => set({ defer: (e.target as HTMLInputElement).checked })} name="defer" /> Defer build
          </label>
          <code class="statement" data-testid="index-statement">
            {statement}
          </code>
          <button class="primary" type="submit">
            Create
          </button>
        </form>
      </Section>
    </div>
  );
}
