import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openBackend } from '../../../kernels/index.js';
import { checkConfig, flopsPerToken, parameterCount, PRESETS, resolveConfig, type ModelConfig } from '../../../lib/model/config.js';
import { huggingFaceConfig, loadWeights, readCheckpoint, saveCheckpoint } from '../../../lib/model/checkpoint.js';
import { crossEntropy } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { readSafetensorsHeader, readTensor } from '../../../lib/model/safetensors.js';
import { createRandom } from '../../../lib/util/random.js';
import { tempDir } from '../../helpers/cli.js';
import { checkAgainstFiniteDifferences } from './finite-differences.js';

const small: ModelConfig = { vocabSize: 23, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 6, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.25 };
const info = { vocab_hash: 'ab'.repeat(32), vocab: 'test', vocab_ids: 23, eot: 22, nfc: true, preset: 'test', dropout: 0, init_std: 0.25 };

function batchOf(c: ModelConfig, B: number, seed: number) {
  const r = createRandom(seed);
  const n = B * c.seqLen;
  return { ids: Int32Array.from({ length: n }, () => r.int(c.vocabSize)), targets: Int32Array.from({ length: n }, () => r.int(c.vocabSize)) };
}

test('presets: shapes and parameter counts (bench318m is DESIGN.md\'s 318M model, 1.8b is Qwen-1.8B)', () => {
  for (const p of Object.values(PRESETS)) checkConfig({ ...p, vocabSize: p.vocabSize || 1000 });
  assert.equal(Math.round(parameterCount(PRESETS.bench318m) / 1e6), 318);
  assert.equal(Math.round(parameterCount(PRESETS['1.8b']) / 1e8), 18);
  assert.equal(resolveConfig('tiny', {}, 300).vocabSize, 300, 'tiny takes the data\'s vocabulary');
  assert.throws(() => resolveConfig('125m', {}, 200_000), /raise --vocab-size/);
  assert.throws(() => resolveConfig('nope', {}, 10), /unknown preset 'nope'/);
  // PaLM/nanoGPT accounting: ~1.44 GFLOP per token for bench318m at 2048, the basis of the 41% MFU figure.
  assert.ok(Math.abs(flopsPerToken(PRESETS.bench318m, 2048) / 1e9 - 1.436) < 0.01);
});

test('whole-model gradients agree with finite differences (tiny model, CPU, fp32)', () => {
  const k = openBackend('cpu');
  const B = 2;
  const N = B * small.seqLen;
  const weights = new Weights(k, parameterSpecs(small), 'f32');
  const params = new Trainable(k, weights);
  params.assign(initialValues(small, weights.specs, 3));
  const trunk = new Trunk(k, small, weights, N);
  const mb = batchOf(small, B, 9);
  const batch = { ids: mb.ids, rows: B, seqLen: small.seqLen };
  const meanLoss = (ce: { losses: import('../../../kernels/index.js').Tensor }) => (k.download(ce.losses) as Float32Array).reduce((a, b) => a + b, 0) / N;
  const loss = () => meanLoss(crossEntropy(trunk, trunk.forward(batch), mb.targets));
  params.zeroGrads();
  const hidden = trunk.forward(batch);
  const ce = crossEntropy(trunk, hidden, mb.targets, { grads: params.grad, gradScale: 1 / N });
  const base = meanLoss(ce);
  trunk.backward(hidden, ce.dh!, params.grad);
  assert.ok(base > 2 && base < 5, `initial loss ${base} near ln(23)`);
  const names = ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.bias', 'model.layers.1.self_attn.v_proj.bias', 'model.layers.0.self_attn.o_proj.weight', 'model.layers.1.input_layernorm.weight', 'model.layers.1.mlp.gate_proj.weight', 'model.layers.0.mlp.up_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.norm.weight', 'lm_head.weight'];
  for (const name of names) checkAgainstFiniteDifferences(params, name, loss, 'whole model');
});

test('checkpoint: Qwen2 tensor names and shapes, config.json for transformers, exact round trip', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const k = openBackend('cpu');
  const weights = new Weights(k, parameterSpecs(small), 'f32');
  weights.assign(initialValues(small, weights.specs, 5));
  const out = join(dir, 'ckpt');
  saveCheckpoint(out, weights, small, info);
  const file = readSafetensorsHeader(join(out, 'model.safetensors'));
  const names = [...file.tensors.keys()];
  assert.deepEqual(names.slice(0, 13), [
    'model.embed_tokens.weight',
    'model.layers.0.input_layernorm.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.0.self_attn.q_proj.bias',
    'model.layers.0.self_attn.k_proj.weight',
    'model.layers.0.self_attn.k_proj.bias',
    'model.layers.0.self_attn.v_proj.weight',
    'model.layers.0.self_attn.v_proj.bias',
    'model.layers.0.self_attn.o_proj.weight',
    'model.layers.0.post_attention_layernorm.weight',
    'model.layers.0.mlp.gate_proj.weight',
    'model.layers.0.mlp.up_proj.weight',
    'model.layers.0.mlp.down_proj.weight',
  ]);
  assert.equal(names.length, 2 + 12 * small.layers + 1);
  assert.ok(!names.some((n) => /o_proj\.bias|mlp\..*\.bias|lm_head\.bias/.test(n)), 'only q/k/v carry biases');
  assert.deepEqual(file.tensors.get('lm_head.weight')!.shape, [23, 16], 'untied head');
  assert.deepEqual(file.tensors.get('model.layers.1.self_attn.k_proj.weight')!.shape, [8, 16], 'GQA: 2 kv heads of 4');
  assert.deepEqual(file.tensors.get('model.layers.1.mlp.down_proj.weight')!.shape, [16, 24]);
  assert.equal(file.tensors.get('model.norm.weight')!.dtype, 'F32');
  const hf = huggingFaceConfig(small, info);
  assert.equal(hf.model_type, 'qwen2');
  assert.deepEqual(hf.architectures, ['Qwen2ForCausalLM']);
  assert.equal(hf.tie_word_embeddings, false);
  assert.equal(hf.num_key_value_heads, 2);
  // Round trip: the loaded masters are bit-identical.
  const other = new Weights(k, parameterSpecs(small), 'f32');
  loadWeights(out, other);
  for (const spec of weights.specs) assert.deepEqual(other.values(spec.name), weights.values(spec.name), spec.name);
  assert.equal(readCheckpoint(out).head, 'lm');
  assert.deepEqual(readTensor(file, 'model.norm.weight'), new Float32Array(16).fill(1));
  assert.equal(parameterSpecs(small).length, names.length);
});

test('a one-token pass reads q/k/v and gate/up in one product each, with the bits of the separate products', () => {
  const k = openBackend('cpu');
  const weights = new Weights(k, parameterSpecs(small), 'f32');
  weights.assign(initialValues(small, weights.specs, 7));
  const qkv = weights.joined(['q_proj.weight', 'k_proj.weight', 'v_proj.weight'].map((n) => `model.layers.1.self_attn.${n}`))!;
  assert.deepEqual(qkv.shape, [16 + 2 * 8, 16], 'q, k and v weights lie one after another');
  assert.equal(weights.joined(['model.layers.1.mlp.up_proj.weight', 'model.layers.1.mlp.gate_proj.weight']), null, 'not in that order');
  const trunk = new Trunk(k, small, weights, 8);
  const last = (ids: number[], rows: number, seqLen: number) => {
    const h = trunk.forward({ ids: Int32Array.from(ids), rows, seqLen }).h;
    return (k.download(h) as Float32Array).slice(0, 16);
  };
  // the token alone (joined products) and as the first of two rows (separate products)
  assert.deepEqual(last([5], 1, 1), last([5, 9], 2, 1));
});
