import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownParagraphs } from '../../../../examples/quickstart/make-warc.js';
import { trainClassifier } from '../../../../lib/data/score/classifier.js';
import { score } from '../../../../lib/data/score/stage.js';
import type { Doc } from '../../../../lib/io/types.js';

async function* from(docs: Doc[]) {
  yield* docs;
}
const collect = async (it: AsyncIterable<Doc>) => {
  const out: Doc[] = [];
  for await (const d of it) out.push(d);
  return out;
};

test('score annotates, never drops (but records without text), and clears stale flags', async () => {
  const prose = brownParagraphs('ca05').slice(0, 8).join('\n');
  const docs: Doc[] = [
    { id: 'prose', text: prose, flags: { c4: 'stale', mine: 'kept' }, extra: [1, 2] },
    { id: 'menu', text: 'Home\nNews\nLogin', scores: { earlier: 1 } },
    { id: 'empty', text: '' },
    { id: 'none' },
  ];
  const run = score(from(docs), { rules: ['gopher_quality', 'c4'] });
  const out = await collect(run);
  assert.deepEqual(out.map((d) => d.id), ['prose', 'menu', 'empty']);
  assert.deepEqual(run.counters.dropReasons, { 'no text': 1 });
  assert.deepEqual(out[0]!.flags, { mine: 'kept' });
  assert.deepEqual(out[0]!.extra, [1, 2]);
  assert.equal(out[1]!.scores!.earlier, 1);
  assert.equal(out[1]!.flags!.gopher_quality, 'gopher_short_doc: 3 < 50');
  assert.match(out[1]!.flags!.c4!, /^too_few_sentences/);
  assert.equal(out[2]!.scores!.gopher_words, 0);
  assert.equal(run.counters.extra['flagged c4'], 2);
});

test('a classifier writes scores.NAME and, with flagAbove, flags.NAME', async () => {
  const model = trainClassifier(
    [...['you idiot', 'shut up idiot', 'idiot fool'].map((text) => ({ text, label: 'bad' })), ...['good morning', 'thank you', 'nice day'].map((text) => ({ text, label: 'ok' }))],
    { features: { buckets: 1024, wordNgrams: 1, minn: 0, maxn: 0 }, epochs: 30, lr: 1, seed: 0, positive: 'bad', flagAbove: 0.5 },
  );
  const out = await collect(score(from([{ text: 'idiot' }, { text: 'good day' }]), { rules: [], classifiers: { rude: model } }));
  assert.ok(out[0]!.scores!.rude! > 0.5 && out[1]!.scores!.rude! < 0.5);
  assert.match(out[0]!.flags!.rude!, /^rude: 0\.\d+ ≥ 0.5$/);
  assert.equal(out[1]!.flags, undefined);
});
