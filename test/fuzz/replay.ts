// `node dist/test/fuzz/replay.js SEED:INDEX [...]`: prints what those fuzz inputs send, so a
// finding can be read and turned into a test of its own.
import { Rng } from './rng';
import { connectionScript } from './kv-frames';
import { httpRequest } from './http-requests';

for (const arg of process.argv.slice(2)) {
  const [seed, index] = arg.split(':').map(Number);
  // the same draws, in the same order, as the driver's `one(i)`
  const r = new Rng((seed * 1_000_003 + index) >>> 0);
  if (r.chance(0.65)) {
    const script = connectionScript(r, { user: 'Administrator', password: 'password', bucket: 'default' });
    console.log(`${arg}: KV connection, ${script.frames} frames:\n${Buffer.concat(script.chunks).toString('hex')}`);
  } else {
    const service = r.pick(['mgmt', 'query', 'views'] as const);
    console.log(`${arg}: ${service}:\n${httpRequest(r, service).toString('latin1')}`);
  }
}
