// CURL() as the 7.6 SQL++ reference (curl.adoc) and the query engine's error catalog describe it:
// refused until the cluster's access list (/settings/querySettings/curlWhitelist) admits the URL,
// only for users holding query_external_access, GET and POST with the documented options.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../adapters/common/embedded';

const ADMIN = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

describe('n1ql CURL()', function () {
  this.timeout(60000);
  let cluster: EmbeddedCluster;
  let target: http.Server;
  let base: string;
  const seen: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

  const mgmt = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${cluster.cluster.nodes[0].ports.mgmt}${path}`, { ...init, headers: { authorization: ADMIN, ...(init.headers ?? {}) } });
  const query = async (statement: string, auth = ADMIN): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${cluster.cluster.nodes[0].ports.n1ql}/query/service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ statement }),
    });
    return res.json();
  };
  const allow = (list: unknown): Promise<Response> => mgmt('/settings/querySettings/curlWhitelist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(list) });

  before(async () => {
    target = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString(), headers: req.headers });
        if (req.url === '/text') return res.end('plain words');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, n: 42 }));
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    cluster = await startEmbeddedCluster({ numVBuckets: 16 });
  });
  after(async () => {
    await cluster?.stop();
    await new Promise((r) => target.close(r));
  });

  it('is refused by default: all_access false and no allowed URL (5010, cause: end point not permitted)', async () => {
    const list = await (await mgmt('/settings/querySettings/curlWhitelist')).json();
    expect(list).to.deep.equal({ all_access: false, allowed_urls: [], disallowed_urls: [] });
    const r = await query(`SELECT CURL("${base}/x") AS r`);
    expect(r.status).to.equal('fatal');
    expect(r.errors[0].code).to.equal(5010);
    expect(r.errors[0].msg).to.equal(`Error evaluating projection. - cause: The end point ${base}/x is not permitted.  List allowed end points in the configuration.`);
    expect(seen).to.have.length(0);
  });

  it('GETs and POSTs a URL the access list allows, with the documented options', async () => {
    expect((await allow({ all_access: false, allowed_urls: [base], disallowed_urls: [`${base}/no`] })).status).to.equal(200);
    let r = await query(`SELECT RAW CURL("${base}/a?x=1")`);
    expect(r.errors).to.equal(undefined);
    expect(r.results).to.deep.equal([{ method: 'GET', url: '/a?x=1', n: 42 }]);
    r = await query(`SELECT RAW CURL("${base}/p", {"data": ["a=1", "b=2"], "header": "X-Test: yes", "user": "u:pw"})`);
    expect(r.results).to.deep.equal([{ method: 'POST', url: '/p', n: 42 }]);
    const post = seen[seen.length - 1];
    expect(post.body).to.equal('a=1&b=2');
    expect(post.headers['x-test']).to.equal('yes');
    expect(post.headers.authorization).to.equal('Basic ' + Buffer.from('u:pw').toString('base64'));
    r = await query(`SELECT RAW CURL("${base}/g", {"get": true, "data": "q=3"})`);
    expect(r.results[0].url).to.equal('/g?q=3');
    r = await query(`SELECT RAW CURL("${base}/e", {"request": "POST"})`);
    expect(r.results[0].method).to.equal('POST');
    r = await query(`SELECT RAW CURL("${base}/text")`);
    expect(r.results).to.deep.equal(['plain words']);
    // Once per row, the statement going on while each answer is awaited.
    r = await query(`SELECT RAW CURL("${base}/row/" || TOSTRING(v)).url FROM [1, 2, 3] AS v`);
    expect(r.results).to.deep.equal(['/row/1', '/row/2', '/row/3']);
  });

  it('refuses disallowed URLs, other methods and wrong option types with the server causes', async () => {
    const cause = async (expr: string): Promise<string> => (await query(`SELECT RAW ${expr}`)).errors[0].msg.replace(/^Error evaluating projection\. - cause: /, '');
    expect(await cause(`CURL("${base}/no/more")`)).to.equal(`The end point ${base}/no/more is not permitted.  List allowed end points in the configuration.`);
    expect(await cause(`CURL("${base}/x", {"request": "PUT"})`)).to.equal('CURL only supports GET and POST requests. ');
    expect(await cause(`CURL("${base}/x", {"get": "YES"})`)).to.equal('Incorrect type for get option in CURL ');
    expect(await cause(`CURL("${base}/x", {"header": [1, "a: b"]})`)).to.equal('Incorrect type for header option 1 in CURL. Header option should be a string value or an array of strings.  ');
    expect(await cause(`CURL("${base}/diag/eval")`)).to.equal(`Access restricted - ${base}/diag/eval.`);
    expect((await query('SELECT RAW [CURL(NULL), CURL(MISSING) IS MISSING]')).results).to.deep.equal([[null, true]]);
  });

  it('all_access admits any URL but the disallowed ones; the access list is validated', async () => {
    expect((await allow({ all_access: true, disallowed_urls: [`${base}/no`] })).status).to.equal(200);
    expect((await query(`SELECT RAW CURL("${base}/any").n`)).results).to.deep.equal([42]);
    expect((await query(`SELECT RAW CURL("${base}/no")`)).errors[0].code).to.equal(5010);
    expect((await allow({ allowed_urls: [base] })).status).to.equal(400);
    expect((await allow({ all_access: 'yes' })).status).to.equal(400);
  });

  it('needs query_external_access (13014)', async () => {
    const form = new URLSearchParams({ password: 'secret123', roles: 'query_select[*]' });
    expect((await mgmt('/settings/rbac/users/local/reader', { method: 'PUT', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })).status).to.equal(200);
    const auth = 'Basic ' + Buffer.from('reader:secret123').toString('base64');
    const r = await query(`SELECT RAW CURL("${base}/any")`, auth);
    expect(r.errors[0]).to.deep.equal({ code: 13014, msg: 'User does not have credentials to run queries using the CURL() function. Add role query_external_access to allow the statement to run.' });
    const form2 = new URLSearchParams({ password: 'secret123', roles: 'query_select[*],query_external_access' });
    await mgmt('/settings/rbac/users/local/reader', { method: 'PUT', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form2.toString() });
    expect((await query(`SELECT RAW CURL("${base}/any").n`, auth)).results).to.deep.equal([42]);
  });
});
