import type { Argv, CommandModule } from 'yargs';
import { Inspector } from '../lib/data/inspect.js';
import { runWithInputs } from '../lib/cli/pipeline.js';
import { withInputOptions, type InputArgs } from '../lib/cli/options.js';
import { formatInspectReport } from '../lib/ui/inspect-table.js';

interface InspectArgs extends InputArgs {
  json: boolean;
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect [inputs..]',
  describe: 'Summarize records: count, bytes, field coverage, lang/source histograms, scores and text length percentiles',
  builder: (yargs: Argv) =>
    withInputOptions(yargs)
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as one JSON object' })
      .example('$0 inspect shards/', 'a table for a shard directory')
      .example('zcat docs.jsonl.gz | $0 inspect --json | jq .lang', 'machine-readable, from a pipe') as unknown as Argv<InspectArgs>,
  handler: async (argv) => {
    const report = await runWithInputs('inspect', argv, async ({ docs, read }) => {
      const inspector = new Inspector();
      for await (const doc of docs) inspector.add(doc);
      return inspector.report(read.bytes);
    });
    process.stdout.write(argv.json ? JSON.stringify(report) + '\n' : formatInspectReport(report));
  },
};
