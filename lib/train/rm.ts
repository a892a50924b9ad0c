// Reward modelling: an SFT checkpoint's trunk with a scalar head (Qwen2ForSequenceClassification),
// trained on preference pairs with the Bradley–Terry loss on the shared training loop. Accuracy
// on held-out pairs is reported at each evaluation. Preference-model pre-training (PMP), as the
// Qwen report does it, is two runs: coarse comparisons first, then `--init` from that checkpoint on
// the high-quality ones.
import type { Backend } from '../../kernels/index.js';
import type { EncodedPair } from '../chat/preference.js';
import { objectiveLoss } from '../eval/loss.js';
import { parameterCount } from '../model/config.js';
import { ExampleSource } from './examples.js';
import { fineTuneLoop, fineTuneModel, planSteps, startFineTune, type FineTuneRun, type FineTuneSettings } from './fine-tune.js';
import { round } from './metrics.js';
import { meanPairTokens, pairBatches, readPreferencePairs } from './preference-data.js';
import { scaleRecipe, type Recipe } from './presets.js';
import { rewardObjective, type PairBatch, type Pooling, type RewardObjective } from './reward.js';

export interface RmSettings extends FineTuneSettings {
  /** Pairs per micro-batch (per rank). */
  batch: number;
  /** Pairs per optimizer step across ranks. */
  batchPairs: number;
  dropout: number;
  pooling: Pooling;
  systemPrompt: string;
  valFraction: number;
}

/** The settings the recipe scales to the model and the data; given only where a flag set them. */
type Scaled = 'lr' | 'warmup' | 'batchPairs';

export type RmOptions = Omit<FineTuneRun<RmSettings>, 'settings'> & {
  settings: Omit<RmSettings, 'steps' | Scaled> & Partial<Pick<RmSettings, Scaled>>;
  /** The preset that fills lr, warmup, pairs a step and the run's length where settings and flags leave them (scaleRecipe). */
  recipe: Recipe;
};

export async function trainRewardModel(o: RmOptions) {
  const { world } = o;
  const start = startFineTune<RmSettings>('train a reward model', o);
  const { k, dtype, from, resumed, seed } = start;

  const { train, val, dropped, padId } = await readPreferencePairs('rm', from, o, resumed?.settings ?? o.settings, seed ^ 0x7e3);

  // a resumed run keeps the settings it started with; a new one fills what flags left from the recipe
  const given = o.settings;
  const run = resumed ? undefined : scaleRecipe(o.recipe, { lr: given.lr, batch: given.batchPairs, warmup: given.warmup, steps: o.steps, epochs: o.epochs }, { hiddenSize: from.config.hiddenSize, examples: train.length, unit: given.batch * world.size });
  const settings: RmSettings = run ? { ...given, lr: run.lr, warmup: run.warmup, batchPairs: run.batch, steps: NaN } : { ...resumed!.settings };
  if (run && world.rank === 0) o.log(`rm: ${run.why}`);
  const plan = planSteps('rm', { wanted: settings.batchPairs, batch: settings.batch, examples: train.length, steps: o.steps ?? run?.steps, epochs: o.epochs, resumedSteps: settings.steps, world, log: o.log });
  settings.steps = plan.steps;
  const { config, info, params, trunk } = fineTuneModel(start, settings, 'score', 2 * settings.batch * settings.maxLen, o.freeze);
  const objective = rewardObjective(trunk, { dropout: config.dropout, pooling: settings.pooling, padId });
  // tokens/s counts the pairs' mean length: pairs are padded per micro-batch, not to a fixed length
  const source = new ExampleSource(train, seed, { batch: settings.batch, accum: plan.accum, world }, (pairs: EncodedPair[]) => ({ pairs }), Math.round(meanPairTokens(train) * plan.perStep), resumed?.position ?? 0);
  const valBatches = pairBatches(val, settings.batch);

  if (world.rank === 0)
    o.log(
      `rm: ${(parameterCount(config) / 1e6).toFixed(1)}M parameters from ${from.dir} (${from.head === 'score' ? 'a reward model' : 'a new score head'}) on ${k.device} (${k.name}), ${dtype}; ` +
        `${train.length} pairs, ${val.length} held out, ${dropped} dropped; ${plan.perStep} pairs/step; steps ${resumed?.step ?? 0}→${settings.steps}`,
    );
  let valAccuracy: number | undefined;
  const result = await fineTuneLoop(start, { ...o, settings }, {
    params,
    config,
    info,
    head: 'score',
    settings,
    source,
    objective,
    evaluate:
      valBatches.length > 0
        ? () => {
            const r = pairLoss(k, objective, valBatches);
            valAccuracy = r.accuracy;
            return { val_loss: round(r.loss), val_accuracy: round(r.accuracy), val_pairs: r.pairs };
          }
        : undefined,
  });
  return { ...result, valAccuracy, pairs: { train: train.length, val: val.length, dropped }, device: `${k.device} (${k.name})` };
}

/** Mean Bradley–Terry loss and accuracy over held-out pairs, forward only. */
function pairLoss(k: Backend, objective: RewardObjective, batches: PairBatch[]) {
  objective.correct = 0;
  objective.seen = 0;
  const r = objectiveLoss(k, objective, batches);
  return { loss: r.loss, accuracy: objective.seen > 0 ? objective.correct / objective.seen : NaN, pairs: objective.seen };
}
