// `loom rm` glue: the run (on lib/cli/training.ts) with the preset's defaults and the closing
// summary; its flags are in lib/cli/model-flags.ts, `loom rm score` is lib/infer/rewards.ts.
import { RM_PRESETS } from '../train/presets.js';
import { trainRewardModel } from '../train/rm.js';
import { fineTuneSettings, type RmArgs } from './model-flags.js';
import { fineTuneRun, runTraining } from './training.js';

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
