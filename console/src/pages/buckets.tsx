// Buckets: list with type, replicas, items, memory and ops/s; create (couchbase or memcached),
// flush and delete through ns_server's bucket endpoints.
import { useState } from 'preact/hooks';
import { ApiError, enc, post, send } from '../api';
import { ErrorBox, Notice, Section, formatBytes, useBuckets } from '../ui';

interface Draft {
  name: string;
  bucketType: 'couchbase' | 'memcached';
  ramQuotaMB: string;
  replicaNumber: string;
  flushEnabled: boolean;
}

const EMPTY: Draft = { name: '', bucketType: 'couchbase', ramQuotaMB: '256', replicaNumber: '0', flushEnabled: true };

export function BucketsPage() {
  const buckets = useBuckets(2000);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });

  const run = async (what: string, fn: () => Promise<unknown>) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await fn();
      setNotice(what);
      buckets.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    setFieldErrors({});
    setError(undefined);
    try {
      await post('/pools/default/buckets', {
        name: draft.name,
        bucketType: draft.bucketType,
        ramQuotaMB: draft.ramQuotaMB,
        replicaNumber: draft.bucketType === 'memcached' ? undefined : draft.replicaNumber,
        flushEnabled: draft.flushEnabled ? 1 : 0,
      });
      setNotice(`Bucket ${draft.name} created`);
      setDraft(EMPTY);
      buckets.reload();
    } catch (err) {
      const body = err instanceof ApiError ? (err.body as { errors?: Record<string, string> }) : undefined;
      if (body?.errors) setFieldErrors(body.errors);
      else setError((err as Error).message);
    }
  };

  return (
    <div class="page" data-testid="buckets-page">
      <Section title="Buckets">
        <ErrorBox error={error ?? buckets.error} />
        <Notice text={notice} />
        <table class="grid" data-testid="bucket-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Replicas</th>
              <th>Items</th>
              <th>Memory used</th>
              <th>RAM quota</th>
              <th>Ops/s</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(buckets.data ?? []).map((b) => (
              <tr data-bucket={b.name}>
                <td>{b.name}</td>
                <td>{b.bucketType === 'membase' ? 'couchbase' : b.bucketType}</td>
                <td>{b.replicaNumber}</td>
                <td data-testid="item-count">{b.basicStats.itemCount}</td>
                <td>{formatBytes(b.basicStats.memUsed)}</td>
                <td>{formatBytes(b.quota.rawRAM)}</td>
                <td>{Math.round(b.basicStats.opsPerSec ?? 0)}</td>
                <td class="actions">
                  {b.controllers.flush && (
                    <button onClick={() => confirm(`Flush ${b.name}? Every document in it is deleted.`) && run(`${b.name} flushed`, () => send(b.controllers.flush!, { method: 'POST' }))} data-testid="flush">
                      Flush
                    </button>
                  )}
                  <button class="danger" onClick={() => confirm(`Delete bucket ${b.name} and all its data?`) && run(`${b.name} deleted`, () => send(`/pools/default/buckets/${enc(b.name)}`, { method: 'DELETE' }))} data-testid="delete-bucket">
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Create a bucket">
        <form class="form" onSubmit={create} data-testid="create-bucket">
          <label>
            Name
            <input value={draft.name} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} name="name" required />
            {fieldErrors.name && <span class="field-error">{fieldErrors.name}</span>}
          </label>
          <label>
            Type
            <select value={draft.bucketType} onChange={(e) => set({ bucketType: (e.target as HTMLSelectElement).value as Draft['bucketType'] })} name="bucketType">
              <option value="couchbase">Couchbase</option>
              <option value="memcached">Memcached</option>
            </select>
            {fieldErrors.bucketType && <span class="field-error">{fieldErrors.bucketType}</span>}
          </label>
          <label>
            RAM quota (MiB)
            <input type="number" min="100" value={draft.ramQuotaMB} onInput={(e) => set({ ramQuotaMB: (e.target as HTMLInputElement).value })} name="ramQuotaMB" />
            {fieldErrors.ramQuotaMB && <span class="field-error">{fieldErrors.ramQuotaMB}</span>}
          </label>
          {draft.bucketType === 'couchbase' && (
            <label>
              Replicas
              <select value={draft.replicaNumber} onChange={(e) => set({ replicaNumber: (e.target as HTMLSelectElement).value })} name="replicaNumber">
                {['0', '1', '2', '3'].map((n) => (
                  <option value={n}>{n}</option>
                ))}
              </select>
              {fieldErrors.replicaNumber && <span class="field-error">{fieldErrors.replicaNumber}</span>}
            </label>
          )}
          <label class="inline">
            <input type="checkbox" checked={draft.flushEnabled} onChange={(e) => set({ flushEnabled: (e.target as HTMLInputElement).checked })} name="flushEnabled" /> Flush enabled
          </label>
          <button class="primary" type="submit">
            Create
          </button>
        </form>
      </Section>
    </div>
  );
}
