// The Qwen decoder's trunk over kernels/: embedding → blocks → final norm, forward and
// hand-written backward (llm.c-style). It returns hidden states [N, C] and takes dL/dh back, so
// any head (lm-head.ts, scalar-head.ts) sits on top. Every activation of a pass comes from one
// arena, reset per forward and sized for a capacity of tokens: any rows × seqLen up to it.
//
//   x = embed(ids)
//   per layer:  x2 = x + drop(o_proj(attn(rope(q(h1)), rope(k(h1)), v(h1))))   h1 = rmsnorm(x)
//               x  = x2 + drop(down(silu(gate(h2)) · up(h2)))                   h2 = rmsnorm(x2)
//   h = rmsnorm(x)
import { decodeWorkspace, lmHeadWorkspace, type Arena, type Backend, type DType, type Tensor } from '../../kernels/index.js';
import { headDim, ntkBase, type LongContext, type ModelConfig } from './config.js';
import { layerPrefix } from './params.js';
import type { Weights } from './weights.js';

/** Vocabulary rows per LM-head chunk: bounds the logits held at once to rows × chunk. */
export const LM_HEAD_CHUNK = 8192;

/** Where a backward adds a parameter's gradient (fp32); null for a frozen parameter. */
export type GradSink = (name: string) => Tensor | null;

/** A part of the model whose weight gradients become final together: the head side, a layer, the embedding. */
export type GradPart = 'head' | number | 'embed';

/** Told, during a backward, when each part's weight gradients are complete (data parallel starts reducing them). */
export interface BackwardHooks {
  gradsReady(part: GradPart): void;
}

export interface TokenBatch {
  /** int32 [rows · seqLen] token ids, row after row. */
  ids: Int32Array;
  rows: number;
  seqLen: number;
  /** Position of each row's first token (default 0): RoPE sees offset + t. */
  offsets?: Int32Array;
  /** Packed rows: each row's sequences by length (summing to seqLen). Attention stays inside each. */
  segments?: readonly (readonly number[])[];
  /** int32 [rows · seqLen] explicit positions (packed rows restart at 0 per sequence); overrides offsets. */
  positions?: Int32Array;
  /**
   * Dynamic NTK: the length of each token's sequence when the token was (or is) rotated, which sets
   * its rotary base. Default: its sequence's length in this pass (1 + its row's or packed
   * sequence's last position), as a full forward over the sequence computes it.
   */
  ropeLengths?: Int32Array;
}

/** A packed batch's sequence bounds per position, on the device, for the attention kernels. */
export interface Sequences {
  start: Tensor;
  end: Tensor;
}

/** Keys and values of every layer, for inference: [slots, positions, kvHeads, headDim] each. */
export interface KvCache {
  k: Tensor[];
  v: Tensor[];
}

/** Where a pass meets the KV cache. */
export interface CacheSite {
  cache: KvCache;
  /** int32 per token: the slot and position its key and value are written to (slot < 0: not written). */
  slot: Tensor;
  position: Tensor;
  /**
   * Decoding (or prefill after a cached prefix): each row's queries attend to its slot's cached
   * keys instead of to each other; row b's first query sits at pos[b] (int32 per row).
   */
  attend?: { slot: Tensor; pos: Tensor };
}

export interface ForwardOptions {
  /** Residual dropout probability (0 for evaluation and inference). */
  dropout?: number;
  dropoutSeed?: number;
  /** Inference: write keys and values to the cache (and, to decode, read them from it). */
  cache?: CacheSite;
  /** Inference beyond the training length (config.ts activeLongContext); default: the trunk's `longContext`. */
  longContext?: LongContext | null;
}

/** A pass's inputs already on the device (a decode step's, so that it can be recorded as a graph). */
export interface DeviceTokens {
  /** int32 [rows · seqLen] */
  ids: Tensor;
  /** int32 [rows · seqLen]: each token's position for RoPE */
  positions: Tensor;
  rows: number;
  seqLen: number;
  sequences?: Sequences | null;
  /** fp32 [rows · seqLen]: each token's rotary base, when the pass applies dynamic NTK (ntkBase) */
  ropeBases?: Tensor | null;
}

interface LayerActivations {
  xin: Tensor;
  h1: Tensor;
  r1: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  lse: Tensor;
  x2: Tensor;
  h2: Tensor;
  r2: Tensor;
  gate: Tensor;
  up: Tensor;
  act: Tensor;
}

/** One forward pass: the hidden states, and what the backward needs (valid until the next forward). */
export interface Hidden {
  /** [rows · seqLen, C] in the compute dtype, after the final norm. */
  h: Tensor;
  rows: number;
  seqLen: number;
  readonly pass: { ids: Tensor; positions: Tensor; x: Tensor; rf: Tensor; saved: LayerActivations[]; drop: number; seed: number; sequences: Sequences | null; longContext: LongContext | null };
}

/**
 * Bytes of activations for `tokens` tokens in the arena (with slack for alignment): the trunk's,
 * one layer's backward scratch, and room for the LM head's or the scalar head's tensors.
 */
export function arenaBytes(c: ModelConfig, tokens: number, dtype: DType): number {
  const N = tokens, C = c.hiddenSize, kv = c.kvHeads * headDim(c), F = c.intermediateSize, H = c.heads;
  const s = dtype === 'f32' ? 4 : 2;
  const drop = c.dropout > 0 ? 2 * C : 0;
  // Kept for the backward: h1 q att o x2 h2 down x (C each), k v, gate up act (F each), rstd ×2, lse.
  const perLayer = s * (8 * C + 2 * kv + 3 * F + drop) + 4 * (2 + H);
  const chunk = Math.min(LM_HEAD_CHUNK, c.vocabSize);
  // ids, positions, sequence bounds, rotary bases, embedding out, final norm, dh, targets, weights,
  // losses, the LM head workspace, two residual grads (the scalar head's fp32 dh fits in the workspace's share).
  const head = s * 5 * C + 4 * (8 + lmHeadWorkspace(1, C, chunk, 0)) + 8;
  // One layer's backward scratch, released before the next layer.
  const backward = s * (6 * C + 2 * kv + 3 * F + drop) + 4 * H;
  const tensors = 40 * c.layers + 64;
  // the LM head workspace holds at least one row of the whole vocabulary
  return N * (s * C + c.layers * perLayer + head + backward) + 8 * c.vocabSize + tensors * 256 + (1 << 20);
}

export class Trunk {
  readonly arena: Arena;
  private readonly C: number;
  private readonly D: number;
  private readonly rope: { base: number };
  /** Per layer, q/k/v's and gate/up's weights each as one matrix, where they are adjacent (they are in loom's layout). */
  private readonly joined: ({ qkvWeight: Tensor; qkvBias: Tensor; gateUp: Tensor } | null)[];
  /**
   * Long-context inference applied to every forward that does not say otherwise (eval at lengths
   * beyond training). Null for training: a backward refuses a pass that applied it.
   */
  longContext: LongContext | null = null;

  constructor(
    readonly k: Backend,
    readonly config: ModelConfig,
    readonly weights: Weights,
    /** Most tokens (rows × seqLen) one pass holds. */
    readonly capacity: number,
  ) {
    this.arena = k.arena(arenaBytes(config, capacity, weights.dtype));
    this.C = config.hiddenSize;
    this.D = headDim(config);
    this.rope = { base: config.ropeTheta };
    this.joined = Array.from({ length: config.layers }, (_, l) => {
      const name = (suffix: string) => layerPrefix(l) + suffix;
      const qkvWeight = weights.joined(['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'].map(name));
      const qkvBias = weights.joined(['self_attn.q_proj.bias', 'self_attn.k_proj.bias', 'self_attn.v_proj.bias'].map(name));
      const gateUp = weights.joined(['mlp.gate_proj.weight', 'mlp.up_proj.weight'].map(name));
      return qkvWeight && qkvBias && gateUp ? { qkvWeight, qkvBias, gateUp } : null;
    });
  }

  get dtype(): DType {
    return this.weights.dtype;
  }

  /** A tensor from the current pass's arena (heads allocate theirs here too). */
  tensor(shape: readonly number[], dtype: DType = this.dtype): Tensor {
    return this.arena.tensor(shape, dtype);
  }

  /** Resets the arena and runs embedding → layers → final norm; keeps what the backward needs. */
  forward(batch: TokenBatch, opts: ForwardOptions = {}): Hidden {
    const { k, arena } = this;
    const B = batch.rows, T = batch.seqLen, N = B * T;
    if (batch.ids.length !== N) throw new Error(`model: the batch holds ${batch.ids.length} tokens, expected ${B}×${T}`);
    if (batch.offsets && batch.offsets.length !== B) throw new Error(`model: ${batch.offsets.length} row offsets for ${B} rows`);
    if (batch.positions && batch.positions.length !== N) throw new Error(`model: ${batch.positions.length} positions for ${N} tokens`);
    this.checkCapacity(N, B, T);
    arena.reset();
    const ids = arena.tensor([N], 'i32');
    k.upload(ids, batch.ids);
    const positions = arena.tensor([N], 'i32');
    const pos = positionsOf(batch);
    k.upload(positions, pos);
    let sequences: Sequences | null = null;
    if (batch.segments) {
      const bounds = sequenceBounds(batch);
      sequences = { start: arena.tensor([N], 'i32'), end: arena.tensor([N], 'i32') };
      k.upload(sequences.start, bounds.start);
      k.upload(sequences.end, bounds.end);
    }
    let ropeBases: Tensor | null = null;
    const ntk = this.longContextOf(opts)?.ntk;
    if (ntk) {
      const lengths = batch.ropeLengths ?? sequenceLengths(batch, pos);
      if (lengths.length !== N) throw new Error(`model: ${lengths.length} rope lengths for ${N} tokens`);
      ropeBases = arena.tensor([N], 'f32');
      k.upload(ropeBases, Float32Array.from(lengths, (len) => ntkBase(this.config, ntk, len)));
    }
    return this.pass({ ids, positions, rows: B, seqLen: T, sequences, ropeBases }, opts);
  }

  /**
   * The same pass over inputs already on the device, with no transfer and no host synchronisation
   * (a decode step recorded as a graph). The inputs must live outside the arena, which is reset.
   */
  forwardDevice(input: DeviceTokens, opts: ForwardOptions = {}): Hidden {
    this.checkCapacity(input.rows * input.seqLen, input.rows, input.seqLen);
    this.arena.reset();
    return this.pass(input, opts);
  }

  private longContextOf(opts: ForwardOptions): LongContext | null {
    return opts.longContext === undefined ? this.longContext : opts.longContext;
  }

  private checkCapacity(N: number, B: number, T: number): void {
    if (N > this.capacity) throw new Error(`model: ${B}×${T} tokens exceed the capacity of ${this.capacity} this model was sized for`);
  }

  private pass(input: DeviceTokens, opts: ForwardOptions): Hidden {
    const { k, config: c, arena, C } = this;
    const { ids, positions, rows: B, seqLen: T } = input;
    const N = B * T;
    const sequences = input.sequences ?? null;
    const drop = opts.dropout ?? 0;
    const seed = opts.dropoutSeed ?? 0;
    const cache = opts.cache;
    const act = (shape: number[], dtype: DType = this.dtype) => arena.tensor(shape, dtype);
    const decodeScratch = cache?.attend ? act([decodeWorkspace(B, T, c.heads, this.D, cache.cache.k[0]!.shape[1]!)], 'f32') : null;
    const w0 = this.weights;
    const long = this.longContextOf(opts);
    if (long?.ntk && !input.ropeBases) throw new Error('model: a dynamic-NTK pass needs each token\'s rotary base (ropeBases)');
    const bases = long?.ntk ? input.ropeBases! : null;
    const ropeQ = { ...this.rope, bases, lognLength: long?.logn ? c.seqLen : 0 }, ropeK = { ...this.rope, bases };

    // Each residual add runs fused with the norm that reads its result (addRmsnorm, the same bits
    // in one launch): after attention post_attention_layernorm, after the MLP the next layer's
    // input_layernorm, or model.norm after the last layer.
    const normBefore = (l: number) => w0.w(l < c.layers ? layerPrefix(l) + 'input_layernorm.weight' : 'model.norm.weight');
    let x = act([N, C]);
    k.embedding(x, ids, w0.w('model.embed_tokens.weight'));
    let h1 = act([N, C]), r1 = act([N], 'f32');
    k.rmsnorm(h1, r1, x, normBefore(0), c.rmsEps);
    const saved: LayerActivations[] = [];
    for (let l = 0; l < c.layers; l++) {
      const w = (name: string) => w0.w(layerPrefix(l) + name);
      const xin = x;
      // A pass of one token (a batch-1 decode step) reads q/k/v's adjacent weights in one product
      // and gate/up's in another: each column's sum is the one the separate products make. A
      // decode step of any batch (one token a sequence, stored in the cache where it is rotated)
      // does too: it rotates and stores the q/k/v rows in one launch, and swigluJoined reads the
      // gate/up rows.
      const fusedDecode = !!(this.joined[l] && cache?.attend && T === 1 && cache.position === positions);
      const joined = N === 1 || fusedDecode ? this.joined[l] : null;
      const kv = c.kvHeads * this.D;
      const att = act([B, T, c.heads, this.D]), lse = act([B, c.heads, T], 'f32');
      const window = long?.windows?.[l] ?? 0;
      let q: Tensor, kk: Tensor, v: Tensor;
      if (fusedDecode) {
        const [kc, vc] = [cache!.cache.k[l]!, cache!.cache.v[l]!];
        const qkv = act([N, C + 2 * kv]);
        k.linear(qkv, h1, joined!.qkvWeight, joined!.qkvBias);
        q = act([B, T, c.heads, this.D]);
        k.ropeAppend(q, kc, vc, qkv, positions, cache!.slot, ropeQ);
        // a decode pass is never differentiated: its keys and values live in the cache alone
        [kk, v] = [qkv, qkv];
        k.attentionDecode(att, q, kc, vc, cache!.attend!.pos, { slot: cache!.attend!.slot, workspace: decodeScratch, window });
      } else {
        let qk: Tensor | null = null;
        if (joined) {
          const qkv = act([C + 2 * kv]);
          k.linear(qkv.view([1, C + 2 * kv]), h1, joined.qkvWeight, joined.qkvBias);
          [q, kk, v] = [qkv.rows(0, C).view([B, T, c.heads, this.D]), qkv.rows(C, C + kv).view([B, T, c.kvHeads, this.D]), qkv.rows(C + kv, C + 2 * kv).view([B, T, c.kvHeads, this.D])];
          qk = qkv.rows(0, C + kv).view([B, T, c.heads + c.kvHeads, this.D]);
        } else {
          [q, kk, v] = [act([B, T, c.heads, this.D]), act([B, T, c.kvHeads, this.D]), act([B, T, c.kvHeads, this.D])];
          k.linear(q, h1, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'));
          k.linear(kk, h1, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'));
          k.linear(v, h1, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'));
        }
        // the joined row's queries and keys are adjacent heads: one launch rotates both, unless LogN
        // scales the queries alone
        if (qk && !ropeQ.lognLength) k.rope(qk, qk, positions, ropeK);
        else {
          k.rope(q, q, positions, ropeQ);
          k.rope(kk, kk, positions, ropeK);
        }
        if (cache) {
          const [kc, vc] = [cache.cache.k[l]!, cache.cache.v[l]!];
          k.kvAppend(kc, vc, kk.view([N, c.kvHeads, this.D]), v.view([N, c.kvHeads, this.D]), cache.slot, cache.position);
          if (cache.attend) k.attentionDecode(att, q, kc, vc, cache.attend.pos, { slot: cache.attend.slot, workspace: decodeScratch, window });
          else k.attention(att, lse, q, kk, v, { sequences, window });
        } else k.attention(att, lse, q, kk, v, { sequences, window });
      }
      const o = this.dropped(act([N, C]), drop, seed + 2 * l, (out) => k.linear(out, att, w('self_attn.o_proj.weight')));
      const x2 = act([N, C]), h2 = act([N, C]), r2 = act([N], 'f32');
      k.addRmsnorm(x2, h2, r2, xin, o, w('post_attention_layernorm.weight'), c.rmsEps);
      const F = c.intermediateSize;
      let gate: Tensor, up: Tensor;
      const a = act([N, F]);
      if (joined) {
        const gateUp = act([N, 2 * F]);
        k.linear(gateUp, h2, joined.gateUp);
        k.swigluJoined(a, gateUp);
        // one row's halves are the gate and up a backward reads; a decode pass of several rows is never differentiated
        [gate, up] = N === 1 ? [gateUp.view([2 * F]).rows(0, F).view([N, F]), gateUp.view([2 * F]).rows(F, 2 * F).view([N, F])] : [gateUp, gateUp];
      } else {
        [gate, up] = [act([N, F]), act([N, F])];
        k.linear(gate, h2, w('mlp.gate_proj.weight'));
        k.linear(up, h2, w('mlp.up_proj.weight'));
        k.swiglu(a, gate, up);
      }
      const d = this.dropped(act([N, C]), drop, seed + 2 * l + 1, (out) => k.linear(out, a, w('mlp.down_proj.weight')));
      x = act([N, C]);
      const hNext = act([N, C]), rNext = act([N], 'f32');
      k.addRmsnorm(x, hNext, rNext, x2, d, normBefore(l + 1), c.rmsEps);
      saved.push({ xin, h1, r1, q, k: kk, v, att, lse, x2, h2, r2, gate, up, act: a });
      [h1, r1] = [hNext, rNext];
    }
    const [h, rf] = [h1, r1]; // model.norm's
    return { h, rows: B, seqLen: T, pass: { ids, positions, x, rf, saved, drop, seed, sequences, longContext: long } };
  }

  /**
   * Given dh = dL/dh of the last forward, adds dL/dθ into `grads` (frozen parameters skipped).
   * The head's gradients must be complete when it is called; `hooks` hear of each part as it finishes.
   */
  backward(hidden: Hidden, dh: Tensor, grads: GradSink, hooks?: BackwardHooks): void {
    const { k, config: c, arena, C } = this;
    const N = hidden.rows * hidden.seqLen;
    const { ids, x, rf, saved } = hidden.pass;
    if (hidden.pass.longContext) throw new Error('model: a backward through a long-context forward (dynamic NTK, LogN, windows are for inference only)');
    // Two gradient buffers for the residual stream alternate; each layer's scratch is released.
    let dx = arena.tensor([N, C], this.dtype);
    let dnext = arena.tensor([N, C], this.dtype);
    k.rmsnormBackward(dx, grads('model.norm.weight'), dh, x, this.weights.w('model.norm.weight'), rf);
    hooks?.gradsReady('head');
    for (let l = c.layers - 1; l >= 0; l--) {
      const mark = arena.mark();
      this.layerBackward(l, hidden, saved[l]!, dx, dnext, grads);
      arena.release(mark);
      [dx, dnext] = [dnext, dx];
      hooks?.gradsReady(l);
    }
    const dtable = grads('model.embed_tokens.weight');
    if (dtable) k.embeddingBackward(dtable, dx, ids);
    hooks?.gradsReady('embed');
  }

  /** out = dropout(f(·)) when p > 0, else f writes out directly. */
  private dropped(out: Tensor, p: number, seed: number, f: (out: Tensor) => void): Tensor {
    if (p === 0) {
      f(out);
      return out;
    }
    const raw = this.arena.tensor(out.shape, out.dtype);
    f(raw);
    this.k.dropout(out, raw, p, seed);
    return out;
  }

  /** Given dx = dL/d(layer output), writes dL/d(layer input) into dxin. */
  private layerBackward(l: number, hidden: Hidden, s: LayerActivations, dx: Tensor, dxin: Tensor, grads: GradSink): void {
    const { k, config: c, C } = this;
    const B = hidden.rows, T = hidden.seqLen, N = B * T, F = c.intermediateSize;
    const { positions, drop, seed, sequences } = hidden.pass;
    const act = (shape: readonly number[], dtype: DType = this.dtype) => this.arena.tensor(shape, dtype);
    const w = (name: string) => this.weights.w(layerPrefix(l) + name);
    const g = (name: string) => grads(layerPrefix(l) + name);
    const undrop = (dy: Tensor, site: number) => {
      if (drop === 0) return dy;
      const raw = act(dy.shape);
      k.dropoutBackward(raw, dy, drop, seed + 2 * l + site);
      return raw;
    };
    const tmp = act([N, C]);
    // MLP: x = x2 + drop(down(silu(gate(h2)) · up(h2)))
    const da = act([N, F]), dgate = act([N, F]), dup = act([N, F]), dh2 = act([N, C]);
    k.linearBackward(da, g('mlp.down_proj.weight'), null, undrop(dx, 1), s.act, w('mlp.down_proj.weight'));
    k.swigluBackward(dgate, dup, da, s.gate, s.up);
    k.linearBackward(dh2, g('mlp.gate_proj.weight'), null, dgate, s.h2, w('mlp.gate_proj.weight'));
    k.linearBackward(tmp, g('mlp.up_proj.weight'), null, dup, s.h2, w('mlp.up_proj.weight'));
    k.axpy(dh2, 1, tmp);
    const dx2 = act([N, C]);
    k.rmsnormBackward(dx2, g('post_attention_layernorm.weight'), dh2, s.x2, w('post_attention_layernorm.weight'), s.r2);
    k.axpy(dx2, 1, dx);
    // attention: x2 = xin + drop(o_proj(attn(rope(q), rope(k), v)))
    const datt = act([B, T, c.heads, this.D]);
    k.linearBackward(datt, g('self_attn.o_proj.weight'), null, undrop(dx2, 0), s.att, w('self_attn.o_proj.weight'));
    const dq = act([B, T, c.heads, this.D]), dk = act([B, T, c.kvHeads, this.D]), dv = act([B, T, c.kvHeads, this.D]);
    k.attentionBackward(dq, dk, dv, datt, s.att, s.lse, s.q, s.k, s.v, act([B * c.heads * T], 'f32'), { sequences });
    k.rope(dq, dq, positions, { ...this.rope, inverse: true });
    k.rope(dk, dk, positions, { ...this.rope, inverse: true });
    const dh1 = act([N, C]);
    k.linearBackward(dh1, g('self_attn.q_proj.weight'), g('self_attn.q_proj.bias'), dq, s.h1, w('self_attn.q_proj.weight'));
    k.linearBackward(tmp, g('self_attn.k_proj.weight'), g('self_attn.k_proj.bias'), dk, s.h1, w('self_attn.k_proj.weight'));
    k.axpy(dh1, 1, tmp);
    k.linearBackward(tmp, g('self_attn.v_proj.weight'), g('self_attn.v_proj.bias'), dv, s.h1, w('self_attn.v_proj.weight'));
    k.axpy(dh1, 1, tmp);
    k.rmsnormBackward(dxin, g('input_layernorm.weight'), dh1, s.xin, w('input_layernorm.weight'), s.r1);
    k.axpy(dxin, 1, dx2);
  }
}

/** Each position's sequence start and end (one past its last) in a packed batch, row-relative; checked to tile every row. */
function sequenceBounds(batch: TokenBatch): { start: Int32Array; end: Int32Array } {
  const rows = batch.segments!;
  if (rows.length !== batch.rows) throw new Error(`model: segments for ${rows.length} rows, the batch has ${batch.rows}`);
  const T = batch.seqLen;
  const start = new Int32Array(batch.rows * T), end = new Int32Array(batch.rows * T);
  rows.forEach((lengths, b) => {
    let at = 0;
    for (const len of lengths) {
      if (!(Number.isInteger(len) && len > 0)) throw new Error(`model: row ${b} has a segment of length ${len}`);
      if (at + len > T) break;
      start.fill(at, b * T + at, b * T + at + len);
      end.fill(at + len, b * T + at, b * T + at + len);
      at += len;
    }
    const covered = lengths.reduce((a, n) => a + n, 0);
    if (covered !== T) throw new Error(`model: row ${b}'s segments cover ${covered} of ${T} tokens`);
  });
  return { start, end };
}

/** Each token's sequence length in this pass: 1 + the last position of its row, or of its packed sequence. */
function sequenceLengths(batch: TokenBatch, positions: Int32Array): Int32Array {
  const T = batch.seqLen, out = new Int32Array(positions.length);
  for (let b = 0; b < batch.rows; b++) {
    let at = b * T;
    for (const len of batch.segments?.[b] ?? [T]) {
      let last = 0;
      for (let t = at; t < at + len; t++) last = Math.max(last, positions[t]!);
      out.fill(last + 1, at, at + len);
      at += len;
    }
  }
  return out;
}

/** Explicit positions, or offset[b] + t for every token, row after row. */
function positionsOf(batch: TokenBatch): Int32Array {
  if (batch.positions) return batch.positions;
  const out = new Int32Array(batch.rows * batch.seqLen);
  for (let b = 0; b < batch.rows; b++) {
    const offset = batch.offsets?.[b] ?? 0;
    for (let t = 0; t < batch.seqLen; t++) out[b * batch.seqLen + t] = offset + t;
  }
  return out;
}
