// Before/after ratios for the N1QL engine in one process: this build and a baseline build
// (BENCH_BASE, default /work/base) each get their own 100,000-document bucket, and every query
// shape runs in alternating rounds on both, so machine load lands on both sides alike. A second
// table compares, in this build alone, queries an index serves (index order for ORDER BY ...
// LIMIT, a covering scan) with the same query forced onto the primary index (USE INDEX).
//   node dist/bench/n1ql/compare.js [baseDir]
import * as path from 'node:path';
import { DocumentStore } from '../../lib/server/store';
import { travelSampleDocs } from '../../lib/server/samples/travel-sample';
import { parse } from '../../lib/server/n1ql/parser';
import { runStatement } from '../../lib/server/n1ql/statement';
import { PreparedCache } from '../../lib/server/n1ql/prepared';
import { PAUSE } from '../../lib/server/n1ql/pause';

type Run = (stmt: string, args?: unknown[]) => unknown[];

const DOCS = 100_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

function load(Store: typeof DocumentStore): DocumentStore {
  const store = new Store({ name: 'bench', numVBuckets: 1024 });
  let n = 0;
  for (const { id, value } of travelSampleDocs({ scale: DOCS / 31591, seed: 42 })) {
    store.write(id, Buffer.from(JSON.stringify(value)), 'upsert', { datatype: 1 });
    if (++n >= DOCS) break;
  }
  return store;
}

function current(): Run {
  const store = load(DocumentStore);
  const env = { bucket: (n: string) => (n === 'bench' ? store : undefined), buckets: () => [store], canAccess: () => true, denied: () => undefined, functionDenied: () => undefined, sequenceDenied: () => undefined };
  const prepareds = new PreparedCache();
  return (stmt, args = []) => {
    const r = runStatement(parse(stmt), { env, ctx: { now: Date.now(), positional: args as never[], named: {}, checkDeadline: () => undefined }, readonly: false, prepareds, user: 'bench' });
    return [...r.rows].filter((v) => v !== PAUSE);
  };
}

function baseline(dir: string): Run {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const Store = (require(path.join(dir, 'dist/lib/server/store')) as { DocumentStore: typeof DocumentStore }).DocumentStore;
  const n1 = require(path.join(dir, 'dist/lib/server/n1ql/statement')) as { runStatement: (s: unknown, o: unknown) => { rows: Iterable<unknown> } };
  const parser = require(path.join(dir, 'dist/lib/server/n1ql/parser')) as { parse: (s: string) => unknown };
  const basePause = (require(path.join(dir, 'dist/lib/server/n1ql/pause')) as { PAUSE: symbol }).PAUSE;
  const store = load(Store);
  const env = { bucket: (n: string) => (n === 'bench' ? store : undefined), buckets: () => [store], canAccess: () => true, denied: () => undefined, functionDenied: () => undefined, sequenceDenied: () => undefined };
  const prepareds = new Map();
  // The same work as current()'s: collect the rows, then drop the PAUSE markers.
  return (stmt, args = []) => [...n1.runStatement(parser.parse(stmt), { env, ctx: { now: Date.now(), positional: args, named: {}, checkDeadline: () => undefined }, readonly: false, prepareds }).rows].filter((v) => v !== basePause);
}

function ms(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function main(): void {
  const dir = process.argv[2] ?? process.env.BENCH_BASE ?? '/work/base';
  const engines: [string, Run][] = [
    ['base', baseline(dir)],
    ['this', current()],
  ];
  for (const [, q] of engines) {
    q('CREATE PRIMARY INDEX ON bench');
    q('CREATE INDEX ix_type_id ON bench(type, id)');
  }
  const routes = engines[1][1]('SELECT RAW MIN(id) FROM bench WHERE type = "route"')[0] as number;
  const shapes: [string, number, (q: Run, i: number) => unknown][] = [
    ['point lookup, indexed (type, id) x200', 200, (q, i) => q('SELECT * FROM bench WHERE type = "route" AND id = $1', [routes + ((i * 7919) % 70000)])],
    ['range over indexed field, 1,000 rows', 5, (q, i) => q('SELECT META().id, distance FROM bench WHERE type = "route" AND id >= $1 AND id < $1 + 1000', [routes + i * 100])],
    ['full-scan filter over 100,000 docs', 1, (q) => q('SELECT RAW COUNT(*) FROM bench WHERE distance > 5000')],
    ['GROUP BY airline over routes', 1, (q) => q('SELECT airline, COUNT(*) AS n, AVG(distance) AS d FROM bench WHERE type = "route" GROUP BY airline')],
    ['ORDER BY distance DESC LIMIT 10 (top-k)', 1, (q) => q('SELECT META().id, distance FROM bench WHERE type = "route" ORDER BY distance DESC LIMIT 10')],
    ['LIKE and string functions over routes', 1, (q) => q('SELECT RAW COUNT(*) FROM bench WHERE type = "route" AND LOWER(airline) LIKE "%a%" AND LENGTH(sourceairport) = 3')],
    ['ARRAY ... FOR over 1,000,000 elements', 1, (q) => q('SELECT RAW ARRAY_LENGTH(ARRAY x * 2 FOR x IN ARRAY_RANGE(0, 1000000) WHEN x % 2 = 0 END)')],
    ['1,000,000-row UNNEST stream (engine only)', 1, (q) => q('SELECT a AS i, a * 2 AS twice FROM ARRAY_RANGE(0, 1000) AS a UNNEST ARRAY_RANGE(0, 1000) AS b')],
  ];
  console.log(`n1ql before/after: ${DOCS.toLocaleString('en')} documents per engine, ${ROUNDS} alternating rounds; baseline ${dir}`);
  for (const [label, reps, f] of shapes) {
    const times: Record<string, number[]> = { base: [], this: [] };
    for (const [, q] of engines) f(q, 0); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, q] of r % 2 ? [...engines].reverse() : engines) {
        times[name].push(ms(() => {
          for (let i = 0; i < reps; i++) f(q, r * reps + i);
        }));
      }
    }
    const ratios = times.this.map((t, k) => t / times.base[k]).sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(44)} base ${median(times.base).toFixed(1).padStart(8)} ms  this ${median(times.this).toFixed(1).padStart(8)} ms  ` +
        `this/base ${median(ratios).toFixed(2)} (rounds ${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)})`,
    );
  }

  // This build: an index-served query against the same query forced to a primary scan.
  const q = engines[1][1];
  q('CREATE INDEX ix_distance ON bench(distance)');
  const primary = 'USE INDEX (`#primary`)';
  const pairs: [string, (use: string) => unknown][] = [
    ['ORDER BY indexed distance LIMIT 10 (index order)', (use) => q(`SELECT META().id, airline, distance FROM bench ${use} WHERE distance IS NOT MISSING ORDER BY distance LIMIT 10`)],
    ['covered: COUNT and MAX of id for one type', (use) => q(`SELECT COUNT(*) AS n, MAX(id) AS m FROM bench ${use} WHERE type = "route" AND id > $1`, [routes])],
    ['covered: ids of 1,000 routes by (type, id)', (use) => q(`SELECT id, META().id AS k FROM bench ${use} WHERE type = "route" AND id >= $1 AND id < $1 + 1000`, [routes])],
  ];
  console.log(`\nindex against primary scan (this build), ${ROUNDS} alternating rounds`);
  for (const [label, f] of pairs) {
    const same = JSON.stringify(f('')) === JSON.stringify(f(primary));
    const times: Record<string, number[]> = { index: [], primary: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order: [string, string][] = r % 2 ? [['primary', primary], ['index', '']] : [['index', ''], ['primary', primary]];
      for (const [name, use] of order) times[name].push(ms(() => f(use)));
    }
    const ratios = times.primary.map((t, k) => t / times.index[k]).sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(50)} index ${median(times.index).toFixed(2).padStart(8)} ms  primary ${median(times.primary).toFixed(1).padStart(8)} ms  ` +
        `primary/index ${median(ratios).toFixed(0)}x (rounds ${ratios[0].toFixed(0)}-${ratios[ratios.length - 1].toFixed(0)}x)${same ? '' : '  RESULTS DIFFER'}`,
    );
  }
}

main();
