// `loom pretrain` glue: its flags (declared once), usage checks before any work, --gpus launching,
// rank environment, metrics sink (stdout or --metrics), the ink dashboard on a TTY, tokenizer
// files for the checkpoint, and the closing summary.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InferredOptionTypes, Options } from 'yargs';
import { parseDevice } from '../../kernels/index.js';
import { DataError, UsageError } from '../errors.js';
import { PRESET_NAMES } from '../model/config.js';
import { exportHuggingFace } from '../tokenizer/hf.js';
import { readTokenManifest } from '../shards/manifest.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
import { launchLocal, worldFromEnv } from '../train/distributed.js';
import type { MetricsRecord } from '../train/metrics.js';
import { pretrain } from '../train/pretrain.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, outputDirectory, outputFile, positiveInteger, positiveNumber, validator } from './validate.js';

/**
 * The flags of `loom pretrain`, declared once: commands/pretrain.ts registers them with yargs and
 * PretrainArgs is inferred from them.
 */
export const PRETRAIN_FLAGS = {
  data: { alias: 'd', type: 'string', demandOption: true, describe: 'Token shard directory (its train split; validation from its val split)' },
  'val-data': { type: 'string', describe: 'Validation shards from another directory (its val split)' },
  out: { alias: 'o', type: 'string', demandOption: true, coerce: outputDirectory('--out'), describe: 'Checkpoint directory (config.json, model.safetensors, optimizer state); rewritten atomically' },
  preset: { alias: 'p', type: 'string', default: 'tiny', describe: `Model shape: ${PRESET_NAMES.join(', ')}` },
  device: { type: 'string', default: 'auto', coerce: deviceFlag, describe: 'cpu, cuda, cuda:N, or auto (the first GPU, else the CPU)' },
  dtype: { choices: ['f32', 'bf16'] as const, describe: 'Compute dtype (default: bf16 on GPU with fp32 master weights, f32 on CPU)' },
  'seq-len': { type: 'number', coerce: positiveInteger('--seq-len'), describe: "Context length (default: the preset's, or the --init checkpoint's)" },
  batch: { alias: 'b', type: 'number', default: 8, coerce: positiveInteger('--batch'), describe: 'Sequences per micro-batch (per GPU)' },
  'batch-tokens': { type: 'number', coerce: positiveInteger('--batch-tokens'), describe: 'Tokens per optimizer step across GPUs; gradient accumulation makes up the rest (default: one micro-batch per GPU)' },
  steps: { type: 'number', coerce: positiveInteger('--steps'), describe: 'Optimizer steps to train to (the cosine schedule ends here)' },
  tokens: { type: 'number', coerce: positiveNumber('--tokens'), describe: 'Train on this many tokens instead of --steps' },
  lr: { type: 'number', default: 3e-4, coerce: positiveNumber('--lr'), describe: 'Peak learning rate' },
  warmup: { type: 'number', default: 100, coerce: nonNegativeInteger('--warmup'), describe: 'Linear warmup steps; then cosine decay' },
  'min-lr-ratio': { type: 'number', default: 0.1, coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine ends, as a fraction of the peak' },
  'weight-decay': { type: 'number', default: 0.1, coerce: nonNegativeNumber('--weight-decay'), describe: 'AdamW decoupled weight decay (matrices only)' },
  clip: { type: 'number', default: 1.0, coerce: nonNegativeNumber('--clip'), describe: 'Clip the global gradient norm to this' },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: 'Residual dropout (default 0)' },
  'vocab-size': { type: 'number', coerce: positiveInteger('--vocab-size'), describe: "Embedding/head rows (default: the preset's; tiny uses the data's vocabulary size)" },
  freeze: { type: 'string', coerce: freezeFlag, describe: 'Keep the parameters whose Hugging Face name matches this regular expression as they are (e.g. embed_tokens)' },
  'eval-every': { type: 'number', default: 100, coerce: nonNegativeInteger('--eval-every'), describe: 'Validation loss every N steps (and at the start and end); 0 = never' },
  'eval-windows': { type: 'number', default: 64, coerce: nonNegativeInteger('--eval-windows'), describe: 'Validation windows per evaluation (0 = the whole val split)' },
  'save-every': { type: 'number', default: 1000, coerce: nonNegativeInteger('--save-every'), describe: 'Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM); 0 = only those' },
  resume: { type: 'boolean', describe: 'Continue the run checkpointed in --out (weights, optimizer, step, data position)' },
  init: { type: 'string', describe: "Start from this checkpoint's weights with a fresh optimizer (e.g. with a longer --seq-len)" },
  'skip-nonfinite': { type: 'boolean', default: false, describe: 'Skip a step whose loss or gradient is NaN/Inf instead of stopping' },
  metrics: { type: 'string', coerce: outputFile('--metrics'), describe: 'Append metrics JSONL here instead of stdout' },
  gpus: { type: 'number', default: 1, coerce: positiveInteger('--gpus'), describe: 'Data parallel: one process per GPU on this machine (NCCL); across nodes set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as torchrun does' },
  'master-port': { type: 'number', default: 29500, coerce: validator<number>('--master-port', 'a port number', (v) => Number.isInteger(v) && v >= 1 && v <= 65535), describe: 'Port rank 0 listens on with --gpus' },
  'peak-tflops': { type: 'number', coerce: positiveNumber('--peak-tflops'), describe: 'Peak TFLOP/s for MFU (default: known for H100/H200/A100)' },
} as const satisfies Record<string, Options>;

export type PretrainArgs = GlobalArgs & InferredOptionTypes<typeof PRETRAIN_FLAGS>;

/** Usage errors between flags, caught before any work starts (each flag's own value is checked as it is parsed). */
export function checkPretrainArgs(argv: PretrainArgs): void {
  if (argv.steps === undefined && argv.tokens === undefined && !argv.resume) throw new UsageError('give the run length with --steps N or --tokens N');
  refuseOutputsOverInputs([argv.data, argv['val-data']].filter((p): p is string => p !== undefined), outputsOf(argv));
}

function deviceFlag(spec: string): string {
  try {
    parseDevice(spec);
  } catch {
    throw new UsageError(`--device must be cpu, cuda, cuda:N or auto, got ${JSON.stringify(spec)}`);
  }
  return spec;
}

function freezeFlag(source: string): string {
  freezePattern(source);
  return source;
}

function freezePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UsageError(`--freeze: ${(err as Error).message}`);
  }
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
  const ui = dashboard ? await (await import('../ui/dashboard.js')).startDashboard({ totalSteps: argv.steps }) : undefined;
  const freeze = argv.freeze === undefined ? undefined : freezePattern(argv.freeze);
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
      resume: argv.resume ?? false,
      init: argv.init,
      freeze: freeze && ((name) => freeze.test(name)),
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
