// The fine-tuning commands' presets: the defaults of a run's settings, which flags override. Kept
// apart from the trainers so that reading the command line loads none of the training code.

/**
 * The Qwen report's recipe (`qwen`) and its math variant at 1024 tokens: AdamW (0.9, 0.95, 1e-8),
 * warmup over 1430 steps to 2e-6, then constant; 128 sequences a step, 4000 steps, weight decay
 * 0.1, dropout 0.1, clipping at 1.0. Flags override any of it.
 */
export const SFT_PRESETS = {
  qwen: { maxLen: 2048, batchRows: 128, steps: 4000, lr: 2e-6, warmup: 1430, minLrRatio: 1, weightDecay: 0.1, dropout: 0.1, clip: 1.0 },
  math: { maxLen: 1024, batchRows: 128, steps: 4000, lr: 2e-6, warmup: 1430, minLrRatio: 1, weightDecay: 0.1, dropout: 0.1, clip: 1.0 },
} as const;

export type SftPreset = keyof typeof SFT_PRESETS;

/** The Qwen report's reward-model recipe: constant lr 3e-6, 64 pairs a step, 2048 tokens, one epoch. */
export const RM_PRESETS = {
  qwen: { maxLen: 2048, batchPairs: 64, epochs: 1, lr: 3e-6, warmup: 0, minLrRatio: 1, weightDecay: 0.1, dropout: 0, clip: 1.0 },
} as const;
