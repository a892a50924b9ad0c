import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDocs, type EncodeDocsOptions } from '../../../lib/tokenizer/encode-docs.js';
import { StageCounters, type StageContext } from '../../../lib/stage.js';
import type { Doc } from '../../../lib/io/types.js';

const ctx: StageContext = { name: 'test', counters: new StageCounters(), count: () => {}, drop: () => {} };

async function encode(texts: string[], opts: Partial<EncodeDocsOptions>): Promise<number[][]> {
  async function* docs(): AsyncGenerator<Doc> {
    for (const text of texts) yield { text };
  }
  const out: number[][] = [];
  for await (const [, ids] of encodeDocs(docs(), { workers: 0, vocab: { vocab: 'cl100k' }, nfc: true, onError: 'fail', ...opts }, ctx)) out.push([...ids]);
  return out;
}

test('encodeDocs in the calling thread honours each call\'s NFC setting and vocabulary, one after another', async () => {
  const nfd = ['Cafe\u0301 cre\u0300me, nai\u0308ve.'];
  const composed = await encode(nfd, { nfc: true });
  const raw = await encode(nfd, { nfc: false });
  assert.notDeepEqual(raw, composed, 'NFD text encodes differently without NFC');
  assert.deepEqual(await encode(['Caf\u00e9 cr\u00e8me, na\u00efve.'], { nfc: true }), composed);
  assert.deepEqual(await encode(nfd, { nfc: true }), composed, 'back to NFC after a call without it');
  // loom's own vocabulary merges Chinese that cl100k splits into bytes
  const chinese = ['自然语言处理是人工智能的一个分支。'];
  const cl100k = await encode(chinese, {});
  const loom = await encode(chinese, { vocab: {} });
  assert.ok(loom[0]!.length < cl100k[0]!.length, `${loom[0]!.length} loom ids vs ${cl100k[0]!.length} cl100k`);
  assert.deepEqual(await encode(chinese, {}), cl100k, 'back to cl100k after the other vocabulary');
});
