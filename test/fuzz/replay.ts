// `node dist/test/fuzz/replay.js SEED:INDEX [...]`: prints what those fuzz inputs send, so a
// finding can be read and turned into a test of its own.
import { Rng } from './rng';
import { describeInput, pickInput } from './inputs';

for (const arg of process.argv.slice(2)) {
  const [seed, index] = arg.split(':').map(Number);
  // the same draws, in the same order, as the driver's
  console.log(`${arg}: ${describeInput(pickInput(new Rng((seed * 1_000_003 + index) >>> 0)))}`);
}
