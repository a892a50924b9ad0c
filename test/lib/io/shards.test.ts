import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseShardSize, writeShards, type ShardWriterOptions } from '../../../lib/io/shards.js';
import { readManifest } from '../../../lib/io/manifest.js';
import { UsageError } from '../../../lib/errors.js';
import type { Doc } from '../../../lib/io/types.js';
import { tempDir } from '../../helpers/cli.js';

const docs = Array.from({ length: 1050 }, (_, i) => ({ id: String(i), text: `document ${i} `.repeat(1 + (i % 7)) }));

async function* source(records: Doc[], failAfter = Infinity): AsyncGenerator<Doc> {
  for (const [i, doc] of records.entries()) {
    if (i === failAfter) throw new Error('interrupted');
    yield doc;
  }
}

function options(dir: string, extra: Partial<ShardWriterOptions> = {}): ShardWriterOptions {
  return {
    dir,
    size: { records: 100 },
    compression: 'gzip',
    run: { command: 'test', fingerprint: 'f1', inputs: [], config: { n: 1 }, seed: 0 },
    ...extra,
  };
}

function readAll(dir: string): Doc[] {
  const manifest = readManifest(dir)!;
  return manifest.shards.flatMap((s) => gunzipSync(readFileSync(join(dir, s.file))).toString().trim().split('\n').map((l) => JSON.parse(l)));
}

test('--shard-size takes a record count or a byte size', () => {
  assert.deepEqual(parseShardSize('5000'), { records: 5000 });
  assert.deepEqual(parseShardSize('256MB'), { bytes: 256e6 });
  assert.deepEqual(parseShardSize('1GiB'), { bytes: 2 ** 30 });
  assert.throws(() => parseShardSize('12 parsecs'), UsageError);
  assert.throws(() => parseShardSize('0'), UsageError);
});

test('shards rotate by records; the manifest lists each with count, bytes and sha256', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { manifest } = await writeShards(source(docs), options(dir));
  assert.equal(manifest.complete, true);
  assert.deepEqual(manifest.shards.map((s) => s.records), [...Array(10).fill(100), 50]);
  assert.equal(manifest.shards[0]!.file, 'shard-00000.jsonl.gz');
  for (const shard of manifest.shards) {
    const bytes = readFileSync(join(dir, shard.file));
    assert.equal(shard.file_bytes, bytes.length);
    assert.equal(shard.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(shard.bytes, gunzipSync(bytes).length);
  }
  assert.deepEqual(readAll(dir), docs);
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
});

test('shards rotate by uncompressed bytes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { manifest } = await writeShards(source(docs), options(dir, { size: { bytes: 20_000 }, compression: 'zstd' }));
  assert.ok(manifest.shards.length > 3);
  for (const shard of manifest.shards.slice(0, -1)) assert.ok(shard.bytes >= 20_000 && shard.bytes < 20_000 + 200);
  assert.ok(manifest.shards.every((s) => s.file.endsWith('.jsonl.zst')));
});

test('an interrupted run resumes: finished shards are kept, the rest is written, nothing lost or doubled', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const reference = tempDir();
  t.after(reference.cleanup);
  await writeShards(source(docs), options(reference.dir));

  await assert.rejects(writeShards(source(docs, 437), options(dir)), /interrupted/);
  const partial = readManifest(dir)!;
  assert.equal(partial.complete, false);
  assert.equal(partial.shards.length, 4);
  // A half-written shard stays a .tmp and is never listed.
  assert.ok(existsSync(join(dir, 'shard-00004.jsonl.gz.tmp')));

  const before = readFileSync(join(dir, 'shard-00000.jsonl.gz'));
  const result = await writeShards(source(docs), options(dir));
  assert.equal(result.skippedRecords, 400);
  assert.ok(readFileSync(join(dir, 'shard-00000.jsonl.gz')).equals(before), 'finished shards are not rewritten');
  assert.deepEqual(readAll(dir), docs);
  assert.deepEqual(result.manifest.shards.map((s) => s.sha256), readManifest(reference.dir)!.shards.map((s) => s.sha256));
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));

  const again = await writeShards(source([]), options(dir));
  assert.equal(again.alreadyComplete, true);
});

test('a shard whose file was damaged after the run is rewritten on resume', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await assert.rejects(writeShards(source(docs, 250), options(dir)), /interrupted/);
  writeFileSync(join(dir, 'shard-00001.jsonl.gz'), 'garbage');
  const result = await writeShards(source(docs), options(dir));
  assert.equal(result.skippedRecords, 100);
  assert.deepEqual(readAll(dir), docs);
});

test('an output directory from a different run is refused', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await writeShards(source(docs.slice(0, 10)), options(dir));
  const other = options(dir, { run: { command: 'test', fingerprint: 'f2', inputs: [], config: { n: 2 } } });
  await assert.rejects(writeShards(source(docs), other), /holds the output of a different run/);
});

test('a resumed run whose records differ from the finished shards is refused, not silently merged', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await assert.rejects(writeShards(source(docs, 250), options(dir)), /interrupted/);
  const edited = docs.map((d, i) => (i === 150 ? { ...d, text: 'edited' } : d));
  await assert.rejects(writeShards(source(edited), options(dir)), /records differ from finished shard shard-00001\.jsonl\.gz/);
});

test('stdin input cannot be fingerprinted, so a finished run checks the records it is given again', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const stdin = (extra: Partial<ShardWriterOptions> = {}) => options(dir, { run: { command: 'test', fingerprint: 'f1', inputs: [{ path: '-' }], config: {} }, ...extra });
  await writeShards(source(docs), stdin());
  const same = await writeShards(source(docs), stdin());
  assert.deepEqual([same.alreadyComplete, same.skippedRecords], [true, docs.length]);
  await assert.rejects(writeShards(source([...docs, { id: 'new' }]), stdin()), /more records than the finished run/);
  await assert.rejects(writeShards(source(docs.slice(0, 500)), stdin()), /input ended inside finished shard/);
  assert.deepEqual(readAll(dir), docs, 'the finished shards are untouched');
});
