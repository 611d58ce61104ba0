// Query results as a text table (the shell's `\SET -format table`): one column per field, in
// the order first seen, values as compact JSON (strings bare), cut to a width that fits.

const MAX_CELL = 60;

function cell(v: unknown): string {
  if (v === undefined) return '';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length > MAX_CELL ? flat.slice(0, MAX_CELL - 3) + '...' : flat;
}

export function renderTable(rows: readonly unknown[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const objects = rows.map((r) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : { $1: r }));
  const columns: string[] = [];
  for (const o of objects) for (const k of Object.keys(o)) if (!columns.includes(k)) columns.push(k);
  const cells = objects.map((o) => columns.map((c) => cell(o[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]): string => '| ' + values.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  const rule = '+-' + widths.map((w) => '-'.repeat(w)).join('-+-') + '-+';
  return [rule, line(columns), rule, ...cells.map(line), rule].join('\n') + '\n';
}
