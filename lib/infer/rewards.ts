// `loom rm score`: a reward model's score for each record, batched through the inference path
// (weights only, bf16 on a GPU). A chat record's reward is read at the <|im_end|> that closes its
// last turn; a preference record gets one for each response. Records that are neither, or do
// not fit, are dropped with the reason.
import { chatMessages, preferencePair } from '../chat/formats.js';
import { encodePreference } from '../chat/preference.js';
import { withSystemPrompt } from '../chat/turns.js';
import { DataError } from '../errors.js';
import type { Doc } from '../io/types.js';
import { checkpointVocabulary, loadModel } from '../model/load.js';
import { scalarValues } from '../model/scalar-head.js';
import { defineStage } from '../stage.js';
import { encodeChat } from '../tokenizer/chatml.js';
import { ENDOFTEXT, IM_END } from '../tokenizer/special.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';

export interface RewardScoreOptions {
  checkpoint: string;
  device: string;
  /** Sequences per forward pass. */
  batch: number;
  maxLen: number;
  systemPrompt: string;
}

export const scoreRewards = defineStage<RewardScoreOptions>('rm score', { checkpoint: '', device: 'auto', batch: 16, maxLen: 2048, systemPrompt: 'You are a helpful assistant.' }, async function* (docs, o, ctx) {
  const model = loadModel(o.checkpoint, { device: o.device, capacity: o.batch * o.maxLen });
  if (model.checkpoint.head !== 'score') throw new DataError(`${o.checkpoint}: not a reward model (its head is ${model.checkpoint.head}); train one with loom rm`);
  const tokenizer = new Tokenizer(checkpointVocabulary(model.checkpoint), { nfc: model.checkpoint.info.nfc });
  const padId = tokenizer.vocab.specials[ENDOFTEXT]!;
  const imEnd = tokenizer.vocab.specials[IM_END]!;
  // Each pending record with the sequences it needs scored and the fields they go to.
  let pending: { doc: Doc; seqs: Int32Array[]; fields: string[] }[] = [];
  let sequences = 0;
  const flush = function* () {
    const seqs = pending.flatMap((p) => p.seqs);
    const T = Math.max(...seqs.map((s) => s.length));
    const ids = new Int32Array(seqs.length * T).fill(padId);
    seqs.forEach((s, r) => ids.set(s, r * T));
    const hidden = model.trunk.forward({ ids, rows: seqs.length, seqLen: T });
    const values = scalarValues(model.trunk, hidden, Int32Array.from(seqs, (s, r) => r * T + s.length - 1)).values;
    let r = 0;
    for (const p of pending) {
      for (const field of p.fields) (p.doc as Record<string, unknown>)[field] = Number(values[r++]!.toFixed(6));
      yield p.doc;
    }
    pending = [];
    sequences = 0;
  };
  try {
    for await (const doc of docs) {
      const encoded = encodeRecord(doc, tokenizer, imEnd, o);
      if (typeof encoded === 'string') {
        ctx.drop(doc, encoded);
        continue;
      }
      if (sequences + encoded.seqs.length > o.batch) yield* flush();
      pending.push({ doc, ...encoded });
      sequences += encoded.seqs.length;
    }
    if (pending.length > 0) yield* flush();
  } finally {
    tokenizer.free();
  }
});

function encodeRecord(doc: Doc, tokenizer: Tokenizer, imEnd: number, o: RewardScoreOptions): { seqs: Int32Array[]; fields: string[] } | string {
  if ('chosen' in doc && 'rejected' in doc) {
    const pair = preferencePair(doc);
    if (typeof pair === 'string') return pair;
    const encoded = encodePreference(tokenizer, pair, { maxLen: o.maxLen, systemPrompt: o.systemPrompt });
    return 'drop' in encoded ? encoded.drop : { seqs: [encoded.chosen, encoded.rejected], fields: ['reward_chosen', 'reward_rejected'] };
  }
  const messages = chatMessages(doc, 'auto', { emptyAnswer: true });
  if (typeof messages === 'string') return messages;
  const { ids } = encodeChat(tokenizer, withSystemPrompt(messages, o.systemPrompt));
  const end = ids.lastIndexOf(imEnd) + 1;
  if (end > o.maxLen) return `${end} tokens, longer than --max-len ${o.maxLen}`;
  return { seqs: [Int32Array.from(ids.subarray(0, end))], fields: ['reward'] };
}
