// `loom rm` glue: the run (on lib/cli/training.ts) with the preset's defaults, which the trainer
// scales to the model and the data where flags leave them, and the closing summary; its flags are
// in lib/cli/model-flags.ts, `loom rm score` is lib/infer/rewards.ts.
import { RM_PRESETS, rmRecipe } from '../train/presets.js';
import { trainRewardModel } from '../train/rm.js';
import { fixedSettings, type RmArgs } from './model-flags.js';
import { fineTuneRun, runTraining } from './training.js';

export async function runRm(argv: RmArgs, run: Record<string, unknown>): Promise<void> {
  const preset = RM_PRESETS[argv.preset];
  await runTraining(
    'rm',
    argv,
    (output, rejects) =>
      trainRewardModel({
        ...fineTuneRun(argv, output, rejects, run),
        recipe: rmRecipe(argv.preset),
        settings: {
          ...fixedSettings(argv, preset),
          lr: argv.lr,
          warmup: argv.warmup,
          batch: argv.batch,
          batchPairs: argv['batch-pairs'],
          pooling: argv.pooling,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps,
      }),
    (r) => {
      const acc = r.valAccuracy !== undefined ? `, held-out accuracy ${(100 * r.valAccuracy).toFixed(1)}%` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${acc}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.pairs.train} pairs, ${r.pairs.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
