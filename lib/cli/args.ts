// Declarative argument parsing: each subcommand is one table of positionals and flags (name,
// type, default, help). The table is turned into a commander Command, which parses (long and
// short flags, `--flag=value`, `-n7`, `--no-flag`, `--`) and generates the help; the table's
// types, bounds and choices are checked up front, so a typo fails before any connection is made.
// A UsageError carries the message and main prints it with the usage, exit 2.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export type FlagType = 'string' | 'int' | 'number' | 'bool' | 'json' | 'list';

export interface FlagSpec {
  /** Long name without dashes, kebab-case: `in-flight`. Parsed into `values['in-flight']`. */
  name: string;
  /** One-letter alias: `-u`. */
  short?: string;
  type: FlagType;
  /** Default value (already of the flag's type). Absent: the key is missing from the values. */
  default?: unknown;
  /** Allowed values (string flags). */
  choices?: readonly string[];
  /** Bounds for int / number flags. */
  min?: number;
  max?: number;
  /** Placeholder shown in the usage: `--ops N`. */
  meta?: string;
  help: string;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  flags: readonly FlagSpec[];
  /** Extra lines for the usage text (examples, notes). */
  notes?: readonly string[];
}

export interface ParsedArgs {
  positionals: Record<string, string | undefined>;
  values: Record<string, unknown>;
  /** Flags the user actually gave (so a default can be told from an explicit value). */
  given: Set<string>;
}

/** A mistake in the command line; main prints `message` and the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: CommandSpec | undefined,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Flags every command takes. */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'bool', help: 'show this help and exit' };

function coerce(spec: FlagSpec, raw: string): unknown {
  const bad = (why: string): string => `--${spec.name}: ${why} (got ${JSON.stringify(raw)})`;
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw new InvalidArgumentError(bad(`must be one of ${spec.choices.join(', ')}`));
      return raw;
    case 'int':
    case 'number': {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim())) throw new InvalidArgumentError(bad(`expects a ${spec.type === 'int' ? 'whole number' : 'number'}`));
      const n = Number(raw);
      if (spec.type === 'int' && !Number.isSafeInteger(n)) throw new InvalidArgumentError(bad('expects a whole number'));
      if (spec.min !== undefined && n < spec.min) throw new InvalidArgumentError(bad(`must be at least ${spec.min}`));
      if (spec.max !== undefined && n > spec.max) throw new InvalidArgumentError(bad(`must be at most ${spec.max}`));
      return n;
    }
    case 'bool':
      return raw;
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (err) {
        throw new InvalidArgumentError(bad(`expects JSON: ${(err as Error).message}`));
      }
    case 'list': {
      const items = raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
      if (spec.choices) {
        for (const item of items) if (!spec.choices.includes(item)) throw new InvalidArgumentError(bad(`each item must be one of ${spec.choices.join(', ')}`));
      }
      return items;
    }
  }
}

interface Built {
  command: Command;
  /** commander's attribute name (camelCase) to the table's flag. */
  byAttribute: Map<string, FlagSpec>;
  /** The message of the last value that failed its check (commander wraps it in its own). */
  lastBadValue: { message?: string };
}

function metaOf(f: FlagSpec): string {
  return f.meta ?? (f.choices ? f.choices.join('|') : f.type.toUpperCase());
}

function build(spec: CommandSpec): Built {
  const synopsis = spec.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const command = new Command(`deferbase ${spec.name}`)
    .description(spec.summary)
    .usage(`${synopsis ? synopsis + ' ' : ''}[options]`)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .showSuggestionAfterError(true)
    .allowExcessArguments(true)
    .helpOption(false);
  const byAttribute = new Map<string, FlagSpec>();
  const lastBadValue: { message?: string } = {};
  for (const p of spec.positionals) command.argument(p.required ? `<${p.name}>` : `[${p.name}]`, p.help);
  for (const f of [...spec.flags, HELP_FLAG]) {
    const names = `${f.short ? `-${f.short}, ` : ''}--${f.name}`;
    if (f.type === 'bool') {
      const opt = new Option(names, f.help);
      if (f.default !== undefined) opt.default(f.default);
      command.addOption(opt);
      // --no-X turns a bool off; listed in the help only when the flag is on by default.
      const off = new Option(`--no-${f.name}`, `turn --${f.name} off`);
      if (f.default !== true) off.hideHelp();
      command.addOption(off);
      byAttribute.set(opt.attributeName(), f);
      continue;
    }
    const opt = new Option(`${names} <${metaOf(f)}>`, f.help);
    let seen = false;
    opt.argParser((raw: string, previous: unknown) => {
      let value: unknown;
      try {
        value = coerce(f, raw);
      } catch (err) {
        lastBadValue.message = (err as Error).message;
        throw err;
      }
      // A list flag given twice accumulates (the default is replaced, not extended).
      const out = f.type === 'list' && seen ? [...(previous as string[]), ...(value as string[])] : value;
      seen = true;
      return out;
    });
    if (f.default !== undefined) opt.default(f.default, Array.isArray(f.default) ? f.default.join(',') : String(f.default));
    command.addOption(opt);
    byAttribute.set(opt.attributeName(), f);
  }
  return { command, byAttribute, lastBadValue };
}

/** Our wording for commander's errors (one line, naming the flag as the user typed it). */
function usageMessage(err: CommanderError, built: Built): string {
  const text = err.message.replace(/^error: /, '');
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = /'([^']+)'/.exec(text)?.[1] ?? '';
      // commander suggests by edit distance; a flag the typed one abbreviates (--user, --username) counts too.
      const typed = flag.replace(/^-+/, '').replace(/=.*$/, '');
      const prefixed = [...built.byAttribute.values()].filter((f) => typed.length >= 3 && f.name.startsWith(typed));
      const hint = /Did you mean (\S+)\?/.exec(text)?.[1] ?? (prefixed.length === 1 ? `--${prefixed[0].name}` : undefined);
      return `unknown flag ${flag}${hint ? `; did you mean ${hint}?` : ''}`;
    }
    case 'commander.optionMissingArgument': {
      const long = /--([\w-]+)/.exec(text)?.[1];
      const f = [...built.byAttribute.values()].find((x) => x.name === long);
      return `--${long} needs a value${f?.meta ? ` (${f.meta})` : ''}`;
    }
    case 'commander.invalidArgument':
      return built.lastBadValue.message ?? text;
    case 'commander.missingArgument':
      return `missing ${/'([^']+)'/.exec(text)?.[1] ?? 'an argument'}`;
    default:
      return text;
  }
}

/** Parses `argv` (the words after the subcommand) against `cmd`. Throws UsageError. */
export function parseArgs(cmd: CommandSpec, argv: readonly string[]): ParsedArgs {
  const built = build(cmd);
  const { command } = built;
  // Help wins over everything else on the line (a missing argument included), up to a `--`.
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).some((w) => w === '-h' || w === '--help')) return { positionals: {}, values: { help: true }, given: new Set(['help']) };
  try {
    command.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(usageMessage(err, built), cmd);
    throw err;
  }
  const opts = command.opts();
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [attr, f] of built.byAttribute) {
    if (opts[attr] === undefined) continue;
    values[f.name] = opts[attr];
    if (command.getOptionValueSource(attr) === 'cli') given.add(f.name);
  }
  if (values.help === true) return { positionals: {}, values, given };
  given.delete('help');
  delete values.help;
  const words = command.args;
  if (words.length > cmd.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(words[cmd.positionals.length])}`, cmd);
  const positionals: Record<string, string | undefined> = {};
  cmd.positionals.forEach((p, i) => (positionals[p.name] = words[i]));
  return { positionals, values, given };
}

/** The usage text of one command, generated by commander from its table. */
export function usageOf(cmd: CommandSpec): string {
  const built = build(cmd);
  return built.command.helpInformation() + (cmd.notes && cmd.notes.length > 0 ? '\n' + cmd.notes.join('\n') + '\n' : '');
}
