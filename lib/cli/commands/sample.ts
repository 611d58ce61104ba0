// `deferbase sample NAME [CONNSTR]`: generates a sample bucket's documents (deterministic for a
// seed) and loads them into a running cluster, with a progress bar, then its design documents
// and indexes. The bucket must exist (`deferbase serve --bucket beer-sample` creates it).
import { UsageError, type CommandSpec, type ParsedArgs } from '../args';
import { CONNECTION_FLAGS, targetOf, withBucket, withEngine } from '../connect';
import { describeError, printJson } from '../output';
import { SAMPLE_NAMES, loadSample } from '../sample-loader';
import type { CliIo } from '../io';

export const sampleSpec: CommandSpec = {
  name: 'sample',
  summary: `Generate a sample bucket (${SAMPLE_NAMES.join(' or ')}) and load it into a cluster.`,
  positionals: [
    { name: 'NAME', required: true, help: SAMPLE_NAMES.join(' | ') },
    { name: 'CONNSTR', required: false, help: 'cluster to load into; the bucket defaults to NAME' },
  ],
  flags: [
    { name: 'seed', type: 'int', default: 1, meta: 'N', help: 'generator seed: the same seed gives the same documents' },
    { name: 'scale', type: 'number', min: 0.0001, max: 10, default: 1, meta: 'X', help: 'multiplies the document counts' },
    { name: 'in-flight', type: 'int', min: 1, max: 4096, default: 128, meta: 'K', help: 'writes kept in flight' },
    { name: 'json', type: 'bool', help: 'print a JSON report instead of a sentence' },
    ...CONNECTION_FLAGS,
  ],
  notes: ['example: deferbase sample beer-sample couchbase://127.0.0.1:11210 --scale 0.1'],
};

export async function runSample(args: ParsedArgs, io: CliIo): Promise<number> {
  const name = args.positionals.NAME as string;
  if (!SAMPLE_NAMES.includes(name)) {
    throw new UsageError(`unknown sample ${JSON.stringify(name)}; choose ${SAMPLE_NAMES.join(' or ')}`, sampleSpec);
  }
  const target = targetOf(args, io.env, args.positionals.CONNSTR);
  target.connstr = withBucket(target.connstr, name);
  return withEngine(target, 'sample', io, async (engine) => {
    try {
      const report = await loadSample(engine, name, {
        seed: args.values.seed as number,
        scale: args.values.scale as number,
        inFlight: args.values['in-flight'] as number,
        progress: io.stderr,
      });
      for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
      if (args.values.json === true) printJson(io.stdout, report, 2);
      else {
        const extras = [report.designDocs.length ? `design documents ${report.designDocs.join(', ')}` : '', report.indexes ? `${report.indexes} indexes` : '']
          .filter(Boolean)
          .join(', ');
        io.stdout.write(`loaded ${report.docs} ${name} documents into bucket ${report.bucket} in ${report.seconds.toFixed(1)}s${extras ? `; ${extras}` : ''}\n`);
      }
      return report.warnings.length > 0 ? 1 : 0;
    } catch (err) {
      io.stderr.write(`deferbase sample: ${describeError(err)}\n`);
      return 1;
    }
  });
}
