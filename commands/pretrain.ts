import type { Argv, CommandModule } from 'yargs';
import { checkPretrainArgs, PRETRAIN_FLAGS, type PretrainArgs } from '../lib/cli/model-flags.js';
import { resolvedConfig } from '../lib/cli/config.js';

export const pretrainCommand: CommandModule<object, PretrainArgs> = {
  command: 'pretrain',
  describe: 'Train a Qwen-architecture model from token shards (loom tokenize --out); metrics JSONL on stdout',
  builder: (yargs: Argv) =>
    yargs
      .options(PRETRAIN_FLAGS)
      .conflicts('resume', 'init')
      .conflicts('steps', 'tokens')
      .example('$0 pretrain --data shards/ --preset tiny --steps 300 --out ckpt/tiny --device cpu', 'train the tiny model on the CPU; metrics JSONL on stdout')
      .example('$0 pretrain --data shards/ --preset 125m --tokens 2e9 --batch-tokens 524288 --out ckpt/base', 'one GPU, 0.5M-token batches')
      .example('$0 pretrain --data shards/ --preset 125m --steps 4000 --out ckpt/base --gpus 8', 'data parallel on 8 GPUs')
      .example('$0 pretrain --data shards/ --out ckpt/base --resume', 'continue after an interruption')
      .example('$0 pretrain --data long/ --init ckpt/base --seq-len 8192 --steps 500 --out ckpt/long', 'continue at a longer context')
      .example('$0 pretrain --data shards/ --init ckpt/base --freeze embed_tokens --steps 200 --out ckpt/tuned', 'train everything but the embedding') as unknown as Argv<PretrainArgs>,
  handler: async (argv) => {
    checkPretrainArgs(argv);
    const { runPretrain } = await import('../lib/cli/pretrain.js');
    await runPretrain(argv, resolvedConfig(argv));
  },
};
