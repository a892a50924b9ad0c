// Pretraining throughput and agreement with PyTorch, measured in the same run on the same machine.
//
//   node --import tsx bench/pretrain.ts --device cuda [--preset bench318m --seq 2048 --batch 8 --steps 5 --vocab 151851]
//     one JSON line: loom's tokens/s, MFU and peak memory for a full training step (forward,
//     backward, clipping, AdamW), and PyTorch eager and torch.compile on the same shape
//     (scripts/pytorch-reference.py), with ratios. --no-peer skips PyTorch (e.g. on CPU).
//   LOOM_PROFILE=1 node --import tsx bench/pretrain.ts --device cuda [--preset …]
//     instead of the throughput line, one line with each kernel's device time per step
//     (synchronized after every call; see kernels/profile.ts)
//   node --import tsx bench/pretrain.ts --agreement --device cuda [--steps 200 --preset tiny --seq 128 --batch 8 --lr 3e-3 --noise]
//     trains `tiny` in loom and in PyTorch from the same exported init on the same batches and
//     compares the loss curves, then compares loom's logits with transformers' on its checkpoint.
//   node --import tsx bench/pretrain.ts --data-parallel --gpus 2 [--steps 30 --preset tiny --seq 128 --batch 8 --lr 3e-3]
//     `loom pretrain --gpus 2` against one GPU with 2-step accumulation (the same global batch).
//   node --import tsx bench/pretrain.ts --identity --other ../loom-before --device cuda [--preset tiny --steps 200 --seq 128 --batch 8]
//     the same `loom pretrain` run in this tree and in another checkout (e.g. the commit before a
//     refactor, built there), on the same shards: are the loss, grad-norm and validation columns
//     of the two metrics files bit-identical?
//   The throughput line also reports the device memory of the same model loaded for inference
//   (weights only, in the compute dtype) beside the training footprint.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openBackend, type DType } from '../kernels/index.js';
import { flopsPerToken, parameterCount, resolveConfig } from '../lib/model/config.js';
import { huggingFaceConfig } from '../lib/model/checkpoint.js';
import { allLogits } from '../lib/model/lm-head.js';
import { loadModel } from '../lib/model/load.js';
import { initialValues, parameterSpecs } from '../lib/model/params.js';
import { Trunk } from '../lib/model/trunk.js';
import { Weights } from '../lib/model/weights.js';
import { TrainStream, openSplit } from '../lib/train/data.js';
import { SINGLE } from '../lib/train/distributed.js';
import { nextTokenObjective } from '../lib/train/next-token.js';
import { Optimizer } from '../lib/train/optimizer.js';
import { peakFlops, pretrain, type StepRecord } from '../lib/train/pretrain.js';
import { Trainable } from '../lib/train/trainable.js';
import { createRandom } from '../lib/util/random.js';
import { patternStream, writeShards } from '../test/lib/train/shards.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const device = flag('device', 'auto');
const work = mkdtempSync(join(tmpdir(), 'loom-bench-pretrain-'));

function python(sub: string[]): Record<string, unknown>[] {
  const r = spawnSync('python3', ['scripts/pytorch-reference.py', ...sub], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pytorch-reference.py ${sub[0]} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

function throughput(): void {
  const preset = flag('preset', 'bench318m');
  const T = Number(flag('seq', '2048')), B = Number(flag('batch', '8')), steps = Number(flag('steps', '5'));
  const k = openBackend(device);
  const dtype: DType = k.kind === 'cpu' ? 'f32' : 'bf16';
  const config = resolveConfig(preset, { seqLen: T }, Number(flag('vocab', '151851'))); // tiny takes the data's vocabulary (default: loom's 151,851 ids)
  const used = () => (k.kind === 'cpu' ? 0 : k.memInfo().total - k.memInfo().free);
  const before = used();
  // Inference: the weights alone, as generate/eval and PPO's frozen models hold them.
  const inference = new Weights(k, parameterSpecs(config), dtype);
  const inferenceGb = (used() - before) / 2 ** 30;
  const inferenceBytes = inference.bytes;
  inference.free();
  const weights = new Weights(k, parameterSpecs(config), dtype);
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, 1));
  const trainingStateGb = (params.bytes + weights.bytes) / 2 ** 30;
  const trunk = new Trunk(k, config, weights, B * T);
  const objective = nextTokenObjective(trunk, 0);
  const opt = new Optimizer(k, params);
  const lossSum = k.alloc([1]);
  const r = createRandom(3);
  const N = B * T;
  const ids = Int32Array.from({ length: N }, () => r.int(config.vocabSize));
  const targets = Int32Array.from({ length: N }, () => r.int(config.vocabSize));
  let loss = 0;
  const step = (i: number) => {
    params.zeroGrads();
    k.zero(lossSum);
    objective.run({ ids, targets, rows: B, seqLen: T }, { grads: params.grad, gradScale: 1 / N, dropoutSeed: 0, lossSum });
    opt.gradNorm(); // the trainer's one sync per step (it reads the norm for metrics)
    opt.update(3e-4, i + 1);
    loss = (k.download(lossSum) as Float32Array)[0]! / N;
  };
  step(0);
  step(1);
  k.synchronize();
  if (k.profile) {
    k.profile.reset();
    for (let i = 0; i < steps; i++) step(i + 2);
    const ops = k.profile.report().map((o) => ({ op: o.op, calls: o.calls / steps, ms: Number((o.ms / steps).toFixed(3)) }));
    const total = ops.reduce((sum, o) => sum + o.ms, 0);
    process.stdout.write(JSON.stringify({ bench: 'pretrain-profile', preset, seq: T, batch: B, device: `${k.device} (${k.name})`, ms_per_step: Number(total.toFixed(2)), ops }) + '\n');
    return;
  }
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step(i + 2);
  k.synchronize();
  const seconds = (performance.now() - t0) / 1000 / steps;
  const tps = N / seconds;
  const peak = peakFlops(k);
  const peakUsed = k.kind === 'cpu' ? null : (used() - before) / 2 ** 30;
  const line: Record<string, unknown> = {
    bench: 'pretrain',
    preset,
    params_m: Math.round(parameterCount(config) / 1e6),
    seq: T,
    batch: B,
    device: `${k.device} (${k.name})`,
    dtype,
    tokens_per_s: Math.round(tps),
    ms_per_step: Number((seconds * 1e3).toFixed(2)),
    mfu: peak ? Number(((flopsPerToken(config, T) * tps) / peak).toFixed(4)) : null,
    peak_mem_gb: peakUsed === null ? null : Number(peakUsed.toFixed(2)),
    arena_gb: Number((trunk.arena.highWater / 2 ** 30).toFixed(2)),
    training_state_gb: Number(trainingStateGb.toFixed(3)),
    inference_weights_gb: Number((inferenceBytes / 2 ** 30).toFixed(3)),
    inference_weights_gb_device: k.kind === 'cpu' ? null : Number(inferenceGb.toFixed(3)),
    loss: Number(loss.toFixed(4)),
  };
  if (!args.includes('--no-peer') && k.kind !== 'cpu') {
    const dir = join(work, 'config');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(huggingFaceConfig(config, { vocab_hash: '', vocab: '', vocab_ids: config.vocabSize, eot: 0, nfc: true, dropout: 0, init_std: 0.02 })));
    for (const mode of ['eager', 'compile']) {
      try {
        const [peer] = python(['bench', '--config', dir, '--batch', String(B), '--seq', String(T), '--mode', mode, '--steps', String(steps)]);
        line[`${mode}_tokens_per_s`] = peer!.tokens_per_s;
        line[`${mode}_mfu`] = peer!.mfu;
        line[`${mode}_peak_mem_gb`] = peer!.peak_mem_gb;
        line[`ratio_vs_${mode}`] = Number((tps / Number(peer!.tokens_per_s)).toFixed(3));
        line.torch = peer!.torch;
      } catch (err) {
        line[`${mode}_error`] = (err as Error).message.slice(-400);
      }
    }
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}

async function agreement(): Promise<void> {
  const steps = Number(flag('steps', '200'));
  const preset = flag('preset', 'tiny');
  const T = Number(flag('seq', '128')), B = Number(flag('batch', '8')), vocab = 512, lr = Number(flag('lr', '3e-3'));
  const data = join(work, 'shards');
  writeShards(data, { vocab, seqLen: T, train: patternStream(vocab, 400_000, 1, 64, 33), val: patternStream(vocab, 20_000, 2, 64, 33) });
  const common = {
    data,
    preset,
    overrides: { seqLen: T },
    device,
    batch: B,
    lr,
    warmup: 20,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    clip: 1,
    evalEvery: 0,
    evalWindows: 0,
    saveEvery: 0,
    seed: 11,
    resume: false,
    skipNonfinite: false,
    world: SINGLE,
    log: (l: string) => process.stderr.write(l + '\n'),
    run: {},
  };
  const init = join(work, 'init');
  await pretrain({ ...common, out: init, steps: 0, onRecord: () => {} });
  const loom: StepRecord[] = [];
  await pretrain({ ...common, out: join(work, 'loom'), init, steps, onRecord: (r) => 'loss' in r && loom.push(r) });

  // The exact windows loom trained on, in order (TrainStream is the trainer's own order).
  const stream = new TrainStream(openSplit(data, 'train', T), common.seed);
  const batches = new Int32Array(steps * B * (T + 1));
  for (let o = 0; o < steps * B; o++) batches.set(stream.dataset.window(stream.windowIndex(o)), o * (T + 1));
  writeFileSync(join(work, 'batches.bin'), batches);
  const trainTorch = () => python(['train', '--init', init, '--batches', join(work, 'batches.bin'), '--steps', String(steps), '--windows', String(B), '--seq', String(T), '--lr', String(lr), '--warmup', '20']);
  const torch = trainTorch();
  const diffs = loom.map((r, i) => Math.abs(r.loss - Number(torch[i]!.loss)));
  // --noise: PyTorch against itself (its backward is not deterministic), the floor loom is held to
  const rerun = args.includes('--noise') ? trainTorch() : undefined;
  const rerunDiffs = rerun?.map((r, i) => Math.abs(Number(r.loss) - Number(torch[i]!.loss)));
  const last = (xs: number[]) => xs.slice(-Math.min(50, xs.length));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  process.stdout.write(
    JSON.stringify({
      check: 'loss-curve',
      preset,
      seq: T,
      batch: B,
      steps,
      device: `${openBackend(device).device} (${openBackend(device).name})`,
      loom_first: loom[0]!.loss,
      torch_first: torch[0]!.loss,
      loom_last: loom.at(-1)!.loss,
      torch_last: torch.at(-1)!.loss,
      lr,
      max_abs_diff: Number(Math.max(...diffs).toFixed(4)),
      mean_abs_diff: Number(mean(diffs).toFixed(4)),
      ...(rerunDiffs && {
        torch_vs_torch_max_abs_diff: Number(Math.max(...rerunDiffs).toFixed(4)),
        torch_vs_torch_mean_abs_diff: Number(mean(rerunDiffs).toFixed(4)),
      }),
      mean_abs_diff_last50: Number(mean(last(diffs)).toFixed(4)),
      loom_mean_last50: Number(mean(last(loom.map((r) => r.loss))).toFixed(4)),
      torch_mean_last50: Number(mean(last(torch.map((r) => Number(r.loss)))).toFixed(4)),
      every_10th: loom.map((r, i) => [r.step, r.loss, Number(Number(torch[i]!.loss).toFixed(5))]).filter((_, i) => (i + 1) % Math.max(1, Math.floor(steps / 10)) === 0),
    }) + '\n',
  );

  // Logits: loom's fp32 forward against transformers on the trained checkpoint.
  const ckpt = join(work, 'loom');
  const seq = 64;
  const { trunk } = loadModel(ckpt, { device, capacity: 2 * seq, dtype: 'f32' });
  const val = openSplit(data, 'val', seq);
  const ids = new Int32Array(2 * seq);
  for (let w = 0; w < 2; w++) ids.set(val.window(w).subarray(0, seq), w * seq);
  writeFileSync(join(work, 'ids.bin'), ids);
  writeFileSync(join(work, 'loom-logits.bin'), allLogits(trunk, trunk.forward({ ids, rows: 2, seqLen: seq })));
  const [cmp] = python(['logits', '--ckpt', ckpt, '--ids', join(work, 'ids.bin'), '--loom', join(work, 'loom-logits.bin'), '--seq', String(seq)]);
  process.stdout.write(JSON.stringify(cmp) + '\n');
}

/** `loom pretrain --gpus N` against one GPU accumulating N micro-batches: the same windows per step. */
function dataParallel(): void {
  const gpus = Number(flag('gpus', '2')), steps = Number(flag('steps', '30')), preset = flag('preset', 'tiny');
  const T = Number(flag('seq', '128')), B = Number(flag('batch', '8')), vocab = 512, lr = Number(flag('lr', '3e-3'));
  const data = join(work, 'shards');
  writeShards(data, { vocab, seqLen: T, train: patternStream(vocab, 400_000, 1, 64, 33), val: patternStream(vocab, 20_000, 2, 64, 33) });
  const base = ['--import', 'tsx', 'bin/loom.ts', 'pretrain', '--data', data, '--preset', preset, '--seq-len', String(T), '--batch', String(B), '--batch-tokens', String(B * T * gpus), '--steps', String(steps), '--lr', String(lr), '--warmup', '5', '--eval-every', '0'];
  const train = (extra: string[]) => {
    const r = spawnSync(process.execPath, [...base, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: Number(flag('timeout', '60')) * 1000 });
    process.stderr.write(r.stderr);
    if (r.status !== 0) throw new Error(`loom pretrain ${extra.join(' ')} failed (${r.status ?? r.signal})`);
    return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as StepRecord);
  };
  const one = train(['--device', 'cuda:0', '--out', join(work, 'one')]);
  const dp = train(['--gpus', String(gpus), '--out', join(work, 'dp')]);
  const diffs = one.map((r, i) => Math.abs(r.loss - dp[i]!.loss));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  process.stdout.write(
    JSON.stringify({
      check: 'data-parallel',
      preset,
      gpus,
      steps,
      tokens_per_step: B * T * gpus,
      device: `${openBackend('cuda').name}`,
      one_first: one[0]!.loss,
      dp_first: dp[0]!.loss,
      one_last: one.at(-1)!.loss,
      dp_last: dp.at(-1)!.loss,
      max_abs_diff: Number(Math.max(...diffs).toFixed(5)),
      one_tokens_per_s: median(one.map((r) => r.tokens_per_s)),
      dp_tokens_per_s: median(dp.map((r) => r.tokens_per_s)),
    }) + '\n',
  );
}

/** sha256 of a file of any size, read in 64 MiB pieces. */
function digest(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 26);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** One `loom pretrain` run in this tree and in `--other`, same flags and shards, metrics compared. */
function identity(): void {
  const other = flag('other', '') && resolve(flag('other', ''));
  if (!other) throw new Error('--identity needs --other DIR (a built checkout of another commit)');
  const preset = flag('preset', 'tiny'), steps = flag('steps', '200');
  const T = Number(flag('seq', '128')), B = Number(flag('batch', '8')), vocab = 512;
  const data = join(work, 'shards');
  writeShards(data, { vocab, seqLen: T, train: patternStream(vocab, Math.max(400_000, (Number(steps) + 1) * B * (T + 1)), 1, 64, 33), val: patternStream(vocab, 40_000, 2, 64, 33) });
  const run = (tree: string, name: string) => {
    const out = join(work, name);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(tree, 'bin/loom.ts'), 'pretrain', '--data', data, '--preset', preset, '--seq-len', String(T), '--batch', String(B), '--steps', steps, '--lr', flag('lr', '3e-3'), '--warmup', '10', '--eval-every', '50', '--eval-windows', '8', '--device', device, '--out', out, '--seed', '5'], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${tree}: loom pretrain failed (${r.status}):\n${r.stderr.slice(-2000)}`);
    return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, number>);
  };
  const strip = (records: Record<string, number>[]) => records.map(({ tokens_per_s: _t, mfu: _m, ...rest }) => rest);
  const mine = run(process.cwd(), 'this'), theirs = run(other, 'other');
  // The metrics are rounded; the final weights and moments are compared byte for byte.
  const sameFile = (name: string) => digest(join(work, 'this', name)) === digest(join(work, 'other', name));
  const a = strip(mine), b = strip(theirs);
  const firstDiff = a.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(b[i]));
  const tps = (rs: Record<string, number>[]) => rs.filter((r) => 'loss' in r).slice(1).map((r) => r.tokens_per_s!).sort((x, y) => x - y);
  const median = (xs: number[]) => xs[xs.length >> 1] ?? null;
  process.stdout.write(
    JSON.stringify({
      check: 'identity',
      preset,
      steps: Number(steps),
      seq: T,
      batch: B,
      device: `${openBackend(device).device} (${openBackend(device).name})`,
      records: a.length,
      bit_identical: firstDiff < 0 && a.length === b.length,
      first_difference: firstDiff < 0 ? null : { this: a[firstDiff], other: b[firstDiff] },
      same_weights: sameFile('model.safetensors'),
      same_optimizer_state: sameFile('optimizer.safetensors'),
      last_loss: mine.filter((r) => 'loss' in r).at(-1)?.loss,
      median_tokens_per_s: median(tps(mine)),
      other_median_tokens_per_s: median(tps(theirs)),
    }) + '\n',
  );
}

if (args.includes('--agreement')) await agreement();
else if (args.includes('--identity')) identity();
else if (args.includes('--data-parallel')) dataParallel();
else throughput();
