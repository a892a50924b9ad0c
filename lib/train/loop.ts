// The one training loop behind every training command (pretrain, sft, rm, ppo's updates): a batch
// source and an objective go in; the loop does, once, what they all need: gradient accumulation
// over micro-batches, normalization by the tokens that bear loss (across micro-batches and
// ranks), clipping and AdamW on a schedule, skipping or stopping on non-finite steps, NCCL data
// parallelism, periodic evaluation, atomic checkpoints with the source's resume position (every N
// steps, at the end, and on SIGINT/SIGTERM), and one metrics record per step.
import type { Backend, Tensor } from '../../kernels/index.js';
import { DataError } from '../errors.js';
import type { BackwardHooks, GradSink } from '../model/trunk.js';
import { connectRanks, type World } from './distributed.js';
import { GradientSync } from './gradient-sync.js';
import { interruption } from './interruption.js';
import { round, type EvalRecord, type MetricsRecord } from './metrics.js';
import { ADAMW_DEFAULTS, Optimizer, type AdamWConfig } from './optimizer.js';
import { learningRate, type Schedule } from './schedule.js';
import type { TrainerState } from './state.js';
import type { Trainable } from './trainable.js';

/** Where micro-batches come from: a deterministic function of its position, so a resumed run repeats nothing. */
export interface BatchSource<B, P = unknown> {
  /** This rank's micro-batches for the next optimizer step; moves the position past the step on every rank. */
  nextStep(): B[];
  /** Where the next step starts (JSON, saved in trainer_state.json). */
  position(): P;
  /** Tokens one optimizer step processes across ranks (padding included), for tokens/s and MFU. */
  readonly stepTokens: number;
}

export interface ObjectiveContext {
  /** Null for a forward-only pass. */
  grads: GradSink | null;
  /** Pass to the trunk's backward: data parallelism reduces each part's gradients as they finish. */
  hooks?: BackwardHooks;
  /** 1 / the loss-bearing tokens of the whole step (all micro-batches, all ranks). */
  gradScale: number;
  dropoutSeed: number;
  /** fp32 [1]: add the micro-batch's summed token losses here. */
  lossSum: Tensor;
}

/** What is minimized: a forward, a loss summed over tokens, and (with grads) the backward. */
export interface Objective<B> {
  /** Loss-bearing tokens of a micro-batch. */
  counted(batch: B): number;
  run(batch: B, ctx: ObjectiveContext): void;
}

export interface LoopProgress {
  step: number;
  optimizerStep: number;
}

export interface TrainLoopOptions<B, P> {
  k: Backend;
  world: World;
  params: Trainable;
  source: BatchSource<B, P>;
  objective: Objective<B>;
  adamw?: Partial<AdamWConfig>;
  schedule: Schedule;
  /** Optimizer steps to train to. */
  steps: number;
  seed: number;
  /** Where a resumed run starts. */
  start?: LoopProgress;
  skipNonfinite: boolean;
  evalEvery: number;
  evaluate?: () => Omit<EvalRecord, 'step'> | Promise<Omit<EvalRecord, 'step'>>;
  saveEvery: number;
  /** Writes a checkpoint (rank 0 only calls it) with the trainer state the loop fills in. */
  save: (state: Omit<TrainerState<P>, 'settings' | 'run'>, why: string) => void;
  /** Training FLOPs per token and the device's peak, for MFU. */
  flopsPerToken?: number;
  peakFlops?: number | null;
  onRecord: (record: MetricsRecord) => void;
  log: (line: string) => void;
  /** Names the data in errors. */
  where: string;
  /** The checkpoint directory, for messages. */
  out: string;
}

export interface LoopResult {
  steps: number;
  lastLoss: number;
  valLoss?: number;
  interrupted?: string;
  tokensPerSecond: number;
}

class NonFiniteError extends DataError {}

export async function trainLoop<B, P>(o: TrainLoopOptions<B, P>): Promise<LoopResult> {
  const { k, world, params, source, objective } = o;
  const rank0 = world.rank === 0;
  const optimizer = new Optimizer(k, params, { ...ADAMW_DEFAULTS, ...o.adamw });
  const lossSum = k.alloc([1]);
  const counts = world.size > 1 ? k.alloc([1]) : null;
  if (world.size > 1) {
    o.log(`train: rank ${world.rank} of ${world.size} on ${k.device}: exchanging the NCCL id via ${world.masterAddr}:${world.masterPort}`);
    await connectRanks(k, world);
    o.log(`train: rank ${world.rank}: NCCL ready`);
  }
  const sync = world.size > 1 ? new GradientSync(k, params) : null;
  let step = o.start?.step ?? 0;
  let optimizerStep = o.start?.optimizerStep ?? 0;
  let lastLoss = NaN, valLoss: number | undefined;

  const stop = interruption(rank0, o.log);
  const save = (why: string) => {
    if (!rank0) return;
    o.save({ format: 'loom.trainer/2', step, optimizer_step: optimizerStep, position: source.position(), tokens: step * source.stepTokens, seed: o.seed, last_val_loss: valLoss, saved_at: new Date().toISOString() }, why);
    o.log(`train: checkpoint ${o.out} at step ${step} (${why})`);
  };
  const validate = async () => {
    if (!o.evaluate) return;
    const r = await o.evaluate();
    valLoss = r.val_loss;
    if (rank0) o.onRecord({ step, ...r });
  };

  const started = performance.now();
  const startStep = step;
  try {
    if (o.evalEvery > 0 && step === 0 && o.steps > 0) await validate();
    while (step < o.steps && !stop.reason) {
      const t0 = performance.now();
      const lr = learningRate(o.schedule, step);
      const batches = source.nextStep();
      const counted = globalSum(k, counts, batches.reduce((a, b) => a + objective.counted(b), 0));
      params.zeroGrads();
      k.zero(lossSum);
      const gradScale = 1 / Math.max(counted, 1);
      batches.forEach((batch, m) => {
        const hooks = m === batches.length - 1 ? sync?.hooks() : undefined;
        objective.run(batch, { grads: params.grad, hooks, gradScale, lossSum, dropoutSeed: (o.seed * 1_000_003 + step * 9973 + m * 131 + world.rank * 7919) >>> 0 });
      });
      if (sync) {
        sync.finish();
        k.allReduce(lossSum);
      }
      const loss = (k.download(lossSum) as Float32Array)[0]! / Math.max(counted, 1);
      const norm = optimizer.gradNorm();
      const finite = Number.isFinite(loss) && Number.isFinite(norm);
      if (finite) optimizer.update(lr, ++optimizerStep);
      else if (!o.skipNonfinite) {
        save('before stopping on a non-finite value');
        throw new NonFiniteError(
          `${o.where}: non-finite ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} (loss ${loss}, grad norm ${norm}) at step ${step + 1}; ` +
            `the weights before this step are saved in ${o.out}. Lower --lr, or rerun with --resume --skip-nonfinite to skip such steps`,
        );
      } else if (rank0) o.log(`train: step ${step + 1}: non-finite loss ${loss} / grad norm ${norm}; step skipped (--skip-nonfinite)`);
      step += 1;
      lastLoss = loss;
      const tps = source.stepTokens / ((performance.now() - t0) / 1000);
      if (rank0)
        o.onRecord({
          step,
          loss: round(loss),
          lr: Number(lr.toPrecision(6)),
          grad_norm: round(norm),
          tokens: step * source.stepTokens,
          tokens_per_s: Math.round(tps),
          mfu: o.peakFlops && o.flopsPerToken ? Number(((o.flopsPerToken * tps) / o.peakFlops).toFixed(4)) : null,
          ...(finite ? {} : { skipped: true as const }),
        });
      if (o.evalEvery > 0 && (step % o.evalEvery === 0 || step === o.steps)) await validate();
      if (o.saveEvery > 0 && step % o.saveEvery === 0 && step < o.steps) save(`every ${o.saveEvery} steps`);
      // Let signal handlers run between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    save(stop.reason ?? 'end of run');
  } finally {
    stop.dispose();
    sync?.dispose();
    k.free(lossSum);
    if (counts) k.free(counts);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { steps: step, lastLoss, valLoss, interrupted: stop.reason, tokensPerSecond: ((step - startStep) * source.stepTokens) / Math.max(elapsed, 1e-9) };
}

/** The sum of a count over ranks (exact below 2^24 tokens a step). */
function globalSum(k: Backend, scratch: Tensor | null, local: number): number {
  if (!scratch) return local;
  k.upload(scratch, Float32Array.of(local));
  k.allReduce(scratch);
  return (k.download(scratch) as Float32Array)[0]!;
}
