// `loom dpo`'s presets: the defaults of a run's settings, which flags override. Apart from the
// trainer so that reading the command line loads none of the training code.
import type { Recipe } from './presets.js';

/**
 * `qwen`, as written for a 7B model (hidden size 4096, the width scaleRecipe starts from; Zephyr-7B,
 * whose DPO recipe this is, has it too): β 0.1 (the DPO paper's and TRL's default), lr 5e-7 (the
 * alignment handbook's Zephyr runs; the paper's 1e-6) warmed up over the first 10% of the run
 * (the handbook's warmup ratio) and then constant, 64 pairs a step (the paper's batch), one epoch,
 * 2048 tokens as the other presets, no dropout (TRL turns it off: with it the policy and the
 * reference disagree before any update), no weight decay (TRL's default), clipping at 1.0.
 */
export const DPO_PRESETS = {
  qwen: { maxLen: 2048, batchPairs: 64, epochs: 1, beta: 0.1, lr: 5e-7, warmupFraction: 0.1, minLrRatio: 1, weightDecay: 0, dropout: 0, clip: 1.0 },
} as const;

/** The part of a preset scaleRecipe fits to the model and the data, as sft's and rm's are. */
export function dpoRecipe(name: keyof typeof DPO_PRESETS): Recipe {
  const p = DPO_PRESETS[name];
  return { name, lr: p.lr, batch: p.batchPairs, epochs: p.epochs, warmupFraction: p.warmupFraction };
}
