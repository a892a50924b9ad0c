// `loom dpo`'s presets: the defaults of a run's settings, which flags override. Apart from the
// trainer so that reading the command line loads none of the training code.

/**
 * `qwen`: β 0.1 (the DPO paper's and TRL's default), lr 5e-7 after 10 warmup steps, then constant
 * (the alignment handbook's Zephyr DPO runs use 5e-7; the paper 1e-6), 64 pairs a step (the paper's
 * batch), one epoch, 2048 tokens as the other presets, no dropout (TRL turns it off: with it the
 * policy and the reference disagree before any update), no weight decay (TRL's default), clipping
 * at 1.0.
 */
export const DPO_PRESETS = {
  qwen: { maxLen: 2048, batchPairs: 64, epochs: 1, beta: 0.1, lr: 5e-7, warmup: 10, minLrRatio: 1, weightDecay: 0, dropout: 0, clip: 1.0 },
} as const;
