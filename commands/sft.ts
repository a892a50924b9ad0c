import type { Argv, CommandModule } from 'yargs';
import { checkFineTuneArgs, SFT_FLAGS, type SftArgs } from '../lib/cli/model-flags.js';
import { resolvedConfig } from '../lib/cli/config.js';

export const sftCommand: CommandModule<object, SftArgs> = {
  command: 'sft',
  describe: 'Fine-tune a checkpoint on chat records (ChatML, loss on the replies, packed); metrics JSONL on stdout',
  builder: (yargs: Argv) =>
    yargs
      .options(SFT_FLAGS)
      .conflicts('resume', 'init')
      .example('$0 sft --init ckpt/base --data chats.jsonl --out ckpt/sft', "the Qwen report's recipe (4000 steps of 128 rows, lr 2e-6)")
      .example('$0 sft --init ckpt/base --data alpaca.json.gz --epochs 3 --lr 2e-5 --warmup 50 --batch-rows 32 --out ckpt/sft', 'three passes with another schedule')
      .example('$0 sft --init ckpt/base --data chats.jsonl --no-pack --loss qwen --out ckpt/sft', 'one conversation per row; loss as Qwen\'s own script puts it')
      .example('$0 sft --data chats.jsonl --out ckpt/sft --resume', 'continue after an interruption') as unknown as Argv<SftArgs>,
  handler: async (argv) => {
    checkFineTuneArgs(argv, 'chat records');
    const { runSft } = await import('../lib/cli/sft.js');
    await runSft(argv, resolvedConfig(argv));
  },
};
