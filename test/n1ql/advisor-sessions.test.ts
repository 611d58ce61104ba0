// ADVISOR() sessions as the 7.6 SQL++ reference describes them (advisor.adoc: start, list, get,
// stop, abort, purge) and system:tasks_cache shows them; the argument errors are the server's
// (couchbase/query expression/func_advisor.go), reported as 5010 projection errors.
import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import { startHttp, type HttpQueryService } from './harness';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('n1ql ADVISOR() sessions', function () {
  this.timeout(20000);
  let svc: HttpQueryService;
  const q = async (statement: string, user?: string): Promise<any> => {
    const r = await svc.request({ statement }, user ? { auth: user } : {});
    return r.json;
  };
  const one = async (statement: string): Promise<any> => {
    const r = await q(statement);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.results[0];
  };

  beforeEach(async () => {
    const b = new DocumentStore({ name: 'b', numVBuckets: 16 });
    for (let i = 0; i < 20; i++) b.write(`k${i}`, Buffer.from(JSON.stringify({ city: i % 2 ? 'Paris' : 'Rome', n: i })), 'upsert', { datatype: 1 });
    svc = await startHttp([b], { admin: { password: 'password', buckets: '*' }, cat: { password: 'cat-pass', buckets: '*' }, dog: { password: 'dog-pass', buckets: ['b'] } });
    await one('CREATE PRIMARY INDEX ON b');
  });
  afterEach(async () => {
    await svc.close();
  });

  it('start gives a session that is a scheduled advisor task in system:tasks_cache and in list (all, active)', async () => {
    const { session } = await one('SELECT RAW ADVISOR({"action": "start", "response": "0s", "duration": "1h"})');
    expect(session).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [task] = (await q('SELECT t.* FROM system:tasks_cache t')).results;
    expect(task).to.include({ class: 'advisor', subClass: 'analyze', name: session, state: 'scheduled', delay: '1h0m0s' });
    expect(task.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(task.submitTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(task).to.not.have.any.keys('startTime', 'stopTime', 'results');
    expect(await one('SELECT RAW ADVISOR({"action": "list"})')).to.deep.equal([{ tasks_cache: task }]);
    expect(await one('SELECT RAW ADVISOR({"action": "list", "status": "active"})')).to.deep.equal([{ tasks_cache: task }]);
    expect(await one('SELECT RAW ADVISOR({"action": "list", "status": "completed"})')).to.deep.equal([]);
    // Nothing collected yet: get gives an empty array, as for a session that does not exist.
    expect(await one(`SELECT RAW ADVISOR({"action": "get", "session": "${session}"})`)).to.deep.equal([]);
    expect(await one('SELECT RAW ADVISOR({"action": "get", "session": "no-such-session"})')).to.deep.equal([]);
  });

  it('collects the statements completed during its duration and gives their advice when it ends', async () => {
    const { session } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1500ms"})');
    const s1 = 'SELECT n FROM b WHERE city = "Paris"';
    await q(s1);
    await q(s1);
    await q('SELECT * FROM b WHERE n > 3');
    await wait(2000);
    const [{ tasks_cache: task }] = await one('SELECT RAW ADVISOR({"action": "list", "status": "completed"})');
    expect(task).to.include({ name: session, state: 'completed', delay: '1.5s' });
    expect(task.startTime).to.be.a('string');
    expect(task.stopTime).to.be.a('string');
    const got = await one(`SELECT RAW ADVISOR({"action": "get", "session": "${session}"})`);
    expect(got).to.have.length(1);
    expect(got[0]).to.deep.equal(task.results);
    const [report] = got[0];
    expect(report.current_used_indexes).to.deep.equal([
      {
        index: 'CREATE PRIMARY INDEX `#primary` ON `default`:`b`',
        statements: [
          { run_count: 2, statement: s1 },
          { run_count: 1, statement: 'SELECT * FROM b WHERE n > 3' },
        ],
      },
    ]);
    expect(report.recommended_indexes.map((r: any) => r.index)).to.deep.equal(['CREATE INDEX adv_city ON `default`:`b`(`city`)', 'CREATE INDEX adv_n ON `default`:`b`(`n`)']);
    expect(report.recommended_covering_indexes).to.deep.equal([{ index: 'CREATE INDEX adv_city_n ON `default`:`b`(`city`,`n`)', statements: [{ run_count: 2, statement: s1 }] }]);
    // The session's own ADVISOR calls and statements on system catalogs are not advised on.
    expect(JSON.stringify(report)).to.not.contain('ADVISOR');
    // purge forgets it.
    expect(await one(`SELECT RAW ADVISOR({"action": "purge", "session": "${session}"})`)).to.deep.equal([]);
    expect((await q('SELECT RAW name FROM system:tasks_cache')).results).to.deep.equal([]);
  });

  it('collects only the profile user\'s statements, and only those slower than response', async () => {
    const { session: mine } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1500ms", "profile": "cat"})');
    const { session: slow } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1500ms", "response": "10s"})');
    await q('SELECT n FROM b WHERE city = "Rome"');
    await q('SELECT city FROM b WHERE n = 4', auth('cat', 'cat-pass'));
    await wait(2000);
    const [[report]] = await one(`SELECT RAW ADVISOR({"action": "get", "session": "${mine}"})`);
    expect(report.recommended_indexes).to.deep.equal([{ index: 'CREATE INDEX adv_n ON `default`:`b`(`n`)', statements: [{ run_count: 1, statement: 'SELECT city FROM b WHERE n = 4' }] }]);
    expect(await one(`SELECT RAW ADVISOR({"action": "get", "session": "${slow}"})`)).to.deep.equal([]);
  });

  it('stop ends a session early keeping its advice (cancelled); abort forgets it', async () => {
    const { session: a } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1h"})');
    const { session: b } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1h", "query_count": 1})');
    await q('SELECT n FROM b WHERE city = "Paris"');
    await q('SELECT * FROM b WHERE n = 7');
    // A request completes when its response closes on the server, a moment after the client has read it.
    await wait(200);
    expect(await one(`SELECT RAW ADVISOR({"action": "stop", "session": "${a}"})`)).to.deep.equal([]);
    const rows = (await q(`SELECT RAW t FROM system:tasks_cache t WHERE name = "${a}"`)).results;
    expect(rows[0].state).to.equal('cancelled');
    const [[report]] = await one(`SELECT RAW ADVISOR({"action": "get", "session": "${a}"})`);
    expect(report.recommended_indexes.map((r: any) => r.index)).to.deep.equal(['CREATE INDEX adv_city ON `default`:`b`(`city`)', 'CREATE INDEX adv_n ON `default`:`b`(`n`)']);
    // A cancelled session is neither active nor completed.
    expect(await one('SELECT RAW ADVISOR({"action": "list", "status": "completed"})')).to.deep.equal([]);
    expect((await one('SELECT RAW ADVISOR({"action": "list", "status": "active"})')).map((r: any) => r.tasks_cache.name)).to.deep.equal([b]);
    // query_count 1: the second session kept only the first statement.
    await one(`SELECT RAW ADVISOR({"action": "stop", "session": "${b}"})`);
    const [[first]] = await one(`SELECT RAW ADVISOR({"action": "get", "session": "${b}"})`);
    expect(first.recommended_indexes.map((r: any) => r.index)).to.deep.equal(['CREATE INDEX adv_city ON `default`:`b`(`city`)']);
    expect(await one(`SELECT RAW ADVISOR({"action": "abort", "session": "${b.toUpperCase()}"})`)).to.deep.equal([]);
    expect((await q('SELECT RAW name FROM system:tasks_cache')).results).to.deep.equal([a]);
  });

  it('advises on each collected statement under the query_context it ran with', async () => {
    const { session } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1h"})');
    await svc.request({ statement: 'SELECT * FROM b WHERE n = 2', query_context: 'default:b' });
    await wait(200);
    await one(`SELECT RAW ADVISOR({"action": "stop", "session": "${session}"})`);
    const [[report]] = await one(`SELECT RAW ADVISOR({"action": "get", "session": "${session}"})`);
    expect(report.recommended_indexes).to.deep.equal([{ index: 'CREATE INDEX adv_n ON `default`:`b`(`n`)', statements: [{ query_context: 'default:b', run_count: 1, statement: 'SELECT * FROM b WHERE n = 2' }] }]);
  });

  it('DELETE FROM system:tasks_cache cancels a running session (kept, with its advice) and forgets a finished one', async () => {
    const { session } = await one('SELECT RAW ADVISOR({"action": "start", "duration": "1h"})');
    await q('SELECT n FROM b WHERE city = "Paris"');
    await wait(200);
    const del = await q(`DELETE FROM system:tasks_cache WHERE name = "${session}"`);
    expect(del.metrics.mutationCount).to.equal(1);
    expect((await q('SELECT RAW state FROM system:tasks_cache')).results).to.deep.equal(['cancelled']);
    expect((await one(`SELECT RAW ADVISOR({"action": "get", "session": "${session}"})`))[0][0].recommended_indexes[0].index).to.equal('CREATE INDEX adv_city ON `default`:`b`(`city`)');
    await q('DELETE FROM system:tasks_cache');
    expect((await q('SELECT RAW name FROM system:tasks_cache')).results).to.deep.equal([]);
  });

  it('sessions take the system catalogs\' privilege: others get 13014 and see no tasks', async () => {
    await one('SELECT RAW ADVISOR({"action": "start", "duration": "1h"})');
    const dog = auth('dog', 'dog-pass');
    const r = await q('SELECT ADVISOR({"action": "list"})', dog);
    expect(r.errors).to.deep.equal([{ code: 13014, msg: 'User does not have credentials to run queries accessing the system tables. Add role query_system_catalog to allow the query to run.' }]);
    expect((await q('SELECT RAW name FROM system:tasks_cache', dog)).results).to.deep.equal([]);
    // Advice on statements given now needs only the statements' own privileges.
    expect((await q('SELECT RAW ADVISOR("SELECT * FROM b WHERE n = 1")', dog)).results[0].recommended_indexes[0].index).to.equal('CREATE INDEX adv_n ON `default`:`b`(`n`)');
  });

  it('refuses bad arguments with the server\'s words', async () => {
    const err = async (arg: string) => (await q(`SELECT ADVISOR(${arg})`)).errors[0];
    const cause = (text: string) => ({ code: 5010, msg: `Error evaluating projection - cause: ${text}` });
    expect(await err('{"action": "start", "duration": "1h", "limit": 3}')).to.deep.equal(cause('Invalid arguments to Advisor() function: [limit]'));
    expect(await err('{"duration": "1h"}')).to.deep.equal(cause("advisor() missing argument for 'action'"));
    expect(await err('{"action": "begin"}')).to.deep.equal(cause("advisor() not valid argument for 'action'"));
    expect(await err('{"action": "start"}')).to.deep.equal(cause("advisor() not valid argument for 'duration'"));
    expect(await err('{"action": "start", "duration": "soon"}')).to.deep.equal(cause('time: invalid duration "soon"'));
    expect(await err('{"action": "start", "duration": "1m", "response": 3}')).to.deep.equal(cause("advisor() not valid argument for 'response'"));
    expect(await err('{"action": "start", "duration": "1m", "query_count": "3"}')).to.deep.equal(cause("advisor() not valid argument for 'query_count'"));
    expect(await err('{"action": "start", "duration": "1m", "profile": 1}')).to.deep.equal(cause("advisor() not valid argument for 'profile'"));
    expect(await err('{"action": "list", "status": "done"}')).to.deep.equal(cause("advisor() not valid argument for 'status'"));
    expect(await err('{"action": "get"}')).to.deep.equal(cause("advisor() not valid argument for 'session'"));
    expect((await q('SELECT RAW name FROM system:tasks_cache')).results).to.deep.equal([]);
  });
});
