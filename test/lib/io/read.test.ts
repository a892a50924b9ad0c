import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDocs, ReadCounters } from '../../../lib/io/read.js';
import { RejectSink } from '../../../lib/io/rejects.js';
import { locationOf } from '../../../lib/io/location.js';
import type { Doc } from '../../../lib/io/types.js';
import { tempDir } from '../../helpers/cli.js';

async function collect(docs: AsyncIterable<Doc>): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const doc of docs) out.push(doc);
  return out;
}

test('the first bad line fails the read with file:line and the reason', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'bad.jsonl.gz');
  writeFileSync(file, gzipSync('{"id":"1"}\n\n{"id":"2"}\n{"id": oops}\n{"id":"4"}\n'));
  await assert.rejects(collect(readDocs([file])), (err: Error) => {
    assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: invalid JSON`));
    return true;
  });
});

test('under skip, bad lines are counted, warned with their line and kept verbatim in the rejects file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'mixed.jsonl');
  const lines = ['{"id":"1"}', '[1,2]', 'null', '{"id":"2"}', '{truncated', '"just a string"', '{"id":"3"}'];
  writeFileSync(file, lines.join('\n') + '\n');
  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  const counters = new ReadCounters();
  const warnings: string[] = [];
  const docs = await collect(readDocs([file], { onError: 'skip', rejects, counters, warn: (m) => warnings.push(m) }));
  rejects.close();
  assert.deepEqual(docs.map((d) => d.id), ['1', '2', '3']);
  assert.equal(counters.records, 3);
  assert.equal(counters.rejected, 4);
  assert.deepEqual(warnings.map((w) => w.split(': ')[0]), [2, 3, 5, 6].map((n) => `${file}:${n}`));
  const rejected = readFileSync(join(dir, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // Nothing lost: every input line is either a record or a verbatim reject.
  assert.deepEqual(rejected.map((r) => r.raw), ['[1,2]', 'null', '{truncated', '"just a string"']);
  assert.deepEqual(rejected.map((r) => r.line), [2, 3, 5, 6]);
  assert.match(rejected[0].reason, /expected a JSON object, got an array/);
  assert.equal(counters.records + counters.rejected, lines.length);
});

test('every record knows its file and line, across several inputs', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'a.jsonl'), '{"n":1}\n\n{"n":2}\n');
  writeFileSync(join(dir, 'b.jsonl'), '{"n":3}');
  const docs = await collect(readDocs([join(dir, 'a.jsonl'), join(dir, 'b.jsonl')]));
  assert.deepEqual(docs.map((d) => locationOf(d)), [
    { file: join(dir, 'a.jsonl'), line: 1 },
    { file: join(dir, 'a.jsonl'), line: 3 },
    { file: join(dir, 'b.jsonl'), line: 1 },
  ]);
});

test('unknown fields and unusual values pass through untouched', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const record = { id: 'x', text: 'e\u0301 \u2028 \ud83d\ude00', nested: { deep: [1, null, { a: true }] }, big: 1e300 };
  writeFileSync(join(dir, 'r.jsonl'), JSON.stringify(record) + '\n');
  assert.deepEqual(await collect(readDocs([join(dir, 'r.jsonl')])), [record]);
});
