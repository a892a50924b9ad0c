// Where a fine-tuning run (sft, rm) starts: the checkpoint it fine-tunes (--init) or, with
// --resume, its own last checkpoint with the trainer state; the model built on it with the head
// the command trains, its trainable state, and a trunk for the run's micro-batches.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { DataError, UsageError } from '../errors.js';
import { loadWeights, readCheckpoint, saveCheckpoint, type LoadedCheckpoint, type LoomModelInfo } from '../model/checkpoint.js';
import { flopsPerToken, type ModelConfig } from '../model/config.js';
import { initialValues, parameterSpecs, type HeadKind } from '../model/params.js';
import { Trunk } from '../model/trunk.js';
import { Weights } from '../model/weights.js';
import type { RejectSink } from '../io/rejects.js';
import type { OnError } from '../io/types.js';
import type { World } from './distributed.js';
import { trainLoop, type BatchSource, type LoopResult, type Objective, type TrainLoopOptions } from './loop.js';
import type { MetricsRecord } from './metrics.js';
import { peakFlops } from './pretrain.js';
import { loadOptimizer, readTrainerState, writeTrainingFiles, type TrainerState } from './state.js';
import { Trainable } from './trainable.js';

export interface FineTuneSource {
  out: string;
  /** The checkpoint to start from (its weights, vocabulary and shape). */
  init?: string;
  resume: boolean;
  device: string;
  dtype?: DType;
  seed: number;
}

export interface FineTuneStart<S> {
  k: Backend;
  dtype: DType;
  from: LoadedCheckpoint;
  resumed?: TrainerState<number, S>;
  seed: number;
}

export function startFineTune<S>(command: string, o: FineTuneSource): FineTuneStart<S> {
  const k = openBackend(o.device);
  const dtype: DType = o.dtype ?? (k.kind === 'cpu' ? 'f32' : 'bf16');
  if (k.kind === 'cpu' && dtype !== 'f32') throw new UsageError('--dtype bf16 needs a GPU; the CPU backend computes in fp32');
  const dir = o.resume ? o.out : o.init;
  if (!dir) throw new UsageError(`give the checkpoint to ${command} from with --init CKPT`);
  const from = readCheckpoint(dir);
  const resumed = o.resume ? readTrainerState<number, S>(from.dir) : undefined;
  if (o.resume && !resumed) throw new DataError(`${o.out}: no trainer_state.json to resume from`);
  return { k, dtype, from, resumed, seed: resumed?.seed ?? o.seed };
}

/**
 * The model with `head` on the checkpoint's trunk, at the run's length and dropout; a head the
 * checkpoint lacks (a reward model's score on an SFT checkpoint) starts from the seeded init.
 */
export function fineTuneModel(start: FineTuneStart<unknown>, s: { maxLen: number; dropout: number }, head: HeadKind, capacity: number, freeze?: (name: string) => boolean) {
  const { k, dtype, from, resumed } = start;
  const config: ModelConfig = { ...from.config, seqLen: Math.max(from.config.seqLen, s.maxLen), dropout: s.dropout };
  const info: LoomModelInfo = { ...from.info, dropout: config.dropout };
  const weights = new Weights(k, parameterSpecs(config, head), dtype);
  const params = new Trainable(k, weights, freeze);
  const headSpecs = weights.specs.filter((spec) => spec.name === 'lm_head.weight' || spec.name === 'score.weight');
  const fresh = head === from.head ? new Map<string, Float32Array>() : new Map(initialValues(config, headSpecs, start.seed));
  loadWeights(from.dir, params, fresh);
  if (resumed) loadOptimizer(from.dir, params);
  return { config, info, weights, params, trunk: new Trunk(k, config, weights, capacity) };
}

/**
 * The micro-batches a step accumulates to come nearest `wanted` examples a step across ranks
 * (said when it cannot be exact), and the run's length in steps: --steps, else --epochs over
 * `examples`, else what a resumed run had.
 */
export function planSteps(command: string, o: { wanted: number; batch: number; examples: number; steps?: number; epochs?: number; resumedSteps: number; world: World; log: (line: string) => void }) {
  const perStep = o.batch * o.world.size;
  const accum = Math.max(1, Math.round(o.wanted / perStep));
  if (accum * perStep !== o.wanted) o.log(`${command}: ${o.wanted} examples a step is not a multiple of ${perStep} (batch × ranks); using ${accum * perStep}`);
  const steps = o.steps ?? (o.epochs !== undefined ? Math.ceil((o.epochs * o.examples) / (accum * perStep)) : o.resumedSteps);
  if (!(steps >= 1)) throw new UsageError('give the run length with --steps N or --epochs N');
  return { accum, perStep: accum * perStep, steps };
}

/** The settings every fine-tuning run has (trainer_state.json keeps them with the command's own). */
export interface FineTuneSettings {
  maxLen: number;
  steps: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
}

/** A fine-tuning command's options, whatever it trains; S: its own settings. */
export interface FineTuneRun<S = unknown> extends FineTuneSource {
  data: string[];
  valData?: string[];
  /** The run's settings but its length, which comes from steps or epochs. */
  settings: Omit<S, 'steps'>;
  steps?: number;
  epochs?: number;
  freeze?: (name: string) => boolean;
  onError: OnError;
  rejects?: RejectSink;
  evalEvery: number;
  saveEvery: number;
  skipNonfinite: boolean;
  world: World;
  onRecord: (record: MetricsRecord) => void;
  log: (line: string) => void;
  run: Record<string, unknown>;
}

/** The shared loop with a fine-tuning run's schedule, evaluation and checkpoints (in `head`'s layout). */
export function fineTuneLoop<B, S extends FineTuneSettings>(
  start: FineTuneStart<S>,
  o: FineTuneRun<S>,
  m: { params: Trainable; config: ModelConfig; info: LoomModelInfo; head: HeadKind; settings: S; source: BatchSource<B, number>; objective: Objective<B>; evaluate?: TrainLoopOptions<B, number>['evaluate'] },
): Promise<LoopResult> {
  const { k, resumed, seed } = start;
  const { params, settings } = m;
  return trainLoop({
    k,
    world: o.world,
    params,
    source: m.source,
    objective: m.objective,
    adamw: { weightDecay: settings.weightDecay, clip: settings.clip },
    schedule: { peak: settings.lr, warmup: settings.warmup, total: settings.steps, minRatio: settings.minLrRatio },
    steps: settings.steps,
    seed,
    start: resumed && { step: resumed.step, optimizerStep: resumed.optimizer_step },
    skipNonfinite: o.skipNonfinite,
    evalEvery: m.evaluate ? o.evalEvery : 0,
    evaluate: m.evaluate,
    saveEvery: o.saveEvery,
    save: (state) =>
      saveCheckpoint(o.out, params, m.config, m.info, {
        head: m.head,
        training: (dir) => writeTrainingFiles(dir, params, { ...state, settings, run: resumed ? resumed.run : o.run }),
      }),
    flopsPerToken: flopsPerToken(m.config, settings.maxLen),
    peakFlops: peakFlops(k),
    onRecord: o.onRecord,
    log: o.log,
    where: o.data.join(' '),
    out: o.out,
  });
}
