// `loom dpo` glue: the run (on lib/cli/training.ts) with the preset's defaults, which the trainer
// scales to the model and the data where flags leave them, and the closing summary; its flags are
// in lib/cli/dpo-flags.ts.
import { resolve } from 'node:path';
import { trainDpo } from '../train/dpo.js';
import { DPO_PRESETS, dpoRecipe } from '../train/dpo-presets.js';
import type { DpoArgs } from './dpo-flags.js';
import { fixedSettings } from './model-flags.js';
import { fineTuneRun, runTraining } from './training.js';

export async function runDpo(argv: DpoArgs, run: Record<string, unknown>): Promise<void> {
  const preset = DPO_PRESETS[argv.preset];
  await runTraining(
    'dpo',
    argv,
    (output, rejects) =>
      trainDpo({
        ...fineTuneRun(argv, output, rejects, run),
        recipe: dpoRecipe(argv.preset),
        settings: {
          ...fixedSettings(argv, preset),
          lr: argv.lr,
          warmup: argv.warmup,
          batch: argv.batch,
          batchPairs: argv['batch-pairs'],
          beta: argv.beta ?? preset.beta,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
          ...(argv.ref !== undefined && { ref: resolve(argv.ref) }),
        },
        steps: argv.steps,
      }),
    (r) => {
      const held = r.held ? `, held-out accuracy ${(100 * r.held.val_accuracy).toFixed(1)}% and margin ${r.held.val_margin.toFixed(4)}` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${held}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.pairs.train} pairs, ${r.pairs.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
