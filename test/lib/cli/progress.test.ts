import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countedBytes, progressRecord } from '../../../lib/cli/progress.js';

test('the total for a percentage: sizes of uncompressed files, or a size the input gives; none otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-total-'));
  try {
    const plain = join(dir, 'a.jsonl');
    const gz = join(dir, 'b.jsonl');
    writeFileSync(plain, '{"a":1}\n{"a":2}\n');
    writeFileSync(gz, gzipSync('{"a":1}\n'));
    assert.equal(await countedBytes(Promise.resolve([{ name: plain }, { name: plain }])), 32);
    assert.equal(await countedBytes(Promise.resolve([{ name: plain }, { name: gz }])), undefined, 'JSONL readers count decompressed bytes: a .gz size is no total');
    assert.equal(await countedBytes(Promise.resolve([{ name: gz, size: 1000 }])), 1000, 'extract counts WARC bytes as stored, and says so with size');
    assert.equal(await countedBytes(Promise.resolve([{ name: '<stdin>' }])), undefined);
    assert.equal(await countedBytes(Promise.reject(new Error('no such file'))), undefined, 'the reader reports bad inputs, not the progress display');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--progress json records count rejected lines and dropped records apart, as the summary does', () => {
  const record = progressRecord({ label: 'loom dedup', records: 10, bytes: 100, totalBytes: 400, out: 6, rejected: 1, dropped: 3 }, 2000, true);
  assert.deepEqual(
    { rejected: record.rejected, dropped: record.dropped, total_bytes: record.total_bytes, done: record.done },
    { rejected: 1, dropped: 3, total_bytes: 400, done: true },
  );
});
