import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoom, tempDir } from '../helpers/cli.js';

test('review needs a terminal and files: without them it is a usage error, and no labels file is made', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, '{"id":"a","text":"x"}\n');
  const labels = join(dir, 'labels.jsonl');
  const [piped, fromStdin] = await Promise.all([runLoom(['review', docs, '--labels', labels]), runLoom(['review', '--labels', labels], { input: '{"id":"a","text":"x"}\n' })]);
  assert.equal(piped.code, 2);
  assert.match(piped.stderr, /review is interactive: run it in a terminal/);
  assert.equal(fromStdin.code, 2);
  assert.match(fromStdin.stderr, /review reads keys from the terminal: give the documents as files, not on stdin/);
  assert.equal(existsSync(labels), false);
});
