// Held-out loss and perplexity: the mean next-token loss over windows, in order. Windows come from
// a numbered source (a shard split) or one at a time from a stream (`LossMeter.add`), so memory is
// one micro-batch whatever the amount of text.
import type { Backend, Tensor } from '../../kernels/index.js';
import type { Trunk } from '../model/trunk.js';
import { fillBatch } from '../train/data.js';
import type { Objective } from '../train/loop.js';
import { nextTokenObjective, type NextTokenBatch } from '../train/next-token.js';

export interface EvalResult {
  loss: number;
  ppl: number;
  tokens: number;
  windows: number;
}

/** Numbered windows of seqLen+1 tokens (TokenDataset is one). */
export interface WindowSource {
  dir: string;
  seqLen: number;
  windowCount: number;
  window(index: number): Uint32Array;
  close?(): void;
}

/**
 * Sums the model's loss over windows added one at a time, a forward pass per micro-batch of
 * `rows` windows. The last micro-batch is padded with ignored targets, so every window counts once
 * and every pass has the same shape.
 */
export class LossMeter {
  private pending: Uint32Array[] = [];
  private readonly lossSum: Tensor;
  private readonly k: Backend;
  private readonly objective: Objective<NextTokenBatch>;
  windows = 0;

  /** `where` names the data in errors (a token id outside the model's vocabulary). */
  constructor(
    private readonly trunk: Trunk,
    private readonly rows: number,
    private readonly seqLen: number,
    private readonly where: string,
  ) {
    this.k = trunk.k;
    this.lossSum = this.k.alloc([1]);
    this.objective = nextTokenObjective(trunk, 0);
  }

  /** Adds a window of seqLen+1 tokens; it must not change until the next full micro-batch runs. */
  add(window: Uint32Array): void {
    this.pending.push(window);
    this.windows += 1;
    if (this.pending.length === this.rows) this.flush();
  }

  /** The mean loss so far; frees the meter's accumulator. */
  result(): EvalResult {
    this.flush();
    const tokens = this.windows * this.seqLen;
    const sum = (this.k.download(this.lossSum) as Float32Array)[0]!;
    this.k.free(this.lossSum);
    const loss = tokens > 0 ? sum / tokens : NaN;
    return { loss, ppl: Math.exp(loss), tokens, windows: this.windows };
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const B = this.rows, T = this.seqLen;
    const mb = fillBatch(this.pending, T, this.trunk.config.vocabSize, this.where);
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T).fill(-1);
    ids.set(mb.ids);
    targets.set(mb.targets);
    this.objective.run({ ids, targets, rows: B, seqLen: T }, { grads: null, gradScale: 1, dropoutSeed: 0, lossSum: this.lossSum });
    this.pending = [];
  }
}

/** Mean loss over the first `maxWindows` windows of a numbered source (all by default), `rows` windows a pass. */
export function evaluate(trunk: Trunk, rows: number, dataset: WindowSource, maxWindows = Infinity): EvalResult {
  const meter = new LossMeter(trunk, rows, dataset.seqLen, `${dataset.dir} (${dataset.seqLen})`);
  const windows = Math.min(dataset.windowCount, maxWindows);
  for (let w = 0; w < windows; w++) meter.add(dataset.window(w));
  return meter.result();
}

/** Mean loss per loss-bearing token of an objective over batches, forward only (SFT's and RM's validation). */
export function objectiveLoss<B>(k: Backend, objective: Objective<B>, batches: Iterable<B>): { loss: number; tokens: number } {
  const lossSum = k.alloc([1]);
  try {
    let tokens = 0;
    for (const batch of batches) {
      tokens += objective.counted(batch);
      objective.run(batch, { grads: null, gradScale: 1, dropoutSeed: 0, lossSum });
    }
    const sum = (k.download(lossSum) as Float32Array)[0]!;
    return { loss: tokens > 0 ? sum / tokens : NaN, tokens };
  } finally {
    k.free(lossSum);
  }
}
