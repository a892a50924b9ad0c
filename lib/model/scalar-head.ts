// A scalar head with Hugging Face's Qwen2ForSequenceClassification layout: `score.weight` [1, C],
// no bias, read at chosen positions (a reward model's end token, a critic's every response token).
// The backward scatters dL/dvalue · w into dL/dh at those positions, zero elsewhere.
import type { Tensor } from '../../kernels/index.js';
import { pickRows } from './lm-head.js';
import type { GradSink, Hidden, Trunk } from './trunk.js';

const HEAD = 'score.weight';

export interface ScalarPass {
  /** One value per position in `at`. */
  values: Float32Array;
  at: Int32Array;
  /** [R, C] hidden rows the values came from (for the backward). */
  picked: Tensor;
}

/** values[i] = h[at[i]] · w, for flat positions `at` (row · seqLen + t). */
export function scalarValues(trunk: Trunk, hidden: Hidden, at: Int32Array): ScalarPass {
  const picked = pickRows(trunk, hidden, at);
  const out = trunk.tensor([at.length, 1]);
  trunk.k.linear(out, picked, trunk.weights.w(HEAD));
  return { values: trunk.k.toFloat32(out), at, picked };
}

/** Given dL/dvalue per position, adds dL/dw (unless frozen) and returns dL/dh [N, C] for the trunk. */
export function scalarBackward(trunk: Trunk, hidden: Hidden, pass: ScalarPass, dvalues: Float32Array, grads: GradSink): Tensor {
  const { k } = trunk;
  const N = hidden.rows * hidden.seqLen, C = trunk.config.hiddenSize, R = pass.at.length;
  if (dvalues.length !== R) throw new Error(`model: ${dvalues.length} value gradients for ${R} positions`);
  const dy32 = trunk.tensor([R, 1], 'f32');
  k.upload(dy32, dvalues);
  const dy = trunk.dtype === 'f32' ? dy32 : castTo(trunk, dy32);
  const dpicked = trunk.tensor([R, C]);
  k.linearBackward(dpicked, grads(HEAD), null, dy, pass.picked, trunk.weights.w(HEAD));
  // Scatter-add into fp32 rows (the embedding backward, with the batch's positions as the table).
  const dh32 = trunk.tensor([N, C], 'f32');
  k.zero(dh32);
  const idx = trunk.tensor([R], 'i32');
  k.upload(idx, pass.at);
  k.embeddingBackward(dh32, dpicked, idx);
  return trunk.dtype === 'f32' ? dh32 : castTo(trunk, dh32);
}

function castTo(trunk: Trunk, src: Tensor): Tensor {
  const out = trunk.tensor(src.shape);
  trunk.k.cast(out, src);
  return out;
}
