// The host-side arithmetic of PPO, as the Qwen report's recipe uses it: per-token rewards (the
// reward model's score at the end, minus a KL penalty against the reference at every token),
// GAE advantages, whitening, the clipped policy and value objectives with the gradient each token
// sends back, the running reward statistics and the KL controller. Pure functions over arrays, so
// they are checked against a direct computation in the tests; the model passes live in ppo.ts.

/**
 * Per-token rewards of one response: −coef · (log π_old − log π_ref) at every token, plus the
 * (normalized) score on the last token.
 */
export function tokenRewards(score: number, logprobs: ArrayLike<number>, refLogprobs: ArrayLike<number>, klCoef: number): Float64Array {
  const n = logprobs.length;
  const rewards = new Float64Array(n);
  for (let t = 0; t < n; t++) rewards[t] = -klCoef * (logprobs[t]! - refLogprobs[t]!);
  if (n > 0) rewards[n - 1]! += score;
  return rewards;
}

/**
 * Generalized advantage estimation over one response (the value after its last token is 0):
 * δ_t = r_t + γ V_{t+1} − V_t, A_t = δ_t + γλ A_{t+1}; returns R_t = A_t + V_t, the critic's targets.
 */
export function gae(rewards: ArrayLike<number>, values: ArrayLike<number>, gamma: number, lambda: number): { advantages: Float64Array; returns: Float64Array } {
  const n = rewards.length;
  const advantages = new Float64Array(n), returns = new Float64Array(n);
  let next = 0, nextValue = 0;
  for (let t = n - 1; t >= 0; t--) {
    const delta = rewards[t]! + gamma * nextValue - values[t]!;
    next = delta + gamma * lambda * next;
    advantages[t] = next;
    returns[t] = next + values[t]!;
    nextValue = values[t]!;
  }
  return { advantages, returns };
}

/** Shifts and scales every value of every sequence together to mean 0, standard deviation 1 (in place). */
export function whiten(sequences: Float64Array[]): void {
  let n = 0, sum = 0;
  for (const s of sequences) for (const v of s) (n++, (sum += v));
  if (n === 0) return;
  const mean = sum / n;
  let sq = 0;
  for (const s of sequences) for (const v of s) sq += (v - mean) ** 2;
  // unbiased, as PyTorch's var(); a single value stays centred
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  for (const s of sequences) for (let i = 0; i < s.length; i++) s[i] = (s[i]! - mean) / (std + 1e-8);
}

export interface TokenObjective {
  /** The token's loss. */
  loss: number;
  /** dLoss / d(the model's output at this token): log p for the policy, the value for the critic. */
  grad: number;
  /** The clipped branch was the one taken. */
  clipped: boolean;
}

/**
 * PPO's clipped surrogate at one token: max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)) with ρ = exp(log p − log p_old).
 * The gradient with respect to log p is −A·ρ where the unclipped branch is taken, and 0 where the
 * clipped one is (it does not depend on the weights).
 */
export function policyTerm(logprob: number, oldLogprob: number, advantage: number, clip: number): TokenObjective {
  const ratio = Math.exp(logprob - oldLogprob);
  const unclipped = -advantage * ratio;
  const clippedLoss = -advantage * Math.min(Math.max(ratio, 1 - clip), 1 + clip);
  const clipped = clippedLoss > unclipped;
  return { loss: clipped ? clippedLoss : unclipped, grad: clipped ? 0 : -advantage * ratio, clipped };
}

/**
 * The critic's clipped value loss at one token: ½·max((V − R)², (V_clip − R)²), with
 * V_clip = V_old + clip(V − V_old, −ε, ε) (PPO2's value clipping, at ε = 0.15 in the report).
 */
export function valueTerm(value: number, oldValue: number, target: number, clip: number): TokenObjective {
  const delta = value - oldValue;
  const inside = Math.abs(delta) <= clip;
  const clippedValue = oldValue + Math.min(Math.max(delta, -clip), clip);
  const a = (value - target) ** 2, b = (clippedValue - target) ** 2;
  const clipped = b > a;
  // through V_clip the gradient is 1 inside the clip range and 0 outside
  return { loss: 0.5 * Math.max(a, b), grad: clipped ? (inside ? clippedValue - target : 0) : value - target, clipped };
}

/** Mean and variance of everything seen so far (Chan et al.'s parallel merge), as JSON for checkpoints. */
export interface RunningMoments {
  count: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
}

export const NO_MOMENTS: RunningMoments = { count: 0, mean: 0, m2: 0 };

export function mergeMoments(m: RunningMoments, values: ArrayLike<number>): RunningMoments {
  const n = values.length;
  if (n === 0) return m;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let m2 = 0;
  for (let i = 0; i < n; i++) m2 += (values[i]! - mean) ** 2;
  const count = m.count + n;
  const delta = mean - m.mean;
  return { count, mean: m.mean + (delta * n) / count, m2: m.m2 + m2 + (delta * delta * m.count * n) / count };
}

export function momentsStd(m: RunningMoments): number {
  return m.count > 1 ? Math.sqrt(m.m2 / (m.count - 1)) : 1;
}

/**
 * The KL coefficient: fixed, or adaptive as Ziegler et al. (2019) proposed: moved by at most
 * ±20% of the gap to a target KL, in proportion to the samples seen over a horizon.
 */
export interface KlControl {
  coef: number;
  /** Adaptive when set: the KL per response aimed at, and the horizon in responses. */
  target?: number;
  horizon?: number;
}

export function updateKl(c: KlControl, meanKl: number, responses: number): KlControl {
  if (c.target === undefined || c.horizon === undefined) return c;
  const error = Math.min(Math.max(meanKl / c.target - 1, -0.2), 0.2);
  return { ...c, coef: c.coef * (1 + (error * responses) / c.horizon) };
}
