// The RBAC REST API: users, groups and roles through the official SDK's UserManager (the
// reference client), ns_server's validation messages and error shapes over raw REST, password
// changes, and users kept with `dataDir` (hashed) across a restart.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, encodeLeb128 } from '../../lib/protocol';
import { RawClient } from './raw-client';
import { ADMIN_AUTH, basicAuth, caught, rest } from './http-helpers';

const basic = basicAuth;
const ADMIN = ADMIN_AUTH;
const call = (port: number, method: string, p: string, opts: { auth?: string; form?: Record<string, string> } = {}) => rest(port, method, p, opts);

async function kvLogin(cluster: Cluster, user: string, password: string, mech: 'PLAIN' | 'SCRAM-SHA512' = 'SCRAM-SHA512'): Promise<{ client: RawClient; status: number }> {
  const client = await RawClient.connect(cluster.nodes[0].ports.kv);
  await client.hello([HelloFeature.XERROR, HelloFeature.JSON]);
  const status = mech === 'PLAIN' ? await client.authPlain(user, password) : await client.authScram(mech, user, password);
  return { client, status };
}

describe('RBAC through the official SDK UserManager', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;

  before(async () => {
    server = await Cluster.start({ queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password' });
  });
  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('getRoles lists Couchbase 7.6 roles with their * parameters (and REST with display names and descriptions)', async () => {
    const roles = await sdk.users().getRoles();
    expect(roles.length).to.be.greaterThan(40);
    expect(roles.find((r) => r.name === 'data_reader')).to.include({ bucket: '*', scope: '*', collection: '*' });
    expect(roles.find((r) => r.name === 'admin')).to.include({ bucket: undefined });
    expect(roles.find((r) => r.name === 'bucket_admin')).to.include({ bucket: '*', scope: undefined });
    const rest = (await call(server.nodes[0].ports.mgmt, 'GET', '/settings/rbac/roles')).json();
    expect(rest.find((r: any) => r.role === 'data_reader')).to.deep.include({ bucket_name: '*', scope_name: '*', collection_name: '*', name: 'Data Reader' });
    expect(rest.find((r: any) => r.role === 'admin')).to.deep.include({ name: 'Full Admin' });
    expect(rest.every((r: any) => typeof r.desc === 'string' && r.desc.length > 20)).to.equal(true);
  });

  it('upserts, gets, lists and drops groups; a missing group is GroupNotFoundError', async () => {
    await sdk.users().upsertGroup({ name: 'readers', description: 'read the default bucket', roles: ['ro_admin', { name: 'data_reader', bucket: 'default' } as couchbase.Role] });
    const g = await sdk.users().getGroup('readers');
    expect(g.name).to.equal('readers');
    expect(g.description).to.equal('read the default bucket');
    expect(g.roles.map((r) => `${r.name}:${r.bucket ?? ''}:${r.scope ?? ''}`).sort()).to.deep.equal(['data_reader:default:*', 'ro_admin::']);
    expect((await sdk.users().getAllGroups()).map((x) => x.name)).to.include('readers');
    expect(await caught(sdk.users().getGroup('missing-group-name'))).to.be.instanceOf(couchbase.GroupNotFoundError);
    expect(await caught(sdk.users().dropGroup('missing-group-name'))).to.be.instanceOf(couchbase.GroupNotFoundError);
  });

  it('upserts a user with roles and a group; getUser reports its own and effective roles with their origins', async () => {
    await sdk.users().upsertUser({ username: 'alice', displayName: 'Alice', password: 'alice-pass', roles: [{ name: 'data_writer', bucket: 'default' } as couchbase.Role], groups: ['readers'] });
    const u = await sdk.users().getUser('alice');
    expect(u.username).to.equal('alice');
    expect(u.displayName).to.equal('Alice');
    expect(u.groups).to.deep.equal(['readers']);
    expect(u.roles.map((r) => r.name)).to.deep.equal(['data_writer']);
    const effective = u.effectiveRoles.map((r) => `${r.name}:${r.origins.map((o) => `${o.type}${o.name ? '=' + o.name : ''}`).join('+')}`).sort();
    expect(effective).to.deep.equal(['data_reader:group=readers', 'data_writer:user', 'ro_admin:group=readers']);
    expect(u.passwordChanged).to.be.instanceOf(Date);
    expect((await sdk.users().getAllUsers()).map((x) => x.username)).to.include('alice');
    expect(await caught(sdk.users().getUser('missing-user-name'))).to.be.instanceOf(couchbase.UserNotFoundError);
  });

  it('the user can then use what its roles and its group give it, over KV', async () => {
    const { client, status } = await kvLogin(server, 'alice', 'alice-pass');
    expect(status).to.equal(Status.SUCCESS);
    expect(await client.selectBucket('default')).to.equal(Status.SUCCESS);
    expect((await client.set('rbac-k', '{"a":1}')).status).to.equal(Status.SUCCESS);
    expect((await client.get('rbac-k')).status).to.equal(Status.SUCCESS);
    client.socket.destroy();
  });

  it('dropping a group takes its roles from its members; dropping a user ends its access', async () => {
    await sdk.users().dropGroup('readers');
    const u = await sdk.users().getUser('alice');
    expect(u.groups).to.deep.equal([]);
    expect(u.effectiveRoles.map((r) => r.name)).to.deep.equal(['data_writer']);
    await sdk.users().dropUser('alice');
    expect(await caught(sdk.users().dropUser('alice'))).to.be.instanceOf(couchbase.UserNotFoundError);
    expect((await kvLogin(server, 'alice', 'alice-pass')).status).to.equal(Status.AUTH_ERROR);
  });

  it('changePassword changes the caller’s own password: the old one stops working, the new one works for HTTP, PLAIN and SCRAM', async () => {
    await sdk.users().upsertUser({ username: 'bob', password: 'bob-pass-1', roles: ['data_reader[default]'] });
    const bob = await couchbase.connect(server.connectionString, { username: 'bob', password: 'bob-pass-1' });
    try {
      await bob.users().changePassword('bob-pass-2');
    } finally {
      await bob.close();
    }
    const port = server.nodes[0].ports.mgmt;
    expect((await call(port, 'GET', '/whoami', { auth: basic('bob', 'bob-pass-1') })).status).to.equal(401);
    expect((await call(port, 'GET', '/whoami', { auth: basic('bob', 'bob-pass-2') })).json()).to.include({ id: 'bob', domain: 'local' });
    expect((await kvLogin(server, 'bob', 'bob-pass-1', 'PLAIN')).status).to.equal(Status.AUTH_ERROR);
    expect((await kvLogin(server, 'bob', 'bob-pass-2', 'PLAIN')).status).to.equal(Status.SUCCESS);
    expect((await kvLogin(server, 'bob', 'bob-pass-2', 'SCRAM-SHA512')).status).to.equal(Status.SUCCESS);
  });
});

describe('RBAC REST: ns_server’s validation and answers', function () {
  this.timeout(30000);
  let server: Cluster;
  let port: number;

  before(async () => {
    server = await Cluster.start({
      queryService: null,
      viewsService: null,
      users: [
        { username: 'Administrator', password: 'password' },
        { username: 'reader', password: 'reader-pass', roles: ['data_reader[default]'] },
        { username: 'ro', password: 'ro-pass', roles: ['ro_admin'] },
        { username: 'useradmin', password: 'ua-pass', roles: ['user_admin_local'] },
      ],
    });
    port = server.nodes[0].ports.mgmt;
  });
  after(() => server?.stop());

  const put = (name: string, form: Record<string, string>, auth?: string) => call(port, 'PUT', `/settings/rbac/users/local/${encodeURIComponent(name)}`, { form, auth });

  it('refuses unknown, malformed and undefined roles in one message', async () => {
    const r = await put('carol', { password: 'carol-pass', roles: 'admin,data_reader[nobucket],bogus,data_reader[default:inventory],bucket_admin[default' });
    expect(r.status).to.equal(400);
    expect(r.json()).to.deep.equal({
      errors: { roles: 'Cannot assign roles to user because the following roles are unknown, malformed or role parameters are undefined: [bogus,bucket_admin[default,data_reader[nobucket],data_reader[default:inventory]]' },
    });
  });

  it('checks passwords against the password policy, and requires one for a new user', async () => {
    expect((await put('carol', { password: 'short' })).json()).to.deep.equal({ errors: { password: 'The password must be at least 6 characters long.' } });
    expect((await put('carol', { password: 'has\u0001control' })).json()).to.deep.equal({ errors: { password: 'The password must not contain control characters' } });
    expect((await put('carol', { roles: 'ro_admin' })).json()).to.deep.equal({ errors: { password: 'Password is required for new user.' } });
    expect((await call(port, 'POST', '/settings/passwordPolicy', { form: { minLength: '8', enforceDigits: 'true' } })).status).to.equal(200);
    expect((await put('carol', { password: 'longenough' })).json()).to.deep.equal({ errors: { password: 'The password must contain at least one digit' } });
    expect((await call(port, 'GET', '/settings/passwordPolicy')).json()).to.deep.include({ minLength: 8, enforceDigits: true });
    await call(port, 'POST', '/settings/passwordPolicy', { form: { minLength: '6', enforceDigits: 'false' } });
  });

  it('checks user names, groups and unsupported keys', async () => {
    expect((await put('with space', { password: 'carol-pass' })).json()).to.deep.equal({
      errors: { _: 'Username must not contain spaces, control or any of ()<>,;:\\"/[]?={} characters and must be valid utf8' },
    });
    expect((await put('@carol', { password: 'carol-pass' })).json()).to.deep.equal({ errors: { _: "Username cannot start with '@'" } });
    expect((await put('carol', { password: 'carol-pass', groups: 'nope,nada' })).json()).to.deep.equal({ errors: { groups: 'Groups do not exist: nope,nada' } });
    expect((await put('carol', { password: 'carol-pass', color: 'blue' })).json()).to.deep.equal({ errors: { color: 'Unsupported key' } });
  });

  it('answers unknown users, groups and domains with 404 and ns_server’s JSON strings', async () => {
    expect(await call(port, 'GET', '/settings/rbac/users/local/nobody')).to.deep.include({ status: 404, text: '"Unknown user."' });
    expect(await call(port, 'DELETE', '/settings/rbac/users/local/nobody')).to.deep.include({ status: 404, text: '"User was not found."' });
    expect(await call(port, 'GET', '/settings/rbac/groups/nogroup')).to.deep.include({ status: 404, text: '"Unknown group."' });
    expect(await call(port, 'DELETE', '/settings/rbac/groups/nogroup')).to.deep.include({ status: 404, text: '"Group was not found."' });
    expect(await call(port, 'GET', '/settings/rbac/users/martian/x')).to.deep.include({ status: 404, text: '"Unknown user domain."' });
    expect((await call(port, 'PUT', '/settings/rbac/groups/g1', { form: { description: 'x' } })).json()).to.deep.equal({ errors: { roles: 'The value must be supplied' } });
  });

  it('creates a user (200, JSON ""), then lists it with its roles, origins and password date', async () => {
    const r = await put('carol', { password: 'carol-pass', roles: 'data_reader[default],query_select[default:_default:_default]', name: 'Carol' });
    expect(r).to.deep.include({ status: 200, text: '""' });
    const u = (await call(port, 'GET', '/settings/rbac/users/local/carol')).json();
    expect(u).to.deep.include({ id: 'carol', domain: 'local', name: 'Carol', groups: [], external_groups: [] });
    expect(u.roles).to.deep.equal([
      { role: 'data_reader', bucket_name: 'default', scope_name: '*', collection_name: '*', origins: [{ type: 'user' }] },
      { role: 'query_select', bucket_name: 'default', scope_name: '_default', collection_name: '_default', origins: [{ type: 'user' }] },
    ]);
    expect(Date.parse(u.password_change_date)).to.be.a('number').and.not.NaN;
    const all = (await call(port, 'GET', '/settings/rbac/users')).json();
    expect(all.map((x: any) => x.id)).to.include.members(['carol', 'reader', 'ro']);
  });

  it('whoami tells the caller who it is: the administrator in the admin domain, others local', async () => {
    expect((await call(port, 'GET', '/whoami', { auth: basic('reader', 'reader-pass') })).json()).to.deep.include({
      id: 'reader',
      domain: 'local',
      roles: [{ role: 'data_reader', bucket_name: 'default', scope_name: '*', collection_name: '*' }],
    });
    const lone = await Cluster.start({ queryService: null, viewsService: null });
    try {
      expect((await call(lone.nodes[0].ports.mgmt, 'GET', '/whoami')).json()).to.deep.equal({ id: 'Administrator', domain: 'admin', roles: [{ role: 'admin' }] });
      // The administrator is not one of the (local) users.
      expect((await call(lone.nodes[0].ports.mgmt, 'GET', '/settings/rbac/users')).json()).to.deep.equal([]);
    } finally {
      await lone.stop();
    }
  });

  it('only security managers read or change users: 403 naming the permission otherwise; none but a Full Admin grants admin', async () => {
    const readerAuth = basic('reader', 'reader-pass');
    expect((await call(port, 'GET', '/settings/rbac/users', { auth: readerAuth })).json()).to.deep.equal({
      message: 'Forbidden. User needs the following permissions',
      permissions: ['cluster.admin.security!read'],
    });
    expect((await call(port, 'GET', '/settings/rbac/users', { auth: basic('ro', 'ro-pass') })).status).to.equal(200);
    expect((await put('dave', { password: 'dave-pass', roles: 'ro_admin' }, basic('ro', 'ro-pass'))).json().permissions).to.deep.equal(['cluster.admin.security.local!write']);
    expect((await put('dave', { password: 'dave-pass', roles: 'data_reader[default]' }, basic('useradmin', 'ua-pass'))).status).to.equal(200);
    const escalate = await put('dave', { password: 'dave-pass', roles: 'admin' }, basic('useradmin', 'ua-pass'));
    expect(escalate.status).to.equal(403);
    expect(escalate.json().permissions).to.deep.equal(['cluster.admin.security.admin!write']);
    expect((await put('dave', { password: 'dave-pass', roles: 'admin' })).status).to.equal(200);
  });

  it('a user whose password changes loses its console sessions', async () => {
    const login = await fetch(`http://127.0.0.1:${port}/uilogin`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=reader&password=reader-pass' });
    const cookie = /^([^;]+)/.exec(login.headers.get('set-cookie')!)![1];
    const withSession = () => fetch(`http://127.0.0.1:${port}/whoami`, { headers: { cookie, 'ns-server-ui': 'yes' } });
    expect((await withSession()).status).to.equal(200);
    await put('reader', { password: 'reader-pass-2', roles: 'data_reader[default]' });
    expect((await withSession()).status).to.equal(401);
  });
});

describe('RBAC: users and groups kept with dataDir', function () {
  this.timeout(30000);
  let dataDir: string;
  before(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-rbac-'))));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('come back after a restart, with passwords stored only as hashes that SCRAM still works with', async () => {
    let cluster = await Cluster.start({ dataDir, queryService: null, viewsService: null });
    const port = () => cluster.nodes[0].ports.mgmt;
    await call(port(), 'PUT', '/settings/rbac/groups/writers', { form: { roles: 'data_writer[default]', description: 'KV writers' } });
    await call(port(), 'PUT', '/settings/rbac/users/local/erin', { form: { password: 'erin-secret-pw', roles: 'data_reader[default]', groups: 'writers' } });
    await call(port(), 'POST', '/controller/changePassword', { form: { password: 'admin-pass-2' } });
    await cluster.stop();

    const stored = fs.readFileSync(path.join(dataDir, 'users.json'), 'utf8');
    expect(stored).to.not.include('erin-secret-pw');
    expect(stored).to.not.include('admin-pass-2');
    expect(stored).to.include('pbkdf2-hmac-sha512');

    cluster = await Cluster.start({ dataDir, queryService: null, viewsService: null });
    try {
      const admin2 = basic('Administrator', 'admin-pass-2');
      expect((await call(port(), 'GET', '/whoami', { auth: ADMIN })).status).to.equal(401);
      const erin = (await call(port(), 'GET', '/settings/rbac/users/local/erin', { auth: admin2 })).json();
      expect(erin.groups).to.deep.equal(['writers']);
      expect((await call(port(), 'GET', '/settings/rbac/groups/writers', { auth: admin2 })).json()).to.deep.equal({
        id: 'writers',
        roles: [{ role: 'data_writer', bucket_name: 'default', scope_name: '*', collection_name: '*' }],
        description: 'KV writers',
      });
      const { client, status } = await kvLogin(cluster, 'erin', 'erin-secret-pw', 'SCRAM-SHA512');
      expect(status).to.equal(Status.SUCCESS);
      expect(await client.selectBucket('default')).to.equal(Status.SUCCESS);
      expect((await client.set('kept', '1')).status).to.equal(Status.SUCCESS);
      client.socket.destroy();
    } finally {
      await cluster.stop();
    }
  });

  it('a role on a bucket that is deleted goes with it', async () => {
    const cluster = await Cluster.start({ dataDir: fs.mkdtempSync(path.join(dataDir, 'b-')), queryService: null, viewsService: null });
    try {
      const port = cluster.nodes[0].ports.mgmt;
      await call(port, 'POST', '/pools/default/buckets', { form: { name: 'temp', ramQuota: '100', bucketType: 'couchbase' } });
      await call(port, 'PUT', '/settings/rbac/users/local/frank', { form: { password: 'frank-pass', roles: 'data_reader[temp],data_reader[default]' } });
      await call(port, 'DELETE', '/pools/default/buckets/temp');
      await call(port, 'POST', '/pools/default/buckets', { form: { name: 'temp', ramQuota: '100', bucketType: 'couchbase' } });
      const roles = (await call(port, 'GET', '/settings/rbac/users/local/frank')).json().roles.map((r: any) => r.bucket_name);
      expect(roles).to.deep.equal(['default']);
    } finally {
      await cluster.stop();
    }
  });
});

describe('RBAC roles on a collection follow its id, not its name (ns_server keeps roles by id)', function () {
  this.timeout(30000);
  let dir: string;
  let server: Cluster;
  let sdk: couchbase.Cluster;
  const start = async (): Promise<void> => {
    server = await Cluster.start({ dataDir: dir, queryService: null, viewsService: null, consoleDir: null });
    sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password' });
  };
  const stop = async (): Promise<void> => {
    await sdk?.close();
    await server?.stop();
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-rbac-ids-'));
    await start();
  });
  after(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** KV GET of `k` in s.c as `user`: its status, or SELECT_BUCKET's when that fails. */
  async function readAs(user: string): Promise<number> {
    const client = await RawClient.connect(server.nodes[0].ports.kv);
    try {
      await client.hello([HelloFeature.COLLECTIONS, HelloFeature.XERROR, HelloFeature.JSON]);
      await client.login(user, 'reader-pw');
      // No privilege left anywhere in the bucket: it cannot even be selected.
      const selected = await client.selectBucket('default');
      if (selected !== Status.SUCCESS) return selected;
      const cid = server.bucket('default').manifest.collection('s', 'c')!.uid;
      return (await client.request({ opcode: Opcode.GET, key: Buffer.concat([encodeLeb128(cid), Buffer.from('k')]), vbucket: client.vb('k') })).status;
    } finally {
      client.close();
    }
  }
  const roleNames = async (user: string): Promise<string[]> => (await sdk.users().getUser(user)).effectiveRoles.map((r) => `${r.name}[${r.bucket}:${r.scope}:${r.collection}]`);

  it('a role on a dropped collection neither grants nor shows on a new collection of the same name, a new grant does, and ids survive a restart', async () => {
    const mgr = sdk.bucket('default').collections();
    await mgr.createScope('s');
    await mgr.createCollection('c', 's');
    server.bucket('default').collectionNamed('s', 'c')!.write('k', Buffer.from('1'), 'upsert');
    await sdk.users().upsertUser({ username: 'reader', password: 'reader-pw', roles: [{ name: 'data_reader', bucket: 'default', scope: 's', collection: 'c' }] });
    await sdk.users().upsertGroup({ name: 'scope-readers', roles: ['data_reader[default:s]'] });
    expect(await readAs('reader')).to.equal(Status.SUCCESS);

    await mgr.dropCollection('c', 's');
    await mgr.createCollection('c', 's');
    server.bucket('default').collectionNamed('s', 'c')!.write('k', Buffer.from('2'), 'upsert');
    expect(await readAs('reader')).to.equal(Status.EACCESS);
    expect(await roleNames('reader')).to.deep.equal([]);
    // The scope is the same one: a role on it still holds.
    expect((await sdk.users().getGroup('scope-readers')).roles.map((r) => r.scope)).to.deep.equal(['s']);

    await sdk.users().upsertUser({ username: 'reader', password: 'reader-pw', roles: [{ name: 'data_reader', bucket: 'default', scope: 's', collection: 'c' }] });
    expect(await readAs('reader')).to.equal(Status.SUCCESS);
    await stop();
    await start();
    expect(await readAs('reader')).to.equal(Status.SUCCESS);
    expect(await roleNames('reader')).to.deep.equal(['data_reader[default:s:c]']);

    // A scope dropped and created again takes its collections' and its own roles with it.
    await sdk.bucket('default').collections().dropScope('s');
    await sdk.bucket('default').collections().createScope('s');
    await sdk.bucket('default').collections().createCollection('c', 's');
    expect(await readAs('reader')).to.equal(Status.EACCESS);
    expect((await sdk.users().getGroup('scope-readers')).roles).to.deep.equal([]);
  });
});
