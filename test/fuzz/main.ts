// `npm run fuzz [-- --seconds N --seed S --concurrency C --only kv,loris,deaf,flood,http]`: a longer fuzz run of the embedded
// cluster, ending with its figures (inputs, frames, crashes, hangs, peak RSS). Exit code 1 on
// any crash or hang; the findings name the `seed:index` of the inputs to replay.
import { parseArgs } from 'node:util';
import { runFuzz, type FuzzOptions } from './driver';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '120' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
      concurrency: { type: 'string', default: '8' },
      only: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const seed = Number(values.seed);
  console.log(`fuzzing the embedded cluster for ${seconds} s, seed ${seed}`);
  const only = values.only?.split(',') as FuzzOptions['only'];
  const report = await runFuzz({ seed, seconds, concurrency: Number(values.concurrency), only, log: (l) => console.log(l) });
  const http = report.httpRequests;
  console.log(`KV connections ${report.kvConnections}, frames ${report.framesSent} (${(report.kvBytesSent / 1048576).toFixed(1)} MiB)`);
  console.log(`  of which slow-loris ${report.slowLoris}, never reading ${report.deaf}, opened in floods ${report.flooded}`);
  console.log(`HTTP requests: management ${http.mgmt}, query ${http.query}, views ${http.views}`);
  console.log(`HTTP statuses: ${Object.entries(report.httpStatus).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  console.log(`crashes ${report.crashes}, hangs ${report.hangs}, peak RSS ${(report.peakRssKb / 1024).toFixed(0)} MiB, ${(report.elapsedMs / 1000).toFixed(0)} s`);
  if (report.serverErrors.length > 0) console.log(`inputs answered 5xx (print them with: node dist/test/fuzz/replay.js SEED:INDEX): ${report.serverErrors.join(', ')}`);
  for (const f of report.findings) console.log(`${f.kind}: ${f.detail}\n  inputs: ${f.inputs.join(' ')}`);
  return report.crashes + report.hangs > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
