// The "done when": a 2-layer Qwen block composed from the kernels has gradients that
// agree with finite differences (CPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend } from '../../kernels/index.js';
import { checkGradient } from './helpers.js';
import { initParams, runModel, sampleBatch, type BlockConfig } from './qwen-block.js';

const cfg: BlockConfig = {
  vocab: 37, dim: 16, heads: 4, kvHeads: 2, headDim: 4, ffn: 24, windows: [0, 3],
  batch: 2, seq: 6, eps: 1e-6, ropeBase: 10000, lognLength: 4, chunk: 16,
};

test('2-layer Qwen block: every parameter gradient agrees with finite differences', () => {
  const k = openBackend('cpu');
  const arena = k.arena(8 << 20);
  const params = initParams(cfg, 100);
  const batch = sampleBatch(cfg, 7);
  const { loss, grads } = runModel(k, arena, cfg, params, batch, true);
  assert.ok(loss > 1 && loss < 20, `loss ${loss}`);
  assert.equal(grads!.size, params.size);
  const lossOnly = () => runModel(k, arena, cfg, params, batch, false).loss;
  assert.equal(lossOnly(), loss, 'the forward is deterministic');
  for (const [name, { data }] of params) {
    const grad = grads!.get(name)!;
    assert.ok(grad.some((v) => v !== 0), `${name} got no gradient`);
    checkGradient(name, data, grad, lossOnly, { count: 4, h: 1e-2, rtol: 5e-2, atol: 3e-4 });
  }
});

test('the arena is reused across steps: one allocation, no growth', () => {
  const k = openBackend('cpu');
  const arena = k.arena(8 << 20);
  const params = initParams(cfg, 100);
  runModel(k, arena, cfg, params, sampleBatch(cfg, 1), true);
  const used = arena.highWater;
  runModel(k, arena, cfg, params, sampleBatch(cfg, 2), true);
  assert.equal(arena.highWater, used);
  assert.throws(() => runModel(k, k.arena(4096), cfg, params, sampleBatch(cfg, 1), true), /arena out of memory/);
});
