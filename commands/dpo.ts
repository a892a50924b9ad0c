import type { Argv, CommandModule } from 'yargs';
import { resolvedConfig } from '../lib/cli/config.js';
import { DPO_FLAGS, type DpoArgs } from '../lib/cli/dpo-flags.js';
import { checkFineTuneArgs } from '../lib/cli/model-flags.js';
import { outputsOf, refuseOutputsOverInputs } from '../lib/cli/paths.js';

export const dpoCommand: CommandModule<object, DpoArgs> = {
  command: 'dpo',
  describe: 'Direct preference optimisation: train a chat model on preference pairs against a frozen reference; metrics JSONL on stdout',
  builder: (yargs: Argv) =>
    yargs
      .options(DPO_FLAGS)
      .conflicts('resume', 'init')
      .conflicts('resume', 'ref')
      .example('$0 dpo --init ckpt/sft --data prefs.jsonl --out ckpt/dpo', 'the preset (β 0.1, lr 5e-7 at a 7B width, 64 pairs a step, one epoch; lr and pairs scaled to the model and data); the reference is ckpt/sft')
      .example('$0 dpo --init ckpt/dpo-1 --ref ckpt/sft --data more-prefs.jsonl --beta 0.05 --out ckpt/dpo-2', 'a second round, still held to the SFT model')
      .example('$0 dpo --data prefs.jsonl --out ckpt/dpo --resume', 'continue after an interruption') as unknown as Argv<DpoArgs>,
  handler: async (argv) => {
    checkFineTuneArgs(argv, 'preference pairs');
    if (argv.ref) refuseOutputsOverInputs([argv.ref], outputsOf(argv));
    const { runDpo } = await import('../lib/cli/dpo.js');
    await runDpo(argv, resolvedConfig(argv));
  },
};
