// The KV cache inference writes and reads: every layer's keys in one allocation and its values in
// another, so that the one-kernel decode step (decode-step.ts) finds any layer's from one address.
import { decodeStepWorkspace, type Backend, type DType, type Tensor } from '../../kernels/index.js';
import { headDim, type ModelConfig } from './config.js';

/** Keys and values of every layer, for inference: [slots, positions, kvHeads, headDim] each. */
export interface KvCache {
  k: Tensor[];
  v: Tensor[];
  /** The same keys and values, every layer back to back: [layers, slots, positions, kvHeads, headDim]. */
  kAll: Tensor;
  vAll: Tensor;
  /**
   * The one-kernel decode step's state (zeroed here; each step leaves it ready for the next); null
   * where there is no such kernel (it is CUDA and bf16 only).
   */
  stepWorkspace: Tensor | null;
  /** Bytes of keys and values. */
  bytes: number;
}

export function allocKvCache(k: Backend, c: ModelConfig, slots: number, positions: number, dtype: DType): KvCache {
  const D = headDim(c);
  const shape = [c.layers, slots, positions, c.kvHeads, D];
  const kAll = k.alloc(shape, dtype), vAll = k.alloc(shape, dtype);
  const layer = (all: Tensor, l: number) => all.rows(l, l + 1).view(shape.slice(1));
  const stepWorkspace = k.kind === 'cuda' && dtype === 'bf16' ? k.alloc([Math.ceil(decodeStepWorkspace(c.hiddenSize, c.heads, D, c.intermediateSize, positions) / 4)], 'i32') : null;
  return {
    k: Array.from({ length: c.layers }, (_, l) => layer(kAll, l)),
    v: Array.from({ length: c.layers }, (_, l) => layer(vAll, l)),
    kAll,
    vAll,
    stepWorkspace,
    bytes: kAll.bytes + vAll.bytes,
  };
}

export function freeKvCache(k: Backend, cache: KvCache): void {
  for (const t of [cache.kAll, cache.vAll, cache.stepWorkspace]) if (t) k.free(t);
}
