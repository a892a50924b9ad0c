// Fine-tuning throughput and the reward model's agreement with transformers.
//
//   node --import tsx bench/sft.ts --data alpaca.jsonl --device cuda [--preset bench318m --seq 2048 --batch 8 --steps 5 --no-peer]
//     one JSON line: tokens/s of a training step on packed chat rows and on padded ones (one
//     conversation a row), with the loss-bearing tokens/s of each, against a pretraining step of
//     the same shape and PyTorch's step of that shape (eager and torch.compile; --no-peer skips
//     them) in the same run.
//   node --import tsx bench/sft.ts --agreement --data alpaca.jsonl --device cuda [--steps 200 --seq 256 --batch 8 --lr 1e-3 --noise]
//     SFT of `tiny` in loom and in PyTorch (masked cross-entropy, scripts/pytorch-reference.py
//     train --targets) from the same exported init on the same batches (one conversation a row):
//     the two loss curves, and with --noise PyTorch against itself.
//   node --import tsx bench/sft.ts --rm-throughput --device cuda [--preset bench318m --seq 2048 --batch 8 --steps 5 --no-peer]
//     one JSON line: tokens/s of a reward-model training step (rows are chosen/rejected pairs,
//     random tokens, the score read at the last token, Bradley–Terry loss) against a pretraining
//     step of the same shape, and PyTorch's Qwen2ForSequenceClassification step (eager and
//     torch.compile) in the same run.
//   node --import tsx bench/sft.ts --rm-equivalence --ckpt RM_CKPT --data prefs.jsonl
//     loom's fp32 rewards (CPU) for the pairs' sequences against transformers'
//     Qwen2ForSequenceClassification on the same checkpoint (scripts/pytorch-reference.py rewards).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend, type Backend, type DType } from '../kernels/index.js';
import { chatMessages, preferencePair } from '../lib/chat/formats.js';
import { packExamples, type PackedRow } from '../lib/chat/pack.js';
import { encodePreference } from '../lib/chat/preference.js';
import { encodeSftExample, type SftExample } from '../lib/chat/sft-examples.js';
import { readDocs } from '../lib/io/read.js';
import { huggingFaceConfig, saveCheckpoint } from '../lib/model/checkpoint.js';
import { resolveConfig, type ModelConfig } from '../lib/model/config.js';
import { checkpointVocabulary, loadModel } from '../lib/model/load.js';
import { initialValues, parameterSpecs, type HeadKind } from '../lib/model/params.js';
import { scalarValues } from '../lib/model/scalar-head.js';
import { Trunk } from '../lib/model/trunk.js';
import { Weights } from '../lib/model/weights.js';
import { ENDOFTEXT } from '../lib/tokenizer/special.js';
import { Tokenizer } from '../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../lib/tokenizer/vocabulary.js';
import { nextTokenObjective, type NextTokenBatch } from '../lib/train/next-token.js';
import { ADAMW_DEFAULTS, Optimizer } from '../lib/train/optimizer.js';
import { rewardObjective } from '../lib/train/reward.js';
import { learningRate } from '../lib/train/schedule.js';
import { packedBatch } from '../lib/train/packed-source.js';
import { Trainable } from '../lib/train/trainable.js';
import { createRandom } from '../lib/util/random.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const device = flag('device', 'auto');

/** Seconds of `steps` training steps, step 0 (plans, autotuning) run first and not timed. */
function timeSteps(k: Backend, step: (i: number) => void, steps: number): number {
  step(0);
  k.synchronize();
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) step(i);
  k.synchronize();
  return (performance.now() - t0) / 1000;
}

async function throughput(): Promise<void> {
  const T = Number(flag('seq', '2048')), B = Number(flag('batch', '8')), steps = Number(flag('steps', '5'));
  const { examples, padId } = await encodeChats(flag('data', ''), T);
  const k = openBackend(device);
  const dtype: DType = k.kind === 'cpu' ? 'f32' : 'bf16';
  const config = resolveConfig(flag('preset', 'bench318m'), { seqLen: T }, 151_851);
  const weights = new Weights(k, parameterSpecs(config), dtype);
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, 1));
  const trunk = new Trunk(k, config, weights, B * T);
  const objective = nextTokenObjective(trunk, 0);
  const opt = new Optimizer(k, params);
  const lossSum = k.alloc([1]);
  const time = (batches: NextTokenBatch[]) => {
    let counted = 0;
    const seconds = timeSteps(k, (i) => {
      const batch = batches[i % batches.length]!;
      if (i > 0) counted += objective.counted(batch);
      params.zeroGrads();
      k.zero(lossSum);
      objective.run(batch, { grads: params.grad, gradScale: 1 / Math.max(1, objective.counted(batch)), dropoutSeed: 0, lossSum });
      opt.gradNorm();
      opt.update(1e-5, i + 1);
    }, steps);
    return { tokens_per_s: Math.round((steps * B * T) / seconds), loss_tokens_per_s: Math.round(counted / seconds) };
  };
  const batchesOf = (rows: PackedRow[]) => Array.from({ length: Math.min(steps + 1, Math.floor(rows.length / B)) }, (_, i) => packedBatch(rows.slice(i * B, (i + 1) * B)));
  const r = createRandom(3);
  const random = Int32Array.from({ length: B * T }, () => r.int(config.vocabSize));
  const pretrainShape = time([{ ids: random, targets: random, rows: B, seqLen: T }]);
  const packedRows = packExamples(examples, T, { pack: true, padId });
  const paddedRows = packExamples(examples, T, { pack: false, padId });
  const packed = time(batchesOf(packedRows));
  const padded = time(batchesOf(paddedRows));
  const peers = pytorchPeers(k, config, 'lm', B, T, steps);
  process.stdout.write(
    JSON.stringify({
      bench: 'sft',
      preset: flag('preset', 'bench318m'),
      seq: T,
      batch: B,
      device: `${k.device} (${k.name})`,
      conversations: examples.length,
      packed_rows: packedRows.length,
      conversations_per_row: Number((examples.length / packedRows.length).toFixed(2)),
      pretrain_tokens_per_s: pretrainShape.tokens_per_s,
      packed_tokens_per_s: packed.tokens_per_s,
      packed_vs_pretrain: Number((packed.tokens_per_s / pretrainShape.tokens_per_s).toFixed(3)),
      packed_loss_tokens_per_s: packed.loss_tokens_per_s,
      padded_loss_tokens_per_s: padded.loss_tokens_per_s,
      packed_vs_padded_loss_tokens: Number((packed.loss_tokens_per_s / padded.loss_tokens_per_s).toFixed(2)),
      ...(peers.eager !== undefined && { pytorch_eager_tokens_per_s: peers.eager, pytorch_compile_tokens_per_s: peers.compile, packed_vs_eager: Number((packed.tokens_per_s / peers.eager).toFixed(3)), packed_vs_compile: Number((packed.tokens_per_s / peers.compile!).toFixed(3)) }),
    }) + '\n',
  );
}

async function encodeChats(path: string, T: number, limit = Infinity): Promise<{ examples: SftExample[]; padId: number }> {
  const tokenizer = new Tokenizer(loadVocabulary({}));
  const examples: SftExample[] = [];
  for await (const doc of readDocs([path])) {
    const messages = chatMessages(doc, 'auto');
    if (typeof messages === 'string') continue;
    const e = encodeSftExample(tokenizer, messages, { maxLen: T, loss: 'assistant', systemPrompt: 'You are a helpful assistant.' });
    if (!('drop' in e)) examples.push(e);
    if (examples.length >= limit) break;
  }
  const padId = tokenizer.vocab.specials[ENDOFTEXT]!;
  tokenizer.free();
  return { examples, padId };
}

async function agreement(): Promise<void> {
  const T = Number(flag('seq', '256')), B = Number(flag('batch', '8')), steps = Number(flag('steps', '200')), lr = Number(flag('lr', '1e-3')), warmup = 20;
  const { examples, padId } = await encodeChats(flag('data', ''), T, steps * B);
  const rows = packExamples(examples, T, { pack: false, padId });
  if (rows.length < steps * B) throw new Error(`${rows.length} rows, need ${steps * B}`);
  const k = openBackend(device);
  const dtype: DType = k.kind === 'cpu' ? 'f32' : 'bf16';
  const config = resolveConfig('tiny', { seqLen: T }, 151_851);
  const weights = new Weights(k, parameterSpecs(config), dtype);
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, 11));
  const work = mkdtempSync(join(tmpdir(), 'loom-bench-sft-'));
  const info = { vocab_hash: '', vocab: 'default', vocab_ids: 151_851, eot: padId, nfc: true, dropout: 0, init_std: config.initStd };
  saveCheckpoint(join(work, 'init'), params, config, info);
  const trunk = new Trunk(k, config, weights, B * T);
  const objective = nextTokenObjective(trunk, 0);
  const opt = new Optimizer(k, params, { ...ADAMW_DEFAULTS, weightDecay: 0.1 });
  const lossSum = k.alloc([1]);
  const ids = new Int32Array(steps * B * T), targets = new Int32Array(steps * B * T);
  const loom: number[] = [];
  for (let step = 0; step < steps; step++) {
    const batch = packedBatch(rows.slice(step * B, (step + 1) * B));
    ids.set(batch.ids, step * B * T);
    targets.set(batch.targets, step * B * T);
    const counted = objective.counted(batch);
    params.zeroGrads();
    k.zero(lossSum);
    objective.run(batch, { grads: params.grad, gradScale: 1 / counted, dropoutSeed: 0, lossSum });
    loom.push((k.download(lossSum) as Float32Array)[0]! / counted);
    opt.gradNorm();
    opt.update(learningRate({ peak: lr, warmup, total: steps, minRatio: 0.1 }, step), step + 1);
  }
  writeFileSync(join(work, 'ids.bin'), ids);
  writeFileSync(join(work, 'targets.bin'), targets);
  const torchRun = () => {
    const r = spawnSync('python3', ['scripts/pytorch-reference.py', 'train', '--init', join(work, 'init'), '--batches', join(work, 'ids.bin'), '--targets', join(work, 'targets.bin'), '--steps', String(steps), '--windows', String(B), '--seq', String(T), '--lr', String(lr), '--warmup', String(warmup)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`pytorch-reference.py train failed:\n${r.stderr.slice(-3000)}`);
    return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => Number(JSON.parse(l).loss));
  };
  const torch = torchRun();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const diffs = loom.map((l, i) => Math.abs(l - torch[i]!));
  const rerun = args.includes('--noise') ? torchRun() : undefined;
  const noise = rerun?.map((l, i) => Math.abs(l - torch[i]!));
  process.stdout.write(
    JSON.stringify({
      check: 'sft-loss-curve',
      steps,
      seq: T,
      batch: B,
      lr,
      device: `${k.device} (${k.name})`,
      loom_first: Number(loom[0]!.toFixed(4)),
      torch_first: Number(torch[0]!.toFixed(4)),
      loom_last: Number(loom.at(-1)!.toFixed(4)),
      torch_last: Number(torch.at(-1)!.toFixed(4)),
      max_abs_diff: Number(Math.max(...diffs).toFixed(4)),
      mean_abs_diff: Number(mean(diffs).toFixed(4)),
      mean_abs_diff_last50: Number(mean(diffs.slice(-50)).toFixed(4)),
      ...(noise && { torch_vs_torch_max_abs_diff: Number(Math.max(...noise).toFixed(4)), torch_vs_torch_mean_abs_diff: Number(mean(noise).toFixed(4)) }),
    }) + '\n',
  );
}

/**
 * Tokens/s of PyTorch's training step (transformers' Qwen2 with this config, bf16 autocast, AdamW)
 * on B rows of T tokens, eager and torch.compile, in this run; none on the CPU or with --no-peer.
 */
function pytorchPeers(k: Backend, config: ModelConfig, head: HeadKind, B: number, T: number, steps: number): { eager?: number; compile?: number } {
  if (args.includes('--no-peer') || k.kind === 'cpu') return {};
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-peer-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(huggingFaceConfig(config, { vocab_hash: '', vocab: '', vocab_ids: config.vocabSize, eot: 0, nfc: true, dropout: 0, init_std: 0.02 }, head)));
  const peers: { eager?: number; compile?: number } = {};
  for (const mode of ['eager', 'compile'] as const) {
    const p = spawnSync('python3', ['scripts/pytorch-reference.py', 'bench', '--config', dir, '--batch', String(B), '--seq', String(T), '--mode', mode, '--steps', String(steps)], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`pytorch-reference.py bench failed:\n${p.stderr.slice(-3000)}`);
    peers[mode] = Number(JSON.parse(p.stdout.split('\n').find((l) => l.startsWith('{'))!).tokens_per_s);
  }
  return peers;
}

async function rmThroughput(): Promise<void> {
  const preset = flag('preset', 'bench318m');
  const T = Number(flag('seq', '2048')), B = Number(flag('batch', '8')), steps = Number(flag('steps', '5'));
  if (B % 2 !== 0) throw new Error('--batch counts rows: an even number (two a pair)');
  const k = openBackend(device);
  const dtype: DType = k.kind === 'cpu' ? 'f32' : 'bf16';
  const config = resolveConfig(preset, { seqLen: T }, 151_851);
  const r = createRandom(3);
  const random = (n: number) => Int32Array.from({ length: n }, () => r.int(config.vocabSize));
  // each model stays allocated after its timing (a few GB at bench318m): the card has room for both
  const measure = (head: HeadKind) => {
    const weights = new Weights(k, parameterSpecs(config, head), dtype);
    const params = new Trainable(k, weights);
    params.assign(initialValues(config, weights.specs, 1));
    const trunk = new Trunk(k, config, weights, B * T);
    const opt = new Optimizer(k, params);
    const lossSum = k.alloc([1]);
    const ids = random(B * T);
    const pairs = { pairs: Array.from({ length: B / 2 }, (_, p) => ({ chosen: ids.subarray(2 * p * T, (2 * p + 1) * T), rejected: ids.subarray((2 * p + 1) * T, (2 * p + 2) * T), promptLen: 0 })) };
    const objective = head === 'score' ? rewardObjective(trunk, { dropout: 0, pooling: 'last', padId: 0 }) : nextTokenObjective(trunk, 0);
    const batch = head === 'score' ? pairs : { ids, targets: ids, rows: B, seqLen: T };
    const seconds = timeSteps(k, (i) => {
      params.zeroGrads();
      k.zero(lossSum);
      (objective.run as (b: typeof batch, ctx: object) => void)(batch, { grads: params.grad, gradScale: 1 / B, dropoutSeed: 0, lossSum });
      opt.gradNorm();
      opt.update(1e-5, i + 1);
    }, steps);
    return Math.round((steps * B * T) / seconds);
  };
  const pretrain = measure('lm');
  const rm = measure('score');
  const peers = pytorchPeers(k, config, 'score', B, T, steps);
  process.stdout.write(
    JSON.stringify({
      bench: 'rm',
      preset,
      seq: T,
      batch_rows: B,
      device: `${k.device} (${k.name})`,
      pretrain_tokens_per_s: pretrain,
      rm_tokens_per_s: rm,
      rm_vs_pretrain: Number((rm / pretrain).toFixed(3)),
      ...(peers.eager !== undefined && { pytorch_eager_tokens_per_s: peers.eager, pytorch_compile_tokens_per_s: peers.compile, rm_vs_eager: Number((rm / peers.eager).toFixed(3)), rm_vs_compile: Number((rm / peers.compile!).toFixed(3)) }),
    }) + '\n',
  );
}

async function rmEquivalence(): Promise<void> {
  const ckpt = flag('ckpt', '');
  const model = loadModel(ckpt, { device: 'cpu', capacity: 4096 });
  const tokenizer = new Tokenizer(checkpointVocabulary(model.checkpoint), { nfc: model.checkpoint.info.nfc });
  const seqs: Int32Array[] = [];
  for await (const doc of readDocs([flag('data', '')])) {
    const pair = preferencePair(doc);
    if (typeof pair === 'string') continue;
    const e = encodePreference(tokenizer, pair, { maxLen: 512, systemPrompt: 'You are a helpful assistant.' });
    if (!('drop' in e)) seqs.push(e.chosen, e.rejected);
    if (seqs.length >= 16) break;
  }
  tokenizer.free();
  const rewards = seqs.map((s) => scalarValues(model.trunk, model.trunk.forward({ ids: s, rows: 1, seqLen: s.length }), Int32Array.of(s.length - 1)).values[0]!);
  const work = mkdtempSync(join(tmpdir(), 'loom-bench-rm-'));
  writeFileSync(join(work, 'seqs.jsonl'), seqs.map((s) => JSON.stringify([...s])).join('\n') + '\n');
  writeFileSync(join(work, 'loom.txt'), rewards.join('\n') + '\n');
  const r = spawnSync('python3', ['scripts/pytorch-reference.py', 'rewards', '--ckpt', ckpt, '--seqs', join(work, 'seqs.jsonl'), '--loom', join(work, 'loom.txt')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pytorch-reference.py rewards failed:\n${r.stderr.slice(-2000)}`);
  process.stdout.write(r.stdout);
}

if (args.includes('--rm-equivalence')) await rmEquivalence();
else if (args.includes('--rm-throughput')) await rmThroughput();
else if (args.includes('--agreement')) await agreement();
else await throughput();
