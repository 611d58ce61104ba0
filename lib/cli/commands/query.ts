// `deferbase query "STATEMENT"`: one N1QL statement, printed as the shell prints it.
import type { CommandSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CONNECTION_FLAGS, targetOf, withEngine } from '../connect';
import { runAndPrint } from '../query-printer';
import type { CliIo } from '../io';

export const querySpec: CommandSpec = {
  name: 'query',
  summary: 'Run one N1QL statement and print the response (results, status, metrics) as JSON.',
  positionals: [{ name: 'STATEMENT', required: true, help: 'the N1QL statement' }],
  flags: [
    { name: 'args', short: 'a', type: 'json', meta: 'JSON', help: 'positional parameters $1, $2, ... as a JSON array' },
    { name: 'named', type: 'json', meta: 'JSON', help: 'named parameters as a JSON object: {"city": "Paris"} for $city' },
    { name: 'consistency', type: 'string', choices: ['not_bounded', 'request_plus'], default: 'not_bounded', help: 'scan consistency' },
    ...CONNECTION_FLAGS,
  ],
  notes: ['example: deferbase query \'SELECT name FROM `beer-sample` WHERE abv > $1 LIMIT 3\' --args [9]'],
};

export async function runQuery(args: ParsedArgs, io: CliIo): Promise<number> {
  const v = args.values;
  if (v.args !== undefined && !Array.isArray(v.args)) throw new UsageError('--args: expects a JSON array, e.g. --args \'[1, "two"]\'', querySpec);
  if (v.named !== undefined && (typeof v.named !== 'object' || v.named === null || Array.isArray(v.named))) {
    throw new UsageError('--named: expects a JSON object, e.g. --named \'{"city": "Paris"}\'', querySpec);
  }
  const target = targetOf(args, io.env);
  return withEngine(target, 'query', io, async (engine) => {
    const outcome = await runAndPrint(engine, args.positionals.STATEMENT as string, {
      args: v.args as unknown[] | undefined,
      named: v.named as Record<string, unknown> | undefined,
      consistency: v.consistency as 'not_bounded' | 'request_plus',
    }, io.stdout);
    return outcome.ok ? 0 : 1;
  });
}
