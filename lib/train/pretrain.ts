// Pretraining: the next-token objective over token-shard windows in a seeded order, run by the
// shared training loop (loop.ts). What is particular to pretraining lives here: where the weights
// come from (fresh, --init or --resume), the model's shape from a preset or a checkpoint, the
// step's token batch, validation on the val split, and what its checkpoints record.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { DataError, UsageError } from '../errors.js';
import { evaluate } from '../eval/loss.js';
import { flopsPerToken, parameterCount, resolveConfig, type ModelConfig } from '../model/config.js';
import { loadWeights, readCheckpoint, saveCheckpoint, type LoadedCheckpoint, type LoomModelInfo } from '../model/checkpoint.js';
import { initialValues, parameterSpecs } from '../model/params.js';
import { Trunk } from '../model/trunk.js';
import { Weights } from '../model/weights.js';
import type { TokenDataset } from '../shards/dataset.js';
import { openSplit, WindowSource } from './data.js';
import type { World } from './distributed.js';
import { trainLoop } from './loop.js';
import { round, type MetricsRecord } from './metrics.js';
import { nextTokenObjective } from './next-token.js';
import { loadOptimizer, readTrainerState, writeTrainingFiles, type TrainerState } from './state.js';
import { Trainable } from './trainable.js';

export type { EvalRecord, MetricsRecord, StepRecord } from './metrics.js';

/** What defines a pretraining run; trainer_state.json keeps it, so --resume continues the same run. */
export interface PretrainSettings {
  preset: string;
  seqLen: number;
  /** Sequences per micro-batch (per rank). */
  batch: number;
  /** Tokens per optimizer step across ranks; accumulation makes up the difference. */
  batchTokens?: number;
  /** Optimizer steps the run trains to (the cosine schedule ends here). */
  steps: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
}

export interface PretrainOptions {
  data: string;
  /** Validation shards (default: the val split of `data`). */
  valData?: string;
  out: string;
  preset: string;
  overrides: Partial<ModelConfig>;
  device: string;
  dtype?: DType;
  batch: number;
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
  /** Parameters (Hugging Face names) kept as they are. */
  freeze?: (name: string) => boolean;
  skipNonfinite: boolean;
  peakTflops?: number;
  world: World;
  /** Every metrics record (train step and eval), already JSON-ready. */
  onRecord: (record: MetricsRecord) => void;
  /** Human-readable notes (start, checkpoints, warnings). */
  log: (line: string) => void;
  /** The flags of this run, recorded in trainer_state.json. */
  run: Record<string, unknown>;
}

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

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const { world } = o;
  const k = openBackend(o.device);
  const dtype: DType = o.dtype ?? (k.kind === 'cpu' ? 'f32' : 'bf16');
  if (k.kind === 'cpu' && dtype !== 'f32') throw new UsageError('--dtype bf16 needs a GPU; the CPU backend computes in fp32');

  // Where weights come from: a resumed run (--out's checkpoint), --init, or a fresh init.
  const from: LoadedCheckpoint | undefined = o.resume ? readCheckpoint(o.out) : o.init ? readCheckpoint(o.init) : undefined;
  const resumed = o.resume ? readTrainerState<number, PretrainSettings>(from!.dir) : undefined;
  if (o.resume && !resumed) throw new DataError(`${o.out}: no trainer_state.json to resume from (a weights-only checkpoint: use --init)`);
  if (from && from.head !== 'lm') throw new DataError(`${from.dir}: a ${from.head} model has no LM head to pretrain`);
  const seed = resumed ? resumed.seed : o.seed;
  const seqLen = resumed ? resumed.settings.seqLen : (o.overrides.seqLen ?? from?.config.seqLen ?? resolveConfig(o.preset, {}, 1).seqLen);

  const train = openSplit(o.data, 'train', seqLen, from?.info.vocab_hash || undefined);
  const manifest = train.manifest;
  const val = openVal(o.valData ?? o.data, seqLen, manifest.tokenizer.hash, o.log);
  try {
    const config: ModelConfig = from
      ? { ...from.config, seqLen: Math.max(from.config.seqLen, seqLen), dropout: o.overrides.dropout ?? from.config.dropout }
      : resolveConfig(o.preset, { ...o.overrides, seqLen }, manifest.tokenizer.size);
    if (manifest.tokenizer.size > config.vocabSize) throw new DataError(`${o.data}: vocabulary of ${manifest.tokenizer.size} ids, the checkpoint's model has ${config.vocabSize} rows`);
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

    const settings = resumed ? { ...resumed.settings } : newSettings(o, seqLen);
    const batch = settings.batch;
    const perStepMin = batch * seqLen * world.size;
    const accum = settings.batchTokens ? Math.max(1, Math.round(settings.batchTokens / perStepMin)) : 1;
    if (settings.batchTokens && accum * perStepMin !== settings.batchTokens)
      o.log(`pretrain: --batch-tokens ${settings.batchTokens} is not a multiple of ${perStepMin} (batch × seq-len × ranks); using ${accum * perStepMin}`);
    settings.steps = o.steps ?? (o.tokens ? Math.ceil(o.tokens / (accum * perStepMin)) : settings.steps);
    if (!(settings.steps >= 0)) throw new UsageError('give the run length with --steps N or --tokens N');

    const weights = new Weights(k, parameterSpecs(config), dtype);
    const params = new Trainable(k, weights, o.freeze);
    if (from) loadWeights(from.dir, params);
    else params.assign(initialValues(config, weights.specs, seed));
    if (resumed) loadOptimizer(from!.dir, params);
    const trunk = new Trunk(k, config, weights, batch * seqLen);
    const source = new WindowSource(train, seed, { batch, accum, world, vocabIds: config.vocabSize }, resumed?.position ?? 0);

    if (world.rank === 0)
      o.log(
        `pretrain: ${info.preset} ${(parameterCount(config) / 1e6).toFixed(1)}M parameters on ${k.device} (${k.name}), ${dtype}; ` +
          `${train.windowCount} train windows of ${seqLen}; ${source.stepTokens} tokens/step (${batch} × ${seqLen} × ${accum} accumulation × ${world.size} rank${world.size > 1 ? 's' : ''}); ` +
          `steps ${resumed?.step ?? 0}→${settings.steps}${resumed ? ` (resumed from ${from!.dir})` : o.init ? ` (weights from ${from!.dir})` : ''}`,
      );

    const result = await trainLoop({
      k,
      world,
      params,
      source,
      objective: nextTokenObjective(trunk, config.dropout),
      adamw: { weightDecay: settings.weightDecay, clip: settings.clip },
      schedule: { peak: settings.lr, warmup: settings.warmup, total: settings.steps, minRatio: settings.minLrRatio },
      steps: settings.steps,
      seed,
      start: resumed && { step: resumed.step, optimizerStep: resumed.optimizer_step },
      skipNonfinite: o.skipNonfinite,
      evalEvery: o.evalEvery,
      evaluate: val && (() => {
        const r = evaluate(trunk, batch, val, o.evalWindows || Infinity);
        return { val_loss: round(r.loss), val_ppl: round(r.ppl), val_tokens: r.tokens };
      }),
      saveEvery: o.saveEvery,
      save: (state) =>
        saveCheckpoint(o.out, params, config, info, {
          training: (dir) => writeTrainingFiles(dir, params, { ...state, settings, run: resumed ? resumed.run : o.run } satisfies TrainerState<number, PretrainSettings>),
        }),
      flopsPerToken: flopsPerToken(config, seqLen),
      peakFlops: o.peakTflops ? o.peakTflops * 1e12 : peakFlops(k),
      onRecord: o.onRecord,
      log: o.log,
      where: o.data,
      out: o.out,
    });
    return {
      steps: result.steps,
      tokens: result.steps * source.stepTokens,
      lastLoss: result.lastLoss,
      valLoss: result.valLoss,
      interrupted: result.interrupted,
      checkpoint: o.out,
      tokensPerSecond: result.tokensPerSecond,
      config,
      device: `${k.device} (${k.name})`,
    };
  } finally {
    train.close();
    val?.close();
  }
}

function newSettings(o: PretrainOptions, seqLen: number): PretrainSettings {
  return {
    preset: o.preset,
    seqLen,
    batch: o.batch,
    batchTokens: o.batchTokens,
    steps: NaN,
    lr: o.lr,
    warmup: o.warmup,
    minLrRatio: o.minLrRatio,
    weightDecay: o.weightDecay,
    clip: o.clip,
  };
}

function openVal(dir: string, seqLen: number, hash: string, log: (line: string) => void): TokenDataset | undefined {
  const val = openSplit(dir, 'val', seqLen, hash);
  if (val.windowCount > 0) return val;
  val.close();
  log(`pretrain: ${dir} has no validation window of ${seqLen + 1} tokens; no validation loss (tokenize with --val-fraction)`);
  return undefined;
}
