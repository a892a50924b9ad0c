import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { ShuffleBuffer } from '../../../lib/tokenizer/shuffle.js';
import { TokenDataset } from '../../../lib/shards/dataset.js';
import { TOKEN_MANIFEST_FORMAT, type TokenManifest, type TokenShardEntry } from '../../../lib/shards/manifest.js';
import { decodeHeader, encodeHeader, HEADER_BYTES, TokenShardReader } from '../../../lib/shards/format.js';
import { SplitWriter } from '../../../lib/shards/writer.js';

const HASH = 'ab'.repeat(32);

function writeStream(dir: string, tokens: number[], opts: { seqLen: number; windowsPerShard: number; vocabSize?: number; done?: TokenShardEntry[] }): TokenShardEntry[] {
  const entries: TokenShardEntry[] = [...(opts.done ?? [])];
  const writer = new SplitWriter({ dir, split: 'train', seqLen: opts.seqLen, windowsPerShard: opts.windowsPerShard, vocabSize: opts.vocabSize ?? 151_851, vocabHash: HASH, eot: 7, done: opts.done ?? [], onShard: (e) => entries.push(e) });
  writer.append(tokens);
  writer.finish();
  return entries;
}

function manifestFor(entries: TokenShardEntry[], seqLen: number): TokenManifest {
  return {
    format: TOKEN_MANIFEST_FORMAT, version: '0', command: 'tokenize', fingerprint: 'x', complete: true, created: '', updated: '', inputs: [], config: {}, seed: 0,
    tokenizer: { vocab: 'test', hash: HASH, size: 151_851, eot: 7, nfc: true, pattern: '' },
    dtype: 'uint32', header_bytes: HEADER_BYTES, seq_len: seqLen, counts: {},
    splits: { train: { tokens: 0, windows: entries.reduce((n, e) => n + e.windows, 0), shards: entries }, val: { tokens: 0, windows: 0, shards: [] } },
  };
}

test('header: 256 bytes, magic, version, dtype, token count, vocabulary hash', () => {
  const header = encodeHeader({ bytesPerToken: 4, vocabSize: 151_851, tokens: 2 ** 40 + 3, eot: 151_643, seqLen: 2048, vocabHash: HASH });
  assert.equal(header.length, 256);
  assert.equal(header.toString('latin1', 0, 8), 'LOOMTOK\0');
  assert.deepEqual(decodeHeader(header, 'x'), { version: 1, bytesPerToken: 4, vocabSize: 151_851, tokens: 2 ** 40 + 3, eot: 151_643, seqLen: 2048, vocabHash: HASH });
  const bad = Buffer.from(header);
  bad.write('NOTATOKN', 0, 'latin1');
  assert.throws(() => decodeHeader(bad, 'f.bin'), /f\.bin: not a loom token shard/);
});

test('shards hold k·T+1 tokens and overlap by one: every transition is a target exactly once', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const stream = Array.from({ length: 1000 }, (_, i) => i);
  const entries = writeStream(dir, stream, { seqLen: 16, windowsPerShard: 10 });
  assert.deepEqual(entries.map((e) => e.tokens), [161, 161, 161, 161, 161, 161, 40]);
  assert.deepEqual(entries.map((e) => e.offset), [0, 160, 320, 480, 640, 800, 960]);
  const pairs = new Set<string>();
  for (const entry of entries) {
    const reader = new TokenShardReader(join(dir, entry.file));
    assert.equal(reader.header.bytesPerToken, 4);
    for (let w = 0; w < reader.windowCount(); w++) {
      const window = reader.window(w);
      assert.equal(window.length, 17);
      for (let i = 0; i < 16; i++) pairs.add(`${window[i]}>${window[i + 1]}`);
    }
    reader.close();
  }
  // All transitions but those of the last, incomplete window are trained once.
  const windows = entries.reduce((n, e) => n + e.windows, 0);
  assert.equal(pairs.size, windows * 16);
  assert.equal(windows, Math.floor(999 / 16));
  for (let i = 0; i < windows * 16; i++) assert.ok(pairs.has(`${i}>${i + 1}`));
});

test('uint16 when the vocabulary fits; a truncated shard is refused', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const [entry] = writeStream(dir, [1, 2, 3, 65_535], { seqLen: 2, windowsPerShard: 100, vocabSize: 65_536 });
  const path = join(dir, entry!.file);
  const reader = new TokenShardReader(path);
  assert.equal(reader.header.bytesPerToken, 2);
  assert.deepEqual(Array.from(reader.read(0, 4)), [1, 2, 3, 65_535]);
  reader.close();
  truncateSync(path, HEADER_BYTES + 5);
  assert.throws(() => new TokenShardReader(path), /truncated/);
});

test('resume: a writer told of finished shards discards their tokens and writes identical files', (t) => {
  const { dir: a, cleanup: ca } = tempDir();
  const { dir: b, cleanup: cb } = tempDir();
  t.after(() => (ca(), cb()));
  const stream = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
  const full = writeStream(a, stream, { seqLen: 8, windowsPerShard: 12 });
  const firstTwo = writeStream(b, stream.slice(0, 2 * 96 + 1), { seqLen: 8, windowsPerShard: 12 }).slice(0, 2);
  const resumed = writeStream(b, stream, { seqLen: 8, windowsPerShard: 12, done: firstTwo });
  assert.deepEqual(resumed, full);
  for (const entry of full) assert.deepEqual(readFileSync(join(b, entry.file)), readFileSync(join(a, entry.file)));
});

test('TokenDataset: windows by global index across shards; other vocabularies refused', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const stream = Array.from({ length: 300 }, (_, i) => i);
  const entries = writeStream(dir, stream, { seqLen: 10, windowsPerShard: 7 });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifestFor(entries, 10)));
  const data = new TokenDataset(dir, { vocabHash: HASH });
  t.after(() => data.close());
  assert.equal(data.windowCount, 29);
  for (const i of [0, 6, 7, 13, 28]) assert.deepEqual(Array.from(data.window(i)), stream.slice(i * 10, i * 10 + 11));
  assert.throws(() => data.window(29), RangeError);
  // Another window length reads the same flat streams.
  const short = new TokenDataset(dir, { seqLen: 5 });
  assert.deepEqual(Array.from(short.window(3)), stream.slice(15, 21));
  short.close();
  assert.throws(() => new TokenDataset(dir, { vocabHash: 'cd'.repeat(32) }), /vocabulary abababababab… .*expects cdcdcdcdcdcd…/);
});

test('shuffle buffer: seeded, bounded, a permutation', () => {
  const run = (seed: number, capacity: number) => {
    const buffer = new ShuffleBuffer<number>(capacity, seed);
    const out: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const evicted = buffer.push(i);
      if (evicted !== undefined) out.push(evicted);
      assert.ok(i + 1 - out.length <= capacity);
    }
    return [...out, ...buffer.drain()];
  };
  const a = run(1, 50);
  assert.deepEqual(a, run(1, 50));
  assert.notDeepEqual(a, run(2, 50));
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.ok(a.filter((x, i) => x !== i).length > 900, 'shuffled');
  assert.deepEqual(run(1, 1), Array.from({ length: 1000 }, (_, i) => i));
});
