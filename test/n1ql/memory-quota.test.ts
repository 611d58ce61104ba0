// A statement that grows the heap without bound ends with 5500 instead of ending the process
// (V8's fatal out-of-memory abort). Run in a child with a small heap so the pressure is reached
// quickly and a failure cannot take the test runner down.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const CHILD = `
const { Cluster } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/server'))});
(async () => {
  const c = await Cluster.start({ numVBuckets: 16, buckets: [{ name: 'default' }] });
  const port = c.nodes[0].ports.n1ql;
  const auth = 'Basic ' + Buffer.from('Administrator:password').toString('base64');
  const q = async (statement) => {
    const r = await fetch('http://127.0.0.1:' + port + '/query/service', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ statement }) });
    const body = await r.json();
    return { status: r.status, errors: body.errors, results: body.results };
  };
  const hog = q('SELECT RAW ARRAY_LENGTH(ARRAY [x, x, x, {"x": x}] FOR x IN ARRAY_CONCAT(ARRAY_RANGE(0, 1000000), ARRAY_RANGE(1000000, 2000000), ARRAY_RANGE(2000000, 3000000), ARRAY_RANGE(3000000, 4000000)) END)');
  const hog2 = q('SELECT RAW ARRAY_LENGTH(ARRAY [x, x, x, {"y": x}] FOR x IN ARRAY_CONCAT(ARRAY_RANGE(0, 1000000), ARRAY_RANGE(1000000, 2000000), ARRAY_RANGE(2000000, 3000000), ARRAY_RANGE(3000000, 4000000)) END)');
  const out = { hogs: await Promise.all([hog, hog2]), after: await q('SELECT RAW 1 + 1') };
  process.stdout.write(JSON.stringify(out));
  await c.stop();
  process.exit(0);
})();
`;

describe('n1ql: memory quota', function () {
  this.timeout(120_000);

  it('stops a statement that grows the heap without bound with 5500; the server keeps serving', () => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=256', '-e', CHILD], { encoding: 'utf8', timeout: 110_000 });
    expect(r.signal, r.stderr.slice(-2000)).to.equal(null);
    expect(r.status, r.stderr.slice(-2000)).to.equal(0);
    const out = JSON.parse(r.stdout);
    for (const hog of out.hogs) {
      expect(hog.status).to.equal(500);
      expect(hog.errors[0]).to.deep.include({ code: 5500, msg: 'Request has exceeded memory quota' });
    }
    expect(out.after).to.deep.equal({ status: 200, results: [2] });
  });
});
