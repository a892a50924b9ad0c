import type { Argv, CommandModule } from 'yargs';
import { resolvedConfig } from '../lib/cli/config.js';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { checkFineTuneArgs, RM_FLAGS, type RmArgs } from '../lib/cli/model-flags.js';
import { positiveInteger } from '../lib/cli/validate.js';

interface ScoreArgs extends OutputArgs {
  checkpoint: string;
  device: string;
  batch: number;
  'max-len': number;
  'system-prompt': string;
}

const scoreCommand: CommandModule<object, ScoreArgs> = {
  command: 'score <checkpoint> [inputs..]',
  describe: 'Add the reward model\'s score to each record: "reward" for a chat, "reward_chosen"/"reward_rejected" for a pair',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs.positional('checkpoint', { type: 'string', demandOption: true, describe: 'A reward model (loom rm --out)' }))
      .option('device', { type: 'string', default: 'auto', describe: 'cpu, cuda, cuda:N, or auto' })
      .option('batch', { alias: 'b', type: 'number', default: 16, coerce: positiveInteger('--batch'), describe: 'Sequences per forward pass' })
      .option('max-len', { type: 'number', default: 2048, coerce: positiveInteger('--max-len'), describe: 'Longer records are dropped (chats) or shortened (pairs)' })
      .option('system-prompt', { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' })
      .example('$0 rm score ckpt/rm answers.jsonl > scored.jsonl', 'a reward for each chat record') as unknown as Argv<ScoreArgs>,
  handler: async (argv) => {
    const { scoreRewards } = await import('../lib/infer/rewards.js');
    await runPipeline('rm score', argv, (docs, { rejects }) =>
      scoreRewards(docs, { checkpoint: argv.checkpoint, device: argv.device, batch: argv.batch, maxLen: argv['max-len'], systemPrompt: argv['system-prompt'], rejects }),
    );
  },
};

export const rmCommand: CommandModule<object, RmArgs> = {
  command: 'rm',
  describe: 'Train a reward model (a scalar head on an SFT checkpoint) on preference pairs; `rm score` scores records',
  builder: (yargs: Argv) =>
    yargs
      .command(scoreCommand as CommandModule<object, never>)
      .options(RM_FLAGS)
      .conflicts('resume', 'init')
      .example('$0 rm --init ckpt/sft --data prefs.jsonl --out ckpt/rm', "the Qwen report's recipe: one epoch, 64 pairs a step, constant lr 3e-6")
      .example('$0 rm --init ckpt/sft --data coarse.jsonl --out ckpt/pmp && $0 rm --init ckpt/pmp --data fine.jsonl --out ckpt/rm', 'preference-model pre-training, then fine-tuning')
      .epilogue('Subcommands: score. Reward checkpoints load in transformers as Qwen2ForSequenceClassification.') as unknown as Argv<RmArgs>,
  handler: async (argv) => {
    checkFineTuneArgs(argv, 'preference pairs');
    const { runRm } = await import('../lib/cli/rm.js');
    await runRm(argv, resolvedConfig(argv));
  },
};
