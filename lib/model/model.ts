// The Qwen decoder composed from kernels/: forward and hand-written backward (llm.c-style), with
// every activation of a micro-batch taken from one arena that is reset per micro-batch.
//
//   x = embed(ids)
//   per layer:  x2 = x + drop(o_proj(attn(rope(q(h1)), rope(k(h1)), v(h1))))   h1 = rmsnorm(x)
//               x  = x2 + drop(down(silu(gate(h2)) · up(h2)))                   h2 = rmsnorm(x2)
//   loss = CE(lm_head(rmsnorm(x)), targets)   (fused, chunked over the vocabulary)
import { lmHeadWorkspace, type Arena, type Backend, type DType, type Tensor } from '../../kernels/index.js';
import { headDim, type ModelConfig } from './config.js';
import { layerPrefix, Parameters } from './params.js';

/** Vocabulary rows per LM-head chunk: bounds the logits held at once to rows × chunk. */
const LM_HEAD_CHUNK = 8192;

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

export interface MicroBatch {
  /** int32 [B·T] inputs and next-token targets (targets < 0 are ignored). */
  ids: Int32Array;
  targets: Int32Array;
}

/** Bytes of activations one micro-batch of B×T takes in the arena (with slack for alignment). */
export function arenaBytes(c: ModelConfig, batch: number, seqLen: number, dtype: DType): number {
  const N = batch * seqLen, C = c.hiddenSize, kv = c.kvHeads * headDim(c), F = c.intermediateSize, H = c.heads;
  const s = dtype === 'f32' ? 4 : 2;
  const drop = c.dropout > 0 ? 2 * C : 0;
  // Kept for the backward: h1 q att o x2 h2 down x (C each), k v, gate up act (F each), rstd ×2, lse.
  const perLayer = s * (8 * C + 2 * kv + 3 * F + drop) + 4 * (2 + H);
  const chunk = Math.min(LM_HEAD_CHUNK, c.vocabSize);
  // ids, embedding out, final norm, dh, targets, losses, the LM head workspace, two residual grads.
  const head = s * 5 * C + 4 * (3 + lmHeadWorkspace(1, C, chunk, 0)) + 8;
  // One layer's backward scratch, released before the next layer.
  const backward = s * (6 * C + 2 * kv + 3 * F + drop) + 4 * H;
  const tensors = 40 * c.layers + 64;
  // the LM head workspace holds at least one row of the whole vocabulary
  return N * (s * C + c.layers * perLayer + head + backward) + 8 * c.vocabSize + tensors * 256 + (1 << 20);
}

export class QwenModel {
  readonly arena: Arena;
  readonly params: Parameters;
  /** fp32 [1]: running sum of token losses since the last resetLoss(). */
  readonly lossSum: Tensor;
  private readonly positions: Tensor;
  private readonly C: number;
  private readonly D: number;
  private readonly rope: { base: number };

  constructor(
    readonly k: Backend,
    readonly config: ModelConfig,
    readonly dtype: DType,
    readonly batch: number,
    readonly seqLen: number,
  ) {
    this.params = new Parameters(k, config, dtype);
    this.arena = k.arena(arenaBytes(config, batch, seqLen, dtype));
    this.lossSum = k.alloc([1]);
    this.positions = k.alloc([seqLen], 'i32');
    k.upload(this.positions, Int32Array.from({ length: seqLen }, (_, i) => i));
    this.C = config.hiddenSize;
    this.D = headDim(config);
    this.rope = { base: config.ropeTheta };
  }

  resetLoss(): void {
    this.k.zero(this.lossSum);
  }

  /** Resets the arena and runs embedding → layers → final norm; keeps what the backward needs. */
  private forward(tokens: Int32Array, drop: number, seed: number) {
    const { k, config: c, arena, C } = this;
    const B = this.batch, T = this.seqLen, N = B * T;
    if (tokens.length !== N) throw new Error(`model: micro-batch holds ${tokens.length} tokens, expected ${B}×${T}`);
    arena.reset();
    const dt = this.dtype;
    const act = (shape: number[], dtype: DType = dt) => arena.tensor(shape, dtype);
    const ids = act([N], 'i32');
    k.upload(ids, tokens);
    const p = this.params;

    let x = act([N, C]);
    k.embedding(x, ids, p.w('model.embed_tokens.weight'));
    const saved: LayerActivations[] = [];
    for (let l = 0; l < c.layers; l++) {
      const w = (name: string) => p.w(layerPrefix(l) + name);
      const xin = x;
      const h1 = act([N, C]), r1 = act([N], 'f32');
      k.rmsnorm(h1, r1, xin, w('input_layernorm.weight'), c.rmsEps);
      const q = act([B, T, c.heads, this.D]), kk = act([B, T, c.kvHeads, this.D]), v = act([B, T, c.kvHeads, this.D]);
      k.linear(q, h1, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'));
      k.linear(kk, h1, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'));
      k.linear(v, h1, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'));
      k.rope(q, q, this.positions, this.rope);
      k.rope(kk, kk, this.positions, this.rope);
      const att = act([B, T, c.heads, this.D]), lse = act([B, c.heads, T], 'f32');
      k.attention(att, lse, q, kk, v);
      const o = this.dropped(act([N, C]), drop, seed + 2 * l, (out) => k.linear(out, att, w('self_attn.o_proj.weight')));
      const x2 = act([N, C]);
      k.add(x2, xin, o);
      const h2 = act([N, C]), r2 = act([N], 'f32');
      k.rmsnorm(h2, r2, x2, w('post_attention_layernorm.weight'), c.rmsEps);
      const F = c.intermediateSize;
      const gate = act([N, F]), up = act([N, F]), a = act([N, F]);
      k.linear(gate, h2, w('mlp.gate_proj.weight'));
      k.linear(up, h2, w('mlp.up_proj.weight'));
      k.swiglu(a, gate, up);
      const d = this.dropped(act([N, C]), drop, seed + 2 * l + 1, (out) => k.linear(out, a, w('mlp.down_proj.weight')));
      x = act([N, C]);
      k.add(x, x2, d);
      saved.push({ xin, h1, r1, q, k: kk, v, att, lse, x2, h2, r2, gate, up, act: a });
    }
    const hf = act([N, C]), rf = act([N], 'f32');
    k.rmsnorm(hf, rf, x, p.w('model.norm.weight'), c.rmsEps);
    return { ids, x, saved, hf, rf };
  }

  /** fp32 logits [B·T, vocab] of a micro-batch (for checks against other implementations; small batches). */
  logits(tokens: Int32Array): Float32Array {
    const { hf } = this.forward(tokens, 0, 0);
    const out = this.k.alloc([hf.shape[0]!, this.config.vocabSize], this.dtype);
    try {
      this.k.linear(out, hf, this.params.w('lm_head.weight'));
      return this.k.toFloat32(out);
    } finally {
      this.k.free(out);
    }
  }

  /**
   * Forward (and with `grad`, backward) of one micro-batch: adds its token losses to lossSum and
   * `gradScale` × d(sum of losses)/dθ to the parameter gradients.
   */
  step(mb: MicroBatch, opts: { grad: boolean; gradScale?: number; dropoutSeed?: number }): void {
    const { k, config: c, arena, C } = this;
    const B = this.batch, T = this.seqLen, N = B * T;
    if (mb.targets.length !== N) throw new Error(`model: micro-batch holds ${mb.targets.length} targets, expected ${B}×${T}`);
    const drop = opts.grad ? c.dropout : 0;
    const seed = opts.dropoutSeed ?? 0;
    const { ids, x, saved, hf, rf } = this.forward(mb.ids, drop, seed);
    const p = this.params;
    const act = (shape: number[], dtype: DType = this.dtype) => arena.tensor(shape, dtype);
    const targets = act([N], 'i32');
    k.upload(targets, mb.targets);
    const losses = act([N], 'f32');
    const chunk = Math.min(LM_HEAD_CHUNK, c.vocabSize);
    const workspace = act([lmHeadWorkspace(N, C, chunk, c.vocabSize)], 'f32');
    const dhf = opts.grad ? act([N, C]) : null;
    k.lmHeadCE(losses, dhf, opts.grad ? p.g('lm_head.weight') : null, hf, p.w('lm_head.weight'), targets, { chunk, workspace, gradScale: opts.gradScale ?? 1 });
    k.sum(this.lossSum, losses, true);
    if (!dhf) return;

    // Two gradient buffers for the residual stream alternate; each layer's scratch is released.
    let dx = act([N, C]);
    let dnext = act([N, C]);
    k.rmsnormBackward(dx, p.g('model.norm.weight'), dhf, x, p.w('model.norm.weight'), rf);
    for (let l = c.layers - 1; l >= 0; l--) {
      const mark = arena.mark();
      this.layerBackward(l, saved[l]!, dx, dnext, drop, seed);
      arena.release(mark);
      [dx, dnext] = [dnext, dx];
    }
    k.embeddingBackward(p.g('model.embed_tokens.weight'), dx, ids);
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
  private layerBackward(l: number, s: LayerActivations, dx: Tensor, dxin: Tensor, drop: number, seed: number): void {
    const { k, config: c, C } = this;
    const B = this.batch, T = this.seqLen, N = B * T, F = c.intermediateSize;
    const act = (shape: readonly number[], dtype: DType = this.dtype) => this.arena.tensor(shape, dtype);
    const w = (name: string) => this.params.w(layerPrefix(l) + name);
    const g = (name: string) => this.params.g(layerPrefix(l) + name);
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
    k.attentionBackward(dq, dk, dv, datt, s.att, s.lse, s.q, s.k, s.v, act([B * c.heads * T], 'f32'));
    k.rope(dq, dq, this.positions, { ...this.rope, inverse: true });
    k.rope(dk, dk, this.positions, { ...this.rope, inverse: true });
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
