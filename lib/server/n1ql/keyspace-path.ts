// A dotted keyspace path as parameters and query contexts give it: `b`, `b.s.c`, parts optionally
// back-quoted (a doubled back-quote inside stands for one).

/** The parts of `text`, or undefined when it is not a well-formed dotted path. */
export function splitKeyspacePath(text: string): string[] | undefined {
  let rest = text;
  const parts: string[] = [];
  const re = /`((?:[^`]|``)*)`|([^.`]+)/y;
  while (rest.length) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) return undefined;
    parts.push(m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2]);
    rest = rest.slice(re.lastIndex);
    if (rest.startsWith('.')) rest = rest.slice(1);
    else if (rest.length) return undefined;
  }
  return parts;
}
