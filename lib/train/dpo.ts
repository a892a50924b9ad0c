// Direct preference optimisation (Rafailov et al. 2023) on the shared training loop:
//
//   L = −log σ(β [(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))])
//
// with log π a response's summed token log-probabilities under the policy (trained, from --init)
// and under a frozen reference (--ref, else the --init checkpoint). The gradient goes through the
// LM head's per-token weights: a forward-only cross-entropy gives the log-probabilities, dL/dlog π
// is computed per sequence on the host, and a second cross-entropy on the same hidden states,
// weighted by −dL/dlog π on the response's tokens, gives d/dθ Σ w_t·(−log p_t) = dL/dθ.
//
// The reference's log-probabilities are computed once per pair, before training, and kept with
// the pair (two numbers): the reference is frozen and runs without dropout, so they never change;
// one forward over the data costs no more than recomputing them per batch over one epoch, and the
// reference's weights are freed before the policy's training state is allocated, so the run's
// peak memory is the policy's alone. A resumed run computes them again, identically.
import { resolve } from 'node:path';
import type { Backend } from '../../kernels/index.js';
import type { EncodedPair } from '../chat/preference.js';
import { DataError } from '../errors.js';
import { objectiveLoss } from '../eval/loss.js';
import { readCheckpoint } from '../model/checkpoint.js';
import { parameterCount } from '../model/config.js';
import { crossEntropy, tokenLogprobs } from '../model/lm-head.js';
import { loadModel } from '../model/load.js';
import type { Hidden, Trunk } from '../model/trunk.js';
import { ExampleSource } from './examples.js';
import { fineTuneLoop, fineTuneModel, planSteps, startFineTune, type FineTuneRun, type FineTuneSettings, type FineTuneStart } from './fine-tune.js';
import type { Objective } from './loop.js';
import { round, type EvalRecord, type MetricsRecord, type StepRecord } from './metrics.js';
import { meanPairTokens, pairBatches, readPreferencePairs } from './preference-data.js';
import { scaleRecipe, type Recipe } from './presets.js';
import { bradleyTerry, pairRows } from './reward.js';

export interface DpoSettings extends FineTuneSettings {
  /** Pairs per micro-batch (per rank). */
  batch: number;
  /** Pairs per optimizer step across ranks. */
  batchPairs: number;
  /** The strength of the KL constraint: rewards are β · log(π / π_ref). */
  beta: number;
  dropout: number;
  systemPrompt: string;
  valFraction: number;
  /** The frozen reference checkpoint (absolute); unset on the command line: the --init checkpoint. */
  ref?: string;
}

/** The settings the recipe scales to the model and the data; given only where a flag set them. */
type Scaled = 'lr' | 'warmup' | 'batchPairs';

export type DpoOptions = Omit<FineTuneRun<DpoSettings>, 'settings'> & {
  settings: Omit<DpoSettings, 'steps' | Scaled> & Partial<Pick<DpoSettings, Scaled>>;
  /** The preset that fills lr, warmup, pairs a step and the run's length where settings and flags leave them (scaleRecipe). */
  recipe: Recipe;
};

/** A pair with its responses' summed log-probabilities under the reference. */
export interface ScoredPair extends EncodedPair {
  refChosen: number;
  refRejected: number;
}

export interface DpoBatch {
  pairs: readonly ScoredPair[];
}

/** A step's record with the implicit rewards of the pairs it trained on (this rank's). */
export interface DpoStepRecord extends StepRecord {
  accuracy: number;
  margin: number;
  reward_chosen: number;
  reward_rejected: number;
}

/** Held-out figures at an evaluation: the DPO loss, pairs ordered right, and the implicit rewards. */
export interface DpoEvalRecord extends EvalRecord {
  val_accuracy: number;
  val_pairs: number;
  val_margin: number;
  val_reward_chosen: number;
  val_reward_rejected: number;
}

/**
 * Rows (chosen, rejected, …) as the reward model's, with targets: position t predicts token t+1
 * where that token is the response's (from promptLen, its role header included: the same in
 * chosen and rejected, it adds the same to both rewards and nothing to the loss); −1 elsewhere.
 */
export function responseTargets(pairs: readonly EncodedPair[], seqLen: number): Int32Array {
  const targets = new Int32Array(2 * pairs.length * seqLen).fill(-1);
  pairs.forEach((p, i) =>
    [p.chosen, p.rejected].forEach((s, j) => {
      const row = (2 * i + j) * seqLen;
      for (let t = p.promptLen - 1; t < s.length - 1; t++) targets[row + t] = s[t + 1]!;
    }),
  );
  return targets;
}

/** Each row's summed target log-probability (float64 over the fp32 per-token values). */
export function sequenceLogprobs(trunk: Trunk, hidden: Hidden, targets: Int32Array): number[] {
  const logprobs = tokenLogprobs(trunk, hidden, targets);
  const sums = new Array<number>(hidden.rows).fill(0);
  for (let i = 0; i < logprobs.length; i++) sums[Math.floor(i / hidden.seqLen)]! += logprobs[i]!;
  return sums;
}

/** One pair's loss, its gradient with respect to log π(c) and log π(r), and its implicit rewards. */
export function dpoPair(policy: { chosen: number; rejected: number }, ref: { chosen: number; rejected: number }, beta: number) {
  const chosenReward = beta * (policy.chosen - ref.chosen);
  const rejectedReward = beta * (policy.rejected - ref.rejected);
  const bt = bradleyTerry(chosenReward, rejectedReward);
  return { loss: bt.loss, dChosen: beta * bt.dChosen, dRejected: -beta * bt.dChosen, chosenReward, rejectedReward, correct: bt.correct };
}

/** The reference's summed log-probabilities of every pair's responses, `batch` pairs a forward. */
export function referenceLogprobs(trunk: Trunk, pairs: readonly EncodedPair[], batch: number, padId: number): ScoredPair[] {
  return pairBatches(pairs, batch).flatMap(({ pairs: slice }) => {
    const rows = pairRows(slice, 'last', padId);
    const sums = sequenceLogprobs(trunk, trunk.forward(rows), responseTargets(slice, rows.seqLen));
    return slice.map((p, i) => ({ ...p, refChosen: sums[2 * i]!, refRejected: sums[2 * i + 1]! }));
  });
}

/** Sums of what a run of pairs showed, for means per pair. */
class PairStats {
  pairs = 0;
  correct = 0;
  chosen = 0;
  rejected = 0;

  add(p: { chosenReward: number; rejectedReward: number; correct: boolean }): void {
    this.pairs += 1;
    this.correct += p.correct ? 1 : 0;
    this.chosen += p.chosenReward;
    this.rejected += p.rejectedReward;
  }

  /** Means since the last take (NaN when none), and a fresh start. */
  take() {
    const n = this.pairs;
    const out = { accuracy: this.correct / n, margin: (this.chosen - this.rejected) / n, chosen: this.chosen / n, rejected: this.rejected / n, pairs: n };
    Object.assign(this, { pairs: 0, correct: 0, chosen: 0, rejected: 0 });
    return out;
  }
}

export interface DpoObjective extends Objective<DpoBatch> {
  readonly stats: PairStats;
}

export function dpoObjective(trunk: Trunk, o: { beta: number; dropout: number; padId: number }): DpoObjective {
  const stats = new PairStats();
  return {
    stats,
    counted: (batch) => batch.pairs.length,
    run(batch, ctx) {
      const { k } = trunk;
      const rows = pairRows(batch.pairs, 'last', o.padId);
      const targets = responseTargets(batch.pairs, rows.seqLen);
      const hidden = trunk.forward(rows, { dropout: ctx.grads ? o.dropout : 0, dropoutSeed: ctx.dropoutSeed });
      const sums = sequenceLogprobs(trunk, hidden, targets);
      // −dL/dlog π of each row, on each of its response tokens
      const weights = new Float32Array(targets.length);
      let lossSum = 0;
      batch.pairs.forEach((p, i) => {
        const d = dpoPair({ chosen: sums[2 * i]!, rejected: sums[2 * i + 1]! }, { chosen: p.refChosen, rejected: p.refRejected }, o.beta);
        lossSum += d.loss;
        stats.add(d);
        [-d.dChosen, -d.dRejected].forEach((w, j) => {
          const row = (2 * i + j) * rows.seqLen;
          for (let t = row; t < row + rows.seqLen; t++) if (targets[t]! >= 0) weights[t] = w;
        });
      });
      const sum = trunk.tensor([1], 'f32');
      k.upload(sum, Float32Array.of(lossSum));
      k.axpy(ctx.lossSum, 1, sum);
      if (!ctx.grads) return;
      const { dh } = crossEntropy(trunk, hidden, targets, { grads: ctx.grads, gradScale: ctx.gradScale, weights });
      trunk.backward(hidden, dh!, ctx.grads, ctx.hooks);
    },
  };
}

/** The held-out figures, forward only: the mean loss, pairs ordered right, the mean margin and rewards. */
function heldOut(k: Backend, objective: DpoObjective, batches: DpoBatch[]): Omit<DpoEvalRecord, 'step'> {
  objective.stats.take();
  const r = objectiveLoss(k, objective, batches);
  const s = objective.stats.take();
  return { val_loss: round(r.loss), val_accuracy: round(s.accuracy), val_margin: round(s.margin), val_reward_chosen: round(s.chosen), val_reward_rejected: round(s.rejected), val_pairs: s.pairs };
}

/** The reference's log-probabilities of the train and held-out pairs, on a model loaded for them and freed after. */
function scoreWithReference(start: FineTuneStart<DpoSettings>, o: DpoOptions, settings: DpoSettings, sets: EncodedPair[][], padId: number): ScoredPair[][] {
  const ckpt = readCheckpoint(settings.ref!);
  if (ckpt.head !== 'lm') throw new DataError(`${settings.ref}: a ${ckpt.head} model has no LM head to be the reference`);
  if (ckpt.config.vocabSize !== start.from.config.vocabSize)
    throw new DataError(`${settings.ref}: the reference has ${ckpt.config.vocabSize} vocabulary rows, the policy ${start.from.config.vocabSize}; they must share a tokenizer`);
  const t0 = performance.now();
  const ref = loadModel({ ...ckpt, config: { ...ckpt.config, seqLen: Math.max(ckpt.config.seqLen, settings.maxLen), dropout: 0 } }, { device: o.device, capacity: 2 * settings.batch * settings.maxLen, dtype: start.dtype });
  try {
    const scored = sets.map((pairs) => referenceLogprobs(ref.trunk, pairs, settings.batch, padId));
    if (o.world.rank === 0) o.log(`dpo: reference log-probabilities of ${scored.reduce((a, s) => a + s.length, 0)} pairs from ${ckpt.dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return scored;
  } finally {
    ref.weights.free();
    ref.k.freeArena(ref.trunk.arena);
  }
}

export async function trainDpo(o: DpoOptions) {
  const { world } = o;
  const start = startFineTune<DpoSettings>('train with DPO', o);
  const { k, dtype, from, resumed, seed } = start;
  if (from.head !== 'lm') throw new DataError(`${from.dir}: a ${from.head} model has no LM head to train with DPO`);
  const data = await readPreferencePairs('dpo', from, o, resumed?.settings ?? o.settings, seed ^ 0xd90);
  // a resumed run keeps the settings it started with; a new one fills what flags left from the recipe
  const given = o.settings;
  const run = resumed ? undefined : scaleRecipe(o.recipe, { lr: given.lr, batch: given.batchPairs, warmup: given.warmup, steps: o.steps, epochs: o.epochs }, { hiddenSize: from.config.hiddenSize, examples: data.train.length, unit: given.batch * world.size });
  const settings: DpoSettings = run ? { ...given, ref: resolve(given.ref ?? o.init!), lr: run.lr, warmup: run.warmup, batchPairs: run.batch, steps: NaN } : { ...resumed!.settings };
  if (run && world.rank === 0) o.log(`dpo: ${run.why}`);

  const [train, val] = scoreWithReference(start, o, settings, [data.train, data.val], data.padId) as [ScoredPair[], ScoredPair[]];
  const plan = planSteps('dpo', { wanted: settings.batchPairs, batch: settings.batch, examples: train.length, steps: o.steps ?? run?.steps, epochs: o.epochs, resumedSteps: settings.steps, world, log: o.log });
  settings.steps = plan.steps;
  const model = fineTuneModel(start, settings, 'lm', 2 * settings.batch * settings.maxLen, o.freeze);
  const { config } = model;
  const objective = dpoObjective(model.trunk, { beta: settings.beta, dropout: config.dropout, padId: data.padId });
  const source = new ExampleSource(train, seed, { batch: settings.batch, accum: plan.accum, world }, (pairs: ScoredPair[]) => ({ pairs }), Math.round(meanPairTokens(train) * plan.perStep), resumed?.position ?? 0);
  const valBatches = pairBatches(val, settings.batch);

  if (world.rank === 0)
    o.log(
      `dpo: ${(parameterCount(config) / 1e6).toFixed(1)}M parameters from ${from.dir} on ${k.device} (${k.name}), ${dtype}; β ${settings.beta}, reference ${settings.ref}; ` +
        `${train.length} pairs, ${val.length} held out, ${data.dropped} dropped; ${plan.perStep} pairs/step; steps ${resumed?.step ?? 0}→${settings.steps}`,
    );
  let held: Omit<DpoEvalRecord, 'step'> | undefined;
  // Each step's record carries the implicit rewards of the pairs this rank trained on in it.
  const onRecord = (r: MetricsRecord) => {
    if (!('loss' in r)) return o.onRecord(r);
    const s = objective.stats.take();
    const record: DpoStepRecord = { ...r, accuracy: round(s.accuracy), margin: round(s.margin), reward_chosen: round(s.chosen), reward_rejected: round(s.rejected) };
    o.onRecord(record);
  };
  const evaluate = valBatches.length > 0 ? () => (held = heldOut(k, objective, valBatches)) : undefined;
  const result = await fineTuneLoop(start, { ...o, settings, onRecord }, { ...model, head: 'lm', settings, source, objective, evaluate });
  return { ...result, held, pairs: { train: train.length, val: val.length, dropped: data.dropped }, device: `${k.device} (${k.name})` };
}
