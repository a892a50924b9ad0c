import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineStage } from '../../lib/stage.js';
import { RejectSink } from '../../lib/io/rejects.js';
import { setLocation } from '../../lib/io/location.js';
import type { Doc } from '../../lib/io/types.js';
import { tempDir } from '../helpers/cli.js';

const dropShort = defineStage('drop-short', { minChars: 3 }, async function* (docs, opts, ctx) {
  for await (const doc of docs) {
    if ((doc.text ?? '').length < opts.minChars) ctx.drop(doc, 'too_short');
    else {
      ctx.count('kept_chars', doc.text!.length);
      yield doc;
    }
  }
});

async function* input(): AsyncGenerator<Doc> {
  for (const [i, text] of ['a', 'abcd', 'ab', 'abcdef'].entries()) {
    const doc = { id: String(i), text };
    setLocation(doc, { file: 'in.jsonl', line: i + 1 });
    yield doc;
  }
}

test('a stage counts in/out/drops by reason and sends drops, with their origin, to the rejects sink', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  const run = dropShort(input(), { rejects });
  const kept: string[] = [];
  for await (const doc of run) kept.push(doc.id!);
  rejects.close();
  assert.deepEqual(kept, ['1', '3']);
  assert.deepEqual(run.counters.toJSON(), { in: 4, out: 2, dropped: 2, drop_reasons: { too_short: 2 }, kept_chars: 10 });
  const lines = readFileSync(join(dir, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { reason: 'too_short', stage: 'drop-short', file: 'in.jsonl', line: 1, record: { id: '0', text: 'a' } },
    { reason: 'too_short', stage: 'drop-short', file: 'in.jsonl', line: 3, record: { id: '2', text: 'ab' } },
  ]);
});

test('options override the stage defaults; stages compose', async () => {
  const twice = dropShort(dropShort(input(), { minChars: 2 }), { minChars: 5 });
  const kept: string[] = [];
  for await (const doc of twice) kept.push(doc.text!);
  assert.deepEqual(kept, ['abcdef']);
  assert.equal(dropShort.stageName, 'drop-short');
});
