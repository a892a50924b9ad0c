import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend } from '../../../kernels/index.js';
import { complete } from '../../../lib/infer/complete.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { allLogits } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';

const k = openBackend('cpu');
const config: ModelConfig = { vocabSize: 17, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 32, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.5 };
const weights = new Weights(k, parameterSpecs(config), 'f32');
weights.assign(initialValues(config, weights.specs, 4));
const trunk = new Trunk(k, config, weights, 12);

test('greedy completion takes the argmax at each step, stops at a stop token, and fits the trunk', () => {
  const prompt = [3, 1, 4, 1, 5];
  const answer = complete(trunk, prompt, { maxNew: 4, temperature: 0, seed: 0, stop: [] });
  assert.equal(answer.length, 4);
  // each token is the argmax of the full forward over what came before it
  const ids = [...prompt, ...answer];
  const V = config.vocabSize;
  const logits = allLogits(trunk, trunk.forward({ ids: Int32Array.from(ids.slice(0, -1)), rows: 1, seqLen: ids.length - 1 }));
  answer.forEach((token, i) => {
    const row = logits.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
    assert.equal(token, row.indexOf(Math.max(...row)), `token ${i}`);
  });
  assert.deepEqual(complete(trunk, prompt, { maxNew: 4, temperature: 0, seed: 0, stop: [answer[0]!] }), [], 'the stop token ends it');
  assert.equal(complete(trunk, prompt, { maxNew: 50, temperature: 0, seed: 0, stop: [] }).length, 12 - prompt.length, 'no longer than the capacity allows');
  const sampled = complete(trunk, prompt, { maxNew: 6, temperature: 1, seed: 9, stop: [] });
  assert.deepEqual(complete(trunk, prompt, { maxNew: 6, temperature: 1, seed: 9, stop: [] }), sampled, 'seeded sampling repeats');
});
