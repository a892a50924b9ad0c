// `loom pretrain` glue: the run (on lib/cli/training.ts), tokenizer files for the checkpoint and
// the closing summary; its flags are in lib/cli/model-flags.ts.
import { readTokenManifest } from '../shards/manifest.js';
import { exportHuggingFace } from '../tokenizer/hf.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
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
        tokenizerFiles: world.rank === 0 ? tokenizerWriter(argv.data, log) : undefined,
        run,
      }),
    (r) => {
      const val = r.valLoss !== undefined ? `, val loss ${r.valLoss.toFixed(4)}` : '';
      return `step ${r.steps} (${r.tokens} tokens), loss ${r.lastLoss.toFixed(4)}${val}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; checkpoint ${r.checkpoint}`;
    },
  );
}

/**
 * The tokenizer the shards were made with, exported as Hugging Face files into each checkpoint.
 * Loaded once, at the first checkpoint; a vocabulary that cannot be found or has another hash is
 * reported and the checkpoint is written without tokenizer files.
 */
function tokenizerWriter(dataDir: string, log: (line: string) => void): (dir: string) => void {
  let found: { vocab: Vocabulary; nfc: boolean } | null | undefined;
  return (dir) => {
    if (found === undefined) found = findVocabulary(dataDir, log);
    if (found) exportHuggingFace(found.vocab, dir, { nfc: found.nfc });
  };
}

function findVocabulary(dataDir: string, log: (line: string) => void): { vocab: Vocabulary; nfc: boolean } | null {
  const manifest = readTokenManifest(dataDir);
  if (!manifest) return null;
  const { vocab: name, hash, nfc } = manifest.tokenizer;
  try {
    const vocab = loadVocabulary({ vocab: name });
    if (vocabularyHash(vocab) === hash) return { vocab, nfc };
    log(`pretrain: vocabulary '${name}' has changed since the shards were made; checkpoints get no tokenizer files`);
  } catch (err) {
    log(`pretrain: cannot load the shards' vocabulary '${name}' (${(err as Error).message}); checkpoints get no tokenizer files`);
  }
  return null;
}
