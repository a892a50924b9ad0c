// Checkpoints in and out as Hugging Face Qwen2 directories: tied embeddings, shards with an index,
// bf16, the config fields loom honours or refuses, and the tokenizer a checkpoint carries.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend } from '../../../kernels/index.js';
import { checkpointVocabulary, readCheckpoint, saveCheckpoint, type LoomModelInfo } from '../../../lib/model/checkpoint.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { allLogits } from '../../../lib/model/lm-head.js';
import { loadModel } from '../../../lib/model/load.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { openModelTensors, readSafetensorsHeader, toBfloat16, writeModelTensors } from '../../../lib/model/safetensors.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { exportHuggingFace } from '../../../lib/tokenizer/hf.js';
import { formatRanks } from '../../../lib/tokenizer/ranks.js';
import { loadVocabulary, vocabularyHash } from '../../../lib/tokenizer/vocabulary.js';
import { tempDir } from '../../helpers/cli.js';

const { dir, cleanup } = tempDir();
after(cleanup);
const k = openBackend('cpu');

// A small byte-level vocabulary in a .tiktoken file: 256 bytes and 4 merges, then Qwen's specials
// (<|endoftext|> 260, <|im_start|> 261, <|im_end|> 262, extras up to 467).
const vocabFile = join(dir, 'small.tiktoken');
const tokens = [...Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), ...['th', 'he', 'the', ' the'].map((s) => new Uint8Array(Buffer.from(s)))];
writeFileSync(vocabFile, formatRanks(tokens));
const vocab = loadVocabulary({ vocab: vocabFile });
const ENDOFTEXT = 260, IM_END = 262;

const config: ModelConfig = { vocabSize: 480, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 8, ropeTheta: 1e6, rmsEps: 1e-6, dropout: 0, initStd: 0.2, tieEmbeddings: true };
const info: LoomModelInfo = { vocab_hash: vocabularyHash(vocab), vocab: vocabFile, vocab_ids: 468, eot: ENDOFTEXT, nfc: true, preset: 'test', dropout: 0, init_std: 0.2 };
const ids = Int32Array.from({ length: 12 }, (_, i) => (i * 37 + 5) % 468);
const batch = { ids, rows: 2, seqLen: 6 };

function randomWeights(c: ModelConfig, seed: number): Weights {
  const weights = new Weights(k, parameterSpecs(c), 'f32');
  weights.assign(initialValues(c, weights.specs, seed));
  return weights;
}

function logitsOf(c: ModelConfig, weights: Weights): Float32Array {
  const trunk = new Trunk(k, c, weights, 12);
  return allLogits(trunk, trunk.forward(batch));
}
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const bf16 = (values: Float32Array) => new Float32Array(Uint32Array.from(toBfloat16(values), (h) => h << 16).buffer);

test('tied, sharded, bf16: no lm_head tensor, shards with an index, BF16 tensors, and the same logits when loaded', () => {
  const weights = randomWeights(config, 3);
  const out = join(dir, 'tied');
  saveCheckpoint(out, weights, config, info, { dtype: 'bf16', maxShardBytes: 4_000, vocab: null });
  const hf = readJson(join(out, 'config.json'));
  assert.equal(hf.tie_word_embeddings, true);
  assert.equal(hf.torch_dtype, 'bfloat16');
  const shards = readdirSync(out).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
  assert.ok(shards.length >= 3, `${shards.length} shards`);
  assert.ok(!existsSync(join(out, 'model.safetensors')));
  const index = readJson(join(out, 'model.safetensors.index.json'));
  assert.equal(Object.keys(index.weight_map).length, parameterSpecs(config).length);
  assert.ok(!('lm_head.weight' in index.weight_map), 'a tied head is not saved');
  const expectedBytes = parameterSpecs(config).reduce((a, s) => a + 2 * s.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(index.metadata.total_size, expectedBytes);
  for (const shard of shards) for (const t of readSafetensorsHeader(join(out, shard)).tensors.values()) assert.equal(t.dtype, 'BF16');

  const model = loadModel(out, { device: 'cpu', capacity: 12 });
  assert.equal(model.checkpoint.config.tieEmbeddings, true);
  assert.equal(model.checkpoint.config.ropeTheta, 1e6);
  for (const spec of weights.specs) assert.deepEqual(model.weights.values(spec.name), bf16(weights.values(spec.name)), spec.name);
  const rounded = new Weights(k, parameterSpecs(config), 'f32');
  rounded.assign(weights.specs.map((s) => [s.name, bf16(weights.values(s.name))] as [string, Float32Array]));
  assert.deepEqual(allLogits(model.trunk, model.trunk.forward(batch)), logitsOf(config, rounded));

  // saved again as one fp32 file: the old shards and index are gone, the values exact
  saveCheckpoint(out, weights, config, info, { vocab: null });
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('safetensors')), ['model.safetensors']);
  assert.deepEqual(openModelTensors(out).read('model.embed_tokens.weight'), weights.values('model.embed_tokens.weight'));
});

test('a checkpoint carries its tokenizer: it still loads after being moved, and every file names the same end of sequence', () => {
  const original = join(dir, 'carry');
  const weights = randomWeights(config, 5);
  saveCheckpoint(original, weights, config, info);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) assert.ok(existsSync(join(original, f)), f);
  const hf = readJson(join(original, 'config.json'));
  const tokenizerConfig = readJson(join(original, 'tokenizer_config.json'));
  const generation = readJson(join(original, 'generation_config.json'));
  assert.equal(tokenizerConfig.eos_token, '<|im_end|>');
  assert.equal(hf.eos_token_id, IM_END, 'config.json\'s eos is tokenizer_config.json\'s');
  assert.equal(hf.bos_token_id, ENDOFTEXT);
  assert.deepEqual(generation, { bos_token_id: ENDOFTEXT, eos_token_id: [IM_END, ENDOFTEXT], pad_token_id: ENDOFTEXT });
  assert.deepEqual(readCheckpoint(original).eosIds, [IM_END, ENDOFTEXT]);

  // moved, and the vocabulary file it was trained from is gone
  const moved = join(dir, 'elsewhere', 'carry');
  mkdirSync(join(dir, 'elsewhere'));
  renameSync(original, moved);
  const kept = readFileSync(vocabFile);
  rmSync(vocabFile);
  try {
    const ckpt = readCheckpoint(moved);
    assert.equal(ckpt.tokenizerFile, join(moved, 'tokenizer.json'));
    assert.equal(vocabularyHash(checkpointVocabulary(ckpt)), info.vocab_hash, 'the copy inside is the trained vocabulary');
    assert.equal(ckpt.info.vocab, join(moved, 'tokenizer.json'), 'callers that pass only the info find it too');
    assert.equal(vocabularyHash(checkpointVocabulary(ckpt.info)), info.vocab_hash);
    // a tokenizer.json that is not the vocabulary the model was trained on is refused
    const tampered = readJson(join(moved, 'tokenizer.json'));
    tampered.added_tokens[0].id = 470;
    writeFileSync(join(moved, 'tokenizer.json'), JSON.stringify(tampered));
    assert.throws(() => checkpointVocabulary(readCheckpoint(moved)), /tokenizer\.json' is not the one the checkpoint was trained on/);
  } finally {
    writeFileSync(vocabFile, kept);
  }
});

test('config.json: rope_theta honoured, eos as one id or a list, and what loom cannot compute refused by file and field', () => {
  const weights = randomWeights(config, 7);
  const base = join(dir, 'fields');
  saveCheckpoint(base, weights, config, info, { vocab: null });
  const original = readJson(join(base, 'config.json'));
  const variant = (name: string, edit: (json: Record<string, unknown>) => void) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const json = structuredClone(original);
    edit(json);
    writeFileSync(join(d, 'config.json'), JSON.stringify(json));
    return d;
  };
  assert.equal(readCheckpoint(variant('theta', (j) => (j.rope_theta = 5e5))).config.ropeTheta, 5e5);
  assert.equal(readCheckpoint(variant('v5', (j) => (delete j.rope_theta, (j.rope_parameters = { rope_type: 'default', rope_theta: 2e6 })))).config.ropeTheta, 2e6, 'transformers 5 layout');
  assert.equal(readCheckpoint(variant('nulls', (j) => ((j.rope_scaling = null), (j.rope_parameters = null)))).config.ropeTheta, 1e6);
  assert.deepEqual(readCheckpoint(variant('eos-list', (j) => (j.eos_token_id = [IM_END, ENDOFTEXT]))).eosIds, [IM_END, ENDOFTEXT]);
  assert.deepEqual(readCheckpoint(variant('eos-int', (j) => (j.eos_token_id = IM_END))).eosIds, [IM_END]);
  assert.equal(readCheckpoint(variant('window-off', (j) => ((j.use_sliding_window = false), (j.sliding_window = 4096)))).config.longContext?.windows, undefined, 'a window that is off is no window');
  const refused: [string, (j: Record<string, unknown>) => void, RegExp][] = [
    ['scaling', (j) => (j.rope_scaling = { type: 'yarn', factor: 4 }), /config\.json: rope_scaling is \{"type":"yarn","factor":4\} \(loom computes "default" and "dynamic" rope scaling\); loom does not implement it/],
    ['parameters', (j) => (j.rope_parameters = { rope_type: 'linear', factor: 2 }), /config\.json: rope_parameters is/],
    ['dynamic-factor', (j) => (j.rope_scaling = { type: 'dynamic' }), /config\.json: rope_scaling is dynamic with factor undefined/],
    ['dynamic-original', (j) => (j.rope_scaling = { type: 'dynamic', factor: 2, original_max_position_embeddings: 4 }), /original_max_position_embeddings 4, not max_position_embeddings 8/],
    ['seq-length', (j) => (j.seq_length = 4), /config\.json: seq_length 4 differs from max_position_embeddings 8/],
    ['window-size', (j) => ((j.use_sliding_window = true), (j.sliding_window = null)), /config\.json: sliding_window is null, but layers use a sliding window/],
    ['layer-kind', (j) => ((j.use_sliding_window = true), (j.layer_types = ['full_attention', 'linear_attention'])), /config\.json: layer_types has "linear_attention" layers/],
    ['windows-list', (j) => (j.attention_windows = [4]), /config\.json: attention_windows is \[4\], not one non-negative integer per layer \(2\)/],
    ['act', (j) => (j.hidden_act = 'gelu'), /config\.json: hidden_act is "gelu"/],
    ['eos-bad', (j) => (j.eos_token_id = 'x'), /config\.json: eos_token_id is "x"/],
  ];
  for (const [name, edit, message] of refused) {
    const d = variant(name, edit);
    assert.throws(() => readCheckpoint(d), (err: Error) => message.test(err.message) && err.message.startsWith(join(d, 'config.json')), name);
  }
});

test('config.json: the long-context fields by Qwen\'s and Qwen2\'s names, written and read back', () => {
  const weights = randomWeights(config, 8);
  const saved = (name: string, c: ModelConfig) => {
    const d = join(dir, name);
    saveCheckpoint(d, weights, c, info, { vocab: null });
    return { json: readJson(join(d, 'config.json')), read: readCheckpoint(d).config };
  };
  // the defaults: all three on beyond seq_length, windows left to loom (not written)
  const plain = saved('lc-default', config);
  assert.deepEqual(
    Object.fromEntries(['rope_scaling', 'seq_length', 'use_dynamic_ntk', 'use_logn_attn', 'use_sliding_window', 'sliding_window', 'max_window_layers', 'attention_windows'].map((f) => [f, plain.json[f]])),
    { rope_scaling: null, seq_length: 8, use_dynamic_ntk: true, use_logn_attn: true, use_sliding_window: false, sliding_window: null, max_window_layers: 2, attention_windows: undefined },
  );
  assert.deepEqual(plain.read, config, 'the defaults read back as no declaration');
  // switched off, and windows Qwen2 can say (upper layer windowed): both names written, the same read back
  const off = saved('lc-off', { ...config, longContext: { ntk: null, logn: false, windows: [0, 6] } });
  assert.equal(off.json.use_dynamic_ntk, false);
  assert.equal(off.json.use_logn_attn, false);
  assert.deepEqual([off.json.use_sliding_window, off.json.sliding_window, off.json.max_window_layers, off.json.attention_windows], [true, 6, 1, [0, 6]]);
  assert.deepEqual(off.read.longContext, { ntk: null, logn: false, windows: [0, 6] });
  // transformers' dynamic scaling; shorter windows in lower layers, which only attention_windows says
  const hf = saved('lc-dynamic', { ...config, longContext: { ntk: { kind: 'dynamic', factor: 2 }, windows: [8, 0] } });
  assert.deepEqual(hf.json.rope_scaling, { type: 'dynamic', factor: 2 });
  assert.deepEqual([hf.json.use_sliding_window, hf.json.attention_windows], [false, [8, 0]]);
  assert.deepEqual(hf.read.longContext, { ntk: { kind: 'dynamic', factor: 2 }, windows: [8, 0] });
  // a Hugging Face config: Qwen2's sliding window from max_window_layers up, or by layer_types; rope_parameters dynamic
  const edited = (name: string, edit: (j: Record<string, unknown>) => void) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const json = structuredClone(plain.json);
    delete json.loom;
    delete json.attention_windows;
    edit(json);
    writeFileSync(join(d, 'config.json'), JSON.stringify(json));
    return readCheckpoint(d).config.longContext;
  };
  assert.deepEqual(edited('hf-swa', (j) => Object.assign(j, { use_sliding_window: true, sliding_window: 4, max_window_layers: 1 })), { windows: [0, 4] });
  assert.deepEqual(edited('hf-types', (j) => Object.assign(j, { use_sliding_window: true, sliding_window: 4, layer_types: ['sliding_attention', 'full_attention'] })), { windows: [4, 0] });
  assert.equal(edited('hf-types-off', (j) => Object.assign(j, { sliding_window: 4, layer_types: ['sliding_attention', 'full_attention'] })), undefined, 'without use_sliding_window transformers drops the window');
  assert.deepEqual(edited('hf-v5', (j) => Object.assign(j, { rope_scaling: undefined, rope_parameters: { rope_type: 'dynamic', factor: 4, rope_theta: 1e6 } })), { ntk: { kind: 'dynamic', factor: 4 } });
  assert.equal(edited('hf-none', (j) => (delete j.use_dynamic_ntk, delete j.use_logn_attn, delete j.seq_length)), undefined, 'a config without the fields takes the defaults');
});

test('a plain Hugging Face Qwen2 directory (no loom block, tokenizer.json, bf16 shards) loads for inference', () => {
  const hfDir = join(dir, 'hf-qwen2');
  mkdirSync(hfDir);
  const weights = randomWeights(config, 9);
  // what save_pretrained writes for a tied Qwen2 (transformers 5 adds rope_parameters and dtype)
  writeFileSync(join(hfDir, 'config.json'), JSON.stringify({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 480, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32768, rope_theta: 1e6, rope_scaling: null, rms_norm_eps: 1e-6,
    hidden_act: 'silu', tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768, max_window_layers: 2, attention_dropout: 0,
    bos_token_id: ENDOFTEXT, eos_token_id: ENDOFTEXT, dtype: 'bfloat16', transformers_version: '5.17.0',
  }));
  writeFileSync(join(hfDir, 'generation_config.json'), JSON.stringify({ bos_token_id: ENDOFTEXT, eos_token_id: [IM_END, ENDOFTEXT], do_sample: true }));
  exportHuggingFace(vocab, hfDir);
  writeModelTensors(hfDir, weights.specs.map((s) => ({ name: s.name, shape: s.shape, data: () => weights.values(s.name) })), { dtype: 'BF16', maxShardBytes: 8_000 });

  const model = loadModel(hfDir, { device: 'cpu', capacity: 12 });
  const { info: read, eosIds, config: c } = model.checkpoint;
  assert.equal(c.seqLen, 32768);
  assert.equal(c.tieEmbeddings, true);
  assert.deepEqual(eosIds, [IM_END, ENDOFTEXT], 'generation_config.json first');
  assert.equal(read.vocab, join(hfDir, 'tokenizer.json'));
  assert.equal(read.vocab_hash, info.vocab_hash);
  assert.equal(read.eot, ENDOFTEXT);
  assert.equal(read.nfc, true);
  assert.equal(vocabularyHash(checkpointVocabulary(model.checkpoint)), info.vocab_hash);
  const rounded = new Weights(k, parameterSpecs(config), 'f32');
  rounded.assign(weights.specs.map((s) => [s.name, bf16(weights.values(s.name))] as [string, Float32Array]));
  assert.deepEqual(allLogits(model.trunk, model.trunk.forward(batch)), logitsOf(config, rounded));
});
