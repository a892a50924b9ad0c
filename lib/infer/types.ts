// The contract between the generate engine (KV cache, batched decode, sampling on the device) and
// what drives it: the `generate` command, sample answers during fine-tuning, PPO rollouts.

/** How one sequence is continued; every field is per request, so one batch mixes settings. */
export interface SamplingParams {
  /** Most new tokens (the context length may cut a sequence earlier: finish 'length'). */
  maxNew: number;
  /** 0: greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens; 0: off. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose mass reaches p; 1: off. */
  topP: number;
  /** Hugging Face's repetition penalty over the prompt and the tokens so far; 1: off. */
  repetitionPenalty: number;
  /** Tokens that end the sequence; the stop token is not part of the output. */
  stopTokens: readonly number[];
  /** The sequence's own random stream: its output does not depend on the batch it runs in. */
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingParams = { maxNew: 256, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, stopTokens: [], seed: 0 };

export interface GenerationRequest {
  prompt: Int32Array;
  params: SamplingParams;
  /**
   * Hears each new token as it is sampled, with log p(token) under the model's distribution
   * (raw logits, before temperature, penalty and truncation: what PPO recomputes). Returning false
   * ends the sequence there with finish 'stop' (a stop string was found in the text).
   */
  onToken?: (token: number, logprob: number) => boolean | void;
  /**
   * Start from the longest prefix of the prompt that a free slot's cache still holds from the
   * sequence before, if that one asked for reuse too (an earlier turn of the same conversation),
   * prefilling only the rest. The
   * result equals a full prefill's up to rounding, so it is for chat, not for reproducible batches.
   */
  reusePrefix?: boolean;
}

/** 'stop': a stop token (not included) or onToken said so; 'length': maxNew or the context ran out. */
export type FinishReason = 'stop' | 'length';

export interface Generation {
  /** The new tokens, without the stop token. */
  tokens: number[];
  /** log p of each new token (same length as tokens). */
  logprobs: number[];
  finish: FinishReason;
  /** The stop token that ended the sequence (finish 'stop' by a token, not by onToken). */
  stopToken?: number;
  promptTokens: number;
  /** Prompt tokens taken from the cache rather than prefilled (reusePrefix). */
  cachedTokens?: number;
}

export interface GenerateEngine {
  /** Most tokens (prompt + new) one sequence may hold. */
  readonly contextLength: number;
  /** Queues a request; sequences run concurrently, a finished one's slot going to the next waiting. */
  submit(request: GenerationRequest): Promise<Generation>;
  /** Frees the device memory; pending requests are rejected. */
  close(): void;
}
