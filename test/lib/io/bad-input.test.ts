// Errors that name the problem (issue 21, finding 5): truncated compressed input, binary junk,
// over-long lines and invalid UTF-8, at the level of the line splitter and the JSONL reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import zstdWasm from '@bokuweb/zstd-wasm';
import { DataError, escapeControls } from '../../../lib/errors.js';
import { LINE_TOO_LONG, lineBatches } from '../../../lib/io/lines.js';
import { locationOf } from '../../../lib/io/location.js';
import { readDocs, ReadCounters } from '../../../lib/io/read.js';
import { RejectSink } from '../../../lib/io/rejects.js';
import type { Doc } from '../../../lib/io/types.js';
import { tempDir } from '../../helpers/cli.js';

async function collect(docs: AsyncIterable<Doc>): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const doc of docs) out.push(doc);
  return out;
}

/** Every line with its number; `chunks` arrive as given. */
async function lines(chunks: (string | Buffer)[], opts: Parameters<typeof lineBatches>[1] = {}): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const batch of lineBatches(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), opts)) {
    batch.lines.forEach((line, i) => out.push([batch.firstLine + i, line]));
  }
  return out;
}

/** `data` cut into chunks of `chunkBytes`. */
function source(data: Buffer, chunkBytes: number) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkBytes) chunks.push(data.subarray(i, i + chunkBytes));
  return chunks;
}

test('a line over the byte limit comes out as LINE_TOO_LONG, within a chunk, across chunks and at the end', async () => {
  const long = 'x'.repeat(50);
  // Within one chunk, spanning many small chunks, and as the unterminated last line.
  const text = `a\n${long}\nb\n${long}\nc\n${long}`;
  const expected: [number, string][] = [[1, 'a'], [2, LINE_TOO_LONG], [3, 'b'], [4, LINE_TOO_LONG], [5, 'c'], [6, LINE_TOO_LONG]];
  assert.deepEqual(await lines([text], { maxLineBytes: 20 }), expected);
  assert.deepEqual(await lines(source(Buffer.from(text), 7), { maxLineBytes: 20 }), expected);
  assert.deepEqual(await lines(source(Buffer.from(text), 1), { maxLineBytes: 20 }), expected);
  // The limit counts bytes: 7 characters of 3 bytes each are 21 bytes.
  assert.deepEqual(await lines(['你好你好你好你\n你好你好你好\n'], { maxLineBytes: 20 }), [[1, LINE_TOO_LONG], [2, '你好你好你好']]);
});

test('the limit applies to the line without its CRLF, wherever the chunks are cut', async () => {
  const data = Buffer.from(`${'y'.repeat(20)}\r\n${'z'.repeat(21)}\r\n${'w'.repeat(20)}\r`);
  const expected: [number, string][] = [[1, 'y'.repeat(20)], [2, LINE_TOO_LONG], [3, 'w'.repeat(20)]];
  for (let cut = 0; cut <= data.length; cut++) {
    assert.deepEqual(await lines([data.subarray(0, cut), data.subarray(cut)], { maxLineBytes: 20 }), expected, `cut at ${cut}`);
  }
  assert.deepEqual(await lines(source(data, 1), { maxLineBytes: 20 }), expected);
});

test('an over-long line spread over many chunks is skipped up to its newline, and the lines after it are read', async () => {
  async function* input() {
    yield Buffer.from('{"n":1}\n');
    for (let i = 0; i < 16; i++) yield Buffer.alloc(1 << 20, 0x61);
    yield Buffer.from('\n{"n":2}\n');
  }
  const out: string[] = [];
  for await (const batch of lineBatches(input(), { maxLineBytes: 1 << 20 })) out.push(...batch.lines);
  assert.deepEqual(out, ['{"n":1}', LINE_TOO_LONG, '{"n":2}']);
});

test('lines that are not valid UTF-8 are reported by number, whichever way the chunks fall', async () => {
  const bad = Buffer.from([0xff, 0xfe]);
  const data = Buffer.concat([Buffer.from('ok\n'), Buffer.from('a'), bad, Buffer.from('b\nfine é\n'), bad, Buffer.from('\n€ split\n')]);
  for (const size of [data.length, 5, 1]) {
    const invalid: number[] = [];
    const out = await lines(source(data, size), { onInvalidUtf8: (n) => invalid.push(n) });
    assert.deepEqual(invalid, [2, 4], `chunks of ${size}`);
    assert.deepEqual(out.map(([, l]) => l), ['ok', 'a\ufffd\ufffdb', 'fine é', '\ufffd\ufffd', '€ split']);
  }
  // A U+FFFD that is really in the input is valid UTF-8.
  const invalid: number[] = [];
  await lines(['real \ufffd\n'], { onInvalidUtf8: (n) => invalid.push(n) });
  assert.deepEqual(invalid, []);
});

test('under fail, an over-long line stops the read with file:line and the flag that raises the limit', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'long.jsonl');
  writeFileSync(file, `{"n":1}\n{"text":"${'z'.repeat(100)}"}\n{"n":3}\n`);
  const seen: Doc[] = [];
  await assert.rejects(
    (async () => {
      for await (const doc of readDocs([file], { maxLineBytes: 64 })) seen.push(doc);
    })(),
    (err: Error) => err instanceof DataError && err.message === `${file}:2: line longer than the limit of 64 bytes (raise it with --max-line-bytes)`,
  );
  assert.deepEqual(seen, [{ n: 1 }]);
});

test('under skip, an over-long line is counted and rejected by location, and the lines after it are read', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'long.jsonl');
  writeFileSync(file, `{"n":1}\n{"text":"${'z'.repeat(100)}"}\n{"n":3}\n`);
  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  const counters = new ReadCounters();
  const warnings: string[] = [];
  const docs = await collect(readDocs([file], { maxLineBytes: 64, onError: 'skip', rejects, counters, warn: (m) => warnings.push(m) }));
  rejects.close();
  assert.deepEqual(docs, [{ n: 1 }, { n: 3 }]);
  assert.equal(counters.rejected, 1);
  assert.deepEqual(warnings, [`${file}:2: line longer than the limit of 64 bytes (raise it with --max-line-bytes)`]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'rejects.jsonl'), 'utf8')), {
    reason: 'line longer than the limit of 64 bytes (raise it with --max-line-bytes)',
    file,
    line: 2,
  });
});

test('a truncated gzip file says so and how many lines came before the cut, which are kept', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'cut.jsonl.gz');
  const records = Array.from({ length: 5000 }, (_, n) => JSON.stringify({ n, pad: 'p'.repeat(n % 50) }) + '\n').join('');
  const packed = gzipSync(records);
  writeFileSync(file, packed.subarray(0, Math.floor(packed.length / 2)));
  const seen: Doc[] = [];
  let message = '';
  try {
    for await (const doc of readDocs([file])) seen.push(doc);
  } catch (err) {
    message = (err as Error).message;
  }
  assert.ok(seen.length > 1000 && seen.length < 5000, `${seen.length} records`);
  assert.deepEqual(seen.map((d) => d.n), Array.from({ length: seen.length }, (_, n) => n));
  assert.equal(message, `${file}: truncated gzip after ${seen.length} lines`);
  // Under skip it is one warning, and the next input is still read.
  const next = join(dir, 'next.jsonl');
  writeFileSync(next, '{"n":"next"}\n');
  const warnings: string[] = [];
  const counters = new ReadCounters();
  const docs = await collect(readDocs([file, next], { onError: 'skip', counters, warn: (m) => warnings.push(m) }));
  assert.equal(docs.at(-1)!.n, 'next');
  assert.equal(docs.length, seen.length + 1);
  assert.deepEqual(warnings, [`${file}: truncated gzip after ${seen.length} lines (rest of this file skipped)`]);
  assert.equal(counters.rejected, 1);
});

test('a truncated zstd file and a corrupt gzip file are named as such', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await zstdWasm.init();
  const records = Buffer.from(Array.from({ length: 2000 }, (_, n) => `{"n":${n}}\n`).join(''));
  const zst = Buffer.from(zstdWasm.compress(records, 3));
  writeFileSync(join(dir, 'cut.jsonl.zst'), zst.subarray(0, zst.length - 10));
  await assert.rejects(collect(readDocs([join(dir, 'cut.jsonl.zst')])), (err: Error) => /cut\.jsonl\.zst: truncated zstd after \d+ lines$/.test(err.message));
  const gz = gzipSync(records);
  for (let i = 20; i < 40; i++) gz[i]! ^= 0xff;
  writeFileSync(join(dir, 'bad.jsonl.gz'), gz);
  await assert.rejects(collect(readDocs([join(dir, 'bad.jsonl.gz')])), (err: Error) => /bad\.jsonl\.gz: corrupt gzip data \(.+\) after \d+ lines$/.test(err.message));
});

test('binary junk given as JSONL is called "not JSONL", with its bytes escaped', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'junk.jsonl');
  writeFileSync(file, Buffer.from([0x00, 0x01, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x9b, 0x41, 0x0a]));
  await assert.rejects(collect(readDocs([file])), (err: Error) => {
    assert.equal(err.message, `${file}:1: not JSONL: binary data "\\x00\\x01\\x1b[2J\ufffd\ufffdA"`);
    return true;
  });
  // A line that looks like JSON keeps the parser's reason, escaped.
  writeFileSync(file, '{"a": "\x1b[31mred\x07"}\n');
  await assert.rejects(collect(readDocs([file])), (err: Error) => {
    assert.match(err.message, /:1: invalid JSON: /);
    assert.doesNotMatch(err.message, /[\x00-\x1f\x7f]/);
    return true;
  });
});

test('escapeControls writes controls, DEL, C1, bidi overrides and lone surrogates as escapes, and is idempotent', () => {
  const raw = 'a\x1b[31m\n\t\x00\x7f\x9b\u202eb\ud800 😀 你好';
  const escaped = escapeControls(raw);
  assert.equal(escaped, 'a\\x1b[31m\\n\\t\\x00\\x7f\\x9b\\u202eb\\ud800 😀 你好');
  assert.equal(escapeControls(escaped), escaped);
  assert.equal(new DataError('bad \x1b[2J', { file: 'f', line: 3 }).message, 'f:3: bad \\x1b[2J');
});

test('invalid UTF-8 is counted with the location of the first such line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'latin1.jsonl');
  writeFileSync(file, Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"text":"na'), Buffer.from([0xef]), Buffer.from('ve"}\n')]));
  const counters = new ReadCounters();
  const docs = await collect(readDocs([file], { counters }));
  assert.deepEqual(docs.map((d) => d.text), ['ok', 'caf\ufffd', 'na\ufffdve']);
  assert.equal(counters.invalidUtf8Lines, 2);
  assert.deepEqual(counters.firstInvalidUtf8, { file, line: 2 });
  assert.deepEqual(locationOf(docs[1]!), { file, line: 2 });
});
