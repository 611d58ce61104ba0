// Child process for the streaming-memory test: runs one engine.n1ql with a handler that only
// counts rows, then prints {rows, maxRssMB}. Run: node stream-child.js <connstr>
import { Engine } from '../../../lib/engine/engine';

const engine = new Engine(process.argv[2], { username: 'Administrator', password: 'password', n1ql_timeout: 120 });
let rows = 0;
let batches = 0;
engine.n1ql('SELECT * FROM big', {
  onRows(r) {
    rows += r.length;
    batches++;
  },
  onDone(meta) {
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
    engine.close(() => {
      process.stdout.write(JSON.stringify({ rows, batches, maxRssMB, status: meta.status }) + '\n');
      process.exit(0);
    });
  },
  onError(err) {
    process.stdout.write(JSON.stringify({ error: err.message, rows }) + '\n');
    process.exit(1);
  },
});
