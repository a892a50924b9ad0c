// `loom pretrain` glue: its flags (declared once), usage checks before any work, tokenizer files
// for the checkpoint, and the closing summary; the shared training output is lib/cli/training.ts.
import type { InferredOptionTypes, Options } from 'yargs';
import { UsageError } from '../errors.js';
import { PRESET_NAMES } from '../model/config.js';
import { readTokenManifest } from '../shards/manifest.js';
import { exportHuggingFace } from '../tokenizer/hf.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
import { pretrain } from '../train/pretrain.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { LOOP_FLAGS, runTraining } from './training.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, validator } from './validate.js';

/**
 * The flags of `loom pretrain`, declared once: commands/pretrain.ts registers them with yargs and
 * PretrainArgs is inferred from them.
 */
export const PRETRAIN_FLAGS = {
  data: { alias: 'd', type: 'string', demandOption: true, describe: 'Token shard directory (its train split; validation from its val split)' },
  'val-data': { type: 'string', describe: 'Validation shards from another directory (its val split)' },
  preset: { alias: 'p', type: 'string', default: 'tiny', describe: `Model shape: ${PRESET_NAMES.join(', ')}` },
  'seq-len': { type: 'number', coerce: positiveInteger('--seq-len'), describe: "Context length (default: the preset's, or the --init checkpoint's)" },
  batch: { alias: 'b', type: 'number', default: 8, coerce: positiveInteger('--batch'), describe: 'Sequences per micro-batch (per GPU)' },
  'batch-tokens': { type: 'number', coerce: positiveInteger('--batch-tokens'), describe: 'Tokens per optimizer step across GPUs; gradient accumulation makes up the rest (default: one micro-batch per GPU)' },
  tokens: { type: 'number', coerce: positiveNumber('--tokens'), describe: 'Train on this many tokens instead of --steps' },
  lr: { type: 'number', default: 3e-4, coerce: positiveNumber('--lr'), describe: 'Peak learning rate' },
  'min-lr-ratio': { type: 'number', default: 0.1, coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine ends, as a fraction of the peak' },
  'weight-decay': { type: 'number', default: 0.1, coerce: nonNegativeNumber('--weight-decay'), describe: 'AdamW decoupled weight decay (matrices only)' },
  clip: { type: 'number', default: 1.0, coerce: nonNegativeNumber('--clip'), describe: 'Clip the global gradient norm to this' },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: 'Residual dropout (default 0)' },
  'vocab-size': { type: 'number', coerce: positiveInteger('--vocab-size'), describe: "Embedding/head rows (default: the preset's; tiny uses the data's vocabulary size)" },
  'eval-windows': { type: 'number', default: 64, coerce: nonNegativeInteger('--eval-windows'), describe: 'Validation windows per evaluation (0 = the whole val split)' },
  init: { type: 'string', describe: "Start from this checkpoint's weights with a fresh optimizer (e.g. with a longer --seq-len)" },
  ...LOOP_FLAGS,
  warmup: { ...LOOP_FLAGS.warmup, default: 100 },
} as const satisfies Record<string, Options>;

export type PretrainArgs = GlobalArgs & InferredOptionTypes<typeof PRETRAIN_FLAGS>;

/** Usage errors between flags, caught before any work starts (each flag's own value is checked as it is parsed). */
export function checkPretrainArgs(argv: PretrainArgs): void {
  if (argv.steps === undefined && argv.tokens === undefined && !argv.resume) throw new UsageError('give the run length with --steps N or --tokens N');
  refuseOutputsOverInputs([argv.data, argv['val-data']].filter((p): p is string => p !== undefined), outputsOf(argv));
}

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
