// The LM head over the trunk's hidden states: the fused, chunked cross-entropy (the full logits
// never exist), with per-token weights, the targets' log-probabilities, and logits at chosen
// positions (decoding) or everywhere (small checks against other implementations).
import { lmHeadWorkspace, type Tensor } from '../../kernels/index.js';
import { LM_HEAD_CHUNK, type GradSink, type Hidden, type Trunk } from './trunk.js';

const HEAD = 'lm_head.weight';

export interface CrossEntropyOptions {
  /** With a sink: the backward too, dL/dh returned and dL/dW added (unless the head is frozen). */
  grads?: GradSink | null;
  /** Multiplies every token's gradient, e.g. 1 / the tokens counted across the step. */
  gradScale?: number;
  /** A factor per target (loss masks, advantages); targets < 0 are ignored whatever their weight. */
  weights?: Float32Array;
}

export interface CrossEntropy {
  /** fp32 [N]: each target's loss (−log p), unweighted; 0 where the target is ignored. */
  losses: Tensor;
  /** dL/dh for the trunk's backward (compute dtype), with grads. */
  dh: Tensor | null;
}

/** Cross-entropy of `targets` (int32 [N], < 0 ignored) under the head's next-token distribution. */
export function crossEntropy(trunk: Trunk, hidden: Hidden, targets: Int32Array, opts: CrossEntropyOptions = {}): CrossEntropy {
  const { k, config: c } = trunk;
  const N = hidden.rows * hidden.seqLen, C = c.hiddenSize;
  if (targets.length !== N) throw new Error(`model: ${targets.length} targets for ${hidden.rows}×${hidden.seqLen} positions`);
  const t = trunk.tensor([N], 'i32');
  k.upload(t, targets);
  let weights: Tensor | null = null;
  if (opts.weights) {
    if (opts.weights.length !== N) throw new Error(`model: ${opts.weights.length} loss weights for ${N} targets`);
    weights = trunk.tensor([N], 'f32');
    k.upload(weights, opts.weights);
  }
  const losses = trunk.tensor([N], 'f32');
  const chunk = Math.min(LM_HEAD_CHUNK, c.vocabSize);
  const workspace = trunk.tensor([lmHeadWorkspace(N, C, chunk, c.vocabSize)], 'f32');
  const dh = opts.grads ? trunk.tensor([N, C]) : null;
  const dw = opts.grads ? opts.grads(HEAD) : null;
  k.lmHeadCE(losses, dh, dw, hidden.h, trunk.weights.w(HEAD), t, { chunk, workspace, gradScale: opts.gradScale ?? 1, weights });
  return { losses, dh };
}

/** log p(target) at every position (0 where the target is < 0): what PPO and DPO compare. */
export function tokenLogprobs(trunk: Trunk, hidden: Hidden, targets: Int32Array): Float32Array {
  // The head's tensors are released once read: a weighted backward after it (DPO, PPO) reuses the room.
  const mark = trunk.arena.mark();
  const losses = trunk.k.download(crossEntropy(trunk, hidden, targets).losses) as Float32Array;
  trunk.arena.release(mark);
  return losses.map((l, i) => (targets[i]! < 0 ? 0 : -l));
}

/** fp32 logits [R, vocab] at flat positions `at` (row · seqLen + t), e.g. each row's last token. */
export function logitsAt(trunk: Trunk, hidden: Hidden, at: Int32Array): Float32Array {
  const picked = pickRows(trunk, hidden, at);
  return projectToVocabulary(trunk, picked);
}

/** fp32 logits [N, vocab] at every position (small checks only: N × vocab floats). */
export function allLogits(trunk: Trunk, hidden: Hidden): Float32Array {
  return projectToVocabulary(trunk, hidden.h);
}

function projectToVocabulary(trunk: Trunk, h: Tensor): Float32Array {
  const out = trunk.tensor([h.shape[0]!, trunk.config.vocabSize]);
  trunk.k.linear(out, h, trunk.weights.w(HEAD));
  return trunk.k.toFloat32(out);
}

/** Rows `at` of the hidden states as [R, C] (a gather through the embedding kernel). */
export function pickRows(trunk: Trunk, hidden: Hidden, at: Int32Array): Tensor {
  const N = hidden.rows * hidden.seqLen;
  for (const i of at) if (!(i >= 0 && i < N)) throw new Error(`model: position ${i} outside the ${N} positions of the batch`);
  const idx = trunk.tensor([at.length], 'i32');
  trunk.k.upload(idx, at);
  const out = trunk.tensor([at.length, trunk.config.hiddenSize]);
  trunk.k.embedding(out, idx, hidden.h);
  return out;
}
