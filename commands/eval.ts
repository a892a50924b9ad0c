import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../lib/cli/options.js';
import { UsageError } from '../lib/errors.js';

interface PplArgs extends GlobalArgs {
  checkpoint: string;
  data: string[];
  split: 'train' | 'val';
  device: string;
  batch: number;
  'seq-len'?: number;
  'max-windows'?: number;
  lengths?: number[];
  'dynamic-ntk'?: boolean;
  logn?: boolean;
  windows?: boolean | number[];
  json: boolean;
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
      .option('max-windows', { type: 'number', describe: 'Evaluate only the first N windows (with --lengths: at each length)' })
      .option('lengths', { type: 'string', coerce: integerList('--lengths', 1), describe: 'Perplexity against context length on JSONL documents long enough for each, with each long-context means on and off (docs/long-context.md)' })
      .options(LONG_CONTEXT_FLAGS)
      .option('windows', { ...LONG_CONTEXT_FLAGS.windows, describe: `${LONG_CONTEXT_FLAGS.windows.describe}; with --lengths, the windows of the rows with windows` })
      .option('json', { type: 'boolean', default: false, describe: 'With --lengths: one JSON line per length and setting instead of the table' })
      .example('$0 eval ppl ckpt/base shards/', 'validation perplexity on the val split')
      .example('$0 eval ppl ckpt/base heldout.jsonl.gz --seq-len 512', 'perplexity on raw documents')
      .example('$0 eval ppl ckpt/base heldout.jsonl --lengths 512,1024,2048,4096', 'perplexity against length: plain, each long-context means, all three') as unknown as Argv<PplArgs>,
  handler: async (argv) => {
    if (argv.lengths) return lengthsHandler(argv);
    const { evalPerplexity } = await import('../lib/eval/perplexity.js');
    const r = await evalPerplexity({
      checkpoint: argv.checkpoint,
      data: argv.data,
      split: argv.split,
      device: argv.device,
      batch: argv.batch,
      seqLen: argv['seq-len'],
      maxWindows: argv['max-windows'],
      longContext: { dynamicNtk: argv['dynamic-ntk'], logn: argv.logn, windows: argv.windows },
    });
    process.stdout.write(JSON.stringify({ checkpoint: argv.checkpoint, data: r.source, windows: r.windows, tokens: r.tokens, loss: Number(r.loss.toFixed(5)), ppl: Number(r.ppl.toFixed(4)) }) + '\n');
  },
};

async function lengthsHandler(argv: PplArgs): Promise<void> {
  if (argv['seq-len'] !== undefined) throw new UsageError('--seq-len and --lengths exclude each other: --lengths gives the window lengths');
  if (typeof argv.windows === 'boolean' || argv['dynamic-ntk'] !== undefined || argv.logn !== undefined)
    throw new UsageError('--lengths measures every setting (its table has rows with and without each means): give --windows a window per layer, and no --dynamic-ntk or --logn');
  const { evalLengths, lengthsTable } = await import('../lib/eval/perplexity.js');
  const { readCheckpoint } = await import('../lib/model/checkpoint.js');
  const results = await evalLengths({ checkpoint: argv.checkpoint, data: argv.data, device: argv.device, batch: argv.batch, lengths: argv.lengths!, maxWindows: argv['max-windows'], windows: argv.windows });
  if (!argv.json) return void process.stdout.write(lengthsTable(results, readCheckpoint(argv.checkpoint).config.seqLen));
  for (const r of results)
    process.stdout.write(JSON.stringify({ checkpoint: argv.checkpoint, length: r.length, setting: r.setting, windows: r.windows, tokens: r.tokens, loss: Number(r.loss.toFixed(5)), ppl: Number(r.ppl.toFixed(4)) }) + '\n');
}

/** --windows LIST, on or off (--no-windows), as a switch or the windows themselves. */
/** Long-context switches (docs/long-context.md), shared by eval, generate and chat: each on beyond the training length unless turned off. */
export const LONG_CONTEXT_FLAGS = {
  'dynamic-ntk': { type: 'boolean', describe: 'Dynamic NTK-aware RoPE: the rotary base grows with the sequence beyond the training length (default: on there, unless config.json says use_dynamic_ntk false)' },
  logn: { type: 'boolean', describe: 'LogN scaling of queries beyond the training length (default: on there, unless config.json says use_logn_attn false)' },
  windows: {
    type: 'string',
    coerce: windowsFlag,
    describe: "Attention window per layer, lowest first (0: the whole context), e.g. 512,1024,0,0; on or off (default on beyond the training length: config.json's, else windows of 1, 2 and 4 times the training length from the lowest third of the layers up)",
  },
} as const;

export function windowsFlag(value: string | boolean): boolean | number[] {
  if (typeof value === 'boolean') return value;
  if (value === 'on' || value === 'off') return value === 'on';
  return integerList('--windows', 0)(value);
}

/** A comma-separated list of whole numbers of at least `min`. */
export function integerList(flag: string, min: number): (value: string) => number[] {
  return (value) => {
    const items = String(value).split(',').map((v) => v.trim());
    if (items.some((v) => !/^\d+$/.test(v) || Number(v) < min))
      throw new UsageError(`${flag} must be a comma-separated list of whole numbers ≥ ${min}, got ${JSON.stringify(value)}`);
    return items.map(Number);
  };
}

export const evalCommand: CommandModule<object, object> = {
  command: 'eval',
  describe: 'Evaluate a checkpoint (ppl: perplexity on held-out data)',
  builder: (yargs: Argv) => yargs.command(pplCommand).demandCommand(1, 'Give a metric: ppl') as Argv<object>,
  handler: () => {},
};
