// A batch-1 decode pass as one kernel (Backend.decodeStep: embedding, every layer and the final
// norm, with the bits of the op-by-op pass). Op by op, such a pass is about ten short kernels a
// layer, each waiting on the last; the trunk tries this first and runs the ops where the backend
// has no such kernel.
import type { Backend, Tensor } from '../../kernels/index.js';
import type { ModelConfig } from './config.js';
import type { KvCache } from './kv-cache.js';
import { layerPrefix } from './params.js';
import type { Weights } from './weights.js';

/** A layer's q/k/v and gate/up weights, each pair or triple as one matrix (Weights.joined). */
export interface JoinedLayer {
  qkvWeight: Tensor;
  qkvBias: Tensor;
  gateUp: Tensor;
}

/** Each layer's joined weights, or null for a layer whose parts are not adjacent. */
export function joinedLayers(weights: Weights, layers: number): (JoinedLayer | null)[] {
  return Array.from({ length: layers }, (_, l) => {
    const name = (suffix: string) => layerPrefix(l) + suffix;
    const qkvWeight = weights.joined(['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'].map(name));
    const qkvBias = weights.joined(['self_attn.q_proj.bias', 'self_attn.k_proj.bias', 'self_attn.v_proj.bias'].map(name));
    const gateUp = weights.joined(['mlp.gate_proj.weight', 'mlp.up_proj.weight'].map(name));
    return qkvWeight && qkvBias && gateUp ? { qkvWeight, qkvBias, gateUp } : null;
  });
}

export class DecodeStep {
  /** i32: each layer's weight addresses as 64-bit words, made on first use */
  private table: Tensor | null = null;

  constructor(
    private readonly k: Backend,
    private readonly config: ModelConfig,
    private readonly weights: Weights,
    private readonly joined: readonly (JoinedLayer | null)[],
  ) {}

  /**
   * h[1, C] = the final hidden state of the token ids[0] at position pos[0] of cache slot
   * slot[0], its keys and values appended to the cache; false, with nothing run, where there is
   * no one-kernel step for this model here.
   */
  run(h: Tensor, ids: Tensor, slot: Tensor, pos: Tensor, cache: KvCache): boolean {
    // the kernel is CUDA and bf16 only (the cache has its workspace then), and needs every layer's joined weights
    if (!cache.stepWorkspace || this.weights.dtype !== 'bf16' || this.joined.some((j) => !j)) return false;
    const c = this.config;
    return this.k.decodeStep({
      h,
      layers: (this.table ??= this.layerTable()),
      embed: this.weights.w('model.embed_tokens.weight'),
      finalNorm: this.weights.w('model.norm.weight'),
      ids,
      slot,
      pos,
      kcache: cache.kAll,
      vcache: cache.vAll,
      heads: c.heads,
      intermediate: c.intermediateSize,
      ropeBase: c.ropeTheta,
      eps: c.rmsEps,
      workspace: cache.stepWorkspace,
    });
  }

  private layerTable(): Tensor {
    const w = (l: number, name: string) => this.weights.w(layerPrefix(l) + name);
    const addresses = this.joined.flatMap((j, l) => {
      const { qkvWeight, qkvBias, gateUp } = j!;
      // in DECODE_STEP_LAYER_WEIGHTS' order
      return [w(l, 'input_layernorm.weight'), qkvWeight, qkvBias, w(l, 'self_attn.o_proj.weight'), w(l, 'post_attention_layernorm.weight'), gateUp, w(l, 'mlp.down_proj.weight')].map((t) => t.ptr);
    });
    // 64-bit little-endian words; addresses fit in 2^53
    const words = new Int32Array(2 * addresses.length);
    addresses.forEach((ptr, i) => {
      words[2 * i] = ptr % 2 ** 32 | 0;
      words[2 * i + 1] = Math.floor(ptr / 2 ** 32) | 0;
    });
    const table = this.k.alloc([words.length], 'i32');
    this.k.upload(table, words);
    return table;
  }
}
