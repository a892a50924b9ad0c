// Held-out loss and perplexity: the mean next-token loss over a split's windows, in order.
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
 * Mean loss over the first `maxWindows` windows (all by default). The last micro-batch is padded
 * with ignored targets, so every window counts once.
 */
export function evaluate(model: QwenModel, dataset: WindowSource, vocabIds: number, maxWindows = Infinity): EvalResult {
  const B = model.batch, T = model.seqLen;
  const windows = Math.min(dataset.windowCount, maxWindows);
  model.resetLoss();
  for (let start = 0; start < windows; start += B) {
    const rows: Uint32Array[] = [];
    for (let w = start; w < Math.min(start + B, windows); w++) rows.push(dataset.window(w));
    const mb = fillBatch(rows, T, vocabIds, `${dataset.dir} (${dataset.seqLen})`);
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T).fill(-1);
    ids.set(mb.ids);
    targets.set(mb.targets);
    model.step({ ids, targets }, { grad: false });
  }
  const tokens = windows * T;
  const sum = (model.k.download(model.lossSum) as Float32Array)[0]!;
  const loss = tokens > 0 ? sum / tokens : NaN;
  return { loss, ppl: Math.exp(loss), tokens, windows };
}
