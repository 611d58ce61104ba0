// Declarative argument parsing: each subcommand is one table of positionals and flags (name,
// type, default, help). Everything is checked up front, so a typo fails before any connection is
// made; a UsageError carries the message and main prints it with the usage, exit 2.

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

function coerce(spec: FlagSpec, raw: string, cmd: CommandSpec): unknown {
  const bad = (why: string): UsageError => new UsageError(`--${spec.name}: ${why} (got ${JSON.stringify(raw)})`, cmd);
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`must be one of ${spec.choices.join(', ')}`);
      return raw;
    case 'int':
    case 'number': {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim())) throw bad(`expects a ${spec.type === 'int' ? 'whole number' : 'number'}`);
      const n = Number(raw);
      if (spec.type === 'int' && !Number.isSafeInteger(n)) throw bad('expects a whole number');
      if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw bad(`must be at most ${spec.max}`);
      return n;
    }
    case 'bool': {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad('expects true or false');
    }
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (err) {
        throw bad(`expects JSON: ${(err as Error).message}`);
      }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (spec.choices) {
        for (const item of items) if (!spec.choices.includes(item)) throw bad(`each item must be one of ${spec.choices.join(', ')}`);
      }
      return items;
    }
  }
}

/** Parses `argv` (the words after the subcommand) against `cmd`. Throws UsageError. */
export function parseArgs(cmd: CommandSpec, argv: readonly string[]): ParsedArgs {
  const flags = [...cmd.flags, HELP_FLAG];
  const byLong = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const words: string[] = [];

  const set = (spec: FlagSpec, value: unknown): void => {
    // A list flag given twice accumulates; anything else: the last one wins.
    if (spec.type === 'list' && given.has(spec.name)) values[spec.name] = [...(values[spec.name] as string[]), ...(value as string[])];
    else values[spec.name] = value;
    given.add(spec.name);
  };

  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (onlyPositionals || word === '-' || !word.startsWith('-') || /^-\d/.test(word)) {
      words.push(word);
      continue;
    }
    if (word === '--') {
      onlyPositionals = true;
      continue;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let negated = false;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      let name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
      if (eq >= 0) inline = word.slice(eq + 1);
      spec = byLong.get(name);
      if (spec === undefined && name.startsWith('no-') && inline === undefined) {
        const base = byLong.get(name.slice(3));
        if (base?.type === 'bool') {
          spec = base;
          negated = true;
          name = base.name;
        }
      }
      if (spec === undefined) throw new UsageError(`unknown flag --${name}${suggest(name, flags)}`, cmd);
    } else {
      const letter = word.slice(1, 2);
      spec = byShort.get(letter);
      if (spec === undefined) throw new UsageError(`unknown flag -${letter}`, cmd);
      if (word.length > 2) inline = word.slice(2).replace(/^=/, '');
    }
    if (spec.type === 'bool') {
      set(spec, negated ? false : inline === undefined ? true : coerce(spec, inline, cmd));
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${spec.name} needs a value${spec.meta ? ` (${spec.meta})` : ''}`, cmd);
      raw = argv[++i];
    }
    set(spec, coerce(spec, raw, cmd));
  }

  if (values.help === true) return { positionals: {}, values, given };

  const positionals: Record<string, string | undefined> = {};
  const required = cmd.positionals.filter((p) => p.required).length;
  if (words.length < required) {
    const missing = cmd.positionals.filter((p) => p.required).slice(words.length).map((p) => p.name);
    throw new UsageError(`missing ${missing.join(' and ')}`, cmd);
  }
  if (words.length > cmd.positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(words[cmd.positionals.length])}`, cmd);
  }
  cmd.positionals.forEach((p, i) => (positionals[p.name] = words[i]));
  for (const f of cmd.flags) if (!given.has(f.name) && f.default !== undefined) values[f.name] = f.default;
  return { positionals, values, given };
}

function suggest(name: string, flags: readonly FlagSpec[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const f of flags) {
    const d = editDistance(name, f.name);
    if (d < bestD) {
      bestD = d;
      best = f.name;
    }
  }
  return best === undefined ? '' : `; did you mean --${best}?`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The usage text of one command, built from its table. */
export function usageOf(cmd: CommandSpec): string {
  const synopsis = cmd.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const lines = [`usage: deferbase ${cmd.name}${synopsis ? ' ' + synopsis : ''} [options]`, '', cmd.summary];
  if (cmd.positionals.length > 0) {
    lines.push('', 'arguments:');
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(24)}${p.help}`);
  }
  lines.push('', 'options:');
  for (const f of [...cmd.flags, HELP_FLAG]) {
    const value = f.type === 'bool' ? '' : ` ${f.meta ?? (f.choices ? f.choices.join('|') : f.type.toUpperCase())}`;
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${value}`;
    const def = f.default !== undefined && f.default !== false ? ` (default ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)})` : '';
    lines.push(`${left.padEnd(34)}${left.length >= 34 ? '\n' + ' '.repeat(34) : ''}${f.help}${def}`);
  }
  if (cmd.notes && cmd.notes.length > 0) lines.push('', ...cmd.notes);
  return lines.join('\n') + '\n';
}
