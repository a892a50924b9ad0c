// `loom rm` glue: its flags (declared once; the preset gives the defaults of the run's settings),
// usage checks before any work, and the closing summary; `loom rm score` runs the stage in
// lib/infer/rewards.ts through the stream runner.
import type { InferredOptionTypes, Options } from 'yargs';
import { RM_PRESETS, trainRewardModel } from '../train/rm.js';
import type { GlobalArgs } from './options.js';
import { FINE_TUNE_FLAGS, fineTuneRun, fineTuneSettings, LOOP_FLAGS, runTraining } from './training.js';
import { positiveInteger } from './validate.js';

export const RM_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Preference JSONL: {prompt|messages, chosen, rejected}, hh-rlhf {chosen, rejected}, or ShareGPT {conversations, chosen, rejected}' },
  'val-data': { type: 'string', array: true, describe: 'Held-out pairs from other files (default: --val-fraction of --data)' },
  preset: { choices: ['qwen'] as const, default: 'qwen' as const, describe: "Defaults of the run: the Qwen report's recipe (constant lr 3e-6, 64 pairs a step, 2048 tokens, one epoch)" },
  pooling: { choices: ['last', 'mean'] as const, default: 'last' as const, describe: "Where the reward is read: the response's end token (Qwen), or the mean over its tokens" },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Pairs per micro-batch (per GPU)' },
  'batch-pairs': { type: 'number', coerce: positiveInteger('--batch-pairs'), describe: 'Pairs per optimizer step across GPUs (preset: 64)' },
  ...FINE_TUNE_FLAGS,
  out: { ...LOOP_FLAGS.out, demandOption: false },
} as const satisfies Record<string, Options>;

export type RmArgs = GlobalArgs & InferredOptionTypes<typeof RM_FLAGS>;

export async function runRm(argv: RmArgs, run: Record<string, unknown>): Promise<void> {
  const preset = RM_PRESETS[argv.preset];
  await runTraining(
    'rm',
    argv,
    (output, rejects) =>
      trainRewardModel({
        ...fineTuneRun(argv, output, rejects, run),
        settings: {
          ...fineTuneSettings(argv, preset),
          batch: argv.batch,
          batchPairs: argv['batch-pairs'] ?? preset.batchPairs,
          pooling: argv.pooling,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps,
        epochs: argv.epochs ?? (argv.steps === undefined && !argv.resume ? preset.epochs : undefined),
      }),
    (r) => {
      const acc = r.valAccuracy !== undefined ? `, held-out accuracy ${(100 * r.valAccuracy).toFixed(1)}%` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${acc}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.pairs.train} pairs, ${r.pairs.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
