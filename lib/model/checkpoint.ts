// Checkpoint directories (DESIGN.md "Checkpoint"): config.json that transformers loads as
// Qwen2ForCausalLM (or Qwen2ForSequenceClassification for a scalar head), model.safetensors under
// Qwen2 names (fp32), the tokenizer files, and whatever the trainer adds for resuming
// (lib/train/state.ts: optimizer.safetensors, trainer_state.json). A checkpoint is written into
// DIR.tmp and swapped in by rename, so a crash leaves the old one or the new one, never a mix.
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { checkConfig, type ModelConfig } from './config.js';
import type { HeadKind } from './params.js';
import { readSafetensorsHeader, readTensor, writeSafetensors, type TensorSource } from './safetensors.js';
import type { WeightSource, WeightTarget } from './weights.js';

export const CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';

/** What the loom side of config.json records beside the Hugging Face fields. */
export interface LoomModelInfo {
  /** sha256 of the vocabulary the model was trained on (from the token shards). */
  vocab_hash: string;
  /** The vocabulary's name or path, as the shards' manifest gives it. */
  vocab: string;
  /** Size of that vocabulary (ids); the model may have more rows (padding). */
  vocab_ids: number;
  eot: number;
  /** Whether the shards' text was NFC-normalized before encoding (`loom tokenize --no-nfc`: false). */
  nfc: boolean;
  preset?: string;
  dropout: number;
  init_std: number;
}

const ARCHITECTURES: Record<HeadKind, string> = { lm: 'Qwen2ForCausalLM', score: 'Qwen2ForSequenceClassification' };

export function huggingFaceConfig(c: ModelConfig, info: LoomModelInfo, head: HeadKind = 'lm'): Record<string, unknown> {
  return {
    architectures: [ARCHITECTURES[head]],
    ...(head === 'score' ? { num_labels: 1, pad_token_id: info.eot } : {}),
    model_type: 'qwen2',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    max_position_embeddings: c.seqLen,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsEps,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: c.layers,
    attention_dropout: 0,
    initializer_range: c.initStd,
    bos_token_id: info.eot,
    eos_token_id: info.eot,
    use_cache: true,
    torch_dtype: 'float32',
    loom: info,
  };
}

function fromHuggingFace(json: Record<string, unknown>, path: string): { config: ModelConfig; info: LoomModelInfo; head: HeadKind } {
  const num = (key: string, fallback?: number) => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number') throw new DataError(`${path}: ${key} is missing or not a number`);
    return v;
  };
  if (json.model_type !== 'qwen2') throw new DataError(`${path}: model_type ${JSON.stringify(json.model_type)}; loom reads qwen2 checkpoints`);
  if (json.tie_word_embeddings === true) throw new DataError(`${path}: tied embeddings are not supported (Qwen's head is untied)`);
  const loom = (json.loom ?? {}) as Partial<LoomModelInfo>;
  const config: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    layers: num('num_hidden_layers'),
    heads: num('num_attention_heads'),
    kvHeads: num('num_key_value_heads', num('num_attention_heads')),
    intermediateSize: num('intermediate_size'),
    seqLen: num('max_position_embeddings'),
    ropeTheta: num('rope_theta', 10_000),
    rmsEps: num('rms_norm_eps', 1e-6),
    dropout: loom.dropout ?? 0,
    initStd: num('initializer_range', 0.02),
  };
  checkConfig(config);
  const info: LoomModelInfo = {
    vocab_hash: loom.vocab_hash ?? '',
    vocab: loom.vocab ?? '',
    vocab_ids: loom.vocab_ids ?? config.vocabSize,
    eot: loom.eot ?? num('eos_token_id', 0),
    nfc: loom.nfc ?? true, // checkpoints from before the field: tokenize's default
    preset: loom.preset,
    dropout: config.dropout,
    init_std: config.initStd,
  };
  const architectures = Array.isArray(json.architectures) ? json.architectures : [];
  const head: HeadKind = architectures.includes(ARCHITECTURES.score) ? 'score' : 'lm';
  return { config, info, head };
}

/** The directory a checkpoint lives in, falling back to DIR.old left by a crash mid-swap. */
export function checkpointDir(dir: string): string {
  if (existsSync(join(dir, CONFIG_FILE))) return dir;
  if (existsSync(join(`${dir}.old`, CONFIG_FILE))) return `${dir}.old`;
  throw new DataError(`${dir}: not a checkpoint (no ${CONFIG_FILE})`);
}

export interface SaveOptions {
  head?: HeadKind;
  /** Files the trainer adds (optimizer state, trainer_state.json): written into the temporary directory. */
  training?: (dir: string) => void;
  /** Writes extra files (the tokenizer) into the temporary directory. */
  extra?: (dir: string) => void;
}

export function saveCheckpoint(dir: string, weights: WeightSource, config: ModelConfig, info: LoomModelInfo, opts: SaveOptions = {}): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, CONFIG_FILE), JSON.stringify(huggingFaceConfig(config, info, opts.head), null, 2) + '\n');
  writeSafetensors(join(tmp, MODEL_FILE), weights.specs.map((spec): TensorSource => ({ name: spec.name, shape: spec.shape, data: () => weights.values(spec.name) })));
  opts.training?.(tmp);
  opts.extra?.(tmp);
  mkdirSync(dirname(dir), { recursive: true });
  const old = `${dir}.old`;
  carryOtherFiles([dir, old], tmp);
  if (existsSync(join(old, CONFIG_FILE)) && !existsSync(join(dir, CONFIG_FILE))) {
    // A crash came between the renames below, and DIR.old is the last complete checkpoint (the
    // one a resumed run read): it stays until DIR is complete again. DIR holds only other files,
    // now carried into the new checkpoint.
    rmSync(dir, { recursive: true, force: true });
  } else {
    rmSync(old, { recursive: true, force: true });
    if (existsSync(dir)) renameSync(dir, old);
  }
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** What a checkpoint writes itself: never carried over from the previous one. */
const OWN_FILES = new Set([CONFIG_FILE, MODEL_FILE, 'optimizer.safetensors', 'trainer_state.json']);

/**
 * Files in DIR (or DIR.old, after a crash) that are not the checkpoint's, such as a --metrics file
 * kept beside it, go into the new checkpoint too, as hard links (copies where links fail): the swap
 * never deletes them, and a crash before it leaves them where they were.
 */
function carryOtherFiles(dirs: string[], tmp: string): void {
  for (const dir of dirs.filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir)) {
      if (OWN_FILES.has(name) || existsSync(join(tmp, name))) continue;
      try {
        linkSync(join(dir, name), join(tmp, name));
      } catch {
        cpSync(join(dir, name), join(tmp, name), { recursive: true });
      }
    }
  }
}

export interface LoadedCheckpoint {
  dir: string;
  config: ModelConfig;
  info: LoomModelInfo;
  head: HeadKind;
}

/** Reads config.json of a checkpoint. */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const real = checkpointDir(dir);
  const path = join(real, CONFIG_FILE);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  return { dir: real, ...fromHuggingFace(json, path) };
}

/**
 * Loads the weights (any dtype in the file) into `target`; checks every name and shape. A tensor
 * the file lacks is taken from `fresh` when given there (a new head on a trained trunk), else refused.
 */
export function loadWeights(dir: string, target: WeightTarget, fresh: ReadonlyMap<string, Float32Array> = new Map()): void {
  const file = readSafetensorsHeader(join(dir, MODEL_FILE));
  for (const spec of target.specs) {
    const info = file.tensors.get(spec.name);
    if (!info && fresh.has(spec.name)) continue;
    if (!info) throw new DataError(`${file.path}: missing tensor ${spec.name}`);
    if (info.shape.join() !== spec.shape.join()) throw new DataError(`${file.path}: ${spec.name} has shape [${info.shape}], the model needs [${spec.shape}]`);
  }
  // one tensor in host memory at a time
  target.assign((function* () {
    for (const spec of target.specs) yield [spec.name, file.tensors.has(spec.name) ? readTensor(file, spec.name) : fresh.get(spec.name)!] as [string, Float32Array];
  })());
}
