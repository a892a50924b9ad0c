// Held-out loss and perplexity: the mean next-token loss over windows, in order. Windows come from
// a numbered source (a shard split) or one at a time from a stream (`LossMeter.add`), so memory is
// one micro-batch whatever the amount of text.
import type { QwenModel } from '../model/model.js';
import { fillBatch } from './data.js';

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
 * Sums the model's loss over windows added one at a time, a forward pass per full micro-batch.
 * The last micro-batch is padded with ignored targets, so every window counts once.
 */
export class LossMeter {
  private rows: Uint32Array[] = [];
  windows = 0;

  /** `where` names the data in errors (a token id outside the model's vocabulary). */
  constructor(
    private readonly model: QwenModel,
    private readonly vocabIds: number,
    private readonly where: string,
  ) {
    model.resetLoss();
  }

  /** Adds a window of seqLen+1 tokens; it must not change until the next full micro-batch runs. */
  add(window: Uint32Array): void {
    this.rows.push(window);
    this.windows += 1;
    if (this.rows.length === this.model.batch) this.flush();
  }

  result(): EvalResult {
    this.flush();
    const tokens = this.windows * this.model.seqLen;
    const sum = (this.model.k.download(this.model.lossSum) as Float32Array)[0]!;
    const loss = tokens > 0 ? sum / tokens : NaN;
    return { loss, ppl: Math.exp(loss), tokens, windows: this.windows };
  }

  private flush(): void {
    if (this.rows.length === 0) return;
    const B = this.model.batch, T = this.model.seqLen;
    const mb = fillBatch(this.rows, T, this.vocabIds, this.where);
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T).fill(-1);
    ids.set(mb.ids);
    targets.set(mb.targets);
    this.model.step({ ids, targets }, { grad: false });
    this.rows = [];
  }
}

/** Mean loss over the first `maxWindows` windows of a numbered source (all by default). */
export function evaluate(model: QwenModel, dataset: WindowSource, vocabIds: number, maxWindows = Infinity): EvalResult {
  const meter = new LossMeter(model, vocabIds, `${dataset.dir} (${dataset.seqLen})`);
  const windows = Math.min(dataset.windowCount, maxWindows);
  for (let w = 0; w < windows; w++) meter.add(dataset.window(w));
  return meter.result();
}
