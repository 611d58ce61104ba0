// RBAC enforced on every service: one row per user x operation, each over the wire the way a
// client does it (raw KV frames, N1QL and views HTTP, the management REST API), expecting what
// Couchbase Server 7.6 answers for that user's roles: allowed, or EACCESS / 13014 / 403.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status } from '../../lib/protocol';
import { RawClient } from './raw-client';

const USERS: Record<string, readonly string[]> = {
  Administrator: ['admin'],
  reader: ['data_reader[default]'],
  writer: ['data_writer[default]'],
  rw: ['data_reader[default]', 'data_writer[default]'],
  coll: ['data_reader[default:_default:_default]'],
  qselect: ['query_select[default]'],
  qinsert: ['query_insert[default]'],
  qupdate: ['query_update[default]'],
  qindex: ['query_manage_index[default]'],
  badmin: ['bucket_admin[default]'],
  vadmin: ['views_admin[default]'],
  vreader: ['views_reader[default]'],
  roadmin: ['ro_admin'],
  cadmin: ['cluster_admin'],
  other: ['data_reader[other]'],
  none: [],
};
const PASSWORD = 'matrix-pass';
const basic = (user: string) => 'Basic ' + Buffer.from(`${user}:${user === 'Administrator' ? 'password' : PASSWORD}`).toString('base64');

type Verdict = 'allowed' | 'denied';

describe('RBAC enforcement matrix (user x role x operation)', function () {
  this.timeout(60000);
  let cluster: Cluster;
  const clients = new Map<string, RawClient>();

  before(async () => {
    cluster = await Cluster.start({
      buckets: [{ name: 'default' }, { name: 'other' }],
      users: [
        { username: 'Administrator', password: 'password' },
        ...Object.entries(USERS)
          .filter(([u]) => u !== 'Administrator')
          .map(([username, roles]) => ({ username, password: PASSWORD, roles })),
        // The older option: full access to the listed buckets (bucket_full_access).
        { username: 'app', password: PASSWORD, buckets: ['default'] },
      ],
    });
    cluster.bucket('default').write('doc', Buffer.from('{"n":1,"f":"x"}'), 'upsert');
    const ddoc = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.capi}/default/_design/shared`, {
      method: 'PUT',
      headers: { authorization: basic('Administrator'), 'content-type': 'application/json' },
      body: JSON.stringify({ views: { v: { map: 'function (doc, meta) { emit(meta.id, null); }' } } }),
    });
    expect(ddoc.status).to.equal(201);
  });

  after(async () => {
    for (const c of clients.values()) c.close();
    await cluster?.stop();
  });

  /** A KV connection of `user` with `bucket` selected; undefined when it may not select it. */
  async function kv(user: string, bucket: string): Promise<RawClient | undefined> {
    const id = `${user}/${bucket}`;
    if (!clients.has(id)) {
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      await c.hello([HelloFeature.XERROR, HelloFeature.JSON]);
      expect(await c.authPlain(user, user === 'Administrator' ? 'password' : PASSWORD)).to.equal(Status.SUCCESS);
      const selected = await c.selectBucket(bucket);
      if (selected !== Status.SUCCESS) {
        expect(selected).to.equal(Status.EACCESS);
        c.close();
        return undefined;
      }
      clients.set(id, c);
    }
    return clients.get(id)!;
  }

  /** Runs a KV request: denied when the bucket cannot be selected or the answer is EACCESS. */
  function kvOp(bucket: string, request: (c: RawClient) => Promise<{ status: number }>): (user: string) => Promise<Verdict> {
    return async (user) => {
      const c = await kv(user, bucket);
      if (c === undefined) return 'denied';
      const r = await request(c);
      return r.status === Status.EACCESS ? 'denied' : 'allowed';
    };
  }

  let unique = 0;
  function n1ql(statement: () => string): (user: string) => Promise<Verdict> {
    return async (user) => {
      const res = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.n1ql}/query/service`, {
        method: 'POST',
        headers: { authorization: basic(user), 'content-type': 'application/json' },
        body: JSON.stringify({ statement: statement() }),
      });
      const body = (await res.json()) as { status: string; errors?: Array<{ code: number; msg: string }> };
      if (body.status === 'success') return 'allowed';
      expect(body.errors?.[0].code, JSON.stringify(body.errors)).to.equal(13014);
      expect(body.errors?.[0].msg).to.match(/^User does not have credentials to run .* Add role query_\w+ on default:default to allow the statement to run\.$/);
      return 'denied';
    };
  }

  function http(port: 'mgmt' | 'capi', method: string, path: (user: string) => string, opts: { form?: Record<string, string>; json?: unknown; ok?: number[] } = {}): (user: string) => Promise<Verdict> {
    return async (user) => {
      const headers: Record<string, string> = { authorization: basic(user) };
      let body: string | undefined;
      if (opts.form !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(opts.form).toString();
      } else if (opts.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.json);
      }
      const res = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports[port]}${path(user)}`, { method, headers, body });
      const text = await res.text();
      if (res.status === 403) return 'denied';
      expect(opts.ok ?? [200], `${res.status} ${text}`).to.include(res.status);
      return 'allowed';
    };
  }

  const extras8 = Buffer.alloc(8);
  const OPS: Record<string, (user: string) => Promise<Verdict>> = {
    'KV SELECT_BUCKET default': async (user) => ((await kv(user, 'default')) === undefined ? 'denied' : 'allowed'),
    'KV GET': kvOp('default', (c) => c.get('doc')),
    'KV SET': kvOp('default', (c) => c.set(`set-${unique++}`, '{}')),
    'KV ADD': kvOp('default', (c) => c.set(`add-${unique++}`, '{}', { opcode: Opcode.ADD })),
    'KV DELETE': kvOp('default', (c) => c.request({ opcode: Opcode.DELETE, key: 'no-such-doc', vbucket: c.vb('no-such-doc') })),
    'KV INCREMENT': kvOp('default', (c) => c.request({ opcode: Opcode.INCREMENT, key: 'ctr', vbucket: c.vb('ctr'), extras: Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(8), Buffer.alloc(4)]) })),
    'KV GET_META': kvOp('default', (c) => c.request({ opcode: Opcode.GET_META, key: 'doc', vbucket: c.vb('doc') })),
    'KV FLUSH default': kvOp('default', (c) => c.request({ opcode: Opcode.FLUSH, extras: extras8.subarray(0, 4) })),
    'N1QL SELECT': n1ql(() => "SELECT * FROM default USE KEYS 'doc'"),
    'N1QL INSERT': n1ql(() => `INSERT INTO default (KEY, VALUE) VALUES ('ins-${unique++}', {"a": 1})`),
    'N1QL UPSERT': n1ql(() => `UPSERT INTO default (KEY, VALUE) VALUES ('ups-${unique++}', {"a": 1})`),
    'N1QL UPDATE': n1ql(() => "UPDATE default USE KEYS 'doc' SET n = 1"),
    'N1QL DELETE': n1ql(() => "DELETE FROM default USE KEYS 'no-such-doc'"),
    'N1QL CREATE INDEX': n1ql(() => `CREATE INDEX ix_${unique++} ON default(f)`),
    'views query': http('capi', 'GET', () => '/default/_design/shared/_view/v?stale=false'),
    'views PUT design doc': http('capi', 'PUT', (u) => `/default/_design/dd_${u}`, { json: { views: { v: { map: 'function (d, m) { emit(m.id, null); }' } } }, ok: [201] }),
    'REST GET bucket': http('mgmt', 'GET', () => '/pools/default/buckets/default'),
    'REST GET bucket stats': http('mgmt', 'GET', () => '/pools/default/buckets/default/stats'),
    'REST update bucket': http('mgmt', 'POST', () => '/pools/default/buckets/default', { form: { flushEnabled: '1' } }),
    'REST create bucket (validate only)': http('mgmt', 'POST', () => '/pools/default/buckets?just_validate=1&ignore_warnings=1', { form: { name: 'newb', ramQuota: '100', bucketType: 'couchbase', replicaNumber: '0' } }),
    'REST delete bucket': http('mgmt', 'DELETE', () => '/pools/default/buckets/other'),
    'REST fail over (unknown node)': http('mgmt', 'POST', () => '/controller/failOver', { form: { otpNode: 'ns_1@nowhere' }, ok: [400] }),
    'REST list users': http('mgmt', 'GET', () => '/settings/rbac/users'),
    'REST GET /pools/default': http('mgmt', 'GET', () => '/pools/default'),
  };

  const A = 'allowed';
  const D = 'denied';
  // [user, operation, verdict]: what each role gives in Couchbase Server 7.6.
  const MATRIX: ReadonlyArray<readonly [string, string, Verdict]> = [
    ['Administrator', 'KV GET', A],
    ['Administrator', 'KV SET', A],
    ['Administrator', 'N1QL SELECT', A],
    ['Administrator', 'views PUT design doc', A],
    ['Administrator', 'REST list users', A],
    ['reader', 'KV SELECT_BUCKET default', A],
    ['reader', 'KV GET', A],
    ['reader', 'KV GET_META', A],
    ['reader', 'KV SET', D],
    ['reader', 'KV ADD', D],
    ['reader', 'KV DELETE', D],
    ['reader', 'KV INCREMENT', D],
    ['reader', 'KV FLUSH default', D],
    ['reader', 'N1QL SELECT', D],
    ['reader', 'views query', D],
    ['reader', 'views PUT design doc', D],
    ['reader', 'REST GET bucket', A],
    ['reader', 'REST update bucket', D],
    ['reader', 'REST create bucket (validate only)', D],
    ['reader', 'REST delete bucket', D],
    ['reader', 'REST list users', D],
    ['writer', 'KV GET', D],
    ['writer', 'KV SET', A],
    ['writer', 'KV ADD', A],
    ['writer', 'KV DELETE', A],
    ['writer', 'KV INCREMENT', D],
    ['writer', 'KV GET_META', D],
    ['rw', 'KV INCREMENT', A],
    ['rw', 'N1QL SELECT', D],
    ['rw', 'views PUT design doc', D],
    ['coll', 'KV GET', A],
    ['coll', 'KV SET', D],
    ['coll', 'REST GET bucket', A],
    ['qselect', 'KV GET', A],
    ['qselect', 'KV SET', D],
    ['qselect', 'N1QL SELECT', A],
    ['qselect', 'N1QL INSERT', D],
    ['qselect', 'N1QL CREATE INDEX', D],
    ['qinsert', 'N1QL INSERT', A],
    ['qinsert', 'N1QL UPSERT', D],
    ['qinsert', 'N1QL SELECT', D],
    ['qinsert', 'KV ADD', A],
    ['qinsert', 'KV SET', D],
    ['qupdate', 'N1QL UPDATE', A],
    ['qupdate', 'N1QL DELETE', D],
    ['qupdate', 'N1QL UPSERT', D],
    ['qindex', 'N1QL CREATE INDEX', A],
    ['qindex', 'N1QL SELECT', D],
    ['qindex', 'KV SELECT_BUCKET default', D],
    ['badmin', 'KV SELECT_BUCKET default', A],
    ['badmin', 'KV GET', D],
    ['badmin', 'N1QL SELECT', D],
    ['badmin', 'views PUT design doc', D],
    ['badmin', 'REST GET bucket', A],
    ['badmin', 'REST GET bucket stats', A],
    ['badmin', 'REST update bucket', A],
    ['badmin', 'REST create bucket (validate only)', D],
    ['badmin', 'REST fail over (unknown node)', D],
    ['badmin', 'REST list users', D],
    ['vadmin', 'views PUT design doc', A],
    ['vadmin', 'views query', A],
    ['vadmin', 'KV GET', A],
    ['vadmin', 'KV SET', D],
    ['vadmin', 'REST update bucket', D],
    ['vreader', 'views query', A],
    ['vreader', 'views PUT design doc', D],
    ['vreader', 'KV GET', A],
    ['vreader', 'KV SET', D],
    ['app', 'KV GET', A],
    ['app', 'KV INCREMENT', A],
    ['app', 'KV FLUSH default', D],
    ['app', 'N1QL UPSERT', A],
    ['app', 'N1QL CREATE INDEX', A],
    ['app', 'views PUT design doc', A],
    ['app', 'REST GET bucket stats', A],
    ['app', 'REST update bucket', D],
    ['app', 'REST delete bucket', D],
    ['roadmin', 'KV GET', D],
    ['roadmin', 'N1QL SELECT', D],
    ['roadmin', 'REST GET /pools/default', A],
    ['roadmin', 'REST GET bucket', A],
    ['roadmin', 'REST list users', A],
    ['roadmin', 'REST update bucket', D],
    ['roadmin', 'REST fail over (unknown node)', D],
    ['cadmin', 'KV GET', D],
    ['cadmin', 'N1QL SELECT', D],
    ['cadmin', 'REST create bucket (validate only)', A],
    ['cadmin', 'REST fail over (unknown node)', A],
    ['cadmin', 'REST update bucket', A],
    ['cadmin', 'REST list users', D],
    ['other', 'KV SELECT_BUCKET default', D],
    ['other', 'N1QL SELECT', D],
    ['other', 'REST GET bucket', D],
    ['none', 'KV SELECT_BUCKET default', D],
    ['none', 'REST GET /pools/default', D],
  ];

  for (const [user, op, verdict] of MATRIX) {
    it(`${user} (${(USERS[user] ?? ['bucket_full_access[default]']).join(', ') || 'no roles'}): ${op} is ${verdict}`, async () => {
      expect(await OPS[op](user)).to.equal(verdict);
    });
  }

  it('a role given or taken away over REST applies to open KV connections at once', async () => {
    const mgmt = cluster.nodes[0].ports.mgmt;
    const put = (roles: string) =>
      fetch(`http://127.0.0.1:${mgmt}/settings/rbac/users/local/dyn`, {
        method: 'PUT',
        headers: { authorization: basic('Administrator'), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ password: PASSWORD, roles }).toString(),
      });
    expect((await put('data_reader[default]')).status).to.equal(200);
    const c = (await kv('dyn', 'default'))!;
    expect((await c.set('dyn-k', '{}')).status).to.equal(Status.EACCESS);
    expect((await put('data_reader[default],data_writer[default]')).status).to.equal(200);
    expect((await c.set('dyn-k', '{}')).status).to.equal(Status.SUCCESS);
    await fetch(`http://127.0.0.1:${mgmt}/settings/rbac/users/local/dyn`, { method: 'DELETE', headers: { authorization: basic('Administrator') } });
    expect((await c.get('dyn-k')).status).to.equal(Status.EACCESS);
  });

  it('KV FLUSH needs bucket management (admin); a bucket-level role never gives it', async () => {
    const denied = (await kv('other', 'other'))!;
    expect((await denied.request({ opcode: Opcode.FLUSH, extras: Buffer.alloc(4) })).status).to.equal(Status.EACCESS);
    // The administrator passes the privilege check; a Couchbase bucket then refuses memcached FLUSH itself.
    const admin = (await kv('Administrator', 'other'))!;
    expect((await admin.request({ opcode: Opcode.FLUSH, extras: Buffer.alloc(4) })).status).to.equal(Status.NOT_SUPPORTED);
  });
});

describe('RBAC: Cluster.start users with Couchbase roles', () => {
  it('refuses an unknown role, or one on a bucket or scope that does not exist, with a clear error', async () => {
    for (const [roles, message] of [
      [['data_reeder[default]'], /unknown or malformed role "data_reeder\[default\]"/],
      [['data_reader[nobucket]'], /cannot grant role data_reader\[nobucket\] \(no bucket nobucket\)/],
      [['data_reader[default:inventory]'], /cannot grant role data_reader\[default:inventory\] \(no scope default:inventory\)/],
    ] as const) {
      let err: Error | undefined;
      try {
        const c = await Cluster.start({ users: [{ username: 'u', password: 'pw-pw-pw', roles }], queryService: null, viewsService: null });
        await c.stop();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(message);
    }
  });

  it('an application user with data roles only cannot write design documents; a views_admin can (issue 17 item 9)', async () => {
    const cluster = await Cluster.start({
      users: [
        { username: 'app', password: 'app-pass', roles: ['data_reader[default]', 'data_writer[default]', 'query_select[default]'] },
        { username: 'views', password: 'views-pass', roles: ['views_admin[default]'] },
      ],
      queryService: null,
    });
    try {
      const put = (user: string, password: string) =>
        fetch(`http://127.0.0.1:${cluster.nodes[0].ports.capi}/default/_design/d`, {
          method: 'PUT',
          headers: { authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64'), 'content-type': 'application/json' },
          body: JSON.stringify({ views: { v: { map: 'function (doc, meta) { emit(meta.id, null); }' } } }),
        });
      const refused = await put('app', 'app-pass');
      expect(refused.status).to.equal(403);
      expect(await refused.json()).to.deep.equal({ error: 'forbidden', reason: 'Forbidden. User needs the following permissions: cluster.bucket[default].views!write' });
      expect((await put('views', 'views-pass')).status).to.equal(201);
    } finally {
      await cluster.stop();
    }
  });
});
