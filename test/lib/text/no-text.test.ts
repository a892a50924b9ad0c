// Records without a string `text` are handled the same way by every text stage: dropped with the
// reason "no text", counted, and written to --rejects (issue 21).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dedupFilter, runBuckets, runClusters, runSignatures } from '../../../lib/data/dedup/multistage.js';
import { DEDUP_DEFAULTS } from '../../../lib/data/dedup/options.js';
import { dedup } from '../../../lib/data/dedup/stream.js';
import { readDocs } from '../../../lib/io/read.js';
import { RejectSink } from '../../../lib/io/rejects.js';
import type { Doc } from '../../../lib/io/types.js';
import type { StageRun } from '../../../lib/stage.js';
import { langid } from '../../../lib/text/langid-stage.js';
import { NO_TEXT } from '../../../lib/text/no-text.js';
import { tokenizeDocs } from '../../../lib/tokenizer/encode-docs.js';
import { tempDir } from '../../helpers/cli.js';

const INPUT: Doc[] = [
  { id: 'a', text: 'The committee approved the new budget after a long debate on Tuesday evening.' },
  { id: 'missing', title: 'no text at all' },
  { id: 'number', text: 42 as unknown as string },
  { id: 'null', text: null as unknown as string },
  { id: 'b', text: 'A different sentence about the weather, which was mild and dry all week long.' },
];

const STAGES: [string, (docs: AsyncIterable<Doc>, rejects: RejectSink) => StageRun][] = [
  ['langid', (docs, rejects) => langid(docs, { rejects })],
  ['dedup', (docs, rejects) => dedup(docs, { rejects, workers: 0 })],
  ['tokenize', (docs, rejects) => tokenizeDocs(docs, { rejects, workers: 0, vocab: { vocab: 'cl100k' } })],
];

for (const [name, stage] of STAGES) {
  test(`${name} drops records without a string text as "${NO_TEXT}", counts them and writes them to the rejects`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    async function* source() {
      for (const doc of INPUT) yield structuredClone(doc);
    }
    const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
    const run = stage(source(), rejects);
    const out: Doc[] = [];
    for await (const doc of run) out.push(doc);
    rejects.close();
    assert.deepEqual(out.map((d) => d.id), ['a', 'b']);
    assert.equal(run.counters.dropped, 3);
    assert.deepEqual(run.counters.dropReasons, { [NO_TEXT]: 3 });
    const rejected = readFileSync(join(dir, 'rejects.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(rejected.map((r) => [r.reason, r.stage, r.record.id]), [
      [NO_TEXT, name, 'missing'],
      [NO_TEXT, name, 'number'],
      [NO_TEXT, name, 'null'],
    ]);
  });
}

test('multi-stage dedup drops them too, and a record without text never wins a URL cluster', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  const docs = [
    { id: 'bare', url: 'https://example.com/a' },
    { id: 'page', url: 'https://example.com/a', text: 'The text of the page at a.' },
    { id: 'other', url: 'https://example.com/b', text: 'Another page entirely, at b.' },
  ];
  writeFileSync(input, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const work = join(dir, 'work');
  const params = { ...DEDUP_DEFAULTS, url: true };
  await runSignatures([input], { work, shard: { index: 0, count: 1 }, params, workers: 0 });
  runBuckets(work, { index: 0, count: 1 });
  runClusters(work, {});
  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  const run = dedupFilter(readDocs([input]), { work, shard: { index: 0, count: 1 }, mode: 'drop', rejects });
  const out: Doc[] = [];
  for await (const doc of run) out.push(doc);
  rejects.close();
  assert.deepEqual(out.map((d) => d.id), ['page', 'other']);
  assert.deepEqual(run.counters.dropReasons, { [NO_TEXT]: 1 });
});
