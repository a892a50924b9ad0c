// `loom sft` glue: its flags (declared once; a preset gives the defaults of the run's settings),
// usage checks before any work, the tokenizer files of the checkpoint, and the closing summary.
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InferredOptionTypes, Options } from 'yargs';
import { CHAT_FORMATS } from '../chat/formats.js';
import { UsageError } from '../errors.js';
import { SFT_PRESETS, sft, type SftPreset } from '../train/sft.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { LOOP_FLAGS, runTraining } from './training.js';
import { fraction, nonNegativeNumber, positiveInteger, positiveNumber, validator } from './validate.js';

export const SFT_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, demandOption: true, describe: 'Chat JSONL: {"messages"}, alpaca, ShareGPT {"conversations"} or hh-rlhf transcripts (files, globs, -)' },
  'val-data': { type: 'string', array: true, describe: 'Held-out chats from other files (default: --val-fraction of --data)' },
  'val-fraction': { type: 'number', default: 0.05, coerce: fraction('--val-fraction'), describe: 'Share of --data held out for the validation loss (seeded)' },
  init: { type: 'string', describe: 'The checkpoint to fine-tune (loom pretrain --out); required unless --resume' },
  preset: { choices: Object.keys(SFT_PRESETS) as SftPreset[], default: 'qwen' as SftPreset, describe: "Defaults of the run: qwen (the Qwen report's recipe) or math (1024 tokens)" },
  format: { choices: CHAT_FORMATS, default: 'auto' as const, describe: 'Record format (auto: detected per record)' },
  loss: { choices: ['assistant', 'qwen'] as const, default: 'assistant' as const, describe: "Tokens that carry loss: assistant replies and their <|im_end|>, or also the other turns' role tokens as Qwen's script does (docs/sft.md)" },
  pack: { type: 'boolean', default: true, describe: 'Pack short conversations into each row (attention stays inside each); --no-pack pads one per row' },
  'max-len': { type: 'number', coerce: positiveInteger('--max-len'), describe: 'Tokens per row; longer conversations lose their earliest turns (preset: 2048)' },
  'system-prompt': { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Rows per micro-batch (per GPU)' },
  'batch-rows': { type: 'number', coerce: positiveInteger('--batch-rows'), describe: 'Rows per optimizer step across GPUs; accumulation makes up the rest (preset: 128)' },
  epochs: { type: 'number', coerce: positiveNumber('--epochs'), describe: 'Train for this many passes over the rows instead of --steps' },
  lr: { type: 'number', coerce: positiveNumber('--lr'), describe: 'Peak learning rate (preset: 2e-6)' },
  'min-lr-ratio': { type: 'number', coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine after warmup ends, as a fraction of the peak (preset: 1, constant)' },
  'weight-decay': { type: 'number', coerce: nonNegativeNumber('--weight-decay'), describe: 'AdamW decoupled weight decay (preset: 0.1)' },
  clip: { type: 'number', coerce: nonNegativeNumber('--clip'), describe: 'Clip the global gradient norm (preset: 1.0)' },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: 'Residual dropout (preset: 0.1)' },
  'on-error': { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'A record that is no conversation or does not fit: fail (exit 1) or drop it and go on' },
  rejects: { type: 'string', describe: 'Write every dropped record here (JSONL, with its reason and file:line)' },
  ...LOOP_FLAGS,
} as const satisfies Record<string, Options>;

export type SftArgs = GlobalArgs & InferredOptionTypes<typeof SFT_FLAGS>;

/** Usage errors between flags, before any work (each flag's own value is checked as it is parsed). */
export function checkSftArgs(argv: SftArgs): void {
  if (!argv.init && !argv.resume) throw new UsageError('give the checkpoint to fine-tune with --init CKPT (or --resume a run in --out)');
  if (argv.steps !== undefined && argv.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
  refuseOutputsOverInputs([...argv.data, ...(argv['val-data'] ?? []), ...(argv.init ? [argv.init] : [])], outputsOf(argv));
}

export async function runSft(argv: SftArgs, run: Record<string, unknown>): Promise<void> {
  const preset = SFT_PRESETS[argv.preset];
  await runTraining(
    'sft',
    argv,
    ({ world, device, log, emit, freeze }, rejects) =>
      sft({
        data: argv.data,
        valData: argv['val-data'],
        out: argv.out,
        init: argv.init,
        resume: argv.resume ?? false,
        device,
        dtype: argv.dtype,
        settings: {
          maxLen: argv['max-len'] ?? preset.maxLen,
          batch: argv.batch,
          batchRows: argv['batch-rows'] ?? preset.batchRows,
          lr: argv.lr ?? preset.lr,
          warmup: argv.warmup ?? preset.warmup,
          minLrRatio: argv['min-lr-ratio'] ?? preset.minLrRatio,
          weightDecay: argv['weight-decay'] ?? preset.weightDecay,
          clip: argv.clip ?? preset.clip,
          dropout: argv.dropout ?? preset.dropout,
          loss: argv.loss,
          pack: argv.pack,
          format: argv.format,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps ?? (argv.epochs === undefined && !argv.resume ? preset.steps : undefined),
        epochs: argv.epochs,
        evalEvery: argv['eval-every'],
        saveEvery: argv['save-every'],
        seed: argv.seed,
        freeze,
        skipNonfinite: argv['skip-nonfinite'],
        onError: argv['on-error'],
        rejects,
        world,
        onRecord: emit,
        log,
        tokenizerFiles: world.rank === 0 && argv.init ? copyTokenizerFiles(argv.init) : undefined,
        run,
      }),
    (r) => {
      const val = r.valLoss !== undefined ? `, val loss ${r.valLoss.toFixed(4)}` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${val}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.examples.train} conversations in ${r.examples.rows} rows, ${r.examples.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}

/** The base checkpoint's tokenizer files, carried into each fine-tuned checkpoint. */
export function copyTokenizerFiles(base: string): (dir: string) => void {
  return (dir) => {
    for (const name of ['tokenizer.json', 'tokenizer_config.json'])
      if (existsSync(join(base, name))) cpSync(join(base, name), join(dir, name));
  };
}
