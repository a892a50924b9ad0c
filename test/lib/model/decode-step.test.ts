import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend, type Backend, type Tensor } from '../../../kernels/index.js';
import { createEngine } from '../../../lib/infer/engine.js';
import { DEFAULT_SAMPLING } from '../../../lib/infer/types.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { DecodeStep, joinedLayers } from '../../../lib/model/decode-step.js';
import { allocKvCache, freeKvCache, type KvCache } from '../../../lib/model/kv-cache.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { cudaSkip } from '../../kernels/helpers.js';

// the one-kernel step is opt-in until it has run on a GPU (decode_step.cu); its tests turn it on
process.env.LOOM_FUSED_DECODE = '1';

const base: ModelConfig = { vocabSize: 4099, hiddenSize: 256, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 704, seqLen: 512, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.05 };

const int32 = (k: Backend, ...values: number[]) => {
  const t = k.alloc([values.length], 'i32');
  k.upload(t, Int32Array.from(values));
  return t;
};

test('a KV cache holds every layer back to back, and the CPU has no one-kernel decode step (the trunk runs the ops)', () => {
  const k = openBackend('cpu');
  const cache = allocKvCache(k, base, 3, 40, 'f32');
  const layer = 3 * 40 * base.kvHeads * (base.hiddenSize / base.heads) * 4;
  assert.deepEqual(cache.k.map((t) => t.ptr - cache.kAll.ptr), [0, layer]);
  assert.deepEqual(cache.v.map((t) => t.ptr - cache.vAll.ptr), [0, layer]);
  assert.deepEqual(cache.k[1]!.shape, [3, 40, base.kvHeads, base.hiddenSize / base.heads]);
  assert.equal(cache.bytes, 4 * layer);
  // bf16 tensors exist on the CPU for casts; the kernel does not
  const w = new Weights(k, parameterSpecs(base), 'bf16');
  const h = k.alloc([1, base.hiddenSize], 'bf16'), bf = allocKvCache(k, base, 1, 40, 'bf16');
  assert.equal(new DecodeStep(k, base, w, joinedLayers(w, base.layers)).run(h, int32(k, 5), int32(k, 0), int32(k, 3), bf), false);
  freeKvCache(k, cache);
  freeKvCache(k, bf);
});

// One model's decode steps, fused and op by op, from the same prompt in the same slot of two caches.
function decodeBoth(c: ModelConfig, prompt: number, steps: number): void {
  const gpu = openBackend('cuda');
  const w = new Weights(gpu, parameterSpecs(c), 'bf16');
  w.assign(initialValues(c, w.specs, 5));
  const trunk = new Trunk(gpu, c, w, 512);
  const step = new DecodeStep(gpu, c, w, joinedLayers(w, c.layers));
  const Tmax = 300, slots = 3, slot = 2;
  const caches = [allocKvCache(gpu, c, slots, Tmax, 'bf16'), allocKvCache(gpu, c, slots, Tmax, 'bf16')];
  const ids = Int32Array.from({ length: prompt + steps }, (_, t) => (t * 131 + 7) % c.vocabSize);
  for (const cache of caches) {
    const at = int32(gpu, ...new Array(prompt).fill(slot)), positions = int32(gpu, ...Array.from({ length: prompt }, (_, t) => t));
    trunk.forward({ ids: ids.subarray(0, prompt), rows: 1, seqLen: prompt, positions: Int32Array.from({ length: prompt }, (_, t) => t) }, { cache: { cache, slot: at, position: positions } });
  }
  const bits = (t: Tensor) => Array.from(gpu.download(t) as Uint16Array);
  const slotT = int32(gpu, slot);
  for (let s = 0; s < steps; s++) {
    const t = prompt + s, idT = int32(gpu, ids[t]!), posT = int32(gpu, t);
    const fused = gpu.alloc([1, c.hiddenSize], 'bf16');
    assert.equal(step.run(fused, idT, slotT, posT, caches[0]!), true, 'the one-kernel step ran');
    trunk.fusedDecode = false;
    const ops = trunk.forwardDevice({ ids: idT, positions: posT, rows: 1, seqLen: 1 }, { cache: { cache: caches[1]!, slot: slotT, position: posT, attend: { slot: slotT, pos: posT } } });
    assert.deepEqual(bits(fused), bits(ops.h), `hidden state at position ${t}`);
    gpu.free(fused);
  }
  const [a, b] = caches as [KvCache, KvCache];
  assert.deepEqual(bits(a.kAll), bits(b.kAll), 'keys appended');
  assert.deepEqual(bits(a.vAll), bits(b.vAll), 'values appended');
  for (const cache of caches) freeKvCache(gpu, cache);
}

test('cuda bf16: the one-kernel decode step gives the op-by-op pass its bits (hidden state, keys and values), GQA, head dim 64, keys over several splits', { skip: cudaSkip() }, () => {
  decodeBoth(base, 150, 4);
});

test('cuda bf16: the same with head dim 128 and as many kv heads as query heads, at the first positions', { skip: cudaSkip() }, () => {
  decodeBoth({ ...base, hiddenSize: 256, heads: 2, kvHeads: 2, intermediateSize: 512, layers: 3 }, 1, 3);
});

test('cuda bf16: an engine at batch 1 draws the same tokens and log-probabilities, to the bit, with the one-kernel step as op by op', { skip: cudaSkip() }, async () => {
  const gpu = openBackend('cuda');
  const w = new Weights(gpu, parameterSpecs(base), 'bf16');
  w.assign(initialValues(base, w.specs, 6));
  const prompts = [[3, 1, 4, 1, 5], [9, 2], Array.from({ length: 90 }, (_, t) => (t * 37) % base.vocabSize)].map((p) => Int32Array.from(p));
  const run = async (fused: boolean) => {
    const trunk = new Trunk(gpu, base, w, 128);
    trunk.fusedDecode = fused;
    const engine = createEngine({ k: gpu, weights: w, trunk }, { maxBatch: 1, contextLength: 160 });
    const outs = [];
    for (const [i, prompt] of prompts.entries())
      outs.push(await engine.submit({ prompt, params: { ...DEFAULT_SAMPLING, temperature: i === 1 ? 0 : 0.9, topP: 0.95, seed: i, maxNew: 40 } }));
    engine.close();
    return outs.map((o) => ({ tokens: o.tokens, logprobs: o.logprobs }));
  };
  assert.deepEqual(await run(true), await run(false));
});
