// `loom rm` glue: its flags (declared once; the preset gives the defaults of the run's settings),
// usage checks before any work, and the closing summary; `loom rm score` runs the stage in
// lib/infer/rewards.ts through the stream runner.
import type { InferredOptionTypes, Options } from 'yargs';
import { UsageError } from '../errors.js';
import { RM_PRESETS, trainRewardModel } from '../train/rm.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { copyTokenizerFiles } from './sft.js';
import { LOOP_FLAGS, runTraining } from './training.js';
import { fraction, nonNegativeNumber, positiveInteger, positiveNumber, validator } from './validate.js';

export const RM_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Preference JSONL: {prompt|messages, chosen, rejected}, hh-rlhf {chosen, rejected}, or ShareGPT {conversations, chosen, rejected}' },
  'val-data': { type: 'string', array: true, describe: 'Held-out pairs from other files (default: --val-fraction of --data)' },
  'val-fraction': { type: 'number', default: 0.05, coerce: fraction('--val-fraction'), describe: 'Share of --data held out for accuracy (seeded)' },
  init: { type: 'string', describe: 'The checkpoint to start from: an SFT model (a new score head) or a reward model (e.g. after preference-model pre-training)' },
  preset: { choices: ['qwen'] as const, default: 'qwen' as const, describe: "Defaults of the run: the Qwen report's recipe (constant lr 3e-6, 64 pairs a step, 2048 tokens, one epoch)" },
  pooling: { choices: ['last', 'mean'] as const, default: 'last' as const, describe: "Where the reward is read: the response's end token (Qwen), or the mean over its tokens" },
  'max-len': { type: 'number', coerce: positiveInteger('--max-len'), describe: 'Tokens per sequence; longer pairs lose the start of the prompt first (preset: 2048)' },
  'system-prompt': { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Pairs per micro-batch (per GPU)' },
  'batch-pairs': { type: 'number', coerce: positiveInteger('--batch-pairs'), describe: 'Pairs per optimizer step across GPUs (preset: 64)' },
  epochs: { type: 'number', coerce: positiveNumber('--epochs'), describe: 'Passes over the pairs instead of --steps (preset: 1)' },
  lr: { type: 'number', coerce: positiveNumber('--lr'), describe: 'Peak learning rate (preset: 3e-6)' },
  'min-lr-ratio': { type: 'number', coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine after warmup ends, as a fraction of the peak (preset: 1, constant)' },
  'weight-decay': { type: 'number', coerce: nonNegativeNumber('--weight-decay'), describe: 'AdamW decoupled weight decay (preset: 0.1)' },
  clip: { type: 'number', coerce: nonNegativeNumber('--clip'), describe: 'Clip the global gradient norm (preset: 1.0)' },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: 'Residual dropout (preset: 0)' },
  'on-error': { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'A record that is no preference pair or does not fit: fail (exit 1) or drop it and go on' },
  rejects: { type: 'string', describe: 'Write every dropped record here (JSONL, with its reason and file:line)' },
  ...LOOP_FLAGS,
  out: { ...LOOP_FLAGS.out, demandOption: false },
} as const satisfies Record<string, Options>;

export type RmArgs = GlobalArgs & InferredOptionTypes<typeof RM_FLAGS>;

export function checkRmArgs(argv: RmArgs): void {
  if (!argv.data?.length) throw new UsageError('give the preference pairs with --data FILE');
  if (!argv.out) throw new UsageError('give the checkpoint directory with --out DIR');
  if (!argv.init && !argv.resume) throw new UsageError('give the checkpoint to start from with --init CKPT (or --resume a run in --out)');
  if (argv.steps !== undefined && argv.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
  refuseOutputsOverInputs([...argv.data, ...(argv['val-data'] ?? []), ...(argv.init ? [argv.init] : [])], outputsOf(argv));
}

export async function runRm(argv: RmArgs, run: Record<string, unknown>): Promise<void> {
  const preset = RM_PRESETS[argv.preset];
  await runTraining(
    'rm',
    argv,
    ({ world, device, log, emit, freeze }, rejects) =>
      trainRewardModel({
        data: argv.data!,
        valData: argv['val-data'],
        out: argv.out!,
        init: argv.init,
        resume: argv.resume ?? false,
        device,
        dtype: argv.dtype,
        settings: {
          maxLen: argv['max-len'] ?? preset.maxLen,
          batch: argv.batch,
          batchPairs: argv['batch-pairs'] ?? preset.batchPairs,
          lr: argv.lr ?? preset.lr,
          warmup: argv.warmup ?? preset.warmup,
          minLrRatio: argv['min-lr-ratio'] ?? preset.minLrRatio,
          weightDecay: argv['weight-decay'] ?? preset.weightDecay,
          clip: argv.clip ?? preset.clip,
          dropout: argv.dropout ?? preset.dropout,
          pooling: argv.pooling,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps,
        epochs: argv.epochs ?? (argv.steps === undefined && !argv.resume ? preset.epochs : undefined),
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
      const acc = r.valAccuracy !== undefined ? `, held-out accuracy ${(100 * r.valAccuracy).toFixed(1)}%` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${acc}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.pairs.train} pairs, ${r.pairs.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
