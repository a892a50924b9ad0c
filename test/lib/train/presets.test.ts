import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS } from '../../../lib/model/config.js';
import { rmRecipe, scaleRecipe, sftRecipe } from '../../../lib/train/presets.js';

// Qwen-7B's width; 200,000 packed rows is enough data for 4000 steps of 128 in under 3 passes.
const QWEN_7B = { hiddenSize: 4096, examples: 200_000, unit: 4 };

test('presets: at Qwen-7B width on enough data, sft qwen and math and rm qwen are the report recipes exactly', () => {
  for (const name of ['qwen', 'math'] as const) {
    const r = scaleRecipe(sftRecipe(name), {}, QWEN_7B);
    assert.deepEqual([r.lr, r.batch, r.steps, r.warmup], [2e-6, 128, 4000, 1430], name);
    assert.match(r.why, /lr 2\.00e-6 \(2e-6 × 4096\/4096\), 128 a step \(recipe\), 4000 steps \(recipe\), warmup 1430 \(35\.75% of the run\)/);
  }
  const rm = scaleRecipe(rmRecipe('qwen'), {}, { hiddenSize: 4096, examples: 64_000, unit: 4 });
  assert.deepEqual([rm.lr, rm.batch, rm.steps, rm.warmup], [3e-6, 64, 1000, 0], 'one epoch of 64 pairs a step, constant lr');
});

test('presets: a tiny model on a few hundred rows gets lr × 4096/width, a batch that leaves 32 steps a pass, 3 passes, the same warmup share', () => {
  const tiny = PRESETS.tiny.hiddenSize;
  const r = scaleRecipe(sftRecipe('qwen'), {}, { hiddenSize: tiny, examples: 300, unit: 4 });
  assert.equal(r.lr, 2e-6 * 64);
  assert.equal(r.batch, 8, 'floor(300 / 32 / 4) micro-steps of 4');
  assert.equal(r.steps, 113, 'ceil(3 × 300 / 8): 4000 steps of 8 would be 107 passes');
  assert.equal(r.warmup, 40, 'round(0.3575 × 113)');
  assert.match(r.why, /8 a step \(300 examples \/ 32 steps a pass\), 113 steps \(3 epochs; the recipe's 4000 would be 106\.7\)/);

  // the 1.8b shape halves Qwen-7B's width: twice its rate
  assert.equal(scaleRecipe(sftRecipe('qwen'), {}, { ...QWEN_7B, hiddenSize: PRESETS['1.8b'].hiddenSize }).lr, 4e-6);
  // data smaller than 32 micro-steps: one micro-step a step
  assert.deepEqual(scaleRecipe(sftRecipe('qwen'), {}, { hiddenSize: tiny, examples: 10, unit: 4 }).batch, 4);

  const rm = scaleRecipe(rmRecipe('qwen'), {}, { hiddenSize: tiny, examples: 1280, unit: 4 });
  assert.deepEqual([rm.lr, rm.batch, rm.steps, rm.warmup], [3e-6 * 64, 40, 32, 0], 'one epoch of 32 steps');
});

test('presets: flags win over the rule; warmup stays the recipe share of a run whose length a flag set', () => {
  const at = { hiddenSize: 64, examples: 300, unit: 4 };
  const given = scaleRecipe(sftRecipe('qwen'), { lr: 1e-3, batch: 16, steps: 50, warmup: 5 }, at);
  assert.deepEqual([given.lr, given.batch, given.steps, given.warmup], [1e-3, 16, 50, 5]);
  assert.match(given.why, /lr 1\.00e-3 \(flag\), 16 a step \(flag\), 50 steps \(flag\), warmup 5 \(flag\)/);

  assert.deepEqual(scaleRecipe(sftRecipe('qwen'), { steps: 200 }, at).warmup, 72, 'round(0.3575 × 200)');
  const epochs = scaleRecipe(sftRecipe('qwen'), { epochs: 2, batch: 12 }, at);
  assert.deepEqual([epochs.batch, epochs.steps], [12, 50], 'ceil(2 × 300 / 12)');
  // a batch that is no multiple of the micro-step is counted as planSteps rounds it (12 → 2 × 8)
  assert.equal(scaleRecipe(rmRecipe('qwen'), { batch: 12 }, { hiddenSize: 64, examples: 160, unit: 8 }).steps, 10);
});
