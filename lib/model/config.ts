// The Qwen decoder's shape and every model default, in one place (nanoGPT-style presets).
import { dynamicRopeBase, ropeBase } from '../../kernels/rope.js';
import { UsageError } from '../errors.js';

export interface ModelConfig {
  /** Rows of the embedding and the LM head; at least the data's vocabulary size. */
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  /** Key/value heads (GQA); equal to heads for Qwen-1. */
  kvHeads: number;
  /** SwiGLU width per branch (gate and up each). */
  intermediateSize: number;
  /** Context length the model is trained at (HF max_position_embeddings). */
  seqLen: number;
  ropeTheta: number;
  rmsEps: number;
  /** Residual dropout after the attention and MLP output projections. */
  dropout: number;
  /** Std of the normal init; output projections get initStd / sqrt(2·layers). */
  initStd: number;
  /**
   * The LM head is the embedding matrix (HF tie_word_embeddings, as Qwen2-0.5B and 1.5B have):
   * one tensor, trained by both uses' gradients. Absent means untied.
   */
  tieEmbeddings?: boolean;
  /**
   * Qwen's inference-time context extension as the checkpoint declares it (config.json's
   * use_dynamic_ntk, use_logn_attn, rope_scaling, the window fields); a field left out takes
   * longContextDefaults'. Training never applies it.
   */
  longContext?: Partial<LongContext>;
}

/** How the rotary base grows with a sequence beyond the training length (dynamic NTK-aware RoPE). */
export type NtkScaling =
  /** Qwen's use_dynamic_ntk: alpha = 2^ceil(log2(L/seqLen) + 1) − 1, base' = base·alpha^(D/(D−2)) */
  | { kind: 'qwen' }
  /** transformers' rope_scaling {"type": "dynamic", "factor"}: base' = base·(factor·L/seqLen − (factor − 1))^(D/(D−2)) */
  | { kind: 'dynamic'; factor: number };

/** Qwen's three means of reading past the training length without training (docs/long-context.md). */
export interface LongContext {
  /** Dynamic NTK-aware RoPE: each token rotated with the base of its sequence's length at the time; null: off. */
  ntk: NtkScaling | null;
  /** LogN scaling of queries beyond the training length: log(p+1)/log(seqLen). */
  logn: boolean;
  /** Attention window per layer, lowest first (0: the whole context); null: every layer sees everything. */
  windows: readonly number[] | null;
}

/** Inference switches (flags): true/false force one on or off; a window list replaces the windows. */
export interface LongContextSwitches {
  dynamicNtk?: boolean;
  logn?: boolean;
  windows?: boolean | readonly number[];
}

/** Qwen's vocabulary (151,851 ids) padded to a multiple of 128, as the released models do. */
export const QWEN_VOCAB = 151_936;

const base = { ropeTheta: 10_000, rmsEps: 1e-6, dropout: 0, initStd: 0.02, tieEmbeddings: false };

/**
 * `vocabSize: 0` means "take the data's vocabulary size": tiny stays cheap on the small
 * vocabularies of tests, and the full vocabulary still works.
 */
export const PRESETS = {
  tiny: { ...base, vocabSize: 0, hiddenSize: 64, layers: 2, heads: 4, kvHeads: 4, intermediateSize: 176, seqLen: 128 },
  '125m': { ...base, vocabSize: QWEN_VOCAB, hiddenSize: 768, layers: 12, heads: 12, kvHeads: 12, intermediateSize: 2048, seqLen: 2048 },
  '350m': { ...base, vocabSize: QWEN_VOCAB, hiddenSize: 1024, layers: 24, heads: 16, kvHeads: 16, intermediateSize: 2816, seqLen: 2048 },
  // DESIGN.md's benchmark shape (318M parameters with the untied 151,936-row embedding and head).
  bench318m: { ...base, vocabSize: QWEN_VOCAB, hiddenSize: 768, layers: 12, heads: 12, kvHeads: 12, intermediateSize: 2048, seqLen: 2048 },
  '1.8b': { ...base, vocabSize: QWEN_VOCAB, hiddenSize: 2048, layers: 24, heads: 16, kvHeads: 16, intermediateSize: 5504, seqLen: 2048 },
} satisfies Record<string, ModelConfig>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function headDim(c: ModelConfig): number {
  return c.hiddenSize / c.heads;
}

/**
 * Layer-wise window attention as the Qwen report describes it: shorter windows in lower layers,
 * which are the more sensitive to context length. The lowest third of the layers sees the last
 * seqLen keys (no relative distance it was not trained on), the middle third 2·seqLen, the top
 * third 4·seqLen. No window is shorter than seqLen, so within the training length they change
 * nothing. (On a 2-layer model trained at 128, windows of 128 and 256 kept perplexity at 8× the
 * length within 1.07× of the trained value, where [128, full] let it double: docs/long-context.md.)
 */
export function defaultWindows(c: ModelConfig): number[] {
  return Array.from({ length: c.layers }, (_, l) => c.seqLen * 2 ** Math.floor((3 * l) / c.layers));
}

/** The long-context settings a model declares, each missing one from the defaults: all three on. */
export function longContextOf(c: ModelConfig): LongContext {
  const declared = c.longContext ?? {};
  return {
    ntk: declared.ntk === undefined ? { kind: 'qwen' } : declared.ntk,
    logn: declared.logn ?? true,
    windows: declared.windows === undefined ? defaultWindows(c) : declared.windows,
  };
}

/**
 * What inference applies at a context of `length` tokens: beyond the training length, the model's
 * settings (longContextOf) unless a switch turns one off; within it, nothing, unless a switch turns
 * one on. Windows the checkpoint itself declares (a Qwen2 sliding window) are part of the model
 * and apply at any length. Null when nothing applies (the plain forward, as in training).
 */
export function activeLongContext(c: ModelConfig, length: number, switches: LongContextSwitches = {}): LongContext | null {
  const beyond = length > c.seqLen;
  const model = longContextOf(c);
  const on = (flag: boolean | undefined, declared: boolean) => flag ?? (beyond && declared);
  const w = switches.windows;
  let windows: readonly number[] | null;
  if (Array.isArray(w)) windows = w;
  else if (w === true) windows = model.windows ?? defaultWindows(c);
  else if (w === false) windows = null;
  else windows = beyond || c.longContext?.windows ? model.windows : null;
  if (windows) checkWindows(windows, c.layers);
  const active: LongContext = {
    ntk: on(switches.dynamicNtk, model.ntk !== null) ? (model.ntk ?? { kind: 'qwen' }) : null,
    logn: on(switches.logn, model.logn),
    windows: windows && windows.some((x) => x > 0) ? windows : null,
  };
  return active.ntk || active.logn || active.windows ? active : null;
}

/** The rotary base of a token rotated while its sequence holds `length` tokens (dynamic NTK; the config's base within seqLen). */
export function ntkBase(c: ModelConfig, ntk: NtkScaling | null, length: number): number {
  if (!ntk) return c.ropeTheta;
  return ntk.kind === 'qwen' ? ropeBase(c.ropeTheta, headDim(c), length, c.seqLen) : dynamicRopeBase(c.ropeTheta, headDim(c), length, c.seqLen, ntk.factor);
}

/** A preset with overrides, vocabulary resolved against the data's, checked. */
export function resolveConfig(preset: string, overrides: Partial<ModelConfig>, dataVocab: number): ModelConfig {
  const p = (PRESETS as Record<string, ModelConfig>)[preset];
  if (!p) throw new UsageError(`--preset: unknown preset '${preset}' (one of ${PRESET_NAMES.join(', ')})`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const c: ModelConfig = { ...p, ...defined };
  if (!c.vocabSize) c.vocabSize = dataVocab;
  checkConfig(c, dataVocab);
  return c;
}

export function checkConfig(c: ModelConfig, dataVocab?: number): void {
  const bad = (why: string) => {
    throw new UsageError(`model config: ${why}`);
  };
  for (const key of ['vocabSize', 'hiddenSize', 'layers', 'heads', 'kvHeads', 'intermediateSize', 'seqLen'] as const)
    if (!Number.isInteger(c[key]) || c[key] < 1) bad(`${key} must be a positive integer, got ${c[key]}`);
  if (c.hiddenSize % c.heads !== 0) bad(`hiddenSize ${c.hiddenSize} is not a multiple of heads ${c.heads}`);
  if (headDim(c) % 2 !== 0) bad(`head dim ${headDim(c)} must be even for RoPE`);
  if (c.heads % c.kvHeads !== 0) bad(`heads ${c.heads} is not a multiple of kvHeads ${c.kvHeads}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) bad(`dropout must be in [0, 1), got ${c.dropout}`);
  if (c.longContext?.windows) checkWindows(c.longContext.windows, c.layers);
  if (dataVocab !== undefined && dataVocab > c.vocabSize)
    bad(`the data's vocabulary has ${dataVocab} ids but the model only ${c.vocabSize} rows; raise --vocab-size`);
}

function checkWindows(windows: readonly number[], layers: number): void {
  if (windows.length !== layers || !windows.every((w) => Number.isInteger(w) && w >= 0))
    throw new UsageError(`attention windows [${windows.join(', ')}]: give one non-negative integer per layer (${layers}), lowest first; 0 is the whole context`);
}

/** Parameters: the embedding and the LM head twice when untied, once when tied. */
export function parameterCount(c: ModelConfig): number {
  const C = c.hiddenSize, D = headDim(c), kv = c.kvHeads * D;
  const layer = 2 * C + C * C + C + 2 * (C * kv + kv) + C * C + 3 * C * c.intermediateSize;
  return (c.tieEmbeddings ? 1 : 2) * c.vocabSize * C + c.layers * layer + C;
}

/**
 * Training FLOPs per token as PaLM and nanoGPT count them (the accounting behind DESIGN.md's
 * 41% MFU figure): 6 per weight of every matmul, plus 12·layers·T·C for attention scores.
 * The LM head is a matmul, tied or not; the embedding is a lookup and counts nothing.
 */
export function flopsPerToken(c: ModelConfig, seqLen: number): number {
  const C = c.hiddenSize, kv = c.kvHeads * headDim(c);
  const matmul = c.layers * (2 * C * C + 2 * C * kv + 3 * C * c.intermediateSize) + c.vocabSize * C;
  return 6 * matmul + 12 * c.layers * seqLen * C;
}
