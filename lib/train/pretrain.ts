// The pretraining loop: next-token loss on token shards, gradient accumulation to a token batch,
// AdamW with warmup + cosine, clipping, periodic validation, atomic checkpoints (every N steps,
// at the end, and on SIGINT/SIGTERM), and data parallelism over NCCL ranks.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { DataError, UsageError } from '../io/errors.js';
import { flopsPerToken, parameterCount, resolveConfig, type ModelConfig } from '../model/config.js';
import { loadOptimizer, loadWeights, readCheckpoint, saveCheckpoint, type LoadedCheckpoint, type LoomModelInfo, type TrainerState } from '../model/checkpoint.js';
import { QwenModel } from '../model/model.js';
import type { TokenDataset } from '../tokenizer/token-dataset.js';
import { openSplit, TrainStream } from './data.js';
import { evaluate } from './evaluate.js';
import { ADAMW_DEFAULTS, Optimizer } from './optimizer.js';
import { learningRate } from './schedule.js';
import { connectRanks, type World } from './distributed.js';

export interface PretrainOptions {
  data: string;
  /** Validation shards (default: the val split of `data`). */
  valData?: string;
  out: string;
  preset: string;
  overrides: Partial<ModelConfig>;
  device: string;
  dtype?: DType;
  /** Sequences per micro-batch (per rank). */
  batch: number;
  /** Tokens per optimizer step across ranks; accumulation makes up the difference. */
  batchTokens?: number;
  steps?: number;
  tokens?: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
  evalEvery: number;
  /** Validation windows per evaluation (0 = the whole split). */
  evalWindows: number;
  saveEvery: number;
  seed: number;
  resume: boolean;
  init?: string;
  skipNonfinite: boolean;
  peakTflops?: number;
  world: World;
  /** Every metrics record (train step and eval), already JSON-ready. */
  onRecord: (record: MetricsRecord) => void;
  /** Human-readable notes (start, checkpoints, warnings). */
  log: (line: string) => void;
  /** Writes tokenizer files into a checkpoint directory being written. */
  tokenizerFiles?: (dir: string) => void;
  /** The flags of this run, recorded in trainer_state.json. */
  run: Record<string, unknown>;
}

export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  mfu: number | null;
  skipped?: true;
}

export interface EvalRecord {
  step: number;
  val_loss: number;
  val_ppl: number;
  val_tokens: number;
}

export type MetricsRecord = StepRecord | EvalRecord;

export interface PretrainResult {
  steps: number;
  tokens: number;
  lastLoss: number;
  valLoss?: number;
  interrupted?: string;
  checkpoint: string;
  tokensPerSecond: number;
  config: ModelConfig;
  device: string;
}

/** Dense bf16 tensor-core peak of the cards loom measures on, for MFU. */
export function peakFlops(k: Backend): number | null {
  if (k.kind === 'cpu') return null;
  if (/H100|H200|H800|GH200/i.test(k.name)) return 989e12;
  if (/A100|A800/i.test(k.name)) return 312e12;
  return null;
}

class NonFiniteError extends DataError {}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const world = o.world;
  const k = openBackend(o.device);
  const dtype: DType = o.dtype ?? (k.kind === 'cpu' ? 'f32' : 'bf16');
  if (k.kind === 'cpu' && dtype !== 'f32') throw new UsageError('--dtype bf16 needs a GPU; the CPU backend computes in fp32');

  // Where weights come from: a resumed run (--out's checkpoint), --init, or a fresh init.
  let from: LoadedCheckpoint | undefined;
  if (o.resume) {
    from = readCheckpoint(o.out);
    if (!from.state) throw new DataError(`${o.out}: no trainer_state.json to resume from (a weights-only checkpoint: use --init)`);
  } else if (o.init) from = readCheckpoint(o.init);
  const run = o.resume ? { ...from!.state!.run } : o.run;
  const seed = o.resume ? from!.state!.seed : o.seed;
  const seqLen = o.resume ? from!.state!.seq_len : (o.overrides.seqLen ?? from?.config.seqLen ?? resolveSeq(o.preset));
  const batch = o.resume ? Number(run.batch) : o.batch;
  const batchTokens = o.resume ? (run['batch-tokens'] as number | undefined) : o.batchTokens;

  const vocabHash = from?.info.vocab_hash || undefined;
  const train = openSplit(o.data, 'train', seqLen, vocabHash);
  const manifest = train.manifest;
  const valDir = o.valData ?? o.data;
  const val = openVal(valDir, seqLen, manifest.tokenizer.hash, o.log);

  const config: ModelConfig = from ? { ...from.config, seqLen: Math.max(from.config.seqLen, seqLen), dropout: o.overrides.dropout ?? from.config.dropout } : resolveConfig(o.preset, { ...o.overrides, seqLen }, manifest.tokenizer.size);
  if (manifest.tokenizer.size > config.vocabSize)
    throw new DataError(`${o.data}: vocabulary of ${manifest.tokenizer.size} ids, the checkpoint's model has ${config.vocabSize} rows`);
  const info: LoomModelInfo = {
    vocab_hash: manifest.tokenizer.hash,
    vocab: manifest.tokenizer.vocab,
    vocab_ids: manifest.tokenizer.size,
    eot: manifest.tokenizer.eot,
    nfc: manifest.tokenizer.nfc,
    preset: from?.info.preset ?? o.preset,
    dropout: config.dropout,
    init_std: config.initStd,
  };

  const perMicro = batch * seqLen;
  const perStepMin = perMicro * world.size;
  const accum = batchTokens ? Math.max(1, Math.round(batchTokens / perStepMin)) : 1;
  if (batchTokens && accum * perStepMin !== batchTokens)
    o.log(`pretrain: --batch-tokens ${batchTokens} is not a multiple of ${perStepMin} (batch × seq-len × ranks); using ${accum * perStepMin}`);
  const stepTokens = accum * perStepMin;
  const stepWindows = accum * batch * world.size;
  const steps = o.steps ?? (o.tokens ? Math.ceil(o.tokens / stepTokens) : o.resume ? Number(run.steps) : undefined);
  if (steps === undefined || !(steps >= 0)) throw new UsageError('give the run length with --steps N or --tokens N');
  const schedule = o.resume
    ? { peak: Number(run.lr), warmup: Number(run.warmup), total: steps, minRatio: Number(run['min-lr-ratio']) }
    : { peak: o.lr, warmup: o.warmup, total: steps, minRatio: o.minLrRatio };
  run.steps = steps;

  const model = new QwenModel(k, config, dtype, batch, seqLen);
  const params = model.params;
  if (from) loadWeights(from.dir, params);
  else params.initialize(seed);
  const optimizer = new Optimizer(k, params, {
    ...ADAMW_DEFAULTS,
    weightDecay: o.resume ? Number(run['weight-decay'] ?? o.weightDecay) : o.weightDecay,
    clip: o.resume ? Number(run.clip ?? o.clip) : o.clip,
  });
  let step = 0, optimizerStep = 0, consumed = 0;
  if (o.resume) {
    loadOptimizer(from!.dir, params);
    ({ step, optimizer_step: optimizerStep, windows_consumed: consumed } = from!.state!);
  }
  if (world.size > 1) {
    o.log(`pretrain: rank ${world.rank} of ${world.size} on ${k.device}: exchanging the NCCL id via ${world.masterAddr}:${world.masterPort}`);
    await connectRanks(k, world);
    o.log(`pretrain: rank ${world.rank}: NCCL ready`);
  }

  const rank0 = world.rank === 0;
  const stream = new TrainStream(train, seed);
  const flops = flopsPerToken(config, seqLen);
  const peak = o.peakTflops ? o.peakTflops * 1e12 : peakFlops(k);
  if (rank0)
    o.log(
      `pretrain: ${info.preset} ${(parameterCount(config) / 1e6).toFixed(1)}M parameters on ${k.device} (${k.name}), ${dtype}; ` +
        `${train.windowCount} train windows of ${seqLen}; ${stepTokens} tokens/step (${batch} × ${seqLen} × ${accum} accumulation × ${world.size} rank${world.size > 1 ? 's' : ''}); ` +
        `steps ${step}→${steps}${o.resume ? ` (resumed from ${from!.dir})` : o.init ? ` (weights from ${from!.dir})` : ''}`,
    );

  let lastLoss = NaN, valLoss: number | undefined;
  let stop: string | undefined;
  let signals = 0;
  const onSignal = (name: string) => () => {
    signals += 1;
    if (signals > 1) {
      o.log(`pretrain: ${name} again; exiting without a checkpoint`);
      process.exit(130);
    }
    stop = name;
    if (rank0) o.log(`pretrain: ${name}: finishing the current step, then writing a checkpoint (again to exit at once)`);
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);

  const save = (why: string) => {
    if (!rank0) return;
    const state: TrainerState = {
      format: 'loom.trainer/1',
      step,
      optimizer_step: optimizerStep,
      windows_consumed: consumed,
      tokens: consumed * seqLen,
      seed,
      seq_len: seqLen,
      run,
      last_val_loss: valLoss,
      saved_at: new Date().toISOString(),
    };
    saveCheckpoint(o.out, params, info, { state, extra: o.tokenizerFiles });
    o.log(`pretrain: checkpoint ${o.out} at step ${step} (${why})`);
  };
  const validate = () => {
    if (!val) return;
    const r = evaluate(model, val, config.vocabSize, o.evalWindows || Infinity);
    valLoss = r.loss;
    if (rank0) o.onRecord({ step, val_loss: round(r.loss), val_ppl: round(r.ppl), val_tokens: r.tokens });
  };

  const started = performance.now();
  const startStep = step;
  try {
    if (o.evalEvery > 0 && step === 0 && steps > 0) validate();
    while (step < steps && !stop) {
      const t0 = performance.now();
      const lr = learningRate(schedule, step);
      params.zeroGrads();
      model.resetLoss();
      for (let m = 0; m < accum; m++) {
        const first = consumed + world.rank * accum * batch + m * batch;
        const mb = stream.batch(first, batch, config.vocabSize);
        model.step(mb, { grad: true, gradScale: 1 / stepTokens, dropoutSeed: (seed * 1_000_003 + step * 9973 + m * 131 + world.rank * 7919) >>> 0 });
      }
      if (world.size > 1) {
        for (const g of params.groups) k.allReduce(g.grad);
        k.allReduce(model.lossSum);
      }
      const loss = (k.download(model.lossSum) as Float32Array)[0]! / stepTokens;
      const norm = optimizer.gradNorm();
      const finite = Number.isFinite(loss) && Number.isFinite(norm);
      if (finite) optimizer.update(lr, ++optimizerStep);
      else if (!o.skipNonfinite) {
        save('before stopping on a non-finite value');
        throw new NonFiniteError(
          `${o.data}: non-finite ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} (loss ${loss}, grad norm ${norm}) at step ${step + 1}; ` +
            `the weights before this step are saved in ${o.out}. Lower --lr, or rerun with --resume --skip-nonfinite to skip such steps`,
        );
      } else if (rank0) o.log(`pretrain: step ${step + 1}: non-finite loss ${loss} / grad norm ${norm}; step skipped (--skip-nonfinite)`);
      consumed += stepWindows;
      step += 1;
      lastLoss = loss;
      const seconds = (performance.now() - t0) / 1000;
      const tps = stepTokens / seconds;
      if (rank0)
        o.onRecord({
          step,
          loss: round(loss),
          lr: Number(lr.toPrecision(6)),
          grad_norm: round(norm),
          tokens: consumed * seqLen,
          tokens_per_s: Math.round(tps),
          mfu: peak ? Number(((flops * tps) / peak).toFixed(4)) : null,
          ...(finite ? {} : { skipped: true as const }),
        });
      if (o.evalEvery > 0 && (step % o.evalEvery === 0 || step === steps)) validate();
      if (o.saveEvery > 0 && step % o.saveEvery === 0 && step < steps) save(`every ${o.saveEvery} steps`);
      // Let signal handlers run between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    save(stop ? stop : 'end of run');
  } finally {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
    train.close();
    val?.close();
  }
  const elapsed = (performance.now() - started) / 1000;
  return {
    steps: step,
    tokens: consumed * seqLen,
    lastLoss,
    valLoss,
    interrupted: stop,
    checkpoint: o.out,
    tokensPerSecond: ((step - startStep) * stepTokens) / Math.max(elapsed, 1e-9),
    config,
    device: `${k.device} (${k.name})`,
  };
}

/** The preset's context length (the vocabulary does not matter here). */
function resolveSeq(preset: string): number {
  return resolveConfig(preset, {}, 1).seqLen;
}

function openVal(dir: string, seqLen: number, hash: string, log: (line: string) => void): TokenDataset | undefined {
  const val = openSplit(dir, 'val', seqLen, hash);
  if (val.windowCount > 0) return val;
  val.close();
  log(`pretrain: ${dir} has no validation window of ${seqLen + 1} tokens; no validation loss (tokenize with --val-fraction)`);
  return undefined;
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(5)) : x;
}
