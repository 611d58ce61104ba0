// Child process for the streaming-memory test: runs one engine.n1ql with a handler that only
// counts rows, then prints {rows, batches, maxRssMB, maxLiveMB, status}.
// Run: node --expose-gc --max-old-space-size=64 stream-child.js <connstr>
// maxLiveMB is the heap still in use right after a full collection, sampled every 250 batches:
// what the stream holds on to, free of the garbage collector's timing (which moves peak RSS by
// tens of MB with the machine's load). The heap cap makes an engine that buffers rows fail.
import fs from 'node:fs';
import { Engine } from '../../../lib/engine/engine';

/**
 * This process's peak RSS. Not resourceUsage().maxRSS: Linux carries the pre-exec peak into it,
 * and right after fork the child maps all of its parent — a test runner of 170 MB read as a
 * 170 MB peak here. VmHWM is the peak of this process image alone.
 */
function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return Math.max(sampledRssMB, process.memoryUsage.rss() / 1048576);
}

const engine = new Engine(process.argv[2], { username: 'Administrator', password: 'password', n1ql_timeout: 120 });
let rows = 0;
let batches = 0;
let maxLiveMB = 0;
let sampledRssMB = 0;
const gc = (globalThis as { gc?: () => void }).gc;
function sampleLive(): void {
  if (!gc) return;
  sampledRssMB = Math.max(sampledRssMB, process.memoryUsage.rss() / 1048576);
  gc();
  maxLiveMB = Math.max(maxLiveMB, process.memoryUsage().heapUsed / 1048576);
}
engine.n1ql('SELECT * FROM big', {
  onRows(r) {
    rows += r.length;
    batches++;
    if (batches % 250 === 0) sampleLive();
  },
  onDone(meta) {
    sampleLive();
    const maxRssMB = peakRssMB();
    engine.close(() => {
      process.stdout.write(JSON.stringify({ rows, batches, maxRssMB, maxLiveMB, status: meta.status }) + '\n');
      process.exit(0);
    });
  },
  onError(err) {
    process.stdout.write(JSON.stringify({ error: err.message, rows }) + '\n');
    process.exit(1);
  },
});
