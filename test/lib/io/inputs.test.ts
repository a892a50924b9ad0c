import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { resolveInputs } from '../../../lib/io/inputs.js';
import { UsageError, DataError } from '../../../lib/errors.js';
import { tempDir } from '../../helpers/cli.js';

test('globs expand sorted; directories list their manifest shards in order', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  for (const name of ['b.jsonl', 'a.jsonl', 'c.txt']) writeFileSync(join(dir, name), '{}\n');
  const globbed = await resolveInputs([join(dir, '*.jsonl')]);
  assert.deepEqual(globbed.map((s) => s.name), [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')]);

  const shards = join(dir, 'shards');
  mkdirSync(shards);
  writeFileSync(join(shards, 'manifest.json'), JSON.stringify({ shards: [{ file: 'shard-00001.jsonl.gz' }, { file: 'shard-00000.jsonl.gz' }] }));
  assert.deepEqual((await resolveInputs([shards])).map((s) => s.name), [join(shards, 'shard-00001.jsonl.gz'), join(shards, 'shard-00000.jsonl.gz')]);

  const plain = join(dir, 'plain');
  mkdirSync(plain);
  writeFileSync(join(plain, 'x.jsonl.zst'), '');
  writeFileSync(join(plain, 'notes.md'), '');
  assert.deepEqual((await resolveInputs([plain])).map((s) => s.name), [join(plain, 'x.jsonl.zst')]);
});

test('a terminal on stdin with no inputs is a usage error, not a hang', async () => {
  const tty = Object.assign(Readable.from([]), { isTTY: true });
  await assert.rejects(resolveInputs([], { stdin: tty }), UsageError);
  const piped = Readable.from([]);
  assert.deepEqual((await resolveInputs([], { stdin: piped })).map((s) => s.name), ['<stdin>']);
});

test('missing files and empty globs are data errors naming the input', async () => {
  await assert.rejects(resolveInputs(['/nonexistent/x.jsonl']), (err: Error) => err instanceof DataError && /\/nonexistent\/x.jsonl: no such file/.test(err.message));
  await assert.rejects(resolveInputs(['/nonexistent/*.jsonl']), /no files match/);
});
