// The reward model's objective: the Bradley–Terry loss and its gradient through the scalar head
// and the trunk (finite differences), pooling at the end token or over the response, and rows
// padded at the end changing no reward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend } from '../../../kernels/index.js';
import type { EncodedPair } from '../../../lib/chat/preference.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { scalarValues } from '../../../lib/model/scalar-head.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { bradleyTerry, pairRows, rewardObjective, type Pooling } from '../../../lib/train/reward.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';
import { checkAgainstFiniteDifferences } from '../model/finite-differences.js';

const k = openBackend('cpu');
const config: ModelConfig = { vocabSize: 23, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 16, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.3 };

function pairs(): EncodedPair[] {
  const r = createRandom(5);
  const seq = (n: number) => Int32Array.from({ length: n }, () => r.int(22));
  const shared = seq(4);
  return [
    { chosen: Int32Array.from([...shared, ...seq(3)]), rejected: Int32Array.from([...shared, ...seq(5)]), promptLen: 4 },
    { chosen: seq(6), rejected: seq(2), promptLen: 1 },
  ];
}

test('Bradley–Terry: loss log(1 + e^-d), gradient -σ(-d), stable for large margins', () => {
  assert.ok(Math.abs(bradleyTerry(0, 0).loss - Math.LN2) < 1e-12);
  assert.ok(Math.abs(bradleyTerry(0, 0).dChosen + 0.5) < 1e-12);
  assert.ok(Math.abs(bradleyTerry(800, 0).loss) < 1e-12 && bradleyTerry(800, 0).correct);
  assert.ok(Math.abs(bradleyTerry(0, 800).loss - 800) < 1e-9);
  const h = 1e-5, d = bradleyTerry(0.3, -0.2);
  assert.ok(Math.abs((bradleyTerry(0.3 + h, -0.2).loss - bradleyTerry(0.3 - h, -0.2).loss) / (2 * h) - d.dChosen) < 1e-8);
});

test('pairs become rows padded at the end; last pooling reads the end token, mean the response', () => {
  const p = pairs();
  const last = pairRows(p, 'last', 22);
  assert.equal(last.rows, 4);
  assert.equal(last.seqLen, 9);
  assert.deepEqual([...last.at], [6, 9 + 8, 18 + 5, 27 + 1]);
  const mean = pairRows(p, 'mean', 22);
  assert.deepEqual(mean.starts, [0, 3, 8, 13, 14]);
});

for (const pooling of ['last', 'mean'] as Pooling[])
  test(`reward objective (${pooling} pooling): gradients through the scalar head and the trunk match finite differences`, () => {
    const weights = new Weights(k, parameterSpecs(config, 'score'), 'f32');
    const params = new Trainable(k, weights);
    params.assign(initialValues(config, weights.specs, 2));
    const trunk = new Trunk(k, config, weights, 4 * 9);
    const objective = rewardObjective(trunk, { dropout: 0, pooling, padId: 22 });
    const batch = { pairs: pairs() };
    const lossSum = k.alloc([1]);
    const loss = () => {
      k.zero(lossSum);
      objective.run(batch, { grads: null, gradScale: 1, dropoutSeed: 0, lossSum });
      return (k.download(lossSum) as Float32Array)[0]! / 2;
    };
    params.zeroGrads();
    k.zero(lossSum);
    objective.run(batch, { grads: params.grad, gradScale: 0.5, dropoutSeed: 0, lossSum });
    for (const name of ['score.weight', 'model.norm.weight', 'model.layers.1.mlp.down_proj.weight', 'model.embed_tokens.weight'])
      checkAgainstFiniteDifferences(params, name, loss, 'reward objective', 1);
    k.free(lossSum);
  });

test('padding at the end of a row changes no reward', () => {
  const weights = new Weights(k, parameterSpecs(config, 'score'), 'f32');
  weights.assign(initialValues(config, weights.specs, 2));
  const trunk = new Trunk(k, config, weights, 4 * 9);
  const rewards = (ps: EncodedPair[]) => {
    const rows = pairRows(ps, 'last', 22);
    return scalarValues(trunk, trunk.forward(rows), rows.at).values;
  };
  const [long, short] = pairs();
  const alone = rewards([short!]), padded = rewards([long!, short!]).subarray(2);
  alone.forEach((r, i) => assert.ok(Math.abs(r - padded[i]!) < 1e-5, `reward ${i}: ${r} alone, ${padded[i]} padded`));
});
