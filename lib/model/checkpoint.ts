// Checkpoint directories (DESIGN.md "Checkpoint"): config.json that transformers loads as
// Qwen2ForCausalLM, model.safetensors under Qwen2 names (fp32 master weights), the tokenizer files,
// and for resuming optimizer.safetensors + trainer_state.json. A checkpoint is written into
// DIR.tmp and swapped in by rename, so a crash leaves the old one or the new one, never a mix.
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../io/errors.js';
import { checkConfig, type ModelConfig } from './config.js';
import type { Parameters } from './params.js';
import { readSafetensorsHeader, readTensor, writeSafetensors } from './safetensors.js';

export const CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer_state.json';

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

export function huggingFaceConfig(c: ModelConfig, info: LoomModelInfo): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
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

function fromHuggingFace(json: Record<string, unknown>, path: string): { config: ModelConfig; info: LoomModelInfo } {
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
  return { config, info };
}

export interface TrainerState {
  format: 'loom.trainer/1';
  /** Optimizer steps taken (skipped non-finite steps included). */
  step: number;
  /** AdamW updates applied (bias correction counts these). */
  optimizer_step: number;
  /** Training windows consumed, in the seeded order: where the data resumes. */
  windows_consumed: number;
  tokens: number;
  seed: number;
  seq_len: number;
  /** Everything the run was started with (flags), so --resume continues the same run. */
  run: Record<string, unknown>;
  last_val_loss?: number;
  saved_at: string;
}

/** The directory a checkpoint lives in, falling back to DIR.old left by a crash mid-swap. */
export function checkpointDir(dir: string): string {
  if (existsSync(join(dir, CONFIG_FILE))) return dir;
  if (existsSync(join(`${dir}.old`, CONFIG_FILE))) return `${dir}.old`;
  throw new DataError(`${dir}: not a checkpoint (no ${CONFIG_FILE})`);
}

export interface SaveOptions {
  /** Write optimizer state and trainer_state.json (for --resume). */
  state?: TrainerState;
  /** Writes extra files (the tokenizer) into the temporary directory. */
  extra?: (dir: string) => void;
}

export function saveCheckpoint(dir: string, params: Parameters, info: LoomModelInfo, opts: SaveOptions = {}): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const k = params.k;
  writeFileSync(join(tmp, CONFIG_FILE), JSON.stringify(huggingFaceConfig(params.config, info), null, 2) + '\n');
  writeSafetensors(
    join(tmp, MODEL_FILE),
    params.list.map((p) => ({ name: p.spec.name, shape: p.spec.shape, data: () => k.download(p.master) as Float32Array })),
  );
  if (opts.state) {
    writeSafetensors(
      join(tmp, OPTIMIZER_FILE),
      params.groups.flatMap((g) => {
        const name = g.decay ? 'decay' : 'no_decay';
        return [
          { name: `${name}.exp_avg`, shape: [g.numel], data: () => k.download(g.m) as Float32Array },
          { name: `${name}.exp_avg_sq`, shape: [g.numel], data: () => k.download(g.v) as Float32Array },
        ];
      }),
      { layout: 'flat groups in the order of model.safetensors' },
    );
    writeFileSync(join(tmp, STATE_FILE), JSON.stringify(opts.state, null, 2) + '\n');
  }
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
const OWN_FILES = new Set([CONFIG_FILE, MODEL_FILE, OPTIMIZER_FILE, STATE_FILE]);

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
  state?: TrainerState;
}

/** Reads config.json (and trainer_state.json when present) of a checkpoint. */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const real = checkpointDir(dir);
  const path = join(real, CONFIG_FILE);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  const { config, info } = fromHuggingFace(json, path);
  const statePath = join(real, STATE_FILE);
  const state = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState) : undefined;
  return { dir: real, config, info, state };
}

/** Loads the weights (any dtype in the file) into the masters; checks every name and shape. */
export function loadWeights(dir: string, params: Parameters): void {
  const file = readSafetensorsHeader(join(dir, MODEL_FILE));
  for (const p of params.list) {
    const info = file.tensors.get(p.spec.name);
    if (!info) throw new DataError(`${file.path}: missing tensor ${p.spec.name}`);
    if (info.shape.join() !== p.spec.shape.join())
      throw new DataError(`${file.path}: ${p.spec.name} has shape [${info.shape}], the model needs [${p.spec.shape}]`);
    params.setMaster(p.spec.name, readTensor(file, p.spec.name));
  }
  params.syncWorking();
}

export function loadOptimizer(dir: string, params: Parameters): void {
  const path = join(dir, OPTIMIZER_FILE);
  if (!existsSync(path)) throw new DataError(`${dir}: no ${OPTIMIZER_FILE}; it cannot be resumed (use --init to start a new run from its weights)`);
  const file = readSafetensorsHeader(path);
  for (const g of params.groups) {
    const name = g.decay ? 'decay' : 'no_decay';
    for (const [key, t] of [['exp_avg', g.m], ['exp_avg_sq', g.v]] as const) {
      const data = readTensor(file, `${name}.${key}`);
      if (data.length !== g.numel) throw new DataError(`${path}: ${name}.${key} holds ${data.length} values, the model needs ${g.numel}`);
      params.k.upload(t, data);
    }
  }
}
