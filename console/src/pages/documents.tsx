// Documents: page through a bucket by key (with a key prefix filter) over the documents REST
// endpoint; open one in a JSON editor, save it with its CAS (a conflict says so), create, delete,
// and see its metadata.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, enc, getJson, send } from '../api';
import { Editor } from '../editor';
import { BucketPicker, ErrorBox, Notice, Section, useAsync, useBucketChoice, useBuckets } from '../ui';

interface Row {
  id: string;
}

interface Doc {
  meta: { id: string; rev: string; expiration: number; flags: number; type: string; cas: string; datatype: string[] };
  json?: unknown;
  base64?: string;
}

const PAGE_SIZES = [10, 25, 50, 100];

export function DocumentsPage() {
  const buckets = useBuckets();
  const [bucket, setBucket] = useBucketChoice(buckets.data, (b) => b.bucketType !== 'memcached');
  const [prefix, setPrefix] = useState('');
  const [pageSize, setPageSize] = useState(25);
  const [skip, setSkip] = useState(0);
  const [open, setOpen] = useState<{ id: string; isNew: boolean } | undefined>();
  const base = bucket ? `/pools/default/buckets/${enc(bucket)}/docs` : undefined;

  const list = useAsync(async (signal) => {
    if (base === undefined) return [];
    const q = new URLSearchParams({ skip: String(skip), limit: String(pageSize + 1) });
    if (prefix !== '') {
      q.set('startkey', JSON.stringify(prefix));
      q.set('endkey', JSON.stringify(prefix + '\uffff'));
    }
    return (await getJson<{ rows: Row[] }>(`${base}?${q}`, signal)).rows;
  }, [base, prefix, pageSize, skip]);
  useEffect(() => setSkip(0), [bucket, prefix, pageSize]);

  const rows = list.data ?? [];
  const more = rows.length > pageSize;
  return (
    <div class="page split" data-testid="documents-page">
      <Section title="Documents" actions={buckets.data && <BucketPicker buckets={buckets.data.filter((b) => b.bucketType !== 'memcached')} value={bucket} onChange={setBucket} />}>
        <div class="toolbar">
          <input placeholder="Key prefix" value={prefix} onInput={(e) => setPrefix((e.target as HTMLInputElement).value)} data-testid="key-prefix" />
          <select value={pageSize} onChange={(e) => setPageSize(Number((e.target as HTMLSelectElement).value))}>
            {PAGE_SIZES.map((n) => (
              <option value={n}>{n} per page</option>
            ))}
          </select>
          <button onClick={() => setOpen({ id: '', isNew: true })} data-testid="new-doc">
            New document
          </button>
        </div>
        <ErrorBox error={list.error} />
        <ul class="doc-list" data-testid="doc-list">
          {rows.slice(0, pageSize).map((r) => (
            <li>
              <a href="javascript:void 0" class={open?.id === r.id ? 'selected' : ''} onClick={() => setOpen({ id: r.id, isNew: false })}>
                {r.id}
              </a>
            </li>
          ))}
          {rows.length === 0 && !list.loading && <li class="muted">No documents{prefix ? ` starting with "${prefix}"` : ''}.</li>}
        </ul>
        <div class="pager">
          <button disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - pageSize))} data-testid="prev-page">
            Previous
          </button>
          <span class="muted">
            {rows.length === 0 ? '' : `${skip + 1} - ${skip + Math.min(rows.length, pageSize)}`}
          </span>
          <button disabled={!more} onClick={() => setSkip(skip + pageSize)} data-testid="next-page">
            Next
          </button>
        </div>
      </Section>
      {open && base && <DocEditor key={`${bucket}/${open.id}/${open.isNew}`} base={base} id={open.id} isNew={open.isNew} onDone={(id) => (list.reload(), setOpen(id === undefined ? undefined : { id, isNew: false }))} />}
    </div>
  );
}

function DocEditor({ base, id: initialId, isNew, onDone }: { base: string; id: string; isNew: boolean; onDone: (id: string | undefined) => void }) {
  const [id, setId] = useState(initialId);
  const [doc, setDoc] = useState<Doc>();
  const [text, setText] = useState(isNew ? '{\n  \n}' : '');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = async () => {
    setError(undefined);
    try {
      const d = await getJson<Doc>(`${base}/${enc(initialId)}`);
      setDoc(d);
      setText(d.json !== undefined ? JSON.stringify(d.json, null, 2) : '');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? 'This document does not exist any more.' : (err as Error).message);
    }
  };
  useEffect(() => {
    if (!isNew) void load();
  }, []);

  let parseError: string | undefined;
  try {
    JSON.parse(text);
  } catch (err) {
    parseError = (err as Error).message;
  }
  const binary = doc !== undefined && doc.json === undefined;

  const save = async () => {
    setError(undefined);
    setNotice(undefined);
    if (parseError !== undefined) return setError(`Not valid JSON: ${parseError}`);
    try {
      const value = JSON.stringify(JSON.parse(text));
      await send(`${base}/${enc(id)}`, { form: isNew ? { value, insert: 'true' } : { value, cas: doc?.meta.cas, flags: doc?.meta.flags } });
      if (isNew) return onDone(id);
      setNotice('Saved.');
      await load();
    } catch (err) {
      const e = err as ApiError;
      if (e.status === 409 && !isNew) setError('Conflict: the document was changed by someone else since you opened it (CAS mismatch). Reload it to see their version.');
      else setError(e.message);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${id}?`)) return;
    try {
      await send(`${base}/${enc(id)}?cas=${doc?.meta.cas ?? ''}`, { method: 'DELETE' });
      onDone(undefined);
    } catch (err) {
      const e = err as ApiError;
      setError(e.status === 409 ? 'Conflict: the document was changed since you opened it (CAS mismatch); reload before deleting.' : e.message);
    }
  };

  return (
    <Section
      title={isNew ? 'New document' : id}
      actions={
        <>
          {!isNew && (
            <button onClick={load} data-testid="reload-doc">
              Reload
            </button>
          )}
          <button class="primary" onClick={save} disabled={binary} data-testid="save-doc">
            {isNew ? 'Create' : 'Save'}
          </button>
          {!isNew && (
            <button class="danger" onClick={remove} data-testid="delete-doc">
              Delete
            </button>
          )}
        </>
      }
    >
      {isNew && <input class="wide" placeholder="Document ID" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} data-testid="new-doc-id" />}
      <ErrorBox error={error} testId="doc-error" />
      <Notice text={notice} testId="doc-notice" />
      {binary ? (
        <pre class="binary">Binary value ({doc!.base64!.length} base64 characters): {doc!.base64!.slice(0, 400)}</pre>
      ) : (
        <Editor value={text} language="json" onChange={setText} onRun={save} minHeight="16em" testId="doc-editor" />
      )}
      {parseError !== undefined && !binary && <p class="field-error">Not valid JSON: {parseError}</p>}
      {doc && (
        <dl class="meta" data-testid="doc-meta">
          <dt>CAS</dt>
          <dd data-testid="meta-cas">{doc.meta.cas}</dd>
          <dt>Flags</dt>
          <dd>
            {doc.meta.flags} (0x{doc.meta.flags.toString(16)})
          </dd>
          <dt>Expiry</dt>
          <dd>{doc.meta.expiration === 0 ? 'never' : new Date(doc.meta.expiration * 1000).toISOString()}</dd>
          <dt>Datatype</dt>
          <dd>{doc.meta.datatype.join(', ')}</dd>
          <dt>Revision</dt>
          <dd class="mono">{doc.meta.rev}</dd>
        </dl>
      )}
    </Section>
  );
}
