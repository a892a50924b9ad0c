import type { Argv, CommandModule } from 'yargs';
import type { PretrainArgs } from '../lib/train/cli.js';
import { resolvedConfig } from '../lib/cli/config.js';
import { UsageError } from '../lib/io/errors.js';

export const pretrainCommand: CommandModule<object, PretrainArgs> = {
  command: 'pretrain',
  describe: 'Train a Qwen-architecture model from token shards (loom tokenize --out); metrics JSONL on stdout',
  builder: (yargs: Argv) =>
    yargs
      .option('data', { alias: 'd', type: 'string', demandOption: true, describe: 'Token shard directory (its train split; validation from its val split)' })
      .option('val-data', { type: 'string', describe: 'Validation shards from another directory (its val split)' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Checkpoint directory (config.json, model.safetensors, optimizer state); rewritten atomically' })
      .option('preset', { alias: 'p', type: 'string', default: 'tiny', describe: 'Model shape: tiny, 125m, 350m, bench318m, 1.8b' })
      .option('device', { type: 'string', default: 'auto', describe: 'cpu, cuda, cuda:N, or auto (the first GPU, else the CPU)' })
      .option('dtype', { choices: ['f32', 'bf16'] as const, describe: 'Compute dtype (default: bf16 on GPU with fp32 master weights, f32 on CPU)' })
      .option('seq-len', { type: 'number', describe: 'Context length (default: the preset\'s, or the --init checkpoint\'s)' })
      .option('batch', { alias: 'b', type: 'number', default: 8, describe: 'Sequences per micro-batch (per GPU)' })
      .option('batch-tokens', { type: 'number', describe: 'Tokens per optimizer step across GPUs; gradient accumulation makes up the rest (default: one micro-batch per GPU)' })
      .option('steps', { type: 'number', describe: 'Optimizer steps to train to (the cosine schedule ends here)' })
      .option('tokens', { type: 'number', describe: 'Train on this many tokens instead of --steps' })
      .option('lr', { type: 'number', default: 3e-4, describe: 'Peak learning rate' })
      .option('warmup', { type: 'number', default: 100, describe: 'Linear warmup steps; then cosine decay' })
      .option('min-lr-ratio', { type: 'number', default: 0.1, describe: 'Where the cosine ends, as a fraction of the peak' })
      .option('weight-decay', { type: 'number', default: 0.1, describe: 'AdamW decoupled weight decay (matrices only)' })
      .option('clip', { type: 'number', default: 1.0, describe: 'Clip the global gradient norm to this' })
      .option('dropout', { type: 'number', describe: 'Residual dropout (default 0)' })
      .option('vocab-size', { type: 'number', describe: 'Embedding/head rows (default: the preset\'s; tiny uses the data\'s vocabulary size)' })
      .option('eval-every', { type: 'number', default: 100, describe: 'Validation loss every N steps (and at the start and end); 0 = never' })
      .option('eval-windows', { type: 'number', default: 64, describe: 'Validation windows per evaluation (0 = the whole val split)' })
      .option('save-every', { type: 'number', default: 1000, describe: 'Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM); 0 = only those' })
      .option('resume', { type: 'boolean', default: false, describe: 'Continue the run checkpointed in --out (weights, optimizer, step, data position)' })
      .option('init', { type: 'string', describe: 'Start from this checkpoint\'s weights with a fresh optimizer (e.g. with a longer --seq-len)' })
      .option('skip-nonfinite', { type: 'boolean', default: false, describe: 'Skip a step whose loss or gradient is NaN/Inf instead of stopping' })
      .option('metrics', { type: 'string', describe: 'Append metrics JSONL here instead of stdout' })
      .option('gpus', { type: 'number', default: 1, describe: 'Data parallel: one process per GPU on this machine (NCCL); across nodes set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as torchrun does' })
      .option('master-port', { type: 'number', default: 29500, describe: 'Port rank 0 listens on with --gpus' })
      .option('peak-tflops', { type: 'number', describe: 'Peak TFLOP/s for MFU (default: known for H100/H200/A100)' })
      .conflicts('resume', 'init')
      .conflicts('steps', 'tokens')
      .example('$0 pretrain --data shards/ --preset tiny --steps 300 --out ckpt/tiny --device cpu', 'train the tiny model on the CPU; metrics JSONL on stdout')
      .example('$0 pretrain --data shards/ --preset 125m --tokens 2e9 --batch-tokens 524288 --out ckpt/base', 'one GPU, 0.5M-token batches')
      .example('$0 pretrain --data shards/ --preset 125m --steps 4000 --out ckpt/base --gpus 8', 'data parallel on 8 GPUs')
      .example('$0 pretrain --data shards/ --out ckpt/base --resume', 'continue after an interruption')
      .example('$0 pretrain --data long/ --init ckpt/base --seq-len 8192 --steps 500 --out ckpt/long', 'continue at a longer context') as unknown as Argv<PretrainArgs>,
  handler: async (argv) => {
    const { runPretrain } = await import('../lib/train/cli.js');
    if (argv.steps === undefined && argv.tokens === undefined && !argv.resume) throw new UsageError('give the run length with --steps N or --tokens N');
    await runPretrain(argv, resolvedConfig(argv));
  },
};
