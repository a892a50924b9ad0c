// The flags of the model commands (pretrain, sft, rm), declared once as const objects that yargs
// registers and the args types are inferred from; each flag's value is checked as it is parsed,
// and the checks between flags run before any work. Light on purpose: parsing a command line
// loads no trainer and no kernel library.
import type { InferredOptionTypes, Options } from 'yargs';
import { parseDevice } from '../../kernels/device.js';
import { CHAT_FORMATS } from '../chat/formats.js';
import { UsageError } from '../errors.js';
import { PRESET_NAMES } from '../model/config.js';
import { SFT_PRESETS, type SftPreset } from '../train/presets.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, outputDirectory, outputFile, positiveInteger, positiveNumber, validator } from './validate.js';

/** Flags of the training loop, the same in pretrain, sft and rm. */
export const LOOP_FLAGS = {
  out: { alias: 'o', type: 'string', demandOption: true, coerce: outputDirectory('--out'), describe: 'Checkpoint directory (config.json, model.safetensors, optimizer state); rewritten atomically' },
  device: { type: 'string', default: 'auto', coerce: deviceFlag, describe: 'cpu, cuda, cuda:N, or auto (the first GPU, else the CPU)' },
  dtype: { choices: ['f32', 'bf16'] as const, describe: 'Compute dtype (default: bf16 on GPU with fp32 master weights, f32 on CPU)' },
  steps: { type: 'number', coerce: positiveInteger('--steps'), describe: 'Optimizer steps to train to (the learning-rate schedule ends here)' },
  warmup: { type: 'number', coerce: nonNegativeInteger('--warmup'), describe: 'Linear warmup steps' },
  'eval-every': { type: 'number', default: 100, coerce: nonNegativeInteger('--eval-every'), describe: 'Validation every N steps (and at the start and end); 0 = never' },
  'save-every': { type: 'number', default: 1000, coerce: nonNegativeInteger('--save-every'), describe: 'Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM); 0 = only those' },
  resume: { type: 'boolean', describe: 'Continue the run checkpointed in --out (weights, optimizer, step, data position)' },
  freeze: { type: 'string', coerce: freezeFlag, describe: 'Keep the parameters whose Hugging Face name matches this regular expression as they are (e.g. embed_tokens)' },
  'skip-nonfinite': { type: 'boolean', default: false, describe: 'Skip a step whose loss or gradient is NaN/Inf instead of stopping' },
  metrics: { type: 'string', coerce: outputFile('--metrics'), describe: 'Append metrics JSONL here instead of stdout' },
  gpus: { type: 'number', default: 1, coerce: positiveInteger('--gpus'), describe: 'Data parallel: one process per GPU on this machine (NCCL); across nodes set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as torchrun does' },
  'master-port': { type: 'number', default: 29500, coerce: validator<number>('--master-port', 'a port number', (v) => Number.isInteger(v) && v >= 1 && v <= 65535), describe: 'Port rank 0 listens on with --gpus' },
  'peak-tflops': { type: 'number', coerce: positiveNumber('--peak-tflops'), describe: 'Peak TFLOP/s for MFU (default: known for H100/H200/A100)' },
} as const satisfies Record<string, Options>;

/** Flags every fine-tuning command (sft, rm) has besides the loop's; a preset fills what is not given. */
export const FINE_TUNE_FLAGS = {
  init: { type: 'string', describe: 'The checkpoint to start from; required unless --resume' },
  'val-fraction': { type: 'number', default: 0.05, coerce: fraction('--val-fraction'), describe: 'Share of --data held out for validation (seeded)' },
  'max-len': { type: 'number', coerce: positiveInteger('--max-len'), describe: "Tokens per sequence (preset's by default)" },
  'system-prompt': { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' },
  epochs: { type: 'number', coerce: positiveNumber('--epochs'), describe: 'Passes over the data instead of --steps' },
  lr: { type: 'number', coerce: positiveNumber('--lr'), describe: "Peak learning rate (default: the preset's, scaled to the model's width)" },
  'min-lr-ratio': { type: 'number', coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine after warmup ends, as a fraction of the peak (presets: 1, constant)' },
  'weight-decay': { type: 'number', coerce: nonNegativeNumber('--weight-decay'), describe: "AdamW decoupled weight decay (preset's by default)" },
  clip: { type: 'number', coerce: nonNegativeNumber('--clip'), describe: "Clip the global gradient norm (preset's by default)" },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: "Residual dropout (preset's by default)" },
  'on-error': { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'A record that cannot be read or fitted: fail (exit 1) or drop it and go on' },
  rejects: { type: 'string', describe: 'Write every dropped record here (JSONL, with its reason and file:line)' },
  ...LOOP_FLAGS,
} as const satisfies Record<string, Options>;

/** The values of those flags a fine-tuning command's args hold (whatever else they hold). */
export interface FineTuneArgs {
  data?: string[];
  'val-data'?: string[];
  init?: string;
  out?: string;
  resume?: boolean;
  steps?: number;
  epochs?: number;
  'max-len'?: number;
  lr?: number;
  warmup?: number;
  'min-lr-ratio'?: number;
  'weight-decay'?: number;
  clip?: number;
  dropout?: number;
}

/** The shared settings of a fine-tuning run: flags, else the preset's. */
export function fineTuneSettings(argv: FineTuneArgs, preset: { maxLen: number; lr: number; warmup: number; minLrRatio: number; weightDecay: number; clip: number; dropout: number }) {
  return { ...fixedSettings(argv, preset), lr: argv.lr ?? preset.lr, warmup: argv.warmup ?? preset.warmup };
}

/**
 * The settings a preset fixes whatever the model and the data: flags, else the preset's. The
 * learning rate, warmup, batch and length of sft and rm are scaled by their trainers instead
 * (scaleRecipe in lib/train/presets.ts).
 */
export function fixedSettings(argv: FineTuneArgs, preset: { maxLen: number; minLrRatio: number; weightDecay: number; clip: number; dropout: number }) {
  return {
    maxLen: argv['max-len'] ?? preset.maxLen,
    minLrRatio: argv['min-lr-ratio'] ?? preset.minLrRatio,
    weightDecay: argv['weight-decay'] ?? preset.weightDecay,
    clip: argv.clip ?? preset.clip,
    dropout: argv.dropout ?? preset.dropout,
  };
}

/** Usage errors every fine-tuning command checks before any work. */
export function checkFineTuneArgs(argv: FineTuneArgs, what: string): void {
  if (!argv.data?.length) throw new UsageError(`give the ${what} with --data FILE`);
  if (!argv.out) throw new UsageError('give the checkpoint directory with --out DIR');
  if (!argv.init && !argv.resume) throw new UsageError('give the checkpoint to start from with --init CKPT (or --resume a run in --out)');
  if (argv.steps !== undefined && argv.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
  refuseOutputsOverInputs([...argv.data, ...(argv['val-data'] ?? []), ...(argv.init ? [argv.init] : [])], outputsOf(argv));
}

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

export const SFT_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Chat JSONL: {"messages"}, alpaca, ShareGPT {"conversations"} or hh-rlhf transcripts (files, globs, -)' },
  'val-data': { type: 'string', array: true, describe: 'Held-out chats from other files (default: --val-fraction of --data)' },
  preset: { choices: Object.keys(SFT_PRESETS) as SftPreset[], default: 'qwen' as SftPreset, describe: "Defaults of the run: qwen (the Qwen report's recipe: 2048 tokens, 128 rows a step, 4000 steps, warmup 1430 to lr 2e-6, dropout 0.1) or math (1024 tokens); lr, rows a step, steps and warmup scale to the model and data unless given" },
  format: { choices: CHAT_FORMATS, default: 'auto' as const, describe: 'Record format (auto: detected per record)' },
  loss: { choices: ['assistant', 'qwen'] as const, default: 'assistant' as const, describe: "Tokens that carry loss: assistant replies and their <|im_end|>, or also the other turns' role tokens as Qwen's script does (docs/sft.md)" },
  pack: { type: 'boolean', default: true, describe: 'Pack short conversations into each row (attention stays inside each); --no-pack pads one per row' },
  'sample-prompt': { type: 'string', array: true, describe: 'A prompt the model answers (greedy, 48 tokens) at each evaluation, in the metrics and the log (repeatable)' },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Rows per micro-batch (per GPU)' },
  'batch-rows': { type: 'number', coerce: positiveInteger('--batch-rows'), describe: 'Rows per optimizer step across GPUs; accumulation makes up the rest (preset: 128, fewer when the data has under 32 steps of them)' },
  ...FINE_TUNE_FLAGS,
} as const satisfies Record<string, Options>;

export type SftArgs = GlobalArgs & InferredOptionTypes<typeof SFT_FLAGS>;

export const RM_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Preference JSONL: {prompt|messages, chosen, rejected}, hh-rlhf {chosen, rejected}, or ShareGPT {conversations, chosen, rejected}' },
  'val-data': { type: 'string', array: true, describe: 'Held-out pairs from other files (default: --val-fraction of --data)' },
  preset: { choices: ['qwen'] as const, default: 'qwen' as const, describe: "Defaults of the run: the Qwen report's recipe (constant lr 3e-6, 64 pairs a step, 2048 tokens, one epoch); lr and pairs a step scale to the model and data unless given" },
  pooling: { choices: ['last', 'mean'] as const, default: 'last' as const, describe: "Where the reward is read: the response's end token (Qwen), or the mean over its tokens" },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Pairs per micro-batch (per GPU)' },
  'batch-pairs': { type: 'number', coerce: positiveInteger('--batch-pairs'), describe: 'Pairs per optimizer step across GPUs (preset: 64)' },
  ...FINE_TUNE_FLAGS,
  out: { ...LOOP_FLAGS.out, demandOption: false },
} as const satisfies Record<string, Options>;

export type RmArgs = GlobalArgs & InferredOptionTypes<typeof RM_FLAGS>;

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

export function freezePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UsageError(`--freeze: ${(err as Error).message}`);
  }
}
