import { expect } from 'chai';
import { parseArgs, usageOf, UsageError, type CommandSpec } from '../../lib/cli/args';
import { LatencyRecorder, renderPercentiles, renderTimings } from '../../lib/cli/histogram';
import { ProgressBar } from '../../lib/cli/progress';
import { StatementBuffer } from '../../lib/cli/statements';
import { hasBucket, targetOf, withBucket } from '../../lib/cli/connect';
import { stringifyJson, errorJson } from '../../lib/cli/output';
import { documentOfSize } from '../../lib/cli/commands/pillowfight';
import { parseDuration } from '../../lib/cli/commands/shell';
import { complete } from '../../lib/cli/completion';
import { renderTable } from '../../lib/cli/table';
import { buildQuery } from '../../lib/cli/query-printer';
import { NotFoundError } from '../../lib/engine/errors';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'A demo command.',
  positionals: [
    { name: 'KEY', required: true, help: 'a key' },
    { name: 'VALUE', required: false, help: 'a value' },
  ],
  flags: [
    { name: 'ops', short: 'n', type: 'int', min: 1, default: 10, help: 'operations' },
    { name: 'ratio', type: 'number', min: 0, max: 1, help: 'a ratio' },
    { name: 'flavour', type: 'string', choices: ['a', 'b'], default: 'a', help: 'flavour' },
    { name: 'populate', type: 'bool', default: true, help: 'populate' },
    { name: 'sample', type: 'list', choices: ['x', 'y'], help: 'samples' },
    { name: 'args', type: 'json', help: 'json' },
  ],
};

function usageErrorOf(argv: string[]): UsageError {
  try {
    parseArgs(spec, argv);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('cli: argument tables', () => {
  it('fills defaults, positionals and typed values from every flag spelling', () => {
    const a = parseArgs(spec, ['k', '--ops', '5', '--ratio=0.25', '-n7', '--no-populate', '--sample', 'x', '--sample=y', '--args', '[1,"two"]', 'v']);
    expect(a.positionals).to.deep.equal({ KEY: 'k', VALUE: 'v' });
    expect(a.values).to.deep.include({ ops: 7, ratio: 0.25, flavour: 'a', populate: false, sample: ['x', 'y'], args: [1, 'two'] });
    expect([...a.given].sort()).to.deep.equal(['args', 'ops', 'populate', 'ratio', 'sample']);
  });

  it('rejects an unknown flag and suggests the closest one', () => {
    expect(usageErrorOf(['k', '--opz', '3']).message).to.equal('unknown flag --opz; did you mean --ops?');
  });

  it('rejects values of the wrong type, out of range or outside the choices', () => {
    expect(usageErrorOf(['k', '--ops', 'many']).message).to.match(/--ops: expects a whole number \(got "many"\)/);
    expect(usageErrorOf(['k', '--ops', '0']).message).to.match(/--ops: must be at least 1/);
    expect(usageErrorOf(['k', '--ratio', '2']).message).to.match(/--ratio: must be at most 1/);
    expect(usageErrorOf(['k', '--flavour', 'c']).message).to.match(/--flavour: must be one of a, b/);
    expect(usageErrorOf(['k', '--sample', 'x,z']).message).to.match(/each item must be one of x, y/);
    expect(usageErrorOf(['k', '--args', '[1,']).message).to.match(/--args: expects JSON/);
    expect(usageErrorOf(['k', '--ops']).message).to.equal('--ops needs a value');
  });

  it('rejects missing and surplus positionals', () => {
    expect(usageErrorOf([]).message).to.equal('missing KEY');
    expect(usageErrorOf(['a', 'b', 'c']).message).to.equal('unexpected argument "c"');
  });

  it('takes words after -- and negative numbers as positionals', () => {
    expect(parseArgs(spec, ['--', '--ops', '-5']).positionals).to.deep.equal({ KEY: '--ops', VALUE: '-5' });
  });

  it('prints a usage built from the table', () => {
    const text = usageOf(spec);
    expect(text).to.contain('Usage: deferbase demo KEY [VALUE] [options]');
    expect(text).to.match(/-n, --ops <INT>\s+operations \(default: 10\)/);
    expect(text).to.match(/--flavour <a\|b>/);
    expect(text).to.contain('-h, --help');
  });
});

describe('cli: latency recorder (HDR histogram)', () => {
  it('reports percentiles to 3 significant digits of the exact ones', () => {
    const r = new LatencyRecorder();
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // Log-uniform between 1us and ~1s, like real latencies.
      const v = Math.round(Math.exp((seed / 2 ** 31) * Math.log(1e6)));
      values.push(v);
      r.record(v);
    }
    values.sort((a, b) => a - b);
    const s = r.summary();
    for (const [p, got] of [[50, s.p50], [90, s.p90], [99, s.p99], [99.9, s.p999]] as const) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1];
      expect(Math.abs(got - exact) / exact).to.be.below(1e-3);
    }
    expect(s.count).to.equal(20000);
    expect(s.min).to.equal(values[0]);
    expect(Math.abs(s.max - values[values.length - 1]) / s.max).to.be.below(1e-3);
  });

  it('adds recorders together, and renders percentiles and cbc-style timing bars', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i * 100);
    a.add(b);
    const s = a.summary();
    expect(s).to.deep.include({ count: 100, min: 100 });
    expect(s.mean).to.be.closeTo(5050, 5050 / 1000);
    expect(s.p50).to.be.within(5000, 5005);
    expect(renderPercentiles(a)).to.contain('p50 5.00ms');
    // 4096..8191 us holds 4100..8100: 41 values.
    expect(renderTimings(a)).to.match(/\[4.10ms - 8.19ms\]\s+\|#+\s*\| 41/);
  });
});

describe('cli: progress bar', () => {
  function fake(tty: boolean): { writes: string[]; stream: { write(t: string): void; isTTY: boolean; columns: number } } {
    const writes: string[] = [];
    return { writes, stream: { write: (t: string) => writes.push(t), isTTY: tty, columns: 100 } };
  }

  it('redraws one line in place on a TTY, at most every redraw interval', () => {
    let now = 0;
    const { writes, stream } = fake(true);
    const bar = new ProgressBar({ label: 'load', total: 100, stream, now: () => now });
    bar.update(10);
    now = 50;
    bar.update(20);
    now = 150;
    bar.update(50);
    now = 1000;
    bar.finish();
    expect(writes).to.have.length(3);
    expect(writes[0]).to.match(/^\rload \[#{4}-{36}\]\s+10% 10\/100/);
    expect(writes[1]).to.match(/^\rload \[#{20}-{20}\]\s+50% 50\/100/);
    expect(writes[2]).to.match(/^\rload \[#{20}-{20}\]\s+50% 50\/100 50\.0 ops\/s 1\.0s *\n$/);
  });

  it('prints plain periodic lines when not on a TTY', () => {
    let now = 0;
    const { writes, stream } = fake(false);
    const bar = new ProgressBar({ label: 'load', total: 1000, stream, now: () => now, unit: 'docs' });
    for (let i = 1; i <= 1000; i++) {
      now = i * 3;
      bar.update(i);
    }
    bar.finish();
    expect(writes.every((w) => !w.includes('\r') && w.endsWith('\n'))).to.equal(true);
    expect(writes).to.have.length(4); // t=3, 1005, 2007 and the final line
    expect(writes[3]).to.equal('load: 100% 1000/1000 333 docs/s 3.0s\n');
  });
});

describe('cli: statement splitting', () => {
  it('ends statements at semicolons outside quotes and comments, across lines', () => {
    const b = new StatementBuffer();
    expect(b.push('SELECT "a;b",')).to.deep.equal([]);
    expect(b.pending).to.equal(true);
    expect(b.push("  'it''s;' AS x -- trailing; comment")).to.deep.equal([]);
    expect(b.push('FROM `we;ird` /* ; */;SELECT 2; SELECT')).to.deep.equal([
      'SELECT "a;b",\n  \'it\'\'s;\' AS x -- trailing; comment\nFROM `we;ird` /* ; */',
      'SELECT 2',
    ]);
    expect(b.takeRest()).to.equal('SELECT');
    expect(b.pending).to.equal(false);
  });
});

describe('cli: connection targets and JSON output', () => {
  it('adds or replaces the bucket of a connection string', () => {
    expect(hasBucket('couchbase://127.0.0.1:1,127.0.0.1:2')).to.equal(false);
    expect(withBucket('couchbase://127.0.0.1:1,127.0.0.1:2', 'beer-sample')).to.equal('couchbase://127.0.0.1:1,127.0.0.1:2/beer-sample');
    expect(withBucket('couchbase://h/a?x=1', 'b')).to.equal('couchbase://h/a?x=1');
    expect(withBucket('couchbase://h/a?x=1', 'b', true)).to.equal('couchbase://h/b?x=1');
    expect(withBucket('h1,h2', 'b')).to.equal('couchbase://h1,h2/b');
  });

  it('takes credentials from flags, then the string, then the environment, then the default admin', () => {
    const args = (values: Record<string, unknown>) => ({ positionals: {}, values, given: new Set<string>() });
    expect(targetOf(args({}), {}).options).to.deep.equal({ username: 'Administrator', password: 'password' });
    expect(targetOf(args({ username: 'u', password: 'p' }), {}).options).to.deep.equal({ username: 'u', password: 'p' });
    expect(targetOf(args({}), { DEFERBASE_USERNAME: 'e', DEFERBASE_PASSWORD: 'f' }).options).to.deep.equal({ username: 'e', password: 'f' });
    expect(targetOf(args({}), {}, 'couchbase://h/b?username=s&password=t').options).to.deep.equal({});
    expect(targetOf(args({ bucket: 'x' }), {}, 'couchbase://h/b').connstr).to.equal('couchbase://h/x');
  });

  it('writes bigints as strings and errors with their codes', () => {
    expect(stringifyJson({ cas: 12345678901234567890n, b: Buffer.from('hi') }, null)).to.equal('{"cas":"12345678901234567890","b":{"base64":"aGk="}}');
    const err = new NotFoundError('gone', { key: 'k', rc: 13 });
    expect(errorJson(err)).to.deep.equal({ name: 'NotFoundError', rc: 13, key: 'k', message: 'gone' });
  });

  it('builds pillowfight documents of exactly the requested size', () => {
    for (const n of [18, 64, 4096]) expect(JSON.stringify(documentOfSize(n)).length).to.equal(n);
  });
});

describe('cli: shell completion, durations and tables', () => {
  const keyspaces = ['beer-sample', 'default', 'travel-sample'];
  it('completes backslash commands, \\SET parameters, keywords, functions and keyspaces', () => {
    expect(complete('\\S', keyspaces)).to.deep.equal([['\\SET'], '\\S']);
    expect(complete('\\set -t', keyspaces)).to.deep.equal([['-timeout'], '-t']);
    expect(complete('\\SET -$', keyspaces, ['city'])).to.deep.equal([['-$city'], '-$']);
    expect(complete('SEL', keyspaces)[0]).to.deep.equal(['SELECT', 'SELF']);
    expect(complete('sele', keyspaces)[0]).to.deep.equal(['select']);
    expect(complete('SELECT ARRAY_LE', keyspaces)[0]).to.deep.equal(['ARRAY_LENGTH(']);
    expect(complete('SELECT * FROM tr', keyspaces)).to.deep.equal([['`travel-sample`'], 'tr']);
    expect(complete('SELECT * FROM de', keyspaces)).to.deep.equal([['default'], 'de']);
    expect(complete('SELECT * FROM `be', keyspaces)).to.deep.equal([['beer-sample`'], 'be']);
    expect(complete('SELECT 1 ', keyspaces)).to.deep.equal([[], '']);
  });

  it('reads Go-style durations as cbq does, in seconds', () => {
    expect(parseDuration('30s')).to.equal(30);
    expect(parseDuration('1m30s')).to.equal(90);
    expect(parseDuration('1500ms')).to.equal(1.5);
    expect(parseDuration('2')).to.equal(2);
    for (const bad of ['', 'soon', '5 s', '0', '10x']) expect(parseDuration(bad)).to.equal(undefined);
  });

  it('puts \\SET -timeout on the query, and draws rows as a table', () => {
    expect(buildQuery('SELECT 1', { timeout: 2.5 }).timeout).to.equal(2.5);
    expect(renderTable([{ a: 1, b: 'x' }, { a: { n: [1] } }, 7])).to.equal(
      ['+-----------+---+----+', '| a         | b | $1 |', '+-----------+---+----+', '| 1         | x |    |', '| {"n":[1]} |   |    |', '|           |   | 7  |', '+-----------+---+----+', ''].join('\n'),
    );
  });
});
