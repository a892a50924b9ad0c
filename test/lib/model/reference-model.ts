// The Qwen decoder computed directly on the host (float64, one sequence), with the long-context
// means as Qwen's code applies them, for checking the trunk: a base per token, LogN on queries,
// a window per layer.
import type { ModelConfig } from '../../../lib/model/config.js';
import { headDim } from '../../../lib/model/config.js';
import { layerPrefix } from '../../../lib/model/params.js';
import { attentionRef, linearRef, rmsnormRef, ropeRef, silu } from '../../kernels/reference.js';

export interface ReferenceOptions {
  /** each token's rotary base (default: the config's) */
  bases?: ArrayLike<number>;
  /** LogN beyond this length (0: off) */
  lognLength?: number;
  /** attention window per layer (0: all) */
  windows?: readonly number[];
}

/** Hidden states after the final norm, [T, C], of one sequence at positions 0…T−1. */
export function referenceHidden(c: ModelConfig, w: (name: string) => Float32Array, ids: ArrayLike<number>, o: ReferenceOptions = {}): Float64Array {
  const T = ids.length, C = c.hiddenSize, D = headDim(c), kv = c.kvHeads * D, F = c.intermediateSize;
  const pos = Array.from({ length: T }, (_, t) => t);
  const base = o.bases ?? new Array<number>(T).fill(c.ropeTheta);
  const table = w('model.embed_tokens.weight');
  let x: Float64Array = new Float64Array(T * C);
  for (let t = 0; t < T; t++) for (let i = 0; i < C; i++) x[t * C + i] = table[ids[t]! * C + i]!;
  for (let l = 0; l < c.layers; l++) {
    const p = (name: string) => w(layerPrefix(l) + name);
    const h1 = rmsnormRef(x, p('input_layernorm.weight'), T, C, c.rmsEps);
    const q = ropeRef(linearRef(h1, p('self_attn.q_proj.weight'), p('self_attn.q_proj.bias'), T, C, C), pos, 1, T, c.heads, D, base, o.lognLength ?? 0);
    const k = ropeRef(linearRef(h1, p('self_attn.k_proj.weight'), p('self_attn.k_proj.bias'), T, C, kv), pos, 1, T, c.kvHeads, D, base);
    const v = linearRef(h1, p('self_attn.v_proj.weight'), p('self_attn.v_proj.bias'), T, C, kv);
    const att = attentionRef(q, k, v, 1, T, c.heads, c.kvHeads, D, o.windows?.[l] ?? 0);
    const x2 = add(x, linearRef(att, p('self_attn.o_proj.weight'), null, T, C, C));
    const h2 = rmsnormRef(x2, p('post_attention_layernorm.weight'), T, C, c.rmsEps);
    const gate = linearRef(h2, p('mlp.gate_proj.weight'), null, T, C, F), up = linearRef(h2, p('mlp.up_proj.weight'), null, T, C, F);
    x = add(x2, linearRef(gate.map((g, i) => silu(g) * up[i]!), p('mlp.down_proj.weight'), null, T, F, C));
  }
  return rmsnormRef(x, w('model.norm.weight'), T, C, c.rmsEps);
}

function add(a: Float64Array, b: ArrayLike<number>): Float64Array {
  return a.map((v, i) => v + b[i]!);
}
