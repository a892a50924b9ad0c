import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createEncoder, decodedChunks, detectCompression, type Compression } from '../../../lib/io/compression.js';

async function decode(bytes: Buffer, chunkSize = 1000): Promise<Buffer> {
  const chunks = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const out = [];
  for await (const chunk of decodedChunks(Readable.from(chunks))) out.push(chunk);
  return Buffer.concat(out);
}

async function encode(data: Buffer, compression: Compression): Promise<Buffer> {
  const encoder = createEncoder(compression)!;
  const out: Buffer[] = [];
  encoder.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => encoder.on('end', resolve));
  // Several writes, so the zstd encoder emits more than one frame.
  for (let i = 0; i < data.length; i += 3 << 20) encoder.write(data.subarray(i, i + (3 << 20)));
  encoder.end();
  await done;
  return Buffer.concat(out);
}

const text = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `{"id":${i},"text":"línea ${i} 你好"}\n`).join(''));

test('compression is detected from magic bytes, not the name', () => {
  assert.equal(detectCompression(gzipSync('x')), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
  assert.equal(detectCompression(Buffer.from('{"a":1}')), 'none');
  assert.equal(detectCompression(Buffer.from('')), 'none');
});

for (const compression of ['gzip', 'zstd'] as const) {
  test(`${compression} round trip over many small chunks (multi-frame, ${(text.length / 1e6).toFixed(1)} MB)`, async () => {
    const packed = await encode(text, compression);
    assert.ok(packed.length < text.length / 3, `compressed ${packed.length} of ${text.length}`);
    assert.equal(detectCompression(packed), compression);
    assert.ok((await decode(packed, 777)).equals(text));
  });
}

test('concatenated gzip members decode as one stream (as `cat a.gz b.gz` makes)', async () => {
  const both = Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"a":2}\n')]);
  assert.equal((await decode(both, 5)).toString(), '{"a":1}\n{"a":2}\n');
});

test('plain input passes through unchanged, even when shorter than a magic number', async () => {
  assert.equal((await decode(Buffer.from('{}'))).toString(), '{}');
  assert.equal((await decode(Buffer.alloc(0))).length, 0);
});

const zstdCli = spawnSync('zstd', ['--version']).status === 0;
test('interoperates with the zstd command-line tool both ways', { skip: !zstdCli && 'zstd CLI not installed' }, async () => {
  const ours = await encode(text, 'zstd');
  const theirsDecoded = spawnSync('zstd', ['-dc'], { input: ours, maxBuffer: 1 << 28 });
  assert.equal(theirsDecoded.status, 0, theirsDecoded.stderr.toString());
  assert.ok(theirsDecoded.stdout.equals(text));
  const theirs = spawnSync('zstd', ['-c', '-19'], { input: text, maxBuffer: 1 << 28 }).stdout;
  assert.ok((await decode(theirs, 4096)).equals(text));
});

test('a truncated gzip stream is an error, not silently short data', async () => {
  const packed = gzipSync(text);
  await assert.rejects(decode(packed.subarray(0, packed.length - 100)), /^DamagedDataError: truncated gzip$/);
});
