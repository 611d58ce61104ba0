// `deferbase shell CONNSTR`: an interactive N1QL shell in the manner of cbq. Line editing and
// history come from node:readline; statements may span lines and end with `;`; shell commands
// start with a backslash (\SET, \UNSET, \QUIT, \HELP).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import createDebug from 'debug';
import type { Engine, StreamControl } from '../../engine';
import type { CommandSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CONNECTION_FLAGS, targetOf, withEngine } from '../connect';
import { stringifyJson, type Writable } from '../output';
import { runAndPrint, type StatementParams } from '../query-printer';
import { StatementBuffer } from '../statements';
import { complete } from '../completion';
import type { CliIo } from '../io';

const debug = createDebug('deferbase:cli:shell');

export const shellSpec: CommandSpec = {
  name: 'shell',
  summary: 'Interactive N1QL shell: statements end with ";", results print as JSON with metrics.',
  positionals: [{ name: 'CONNSTR', required: false, help: 'connection string (the one `deferbase serve` prints works)' }],
  flags: [
    ...CONNECTION_FLAGS,
    { name: 'execute', short: 'e', type: 'string', meta: 'STATEMENT', help: 'run this statement (or several, separated by ";") and exit' },
    { name: 'file', short: 'f', type: 'string', meta: 'FILE', help: 'run the statements in FILE and exit' },
    { name: 'history-file', type: 'string', meta: 'FILE', help: 'where history is kept (default ~/.deferbase_history)' },
    { name: 'format', type: 'string', choices: ['json', 'table'], default: 'json', help: 'how results print (\\SET -format changes it)' },
  ],
  notes: [
    'shell commands:',
    '  \\SET -args [v1, v2, ...]   positional parameters $1, $2, ... for the next statements',
    '  \\SET -$name value          a named parameter $name (value is JSON, else a string)',
    '  \\SET -timeout 30s          how long the query service may take (ns, us, ms, s, m, h; bare: seconds)',
    '  \\SET -format table|json    print results as a table or as cbq\'s JSON',
    '  \\SET                       show the parameters',
    '  \\UNSET -args | -timeout | -$name   drop them',
    'Tab completes keywords, functions, keyspaces and \\ commands; history is kept between runs.',
    '  \\QUIT (or \\EXIT, Ctrl-D)   leave the shell',
  ],
};

const PROMPT = 'deferbase> ';
const CONTINUATION = '         > ';
const HISTORY_SIZE = 1000;

/** What the shell does with each line, independent of where lines come from. */
export class ShellSession {
  readonly params: { args?: unknown[]; named: Record<string, unknown>; timeout?: number; format: 'json' | 'table' } = { named: {}, format: 'json' };
  readonly buffer = new StatementBuffer();
  failures = 0;
  running: StreamControl | undefined;
  /** Keyspace names for tab completion, from system:keyspaces (refreshed after each statement). */
  keyspaces: string[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly out: Writable,
    private readonly err: Writable,
  ) {}

  /** Handles one input line; resolves to 'quit' when the user asked to leave. */
  async feed(line: string): Promise<'quit' | undefined> {
    if (!this.buffer.pending && /^\s*\\/.test(line)) return this.command(line.trim().replace(/;\s*$/, ''));
    for (const statement of this.buffer.push(line)) await this.run(statement);
    return undefined;
  }

  /** Runs what is left when input ends without a final `;`. */
  async finish(): Promise<void> {
    const rest = this.buffer.takeRest();
    if (rest !== undefined) await this.run(rest);
  }

  async run(statement: string): Promise<void> {
    const params: StatementParams = { args: this.params.args, named: this.params.named, timeout: this.params.timeout, format: this.params.format };
    const outcome = await runAndPrint(this.engine, statement, params, this.out, (c) => (this.running = c));
    this.running = undefined;
    if (!outcome.ok) this.failures++;
  }

  /** Reloads the keyspace names tab completion offers; failures leave the old list. */
  refreshKeyspaces(): void {
    const names: string[] = [];
    this.engine.n1ql('SELECT RAW name FROM system:keyspaces', {
      onRows: (rows) => names.push(...rows.filter((r): r is string => typeof r === 'string')),
      onDone: () => (this.keyspaces = names.sort()),
      onError: (err) => debug('keyspaces for completion: %s', err.message),
    });
  }

  /** Tab completion over this session's keyspaces and named parameters. */
  complete(line: string): [string[], string] {
    return complete(line, this.keyspaces, Object.keys(this.params.named));
  }

  /** A backslash command. */
  command(text: string): 'quit' | undefined {
    const m = /^\\(\w+)\s*(.*)$/s.exec(text);
    const name = (m?.[1] ?? '').toUpperCase();
    const rest = (m?.[2] ?? '').trim();
    switch (name) {
      case 'QUIT':
      case 'EXIT':
        return 'quit';
      case 'SET':
        this.set(rest);
        return undefined;
      case 'UNSET':
        this.unset(rest);
        return undefined;
      case 'HELP':
        this.out.write(shellSpec.notes!.join('\n') + '\n');
        return undefined;
      default:
        this.fail(`unknown shell command ${JSON.stringify(text.split(/\s/)[0])}; try \\HELP`);
        return undefined;
    }
  }

  private set(rest: string): void {
    if (rest === '') {
      const shown: Record<string, unknown> = {};
      if (this.params.args !== undefined) shown['-args'] = this.params.args;
      if (this.params.timeout !== undefined) shown['-timeout'] = `${this.params.timeout}s`;
      shown['-format'] = this.params.format;
      for (const [k, v] of Object.entries(this.params.named)) shown[`-$${k}`] = v;
      this.out.write(stringifyJson(shown) + '\n');
      return;
    }
    const m = /^-(\$?[\w.]+)\s+(.+)$/s.exec(rest);
    if (!m) return this.fail('usage: \\SET -args [v1, ...]  or  \\SET -$name value');
    const [, name, valueText] = m;
    if (name.toLowerCase() === 'timeout') {
      const seconds = parseDuration(valueText.trim().replace(/^"(.*)"$/, '$1'));
      if (seconds === undefined) return this.fail('\\SET -timeout needs a duration: 30s, 1500ms, 2m (a bare number is seconds)');
      this.params.timeout = seconds;
      return;
    }
    if (name.toLowerCase() === 'format') {
      const f = valueText.trim().toLowerCase();
      if (f !== 'json' && f !== 'table') return this.fail('\\SET -format takes table or json');
      this.params.format = f;
      return;
    }
    if (name.toLowerCase() === 'args') {
      let value: unknown;
      try {
        value = JSON.parse(valueText);
      } catch (err) {
        return this.fail(`\\SET -args needs a JSON array: ${(err as Error).message}`);
      }
      if (!Array.isArray(value)) return this.fail('\\SET -args needs a JSON array, e.g. \\SET -args [1, "two"]');
      this.params.args = value;
      return;
    }
    if (!name.startsWith('$')) return this.fail(`unknown parameter -${name}; use -args or -$name`);
    let value: unknown = valueText;
    try {
      value = JSON.parse(valueText);
    } catch {
      // Not JSON: cbq takes a bare word as a string.
    }
    this.params.named[name.slice(1)] = value;
  }

  private unset(rest: string): void {
    const m = /^-(\$?[\w.]+)$/.exec(rest);
    if (!m) return this.fail('usage: \\UNSET -args  or  \\UNSET -$name');
    if (m[1].toLowerCase() === 'args') this.params.args = undefined;
    else if (m[1].toLowerCase() === 'timeout') this.params.timeout = undefined;
    else if (m[1].startsWith('$') && m[1].slice(1) in this.params.named) delete this.params.named[m[1].slice(1)];
    else this.fail(`parameter -${m[1]} is not set`);
  }

  private fail(message: string): void {
    this.failures++;
    this.err.write(`ERROR: ${message}\n`);
  }
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go-style duration as cbq takes it (`1m30s`, `500ms`; a bare number is seconds), in seconds. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) > 0 ? Number(text) : undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    end = re.lastIndex;
  }
  return end === text.length && text.length > 0 && total > 0 ? total : undefined;
}

/** Reads the history file (oldest first) into readline's order (newest first). */
function loadHistory(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

/**
 * Replaces the history entries of a statement typed over several lines by the whole statement
 * on one line, so that up-arrow recalls it as cbq does. Only when the newest entries are exactly
 * those lines (readline skips blank lines and may have dropped duplicates; then it is left alone).
 */
export function foldHistory(newestFirst: string[], lines: readonly string[]): boolean {
  const typed = lines.filter((l) => l.trim().length > 0);
  if (typed.length < 2 || typed.some((l) => l.includes('--'))) return false;
  for (let i = 0; i < typed.length; i++) if (newestFirst[i] !== typed[typed.length - 1 - i]) return false;
  newestFirst.splice(0, typed.length, typed.map((l) => l.trim()).join(' '));
  return true;
}

function saveHistory(file: string, newestFirst: readonly string[]): boolean {
  try {
    fs.writeFileSync(file, [...newestFirst].reverse().join('\n') + '\n', { mode: 0o600 });
    return true;
  } catch (err) {
    debug('history not saved to %s: %s', file, (err as Error).message);
    return false;
  }
}

export async function runShell(args: ParsedArgs, io: CliIo): Promise<number> {
  const exec = args.values.execute as string | undefined;
  const file = args.values.file as string | undefined;
  if (exec !== undefined && file !== undefined) throw new UsageError('give either -e or -f, not both', shellSpec);
  let script: string | undefined = exec;
  if (file !== undefined) {
    try {
      script = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, shellSpec);
    }
  }
  const target = targetOf(args, io.env, args.positionals.CONNSTR);
  return withEngine(target, 'shell', io, async (engine) => {
    const session = new ShellSession(engine, io.stdout, io.stderr);
    session.params.format = args.values.format as 'json' | 'table';
    if (script !== undefined) {
      for (const line of script.split(/\r?\n/)) if ((await session.feed(line)) === 'quit') return exitCode(session);
      await session.finish();
      return exitCode(session);
    }
    await interactive(session, io, target.connstr, args.values['history-file'] as string | undefined);
    return exitCode(session);
  });
}

function exitCode(session: ShellSession): number {
  return session.failures > 0 ? 1 : 0;
}

async function interactive(session: ShellSession, io: CliIo, connstr: string, historyOption: string | undefined): Promise<void> {
  const tty = io.stdin.isTTY === true && io.stdout.isTTY === true;
  const home = io.env.HOME ?? os.homedir();
  const historyFile = historyOption ?? (home ? path.join(home, '.deferbase_history') : undefined);
  let historyOk = tty && historyFile !== undefined;
  const rl = readline.createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal: tty,
    history: historyOk ? loadHistory(historyFile!) : [],
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: PROMPT,
    completer: tty ? (line: string) => session.complete(line) : undefined,
  });
  if (tty) session.refreshKeyspaces();
  // readline hands out its own history array (newest first); kept to fold multi-line statements.
  let historyRef: string[] | undefined;
  if (historyOk) {
    rl.on('history', (h: string[]) => {
      historyRef = h;
      // An unwritable HOME only costs the history, not the session.
      if (historyOk) historyOk = saveHistory(historyFile!, h);
    });
  }
  rl.on('SIGINT', () => {
    if (session.running) {
      session.running.cancel();
      return;
    }
    if (session.buffer.pending) {
      session.buffer.clear();
      io.stdout.write('^C\n');
      rl.setPrompt(PROMPT);
      rl.prompt();
      return;
    }
    rl.close();
  });
  if (tty) io.stdout.write(`Connected to ${connstr.replace(/([?&]password=)[^&]*/i, '$1***')}. Statements end with ";". Type \\HELP for help, \\QUIT or Ctrl-D to exit.\n`);
  const prompt = (): void => {
    if (!tty) return;
    rl.setPrompt(session.buffer.pending ? CONTINUATION : PROMPT);
    rl.prompt();
  };
  prompt();
  let statementLines: string[] = [];
  for await (const line of rl) {
    const wasPending = session.buffer.pending;
    if (wasPending || line.trim().length > 0) statementLines.push(line);
    if ((await session.feed(line)) === 'quit') break;
    if (!session.buffer.pending) {
      // A statement may have created or dropped a bucket: completion follows.
      if (tty && statementLines.length > 0 && !/^\s*\\/.test(statementLines[0])) session.refreshKeyspaces();
      if (statementLines.length > 1 && historyRef !== undefined && foldHistory(historyRef, statementLines)) {
        if (historyOk) historyOk = saveHistory(historyFile!, historyRef);
      }
      statementLines = [];
    }
    prompt();
  }
  rl.close();
  if (!tty) await session.finish();
  else io.stdout.write('\n');
}
