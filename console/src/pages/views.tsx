// Views: design documents (development `dev_*` and production), edit map and reduce, publish a
// development design document to production, run a view with parameters and read its rows;
// through the management port's CAPI proxy (/couchBase/), as Couchbase's console does.
import { useEffect, useState } from 'preact/hooks';
import { enc, getJson, send } from '../api';
import { Editor } from '../editor';
import { BucketPicker, ErrorBox, Notice, Section, useAsync, useBucketChoice, useBuckets } from '../ui';

interface ViewDef {
  map: string;
  reduce?: string;
}

interface DesignDoc {
  id: string;
  views: Record<string, ViewDef>;
}

const NEW_MAP = 'function (doc, meta) {\n  emit(meta.id, null);\n}';

export function ViewsPage() {
  const buckets = useBuckets();
  const [bucket, setBucket] = useBucketChoice(buckets.data, (b) => b.bucketType !== 'memcached');
  const ddocs = useAsync(async (signal) => {
    if (!bucket) return [];
    const body = await getJson<{ rows: Array<{ doc: { meta: { id: string }; json: { views?: Record<string, ViewDef> } } }> }>(`/pools/default/buckets/${enc(bucket)}/ddocs`, signal);
    return body.rows.map((r) => ({ id: r.doc.meta.id, views: r.doc.json.views ?? {} }));
  }, [bucket]);
  const [selected, setSelected] = useState<{ ddoc: string; view: string }>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [newName, setNewName] = useState({ ddoc: '', view: '' });
  useEffect(() => setSelected(undefined), [bucket]);

  const capi = (ddocId: string) => `/couchBase/${enc(bucket!)}/${ddocId.split('/').map(enc).join('/')}`;
  const put = async (ddocId: string, views: Record<string, ViewDef>) => {
    await send(capi(ddocId), { method: 'PUT', json: { views } });
  };
  // Publishing copies the development design document as the server holds it (not as this page
  // last listed it), so a save still in flight cannot be published half-way.
  const publish = async (devId: string) => {
    const body = await getJson<{ views?: Record<string, ViewDef> }>(capi(devId));
    await put(devId.replace('/dev_', '/'), body.views ?? {});
  };
  const act = async (what: string, fn: () => Promise<unknown>) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await fn();
      setNotice(what);
      ddocs.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const all = ddocs.data ?? [];
  const dev = all.filter((d) => d.id.startsWith('_design/dev_'));
  const prod = all.filter((d) => !d.id.startsWith('_design/dev_'));
  const current = selected ? all.find((d) => d.id === selected.ddoc) : undefined;

  const create = (e: Event) => {
    e.preventDefault();
    const ddocId = `_design/dev_${newName.ddoc.replace(/^(_design\/)?(dev_)?/, '')}`;
    const existing = all.find((d) => d.id === ddocId);
    const views = { ...(existing?.views ?? {}), [newName.view]: { map: NEW_MAP } };
    void act(`View ${newName.view} added to ${ddocId}`, async () => {
      await put(ddocId, views);
      setSelected({ ddoc: ddocId, view: newName.view });
      setNewName({ ddoc: '', view: '' });
    });
  };

  const ddocList = (title: string, list: DesignDoc[], isDev: boolean) => (
    <div class="ddocs" data-testid={isDev ? 'dev-ddocs' : 'prod-ddocs'}>
      <h3>{title}</h3>
      {list.length === 0 && <p class="muted">None.</p>}
      {list.map((d) => (
        <div class="ddoc" data-ddoc={d.id}>
          <div class="ddoc-head">
            <b>{d.id}</b>
            <span class="actions">
              {isDev && (
                <button onClick={() => act(`Published ${d.id} as ${d.id.replace('/dev_', '/')}`, () => publish(d.id))} data-testid="publish">
                  Publish
                </button>
              )}
              <button class="danger" onClick={() => confirm(`Delete ${d.id}?`) && act(`Deleted ${d.id}`, () => send(capi(d.id), { method: 'DELETE' }))}>
                Delete
              </button>
            </span>
          </div>
          <ul>
            {Object.keys(d.views).map((v) => (
              <li>
                <a href="javascript:void 0" class={selected?.ddoc === d.id && selected.view === v ? 'selected' : ''} onClick={() => setSelected({ ddoc: d.id, view: v })}>
                  {v}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );

  return (
    <div class="page split" data-testid="views-page">
      <Section title="Design documents" actions={buckets.data && <BucketPicker buckets={buckets.data.filter((b) => b.bucketType !== 'memcached')} value={bucket} onChange={setBucket} />}>
        <ErrorBox error={error ?? ddocs.error} />
        <Notice text={notice} />
        {ddocList('Development', dev, true)}
        {ddocList('Production', prod, false)}
        <form class="form" onSubmit={create} data-testid="create-view">
          <label>
            Design document <input placeholder="dev_beers" value={newName.ddoc} onInput={(e) => setNewName({ ...newName, ddoc: (e.target as HTMLInputElement).value })} name="ddoc" required />
          </label>
          <label>
            View <input placeholder="by_name" value={newName.view} onInput={(e) => setNewName({ ...newName, view: (e.target as HTMLInputElement).value })} name="view" required />
          </label>
          <button type="submit">Add view</button>
        </form>
      </Section>
      {current && selected && current.views[selected.view] && (
        <ViewEditor
          key={`${bucket}/${selected.ddoc}/${selected.view}`}
          bucket={bucket!}
          ddoc={current}
          view={selected.view}
          onSave={(views) => act(`Saved ${selected.ddoc}`, () => put(current.id, views))}
        />
      )}
    </div>
  );
}

const PARAMS = ['key', 'startkey', 'endkey', 'limit', 'skip', 'group_level'] as const;

function ViewEditor({ bucket, ddoc, view, onSave }: { bucket: string; ddoc: DesignDoc; view: string; onSave: (views: Record<string, ViewDef>) => void }) {
  const def = ddoc.views[view];
  const editable = ddoc.id.startsWith('_design/dev_');
  const [map, setMap] = useState(def.map);
  const [reduce, setReduce] = useState(def.reduce ?? '');
  const [params, setParams] = useState<Record<string, string>>({ limit: '10' });
  const [flags, setFlags] = useState({ descending: false, reduce: true, group: false, full_set: true, stale: 'false' });
  const [rows, setRows] = useState<{ total_rows?: number; rows: Array<{ id?: string; key: unknown; value: unknown }> }>();
  const [error, setError] = useState<string>();

  const query = async () => {
    setError(undefined);
    const q = new URLSearchParams();
    for (const k of PARAMS) if (params[k]?.trim()) q.set(k, params[k].trim());
    q.set('stale', flags.stale);
    if (flags.descending) q.set('descending', 'true');
    if (def.reduce) q.set('reduce', String(flags.reduce));
    if (flags.group) q.set('group', 'true');
    if (editable && flags.full_set) q.set('full_set', 'true');
    try {
      const res = await send(`/couchBase/${enc(bucket)}/${ddoc.id.split('/').map(enc).join('/')}/_view/${enc(view)}?${q}`);
      setRows(await res.json());
    } catch (err) {
      setError((err as Error).message);
      setRows(undefined);
    }
  };

  return (
    <Section
      title={`${ddoc.id} / ${view}`}
      actions={
        editable && (
          <button class="primary" onClick={() => onSave({ ...ddoc.views, [view]: reduce.trim() ? { map, reduce: reduce.trim() } : { map } })} data-testid="save-view">
            Save
          </button>
        )
      }
    >
      {!editable && <p class="muted">Production design documents are read-only: edit the development copy and publish it.</p>}
      <h3>Map</h3>
      <Editor value={map} language="javascript" onChange={setMap} readOnly={!editable} minHeight="6em" testId="map-editor" />
      <h3>Reduce</h3>
      <Editor value={reduce} language="javascript" onChange={setReduce} readOnly={!editable} minHeight="2.5em" placeholder="_count, _sum, _stats or a function" testId="reduce-editor" />
      <div class="params view-params">
        {PARAMS.map((k) => (
          <label>
            {k} <input value={params[k] ?? ''} onInput={(e) => setParams({ ...params, [k]: (e.target as HTMLInputElement).value })} name={`view-${k}`} />
          </label>
        ))}
        <label>
          stale{' '}
          <select value={flags.stale} onChange={(e) => setFlags({ ...flags, stale: (e.target as HTMLSelectElement).value })}>
            <option value="false">false</option>
            <option value="update_after">update_after</option>
            <option value="ok">ok</option>
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" checked={flags.descending} onChange={(e) => setFlags({ ...flags, descending: (e.target as HTMLInputElement).checked })} /> descending
        </label>
        {def.reduce && (
          <>
            <label class="inline">
              <input type="checkbox" checked={flags.reduce} onChange={(e) => setFlags({ ...flags, reduce: (e.target as HTMLInputElement).checked })} /> reduce
            </label>
            <label class="inline">
              <input type="checkbox" checked={flags.group} onChange={(e) => setFlags({ ...flags, group: (e.target as HTMLInputElement).checked })} /> group
            </label>
          </>
        )}
        <button onClick={query} data-testid="run-view">
          Show results
        </button>
      </div>
      <ErrorBox error={error} />
      {rows && (
        <>
          <p class="muted">{rows.total_rows !== undefined ? `${rows.rows.length} rows of ${rows.total_rows}` : `${rows.rows.length} rows`}</p>
          <table class="grid" data-testid="view-rows">
            <thead>
              <tr>
                <th>Key</th>
                <th>Value</th>
                <th>Document ID</th>
              </tr>
            </thead>
            <tbody>
              {rows.rows.map((r) => (
                <tr>
                  <td class="mono">{JSON.stringify(r.key)}</td>
                  <td class="mono">{JSON.stringify(r.value)}</td>
                  <td>{r.id ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}
