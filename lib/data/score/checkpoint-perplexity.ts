// CCNet's perplexity signal under a loom checkpoint instead of an n-gram model: each document's
// mean next-token loss under the model, as scores.lm_perplexity. Documents go through the
// inference path (weights only, bf16 on a GPU) a batch of rows at a time, each cut to maxLen
// tokens after the <|endoftext|> that opens it, as `loom tokenize` packs documents.
import { crossEntropy } from '../../model/lm-head.js';
import { checkpointVocabulary, loadModel } from '../../model/load.js';
import { defineStage } from '../../stage.js';
import { hasText, NO_TEXT } from '../../text/no-text.js';
import type { Doc } from '../../io/types.js';
import { ENDOFTEXT } from '../../tokenizer/special.js';
import { Tokenizer } from '../../tokenizer/tokenizer.js';

export interface CheckpointPerplexityOptions {
  checkpoint: string;
  device: string;
  /** Documents per forward pass. */
  batch: number;
  /** Tokens of a document that count (its start). */
  maxLen: number;
}

export const checkpointPerplexity = defineStage<CheckpointPerplexityOptions>('lm perplexity', { checkpoint: '', device: 'auto', batch: 16, maxLen: 1024 }, async function* (docs, o, ctx) {
  const model = loadModel(o.checkpoint, { device: o.device, capacity: o.batch * o.maxLen });
  if (model.checkpoint.head !== 'lm') throw new Error(`${o.checkpoint}: a ${model.checkpoint.head} model has no LM head to measure perplexity with`);
  const tokenizer = new Tokenizer(checkpointVocabulary(model.checkpoint), { nfc: model.checkpoint.info.nfc });
  const eot = tokenizer.vocab.specials[ENDOFTEXT]!;
  let pending: { doc: Doc; ids: Uint32Array }[] = [];
  const flush = function* () {
    const T = Math.max(...pending.map((p) => p.ids.length)) - 1;
    const ids = new Int32Array(pending.length * T).fill(eot), targets = new Int32Array(pending.length * T).fill(-1);
    pending.forEach((p, r) => {
      ids.set(p.ids.subarray(0, p.ids.length - 1), r * T);
      targets.set(p.ids.subarray(1), r * T);
    });
    const { trunk, k } = model;
    const losses = k.download(crossEntropy(trunk, trunk.forward({ ids, rows: pending.length, seqLen: T }), targets).losses) as Float32Array;
    pending.forEach((p, r) => {
      const n = p.ids.length - 1;
      let sum = 0;
      for (let t = 0; t < n; t++) sum += losses[r * T + t]!;
      const scores = (typeof p.doc.scores === 'object' && p.doc.scores !== null ? p.doc.scores : (p.doc.scores = {})) as Record<string, number>;
      scores.lm_perplexity = Math.round(Math.exp(sum / n) * 100) / 100;
    });
    const done = pending.map((p) => p.doc);
    pending = [];
    yield* done;
  };
  try {
    for await (const doc of docs) {
      if (!hasText(doc)) {
        ctx.drop(doc, NO_TEXT);
        continue;
      }
      const text = tokenizer.encode(doc.text);
      if (text.length === 0) {
        ctx.drop(doc, 'no tokens');
        continue;
      }
      const ids = new Uint32Array(Math.min(text.length, o.maxLen) + 1);
      ids[0] = eot;
      ids.set(text.subarray(0, ids.length - 1), 1);
      pending.push({ doc, ids });
      if (pending.length === o.batch) yield* flush();
    }
    if (pending.length > 0) yield* flush();
  } finally {
    tokenizer.free();
  }
});
