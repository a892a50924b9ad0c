import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dpoRecipe } from '../../../lib/train/dpo-presets.js';
import { scaleRecipe } from '../../../lib/train/presets.js';

test('dpo preset: at a 7B width on enough pairs the recipe as written (lr 5e-7, 64 pairs, one epoch, 10% warmup); on tiny, scaled', () => {
  const full = scaleRecipe(dpoRecipe('qwen'), {}, { hiddenSize: 4096, examples: 6400, unit: 4 });
  assert.deepEqual([full.lr, full.batch, full.steps, full.warmup], [5e-7, 64, 100, 10]);
  const tiny = scaleRecipe(dpoRecipe('qwen'), {}, { hiddenSize: 64, examples: 640, unit: 4 });
  assert.deepEqual([tiny.lr, tiny.batch, tiny.steps, tiny.warmup], [3.2e-5, 20, 32, 3]);
  const flags = scaleRecipe(dpoRecipe('qwen'), { lr: 1e-3, warmup: 0, steps: 6 }, { hiddenSize: 64, examples: 640, unit: 4 });
  assert.deepEqual([flags.lr, flags.steps, flags.warmup], [1e-3, 6, 0]);
});
