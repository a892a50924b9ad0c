// The records every training command writes to its metrics JSONL (one line per step or eval);
// the dashboard (lib/ui) reads the same types, so they live apart from any loop.

export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  mfu: number | null;
  skipped?: true;
}

export interface EvalRecord {
  step: number;
  val_loss: number;
  /** Language models: perplexity over the loss-bearing tokens. */
  val_ppl?: number;
  val_tokens?: number;
  /** Reward models: held-out pairs ordered right, and how many pairs. */
  val_accuracy?: number;
  val_pairs?: number;
  /** Fine-tuning: the model's answers to fixed prompts at this evaluation. */
  samples?: { prompt: string; answer: string }[];
}

export type MetricsRecord = StepRecord | EvalRecord;

/** Five decimals: enough to compare runs, short enough to read. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(5)) : x;
}
