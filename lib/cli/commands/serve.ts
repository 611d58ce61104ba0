// `deferbase serve`: runs the embedded cluster in this process until SIGINT/SIGTERM, then stops
// every listener and closes the persistence logs (flushing them) before exiting.
import * as fs from 'node:fs';
import type { CommandSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { closeEngine, connectEngine, withBucket } from '../connect';
import { describeError, printJson } from '../output';
import { SAMPLE_NAMES, loadSample } from '../sample-loader';
import type { CliIo } from '../io';

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'Run an embedded Couchbase-compatible cluster until interrupted (Ctrl-C / SIGTERM).',
  positionals: [],
  flags: [
    { name: 'nodes', short: 'n', type: 'int', min: 1, max: 16, default: 1, meta: 'N', help: 'number of nodes' },
    { name: 'replicas', short: 'r', type: 'int', min: 0, max: 3, default: 0, meta: 'N', help: 'replicas per vBucket (less than --nodes)' },
    { name: 'port', short: 'p', type: 'int', min: 0, max: 65535, default: 11210, meta: 'PORT', help: 'KV port of node 0 (node i gets PORT+i); 0 = OS-picked' },
    { name: 'mgmt-port', type: 'int', min: 0, max: 65535, default: 0, meta: 'PORT', help: 'management port of node 0 (node i gets PORT+i); 0 = OS-picked' },
    { name: 'host', type: 'string', default: '127.0.0.1', meta: 'ADDR', help: 'address to listen on and advertise' },
    { name: 'data-dir', short: 'd', type: 'string', meta: 'DIR', help: 'keep the buckets on disk in DIR (loaded at start, flushed at stop)' },
    { name: 'bucket', short: 'b', type: 'list', default: ['default'], meta: 'A,B', help: 'buckets to create' },
    { name: 'sample', short: 's', type: 'list', choices: SAMPLE_NAMES, meta: 'NAME,...', help: `sample buckets to create and load (${SAMPLE_NAMES.join(', ')})` },
    { name: 'seed', type: 'int', default: 1, meta: 'N', help: 'seed of the generated samples' },
    { name: 'scale', type: 'number', min: 0.0001, max: 10, default: 1, meta: 'X', help: 'multiplies the sample document counts' },
    { name: 'connstr', short: 'U', type: 'string', meta: 'CONNSTR', help: 'serve where this connection string points: couchbase://HOST[:PORT][/BUCKET] sets --host, --port and adds the bucket' },
    { name: 'username', short: 'u', type: 'string', meta: 'USER', help: 'administrator user name (default Administrator)' },
    { name: 'password', short: 'P', type: 'string', meta: 'PASS', help: 'administrator password (default password)' },
    { name: 'fsync', type: 'string', choices: ['always', 'batch', 'none'], default: 'batch', help: 'when acknowledged writes reach the disk (with --data-dir)' },
    { name: 'strict-recovery', type: 'bool', help: 'refuse to start when a log in --data-dir has damaged records (default: recover around them and report)' },
    { name: 'json', type: 'bool', help: 'print the cluster description as one JSON line' },
  ],
  notes: ['example: deferbase serve --nodes 3 --replicas 1 --port 0 --sample beer-sample'],
};

export async function runServe(args: ParsedArgs, io: CliIo): Promise<number> {
  const v = args.values;
  const nodes = v.nodes as number;
  const replicas = v.replicas as number;
  if (replicas >= nodes) throw new UsageError(`--replicas ${replicas} needs at least ${replicas + 1} nodes (--nodes ${nodes})`, serveSpec);
  if ((v.username === undefined) !== (v.password === undefined)) throw new UsageError('give --username and --password together', serveSpec);
  let port = v.port as number;
  let host = v.host as string;
  const extraBuckets: string[] = [];
  if (v.connstr !== undefined) {
    const m = /^couchbase:\/\/(\[[^\]]+\]|[^/:?,]+)(?::(\d+))?(?:\/([^/?]+))?\/?$/.exec(v.connstr as string);
    if (!m) throw new UsageError(`--connstr: serve takes one node's address, couchbase://HOST[:PORT][/BUCKET] (got ${JSON.stringify(v.connstr)})`, serveSpec);
    if (args.given.has('host') || args.given.has('port')) throw new UsageError('give either --connstr or --host/--port', serveSpec);
    host = m[1].replace(/^\[|\]$/g, '');
    if (m[2] !== undefined) port = Number(m[2]);
    if (m[3] !== undefined) extraBuckets.push(decodeURIComponent(m[3]));
  }
  if (port !== 0 && port + nodes - 1 > 65535) throw new UsageError(`--port ${port} leaves no room for ${nodes} nodes`, serveSpec);
  const dataDir = v['data-dir'] as string | undefined;
  if (v['strict-recovery'] === true && dataDir === undefined) throw new UsageError('--strict-recovery needs --data-dir', serveSpec);
  if (dataDir !== undefined) {
    try {
      fs.mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new UsageError(`--data-dir ${dataDir}: ${(err as Error).message}`, serveSpec);
    }
  }
  const samples = (v.sample as string[] | undefined) ?? [];
  const bucketNames = [...new Set([...(v.bucket as string[]), ...extraBuckets, ...samples])];
  const user = { username: (v.username as string | undefined) ?? 'Administrator', password: (v.password as string | undefined) ?? 'password' };

  // Imported here: the server (and its N1QL and views engines) loads only for this command.
  const { Cluster } = await import('../../server');
  let cluster: import('../../server').Cluster;
  try {
    cluster = await Cluster.start({
      nodes,
      replicas,
      buckets: bucketNames.map((name) => ({ name })),
      users: [user],
      dataDir,
      fsync: v.fsync as 'always' | 'batch' | 'none',
      strictRecovery: v['strict-recovery'] === true,
      host,
      kvPort: port === 0 ? undefined : port,
      mgmtPort: (v['mgmt-port'] as number) === 0 ? undefined : (v['mgmt-port'] as number),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? ' (port in use: pick another with --port, or --port 0 for OS-picked ports)' : '';
    io.stderr.write(`deferbase serve: cannot start the cluster: ${e.message}${hint}\n`);
    return 1;
  }

  let stopping: Promise<void> | undefined;
  let stopRequested = false;
  const stop = (): Promise<void> => (stopping ??= cluster.stop());
  const stopped = new Promise<string>((resolve) => {
    const off = io.onStop((signal) => {
      if (stopRequested) {
        // A second Ctrl-C while shutting down: leave now.
        io.stderr.write('deferbase serve: forced exit\n');
        process.exit(130);
      }
      stopRequested = true;
      off();
      resolve(signal);
    });
  });

  try {
    for (const sample of samples) {
      const engine = await connectEngine({ connstr: withBucket(cluster.connectionString, sample), options: user });
      try {
        const report = await loadSample(engine, sample, { seed: v.seed as number, scale: v.scale as number, progress: io.stderr });
        for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
      } finally {
        await closeEngine(engine);
      }
      if (stopRequested) break;
    }
  } catch (err) {
    io.stderr.write(`deferbase serve: loading samples failed: ${describeError(err)}\n`);
    await stop();
    return 1;
  }

  const hostInUrl = cluster.host.includes(':') ? `[${cluster.host}]` : cluster.host;
  const consoleUrl = `http://${hostInUrl}:${cluster.nodes[0].ports.mgmt}/ui/`;
  const description = {
    connectionString: cluster.connectionString,
    nodes: cluster.nodes.map((n) => ({ index: n.index, host: cluster.host, ports: n.ports })),
    console: consoleUrl,
    buckets: bucketNames,
    username: user.username,
    dataDir: dataDir ?? null,
    pid: process.pid,
  };
  if (v.json === true) printJson(io.stdout, description, null);
  else {
    const lines = [`deferbase: embedded cluster of ${nodes} node${nodes > 1 ? 's' : ''} (${replicas} replica${replicas === 1 ? '' : 's'}) is up`];
    lines.push(`connection string: ${cluster.connectionString}`);
    for (const n of description.nodes) {
      const p = n.ports;
      lines.push(`node ${n.index}: kv ${n.host}:${p.kv}  mgmt ${p.mgmt}${p.n1ql !== undefined ? `  n1ql ${p.n1ql}` : ''}${p.capi !== undefined ? `  capi ${p.capi}` : ''}`);
    }
    lines.push(`web console: ${consoleUrl}`);
    lines.push(`buckets: ${bucketNames.join(', ')}`);
    lines.push(`user: ${user.username}${v.password === undefined ? ' / password' : ''}`);
    if (dataDir !== undefined) lines.push(`data dir: ${dataDir}`);
    lines.push('press Ctrl-C to stop');
    io.stdout.write(lines.join('\n') + '\n');
  }

  const signal = await stopped;
  io.stderr.write(`deferbase serve: ${signal}, stopping...\n`);
  await stop();
  io.stderr.write(`deferbase serve: stopped${dataDir !== undefined ? `; data flushed to ${dataDir}` : ''}\n`);
  return 0;
}
