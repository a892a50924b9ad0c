import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { lineBatches } from '../../../lib/io/lines.js';

async function lines(chunks: (string | Buffer)[]): Promise<[number, string][]> {
  const out: [number, string][] = [];
  const buffers = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
  for await (const batch of lineBatches(Readable.from(buffers))) {
    batch.lines.forEach((line, i) => out.push([batch.firstLine + i, line]));
  }
  return out;
}

test('CRLF endings, a BOM and a missing final newline are handled', async () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  assert.deepEqual(await lines([Buffer.concat([bom, Buffer.from('a\r\nb\r\n')]), 'c']), [
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ]);
});

test('lines split across chunks, even mid-character, come out whole with the right numbers', async () => {
  const text = Buffer.from('first\n你好世界\n\nlast line\r\n');
  const oneByteChunks = [...text].map((b) => Buffer.from([b]));
  assert.deepEqual(await lines(oneByteChunks), [
    [1, 'first'],
    [2, '你好世界'],
    [3, ''],
    [4, 'last line'],
  ]);
});

test('a trailing CR without LF at end of input is dropped with the line end', async () => {
  assert.deepEqual(await lines(['x\ny\r']), [
    [1, 'x'],
    [2, 'y'],
  ]);
});
