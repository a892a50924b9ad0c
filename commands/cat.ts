import type { Argv, CommandModule } from 'yargs';
import { runPipeline } from '../lib/cli/pipeline.js';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';

export const catCommand: CommandModule<object, OutputArgs> = {
  command: 'cat [inputs..]',
  describe: 'Concatenate, validate, decompress or reshard JSONL records',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .example('$0 cat a.jsonl.gz b.jsonl.zst > all.jsonl', 'decompress and concatenate (compression is detected from content)')
      .example('$0 cat docs.jsonl --out shards/ --shard-size 256MB', 'split into gzip shards with a manifest; rerun to resume')
      .example('$0 cat shards/ --on-error skip --rejects bad.jsonl | head', 'read a shard directory, setting bad lines aside') as unknown as Argv<OutputArgs>,
  handler: async (argv) => {
    await runPipeline('cat', argv, (docs) => docs);
  },
};
