// The RBAC model on its own: role strings as ns_server parses and prints them, permissions as
// roles grant them (bucket / scope / collection scoping), the memcached privileges a role gives
// on the KV port, and passwords kept only as hashes.
import { expect } from 'chai';
import { ANY, allows, bucketPermission, clusterPermission, collectionPermission, formatPermission, scopePermission } from '../../lib/server/rbac/permission';
import { compileRole, roleDefinitions } from '../../lib/server/rbac/roles';
import { checkRoles, formatRole, parseRole, parseRoles, roleJson, roleProblem, type KeyspaceCatalog } from '../../lib/server/rbac/role-spec';
import { KvPrivilege, kvPrivileges, requiredKvPrivileges } from '../../lib/server/rbac/kv-privileges';
import { hashPassword, PasswordCheck, scramOf } from '../../lib/server/rbac/passwords';
import { userWithRoles } from '../../lib/server/rbac/users';
import { Opcode, ScramClient, ScramServer } from '../../lib/protocol';

const catalog: KeyspaceCatalog = {
  hasBucket: (b) => b === 'default' || b === 'test' || b === 'test.test',
  hasScope: (b, s) => s === '_default' || (b === 'test' && s === 's'),
  hasCollection: (b, s, c) => (s === '_default' && c === '_default') || (b === 'test' && s === 's' && c === 'c'),
};

describe('rbac: role strings (ns_server parse_role / role_to_string)', () => {
  it('parses names, [*], and bucket[:scope[:collection]] parameters, padding missing ones with *', () => {
    expect(parseRoles('admin, bucket_admin[test.test], bucket_admin[*], bucket_admin[],no_such_role, bucket_admin[default')).to.deep.equal([
      { name: 'admin', params: [] },
      { name: 'bucket_admin', params: ['test.test'] },
      { name: 'bucket_admin', params: [ANY] },
      { error: 'bucket_admin[]' },
      { error: 'no_such_role' },
      { error: 'bucket_admin[default' },
    ]);
    expect(parseRoles('data_reader[*], data_reader[test], data_reader[test:s], data_reader[test:s:c], data_reader[test:s:c:c:c], bucket_admin[test:s], data_reader[::]')).to.deep.equal([
      { name: 'data_reader', params: [ANY, ANY, ANY] },
      { name: 'data_reader', params: ['test', ANY, ANY] },
      { name: 'data_reader', params: ['test', 's', ANY] },
      { name: 'data_reader', params: ['test', 's', 'c'] },
      { name: 'data_reader', params: ['test', 's', 'c', 'c', 'c'] },
      { name: 'bucket_admin', params: ['test', 's'] },
      { name: 'data_reader', params: ['', '', ''] },
    ]);
    expect(parseRole('Data_Reader[test]')).to.deep.equal({ name: 'data_reader', params: ['test', ANY, ANY] });
  });

  it('prints roles as ns_server does, trailing *s dropped', () => {
    expect(formatRole({ name: 'admin', params: [] })).to.equal('admin');
    expect(formatRole({ name: 'bucket_admin', params: [ANY] })).to.equal('bucket_admin[*]');
    expect(formatRole({ name: 'data_reader', params: ['b', ANY, ANY] })).to.equal('data_reader[b]');
    expect(formatRole({ name: 'data_reader', params: ['b', 's', ANY] })).to.equal('data_reader[b:s]');
    expect(formatRole({ name: 'data_reader', params: ['b', 's', 'c'] })).to.equal('data_reader[b:s:c]');
  });

  it('refuses roles on what does not exist, too many parameters, a name after *, and a parametrised role without them', () => {
    const problem = (text: string) => {
      const r = parseRole(text);
      return 'error' in r ? 'malformed' : roleProblem(r, catalog);
    };
    expect(problem('data_reader[test:s:c]')).to.equal(undefined);
    expect(problem('data_reader[missing]')).to.equal('no bucket missing');
    expect(problem('data_reader[test:nope]')).to.equal('no scope test:nope');
    expect(problem('data_reader[test:s:nope]')).to.equal('no collection test:s:nope');
    expect(problem('bucket_admin[test:s]')).to.equal('wrong number of parameters');
    expect(problem('data_reader[*:s:c]')).to.equal('a parameter after * must be *');
    expect(problem('data_reader')).to.equal('wrong number of parameters');
    expect(checkRoles('admin,data_reader[missing],nope,data_reader[test]', catalog)).to.deep.equal({
      ok: false,
      message: 'Cannot assign roles to user because the following roles are unknown, malformed or role parameters are undefined: [nope,data_reader[missing]]',
    });
  });

  it('gives every role as JSON with its parameter names', () => {
    expect(roleJson({ name: 'data_reader', params: ['b', ANY, ANY] })).to.deep.equal({ role: 'data_reader', bucket_name: 'b', scope_name: '*', collection_name: '*' });
    expect(roleJson({ name: 'admin', params: [] })).to.deep.equal({ role: 'admin' });
    const names = roleDefinitions().map((r) => r.name);
    for (const n of ['admin', 'ro_admin', 'cluster_admin', 'bucket_admin', 'bucket_full_access', 'data_reader', 'data_writer', 'data_dcp_reader', 'query_select', 'query_insert', 'query_update', 'query_delete', 'query_manage_index', 'views_admin', 'views_reader', 'scope_admin', 'security_admin_local']) {
      expect(names).to.include(n);
    }
    expect(new Set(names).size).to.equal(names.length);
  });
});

describe('rbac: permissions as roles grant them', () => {
  const on = (role: string, params: string[]) => [compileRole(role, params)];
  const docsRead = (b: string, s: string, c: string) => collectionPermission(b, s, c, ['data', 'docs'], 'read');

  it('a collection role covers its collection only; a bucket role covers every collection; neither covers the bucket as a whole unless it is on all of it', () => {
    const coll = on('data_reader', ['b', 's', 'c']);
    expect(allows(coll, docsRead('b', 's', 'c'))).to.equal(true);
    expect(allows(coll, docsRead('b', 's', 'other'))).to.equal(false);
    expect(allows(coll, docsRead('other', 's', 'c'))).to.equal(false);
    expect(allows(coll, bucketPermission('b', ['data', 'docs'], 'read'))).to.equal(false);
    expect(allows(coll, scopePermission('b', 's', ['data', 'docs'], 'read'))).to.equal(false);
    const scope = on('data_reader', ['b', 's', ANY]);
    expect(allows(scope, docsRead('b', 's', 'x'))).to.equal(true);
    expect(allows(scope, scopePermission('b', 's', ['data', 'docs'], 'read'))).to.equal(true);
    expect(allows(scope, bucketPermission('b', ['data', 'docs'], 'read'))).to.equal(false);
    const bucket = on('data_reader', ['b', ANY, ANY]);
    expect(allows(bucket, docsRead('b', 'any', 'thing'))).to.equal(true);
    expect(allows(bucket, bucketPermission('b', ['data', 'docs'], 'read'))).to.equal(true);
    expect(allows(bucket, docsRead('b', 'x', 'y'))).to.equal(true);
    expect(allows(bucket, collectionPermission('b', 'x', 'y', ['data', 'docs'], 'upsert'))).to.equal(false);
  });

  it('the first pattern that covers an object decides: bucket_admin manages its bucket but reads no data', () => {
    const r = on('bucket_admin', ['b']);
    expect(allows(r, bucketPermission('b', ['settings'], 'write'))).to.equal(true);
    expect(allows(r, bucketPermission('b', [], 'delete'))).to.equal(true);
    expect(allows(r, docsRead('b', '_default', '_default'))).to.equal(false);
    expect(allows(r, bucketPermission('b', ['views'], 'write'))).to.equal(false);
    expect(allows(r, bucketPermission('other', ['settings'], 'read'))).to.equal(true);
    expect(allows(r, bucketPermission('other', ['settings'], 'write'))).to.equal(false);
    expect(allows(r, clusterPermission(['buckets'], 'create'))).to.equal(false);
  });

  it('ro_admin reads everything but data and changes nothing; cluster_admin changes all but security and reads no data', () => {
    const ro = on('ro_admin', []);
    expect(allows(ro, clusterPermission(['pools'], 'read'))).to.equal(true);
    expect(allows(ro, clusterPermission(['pools'], 'write'))).to.equal(false);
    expect(allows(ro, bucketPermission('b', ['settings'], 'read'))).to.equal(true);
    expect(allows(ro, docsRead('b', '_default', '_default'))).to.equal(false);
    expect(allows(ro, clusterPermission(['admin', 'security'], 'read'))).to.equal(true);
    const ca = on('cluster_admin', []);
    expect(allows(ca, clusterPermission(['buckets'], 'create'))).to.equal(true);
    expect(allows(ca, clusterPermission(['admin', 'security', 'local'], 'write'))).to.equal(false);
    expect(allows(ca, docsRead('b', '_default', '_default'))).to.equal(false);
  });

  it('query roles grant their statement on their keyspace; bucket_full_access grants them all', () => {
    const sel = on('query_select', ['b', ANY, ANY]);
    const n1ql = (verb: string) => collectionPermission('b', '_default', '_default', ['n1ql', verb], 'execute');
    expect(allows(sel, n1ql('select'))).to.equal(true);
    expect(allows(sel, n1ql('insert'))).to.equal(false);
    const full = on('bucket_full_access', ['b']);
    for (const v of ['select', 'insert', 'update', 'delete']) expect(allows(full, n1ql(v))).to.equal(true);
    expect(allows(full, collectionPermission('b', '_default', '_default', ['n1ql', 'index'], 'create'))).to.equal(true);
  });

  it('formats permissions as ns_server lists them in a 403', () => {
    expect(formatPermission(bucketPermission('b', ['settings'], 'write'))).to.equal('cluster.bucket[b].settings!write');
    expect(formatPermission(clusterPermission(['buckets'], 'create'))).to.equal('cluster.buckets!create');
    expect(formatPermission(collectionPermission('b', 's', 'c', ['n1ql', 'select'], 'execute'))).to.equal('cluster.collection[b:s:c].n1ql.select!execute');
    expect(formatPermission(bucketPermission(ANY, ['views'], 'write'))).to.equal('cluster.bucket[.].views!write');
  });
});

describe('rbac: memcached privileges on the KV port', () => {
  const P = KvPrivilege;
  const privs = (...roles: string[]) => kvPrivileges(userWithRoles('u', roles), 'b');

  it('each role gives the privileges ns_server hands memcached for it', () => {
    expect(privs('data_reader[b]')).to.equal(P.Read | P.MetaRead | P.XattrRead);
    expect(privs('data_writer[b]')).to.equal(P.Insert | P.Upsert | P.Delete | P.InsertOrUpsert | P.XattrWrite);
    expect(privs('bucket_admin[b]')).to.equal(P.SimpleStats);
    expect(privs('query_select[b]')).to.equal(P.Read);
    expect(privs('query_insert[b]')).to.equal(P.Insert | P.InsertOrUpsert);
    expect(privs('data_reader[other]')).to.equal(0);
    expect(privs('ro_admin')).to.equal(P.SimpleStats);
    expect(privs('cluster_admin')).to.equal(P.SimpleStats | P.BucketManagement);
    expect(privs('admin') & (P.Read | P.Upsert | P.BucketManagement)).to.equal(P.Read | P.Upsert | P.BucketManagement);
  });

  it('are checked for the default collection until collections exist (scope-level roles elsewhere grant nothing there)', () => {
    expect(privs('data_reader[b:_default:_default]')).to.equal(P.Read | P.MetaRead | P.XattrRead);
    expect(privs('data_reader[b:inventory]')).to.equal(0);
    expect(kvPrivileges(userWithRoles('u', ['data_reader[b:inventory]']), 'b', 'inventory', 'airline')).to.equal(P.Read | P.MetaRead | P.XattrRead);
    // Selecting the bucket asks for a privilege on any of its collections (kv_engine's rule).
    expect(kvPrivileges(userWithRoles('u', ['data_reader[b:inventory]']), 'b', ANY, ANY)).to.equal(P.Read | P.MetaRead | P.XattrRead);
    expect(kvPrivileges(userWithRoles('u', ['data_reader[other:inventory]']), 'b', ANY, ANY)).to.equal(0);
  });

  it('each opcode requires what kv_engine requires', () => {
    expect(requiredKvPrivileges(Opcode.GET)).to.equal(P.Read);
    expect(requiredKvPrivileges(Opcode.SETQ)).to.equal(P.Upsert);
    expect(requiredKvPrivileges(Opcode.ADD)).to.equal(P.InsertOrUpsert);
    expect(requiredKvPrivileges(Opcode.DELETE)).to.equal(P.Delete);
    expect(requiredKvPrivileges(Opcode.INCREMENT)).to.equal(P.Read | P.Upsert);
    expect(requiredKvPrivileges(Opcode.SUBDOC_MULTI_MUTATION)).to.equal(P.Read | P.Upsert);
    expect(requiredKvPrivileges(Opcode.OBSERVE_SEQNO)).to.equal(P.MetaRead);
    expect(requiredKvPrivileges(Opcode.FLUSH)).to.equal(P.BucketManagement);
    expect(requiredKvPrivileges(Opcode.HELLO)).to.equal(0);
    expect(requiredKvPrivileges(Opcode.SELECT_BUCKET)).to.equal(0);
  });
});

describe('rbac: passwords', () => {
  it('are kept as a salted PBKDF2 hash and SCRAM keys, never in the clear', () => {
    const a = hashPassword('s3cret-pass');
    const b = hashPassword('s3cret-pass');
    expect(JSON.stringify(a)).to.not.include('s3cret-pass');
    expect(a.hash.salt).to.not.equal(b.hash.salt);
    expect(a.hash.hash).to.not.equal(b.hash.hash);
    const check = new PasswordCheck(a);
    expect(check.matches('s3cret-pass')).to.equal(true);
    expect(check.matches('s3cret-pass')).to.equal(true);
    expect(check.matches('wrong')).to.equal(false);
  });

  it('the stored SCRAM keys complete a SCRAM-SHA512 exchange with the password', () => {
    const record = hashPassword('pw-123456');
    const server = new ScramServer('SCRAM-SHA512', (u) => (u === 'alice' ? scramOf(record, 'SCRAM-SHA512') : undefined));
    const client = new ScramClient('SCRAM-SHA512', 'alice', 'pw-123456');
    const serverFirst = server.serverFirst(client.clientFirst());
    const serverFinal = server.serverFinal(client.clientFinal(serverFirst));
    expect(() => client.verifyServerFinal(serverFinal)).to.not.throw();
    const wrong = new ScramServer('SCRAM-SHA512', () => scramOf(record, 'SCRAM-SHA512'));
    const liar = new ScramClient('SCRAM-SHA512', 'alice', 'nope');
    expect(() => wrong.serverFinal(liar.clientFinal(wrong.serverFirst(liar.clientFirst())))).to.throw();
  });
});
