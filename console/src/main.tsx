// The deferbase web console: a login page, then Cluster, Buckets, Documents, Query Workbench,
// Indexes and Views, one hash route each (#/cluster, ...), so the management port serves one
// page and nothing is fetched from elsewhere.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, login, logout, onLoggedOut } from './api';
import type { ComponentType } from 'preact';

// Pages load on first visit: the login page needs none of them (nor CodeMirror or uPlot), so the
// first paint waits for a small script only.
const PAGES = {
  cluster: { title: 'Cluster', load: () => import('./pages/cluster').then((m) => m.ClusterPage) },
  buckets: { title: 'Buckets', load: () => import('./pages/buckets').then((m) => m.BucketsPage) },
  documents: { title: 'Documents', load: () => import('./pages/documents').then((m) => m.DocumentsPage) },
  query: { title: 'Query', load: () => import('./pages/query').then((m) => m.QueryPage) },
  indexes: { title: 'Indexes', load: () => import('./pages/indexes').then((m) => m.IndexesPage) },
  views: { title: 'Views', load: () => import('./pages/views').then((m) => m.ViewsPage) },
} satisfies Record<string, { title: string; load: () => Promise<ComponentType> }>;
type PageName = keyof typeof PAGES;

function routeOf(hash: string): PageName {
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  return name in PAGES ? (name as PageName) : 'cluster';
}

interface Who {
  id: string;
}

function App() {
  const [who, setWho] = useState<Who | null | undefined>(undefined);
  const [route, setRoute] = useState<PageName>(routeOf(location.hash));
  const [version, setVersion] = useState('');

  useEffect(() => {
    // Fetch the page's code while the session is checked, not after.
    void PAGES[route].load().then((c) => loaded.set(route, c), () => undefined);
    getJson<Who>('/whoami').then(setWho, () => setWho(null));
    const off = onLoggedOut(() => setWho(null));
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => {
      off();
      removeEventListener('hashchange', onHash);
    };
  }, []);
  useEffect(() => {
    if (who) getJson<{ implementationVersion: string }>('/pools').then((p) => setVersion(p.implementationVersion), () => undefined);
  }, [who]);

  // While /whoami is on its way the console is drawn as if logged in, so the page's own
  // requests start at once; a 401 from any of them shows the login page.
  if (who === null) return <Login onLogin={setWho} />;
  return (
    <div class="shell">
      <nav class="side">
        <div class="brand">
          deferbase<small>{version}</small>
        </div>
        {(Object.keys(PAGES) as PageName[]).map((p) => (
          <a href={`#/${p}`} class={p === route ? 'active' : ''} data-testid={`nav-${p}`}>
            {PAGES[p].title}
          </a>
        ))}
        <div class="who">
          <span data-testid="who">{who?.id ?? ''}</span>
          <button
            onClick={async () => {
              await logout();
              setWho(null);
            }}
            data-testid="logout"
          >
            Sign out
          </button>
        </div>
      </nav>
      <main>
        <LazyPage name={route} />
      </main>
    </div>
  );
}

const loaded = new Map<PageName, ComponentType>();

function LazyPage({ name }: { name: PageName }) {
  const [, setReady] = useState(0);
  const [error, setError] = useState<string>();
  const Page = loaded.get(name);
  useEffect(() => {
    if (Page !== undefined) return;
    PAGES[name].load().then(
      (c) => {
        loaded.set(name, c);
        setReady((n) => n + 1);
      },
      (err: Error) => setError(`Could not load the ${name} page: ${err.message}`),
    );
  }, [name]);
  if (error) return <div class="error">{error}</div>;
  return Page === undefined ? <div class="loading">Loading...</div> : <Page key={name} />;
}

function Login({ onLogin }: { onLogin: (w: Who) => void }) {
  const [user, setUser] = useState('Administrator');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (!(await login(user, password))) return setError('Login failed: wrong user name or password.');
    onLogin(await getJson<Who>('/whoami'));
  };
  return (
    <form class="login" onSubmit={submit} data-testid="login-form">
      <h1>deferbase</h1>
      <p class="muted">Embedded Couchbase-compatible cluster</p>
      <label>
        Username
        <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} name="user" autocomplete="username" />
      </label>
      <label>
        Password
        <input type="password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} name="password" autocomplete="current-password" autofocus />
      </label>
      {error && (
        <div class="error" role="alert" data-testid="login-error">
          {error}
        </div>
      )}
      <button class="primary" type="submit" data-testid="login-submit">
        Sign in
      </button>
    </form>
  );
}

render(<App />, document.getElementById('app')!);
