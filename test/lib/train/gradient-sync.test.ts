// Data parallelism's bucketed all-reduce: every gradient element in exactly one bucket, buckets
// in the order the backward finishes them, and (on a GPU) reductions on their own stream during
// the backward that leave the gradients exactly as a reduction after it would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaAvailability, openBackend } from '../../../kernels/index.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { crossEntropy } from '../../../lib/model/lm-head.js';
import { initialValues, layout, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk, type GradPart } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { GradientSync, gradientBuckets } from '../../../lib/train/gradient-sync.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';

const config: ModelConfig = { vocabSize: 29, hiddenSize: 16, layers: 3, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 8, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.3 };

test('gradient buckets: every element of both groups once; one bucket per layer plus the head and the embedding', () => {
  const { groups, placements } = layout(parameterSpecs(config));
  const buckets = gradientBuckets(placements);
  assert.deepEqual([...buckets.keys()].sort(), ['embed', 'head', 0, 1, 2].sort() as GradPart[]);
  for (let l = 0; l < config.layers; l++) assert.equal(buckets.get(l)!.length, 2, `layer ${l}: one range in each group`);
  groups.forEach((g, gi) => {
    const covered = new Uint8Array(g.numel);
    for (const list of buckets.values()) for (const r of list) if (r.group === gi) for (let i = r.start; i < r.end; i++) covered[i]! += 1;
    assert.ok(covered.every((c) => c === 1), `group ${gi}: each element in one bucket`);
  });
});

const cuda = cudaAvailability();
test('on a GPU, all-reduce during the backward (one rank) leaves the gradients bit-identical', { skip: cuda.ok ? false : 'needs a GPU' }, () => {
  const k = openBackend('cuda');
  k.ncclInit(1, 0, k.ncclUniqueId());
  const weights = new Weights(k, parameterSpecs(config), 'bf16');
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, 3));
  const trunk = new Trunk(k, config, weights, 4 * config.seqLen);
  const r = createRandom(1);
  const ids = Int32Array.from({ length: 4 * config.seqLen }, () => r.int(config.vocabSize));
  const targets = Int32Array.from({ length: 4 * config.seqLen }, () => r.int(config.vocabSize));
  const grads = (sync: GradientSync | null) => {
    params.zeroGrads();
    const hidden = trunk.forward({ ids, rows: 4, seqLen: config.seqLen });
    const ce = crossEntropy(trunk, hidden, targets, { grads: params.grad, gradScale: 1 / ids.length });
    trunk.backward(hidden, ce.dh!, params.grad, sync?.hooks());
    sync?.finish();
    return params.groups.map((g) => k.download(g.grad));
  };
  const sync = new GradientSync(k, params);
  try {
    assert.deepEqual(grads(sync), grads(null));
    // finish() alone reduces every bucket no hook reported
    params.zeroGrads();
    sync.hooks();
    sync.finish();
  } finally {
    sync.dispose();
  }
});
