// Untrusted code that grows one object past the sandbox's memory limit ends its sandbox thread,
// never the process. Before the heap watch (lib/server/sandbox/heap-watch.ts) a map function or a
// JavaScript UDF adding millions of keys to one object aborted the whole server: the object's
// dictionary doubles its store in one allocation larger than the 16 MB of leeway Node gives a
// worker at its V8 heap limit, and V8 ends the process. Run in a child process: on a regression
// the child aborts, not the test runner.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const CHILD = `
const { Cluster } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/server'))});
(async () => {
  const c = await Cluster.start({ numVBuckets: 16, buckets: [{ name: 'default' }] });
  for (let i = 0; i < 5; i++) c.bucket('default').write('d' + i, Buffer.from(JSON.stringify({ n: i })), 'upsert');
  const auth = 'Basic ' + Buffer.from('Administrator:password').toString('base64');
  const { capi, n1ql } = c.nodes[0].ports;
  const grow = 'var o = {}; for (var i = 0; i < 5e7; i++) o["k" + i] = i;';
  const put = await fetch('http://127.0.0.1:' + capi + '/default/_design/grow', { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ views: { v: { map: 'function (doc) { ' + grow + ' emit(1, 1); }' } } }) });
  const view = await (await fetch('http://127.0.0.1:' + capi + '/default/_design/grow/_view/v?stale=false', { headers: { authorization: auth } })).json();
  const q = async (statement) => (await fetch('http://127.0.0.1:' + n1ql + '/query/service', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ statement }) })).json();
  await q('CREATE FUNCTION grow() LANGUAGE JAVASCRIPT AS "function grow() { ' + grow.replace(/"/g, '\\\\"') + ' return 1; }"');
  const udf = await q('SELECT RAW grow()');
  const after = await q('SELECT RAW 1 + 1');
  process.stdout.write(JSON.stringify({ put: put.status, viewErrors: view.errors, udfErrors: udf.errors, after: after.results }));
  await c.stop();
  process.exit(0);
})();
`;

describe('sandbox threads past their memory limit', function () {
  this.timeout(180_000);

  it('a map function and a JavaScript UDF growing one object without end fail alone; the server keeps serving', () => {
    const r = spawnSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', timeout: 170_000 });
    expect(r.signal, r.stderr.slice(-1500)).to.equal(null);
    expect(r.status, r.stderr.slice(-1500)).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.put).to.equal(201);
    expect(out.viewErrors[0].reason).to.equal('design document `_design/grow` failed: its functions used more than the memory limit of 128 MB');
    expect(out.udfErrors[0].code).to.equal(10109);
    expect(out.udfErrors[0].msg).to.contain('the function used more than the memory limit of 64 MB');
    expect(out.after).to.deep.equal([2]);
  });
});
