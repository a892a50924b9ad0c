// Inference throughput of the generate engine against transformers in the same run.
//
//   node --import tsx bench/generate.ts --device cuda [--preset bench318m] [--prompts 1000] [--peer]
//     one JSON line: decode tokens/s at batch 1 (128 prompt + 256 new tokens) and batch 32, that
//     step against the bandwidth bound (weight bytes read per step ÷ measured copy bandwidth),
//     prefill tokens/s at 2048, the share of a decode step spent sampling, and mixed-length prompts
//     (32–1024 tokens → 256 new each) end to end, and those at batch 1 and 32 and mixed again in
//     batch-invariant mode; with --peer, scripts/generate-reference.py's
//     transformers figures (eager; static cache + torch.compile; padded batched generate) and the ratios.
//   LOOM_PROFILE=1 node --import tsx bench/generate.ts --device cuda
//     instead, where a decode step's time goes at batch 1 and 32: per-op device time a step, with
//     graphs off and a synchronize after every op (see kernels/profile.ts)
import { spawnSync } from 'node:child_process';
import { openBackend, packSampleRows, SAMPLE_ROW_WORDS } from '../kernels/index.js';
import { createEngine } from '../lib/infer/engine.js';
import { DEFAULT_SAMPLING } from '../lib/infer/types.js';
import { resolveConfig } from '../lib/model/config.js';
import { initialValues, parameterSpecs } from '../lib/model/params.js';
import { Trunk } from '../lib/model/trunk.js';
import { Weights } from '../lib/model/weights.js';
import { createRandom } from '../lib/util/random.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const preset = flag('preset', 'bench318m');
const mixedCount = Number(flag('prompts', '1000'));
const k = openBackend(flag('device', 'auto'));
// the ids of Qwen's tokenizer: a loom checkpoint's engine draws from these rows of the padded head
const QWEN_IDS = 151_851;
const config = resolveConfig(preset, {}, QWEN_IDS);
const weights = new Weights(k, parameterSpecs(config), k.kind === 'cpu' ? 'f32' : 'bf16');
weights.assign(initialValues(config, weights.specs, 1));
const random = createRandom(7);
const promptOf = (n: number) => Int32Array.from({ length: n }, () => Math.floor(random.next() * 151_000));
const sync = () => k.synchronize();
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** New tokens/s decoding `batch` sequences of `prompt` + `fresh` tokens (greedy, no stop); and the whole run's time. */
async function decodeRate(batch: number, prompt: number, fresh: number, batchInvariant = false): Promise<{ decode: number; total: number }> {
  const engine = createEngine({ k, weights, trunk: new Trunk(k, config, weights, Math.max(batch * prompt, batch)) }, { maxBatch: batch, contextLength: prompt + fresh + 1, vocabIds: QWEN_IDS, batchInvariant });
  const params = { ...DEFAULT_SAMPLING, temperature: 0, maxNew: fresh };
  const run = async () => {
    let first = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: batch }, (_, i) => engine.submit({ prompt: promptOf(prompt), params, onToken: () => void (i === 0 && !first && (first = performance.now())) })));
    const t1 = performance.now();
    return { decode: (batch * (fresh - 1)) / ((t1 - first) / 1000), total: (batch * fresh) / ((t1 - t0) / 1000) };
  };
  await run(); // warm-up: GEMM plans, graph recording
  const out = await run();
  engine.close();
  return out;
}

/** Bytes a decode step must read: every weight but the embedding table (one row of it is read). */
function stepBytes(): number {
  const table = weights.w('model.embed_tokens.weight');
  return weights.bytes - table.bytes;
}

/** Device copy bandwidth: read + write bytes per second of a 1 GiB copy. */
function copyBandwidth(): number {
  const n = 1 << 28;
  const a = k.alloc([n]), b = k.alloc([n]);
  k.copy(b, a);
  sync();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) k.copy(b, a);
  sync();
  const s = (performance.now() - t0) / 1000 / 5;
  k.free(a), k.free(b);
  return (2 * a.bytes) / s;
}

function prefillRate(T: number): number {
  const trunk = new Trunk(k, config, weights, T);
  const ids = promptOf(T);
  trunk.forward({ ids, rows: 1, seqLen: T });
  sync();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) trunk.forward({ ids, rows: 1, seqLen: T });
  sync();
  return T / ((performance.now() - t0) / 1000 / 5);
}

/**
 * Milliseconds of one sampling call over [batch, vocab] logits, with top-p 0.9 / temperature 0.7 and plain:
 * `inStep` as the engine runs it, recorded in a CUDA graph (20 calls in one graph, so no launch
 * from the host is counted), and `launched` with each call's kernels launched from the host.
 */
function samplingMs(batch: number, topP: number): { inStep: number; launched: number } {
  const V = QWEN_IDS;
  const logits = k.alloc([batch, V]);
  k.upload(logits, Float32Array.from({ length: batch * V }, () => 4 * (random.next() - 0.5)));
  const rows = k.alloc([batch * SAMPLE_ROW_WORDS], 'i32');
  k.upload(rows, packSampleRows(Array.from({ length: batch }, (_, b) => ({ temperature: 0.7, topP, repetitionPenalty: 1, topK: 0, seed: b, counter: 1, historyRow: -1, historyLength: 0 }))));
  const out = k.alloc([batch], 'i32');
  const calls = 20;
  const timed = (run: () => void): number => {
    run();
    sync();
    const t0 = performance.now();
    run();
    sync();
    return (performance.now() - t0) / calls;
  };
  const sampleAll = () => { for (let i = 0; i < calls; i++) k.sample(out, logits, rows); };
  const launched = timed(sampleAll);
  // a graph is recorded on a stream of its own, as the engine records its step
  const stream = k.createStream(); // 0 on the CPU
  if (stream) k.setStream(stream);
  const graph = k.captureGraph(sampleAll);
  const inStep = graph ? timed(() => graph.launch()) : launched;
  graph?.destroy();
  if (stream) k.setStream(0), k.destroyStream(stream);
  k.free(logits), k.free(rows), k.free(out);
  return { inStep, launched };
}

async function mixed(count: number, batchInvariant = false): Promise<{ prompts: number; seconds: number; new_tokens_per_s: number }> {
  const maxBatch = 256;
  const engine = createEngine({ k, weights, trunk: new Trunk(k, config, weights, 16_384) }, { maxBatch, contextLength: 1024 + 257, vocabIds: QWEN_IDS, batchInvariant });
  const lengths = Array.from({ length: count }, () => 32 + Math.floor(random.next() * 993));
  const params = { ...DEFAULT_SAMPLING, temperature: 0, maxNew: 256 };
  await Promise.all(lengths.slice(0, maxBatch).map((n) => engine.submit({ prompt: promptOf(n), params: { ...params, maxNew: 4 } })));
  const t0 = performance.now();
  const outs = await Promise.all(lengths.map((n) => engine.submit({ prompt: promptOf(n), params })));
  const seconds = (performance.now() - t0) / 1000;
  engine.close();
  const fresh = outs.reduce((a, o) => a + o.tokens.length, 0);
  return { prompts: count, seconds: round(seconds, 2), new_tokens_per_s: Math.round(fresh / seconds) };
}

/** Per-op device time of one decode step at `batch` (graphs off: each op is launched, timed and synchronized). */
async function decodeProfile(batch: number, steps: number): Promise<{ batch: number; ms_per_step: number; ops: { op: string; calls: number; ms: number }[] }> {
  const profile = k.profile!;
  const engine = createEngine({ k, weights, trunk: new Trunk(k, config, weights, batch * 128) }, { maxBatch: batch, contextLength: 128 + steps + 2, vocabIds: QWEN_IDS, graphs: false });
  const params = { ...DEFAULT_SAMPLING, temperature: 0, maxNew: steps + 1 };
  await engine.submit({ prompt: promptOf(128), params: { ...params, maxNew: 4 } });
  // counted from the first drawn token on: the prompts' prefill is left out
  let counting = false;
  const start = () => void (!counting && (counting = true, profile.reset()));
  await Promise.all(Array.from({ length: batch }, (_, i) => engine.submit({ prompt: promptOf(128), params, onToken: i === 0 ? start : undefined })));
  engine.close();
  const report = profile.report();
  const ms = report.reduce((a, o) => a + o.ms, 0) / steps;
  return { batch, ms_per_step: round(ms, 3), ops: report.map((o) => ({ op: o.op, calls: round(o.calls / steps, 2), ms: round(o.ms / steps, 4) })) };
}

if (k.profile) {
  console.log(JSON.stringify({ bench: 'generate-profile', preset, device: k.name, decode: [await decodeProfile(1, 32), await decodeProfile(32, 32)] }));
  process.exit(0);
}

const b1 = await decodeRate(1, 128, 256);
const b32 = await decodeRate(32, 128, 256);
const bandwidth = copyBandwidth();
const boundTokensPerS = bandwidth / stepBytes();
const stepMs = 1000 / b1.decode;
const sampleMs = samplingMs(1, 0.9), sampleMsPlain = samplingMs(1, 1);
const loom = {
  decode_b1_tokens_per_s: Math.round(b1.decode),
  decode_b1_end_to_end_tokens_per_s: Math.round(b1.total),
  decode_b32_tokens_per_s: Math.round(b32.decode),
  weight_bytes_per_step: stepBytes(),
  copy_bandwidth_gb_s: round(bandwidth / 1e9),
  bandwidth_bound_tokens_per_s: Math.round(boundTokensPerS),
  decode_b1_of_bound: round(b1.decode / boundTokensPerS, 3),
  prefill_2048_tokens_per_s: Math.round(prefillRate(2048)),
  sampling_ms_top_p: round(sampleMs.inStep, 4),
  sampling_ms_plain: round(sampleMsPlain.inStep, 4),
  sampling_ms_top_p_launched: round(sampleMs.launched, 4),
  sampling_share_of_b1_step: round(sampleMs.inStep / stepMs, 3),
  mixed: await mixed(mixedCount),
  // what --batch-invariant costs (docs/generate.md, Seeds)
  batch_invariant: {
    decode_b1_tokens_per_s: Math.round((await decodeRate(1, 128, 256, true)).decode),
    decode_b32_tokens_per_s: Math.round((await decodeRate(32, 128, 256, true)).decode),
    mixed: await mixed(mixedCount, true),
  },
};
const result: Record<string, unknown> = { bench: 'generate', preset, device: k.name, loom };
console.error(JSON.stringify(result));
if (args.includes('--peer')) {
  const peer = spawnSync('python3', ['scripts/generate-reference.py', '--preset-json', JSON.stringify(config), '--prompts', flag('peer-prompts', '256')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (peer.status !== 0) {
    console.log(JSON.stringify({ ...result, transformers: { error: `generate-reference.py exited ${peer.status}` } }));
    process.exit(1);
  }
  const p = JSON.parse(peer.stdout.trim().split('\n').pop()!);
  result.transformers = p;
  result.ratios = {
    b1_vs_eager: round(loom.decode_b1_tokens_per_s / p.decode_b1_eager, 2),
    b1_vs_compile: round(loom.decode_b1_tokens_per_s / p.decode_b1_compile, 2),
    b32_vs_compile: round(loom.decode_b32_tokens_per_s / p.decode_b32_compile, 2),
    mixed_vs_padded: round(loom.mixed.new_tokens_per_s / p.mixed_new_tokens_per_s, 2),
    prefill_2048: round(loom.prefill_2048_tokens_per_s / p.prefill_2048_tokens_per_s, 2),
  };
}
console.log(JSON.stringify(result));
