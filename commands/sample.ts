import type { Argv, CommandModule } from 'yargs';
import { sample } from '../lib/data/sample.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { positiveInteger } from '../lib/cli/validate.js';

interface SampleArgs extends OutputArgs {
  count: number;
}

export const sampleCommand: CommandModule<object, SampleArgs> = {
  command: 'sample [inputs..]',
  describe: 'Uniform random sample of N records (reservoir, one pass, seeded), in input order',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .option('count', { alias: 'n', type: 'number', demandOption: true, coerce: positiveInteger('--count'), describe: 'How many records to keep' })
      .example('$0 sample -n 1000 docs.jsonl.gz > sample.jsonl', '1000 records, the same ones for the same --seed')
      .example('cat *.jsonl | $0 sample -n 20 --seed 7', 'sample from stdin') as unknown as Argv<SampleArgs>,
  handler: async (argv) => {
    await runPipeline('sample', argv, (docs, { rejects }) => sample(docs, { n: argv.count, seed: argv.seed, rejects }));
  },
};
