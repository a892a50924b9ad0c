// `loom pretrain` glue: --gpus launching, rank environment, metrics sink (stdout or --metrics),
// the ink dashboard on a TTY, tokenizer files for the checkpoint, and the closing summary.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GlobalArgs } from '../cli/options.js';
import { DataError } from '../io/errors.js';
import { exportHuggingFace } from '../tokenizer/hf.js';
import { readTokenManifest } from '../tokenizer/token-manifest.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
import { launchLocal, worldFromEnv } from './distributed.js';
import { pretrain, type MetricsRecord } from './pretrain.js';

/** The flags of `loom pretrain` (commands/pretrain.ts declares them). */
export interface PretrainArgs extends GlobalArgs {
  data: string;
  'val-data'?: string;
  out: string;
  preset: string;
  device: string;
  dtype?: 'f32' | 'bf16';
  'seq-len'?: number;
  batch: number;
  'batch-tokens'?: number;
  steps?: number;
  tokens?: number;
  lr: number;
  warmup: number;
  'min-lr-ratio': number;
  'weight-decay': number;
  clip: number;
  dropout?: number;
  'vocab-size'?: number;
  'eval-every': number;
  'eval-windows': number;
  'save-every': number;
  resume: boolean;
  init?: string;
  'skip-nonfinite': boolean;
  metrics?: string;
  gpus: number;
  'master-port': number;
  'peak-tflops'?: number;
}

export async function runPretrain(argv: PretrainArgs, run: Record<string, unknown>): Promise<void> {
  if (argv.gpus > 1 && process.env.WORLD_SIZE === undefined) {
    const code = await launchLocal(argv.gpus, process.argv.slice(2), argv['master-port']);
    if (code !== 0) throw new DataError(`pretrain: a rank exited with code ${code}`);
    return;
  }
  const world = worldFromEnv();
  const device = world.size > 1 && argv.device === 'auto' ? `cuda:${world.localRank}` : argv.device;
  const dashboard = !argv.quiet && argv.progress === 'auto' && process.stderr.isTTY && !process.env.CI && world.rank === 0;
  const ui = dashboard ? await (await import('../ui/dashboard.js')).startDashboard() : undefined;
  const log = (line: string) => (ui ? ui.log(line) : argv.quiet ? undefined : process.stderr.write(line + '\n'));
  if (argv.metrics) mkdirSync(dirname(argv.metrics), { recursive: true });
  // --progress json: every metrics record also goes to stderr, as the data commands' progress does.
  const jsonProgress = argv.progress === 'json' && !argv.quiet && world.rank === 0;
  const emit = (record: MetricsRecord) => {
    const line = JSON.stringify(record) + '\n';
    if (argv.metrics) appendFileSync(argv.metrics, line);
    else process.stdout.write(line);
    if (jsonProgress) process.stderr.write(JSON.stringify({ progress: 'loom pretrain', ...record }) + '\n');
    ui?.record(record);
  };
  try {
    const result = await pretrain({
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
      resume: argv.resume,
      init: argv.init,
      skipNonfinite: argv['skip-nonfinite'],
      peakTflops: argv['peak-tflops'],
      world,
      onRecord: emit,
      log,
      tokenizerFiles: world.rank === 0 ? tokenizerWriter(argv.data, log) : undefined,
      run,
    });
    await ui?.stop();
    if (world.rank === 0 && !argv.quiet) {
      const val = result.valLoss !== undefined ? `, val loss ${result.valLoss.toFixed(4)}` : '';
      process.stderr.write(
        `pretrain: ${result.interrupted ? `interrupted by ${result.interrupted} at` : 'done,'} step ${result.steps} (${result.tokens} tokens), ` +
          `loss ${result.lastLoss.toFixed(4)}${val}, ${Math.round(result.tokensPerSecond)} tokens/s on ${result.device}; checkpoint ${result.checkpoint}` +
          (result.interrupted ? `; continue with --resume` : '') +
          '\n',
      );
    }
    if (result.interrupted) process.exitCode = 130;
  } catch (err) {
    await ui?.stop();
    throw err;
  }
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
