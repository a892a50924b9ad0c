// `loom sft` glue: the run (on lib/cli/training.ts) with the preset's defaults, which the trainer
// scales to the model and the data where flags leave them, and the closing summary; its flags are
// in lib/cli/model-flags.ts.
import { SFT_PRESETS, sftRecipe } from '../train/presets.js';
import { sft } from '../train/sft.js';
import { fixedSettings, type SftArgs } from './model-flags.js';
import { fineTuneRun, runTraining } from './training.js';

export async function runSft(argv: SftArgs, run: Record<string, unknown>): Promise<void> {
  const preset = SFT_PRESETS[argv.preset];
  await runTraining(
    'sft',
    argv,
    (output, rejects) =>
      sft({
        ...fineTuneRun(argv, output, rejects, run),
        samplePrompts: argv['sample-prompt'],
        recipe: sftRecipe(argv.preset),
        settings: {
          ...fixedSettings(argv, preset),
          lr: argv.lr,
          warmup: argv.warmup,
          batch: argv.batch,
          batchRows: argv['batch-rows'],
          loss: argv.loss,
          pack: argv.pack,
          format: argv.format,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps,
      }),
    (r) => {
      const val = r.valLoss !== undefined ? `, val loss ${r.valLoss.toFixed(4)}` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${val}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.examples.train} conversations in ${r.examples.rows} rows, ${r.examples.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
