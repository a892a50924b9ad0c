// Perplexity under a loom checkpoint: exp of the document's mean next-token loss after the
// <|endoftext|> that opens it, the same alone or batched with longer documents (padding is ignored).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointPerplexity } from '../../../../lib/data/score/checkpoint-perplexity.js';
import { crossEntropy } from '../../../../lib/model/lm-head.js';
import { checkpointVocabulary, loadModel } from '../../../../lib/model/load.js';
import { ENDOFTEXT } from '../../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../../lib/tokenizer/tokenizer.js';
import type { Doc } from '../../../../lib/io/types.js';
import { tempDir } from '../../../helpers/cli.js';
import { tinyChatBase } from '../../../helpers/chat-base.js';

async function collect(docs: Doc[], opts: Parameters<typeof checkpointPerplexity>[1]): Promise<Doc[]> {
  const out: Doc[] = [];
  async function* source() {
    yield* docs;
  }
  for await (const d of checkpointPerplexity(source(), opts)) out.push(d);
  return out;
}

test('scores.lm_perplexity is exp(mean loss) of each document under the checkpoint, batched or not', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const texts = ['The jury said it did find that the manner in which the election was conducted.', 'Short one.', 'A much longer document about the city and its many many streets and the people who walk them every day.'];
  const docs = texts.map((text, i) => ({ id: `d${i}`, text }));
  const batched = await collect(docs.map((d) => ({ ...d })), { checkpoint: base, device: 'cpu', batch: 3, maxLen: 64 });
  const alone = await collect(docs.map((d) => ({ ...d })), { checkpoint: base, device: 'cpu', batch: 1, maxLen: 64 });
  // by hand for the first document
  const model = loadModel(base, { device: 'cpu', capacity: 64 });
  const tokenizer = new Tokenizer(checkpointVocabulary(model.checkpoint.info));
  const ids = [tokenizer.vocab.specials[ENDOFTEXT]!, ...tokenizer.encode(texts[0]!)];
  tokenizer.free();
  const T = ids.length - 1;
  const losses = model.k.download(crossEntropy(model.trunk, model.trunk.forward({ ids: Int32Array.from(ids.slice(0, T)), rows: 1, seqLen: T }), Int32Array.from(ids.slice(1))).losses) as Float32Array;
  const expected = Math.exp(losses.reduce((a, b) => a + b, 0) / T);
  const got = (batched[0]!.scores as Record<string, number>).lm_perplexity!;
  assert.ok(Math.abs(got - expected) / expected < 1e-4, `${got} vs ${expected}`);
  batched.forEach((d, i) => {
    const a = (d.scores as Record<string, number>).lm_perplexity!, b = (alone[i]!.scores as Record<string, number>).lm_perplexity!;
    assert.ok(a > 1 && Math.abs(a - b) / b < 1e-4, `document ${i}: ${a} batched, ${b} alone`);
  });
});
