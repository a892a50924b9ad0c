// The reward model's objective: the pairwise Bradley–Terry loss −log σ(r_chosen − r_rejected),
// with each reward read by the scalar head at the token that ends the response (Qwen's "pooling
// on the end token") or averaged over the response's tokens. A micro-batch is a few pairs, each
// sequence its own row, padded at the end to the longest (causal attention never looks ahead, so
// the padding changes no reward).
import type { EncodedPair } from '../chat/preference.js';
import { scalarBackward, scalarValues } from '../model/scalar-head.js';
import type { Trunk } from '../model/trunk.js';
import type { Objective } from './loop.js';

export type Pooling = 'last' | 'mean';

export interface PairBatch {
  pairs: readonly EncodedPair[];
}

/** Rows (chosen, rejected, chosen, …) padded to one length, and the flat positions each reward pools. */
export function pairRows(pairs: readonly EncodedPair[], pooling: Pooling, padId: number) {
  const seqs = pairs.flatMap((p) => [p.chosen, p.rejected]);
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(seqs.length * T).fill(padId);
  const at: number[] = [];
  /** Row r's reward is the mean of values[starts[r] .. starts[r+1]). */
  const starts: number[] = [0];
  seqs.forEach((s, r) => {
    ids.set(s, r * T);
    const from = pooling === 'last' ? s.length - 1 : pairs[r >> 1]!.promptLen;
    for (let t = from; t < s.length; t++) at.push(r * T + t);
    starts.push(at.length);
  });
  return { ids, rows: seqs.length, seqLen: T, at: Int32Array.from(at), starts };
}

/** σ-loss and its gradient per reward; accuracy counts pairs the model orders right. */
export function bradleyTerry(chosen: number, rejected: number): { loss: number; dChosen: number; correct: boolean } {
  const d = chosen - rejected;
  // log(1 + e^-d), computed without overflow either way
  const loss = d > 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));
  return { loss, dChosen: -1 / (1 + Math.exp(d)), correct: d > 0 };
}

export interface RewardObjective extends Objective<PairBatch> {
  /** Pairs ordered right since the last reset (for accuracy). */
  correct: number;
  seen: number;
}

export function rewardObjective(trunk: Trunk, o: { dropout: number; pooling: Pooling; padId: number }): RewardObjective {
  const objective: RewardObjective = {
    correct: 0,
    seen: 0,
    counted: (batch) => batch.pairs.length,
    run(batch, ctx) {
      const { k } = trunk;
      const rows = pairRows(batch.pairs, o.pooling, o.padId);
      const hidden = trunk.forward(rows, { dropout: ctx.grads ? o.dropout : 0, dropoutSeed: ctx.dropoutSeed });
      const pass = scalarValues(trunk, hidden, rows.at);
      const rewards = Array.from({ length: rows.rows }, (_, r) => mean(pass.values, rows.starts[r]!, rows.starts[r + 1]!));
      const dvalues = new Float32Array(rows.at.length);
      let lossSum = 0;
      for (let p = 0; p < batch.pairs.length; p++) {
        const bt = bradleyTerry(rewards[2 * p]!, rewards[2 * p + 1]!);
        lossSum += bt.loss;
        objective.seen += 1;
        if (bt.correct) objective.correct += 1;
        // d loss / d value, spread over the values each reward pools
        for (const [row, d] of [[2 * p, bt.dChosen], [2 * p + 1, -bt.dChosen]] as const) {
          const from = rows.starts[row]!, to = rows.starts[row + 1]!;
          for (let i = from; i < to; i++) dvalues[i] = (d * ctx.gradScale) / (to - from);
        }
      }
      const sum = trunk.tensor([1], 'f32');
      k.upload(sum, Float32Array.of(lossSum));
      k.axpy(ctx.lossSum, 1, sum);
      if (!ctx.grads) return;
      const dh = scalarBackward(trunk, hidden, pass, dvalues, ctx.grads);
      trunk.backward(hidden, dh, ctx.grads, ctx.hooks);
    },
  };
  return objective;
}

function mean(values: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i]!;
  return s / (to - from);
}
