import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../lib/cli/options.js';

interface PplArgs extends GlobalArgs {
  checkpoint: string;
  data: string[];
  split: 'train' | 'val';
  device: string;
  batch: number;
  'seq-len'?: number;
  'max-windows'?: number;
}

const pplCommand: CommandModule<object, PplArgs> = {
  command: 'ppl <checkpoint> <data..>',
  describe: 'Perplexity of a checkpoint on token shards (one split) or JSONL documents; one JSON line on stdout',
  builder: (yargs: Argv) =>
    yargs
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'Checkpoint directory (loom pretrain --out)' })
      .positional('data', { type: 'string', array: true, demandOption: true, describe: 'A token shard directory, or JSONL files/globs/- with a "text" field' })
      .option('split', { choices: ['train', 'val'] as const, default: 'val' as const, describe: 'Split of a shard directory' })
      .option('device', { type: 'string', default: 'auto', describe: 'cpu, cuda, cuda:N, or auto' })
      .option('batch', { alias: 'b', type: 'number', default: 8, describe: 'Windows per forward pass' })
      .option('seq-len', { type: 'number', describe: 'Window length (default: the checkpoint\'s context length)' })
      .option('max-windows', { type: 'number', describe: 'Evaluate only the first N windows' })
      .example('$0 eval ppl ckpt/base shards/', 'validation perplexity on the val split')
      .example('$0 eval ppl ckpt/base heldout.jsonl.gz --seq-len 512', 'perplexity on raw documents') as unknown as Argv<PplArgs>,
  handler: async (argv) => {
    const { evalPerplexity } = await import('../lib/eval/perplexity.js');
    const r = await evalPerplexity({
      checkpoint: argv.checkpoint,
      data: argv.data,
      split: argv.split,
      device: argv.device,
      batch: argv.batch,
      seqLen: argv['seq-len'],
      maxWindows: argv['max-windows'],
    });
    process.stdout.write(JSON.stringify({ checkpoint: argv.checkpoint, data: r.source, windows: r.windows, tokens: r.tokens, loss: Number(r.loss.toFixed(5)), ppl: Number(r.ppl.toFixed(4)) }) + '\n');
  },
};

export const evalCommand: CommandModule<object, object> = {
  command: 'eval',
  describe: 'Evaluate a checkpoint (ppl: perplexity on held-out data)',
  builder: (yargs: Argv) => yargs.command(pplCommand).demandCommand(1, 'Give a metric: ppl') as Argv<object>,
  handler: () => {},
};
