// The `deferbase` command: one table maps each subcommand to its argument table and its runner.
// Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong.
import { parseArgs, usageOf, UsageError, type CommandSpec, type ParsedArgs } from './args';
import { processIo, type CliIo } from './io';
import { describeError } from './output';
import { serveSpec, runServe } from './commands/serve';
import { shellSpec, runShell } from './commands/shell';
import { querySpec, runQuery } from './commands/query';
import { viewSpec, runView } from './commands/view';
import { sampleSpec, runSample } from './commands/sample';
import { pillowfightSpec, runPillowfight } from './commands/pillowfight';
import { KV_COMMANDS, runKv } from './commands/kv';

interface Subcommand {
  spec: CommandSpec;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Subcommand>> = {
  serve: { spec: serveSpec, run: runServe },
  shell: { spec: shellSpec, run: runShell },
  ...Object.fromEntries(Object.entries(KV_COMMANDS).map(([name, c]) => [name, { spec: c.spec, run: (a: ParsedArgs, io: CliIo) => runKv(name, a, io) }])),
  query: { spec: querySpec, run: runQuery },
  view: { spec: viewSpec, run: runView },
  pillowfight: { spec: pillowfightSpec, run: runPillowfight },
  sample: { spec: sampleSpec, run: runSample },
};

export function mainUsage(): string {
  const lines = ['usage: deferbase COMMAND [arguments] [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(13)}${c.spec.summary}`);
  lines.push('', 'Run `deferbase COMMAND --help` for the options of a command.');
  return lines.join('\n') + '\n';
}

function version(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    (name === undefined ? io.stderr : io.stdout).write(topic ? usageOf(topic.spec) : mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`deferbase ${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    io.stderr.write(`deferbase: unknown command ${JSON.stringify(name)}\n\n${mainUsage()}`);
    return 2;
  }
  try {
    const args = parseArgs(cmd.spec, rest);
    if (args.values.help === true) {
      io.stdout.write(usageOf(cmd.spec));
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`deferbase ${name}: ${err.message}\n\n${usageOf(err.command ?? cmd.spec)}`);
      return 2;
    }
    io.stderr.write(`deferbase ${name}: ${describeError(err)}\n`);
    return 1;
  }
}

if (require.main === module) runFromProcess();

/** Entry used by bin/deferbase.js: runs, then exits with the code once output is flushed. */
export function runFromProcess(): void {
  // `deferbase query ... | head`: a closed pipe ends the command quietly, as for other tools.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Leftover handles (keep-alive sockets, a blocking worker) must not keep a finished command alive.
      setImmediate(() => process.exit(code));
    },
    (err) => {
      process.stderr.write(`deferbase: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
