// The README's API table says, row by row, which deferbase name stands for each Python SDK 2.5
// call and in which flavours. This test reads the table and checks every name of every ticked
// row against the flavours it names, so the table cannot claim what the code does not have.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as deferred from '../../adapters/deferred';
import * as promise from '../../adapters/promise';
import * as blocking from '../../adapters/blocking';
import { BlockingRows } from '../../adapters/blocking/rows';
import { FakeEngine } from './helpers/fake-engine';

type Flavour = 'deferred' | 'promise' | 'blocking';
const MODULES: Record<Flavour, Record<string, unknown>> = { deferred, promise, blocking };

/** Objects to look instance members up on, for classes whose members are set in the constructor. */
const SAMPLES: Record<string, (m: Record<string, any>) => object> = {
  N1QLQuery: (m) => new m.N1QLQuery('SELECT 1'),
  ViewQuery: (m) => new m.ViewQuery(),
  Query: (m) => new m.Query(),
  MutationState: (m) => new m.MutationState(),
  Item: (m) => new m.Item('k'),
  ItemOptionDict: (m) => new m.ItemOptionDict(),
  ItemSequence: (m) => new m.ItemSequence([]),
  Result: (m) => new m.Result('k'),
  OperationResult: (m) => new m.OperationResult('k', 0n),
  ValueResult: (m) => new m.ValueResult('k', 1, 0n, 0),
  HttpResult: (m) => new m.HttpResult('/', 200, {}, {}),
  SubdocResult: (m) => new m.SubdocResult('k', 0n, [], []),
  MultiResult: (m) => new m.MultiResult(),
  CouchbaseError: (m) => new m.CouchbaseError('x'),
  N1QLError: (m) => new m.N1QLError('x'),
};

interface Row {
  line: number;
  tick: string;
  python: string;
  names: string[];
  flavours: Flavour[];
}

/** The API section's table rows (a `\|` inside a cell is a literal bar). */
function tableRows(): Row[] {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## API:'));
  expect(start, 'the README has an API section').to.be.greaterThan(0);
  const rows: Row[] = [];
  for (let i = start + 1; i < lines.length && !lines[i].startsWith('## '); i++) {
    const line = lines[i];
    if (!line.startsWith('|') || line.startsWith('|---') || line.startsWith('| ✓ | Python')) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (cells.length !== 5) throw new Error(`README line ${i + 1}: expected 5 cells, got ${cells.length}`);
    const [tick, python, ours, flavourCell] = cells;
    if (tick.startsWith('**')) continue; // a section heading row
    const names = [...ours.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const flavours = flavourCell === 'all' ? (['deferred', 'promise', 'blocking'] as Flavour[]) : flavourCell === '—' ? [] : (flavourCell.split(/,\s*/) as Flavour[]);
    rows.push({ line: i + 1, tick, python, names, flavours });
  }
  return rows;
}

/** The deferred flavour fires a list for a query; its members are checked on a real one. */
async function deferredRowList(): Promise<object> {
  const b = new deferred.Bucket('couchbase://fake/default', { engine: new FakeEngine() });
  try {
    return await b.n1qlQueryAll('ROWS 2');
  } finally {
    await b.close();
  }
}

describe('README: the Python SDK 2.5 API table', () => {
  const rows = tableRows();

  it('lists the whole Bucket surface, and says "not supported" only of FMT_PICKLE, full-text search and Analytics', () => {
    expect(rows.length).to.be.greaterThan(90);
    for (const r of rows) {
      expect(['✓', 'n/a', 'not supported'], `README line ${r.line}`).to.include(r.tick);
      if (r.tick === 'not supported') expect(r.python, `README line ${r.line}`).to.match(/FMT_PICKLE|search\(\)|analytics_query/);
    }
    for (const wanted of ['map_add', 'lookup_in', 'n1ql_index_watch', 'consistent_with', 'mapkey_range', 'split_results', 'registerDeferred', 'PasswordAuthenticator', 'SubdocMultipleErrors', 'endure(', 'cluster_manager', 'user_upsert', 'encrypt_fields']) {
      expect(rows.some((r) => r.python.includes(wanted)), wanted).to.equal(true);
    }
  });

  it('every name of every ticked row exists in the flavours the row names', async () => {
    // A query's rows in each flavour (not started: their members are what is checked).
    const rowsOf: Record<Flavour, object> = {
      deferred: await deferredRowList(),
      promise: new promise.QueryRows(() => ({ pause() {}, resume() {}, cancel() {}, done: false }) as never, {}),
      blocking: new BlockingRows({ invoke: () => 0, finishRows() {} } as never, 'n1ql', []),
    };
    const missing: string[] = [];
    for (const r of rows.filter((x) => x.tick === '✓')) {
      expect(r.names.length, `README line ${r.line} names something`).to.be.greaterThan(0);
      for (const flavour of r.flavours) {
        const m = MODULES[flavour] as Record<string, any>;
        for (const raw of r.names) {
          if (raw.startsWith('{')) continue; // an option, checked by the shared suite
          const name = raw.replace(/[(\s].*$/, '');
          let found: boolean;
          let mm: RegExpExecArray | null;
          if ((mm = /^(b|mgr|cluster|rows|adm)\.(\w+)$/.exec(name))) {
            const [, kind, member] = mm;
            const target =
              kind === 'b' ? m.Bucket.prototype : kind === 'mgr' ? m.BucketManager.prototype : kind === 'cluster' ? m.Cluster.prototype : kind === 'adm' ? m.Admin.prototype : rowsOf[flavour];
            found = member in target;
          } else if ((mm = /^SD\.(\w+)$/.exec(name))) {
            found = typeof m.SD[mm[1]] === 'function';
          } else if ((mm = /^(\w+)#(\w+)$/.exec(name))) {
            const cls = m[mm[1]];
            const sample = cls === undefined ? undefined : SAMPLES[mm[1]] ? SAMPLES[mm[1]](m) : cls.prototype;
            found = sample !== undefined && mm[2] in sample;
          } else if ((mm = /^(\w+)\.(\w+)$/.exec(name))) {
            found = m[mm[1]] !== undefined && mm[2] in m[mm[1]];
          } else if (/^\w+$/.test(name)) {
            found = m[name] !== undefined;
          } else {
            throw new Error(`README line ${r.line}: cannot read the name "${raw}"`);
          }
          if (!found) missing.push(`${flavour}: ${raw} (README line ${r.line})`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
