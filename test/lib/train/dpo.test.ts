// The DPO objective against an independent float64 computation from the full logits: the loss,
// the LM head's gradient (analytic softmax) and the trunk's (finite differences of that float64
// loss); log 2 when the policy is the reference; a few AdamW steps order easy pairs right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend } from '../../../kernels/index.js';
import type { EncodedPair } from '../../../lib/chat/preference.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { allLogits } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { dpoObjective, dpoPair, referenceLogprobs, responseTargets, type ScoredPair } from '../../../lib/train/dpo.js';
import { ADAMW_DEFAULTS, Optimizer } from '../../../lib/train/optimizer.js';
import { pairRows } from '../../../lib/train/reward.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';
import { checkAgainstFiniteDifferences } from '../model/finite-differences.js';

const k = openBackend('cpu');
const config: ModelConfig = { vocabSize: 23, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 16, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.3 };
const PAD = 22, BETA = 0.5;

/** Fixed pairs: a shared prompt, responses of different lengths (so rows are padded). */
function pairs(): EncodedPair[] {
  const r = createRandom(5);
  const seq = (n: number) => Array.from({ length: n }, () => r.int(22));
  const p1 = seq(4), p2 = seq(2);
  return [
    { chosen: Int32Array.from([...p1, ...seq(3)]), rejected: Int32Array.from([...p1, ...seq(5)]), promptLen: 4 },
    { chosen: Int32Array.from([...p2, ...seq(6)]), rejected: Int32Array.from([...p2, ...seq(2)]), promptLen: 2 },
  ];
}

function model(seed: number, capacity = 4 * 9) {
  const weights = new Weights(k, parameterSpecs(config, 'lm'), 'f32');
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, seed));
  return { weights, params, trunk: new Trunk(k, config, weights, capacity) };
}

/** Per row: Σ log p(target) in float64 from the full logits, the softmax rows, the hidden rows, and the targets. */
function float64Pass(trunk: Trunk, ps: EncodedPair[]) {
  const rows = pairRows(ps, 'last', PAD);
  const targets = responseTargets(ps, rows.seqLen);
  const hidden = trunk.forward(rows);
  const logits = allLogits(trunk, hidden);
  const h = k.toFloat32(hidden.h);
  const V = config.vocabSize;
  const sums = new Array<number>(rows.rows).fill(0);
  const probs: Float64Array[] = [];
  for (let n = 0; n < targets.length; n++) {
    const row = Array.from(logits.subarray(n * V, (n + 1) * V), Number);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    probs.push(Float64Array.from(row, (x) => Math.exp(x - lse)));
    if (targets[n]! >= 0) sums[Math.floor(n / rows.seqLen)]! += row[targets[n]!]! - lse;
  }
  return { sums, probs, h, targets, seqLen: rows.seqLen };
}

/** Mean DPO loss over the pairs and dL/dlog π per row, in float64 (written out, not through dpoPair). */
function float64Loss(sums: number[], scored: ScoredPair[]) {
  const drow: number[] = [];
  let loss = 0;
  scored.forEach((p, i) => {
    const z = BETA * (sums[2 * i]! - p.refChosen - (sums[2 * i + 1]! - p.refRejected));
    loss += Math.log1p(Math.exp(-z)) / scored.length;
    const dz = -1 / (1 + Math.exp(z)) / scored.length;
    drow.push(BETA * dz, -BETA * dz);
  });
  return { loss, drow };
}

function runObjective(trunk: Trunk, params: Trainable, scored: ScoredPair[], grads: boolean): number {
  const objective = dpoObjective(trunk, { beta: BETA, dropout: 0, padId: PAD });
  const lossSum = k.alloc([1]);
  try {
    if (grads) params.zeroGrads();
    objective.run({ pairs: scored }, { grads: grads ? params.grad : null, gradScale: 1 / scored.length, dropoutSeed: 0, lossSum });
    return (k.download(lossSum) as Float32Array)[0]! / scored.length;
  } finally {
    k.free(lossSum);
  }
}

test('dpoPair: −log σ(β·Δ) with its gradient per log-probability; log 2 and ∓β/2 when the policy is the reference', () => {
  const at0 = dpoPair({ chosen: -3, rejected: -5 }, { chosen: -3, rejected: -5 }, 0.1);
  assert.ok(Math.abs(at0.loss - Math.LN2) < 1e-15);
  assert.deepEqual([at0.dChosen, at0.dRejected], [-0.05, 0.05]);
  assert.equal(at0.correct, false, 'a tie is not ordered right');
  const f = (c: number) => dpoPair({ chosen: c, rejected: -5 }, { chosen: -3.5, rejected: -4 }, 0.1).loss;
  const d = dpoPair({ chosen: -3, rejected: -5 }, { chosen: -3.5, rejected: -4 }, 0.1);
  assert.ok(Math.abs((f(-3 + 1e-5) - f(-3 - 1e-5)) / 2e-5 - d.dChosen) < 1e-9);
  assert.ok(Math.abs(d.chosenReward - 0.05) < 1e-12 && Math.abs(d.rejectedReward + 0.1) < 1e-12 && d.correct);
});

test('response targets: each row predicts its response tokens only (from the prompt\'s last position), −1 elsewhere', () => {
  const p: EncodedPair = { chosen: Int32Array.of(1, 2, 3, 4), rejected: Int32Array.of(1, 2, 5), promptLen: 2 };
  assert.deepEqual([...responseTargets([p], 5)], [-1, 3, 4, -1, -1, -1, 5, -1, -1, -1]);
});

test('DPO objective: loss and LM-head gradient equal a float64 computation from the full logits within 1e-4; the trunk\'s match finite differences', () => {
  const policy = model(2);
  const ref = model(7);
  const scored = referenceLogprobs(ref.trunk, pairs(), 1, PAD);
  const refPass = float64Pass(ref.trunk, pairs());
  scored.forEach((p, i) => {
    assert.ok(Math.abs(p.refChosen - refPass.sums[2 * i]!) < 1e-4 && Math.abs(p.refRejected - refPass.sums[2 * i + 1]!) < 1e-4, `reference log-probs of pair ${i}`);
  });

  const loss = runObjective(policy.trunk, policy.params, scored, true);
  const pass = float64Pass(policy.trunk, pairs());
  const exact = float64Loss(pass.sums, scored);
  assert.ok(Math.abs(exact.loss - Math.LN2) > 0.05, `the reference differs from the policy (loss ${exact.loss})`);
  assert.ok(Math.abs(loss - exact.loss) < 1e-5, `loss ${loss} vs float64 ${exact.loss}`);

  // dL/dW[v] = Σ_n dL/dlogπ(row n) · (1[v = y_n] − p_n[v]) · h_n over the response positions n
  const V = config.vocabSize, C = config.hiddenSize;
  const want = new Float64Array(V * C);
  pass.targets.forEach((y, n) => {
    if (y < 0) return;
    const g = exact.drow[Math.floor(n / pass.seqLen)]!;
    for (let v = 0; v < V; v++) {
      const coef = g * ((v === y ? 1 : 0) - pass.probs[n]![v]!);
      for (let c = 0; c < C; c++) want[v * C + c]! += coef * pass.h[n * C + c]!;
    }
  });
  const got = k.download(policy.params.grad('lm_head.weight')!) as Float32Array;
  const worst = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i]!)), 0);
  const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(scale > 1e-3, `the head has a gradient (${scale})`);
  assert.ok(worst < 1e-4, `lm_head.weight gradient within ${worst} of the float64 one`);

  const float64Objective = () => float64Loss(float64Pass(policy.trunk, pairs()).sums, scored).loss;
  for (const name of ['model.norm.weight', 'model.layers.1.mlp.down_proj.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.embed_tokens.weight'])
    checkAgainstFiniteDifferences(policy.params, name, float64Objective, 'DPO objective', 2);
});

test('DPO objective: log 2 while the policy is its own reference, however the pairs are batched', () => {
  const policy = model(2);
  const scored = referenceLogprobs(policy.trunk, pairs(), 1, PAD);
  const loss = runObjective(policy.trunk, policy.params, scored, true);
  assert.ok(Math.abs(loss - Math.LN2) < 1e-6, `loss ${loss}`);
  const norm = new Optimizer(k, policy.params, { ...ADAMW_DEFAULTS, weightDecay: 0, clip: 0 }).gradNorm();
  assert.ok(norm > 1e-3, `the gradient at log 2 is not zero (${norm})`);
});

test('DPO: a few AdamW steps order easy pairs right (chosen ends in token 3, rejected in token 4)', () => {
  const policy = model(3, 8 * 5);
  const r = createRandom(9);
  const easy = (n: number): EncodedPair[] =>
    Array.from({ length: n }, () => {
      const prompt = Array.from({ length: 3 }, () => r.int(20));
      return { chosen: Int32Array.from([...prompt, 3, 3]), rejected: Int32Array.from([...prompt, 4, 4]), promptLen: 3 };
    });
  const train = referenceLogprobs(policy.trunk, easy(4), 4, PAD);
  const held = referenceLogprobs(policy.trunk, easy(4), 4, PAD);
  const objective = dpoObjective(policy.trunk, { beta: 0.1, dropout: 0, padId: PAD });
  const optimizer = new Optimizer(k, policy.params, { ...ADAMW_DEFAULTS, weightDecay: 0 });
  const lossSum = k.alloc([1]);
  const evaluate = () => {
    k.zero(lossSum);
    objective.run({ pairs: held }, { grads: null, gradScale: 1, dropoutSeed: 0, lossSum });
    return { loss: (k.download(lossSum) as Float32Array)[0]! / 4, ...objective.stats.take() };
  };
  const before = evaluate();
  for (let step = 1; step <= 8; step++) {
    policy.params.zeroGrads();
    k.zero(lossSum);
    objective.run({ pairs: train }, { grads: policy.params.grad, gradScale: 1 / 4, dropoutSeed: 0, lossSum });
    optimizer.gradNorm();
    optimizer.update(1e-2, step);
  }
  objective.stats.take();
  const after = evaluate();
  k.free(lossSum);
  assert.equal(before.accuracy, 0, 'at the start every pair is a tie');
  assert.ok(Math.abs(before.loss - Math.LN2) < 1e-6);
  assert.equal(after.accuracy, 1, `held-out pairs ordered right after 8 steps: ${JSON.stringify(after)}`);
  assert.ok(after.loss < 0.5 && after.margin > 0.5 && after.chosen > 0 && after.rejected < 0, JSON.stringify(after));
});
