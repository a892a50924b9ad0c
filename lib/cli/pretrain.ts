// `loom pretrain` glue: its flags (declared once), usage checks before any work, --gpus launching,
// rank environment, metrics sink (stdout or --metrics), the ink dashboard on a TTY, tokenizer
// files for the checkpoint, and the closing summary.
import { appendFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { InferredOptionTypes, Options } from 'yargs';
import { parseDevice } from '../../kernels/index.js';
import { DataError, UsageError } from '../io/errors.js';
import { PRESET_NAMES } from '../model/config.js';
import { exportHuggingFace } from '../tokenizer/hf.js';
import { readTokenManifest } from '../tokenizer/token-manifest.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
import { launchLocal, worldFromEnv } from '../train/distributed.js';
import type { MetricsRecord } from '../train/metrics.js';
import { pretrain } from '../train/pretrain.js';
import type { GlobalArgs } from './options.js';

/**
 * The flags of `loom pretrain`, declared once: commands/pretrain.ts registers them with yargs and
 * PretrainArgs is inferred from them.
 */
export const PRETRAIN_FLAGS = {
  data: { alias: 'd', type: 'string', demandOption: true, describe: 'Token shard directory (its train split; validation from its val split)' },
  'val-data': { type: 'string', describe: 'Validation shards from another directory (its val split)' },
  out: { alias: 'o', type: 'string', demandOption: true, describe: 'Checkpoint directory (config.json, model.safetensors, optimizer state); rewritten atomically' },
  preset: { alias: 'p', type: 'string', default: 'tiny', describe: `Model shape: ${PRESET_NAMES.join(', ')}` },
  device: { type: 'string', default: 'auto', describe: 'cpu, cuda, cuda:N, or auto (the first GPU, else the CPU)' },
  dtype: { choices: ['f32', 'bf16'] as const, describe: 'Compute dtype (default: bf16 on GPU with fp32 master weights, f32 on CPU)' },
  'seq-len': { type: 'number', describe: "Context length (default: the preset's, or the --init checkpoint's)" },
  batch: { alias: 'b', type: 'number', default: 8, describe: 'Sequences per micro-batch (per GPU)' },
  'batch-tokens': { type: 'number', describe: 'Tokens per optimizer step across GPUs; gradient accumulation makes up the rest (default: one micro-batch per GPU)' },
  steps: { type: 'number', describe: 'Optimizer steps to train to (the cosine schedule ends here)' },
  tokens: { type: 'number', describe: 'Train on this many tokens instead of --steps' },
  lr: { type: 'number', default: 3e-4, describe: 'Peak learning rate' },
  warmup: { type: 'number', default: 100, describe: 'Linear warmup steps; then cosine decay' },
  'min-lr-ratio': { type: 'number', default: 0.1, describe: 'Where the cosine ends, as a fraction of the peak' },
  'weight-decay': { type: 'number', default: 0.1, describe: 'AdamW decoupled weight decay (matrices only)' },
  clip: { type: 'number', default: 1.0, describe: 'Clip the global gradient norm to this' },
  dropout: { type: 'number', describe: 'Residual dropout (default 0)' },
  'vocab-size': { type: 'number', describe: "Embedding/head rows (default: the preset's; tiny uses the data's vocabulary size)" },
  freeze: { type: 'string', describe: 'Keep the parameters whose Hugging Face name matches this regular expression as they are (e.g. embed_tokens)' },
  'eval-every': { type: 'number', default: 100, describe: 'Validation loss every N steps (and at the start and end); 0 = never' },
  'eval-windows': { type: 'number', default: 64, describe: 'Validation windows per evaluation (0 = the whole val split)' },
  'save-every': { type: 'number', default: 1000, describe: 'Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM); 0 = only those' },
  resume: { type: 'boolean', default: false, describe: 'Continue the run checkpointed in --out (weights, optimizer, step, data position)' },
  init: { type: 'string', describe: "Start from this checkpoint's weights with a fresh optimizer (e.g. with a longer --seq-len)" },
  'skip-nonfinite': { type: 'boolean', default: false, describe: 'Skip a step whose loss or gradient is NaN/Inf instead of stopping' },
  metrics: { type: 'string', describe: 'Append metrics JSONL here instead of stdout' },
  gpus: { type: 'number', default: 1, describe: 'Data parallel: one process per GPU on this machine (NCCL); across nodes set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as torchrun does' },
  'master-port': { type: 'number', default: 29500, describe: 'Port rank 0 listens on with --gpus' },
  'peak-tflops': { type: 'number', describe: 'Peak TFLOP/s for MFU (default: known for H100/H200/A100)' },
} as const satisfies Record<string, Options>;

export type PretrainArgs = GlobalArgs & InferredOptionTypes<typeof PRETRAIN_FLAGS>;

/** Usage errors caught before any work starts. */
export function checkPretrainArgs(argv: PretrainArgs): void {
  const positive = (flag: string, v: number | undefined, integer = true) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)))) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  };
  const nonNegative = (flag: string, v: number | undefined, integer = true) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && (!integer || Number.isInteger(v)))) throw new UsageError(`--${flag} must be a non-negative ${integer ? 'integer' : 'number'}, got ${v}`);
  };
  if (argv.steps === undefined && argv.tokens === undefined && !argv.resume) throw new UsageError('give the run length with --steps N or --tokens N');
  for (const flag of ['steps', 'batch', 'seq-len', 'batch-tokens', 'gpus', 'vocab-size', 'master-port'] as const) positive(flag, argv[flag]);
  for (const flag of ['tokens', 'lr', 'peak-tflops'] as const) positive(flag, argv[flag], false);
  for (const flag of ['warmup', 'eval-every', 'eval-windows', 'save-every'] as const) nonNegative(flag, argv[flag]);
  for (const flag of ['min-lr-ratio', 'weight-decay', 'clip'] as const) nonNegative(flag, argv[flag], false);
  if (argv.dropout !== undefined && !(argv.dropout >= 0 && argv.dropout < 1)) throw new UsageError(`--dropout must be in [0, 1), got ${argv.dropout}`);
  try {
    parseDevice(argv.device);
  } catch (err) {
    throw new UsageError(`--device: ${(err as Error).message.replace(/^kernels: /, '')}`);
  }
  if (argv.freeze !== undefined) freezePattern(argv.freeze);
  if (existsSync(argv.out) && !statSync(argv.out).isDirectory()) throw new UsageError(`--out ${argv.out} is a file; give a checkpoint directory`);
  const data = resolve(argv.data), out = resolve(argv.out);
  for (const input of [data, argv['val-data'] && resolve(argv['val-data'])])
    if (input && (out === input || out.startsWith(input + sep) || input.startsWith(out + sep)))
      throw new UsageError(`--out ${argv.out} would write into the input ${input === data ? argv.data : argv['val-data']}; give a directory of its own`);
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
  const ui = dashboard ? await (await import('../ui/dashboard.js')).startDashboard() : undefined;
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
      resume: argv.resume,
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
