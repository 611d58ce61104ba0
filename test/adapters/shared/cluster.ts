// Python's couchbase.cluster through each flavour: Cluster, its authenticators, openBucket, and
// cluster-level (cross-bucket) N1QL queries carrying the other buckets' credentials.
import { expect } from 'chai';
import { Cluster as DeferredCluster } from '../../../adapters/deferred';
import { Cluster as PromiseCluster } from '../../../adapters/promise';
import { Cluster as BlockingCluster } from '../../../adapters/blocking';
import { ArgumentError, AuthError, ClassicAuthenticator, N1QLError, N1QLQuery, NoBucketError, PasswordAuthenticator } from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';
import { drain, settle } from './rows';

/** Users the shared cluster declares for these cases (see shared-behaviour.test.ts). */
export const CLUSTER_USERS = [
  { username: 'Administrator', password: 'password' },
  // Pre-RBAC style: a user named after each bucket, with the bucket's "password".
  { username: 'b1', password: 'pw-b1', roles: ['bucket_full_access[b1]'] },
  { username: 'b2', password: 'pw-b2', roles: ['bucket_full_access[b2]'] },
  { username: 'app', password: 'app-pw', roles: ['bucket_full_access[b1]'] },
];

type AnyCluster = {
  authenticate(a?: unknown, u?: string, p?: string): void;
  openBucket(name: string, options?: Record<string, unknown>): any;
  n1qlQuery(q: unknown, o?: unknown): any;
};

export function clusterCases(c: SharedContext): void {
  const { k } = c;

  function newCluster(): AnyCluster {
    const base = c.openOptions().connstr!.replace(/\/[^/?]*(\?.*)?$/, '');
    const C = { deferred: DeferredCluster, promise: PromiseCluster, blocking: BlockingCluster }[c.driver.name];
    return new C(base) as unknown as AnyCluster;
  }
  const close = (b: any): Promise<unknown> => settle(() => b.close());

  it('Cluster: authenticate once (an authenticator, or username and password), openBucket by name; a query needs an open bucket (NoBucketError)', async function () {
    const cl = newCluster();
    expect(() => cl.n1qlQuery('SELECT 1')).to.throw(NoBucketError);
    expect(() => cl.authenticate()).to.throw(ArgumentError);
    cl.authenticate(new PasswordAuthenticator('app', 'app-pw'));
    const b = cl.openBucket('b1');
    try {
      await settle(() => b.upsert(k('via-cluster'), { by: 'cluster' }));
      expect((await settle(() => b.get(k('via-cluster')))).value).to.deep.equal({ by: 'cluster' });
      expect(b.bucket).to.equal('b1');
      expect(await drain(await cl.n1qlQuery(new N1QLQuery('SELECT RAW d.by FROM b1 d USE KEYS $1', k('via-cluster'))))).to.deep.equal(['cluster']);
    } finally {
      await close(b);
    }
    // With the bucket closed there is nothing to run a cluster query through.
    expect(() => cl.n1qlQuery('SELECT 1')).to.throw(NoBucketError);
    // username and password, Python's authenticate(username=..., password=...)
    const wrong = newCluster();
    wrong.authenticate(undefined, 'app', 'not-the-password');
    const err = await expectReject(
      settle(async () => {
        const bad = wrong.openBucket('b1', c.driver.name === 'blocking' ? { connectWait: 10 } : {});
        try {
          await settle(() => bad.get('x'));
        } finally {
          await close(bad).catch(() => undefined);
        }
      }),
    );
    expect(err).to.be.instanceOf(AuthError);
  });

  it('ClassicAuthenticator: each bucket opens as its own user; a cluster-level query carries the other buckets\' credentials (crossBucket), a bucket-level one does not', async function () {
    const id = k('xb');
    await withHandle(c, c.openOptions({ bucket: 'b1' }), (h) => h.call('upsert', id, { v: 1 }));
    await withHandle(c, c.openOptions({ bucket: 'b2' }), (h) => h.call('upsert', id, { v: 2 }));
    const cl = newCluster();
    cl.authenticate(new ClassicAuthenticator(undefined, undefined, { b1: 'pw-b1', b2: 'pw-b2' }));
    const b1 = cl.openBucket('b1');
    try {
      const stmt = 'SELECT (SELECT RAW v FROM b1 USE KEYS $id)[0] AS one, (SELECT RAW v FROM b2 USE KEYS $id)[0] AS two';
      // Through the bucket, user b1 alone may not read b2.
      const denied = await expectReject(settle(async () => drain(c.driver.name === 'deferred' ? await b1.n1qlQueryAll(new N1QLQuery(stmt, { id })) : b1.n1qlQuery(new N1QLQuery(stmt, { id })))));
      expect(denied).to.be.instanceOf(N1QLError);
      expect(denied.n1qlErrcode).to.equal(13014);
      // Through the cluster the query is cross-bucket: b2's credentials go with it.
      expect(await drain(await cl.n1qlQuery(new N1QLQuery(stmt, { id })))).to.deep.equal([{ one: 1, two: 2 }]);
      // Python's add_bucket_creds does the same for a bucket-level query marked crossBucket.
      const q = new N1QLQuery(stmt, { id });
      q.crossBucket = true;
      expect(await drain(c.driver.name === 'deferred' ? await b1.n1qlQueryAll(q) : b1.n1qlQuery(q))).to.deep.equal([{ one: 1, two: 2 }]);
    } finally {
      await close(b1);
    }
  });
}
