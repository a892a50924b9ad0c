import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { UsageError } from '../../../lib/errors.js';
import { argumentPrompts, inputPrompts, splitPromptWords, startsLikeJsonl, type PromptSource } from '../../../lib/infer/prompt-input.js';
import { locationOf } from '../../../lib/io/location.js';
import { ReadCounters } from '../../../lib/io/read.js';
import { tempDir } from '../../helpers/cli.js';

async function records(source: PromptSource, specs: string[]) {
  const counters = new ReadCounters();
  const out: { doc: unknown; at: string }[] = [];
  for await (const doc of source.read(specs, { counters })) {
    const loc = locationOf(doc)!;
    out.push({ doc, at: `${loc.file}:${loc.line}` });
  }
  return { out, counters };
}

const stdinOf = (text: string | Buffer, chunks = 1) => {
  const bytes = Buffer.from(text);
  const size = Math.ceil(bytes.length / chunks) || 1;
  return Readable.from(Array.from({ length: chunks }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
};

test('the words after the checkpoint are prompts, unless they are inputs', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'prompts');
  writeFileSync(file, '{"prompt":"x"}\n');
  assert.deepEqual(splitPromptWords(['What is 2*3?', 'Tell me a story']), { prompts: ['What is 2*3?', 'Tell me a story'] });
  assert.deepEqual(splitPromptWords([file, '-']), { inputs: [file, '-'] }, 'an existing path, and -');
  assert.deepEqual(splitPromptWords([]), { inputs: [] }, 'none: stdin');
  assert.deepEqual(splitPromptWords(['missing.jsonl', 'data/*.jsonl.gz']), { inputs: ['missing.jsonl', 'data/*.jsonl.gz'] }, 'data file names, so a missing one is an error, not a prompt');
  assert.deepEqual(splitPromptWords(['see notes.txt please']), { prompts: ['see notes.txt please'] }, 'a sentence that ends in a file name is a prompt');
  assert.throws(() => splitPromptWords(['Hello', file]), (err: unknown) => err instanceof UsageError && /give prompts or input files, not both/.test(err.message));
});

test('prompt arguments become records with their place on the command line', async () => {
  const { out, counters } = await records(argumentPrompts(['Hi', 'Tell <|im_end|>']), []);
  assert.deepEqual(out, [{ doc: { prompt: 'Hi' }, at: '<argument>:1' }, { doc: { prompt: 'Tell <|im_end|>' }, at: '<argument>:2' }]);
  assert.equal(counters.records, 2);
  assert.equal(counters.bytes, 2 + 15);
});

test('stdin is one text prompt unless it starts like JSONL; the first bytes are read again', async () => {
  const text = await inputPrompts([], 'auto', stdinOf('  \n\nOnce upon a time\n, there\n', 3));
  assert.equal(text.jsonl, false);
  assert.deepEqual((await records(text, [])).out, [{ doc: { prompt: '  \n\nOnce upon a time\n, there' }, at: '<stdin>:1' }], 'whole, one final line break dropped');
  const jsonl = await inputPrompts([], 'auto', stdinOf('\ufeff \n{"prompt":"a"}\n{"messages":[]}\n', 4));
  assert.equal(jsonl.jsonl, true);
  assert.deepEqual((await records(jsonl, [])).out, [{ doc: { prompt: 'a' }, at: '<stdin>:2' }, { doc: { messages: [] }, at: '<stdin>:3' }]);
  const gzipped = await inputPrompts([], 'auto', stdinOf(gzipSync('{"prompt":"z"}\n')));
  assert.deepEqual((await records(gzipped, [])).out.map((r) => r.doc), [{ prompt: 'z' }]);
  const forced = await inputPrompts([], 'text', stdinOf('{"prompt":"a"}'));
  assert.deepEqual((await records(forced, [])).out.map((r) => r.doc), [{ prompt: '{"prompt":"a"}' }], '--input-format text');
  assert.ok(startsLikeJsonl(Buffer.from(' {')) && !startsLikeJsonl(Buffer.from('[1]')) && !startsLikeJsonl(Buffer.alloc(0)));
});

test('.txt files are one prompt each, other files JSONL; a terminal on stdin is a usage error', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const txt = join(dir, 'story.txt');
  const jsonl = join(dir, 'p.jsonl');
  writeFileSync(txt, 'Line one\r\nline two\r\n');
  writeFileSync(jsonl, '{"prompt":"x"}\n');
  const source = await inputPrompts([txt, jsonl], 'auto');
  assert.equal(source.jsonl, true);
  assert.deepEqual((await records(source, [txt, jsonl])).out, [{ doc: { prompt: 'Line one\nline two' }, at: `${txt}:1` }, { doc: { prompt: 'x' }, at: `${jsonl}:1` }]);
  assert.equal((await inputPrompts([txt], 'auto')).jsonl, false);
  const tty = Object.assign(stdinOf(''), { isTTY: true });
  await assert.rejects(inputPrompts([], 'auto', tty), (err: unknown) => err instanceof UsageError && /^no prompt: /.test(err.message));
});
