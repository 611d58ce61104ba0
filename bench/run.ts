// `npm run bench`: every benchmark area in turn, each in a process of its own, or only the areas
// named on the command line (`npm run bench -- adapters views`). Arguments that start with `--`
// are passed to every area (e.g. `--quick`, which the adapters bench understands).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const AREAS = ['defer', 'server', 'engine', 'n1ql', 'views', 'adapters'] as const;

function main(): number {
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a.startsWith('--'));
  const named = args.filter((a) => !a.startsWith('--'));
  const unknown = named.filter((a) => !(AREAS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark area(s): ${unknown.join(', ')}; the areas are ${AREAS.join(', ')}`);
    return 2;
  }
  const areas = named.length > 0 ? named : [...AREAS];
  const failed: string[] = [];
  for (const area of areas) {
    const script = join(__dirname, area, 'index.js');
    if (!existsSync(script)) {
      console.error(`${area}: ${script} is missing; build first (npm run build)`);
      failed.push(area);
      continue;
    }
    console.log(`\n=== bench/${area} ===`);
    const run = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
    if (run.status !== 0) failed.push(area);
  }
  if (failed.length > 0) console.error(`\nbenchmarks that failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = main();
