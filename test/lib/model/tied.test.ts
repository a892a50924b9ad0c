import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend } from '../../../kernels/index.js';
import { flopsPerToken, parameterCount, type ModelConfig } from '../../../lib/model/config.js';
import { allLogits, crossEntropy } from '../../../lib/model/lm-head.js';
import { EMBEDDING, initialValues, LM_HEAD, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { Optimizer } from '../../../lib/train/optimizer.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';

const untied: ModelConfig = { vocabSize: 29, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 6, ropeTheta: 1e6, rmsEps: 1e-6, dropout: 0, initStd: 0.25 };
const tied: ModelConfig = { ...untied, tieEmbeddings: true };
const k = openBackend('cpu');
const B = 2, N = B * tied.seqLen;

function model(c: ModelConfig) {
  const weights = new Weights(k, parameterSpecs(c), 'f32');
  const params = new Trainable(k, weights);
  return { weights, params, trunk: new Trunk(k, c, weights, N) };
}

const r = createRandom(4);
const ids = Int32Array.from({ length: N }, () => r.int(tied.vocabSize));
const targets = Int32Array.from({ length: N }, () => r.int(tied.vocabSize));
const batch = { ids, rows: B, seqLen: tied.seqLen };
const host = (t: Parameters<typeof k.download>[0]) => k.download(t) as Float32Array;

/** Gradients of the mean loss into `params` (zeroed first); returns the loss. */
function backward(m: ReturnType<typeof model>): number {
  m.params.zeroGrads();
  const hidden = m.trunk.forward(batch);
  const ce = crossEntropy(m.trunk, hidden, targets, { grads: m.params.grad, gradScale: 1 / N });
  m.trunk.backward(hidden, ce.dh!, m.params.grad);
  return host(ce.losses).reduce((a, b) => a + b, 0) / N;
}

/** An untied model whose embedding and head both hold the tied model's shared matrix. */
function untiedCopy(from: ReturnType<typeof model>) {
  const m = model(untied);
  m.params.assign(m.weights.specs.map((spec) => [spec.name, from.params.values(spec.name === LM_HEAD ? EMBEDDING : spec.name)] as [string, Float32Array]));
  return m;
}

test('tied: one matrix for the embedding and the head, counted once', () => {
  const specs = parameterSpecs(tied);
  assert.ok(!specs.some((s) => s.name === LM_HEAD), 'no lm_head.weight of its own');
  assert.deepEqual(specs[0]!.aliases, [LM_HEAD]);
  assert.equal(parameterSpecs(untied).length, specs.length + 1);
  assert.equal(parameterCount(untied) - parameterCount(tied), untied.vocabSize * untied.hiddenSize);
  assert.equal(flopsPerToken(tied, 6), flopsPerToken(untied, 6), 'the head is a matmul either way');
  const m = model(tied);
  assert.equal(m.weights.w(LM_HEAD), m.weights.w(EMBEDDING));
  assert.equal(m.params.grad(LM_HEAD), m.params.grad(EMBEDDING));
  assert.equal(m.weights.count, parameterCount(tied));
  assert.equal(parameterSpecs(tied, 'score').some((s) => s.aliases), false, 'a score head ties nothing');
});

test('tied: the logits are the hidden states times the embedding matrix', () => {
  const m = model(tied);
  m.params.assign(initialValues(tied, m.weights.specs, 7));
  const copy = untiedCopy(m);
  const logits = allLogits(m.trunk, m.trunk.forward(batch));
  assert.deepEqual(logits, allLogits(copy.trunk, copy.trunk.forward(batch)));
  // and not some other matrix: a different head gives other logits
  copy.params.assign([[LM_HEAD, new Float32Array(tied.vocabSize * tied.hiddenSize).fill(0.01)]]);
  assert.notDeepEqual(logits, allLogits(copy.trunk, copy.trunk.forward(batch)));
});

test('tied training: the shared matrix gets the sum of the embedding and head gradients, step after step', () => {
  const m = model(tied);
  m.params.assign(initialValues(tied, m.weights.specs, 11));
  const optimizer = new Optimizer(k, m.params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1e9 });
  const losses: number[] = [];
  for (let step = 1; step <= 4; step++) {
    const before = m.params.values(EMBEDDING);
    losses.push(backward(m));
    const shared = host(m.params.grad(EMBEDDING)!);
    const copy = untiedCopy(m);
    backward(copy);
    const embed = host(copy.params.grad(EMBEDDING)!), head = host(copy.params.grad(LM_HEAD)!);
    assert.ok(head.some((g) => g !== 0) && embed.some((g) => g !== 0));
    shared.forEach((g, i) => assert.ok(Math.abs(g - (embed[i]! + head[i]!)) < 1e-6, `step ${step} [${i}]: ${g} vs ${embed[i]} + ${head[i]}`));
    optimizer.gradNorm();
    optimizer.update(1e-2, step);
    const after = m.params.values(EMBEDDING);
    assert.ok(after.some((w, i) => w !== before[i]), `step ${step} moved the shared matrix`);
    assert.deepEqual(host(m.weights.w(LM_HEAD)), after, 'the head reads the updated matrix');
  }
  assert.ok(losses[3]! < losses[0]!, `loss ${losses.map((l) => l.toFixed(4)).join(' → ')}`);

  // and the sum is the derivative of the loss: finite differences through both uses
  backward(m);
  const loss = () => host(crossEntropy(m.trunk, m.trunk.forward(batch), targets).losses).reduce((a, b) => a + b, 0) / N;
  checkAgainstFiniteDifferences(m.params, EMBEDDING, loss, 'tied', 4);
});

test('tied: freezing either name freezes the shared matrix', () => {
  for (const name of [EMBEDDING, LM_HEAD]) {
    const params = new Trainable(k, new Weights(k, parameterSpecs(tied), 'f32'), (n) => n === name);
    assert.equal(params.grad(EMBEDDING), null, name);
    assert.equal(params.grad(LM_HEAD), null, name);
  }
});
