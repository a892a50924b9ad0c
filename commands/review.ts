import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../lib/errors.js';
import { withInputOptions, type InputArgs } from '../lib/cli/options.js';
import { refuseOutputsOverInputs } from '../lib/cli/paths.js';
import { runWithInputs } from '../lib/cli/pipeline.js';
import { outputFile, positiveInteger } from '../lib/cli/validate.js';
import { LabelStore, reviewQueue, ReviewSession } from '../lib/data/review.js';

interface ReviewArgs extends InputArgs {
  labels: string;
  count: number;
  'label-field': string;
}

export const reviewCommand: CommandModule<object, ReviewArgs> = {
  command: 'review [inputs..]',
  describe: 'Label a random sample of documents by hand in the terminal (good, bad, offensive); labels are appended to a JSONL file that score train reads',
  builder: (yargs: Argv) =>
    withInputOptions(yargs)
      .option('labels', { type: 'string', demandOption: true, coerce: outputFile('--labels'), describe: 'JSONL file the labels are appended to (each document with its label); a rerun skips what it holds' })
      .option('count', { alias: 'n', type: 'number', default: 200, coerce: positiveInteger('--count'), describe: 'Size of the random sample (seeded: the same -n and --seed draw the same documents)' })
      .option('label-field', { type: 'string', default: 'label', describe: 'Field that holds the label in the labels file' })
      .example('$0 review scored.jsonl --labels labels.jsonl -n 300 --seed 1', 'label 300 random documents; rerun the same command to carry on') as unknown as Argv<ReviewArgs>,
  handler: async (argv) => {
    if (argv.inputs.length === 0 || argv.inputs.includes('-')) throw new UsageError('review reads keys from the terminal: give the documents as files, not on stdin');
    if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError('review is interactive: run it in a terminal (stdin and stderr)');
    refuseOutputsOverInputs(argv.inputs, [{ flag: '--labels', path: argv.labels }]);
    const store = LabelStore.open(argv.labels, argv['label-field']);
    try {
      const { queue, sampled } = await runWithInputs('review', argv, ({ docs }) => reviewQueue(docs, { n: argv.count, seed: argv.seed, store }));
      if (!argv.quiet && queue.length < sampled) process.stderr.write(`loom review: ${sampled - queue.length} of the ${sampled} sampled documents are labelled already in ${argv.labels}\n`);
      const session = new ReviewSession(queue, store);
      // ink and React load only for an interactive session, not for every loom command line
      if (queue.length > 0) await (await import('../lib/ui/review.js')).runReview(session);
      const { good, bad, offensive, skip } = session.counts;
      process.stderr.write(
        `loom review: ${good + bad + offensive} labelled (${good} good, ${bad} bad, ${offensive} offensive) · ${skip} skipped · ` +
          `${queue.length - session.index} left in the sample · ${store.size} labels in ${argv.labels}\n`,
      );
    } finally {
      store.close();
    }
  },
};
