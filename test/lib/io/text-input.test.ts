import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { locationOf } from '../../../lib/io/location.js';
import { readDocs, ReadCounters } from '../../../lib/io/read.js';
import { parseJsonl, runLoom, tempDir } from '../../helpers/cli.js';

const BOOK = '\ufeffCall me Ishmael.\r\nSome years ago.\n\n\n  \nIt is a way I have\nof driving off the spleen.\n';

async function collect(path: string, txtSplit?: 'file' | 'paragraph', counters = new ReadCounters()) {
  const docs = [];
  for await (const doc of readDocs([path], { txtSplit, counters })) docs.push(doc);
  return docs;
}

test('a .txt file is one document: id from the file name, its text, its path as source', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'moby-dick.txt');
  writeFileSync(path, BOOK);
  const counters = new ReadCounters();
  const docs = await collect(path, undefined, counters);
  assert.deepEqual(docs, [{ id: 'moby-dick', text: 'Call me Ishmael.\nSome years ago.\n\n\n  \nIt is a way I have\nof driving off the spleen.', source: path }]);
  assert.equal(counters.records, 1);
  assert.equal(counters.bytes, Buffer.byteLength(BOOK));
});

test('--txt-split paragraph: one document per blank-line separated paragraph, located at its first line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'moby-dick.txt.gz');
  writeFileSync(path, gzipSync(BOOK));
  const docs = await collect(path, 'paragraph');
  assert.deepEqual(docs.map((d) => [d.id, d.text]), [
    ['moby-dick#1', 'Call me Ishmael.\nSome years ago.'],
    ['moby-dick#2', 'It is a way I have\nof driving off the spleen.'],
  ]);
  assert.deepEqual(docs.map((d) => locationOf(d)?.line), [1, 6]);
});

test('loom tokenize book.txt encodes the text instead of refusing it as invalid JSON', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'book.txt'), BOOK);
  const whole = await runLoom(['tokenize', 'book.txt', '--format', 'jsonl', '--vocab', 'cl100k'], { cwd: dir });
  assert.equal(whole.code, 0, whole.stderr);
  const [doc] = parseJsonl(whole.stdout);
  assert.equal(doc!.id, 'book');
  assert.ok((doc!.tokens as number[]).length > 10);
  const split = await runLoom(['cat', 'book.txt', '--txt-split', 'paragraph'], { cwd: dir });
  assert.equal(split.code, 0, split.stderr);
  assert.deepEqual(parseJsonl(split.stdout).map((d) => d.id), ['book#1', 'book#2']);
});
