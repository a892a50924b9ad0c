// Checkpoint directories (DESIGN.md "Checkpoint", docs/checkpoints.md): config.json that
// transformers loads as Qwen2ForCausalLM (or Qwen2ForSequenceClassification for a scalar head),
// the weights under Qwen2 names (model.safetensors, or shards with model.safetensors.index.json;
// fp32 or bf16), the tokenizer the model reads (tokenizer.json, tokenizer_config.json) with
// generation_config.json, and whatever the trainer adds for resuming (lib/train/state.ts:
// optimizer.safetensors, trainer_state.json). Plain Hugging Face Qwen2 directories are read too,
// with their long-context fields (dynamic rope scaling, sliding windows, Qwen's use_dynamic_ntk and
// use_logn_attn); what loom does not compute (linear or yarn rope scaling, …) is refused. A checkpoint is written
// into DIR.tmp and swapped in by rename, so a crash leaves the old one or the new one, never a mix.
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DType } from '../../kernels/index.js';
import { DataError } from '../errors.js';
import { eosToken, exportHuggingFace, generationConfig } from '../tokenizer/hf.js';
import { ENDOFTEXT } from '../tokenizer/special.js';
import { loadVocabulary, vocabularyAvailable, vocabularyHash, vocabularySize, type Vocabulary } from '../tokenizer/vocabulary.js';
import { checkConfig, type LongContext, type ModelConfig } from './config.js';
import { LM_HEAD, type HeadKind } from './params.js';
import { isModelTensorFile, openModelTensors, writeModelTensors, type TensorSource } from './safetensors.js';
import type { WeightSource, WeightTarget } from './weights.js';

export const CONFIG_FILE = 'config.json';
export { MODEL_FILE, MODEL_INDEX_FILE } from './safetensors.js';
export const GENERATION_FILE = 'generation_config.json';
export const TOKENIZER_FILE = 'tokenizer.json';

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

export interface ConfigExtras {
  /** The tokenizer written beside it: config.json's eos_token_id is then the one tokenizer_config.json names. */
  vocab?: Vocabulary | null;
  /** How the weights are stored (torch_dtype). */
  dtype?: DType;
}

export function huggingFaceConfig(c: ModelConfig, info: LoomModelInfo, head: HeadKind = 'lm', extras: ConfigExtras = {}): Record<string, unknown> {
  const vocab = extras.vocab;
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
    tie_word_embeddings: c.tieEmbeddings === true,
    ...longContextFields(c),
    attention_dropout: 0,
    initializer_range: c.initStd,
    bos_token_id: info.eot,
    eos_token_id: vocab ? vocab.specials[eosToken(vocab)] : info.eot,
    use_cache: true,
    torch_dtype: extras.dtype === 'bf16' ? 'bfloat16' : 'float32',
    loom: info,
  };
}

/**
 * The long-context fields by Qwen's and Qwen2's names. seq_length is the training length Qwen's
 * use_dynamic_ntk and use_logn_attn extend (transformers ignores both; it computes plain RoPE
 * there). Declared windows go out as Qwen2's sliding window when it can say them (windowed layers
 * from max_window_layers up, one size) and always as loom's attention_windows, which loom reads
 * first; windows left to the defaults are not written.
 */
function longContextFields(c: ModelConfig): Record<string, unknown> {
  const lc = c.longContext ?? {};
  const ntk = lc.ntk === undefined ? { kind: 'qwen' as const } : lc.ntk;
  const windows = lc.windows;
  const qwen2 = windows ? qwen2Window(windows) : null;
  return {
    rope_scaling: ntk?.kind === 'dynamic' ? { type: 'dynamic', factor: ntk.factor } : null,
    seq_length: c.seqLen,
    use_dynamic_ntk: ntk !== null,
    use_logn_attn: lc.logn ?? true,
    use_sliding_window: qwen2 !== null,
    sliding_window: qwen2?.size ?? null,
    max_window_layers: qwen2?.from ?? c.layers,
    ...(windows !== undefined ? { attention_windows: windows } : {}),
  };
}

/** Windows as Qwen2 says them: layers from `from` up windowed at `size`, those below full; null when it cannot. */
function qwen2Window(windows: readonly number[]): { size: number; from: number } | null {
  const from = windows.findIndex((w) => w > 0);
  if (from < 0) return null;
  const size = windows[from]!;
  return windows.every((w, l) => (l < from ? w === 0 : w === size)) ? { size, from } : null;
}

/**
 * config.json's model, refusing what loom would otherwise compute differently: rope scaling other
 * than dynamic, another activation. `tokenizer` is the checkpoint's own tokenizer.json,
 * which fills in what a Hugging Face config without loom's block lacks.
 */
function fromHuggingFace(json: Record<string, unknown>, path: string, tokenizer: string | undefined): { config: ModelConfig; info: LoomModelInfo; head: HeadKind } {
  const num = (key: string, fallback?: number) => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number') throw new DataError(`${path}: ${key} is missing or not a number`);
    return v;
  };
  if (json.model_type !== 'qwen2') throw new DataError(`${path}: model_type ${JSON.stringify(json.model_type)}; loom reads qwen2 checkpoints`);
  refuseUnsupported(json, path);
  const loom = (json.loom ?? {}) as Partial<LoomModelInfo>;
  const config: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    layers: num('num_hidden_layers'),
    heads: num('num_attention_heads'),
    kvHeads: num('num_key_value_heads', num('num_attention_heads')),
    intermediateSize: num('intermediate_size'),
    seqLen: num('max_position_embeddings'),
    ropeTheta: ropeTheta(json, path),
    rmsEps: num('rms_norm_eps', 1e-6),
    dropout: loom.dropout ?? 0,
    initStd: num('initializer_range', 0.02),
    tieEmbeddings: json.tie_word_embeddings === true,
  };
  const longContext = longContextOf(json, path, config);
  if (Object.keys(longContext).length > 0) config.longContext = longContext;
  checkConfig(config);
  const vocab = json.loom ? undefined : tokenizer && loadVocabulary({ vocab: tokenizer });
  const info: LoomModelInfo = vocab
    ? // a Hugging Face checkpoint: its tokenizer.json is its vocabulary
      { vocab_hash: vocabularyHash(vocab), vocab: tokenizer!, vocab_ids: vocabularySize(vocab), eot: vocab.specials[ENDOFTEXT]!, nfc: vocab.nfc ?? false, dropout: 0, init_std: config.initStd }
    : {
        vocab_hash: loom.vocab_hash ?? '',
        // moved away from a vocabulary file it names: the copy inside it
        vocab: tokenizer && loom.vocab !== undefined && !vocabularyAvailable(loom.vocab) ? tokenizer : (loom.vocab ?? ''),
        vocab_ids: loom.vocab_ids ?? config.vocabSize,
        eot: loom.eot ?? (typeof json.bos_token_id === 'number' ? json.bos_token_id : eosIds(json.eos_token_id, path, 'eos_token_id')[0]!),
        nfc: loom.nfc ?? true, // checkpoints from before the field: tokenize's default
        preset: loom.preset,
        dropout: config.dropout,
        init_std: config.initStd,
      };
  const architectures = Array.isArray(json.architectures) ? json.architectures : [];
  const head: HeadKind = architectures.includes(ARCHITECTURES.score) ? 'score' : 'lm';
  return { config, info, head };
}

/** Fields whose non-default values change the model's computation in ways loom does not implement. */
function refuseUnsupported(json: Record<string, unknown>, path: string): void {
  const refuse = (field: string, why: string) => {
    throw new DataError(`${path}: ${field} ${why}; loom does not implement it, and running without it would give other outputs`);
  };
  for (const field of ['rope_scaling', 'rope_parameters']) {
    const type = json[field] === null || json[field] === undefined ? 'default' : ropeType(json[field]);
    if (type !== 'default' && type !== 'dynamic') refuse(field, `is ${JSON.stringify(json[field])} (loom computes "default" and "dynamic" rope scaling)`);
  }
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') refuse('hidden_act', `is ${JSON.stringify(json.hidden_act)}, not silu`);
}

/**
 * The long-context settings config.json declares, by Qwen2's names (rope_scaling dynamic, the
 * sliding window) or Qwen's (use_dynamic_ntk, use_logn_attn); loom's own attention_windows first.
 * Only what departs from the defaults (config.ts longContextOf), which the rest takes.
 */
function longContextOf(json: Record<string, unknown>, path: string, config: ModelConfig): Partial<LongContext> {
  const bad = (field: string, why: string): never => {
    throw new DataError(`${path}: ${field} ${why}`);
  };
  const out: Partial<LongContext> = {};
  const scaling = [json.rope_scaling, json.rope_parameters].find((v) => v && ropeType(v) === 'dynamic') as Record<string, unknown> | undefined;
  if (scaling) {
    const factor = scaling.factor;
    if (typeof factor !== 'number' || !(factor >= 1)) bad('rope_scaling', `is dynamic with factor ${JSON.stringify(factor)}; it needs a number of at least 1`);
    const original = scaling.original_max_position_embeddings;
    if (original !== undefined && original !== config.seqLen)
      bad('rope_scaling', `scales from original_max_position_embeddings ${JSON.stringify(original)}, not max_position_embeddings ${config.seqLen}; loom scales from the training length`);
    out.ntk = { kind: 'dynamic', factor: factor as number };
  } else if (json.use_dynamic_ntk === false) out.ntk = null;
  if (json.use_logn_attn === false) out.logn = false;
  if (json.seq_length !== undefined && json.seq_length !== config.seqLen)
    bad('seq_length', `${JSON.stringify(json.seq_length)} differs from max_position_embeddings ${config.seqLen}; loom extends the context from one training length`);
  const windows = declaredWindows(json, path, config.layers);
  if (windows !== undefined) out.windows = windows;
  return out;
}

/** Windows per layer: loom's attention_windows, else Qwen2's sliding window as transformers reads it (use_sliding_window, then layer_types, else the layers from max_window_layers up). */
function declaredWindows(json: Record<string, unknown>, path: string, layers: number): number[] | null | undefined {
  if (json.attention_windows === null) return null;
  if (json.attention_windows !== undefined) {
    const w = json.attention_windows;
    if (!Array.isArray(w) || w.length !== layers || !w.every((x) => Number.isInteger(x) && x >= 0))
      throw new DataError(`${path}: attention_windows is ${JSON.stringify(w)}, not one non-negative integer per layer (${layers})`);
    return w as number[];
  }
  const types = Array.isArray(json.layer_types) ? (json.layer_types as unknown[]) : null;
  const other = types?.find((t) => t !== 'full_attention' && t !== 'sliding_attention');
  if (other !== undefined) throw new DataError(`${path}: layer_types has ${JSON.stringify(other)} layers; loom computes full_attention and sliding_attention`);
  // transformers' Qwen2Config drops the window unless use_sliding_window is true, whatever layer_types says
  if (json.use_sliding_window !== true || (types && !types.includes('sliding_attention'))) return undefined;
  const size = json.sliding_window;
  if (!Number.isInteger(size) || (size as number) < 1) throw new DataError(`${path}: sliding_window is ${JSON.stringify(size)}, but layers use a sliding window`);
  if (types) {
    if (types.length !== layers) throw new DataError(`${path}: layer_types has ${types.length} entries for ${layers} layers`);
    return types.map((t) => (t === 'sliding_attention' ? (size as number) : 0));
  }
  const from = typeof json.max_window_layers === 'number' ? json.max_window_layers : 0;
  return Array.from({ length: layers }, (_, l) => (l >= from ? (size as number) : 0));
}

/** rope_scaling's or rope_parameters' type (transformers 5 writes {"rope_type": "default", "rope_theta"} for none). */
function ropeType(value: unknown): unknown {
  const v = value as { rope_type?: unknown; type?: unknown } | null;
  return v && typeof v === 'object' ? (v.rope_type ?? v.type ?? 'default') : value;
}

/** rope_theta, top-level or inside transformers 5's rope_parameters; 10,000 when neither gives it. */
function ropeTheta(json: Record<string, unknown>, path: string): number {
  const theta = json.rope_theta ?? (json.rope_parameters as { rope_theta?: unknown } | undefined)?.rope_theta ?? 10_000;
  if (typeof theta !== 'number' || !(theta > 0)) throw new DataError(`${path}: rope_theta is ${JSON.stringify(theta)}, not a positive number`);
  return theta;
}

/** An eos_token_id field: one id or a list of them. */
function eosIds(value: unknown, path: string, field: string): number[] {
  const ids = Array.isArray(value) ? value : [value];
  if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) throw new DataError(`${path}: ${field} is ${JSON.stringify(value)}, not a token id or a list of them`);
  return ids as number[];
}

/** The directory a checkpoint lives in, falling back to DIR.old left by a crash mid-swap. */
export function checkpointDir(dir: string): string {
  if (existsSync(join(dir, CONFIG_FILE))) return dir;
  if (existsSync(join(`${dir}.old`, CONFIG_FILE))) return `${dir}.old`;
  throw new DataError(`${dir}: not a checkpoint (no ${CONFIG_FILE})`);
}

export interface SaveOptions {
  head?: HeadKind;
  /**
   * The tokenizer the checkpoint carries (tokenizer.json, tokenizer_config.json); by default the
   * vocabulary `info` names, when it can be loaded; null: none.
   */
  vocab?: Vocabulary | null;
  /** How the weights are stored: fp32 (default) or bf16 (half the bytes; rounded to nearest even). */
  dtype?: DType;
  /** Shards of at most this many bytes with model.safetensors.index.json, instead of one file. */
  maxShardBytes?: number;
  /** Files the trainer adds (optimizer state, trainer_state.json): written into the temporary directory. */
  training?: (dir: string) => void;
  /** Writes extra files into the temporary directory. */
  extra?: (dir: string) => void;
}

export function saveCheckpoint(dir: string, weights: WeightSource, config: ModelConfig, info: LoomModelInfo, opts: SaveOptions = {}): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const vocab = opts.vocab === undefined ? infoVocabulary(info) : opts.vocab;
  writeJson(join(tmp, CONFIG_FILE), huggingFaceConfig(config, info, opts.head, { vocab, dtype: opts.dtype }));
  writeJson(join(tmp, GENERATION_FILE), vocab ? generationConfig(vocab) : { bos_token_id: info.eot, eos_token_id: [info.eot], pad_token_id: info.eot });
  if (vocab) exportHuggingFace(vocab, tmp, { nfc: info.nfc, maxLength: config.seqLen });
  writeModelTensors(
    tmp,
    weights.specs.map((spec): TensorSource => ({ name: spec.name, shape: spec.shape, data: () => weights.values(spec.name) })),
    { dtype: opts.dtype === 'bf16' ? 'BF16' : 'F32', maxShardBytes: opts.maxShardBytes },
  );
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

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** What a checkpoint writes itself: never carried over from the previous one. */
const OWN_FILES = new Set([CONFIG_FILE, GENERATION_FILE, 'optimizer.safetensors', 'trainer_state.json']);

/**
 * Files in DIR (or DIR.old, after a crash) that are not the checkpoint's, such as a --metrics file
 * kept beside it, go into the new checkpoint too, as hard links (copies where links fail): the swap
 * never deletes them, and a crash before it leaves them where they were.
 */
function carryOtherFiles(dirs: string[], tmp: string): void {
  for (const dir of dirs.filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir)) {
      if (OWN_FILES.has(name) || isModelTensorFile(name) || existsSync(join(tmp, name))) continue;
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
  /** The ids generation stops at by default: generation_config.json's eos_token_id, else config.json's. */
  eosIds: number[];
  /** The checkpoint's own tokenizer.json, when it has one. */
  tokenizerFile?: string;
}

/** Reads config.json of a checkpoint (and generation_config.json and tokenizer.json when it has them). */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const real = checkpointDir(dir);
  const path = join(real, CONFIG_FILE);
  const json = readJson(path);
  const tokenizerFile = existsSync(join(real, TOKENIZER_FILE)) ? join(real, TOKENIZER_FILE) : undefined;
  const model = fromHuggingFace(json, path, tokenizerFile);
  const generationPath = join(real, GENERATION_FILE);
  const generation = existsSync(generationPath) ? readJson(generationPath) : {};
  const eos = generation.eos_token_id !== undefined && generation.eos_token_id !== null
    ? eosIds(generation.eos_token_id, generationPath, 'eos_token_id')
    : json.eos_token_id !== undefined && json.eos_token_id !== null ? eosIds(json.eos_token_id, path, 'eos_token_id') : [model.info.eot];
  return { dir: real, ...model, eosIds: eos, ...(tokenizerFile ? { tokenizerFile } : {}) };
}

function readJson(path: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new DataError(`${path}: not a JSON object`);
  return json as Record<string, unknown>;
}

/**
 * The vocabulary a checkpoint's text is encoded with: its own tokenizer.json when it has one
 * (so a moved checkpoint keeps working; pass the checkpoint, not only its info), else the one
 * config.json's loom.vocab names; refused when it is not the vocabulary the model was trained on
 * (loom.vocab_hash).
 */
export function checkpointVocabulary(from: LoadedCheckpoint | LoomModelInfo): Vocabulary {
  const info = 'info' in from ? from.info : from;
  const source = ('info' in from ? from.tokenizerFile : undefined) ?? info.vocab;
  if (!source) throw new DataError(`${'dir' in from ? from.dir : 'the checkpoint'}: no ${TOKENIZER_FILE} and no loom vocabulary in ${CONFIG_FILE}; nothing to encode text with`);
  let vocab: Vocabulary;
  try {
    vocab = loadVocabulary({ vocab: source });
  } catch (err) {
    throw new DataError(`the checkpoint's vocabulary '${source}' cannot be loaded to encode text: ${(err as Error).message}`);
  }
  const actual = vocabularyHash(vocab);
  if (info.vocab_hash && actual !== info.vocab_hash)
    throw new DataError(`vocabulary '${source}' is not the one the checkpoint was trained on (hash ${actual.slice(0, 12)}…, expected ${info.vocab_hash.slice(0, 12)}…)`);
  return vocab;
}

/** The vocabulary `info` names, or null where it cannot be loaded or has changed (a checkpoint is then saved without a tokenizer). */
function infoVocabulary(info: LoomModelInfo): Vocabulary | null {
  try {
    return checkpointVocabulary(info);
  } catch {
    return null;
  }
}

/**
 * Loads the weights (any dtype in the file, one file or shards) into `target`; checks every name
 * and shape. A tensor the file lacks is taken from `fresh` when given there (a new head on a
 * trained trunk), else refused.
 */
export function loadWeights(dir: string, target: WeightTarget, fresh: ReadonlyMap<string, Float32Array> = new Map()): void {
  const file = openModelTensors(dir);
  for (const spec of target.specs) {
    const info = file.info(spec.name);
    if (!info && fresh.has(spec.name)) continue;
    if (!info) throw new DataError(`${file.path}: missing tensor ${spec.name}${spec.name === LM_HEAD ? ` (a tied model says tie_word_embeddings: true in ${CONFIG_FILE})` : ''}`);
    if (info.shape.join() !== spec.shape.join()) throw new DataError(`${file.path}: ${spec.name} has shape [${info.shape}], the model needs [${spec.shape}]`);
  }
  // one tensor in host memory at a time
  target.assign((function* () {
    for (const spec of target.specs) yield [spec.name, file.info(spec.name) ? file.read(spec.name) : fresh.get(spec.name)!] as [string, Float32Array];
  })());
}
