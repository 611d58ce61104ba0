// Python's couchbase.admin.Admin through each flavour: Cluster.clusterManager(), bucket
// management (create, info, update, wait_ready, remove) and RBAC users against the embedded
// cluster's management REST, and Admin(username, password, host, port) with http_request.
import { expect } from 'chai';
import * as deferred from '../../../adapters/deferred';
import * as promise from '../../../adapters/promise';
import * as blocking from '../../../adapters/blocking';
import { ArgumentError, AuthDomain, AuthError, HTTPError, HttpResult, NotFoundError, PasswordAuthenticator, ClassicAuthenticator } from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';
import { settle } from './rows';

type AnyAdmin = Record<string, (...a: unknown[]) => any> & { close(): void };

export function adminCases(c: SharedContext): void {
  const { k } = c;
  const mod = (): typeof promise => ({ deferred, promise, blocking })[c.driver.name] as unknown as typeof promise;
  const base = (): string => c.openOptions().connstr!.replace(/\/[^/?]*(\?.*)?$/, '');

  function manager(auth: unknown = new PasswordAuthenticator('Administrator', 'password')): AnyAdmin {
    const cl = new (mod().Cluster)(base());
    cl.authenticate(auth as never);
    return cl.clusterManager() as unknown as AnyAdmin;
  }

  it('Admin: cluster_manager() creates a bucket, waits for it, reads and updates its settings, removes it', async function () {
    this.timeout(30_000);
    const adm = manager();
    const name = `adm-${c.driver.name}`;
    try {
      const created = await settle<HttpResult>(() => adm.bucketCreate(name, { bucketType: 'couchbase', ramQuota: 100, replicas: 1, flushEnabled: true }));
      expect(created).to.be.instanceOf(HttpResult);
      expect(created.httpStatus).to.equal(202);
      const ready = await settle<HttpResult>(() => adm.waitReady(name, { timeout: 10, sleepInterval: 0.05 }));
      expect((ready.value as { nodes: Array<{ status: string }> }).nodes.every((n) => n.status === 'healthy')).to.equal(true);
      const info = await settle<HttpResult>(() => adm.bucketInfo(name));
      const v = info.value as { name: string; replicaNumber: number; quota: { rawRAM: number }; controllers: Record<string, string> };
      expect([v.name, v.replicaNumber, v.quota.rawRAM]).to.deep.equal([name, 1, 100 * 1024 * 1024]);
      expect(v.controllers).to.have.property('flush');
      // The new bucket takes documents (opened the way the cluster opens any bucket).
      await withHandle(c, c.openOptions({ bucket: name }), async (h) => {
        await h.call('upsert', k('adm'), { made: 'by admin' });
        expect((await h.call('get', k('adm'))).value).to.deep.equal({ made: 'by admin' });
      });
      await settle(() => adm.bucketUpdate(name, info, { replicas: 0, ramQuota: 120, flushEnabled: false }));
      const after = (await settle<HttpResult>(() => adm.bucketInfo(name))).value as typeof v;
      expect([after.replicaNumber, after.quota.rawRAM, 'flush' in (after.controllers ?? {})]).to.deep.equal([0, 120 * 1024 * 1024, false]);
      expect((await settle<HttpResult>(() => adm.bucketRemove(name))).httpStatus).to.equal(200);
      const gone = await expectReject(settle(() => adm.bucketInfo(name)));
      expect(gone).to.be.instanceOf(HTTPError);
      expect(gone.httpStatus).to.equal(404);
      expect((await expectReject(settle(() => adm.bucketDelete(name)))).httpStatus).to.equal(404);
      expect(await expectReject(settle(() => adm.waitReady(name, { timeout: 0.2, sleepInterval: 0.05 })))).to.be.instanceOf(HTTPError);
    } finally {
      await settle(() => adm.bucketRemove(name)).catch(() => undefined);
      adm.close();
    }
  });

  it('Admin: users_get / user_get / user_upsert (roles as names or [role, bucket] pairs) / user_remove, and the user can then work', async function () {
    this.timeout(30_000);
    const adm = manager(new ClassicAuthenticator('Administrator', 'password'));
    const user = `mark-${c.driver.name}`;
    try {
      await settle(() => adm.userUpsert(AuthDomain.Local, user, 's3cr3t', [['data_reader', c.bucketName()], ['data_writer', c.bucketName()], 'ro_admin'], 'Mark'));
      const got = (await settle<HttpResult>(() => adm.userGet(AuthDomain.Local, user))).value as { id: string; name: string; roles: Array<{ role: string; bucket_name?: string }> };
      expect([got.id, got.name]).to.deep.equal([user, 'Mark']);
      expect(got.roles.map((r) => `${r.role}${r.bucket_name ? `[${r.bucket_name}]` : ''}`).sort()).to.deep.equal([`data_reader[${c.bucketName()}]`, `data_writer[${c.bucketName()}]`, 'ro_admin']);
      const all = (await settle<HttpResult>(() => adm.usersGet(AuthDomain.Local))).value as Array<{ id: string }>;
      expect(all.map((u) => u.id)).to.include(user);
      await withHandle(c, { ...c.openOptions(), username: user, password: 's3cr3t' }, async (h) => {
        await h.call('upsert', k('as-mark'), 1);
        expect((await h.call('get', k('as-mark'))).value).to.equal(1);
      });
      // The options form, and the RFC's aliases.
      await settle(() => adm.upsertUser(AuthDomain.Local, user, { roles: [['data_reader', c.bucketName()]] }));
      expect(((await settle<HttpResult>(() => adm.getUser(AuthDomain.Local, user))).value as { roles: unknown[] }).roles).to.have.length(1);
      await settle(() => adm.userRemove(AuthDomain.Local, user));
      expect((await expectReject(settle(() => adm.userGet(AuthDomain.Local, user)))).httpStatus).to.equal(404);
      expect(await expectReject(settle(() => adm.userUpsert(AuthDomain.Local, user, 'pw', [])))).to.be.instanceOf(ArgumentError);
      expect(await expectReject(settle(() => adm.userUpsert(AuthDomain.External, user, 'pw', ['ro_admin'])))).to.be.instanceOf(ArgumentError);
      expect(await expectReject(settle(() => adm.usersGet('ldap')))).to.be.instanceOf(ArgumentError);
    } finally {
      await settle(() => adm.userRemove(AuthDomain.Local, user)).catch(() => undefined);
      adm.close();
    }
  });

  it('Admin(username, password, host, port): http_request to the management API; a bad method is ArgumentError, bad credentials AuthError', async function () {
    const M = mod();
    const adm = new M.Admin('Administrator', 'password', '127.0.0.1', c.ports().mgmt) as unknown as AnyAdmin;
    try {
      const r = await settle<HttpResult>(() => adm.httpRequest('/pools/default/buckets'));
      expect((r.value as Array<{ name: string }>).map((b) => b.name)).to.include(c.bucketName());
      const opts = await settle<HttpResult>(() => adm.httpRequest(`/pools/default/buckets/${c.bucketName()}`, { method: 'GET' }));
      expect((opts.value as { name: string }).name).to.equal(c.bucketName());
      expect(await expectReject(settle(() => adm.httpRequest('/pools', 'PATCH')))).to.be.instanceOf(ArgumentError);
      const missing = await expectReject(settle(() => adm.httpRequest('/pools/default/buckets/no-such-bucket')));
      expect(missing).to.be.instanceOf(HTTPError).and.not.instanceOf(NotFoundError);
    } finally {
      adm.close();
    }
    const bad = await expectReject(
      settle(async () => {
        const a = new M.Admin('Administrator', 'wrong', { connectionString: base() }) as unknown as AnyAdmin;
        try {
          await settle(() => a.bucketInfo(c.bucketName()));
        } finally {
          a.close();
        }
      }),
    );
    expect(bad).to.be.instanceOf(AuthError);
    expect(() => manager(new ClassicAuthenticator(undefined, undefined, { b1: 'x' }))).to.throw(ArgumentError, /administrator credentials/);
  });
}
