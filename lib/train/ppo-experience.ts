// PPO's experience: responses sampled from the policy through the generate engine, then the
// forward passes that price them — the policy's and the reference's log-probabilities of each
// response token, the critic's value before each token, and the reward model's score at the end
// token. Sequences go in padded rows, several to a pass; causal attention never looks at the padding.
import { tokenLogprobs } from '../model/lm-head.js';
import { scalarValues } from '../model/scalar-head.js';
import type { Hidden, Trunk } from '../model/trunk.js';
import { sampleSeed } from '../infer/generate-records.js';
import type { GenerateEngine, SamplingParams } from '../infer/types.js';

export interface Rollout {
  /** The prompt's ordinal in the run (its sample seeds derive from it). */
  ordinal: number;
  /** Prompt then response; the response ends with the stop token when the model drew one. */
  ids: Int32Array;
  promptLen: number;
  /** The model ended the response itself (a stop token), rather than running into the cap. */
  ended: boolean;
  /** log p of each response token as the sampler saw it (none for the stop token). */
  sampleLogprobs: Float32Array;
}

export function responseLength(r: Rollout): number {
  return r.ids.length - r.promptLen;
}

/** `samples` responses to each prompt, through the engine; seeds depend only on (seed, ordinal, sample). */
export async function sampleRollouts(
  engine: GenerateEngine,
  prompts: readonly { ordinal: number; ids: Int32Array }[],
  o: { samples: number; sampling: Omit<SamplingParams, 'seed'>; seed: number },
): Promise<Rollout[]> {
  const jobs = prompts.flatMap((p) =>
    Array.from({ length: o.samples }, async (_, s): Promise<Rollout> => {
      const g = await engine.submit({ prompt: p.ids, params: { ...o.sampling, seed: sampleSeed(o.seed, p.ordinal, s) } });
      const response = g.stopToken === undefined ? g.tokens : [...g.tokens, g.stopToken];
      const ids = new Int32Array(p.ids.length + response.length);
      ids.set(p.ids);
      ids.set(response, p.ids.length);
      return { ordinal: p.ordinal, ids, promptLen: p.ids.length, ended: g.stopToken !== undefined, sampleLogprobs: Float32Array.from(g.logprobs) };
    }),
  );
  return Promise.all(jobs);
}

/**
 * Rollouts as one padded batch: `targets` holds each response token at the position that predicts
 * it (−1 elsewhere), and `at` those positions in order, rollout after rollout, which is also where
 * the critic reads the value before each response token.
 */
export interface ResponseRows {
  ids: Int32Array;
  rows: number;
  seqLen: number;
  targets: Int32Array;
  at: Int32Array;
  /** Rollout r's tokens are at[starts[r] .. starts[r+1]). */
  starts: number[];
  /** Each row's last position (where a reward model reads its score). */
  ends: Int32Array;
}

export function responseRows(rollouts: readonly Rollout[], padId: number): ResponseRows {
  const T = Math.max(...rollouts.map((r) => r.ids.length));
  const ids = new Int32Array(rollouts.length * T).fill(padId);
  const targets = new Int32Array(rollouts.length * T).fill(-1);
  const at: number[] = [], starts = [0];
  const ends = new Int32Array(rollouts.length);
  rollouts.forEach((r, row) => {
    ids.set(r.ids, row * T);
    for (let t = r.promptLen; t < r.ids.length; t++) {
      targets[row * T + t - 1] = r.ids[t]!;
      at.push(row * T + t - 1);
    }
    starts.push(at.length);
    ends[row] = row * T + r.ids.length - 1;
  });
  return { ids, rows: rollouts.length, seqLen: T, targets, at: Int32Array.from(at), starts, ends };
}

/** Splits a per-token array laid out as `rows.at` into one array per rollout. */
export function perRollout(rows: ResponseRows, flat: ArrayLike<number>): Float32Array[] {
  return rows.starts.slice(0, -1).map((from, r) => Float32Array.from({ length: rows.starts[r + 1]! - from }, (_, i) => flat[from + i]!));
}

/** Runs `pass` over the rollouts `batch` at a time and concatenates what it returns per rollout. */
export function inBatches<T>(rollouts: readonly Rollout[], batch: number, pass: (part: readonly Rollout[]) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < rollouts.length; i += batch) out.push(...pass(rollouts.slice(i, i + batch)));
  return out;
}

/** Forward without dropout over rollouts as rows. */
export function forwardRows(trunk: Trunk, rows: ResponseRows): Hidden {
  return trunk.forward(rows, { dropout: 0 });
}

/** log p of each response token under a language model. */
export function responseLogprobs(trunk: Trunk, rollouts: readonly Rollout[], padId: number): Float32Array[] {
  const rows = responseRows(rollouts, padId);
  const all = tokenLogprobs(trunk, forwardRows(trunk, rows), rows.targets);
  return perRollout(rows, Array.from(rows.at, (i) => all[i]!));
}

/** The value head's estimate before each response token. */
export function responseValues(trunk: Trunk, rollouts: readonly Rollout[], padId: number): Float32Array[] {
  const rows = responseRows(rollouts, padId);
  return perRollout(rows, scalarValues(trunk, forwardRows(trunk, rows), rows.at).values);
}

/** The reward model's score at each sequence's last token (the <|im_end|> of a response that ended). */
export function endScores(trunk: Trunk, rollouts: readonly Rollout[], padId: number): number[] {
  const rows = responseRows(rollouts, padId);
  return Array.from(scalarValues(trunk, forwardRows(trunk, rows), rows.ends).values);
}
