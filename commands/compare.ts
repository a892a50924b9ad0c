import type { Argv, CommandModule } from 'yargs';
import type { CompareArgs } from '../lib/cli/compare.js';
import { refuseOutputsOverInputs } from '../lib/cli/paths.js';
import { nonNegativeNumber, outputFile, positiveInteger } from '../lib/cli/validate.js';

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <a> <b>',
  describe: "Wins, ties and losses of model A's answers against model B's to the same prompts, judged by a reward model or by hand",
  builder: (yargs: Argv) =>
    yargs
      .positional('a', { type: 'string', demandOption: true, describe: "Model A's answers: loom generate records (prompt or messages, completion)" })
      .positional('b', { type: 'string', demandOption: true, describe: "Model B's answers to the same prompts" })
      .option('judge', { type: 'string', demandOption: true, describe: 'A reward model checkpoint (loom rm), or human: judge each pair in the terminal' })
      .option('by', { choices: ['prompt', 'line'] as const, default: 'prompt' as const, describe: 'Match the answers by their prompt (and "sample" index), or line by line' })
      .option('tie-margin', { type: 'number', default: 0, coerce: nonNegativeNumber('--tie-margin'), describe: 'Reward judge: a tie when the rewards differ by less than this (or not at all)' })
      .option('state', { type: 'string', coerce: outputFile('--state'), describe: '--judge human: JSONL the judgements are appended to; a rerun skips what it holds' })
      .option('out', { alias: 'o', type: 'string', coerce: outputFile('--out'), describe: 'Write each prompt\'s judgement here (JSONL: winner, rewards, file:line of both answers)' })
      .option('json', { type: 'boolean', default: false, describe: 'The report as one JSON record instead of a table' })
      .option('device', { type: 'string', default: 'auto', describe: 'Reward judge: cpu, cuda, cuda:N, or auto' })
      .option('batch', { type: 'number', default: 16, coerce: positiveInteger('--batch'), describe: 'Reward judge: sequences per forward pass' })
      .option('max-len', { type: 'number', default: 2048, coerce: positiveInteger('--max-len'), describe: 'Reward judge: a longer prompt and answer is refused' })
      .option('system-prompt', { type: 'string', default: 'You are a helpful assistant.', describe: 'Reward judge: system prompt of conversations that have none' })
      .example('$0 compare ppo.jsonl sft.jsonl --judge ckpt/rm', 'the PPO model against the SFT model, judged by the reward model')
      .example('$0 compare ppo.jsonl sft.jsonl --judge human --state judged.jsonl --seed 1', 'judge by hand, blind to which model is which; rerun to carry on')
      .example('$0 compare a.jsonl b.jsonl --judge ckpt/rm2 --tie-margin 0.1 --json --out items.jsonl', 'another judge; one JSON record, and each judgement') as unknown as Argv<CompareArgs>,
  handler: async (argv) => {
    refuseOutputsOverInputs([argv.a, argv.b], [{ flag: '--out', path: argv.out }, { flag: '--state', path: argv.state }]);
    const { runCompare } = await import('../lib/cli/compare.js');
    await runCompare(argv);
  },
};
