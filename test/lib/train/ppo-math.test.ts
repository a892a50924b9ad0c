// PPO's host arithmetic against direct computations: GAE as the discounted sum of TD errors,
// whitening, the clipped surrogate's and the clipped value loss's gradients (against central
// differences, and zero where the clip holds), the running moments against a two-pass mean and
// variance, and the adaptive KL controller's bounded moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gae, mergeMoments, momentsStd, NO_MOMENTS, policyTerm, tokenRewards, updateKl, valueTerm, whiten } from '../../../lib/train/ppo-math.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('token rewards: −coef·(log π − log π_ref) per token, the score added on the last', () => {
  const r = tokenRewards(2, [-1, -2, -0.5], [-1.5, -2, -0.25], 0.1);
  close(r[0]!, -0.05);
  close(r[1]!, 0);
  close(r[2]!, 0.025 + 2);
  assert.equal(tokenRewards(1, [], [], 0.1).length, 0);
});

test('GAE: each advantage is the (γλ)-discounted sum of the TD errors after it; returns = A + V', () => {
  const rewards = [0.1, -0.2, 0.3, 1.5], values = [0.5, 0.2, -0.1, 0.4];
  for (const [gamma, lambda] of [[1, 0.95], [0.9, 0.5], [1, 1], [0.99, 0]]) {
    const { advantages, returns } = gae(rewards, values, gamma!, lambda!);
    const delta = rewards.map((r, t) => r + gamma! * (values[t + 1] ?? 0) - values[t]!);
    for (let t = 0; t < rewards.length; t++) {
      let a = 0;
      for (let u = t; u < rewards.length; u++) a += (gamma! * lambda!) ** (u - t) * delta[u]!;
      close(advantages[t]!, a);
      close(returns[t]!, a + values[t]!);
    }
  }
  // γ = λ = 1: the advantage is the return to go minus the value
  const { advantages } = gae([0, 0, 1], [0.2, 0.3, 0.4], 1, 1);
  assert.deepEqual(Array.from(advantages, (x) => Number(x.toFixed(12))), [0.8, 0.7, 0.6]);
});

test('whiten: all sequences together to mean 0 and unbiased std 1', () => {
  const seqs = [Float64Array.of(1, 2, 3), Float64Array.of(10), Float64Array.of(-4, 0)];
  whiten(seqs);
  const all = seqs.flatMap((s) => [...s]);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1);
  close(mean, 0, 1e-12);
  close(variance, 1, 1e-6);
});

test('policy term: the gradient in log p matches central differences, and is 0 exactly where the clip holds', () => {
  const h = 1e-6;
  for (const [logprob, old, advantage] of [[-1, -1, 0.7], [-1.1, -1, -0.3], [-0.9, -1, 1.2], [-0.5, -1, 2], [-1.5, -1, -1], [-0.5, -1, -1], [-1.5, -1, 1]]) {
    const t = policyTerm(logprob!, old!, advantage!, 0.2);
    const ratio = Math.exp(logprob! - old!);
    close(t.loss, Math.max(-advantage! * ratio, -advantage! * Math.min(Math.max(ratio, 0.8), 1.2)), 1e-12);
    const fd = (policyTerm(logprob! + h, old!, advantage!, 0.2).loss - policyTerm(logprob! - h, old!, advantage!, 0.2).loss) / (2 * h);
    close(t.grad, fd, 1e-6);
    // clipped exactly when the ratio has left the range in the direction the advantage rewards
    assert.equal(t.clipped, (advantage! > 0 && ratio > 1.2) || (advantage! < 0 && ratio < 0.8), `ratio ${ratio}, A ${advantage}`);
    if (t.clipped) assert.equal(t.grad, 0);
  }
});

test('value term: ½·max of the two squared errors; the gradient matches central differences', () => {
  const h = 1e-6;
  for (const [value, old, target] of [[0.5, 0.45, 1], [0.9, 0.5, 1], [0.9, 0.5, 0], [0.1, 0.5, 1], [0.1, 0.5, -1], [0.5, 0.5, 0.5]]) {
    const t = valueTerm(value!, old!, target!, 0.15);
    const clippedValue = old! + Math.min(Math.max(value! - old!, -0.15), 0.15);
    close(t.loss, 0.5 * Math.max((value! - target!) ** 2, (clippedValue - target!) ** 2), 1e-12);
    const fd = (valueTerm(value! + h, old!, target!, 0.15).loss - valueTerm(value! - h, old!, target!, 0.15).loss) / (2 * h);
    close(t.grad, fd, 1e-6);
  }
  assert.equal(valueTerm(0.1, 0.5, -1, 0.15).clipped, true, 'moved past the clip toward the target: the clipped error is larger');
});

test('running moments: batches merged equal a two-pass mean and variance of everything', () => {
  const batches = [[1, 2, 3, 4], [10, -2], [0.5], [7, 7, 8]];
  let m = NO_MOMENTS;
  for (const b of batches) m = mergeMoments(m, b);
  const all = batches.flat();
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  close(m.mean, mean, 1e-12);
  close(momentsStd(m), Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1)), 1e-12);
  assert.equal(m.count, all.length);
  assert.equal(mergeMoments(m, []), m);
});

test('KL control: fixed stays; adaptive moves toward the target by at most 20% per horizon', () => {
  assert.deepEqual(updateKl({ coef: 0.04 }, 5, 64), { coef: 0.04 });
  const c = { coef: 0.1, target: 1, horizon: 100 };
  close(updateKl(c, 10, 100).coef, 0.12);
  close(updateKl(c, 0, 50).coef, 0.09);
  close(updateKl(c, 1.1, 100).coef, 0.11);
});
