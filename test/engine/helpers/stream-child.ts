// Child process for the streaming-memory test: runs one engine.n1ql with a handler that only
// counts rows, then prints {rows, batches, maxRssMB, maxLiveMB, status}.
// Run: node --expose-gc --max-old-space-size=64 stream-child.js <connstr>
// maxLiveMB is the heap still in use right after a full collection, sampled every 250 batches:
// what the stream holds on to, free of the garbage collector's timing (which moves peak RSS by
// tens of MB with the machine's load). The heap cap makes an engine that buffers rows fail.
import { Engine } from '../../../lib/engine/engine';

const engine = new Engine(process.argv[2], { username: 'Administrator', password: 'password', n1ql_timeout: 120 });
let rows = 0;
let batches = 0;
let maxLiveMB = 0;
const gc = (globalThis as { gc?: () => void }).gc;
function sampleLive(): void {
  if (!gc) return;
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
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
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
