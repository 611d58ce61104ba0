// Tab completion for the shell (node:readline's completer): backslash commands at the start of
// a line, \SET's parameter names after it, keyspaces after a backtick or FROM / JOIN / INTO /
// UPDATE / ON (and among the words elsewhere), N1QL keywords and functions. Words are offered in
// the case the user started typing.
import { N1QL_FUNCTIONS, N1QL_KEYWORDS } from './n1ql-words';

export const SHELL_COMMANDS = ['\\SET', '\\UNSET', '\\HELP', '\\QUIT', '\\EXIT'] as const;
export const SET_PARAMETERS = ['-args', '-timeout', '-format'] as const;

/** Words after which a keyspace is expected. */
const KEYSPACE_CONTEXT = new Set(['from', 'join', 'into', 'update', 'on', 'keyspace', 'nest', 'unnest', 'upsert', 'delete']);

function matchCase(word: string, typed: string): string {
  return typed !== '' && typed === typed.toLowerCase() ? word.toLowerCase() : word.toUpperCase();
}

/** readline's completer result: the candidates and the part of the line they replace. */
export function complete(line: string, keyspaces: readonly string[], namedParams: readonly string[] = []): [string[], string] {
  if (/^\s*\\\w*$/.test(line)) {
    const typed = line.trim();
    return [SHELL_COMMANDS.filter((c) => c.toLowerCase().startsWith(typed.toLowerCase())).map((c) => (typed === typed.toLowerCase() && typed.length > 1 ? c.toLowerCase() : c)), typed];
  }
  const set = /^\s*\\(?:un)?set\s+(-\$?[\w.]*)$/i.exec(line);
  if (set) {
    const typed = set[1];
    const options = [...SET_PARAMETERS, ...namedParams.map((n) => `-$${n}`)];
    return [options.filter((o) => o.startsWith(typed)), typed];
  }
  const quoted = /`([^`]*)$/.exec(line);
  if (quoted) {
    const typed = quoted[1];
    return [keyspaces.filter((k) => k.startsWith(typed)).map((k) => k + '`'), typed];
  }
  const m = /([A-Za-z_$][\w$-]*)$/.exec(line);
  const typed = m ? m[1] : '';
  const before = line.slice(0, line.length - typed.length).trimEnd();
  const previous = /([A-Za-z_]+)$/.exec(before)?.[1]?.toLowerCase();
  if (previous !== undefined && KEYSPACE_CONTEXT.has(previous)) {
    // A keyspace with a dash must be quoted: offer it with its backticks.
    return [keyspaces.filter((k) => k.startsWith(typed)).map((k) => (/^[A-Za-z_][\w]*$/.test(k) ? k : '`' + k + '`')), typed];
  }
  if (typed === '') return [[], ''];
  const lower = typed.toLowerCase();
  const words = [
    ...N1QL_KEYWORDS.filter((w) => w.startsWith(lower)).map((w) => matchCase(w, typed)),
    ...N1QL_FUNCTIONS.filter((w) => w.startsWith(lower)).map((w) => matchCase(w, typed) + '('),
    ...keyspaces.filter((k) => k.startsWith(typed) && /^[A-Za-z_]\w*$/.test(k)),
  ];
  return [[...new Set(words)], typed];
}
