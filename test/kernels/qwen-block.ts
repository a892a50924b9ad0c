// A small Qwen2-style transformer composed from the kernels (forward and hand-written backward),
// used to check that the ops compose: gradients against finite differences on CPU, and CUDA
// against CPU. Parameter names follow Hugging Face's Qwen2 checkpoints.
import type { Arena, Backend, DType, Tensor } from '../../kernels/index.js';
import { lmHeadWorkspace } from '../../kernels/index.js';
import { randint, randn } from './helpers.js';

export interface BlockConfig {
  vocab: number;
  dim: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  /** sliding window per layer (0 = full causal); its length is the layer count */
  windows: number[];
  batch: number;
  seq: number;
  eps: number;
  ropeBase: number;
  /** LogN training length (0 = off) */
  lognLength: number;
  /** vocabulary chunk of the fused LM head */
  chunk: number;
}

export type Params = Map<string, { shape: number[]; data: Float32Array }>;

export function initParams(cfg: BlockConfig, seed: number, scale = 0.3): Params {
  const { vocab: V, dim: C, heads: Hq, kvHeads: Hkv, headDim: D, ffn: F } = cfg;
  const p: Params = new Map();
  let s = seed;
  const add = (name: string, shape: number[], around = 0) =>
    p.set(name, { shape, data: randn(shape.reduce((a, b) => a * b, 1), s++, scale).map((x) => x + around) });
  add('model.embed_tokens.weight', [V, C]);
  cfg.windows.forEach((_, l) => {
    const pre = `model.layers.${l}.`;
    add(pre + 'input_layernorm.weight', [C], 1);
    add(pre + 'self_attn.q_proj.weight', [Hq * D, C]);
    add(pre + 'self_attn.q_proj.bias', [Hq * D]);
    add(pre + 'self_attn.k_proj.weight', [Hkv * D, C]);
    add(pre + 'self_attn.k_proj.bias', [Hkv * D]);
    add(pre + 'self_attn.v_proj.weight', [Hkv * D, C]);
    add(pre + 'self_attn.v_proj.bias', [Hkv * D]);
    add(pre + 'self_attn.o_proj.weight', [C, Hq * D]);
    add(pre + 'post_attention_layernorm.weight', [C], 1);
    add(pre + 'mlp.gate_proj.weight', [F, C]);
    add(pre + 'mlp.up_proj.weight', [F, C]);
    add(pre + 'mlp.down_proj.weight', [C, F]);
  });
  add('model.norm.weight', [C], 1);
  add('lm_head.weight', [V, C]);
  return p;
}

export function sampleBatch(cfg: BlockConfig, seed: number): { ids: Int32Array; targets: Int32Array } {
  const n = cfg.batch * cfg.seq;
  const ids = randint(n, cfg.vocab, seed);
  const targets = randint(n, cfg.vocab, seed + 1);
  targets[1] = -100; // one ignored position (loss mask)
  return { ids, targets };
}

export interface RunResult {
  loss: number;
  grads?: Map<string, Float32Array>;
}

/**
 * Mean cross-entropy of the model over the batch and, with `grads`, the gradient of every
 * parameter. `dt` is the compute dtype (bf16 on CUDA uses fp32 master copies cast to bf16).
 */
export function runModel(k: Backend, arena: Arena, cfg: BlockConfig, params: Params, batch: { ids: Int32Array; targets: Int32Array }, grads: boolean, dt: DType = 'f32'): RunResult {
  arena.reset();
  const { batch: B, seq: T, dim: C, heads: Hq, kvHeads: Hkv, headDim: D, ffn: F, eps } = cfg;
  const N = B * T;
  const act = (shape: number[], dtype: DType = dt) => arena.tensor(shape, dtype);
  const P = new Map<string, Tensor>();
  for (const [name, { shape, data }] of params) {
    const master = arena.tensor(shape, 'f32');
    k.upload(master, data);
    if (dt === 'f32') P.set(name, master);
    else {
      const w = act(shape);
      k.cast(w, master);
      P.set(name, w);
    }
  }
  const p = (name: string) => P.get(name)!;
  const ids = arena.tensor([N], 'i32'), targets = arena.tensor([N], 'i32'), pos = arena.tensor([T], 'i32');
  k.upload(ids, batch.ids);
  k.upload(targets, batch.targets);
  k.upload(pos, Int32Array.from({ length: T }, (_, i) => i));
  const ropeQ = { base: cfg.ropeBase, lognLength: cfg.lognLength }, ropeK = { base: cfg.ropeBase };

  let x = act([N, C]);
  k.embedding(x, ids, p('model.embed_tokens.weight'));
  const saved = cfg.windows.map((window, l) => {
    const w = (s: string) => p(`model.layers.${l}.${s}`);
    const xin = x;
    const h1 = act([N, C]), r1 = act([N], 'f32');
    k.rmsnorm(h1, r1, xin, w('input_layernorm.weight'), eps);
    const q = act([B, T, Hq, D]), kk = act([B, T, Hkv, D]), v = act([B, T, Hkv, D]);
    k.linear(q, h1, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'));
    k.linear(kk, h1, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'));
    k.linear(v, h1, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'));
    k.rope(q, q, pos, ropeQ);
    k.rope(kk, kk, pos, ropeK);
    const att = act([B, T, Hq, D]), lse = act([B, Hq, T], 'f32');
    k.attention(att, lse, q, kk, v, { window });
    const o = act([N, C]), x2 = act([N, C]);
    k.linear(o, att, w('self_attn.o_proj.weight'));
    k.add(x2, xin, o);
    const h2 = act([N, C]), r2 = act([N], 'f32');
    k.rmsnorm(h2, r2, x2, w('post_attention_layernorm.weight'), eps);
    const g = act([N, F]), u = act([N, F]), a = act([N, F]), d = act([N, C]);
    k.linear(g, h2, w('mlp.gate_proj.weight'));
    k.linear(u, h2, w('mlp.up_proj.weight'));
    k.swiglu(a, g, u);
    k.linear(d, a, w('mlp.down_proj.weight'));
    x = act([N, C]);
    k.add(x, x2, d);
    return { window, xin, h1, r1, q, kk, v, att, lse, x2, h2, r2, g, u, a };
  });
  const hf = act([N, C]), rf = act([N], 'f32');
  k.rmsnorm(hf, rf, x, p('model.norm.weight'), eps);
  const counted = batch.targets.filter((t) => t >= 0).length;
  const losses = arena.tensor([N], 'f32'), ws = arena.tensor([lmHeadWorkspace(N, C, cfg.chunk, cfg.vocab)], 'f32');
  const G = new Map<string, Tensor>();
  if (grads) for (const [name, { shape }] of params) G.set(name, arena.tensor(shape, 'f32'));
  for (const t of G.values()) k.zero(t);
  const dhf = grads ? act([N, C]) : null;
  k.lmHeadCE(losses, dhf, grads ? G.get('lm_head.weight')! : null, hf, p('lm_head.weight'), targets, { chunk: cfg.chunk, workspace: ws, gradScale: 1 / counted });
  const loss = (k.download(losses) as Float32Array).reduce((s, v) => s + v, 0) / counted;
  if (!grads || !dhf) return { loss };

  const g = (name: string) => G.get(name)!;
  let dx = act([N, C]);
  k.rmsnormBackward(dx, g('model.norm.weight'), dhf, x, p('model.norm.weight'), rf);
  for (let l = cfg.windows.length - 1; l >= 0; l--) {
    const s = saved[l];
    const w = (n: string) => p(`model.layers.${l}.${n}`), gw = (n: string) => g(`model.layers.${l}.${n}`);
    const tmp = act([N, C]);
    // MLP: x = x2 + down(swiglu(gate(h2), up(h2)))
    const da = act([N, F]), dg = act([N, F]), du = act([N, F]), dh2 = act([N, C]);
    k.linearBackward(da, gw('mlp.down_proj.weight'), null, dx, s.a, w('mlp.down_proj.weight'));
    k.swigluBackward(dg, du, da, s.g, s.u);
    k.linearBackward(dh2, gw('mlp.gate_proj.weight'), null, dg, s.h2, w('mlp.gate_proj.weight'));
    k.linearBackward(tmp, gw('mlp.up_proj.weight'), null, du, s.h2, w('mlp.up_proj.weight'));
    k.axpy(dh2, 1, tmp);
    const dx2 = act([N, C]);
    k.rmsnormBackward(dx2, gw('post_attention_layernorm.weight'), dh2, s.x2, w('post_attention_layernorm.weight'), s.r2);
    k.axpy(dx2, 1, dx);
    // attention: x2 = xin + o_proj(attn(rope(q), rope(k), v))
    const datt = act([B, T, Hq, D]);
    k.linearBackward(datt, gw('self_attn.o_proj.weight'), null, dx2, s.att, w('self_attn.o_proj.weight'));
    const dq = act([B, T, Hq, D]), dk = act([B, T, Hkv, D]), dv = act([B, T, Hkv, D]);
    k.attentionBackward(dq, dk, dv, datt, s.att, s.lse, s.q, s.kk, s.v, act([B * Hq * T], 'f32'), { window: s.window });
    k.rope(dq, dq, pos, { ...ropeQ, inverse: true });
    k.rope(dk, dk, pos, { ...ropeK, inverse: true });
    const dh1 = act([N, C]);
    k.linearBackward(dh1, gw('self_attn.q_proj.weight'), gw('self_attn.q_proj.bias'), dq, s.h1, w('self_attn.q_proj.weight'));
    k.linearBackward(tmp, gw('self_attn.k_proj.weight'), gw('self_attn.k_proj.bias'), dk, s.h1, w('self_attn.k_proj.weight'));
    k.axpy(dh1, 1, tmp);
    k.linearBackward(tmp, gw('self_attn.v_proj.weight'), gw('self_attn.v_proj.bias'), dv, s.h1, w('self_attn.v_proj.weight'));
    k.axpy(dh1, 1, tmp);
    const dxin = act([N, C]);
    k.rmsnormBackward(dxin, gw('input_layernorm.weight'), dh1, s.xin, w('input_layernorm.weight'), s.r1);
    k.axpy(dxin, 1, dx2);
    dx = dxin;
  }
  k.embeddingBackward(g('model.embed_tokens.weight'), dx, ids);
  const out = new Map<string, Float32Array>();
  for (const [name, t] of G) out.set(name, k.download(t) as Float32Array);
  return { loss, grads: out };
}
