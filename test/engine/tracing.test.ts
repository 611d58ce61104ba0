import { expect } from 'chai';
import createDebug from 'debug';
import { format } from 'node:util';
import { Engine } from '../../lib/engine/engine';
import { FakeCluster } from './helpers/fake-kv';
import { run, fails, connect, close } from './helpers/engine';
import { TimeoutError } from '../../lib/engine/errors';
import { Opcode } from '../../lib/protocol/opcodes';
import { ArgumentError } from '../../lib/engine/errors';

const AUTH = { username: 'Administrator', password: 'password' };

/** The lines the engine logs under `namespace` while `fn` runs. */
async function logged(namespace: string, fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const before = createDebug.log;
  const enabled = createDebug.disable();
  createDebug.enable([enabled, namespace].filter(Boolean).join(','));
  createDebug.log = (...args: unknown[]) => lines.push(format(...args));
  try {
    await fn();
  } finally {
    createDebug.log = before;
    createDebug.disable();
    if (enabled) createDebug.enable(enabled);
  }
  return lines;
}

/** The JSON of each report line starting with `prefix`. */
function reports(lines: string[], prefix: string): Array<{ service: string; count: number; top: Array<Record<string, unknown>> }> {
  return lines.filter((l) => l.includes(prefix)).map((l) => JSON.parse(l.slice(l.indexOf(prefix) + prefix.length)));
}

describe('engine: the threshold logging tracer (tracing_* options, Python 2.5 Bucket.tracing_* properties)', () => {
  let cluster: FakeCluster;
  let engine: Engine | undefined;
  afterEach(async () => {
    if (engine) await close(engine);
    engine = undefined;
    if (cluster) await cluster.stop();
  });

  /** A cluster whose GET of a key starting with "slow" answers after `delayMs`. */
  async function slowCluster(delayMs: number, extra: string): Promise<Engine> {
    cluster = await FakeCluster.start();
    cluster.hook = (req, conn) => {
      if (req.opcode !== Opcode.GET || !req.key.toString().startsWith('slow')) return false;
      setTimeout(() => conn.reply(req, { status: 0x01 }), delayMs);
      return true;
    };
    engine = new Engine(cluster.connectionString + extra, AUTH);
    await connect(engine);
    return engine;
  }

  it('reports the KV operations over tracing_threshold_kv every flush interval, slowest first, as libcouchbase does', async () => {
    const e = await slowCluster(60, '?tracing_threshold_kv=0.03&tracing_threshold_queue_flush_interval=0.3&tracing_threshold_queue_size=2');
    const lines = await logged('deferbase:tracing', async () => {
      await run(e, 'upsert', 'fast', { value: 1 });
      await Promise.all(['slow1', 'slow2', 'slow3'].map((k) => fails(run(e, 'get', k))));
      await new Promise((r) => setTimeout(r, 450));
    });
    const over = reports(lines, 'Operations over threshold: ');
    // One report, unless a flush fell between the three answers: 3 slow gets in all, the fast upsert in none.
    expect(over.length).to.be.within(1, 2);
    expect(over.reduce((n, r) => n + r.count, 0)).to.equal(3);
    if (over.length === 1) expect(over[0].top).to.have.length(2, 'tracing_threshold_queue_size keeps the slowest two');
    for (const r of over) {
      expect(r.service).to.equal('kv');
      expect(r.top.length).to.be.within(1, 2);
      for (const s of r.top) {
        expect(s.operation_name).to.equal('get');
        expect(s.total_us).to.be.at.least(30_000);
        expect(s.last_remote_address).to.match(/^127\.0\.0\.1:\d+$/);
        expect(s.last_operation_id).to.match(/^0x[0-9a-f]+$/);
      }
      if (r.top.length === 2) expect((r.top[0].total_us as number) >= (r.top[1].total_us as number)).to.equal(true);
    }
    expect(reports(lines, 'Orphan responses observed: ')).to.deep.equal([]);
  });

  it('reports replies that come after their operation timed out as orphans', async () => {
    const e = await slowCluster(150, '?tracing_orphaned_queue_flush_interval=0.1');
    const lines = await logged('deferbase:tracing', async () => {
      expect(await fails(run(e, 'get', 'slow-orphan', { timeout: 0.05 }))).to.be.instanceOf(TimeoutError);
      await new Promise((r) => setTimeout(r, 400));
    });
    const orphans = reports(lines, 'Orphan responses observed: ');
    expect(orphans).to.have.length(1);
    expect(orphans[0]).to.include({ service: 'kv', count: 1 });
    expect(orphans[0].top[0].operation_name).to.equal('GET');
  });

  it('is off unless enable_tracing or a tracing_* option says otherwise; the settings change while open and are checked', async () => {
    const e = await slowCluster(40, '');
    expect(e.tracer).to.equal(null);
    expect(e.setting('tracingThresholdKv')).to.equal(0.5);
    e.set('tracingThresholdKv', 0.01);
    e.set('tracingThresholdQueueFlushInterval', 0.1);
    expect(e.tracer).to.not.equal(null);
    expect([e.setting('tracingThresholdKv'), e.setting('tracingThresholdQueueFlushInterval'), e.setting('tracingOrphanedQueueSize')]).to.deep.equal([0.01, 0.1, 128]);
    expect(() => e.set('tracingThresholdQueueSize', 1.5)).to.throw(ArgumentError);
    expect(() => e.set('tracingThresholdN1ql', -1)).to.throw(ArgumentError);
    expect(() => e.set('tracingOrphanedQueueFlushInterval', 0)).to.throw(ArgumentError);
    const lines = await logged('deferbase:tracing', async () => {
      await fails(run(e, 'get', 'slow-after-set'));
      await new Promise((r) => setTimeout(r, 250));
    });
    expect(reports(lines, 'Operations over threshold: ')[0]).to.include({ service: 'kv', count: 1 });
  });

  it('redaction wraps keys in the engine\'s log lines in <ud>...</ud>', async () => {
    const e = await slowCluster(200, '?log_redaction=true');
    expect(e.setting('redaction')).to.equal(true);
    const lines = await logged('deferbase:engine:kv', async () => {
      await fails(run(e, 'get', 'slow-secret', { timeout: 0.05 }));
    });
    expect(lines.some((l) => l.includes('get(<ud>slow-secret</ud>) timed out'))).to.equal(true, lines.join('\n'));
    e.set('redaction', false);
    const plain = await logged('deferbase:engine:kv', async () => {
      await fails(run(e, 'get', 'slow-open', { timeout: 0.05 }));
    });
    expect(plain.some((l) => l.includes('get(slow-open) timed out'))).to.equal(true, plain.join('\n'));
  });
});
