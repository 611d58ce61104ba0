// `deferbase view DDOC VIEW`: query a view; every view parameter is a flag of the table below.
import type { CommandSpec, FlagSpec, ParsedArgs } from '../args';
import { CONNECTION_FLAGS, targetOf, withEngine } from '../connect';
import type { ViewQueryOptions } from '../../engine';
import { errorJson, printJson, toJsonValue } from '../output';
import type { CliIo } from '../io';

/** Flag name -> view parameter name (the flags use dashes, the service underscores). */
const VIEW_FLAGS: ReadonlyArray<FlagSpec & { param: keyof ViewQueryOptions }> = [
  { name: 'limit', type: 'int', min: 0, meta: 'N', help: 'at most N rows', param: 'limit' },
  { name: 'skip', type: 'int', min: 0, meta: 'N', help: 'skip the first N rows', param: 'skip' },
  { name: 'key', type: 'json', meta: 'JSON', help: 'only rows with this key', param: 'key' },
  { name: 'keys', type: 'json', meta: 'JSON', help: 'only rows with these keys (a JSON array)', param: 'keys' },
  { name: 'startkey', type: 'json', meta: 'JSON', help: 'first key of the range', param: 'startkey' },
  { name: 'endkey', type: 'json', meta: 'JSON', help: 'last key of the range', param: 'endkey' },
  { name: 'startkey-docid', type: 'string', meta: 'ID', help: 'first document id among equal start keys', param: 'startkey_docid' },
  { name: 'endkey-docid', type: 'string', meta: 'ID', help: 'last document id among equal end keys', param: 'endkey_docid' },
  { name: 'inclusive-end', type: 'bool', help: 'include rows equal to endkey (--no-inclusive-end to exclude)', param: 'inclusive_end' },
  { name: 'descending', type: 'bool', help: 'reverse order', param: 'descending' },
  { name: 'reduce', type: 'bool', help: 'run the reduce function (--no-reduce to skip it)', param: 'reduce' },
  { name: 'group', type: 'bool', help: 'group reduce results by key', param: 'group' },
  { name: 'group-level', type: 'int', min: 0, meta: 'N', help: 'group by the first N key elements', param: 'group_level' },
  { name: 'stale', type: 'string', choices: ['ok', 'false', 'update_after'], help: 'index freshness', param: 'stale' },
  { name: 'include-docs', type: 'bool', help: 'attach each row\'s document', param: 'include_docs' },
  { name: 'development', type: 'bool', help: 'query the dev_ design document', param: 'development' },
];

export const viewSpec: CommandSpec = {
  name: 'view',
  summary: 'Query a view and print its rows as JSON.',
  positionals: [
    { name: 'DDOC', required: true, help: 'design document name (without _design/)' },
    { name: 'VIEW', required: true, help: 'view name' },
  ],
  flags: [...VIEW_FLAGS, ...CONNECTION_FLAGS],
  notes: ['example: deferbase view beer brewery_beers -b beer-sample --limit 5 --include-docs'],
};

export async function runView(args: ParsedArgs, io: CliIo): Promise<number> {
  const params: Record<string, unknown> = {};
  for (const f of VIEW_FLAGS) if (args.values[f.name] !== undefined) params[f.param] = args.values[f.name];
  const target = targetOf(args, io.env);
  return withEngine(target, 'view', io, async (engine) => {
    try {
      const rows: unknown[] = [];
      const meta = await new Promise<Record<string, unknown>>((resolve, reject) => {
        engine.view(args.positionals.DDOC as string, args.positionals.VIEW as string, params as ViewQueryOptions, {
          onRows: (batch: unknown[]) => {
            for (const r of batch) rows.push(r);
          },
          onDone: resolve,
          onError: reject,
        });
      });
      printJson(io.stdout, { ...(toJsonValue(meta) as Record<string, unknown>), rows: rows.map((r) => viewRowJson(r)) }, 2);
      return 0;
    } catch (err) {
      printJson(io.stderr, { error: errorJson(err) }, 2);
      return 1;
    }
  });
}

/** A row with include_docs carries a ValueResult: show its value and CAS, not the object. */
function viewRowJson(row: unknown): unknown {
  const r = row as { doc?: { value?: unknown; cas?: bigint; error?: unknown } };
  if (r.doc === undefined || r.doc === null) return toJsonValue(row);
  const doc = r.doc.error !== undefined ? { error: errorJson(r.doc.error) } : { value: r.doc.value, cas: r.doc.cas };
  return toJsonValue({ ...(row as object), doc });
}
