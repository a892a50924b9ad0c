// The fine-tuning commands' presets: the defaults of a run's settings, which flags override. Kept
// apart from the trainers so that reading the command line loads none of the training code.

/**
 * The Qwen report's recipe (`qwen`) and its math variant at 1024 tokens: AdamW (0.9, 0.95, 1e-8),
 * warmup over 1430 steps to 2e-6, then constant; 128 sequences a step, 4000 steps, weight decay
 * 0.1, dropout 0.1, clipping at 1.0. Flags override any of it; what they leave to the preset is
 * scaled to the model and the data by `scaleRecipe` (below).
 */
export const SFT_PRESETS = {
  qwen: { maxLen: 2048, batchRows: 128, steps: 4000, lr: 2e-6, warmup: 1430, minLrRatio: 1, weightDecay: 0.1, dropout: 0.1, clip: 1.0 },
  math: { maxLen: 1024, batchRows: 128, steps: 4000, lr: 2e-6, warmup: 1430, minLrRatio: 1, weightDecay: 0.1, dropout: 0.1, clip: 1.0 },
} as const;

export type SftPreset = keyof typeof SFT_PRESETS;

/** The Qwen report's reward-model recipe: constant lr 3e-6, 64 pairs a step, 2048 tokens, one epoch (scaled as SFT's is). */
export const RM_PRESETS = {
  qwen: { maxLen: 2048, batchPairs: 64, epochs: 1, lr: 3e-6, warmup: 0, minLrRatio: 1, weightDecay: 0.1, dropout: 0, clip: 1.0 },
} as const;

/** Qwen-7B's hidden size: the width the report's recipes were tuned at. */
export const RECIPE_WIDTH = 4096;
/** The most passes a scaled run makes over data too small for the recipe's number of steps. */
export const MAX_SCALED_EPOCHS = 3;
/** A batch scaled to small data leaves at least this many optimizer steps in each pass over it. */
export const MIN_STEPS_PER_EPOCH = 32;

/**
 * A recipe's run as written for RECIPE_WIDTH: peak lr, examples a step, its length (`steps`, or
 * `epochs` over the data) and the share of the run that warms up.
 */
export interface Recipe {
  name: string;
  lr: number;
  batch: number;
  steps?: number;
  epochs?: number;
  warmupFraction: number;
}

export function sftRecipe(name: SftPreset): Recipe {
  const p = SFT_PRESETS[name];
  return { name, lr: p.lr, batch: p.batchRows, steps: p.steps, warmupFraction: p.warmup / p.steps };
}

export function rmRecipe(name: keyof typeof RM_PRESETS): Recipe {
  const p = RM_PRESETS[name];
  return { name, lr: p.lr, batch: p.batchPairs, epochs: p.epochs, warmupFraction: 0 };
}

/** The values of a run's shape that flags gave; an undefined one is the recipe's, scaled. */
export interface RunFlags {
  lr?: number;
  batch?: number;
  steps?: number;
  epochs?: number;
  warmup?: number;
}

/**
 * What a recipe is scaled to: the model's hidden size, the training examples (packed rows for
 * sft, pairs for rm) and the examples one micro-step takes across ranks (batch × ranks).
 */
export interface RunScale {
  hiddenSize: number;
  examples: number;
  unit: number;
}

export interface ScaledRun {
  lr: number;
  /** Examples a step, a multiple of the unit when the rule chose it. */
  batch: number;
  steps: number;
  warmup: number;
  /** Each value and where it came from, for the log. */
  why: string;
}

/** A recipe's lr, tuned at RECIPE_WIDTH, for a model `hiddenSize` wide (the lr a width's updates tolerate grows as it narrows). */
export function widthScaledLr(lr: number, hiddenSize: number): number {
  return (lr * RECIPE_WIDTH) / hiddenSize;
}

/**
 * The recipe fitted to the model and the data, for the values no flag gave (docs/sft.md, "Presets
 * on small models"):
 * - lr × RECIPE_WIDTH / hidden size: Adam's update size per weight does not shrink with width, so
 *   muP scales the hidden matrices' rate as 1/width; a narrow model needs a larger one.
 * - the batch no larger than leaves MIN_STEPS_PER_EPOCH steps a pass (in whole micro-steps);
 * - steps: the recipe's, but at most MAX_SCALED_EPOCHS passes over the data (or `epochs` passes);
 * - warmup: the recipe's share of the run.
 * At RECIPE_WIDTH with enough data (for sft, 3 passes of 128 rows ≥ 4000 steps: 170,667 rows) the
 * recipe comes back unchanged.
 */
export function scaleRecipe(recipe: Recipe, flags: RunFlags, at: RunScale): ScaledRun {
  const lr = flags.lr ?? widthScaledLr(recipe.lr, at.hiddenSize);
  const fits = at.examples >= recipe.batch * MIN_STEPS_PER_EPOCH;
  const batch = flags.batch ?? (fits ? recipe.batch : Math.max(1, Math.floor(at.examples / MIN_STEPS_PER_EPOCH / at.unit)) * at.unit);
  // examples a step as planSteps makes them: whole micro-steps across ranks
  const perStep = Math.max(1, Math.round(batch / at.unit)) * at.unit;
  const stepsFor = (epochs: number) => Math.max(1, Math.ceil((epochs * at.examples) / perStep));
  const cap = stepsFor(MAX_SCALED_EPOCHS);
  const steps = flags.steps ?? (flags.epochs !== undefined ? stepsFor(flags.epochs) : recipe.steps !== undefined ? Math.min(recipe.steps, cap) : stepsFor(recipe.epochs ?? 1));
  const warmup = flags.warmup ?? Math.round(recipe.warmupFraction * steps);

  const from = (flag: unknown, rule: string) => (flag !== undefined ? 'flag' : rule);
  const why = [
    `lr ${lr.toExponential(2)} (${from(flags.lr, `${recipe.lr.toExponential()} × ${RECIPE_WIDTH}/${at.hiddenSize}`)})`,
    `${batch} a step (${from(flags.batch, fits ? 'recipe' : `${at.examples} examples / ${MIN_STEPS_PER_EPOCH} steps a pass`)})`,
    `${steps} steps (${flags.steps !== undefined ? 'flag' : flags.epochs !== undefined ? `${flags.epochs} epochs` : recipe.steps === undefined ? `${recipe.epochs} epoch(s)` : steps < recipe.steps ? `${MAX_SCALED_EPOCHS} epochs; the recipe's ${recipe.steps} would be ${((recipe.steps * perStep) / at.examples).toFixed(1)}` : 'recipe'})`,
    `warmup ${warmup} (${from(flags.warmup, `${+(100 * recipe.warmupFraction).toFixed(2)}% of the run`)})`,
  ];
  return { lr, batch, steps, warmup, why: `preset ${recipe.name} at hidden size ${at.hiddenSize} on ${at.examples} examples: ${why.join(', ')}` };
}
