// PPO's recipe (`qwen`), kept apart from the trainer so that reading the command line loads no
// training code. The Qwen report gives: policy lr 1e-6, critic lr 5e-6, a KL coefficient of 0.04,
// two responses per prompt at top-p 0.9, reward normalization by a running mean, value clipping
// at 0.15, 50 critic warm-up steps and a pre-training loss against the alignment tax. What it does
// not give follows common practice (InstructGPT, TRL): GAE γ 1, λ 0.95, policy clip 0.2,
// one PPO epoch per batch, clipping the normalized score at ±5; the pre-training loss (with
// --ptx-data) weighs half the policy loss per token.
import type { PpoSettings } from './ppo.js';
import { RECIPE_WIDTH, widthScaledLr } from './presets.js';

export type PpoRecipe = Omit<PpoSettings, 'policy' | 'reward' | 'reference' | 'critic' | 'steps' | 'systemPrompt' | 'klTarget'>;

export const PPO_PRESETS: Record<'qwen', PpoRecipe> = {
  qwen: {
    promptsPerStep: 32,
    samplesPerPrompt: 2,
    batch: 8,
    maxPromptLen: 1024,
    maxNew: 512,
    temperature: 1,
    topP: 0.9,
    klCoef: 0.04,
    klHorizon: 10_000,
    rewardStd: false,
    scoreClip: 5,
    missingEosPenalty: 1,
    gamma: 1,
    lambda: 0.95,
    clip: 0.2,
    valueClip: 0.15,
    ppoEpochs: 1,
    criticWarmup: 50,
    policyLr: 1e-6,
    criticLr: 5e-6,
    warmup: 0,
    weightDecay: 0,
    gradClip: 1,
    ptxCoef: 0.5,
    ptxBatch: 8,
    valFraction: 0.05,
    evalPrompts: 64,
  },
};

/** The lrs a run uses: the flags' where given, else the recipe's scaled to the policy's width as the sft and rm presets are; and why. */
export function ppoLearningRates(given: { policyLr?: number; criticLr?: number }, recipe: Pick<PpoRecipe, 'policyLr' | 'criticLr'>, hiddenSize: number) {
  const pick = (flag: number | undefined, lr: number) => (flag !== undefined ? { lr: flag, why: 'flag' } : { lr: widthScaledLr(lr, hiddenSize), why: `${lr.toExponential()} × ${RECIPE_WIDTH}/${hiddenSize}` });
  const policy = pick(given.policyLr, recipe.policyLr), critic = pick(given.criticLr, recipe.criticLr);
  return { policyLr: policy.lr, criticLr: critic.lr, why: `policy lr ${policy.lr.toExponential(2)} (${policy.why}), critic lr ${critic.lr.toExponential(2)} (${critic.why})` };
}
