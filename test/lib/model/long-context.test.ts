// Qwen's long-context means in the model: which apply when (config.ts), and the trunk computing
// them as a direct host computation does (a base per token, LogN, a window per layer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackend, ropeBase } from '../../../kernels/index.js';
import { activeLongContext, defaultWindows, longContextOf, ntkBase, type LongContext, type ModelConfig } from '../../../lib/model/config.js';
import { crossEntropy } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs } from '../../../lib/model/params.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import { createRandom } from '../../../lib/util/random.js';
import { assertClose } from '../../kernels/helpers.js';
import { referenceHidden } from './reference-model.js';

const k = openBackend('cpu');
const config: ModelConfig = { vocabSize: 29, hiddenSize: 16, layers: 3, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 6, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.4 };
const weights = new Weights(k, parameterSpecs(config), 'f32');
weights.assign(initialValues(config, weights.specs, 11));
const w = (name: string) => weights.values(name);

test('the long-context means apply beyond the training length, off within it, each switchable; declared windows at any length', () => {
  const all: LongContext = { ntk: { kind: 'qwen' }, logn: true, windows: [6, 12, 24] };
  assert.deepEqual(defaultWindows(config), [6, 12, 24], 'shorter windows in the lower layers, none under the training length');
  assert.deepEqual(defaultWindows({ ...config, layers: 12, seqLen: 512 }), [...Array(4).fill(512), ...Array(4).fill(1024), ...Array(4).fill(2048)]);
  assert.deepEqual(longContextOf(config), all);
  assert.equal(activeLongContext(config, 6), null, 'within the training length: the plain forward');
  assert.deepEqual(activeLongContext(config, 7), all);
  assert.deepEqual(activeLongContext(config, 48, { logn: false, windows: false }), { ...all, logn: false, windows: null });
  assert.equal(activeLongContext(config, 48, { dynamicNtk: false, logn: false, windows: false }), null);
  assert.deepEqual(activeLongContext(config, 48, { windows: [2, 4, 0] }), { ...all, windows: [2, 4, 0] });
  assert.deepEqual(activeLongContext(config, 4, { logn: true }), { ntk: null, logn: true, windows: null }, 'a switch turned on applies within the training length too');
  assert.throws(() => activeLongContext(config, 48, { windows: [2, 4] }), /attention windows \[2, 4\]: give one non-negative integer per layer \(3\)/);
  // what the checkpoint declares: switched off there, or a sliding window that is part of the model
  const declared: ModelConfig = { ...config, longContext: { ntk: null, windows: [0, 0, 3] } };
  assert.deepEqual(activeLongContext(declared, 48), { ntk: null, logn: true, windows: [0, 0, 3] });
  assert.deepEqual(activeLongContext(declared, 5), { ntk: null, logn: false, windows: [0, 0, 3] }, 'the model\'s own windows apply at any length');
  assert.deepEqual(activeLongContext(declared, 48, { dynamicNtk: true, windows: false }), { ntk: { kind: 'qwen' }, logn: true, windows: null });
});

test('ntkBase: Qwen\'s alpha and transformers\' dynamic formula, from the length at which a token is rotated', () => {
  const D = 4; // headDim: 16 / 4
  assert.equal(ntkBase(config, { kind: 'qwen' }, 6), 10000);
  assert.equal(ntkBase(config, { kind: 'qwen' }, 7), ropeBase(10000, D, 7, 6));
  // 7/6: alpha = 2^ceil(log2(7/6) + 1) − 1 = 3; 25/6: 2^ceil(3.06) − 1 = 15
  assert.ok(Math.abs(ntkBase(config, { kind: 'qwen' }, 7) - 10000 * 3 ** 2) < 1e-6);
  assert.ok(Math.abs(ntkBase(config, { kind: 'qwen' }, 25) - 10000 * 15 ** 2) < 1e-3);
  // transformers: base · (factor·L/seqLen − (factor − 1))^(D/(D−2)); factor 2 at 12 tokens: 3²
  assert.ok(Math.abs(ntkBase(config, { kind: 'dynamic', factor: 2 }, 12) - 10000 * 9) < 1e-6);
  assert.equal(ntkBase(config, null, 100), 10000);
});

function tokens(n: number, seed: number): Int32Array {
  const r = createRandom(seed);
  return Int32Array.from({ length: n }, () => r.int(config.vocabSize));
}

test('the trunk beyond the training length equals a direct computation: dynamic NTK from the sequence length, LogN, a window per layer', () => {
  const T = 20, ids = tokens(2 * T, 5);
  const trunk = new Trunk(k, config, weights, 2 * T);
  const hidden = (longContext: LongContext | null, rows = 2) => k.download(trunk.forward({ ids: ids.subarray(0, rows * T), rows, seqLen: T }, { longContext }).h) as Float32Array;
  const reference = (row: number, o: Parameters<typeof referenceHidden>[3]) => referenceHidden(config, w, ids.subarray(row * T, (row + 1) * T), o);
  const both = (o: Parameters<typeof referenceHidden>[3]) => Float64Array.from([...reference(0, o), ...reference(1, o)]);
  const base = ntkBase(config, { kind: 'qwen' }, T);
  const cases: [string, LongContext | null, Parameters<typeof referenceHidden>[3]][] = [
    ['plain', null, {}],
    ['dynamic NTK', { ntk: { kind: 'qwen' }, logn: false, windows: null }, { bases: new Array(T).fill(base) }],
    ['LogN', { ntk: null, logn: true, windows: null }, { lognLength: 6 }],
    ['windows', { ntk: null, logn: false, windows: [3, 6, 0] }, { windows: [3, 6, 0] }],
    ['all three', { ntk: { kind: 'qwen' }, logn: true, windows: [3, 6, 0] }, { bases: new Array(T).fill(base), lognLength: 6, windows: [3, 6, 0] }],
  ];
  const outputs = cases.map(([name, lc, o]) => {
    const got = hidden(lc);
    assertClose(got, both(o), name, 1e-3, 1e-4);
    return got;
  });
  // each means changes the output beyond the training length, and none within it
  for (let i = 1; i < outputs.length; i++) assert.ok(outputs[i]!.some((v, j) => Math.abs(v - outputs[0]![j]!) > 1e-3), `${cases[i]![0]} changes the hidden states`);
  const within = (lc: LongContext | null) => k.download(trunk.forward({ ids: ids.subarray(0, 6), rows: 1, seqLen: 6 }, { longContext: lc }).h) as Float32Array;
  assertClose(within(longContextOf(config)), within(null), 'all three, with the default windows, within the training length', 1e-6, 1e-6);
});

test('per-token rope lengths (the KV cache\'s bases) and the trunk\'s own setting; a backward through them is refused', () => {
  const T = 12, ids = tokens(T, 8);
  const trunk = new Trunk(k, config, weights, T);
  const lengths = Int32Array.from({ length: T }, (_, t) => Math.max(t + 1, 5));
  const ntk: LongContext = { ntk: { kind: 'qwen' }, logn: false, windows: null };
  const got = k.download(trunk.forward({ ids, rows: 1, seqLen: T, ropeLengths: lengths }, { longContext: ntk }).h) as Float32Array;
  assertClose(got, referenceHidden(config, w, ids, { bases: Array.from(lengths, (len) => ntkBase(config, ntk.ntk, len)) }), 'bases by length', 1e-3, 1e-4);
  // packed rows: each sequence's base comes from its own length
  const packed = k.download(trunk.forward({ ids, rows: 1, seqLen: T, segments: [[4, 8]], positions: Int32Array.from({ length: T }, (_, t) => (t < 4 ? t : t - 4)) }, { longContext: ntk }).h) as Float32Array;
  const second = referenceHidden(config, w, ids.subarray(4), { bases: new Array(8).fill(ntkBase(config, ntk.ntk, 8)) });
  assertClose(packed.subarray(4 * config.hiddenSize), second, 'the packed 8-token sequence', 1e-3, 1e-4);
  // eval sets it on the trunk; a forward's option overrides it
  trunk.longContext = ntk;
  assertClose(k.download(trunk.forward({ ids, rows: 1, seqLen: T, ropeLengths: lengths }).h) as Float32Array, got, 'the trunk\'s setting', 0, 0);
  const hidden = trunk.forward({ ids, rows: 1, seqLen: T });
  const { dh } = crossEntropy(trunk, hidden, ids, { grads: () => null, gradScale: 1 });
  assert.throws(() => trunk.backward(hidden, dh!, () => null), /a backward through a long-context forward/);
  trunk.longContext = null;
});
