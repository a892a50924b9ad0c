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

/** A PPO step: the loop's figures (loss: policy + value loss; lr, grad_norm: the policy's) and the RLHF ones. */
export interface PpoStepRecord extends StepRecord {
  /** The reward model's mean raw score, after the running-mean (and -std) normalization, and that running mean. */
  reward: number;
  reward_normalized: number;
  reward_mean: number;
  /** Mean over responses of Σ_t log π(y_t) − log π_ref(y_t), and the coefficient it was charged at. */
  kl: number;
  kl_coef: number;
  policy_loss: number;
  policy_clipfrac: number;
  value_loss: number;
  value_clipfrac: number;
  critic_grad_norm: number;
  /** Mean −log π of the sampled tokens (a sample estimate of the policy's entropy). */
  entropy: number;
  response_len: number;
  /** Share of responses that ended with a stop token. */
  ended: number;
  /** Mean |log p| difference between the sampler and the training forward. */
  logprob_gap: number;
  ptx_loss?: number;
  /** Only the critic was updated (its warm-up). */
  critic_warmup?: true;
  rollout_s: number;
  train_s: number;
}

/** A PPO evaluation on held-out prompts: raw reward, KL to the reference per response, length. */
export interface PpoEvalRecord {
  step: number;
  val_reward: number;
  val_kl: number;
  val_response_len: number;
  val_ended: number;
  val_prompts: number;
}

export type MetricsRecord = StepRecord | EvalRecord | PpoEvalRecord;

/** Five decimals: enough to compare runs, short enough to read. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(5)) : x;
}
