// `loom pretrain` glue: the run (on lib/cli/training.ts) and the closing summary; its flags are
// in lib/cli/model-flags.ts. Checkpoints write their tokenizer files themselves (saveCheckpoint).
import { pretrain } from '../train/pretrain.js';
import type { PretrainArgs } from './model-flags.js';
import { runTraining } from './training.js';

export async function runPretrain(argv: PretrainArgs, run: Record<string, unknown>): Promise<void> {
  await runTraining(
    'pretrain',
    argv,
    ({ world, device, log, emit, freeze }) =>
      pretrain({
        data: argv.data,
        valData: argv['val-data'],
        out: argv.out,
        preset: argv.preset,
        overrides: { seqLen: argv['seq-len'], dropout: argv.dropout, vocabSize: argv['vocab-size'] },
        device,
        dtype: argv.dtype,
        batch: argv.batch,
        batchTokens: argv['batch-tokens'],
        steps: argv.steps,
        tokens: argv.tokens,
        lr: argv.lr,
        warmup: argv.warmup,
        minLrRatio: argv['min-lr-ratio'],
        weightDecay: argv['weight-decay'],
        clip: argv.clip,
        evalEvery: argv['eval-every'],
        evalWindows: argv['eval-windows'],
        saveEvery: argv['save-every'],
        seed: argv.seed,
        resume: argv.resume ?? false,
        init: argv.init,
        freeze,
        skipNonfinite: argv['skip-nonfinite'],
        peakTflops: argv['peak-tflops'],
        world,
        onRecord: emit,
        log,
        run,
      }),
    (r) => {
      const val = r.valLoss !== undefined ? `, val loss ${r.valLoss.toFixed(4)}` : '';
      return `step ${r.steps} (${r.tokens} tokens), loss ${r.lastLoss.toFixed(4)}${val}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; checkpoint ${r.checkpoint}`;
    },
  );
}
