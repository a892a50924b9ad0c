// The trunk's seams: the LM head's per-token weights, log-probabilities and logits, the scalar
// head (forward and backward against finite differences), shapes up to an arena's capacity with
// per-row position offsets, and frozen parameters that get neither a gradient nor an update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaAvailability, openBackend, type Tensor } from '../../../kernels/index.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { allLogits, crossEntropy, logitsAt, tokenLogprobs } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs, type HeadKind } from '../../../lib/model/params.js';
import { scalarBackward, scalarValues } from '../../../lib/model/scalar-head.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { Optimizer } from '../../../lib/train/optimizer.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';

const k = openBackend('cpu');
const small: ModelConfig = { vocabSize: 19, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 8, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.3 };
const B = 2, T = 5, N = B * T;

function setup(head: HeadKind = 'lm', frozen?: (name: string) => boolean) {
  const weights = new Weights(k, parameterSpecs(small, head), 'f32');
  const params = new Trainable(k, weights, frozen);
  params.assign(initialValues(small, weights.specs, 11));
  return { weights, params, trunk: new Trunk(k, small, weights, small.seqLen * 3) };
}

function tokens(n: number, seed: number): Int32Array {
  const r = createRandom(seed);
  return Int32Array.from({ length: n }, () => r.int(small.vocabSize));
}

const ids = tokens(N, 1);
const batch = { ids, rows: B, seqLen: T };
const host = (t: Tensor) => k.download(t) as Float32Array;

test('LM head: per-token weights scale each target\'s gradient; all-ones weights are bit-identical to none', () => {
  const { params, trunk } = setup();
  const targets = tokens(N, 2);
  targets[3] = -1;
  const weights = Float32Array.from({ length: N }, (_, i) => [1, 0, 2.5, 1, -0.5][i % 5]!);
  const weightedLoss = () => {
    const losses = host(crossEntropy(trunk, trunk.forward(batch), targets).losses);
    return losses.reduce((a, l, i) => a + weights[i]! * l, 0);
  };
  params.zeroGrads();
  let hidden = trunk.forward(batch);
  let ce = crossEntropy(trunk, hidden, targets, { grads: params.grad, weights });
  const weightedLosses = host(ce.losses);
  trunk.backward(hidden, ce.dh!, params.grad);
  for (const name of ['lm_head.weight', 'model.layers.1.mlp.up_proj.weight', 'model.embed_tokens.weight']) checkAgainstFiniteDifferences(params, name, weightedLoss, 'weighted CE');
  // losses stay unweighted: -losses are log-probabilities
  assert.deepEqual(weightedLosses, host(crossEntropy(trunk, trunk.forward(batch), targets).losses));

  const gradsWith = (w?: Float32Array) => {
    params.zeroGrads();
    hidden = trunk.forward(batch);
    ce = crossEntropy(trunk, hidden, targets, { grads: params.grad, gradScale: 0.25, weights: w });
    trunk.backward(hidden, ce.dh!, params.grad);
    return params.groups.map((g) => host(g.grad));
  };
  assert.deepEqual(gradsWith(new Float32Array(N).fill(1)), gradsWith(), 'weights of 1 change no bit');
  const masked = targets.slice();
  const zeroW = new Float32Array(N).fill(1);
  for (const i of [0, 4, 7]) (zeroW[i] = 0), (masked[i] = -1);
  const byWeight = gradsWith(zeroW);
  params.zeroGrads();
  hidden = trunk.forward(batch);
  ce = crossEntropy(trunk, hidden, masked, { grads: params.grad, gradScale: 0.25 });
  trunk.backward(hidden, ce.dh!, params.grad);
  assert.deepEqual(byWeight, params.groups.map((g) => host(g.grad)), 'a zero weight is an ignored target');
});

test('LM head: log-probabilities and logits at chosen positions agree with the full logits', () => {
  const { trunk } = setup();
  const targets = tokens(N, 3);
  targets[2] = -1;
  const hidden = trunk.forward(batch);
  const logprobs = tokenLogprobs(trunk, hidden, targets);
  const full = allLogits(trunk, hidden);
  const V = small.vocabSize;
  for (let n = 0; n < N; n++) {
    const row = full.subarray(n * V, (n + 1) * V);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    assert.ok(Math.abs(logprobs[n]! - (targets[n]! < 0 ? 0 : row[targets[n]!]! - lse)) < 1e-5, `position ${n}`);
  }
  const last = Int32Array.of(T - 1, 2 * T - 1);
  const picked = logitsAt(trunk, hidden, last);
  assert.deepEqual(picked, Float32Array.from([...full.subarray((T - 1) * V, T * V), ...full.subarray((2 * T - 1) * V, 2 * T * V)]));
});

test('scalar head: values are h·w at the chosen positions; its backward matches finite differences', () => {
  const { params, trunk, weights } = setup('score');
  assert.deepEqual(weights.w('score.weight').shape, [1, small.hiddenSize], 'Qwen2ForSequenceClassification layout');
  const at = Int32Array.of(T - 1, T + 2, 2 * T - 1);
  const coef = Float32Array.of(0.7, -1.3, 2.1);
  const hidden = trunk.forward(batch);
  const h = host(hidden.h), w = host(weights.w('score.weight'));
  const pass = scalarValues(trunk, hidden, at);
  at.forEach((n, i) => {
    const ref = w.reduce((a, wc, c) => a + wc * h[n * small.hiddenSize + c]!, 0);
    assert.ok(Math.abs(pass.values[i]! - ref) < 1e-5, `value ${i}: ${pass.values[i]} vs ${ref}`);
  });
  const objective = () => {
    const values = scalarValues(trunk, trunk.forward(batch), at).values;
    return values.reduce((a, v, i) => a + coef[i]! * v, 0);
  };
  params.zeroGrads();
  const fresh = trunk.forward(batch);
  const dh = scalarBackward(trunk, fresh, scalarValues(trunk, fresh, at), coef, params.grad);
  const rows = host(dh);
  for (let n = 0; n < N; n++) {
    const picked = [...at].indexOf(n);
    const row = rows.subarray(n * small.hiddenSize, (n + 1) * small.hiddenSize);
    if (picked < 0) assert.ok(row.every((x) => x === 0), `dh row ${n} is zero`);
    else assert.ok(row.every((x, c) => Math.abs(x - coef[picked]! * w[c]!) < 1e-6), `dh row ${n} = dvalue · w`);
  }
  trunk.backward(fresh, dh, params.grad);
  for (const name of ['score.weight', 'model.norm.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.embed_tokens.weight']) checkAgainstFiniteDifferences(params, name, objective, 'scalar head');
});

test('trunk: any rows × length up to its capacity; row offsets reach RoPE and leave relative attention unchanged', () => {
  const { trunk } = setup();
  assert.throws(() => trunk.forward({ ids: tokens(4 * 8, 1), rows: 4, seqLen: 8 }), /exceed the capacity of 24/);
  const one = trunk.forward({ ids: ids.subarray(0, T), rows: 1, seqLen: T });
  const first = host(one.h);
  const shifted = trunk.forward({ ids, rows: B, seqLen: T, offsets: Int32Array.of(7, 0) });
  assert.deepEqual([...(k.download(shifted.pass.positions) as Int32Array)], [7, 8, 9, 10, 11, 0, 1, 2, 3, 4]);
  const rows = host(shifted.h).subarray(0, T * small.hiddenSize);
  // RoPE is relative: a whole row shifted by 7 attends the same, up to rounding.
  rows.forEach((x, i) => assert.ok(Math.abs(x - first[i]!) < 1e-4, `element ${i}: ${x} vs ${first[i]}`));
  assert.notDeepEqual(rows, first, 'the offset did change the rotation');
});

test('frozen parameters get no gradient and no update; the rest train as if nothing were frozen', () => {
  const frozenNames = (name: string) => name === 'model.embed_tokens.weight' || name.endsWith('input_layernorm.weight') || name === 'model.layers.0.self_attn.q_proj.bias';
  const runs = [undefined, frozenNames].map((frozen) => {
    const { params, trunk } = setup('lm', frozen);
    const optimizer = new Optimizer(k, params);
    const before = new Map(params.specs.map((s) => [s.name, params.values(s.name)]));
    const targets = tokens(N, 4);
    const grads: Map<string, Float32Array>[] = [];
    for (let step = 1; step <= 3; step++) {
      params.zeroGrads();
      const hidden = trunk.forward(batch);
      const ce = crossEntropy(trunk, hidden, targets, { grads: params.grad, gradScale: 1 / N });
      trunk.backward(hidden, ce.dh!, params.grad);
      grads.push(new Map(params.specs.filter((s) => params.grad(s.name)).map((s) => [s.name, host(params.grad(s.name)!)])));
      optimizer.gradNorm();
      optimizer.update(1e-2, step);
    }
    return { params, before, grads };
  });
  const [all, part] = runs;
  assert.equal(part!.params.trainedCount, all!.params.trainedCount - small.vocabSize * small.hiddenSize - small.layers * small.hiddenSize - small.hiddenSize);
  for (const spec of part!.params.specs) {
    const after = part!.params.values(spec.name);
    if (frozenNames(spec.name)) {
      assert.equal(part!.params.grad(spec.name), null, `${spec.name} has no gradient`);
      assert.deepEqual(after, part!.before.get(spec.name), `${spec.name} is unchanged`);
    } else {
      assert.notDeepEqual(after, part!.before.get(spec.name), `${spec.name} trained`);
      // The first step's gradients of trained parameters do not depend on what else is frozen.
      assert.deepEqual(part!.grads[0]!.get(spec.name), all!.grads[0]!.get(spec.name), `${spec.name}: same gradient`);
    }
  }
});

test('packed rows: sequences packed into one row with restarting positions equal the sequences run apart, forward and backward', () => {
  const { params, trunk } = setup();
  const lengths = [3, 5];
  const T8 = 8;
  const packedIds = tokens(T8, 21), packedTargets = tokens(T8, 22);
  packedTargets[2] = -1; // the last token of the first sequence predicts nothing across the boundary
  const positions = Int32Array.of(0, 1, 2, 0, 1, 2, 3, 4);
  const run = (batch: { ids: Int32Array; rows: number; seqLen: number; segments?: number[][]; positions?: Int32Array }, targets: Int32Array) => {
    const hidden = trunk.forward(batch);
    const ce = crossEntropy(trunk, hidden, targets, { grads: params.grad, gradScale: 1 });
    const losses = host(ce.losses);
    const h = host(hidden.h);
    trunk.backward(hidden, ce.dh!, params.grad);
    return { losses, h };
  };
  params.zeroGrads();
  const packed = run({ ids: packedIds, rows: 1, seqLen: T8, segments: [lengths], positions }, packedTargets);
  const packedGrads = params.groups.map((g) => host(g.grad));
  params.zeroGrads();
  let at = 0;
  for (const len of lengths) {
    const apart = run({ ids: packedIds.slice(at, at + len), rows: 1, seqLen: len }, packedTargets.slice(at, at + len));
    apart.losses.forEach((l, i) => assert.ok(Math.abs(l - packed.losses[at + i]!) < 1e-5, `loss at ${at + i}: ${l} vs ${packed.losses[at + i]}`));
    apart.h.forEach((x, i) => assert.ok(Math.abs(x - packed.h[at * small.hiddenSize + i]!) < 1e-5, `hidden ${at * small.hiddenSize + i}`));
    at += len;
  }
  params.groups.forEach((g, gi) => host(g.grad).forEach((x, i) => assert.ok(Math.abs(x - packedGrads[gi]![i]!) < 1e-5, `group ${gi} gradient ${i}: ${x} vs ${packedGrads[gi]![i]}`)));
  // without the segments the second sequence would see the first
  const leaky = trunk.forward({ ids: packedIds, rows: 1, seqLen: T8, positions });
  assert.ok(host(leaky.h).some((x, i) => i >= 3 * small.hiddenSize && Math.abs(x - packed.h[i]!) > 1e-3), 'segments change the result');
  assert.throws(() => trunk.forward({ ids: packedIds, rows: 1, seqLen: T8, segments: [[3, 4]] }), /cover 7 of 8/);
});

test('on a GPU, a packed pass (fp32) gives the CPU\'s per-token losses', { skip: cudaAvailability().ok ? false : 'needs a GPU' }, () => {
  const cuda = openBackend('cuda');
  const T8 = 8;
  const ids = tokens(2 * T8, 31), targets = tokens(2 * T8, 32);
  const batch = { ids, rows: 2, seqLen: T8, segments: [[3, 5], [8]], positions: Int32Array.of(0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7) };
  const losses = ['cpu', 'cuda'].map((device) => {
    const kk = device === 'cpu' ? k : cuda;
    const weights = new Weights(kk, parameterSpecs(small), 'f32');
    weights.assign(initialValues(small, weights.specs, 11));
    const trunk = new Trunk(kk, small, weights, 2 * T8);
    return kk.download(crossEntropy(trunk, trunk.forward(batch), targets).losses) as Float32Array;
  });
  losses[1]!.forEach((l, i) => assert.ok(Math.abs(l - losses[0]![i]!) < 1e-3, `position ${i}: ${l} vs ${losses[0]![i]}`));
});
