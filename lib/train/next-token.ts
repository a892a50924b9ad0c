// The next-token objective: cross-entropy of each target under the LM head, a float weight per
// target (loss masks, SFT's assistant-only tokens), targets < 0 ignored. Pretraining is this
// objective over token-shard windows.
import { crossEntropy } from '../model/lm-head.js';
import type { TokenBatch, Trunk } from '../model/trunk.js';
import type { Objective } from './loop.js';

export interface NextTokenBatch extends TokenBatch {
  /** int32 [rows · seqLen]: the token each position predicts; < 0 bears no loss. */
  targets: Int32Array;
  /** fp32 [rows · seqLen]: a factor on each target's loss gradient (default 1). */
  weights?: Float32Array;
}

export function nextTokenObjective(trunk: Trunk, dropout: number): Objective<NextTokenBatch> {
  return {
    counted(batch) {
      let n = 0;
      for (let i = 0; i < batch.targets.length; i++) if (batch.targets[i]! >= 0 && (!batch.weights || batch.weights[i] !== 0)) n++;
      return n;
    },
    run(batch, ctx) {
      const hidden = trunk.forward(batch, { dropout: ctx.grads ? dropout : 0, dropoutSeed: ctx.dropoutSeed });
      const { losses, dh } = crossEntropy(trunk, hidden, batch.targets, { grads: ctx.grads, gradScale: ctx.gradScale, weights: batch.weights });
      trunk.k.sum(ctx.lossSum, losses, true);
      if (dh && ctx.grads) trunk.backward(hidden, dh, ctx.grads, ctx.hooks);
    },
  };
}
