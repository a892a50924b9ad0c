// One micro-batch of PPO's updates: the policy's clipped surrogate through the LM head's
// per-token weights, and the critic's clipped value loss through the scalar head. Each adds its
// gradients (scaled by `gradScale`, 1 / the response tokens of the whole update) into the model's
// sink; the optimizer step is the caller's.
import { crossEntropy, tokenLogprobs } from '../model/lm-head.js';
import { scalarBackward, scalarValues } from '../model/scalar-head.js';
import type { GradSink, Trunk } from '../model/trunk.js';
import { forwardRows, responseRows, type Rollout } from './ppo-experience.js';
import { policyTerm, valueTerm } from './ppo-math.js';

/** What a pass over a micro-batch measured, summed over its response tokens. */
export interface PassSums {
  loss: number;
  clipped: number;
  tokens: number;
  /** |log p − log p_old| summed: 0 on the first pass over fresh experience. */
  drift: number;
}

export interface UpdateBatch {
  rollouts: readonly Rollout[];
  /** Per rollout, per response token. */
  oldLogprobs: readonly Float32Array[];
  oldValues: readonly Float32Array[];
  advantages: readonly Float64Array[];
  returns: readonly Float64Array[];
}

/**
 * The policy's pass: a forward, the current log-probabilities (a forward-only pass of the head),
 * then the head again with each token's weight −dL/dlog p, whose backward is dL/dθ.
 */
export function policyPass(trunk: Trunk, grads: GradSink, b: UpdateBatch, o: { clip: number; padId: number; gradScale: number }): PassSums {
  const rows = responseRows(b.rollouts, o.padId);
  const hidden = forwardRows(trunk, rows);
  const logprobs = tokenLogprobs(trunk, hidden, rows.targets);
  const weights = new Float32Array(rows.targets.length);
  const sums: PassSums = { loss: 0, clipped: 0, tokens: 0, drift: 0 };
  b.rollouts.forEach((_, r) => {
    const old = b.oldLogprobs[r]!, adv = b.advantages[r]!;
    for (let j = 0; j < old.length; j++) {
      const i = rows.at[rows.starts[r]! + j]!;
      const logprob = logprobs[i]!;
      const term = policyTerm(logprob, old[j]!, adv[j]!, o.clip);
      weights[i] = -term.grad;
      sums.loss += term.loss;
      sums.clipped += term.clipped ? 1 : 0;
      sums.drift += Math.abs(logprob - old[j]!);
      sums.tokens += 1;
    }
  });
  const { dh } = crossEntropy(trunk, hidden, rows.targets, { grads, gradScale: o.gradScale, weights });
  trunk.backward(hidden, dh!, grads);
  return sums;
}

/** The critic's pass: values before each response token, the clipped value loss, its backward. */
export function criticPass(trunk: Trunk, grads: GradSink, b: UpdateBatch, o: { clip: number; padId: number; gradScale: number }): PassSums {
  const rows = responseRows(b.rollouts, o.padId);
  const hidden = forwardRows(trunk, rows);
  const pass = scalarValues(trunk, hidden, rows.at);
  const dvalues = new Float32Array(rows.at.length);
  const sums: PassSums = { loss: 0, clipped: 0, tokens: 0, drift: 0 };
  b.rollouts.forEach((_, r) => {
    const old = b.oldValues[r]!, ret = b.returns[r]!;
    for (let j = 0; j < old.length; j++) {
      const i = rows.starts[r]! + j;
      const term = valueTerm(pass.values[i]!, old[j]!, ret[j]!, o.clip);
      dvalues[i] = term.grad * o.gradScale;
      sums.loss += term.loss;
      sums.clipped += term.clipped ? 1 : 0;
      sums.drift += Math.abs(pass.values[i]! - old[j]!);
      sums.tokens += 1;
    }
  });
  trunk.backward(hidden, scalarBackward(trunk, hidden, pass, dvalues, grads), grads);
  return sums;
}

export function addSums(a: PassSums, b: PassSums): PassSums {
  return { loss: a.loss + b.loss, clipped: a.clipped + b.clipped, tokens: a.tokens + b.tokens, drift: a.drift + b.drift };
}

export const NO_SUMS: PassSums = { loss: 0, clipped: 0, tokens: 0, drift: 0 };
