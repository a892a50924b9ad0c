import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../lib/errors.js';
import { generateRecords, sampleSeed, type GenerateRecordsOptions } from '../../../lib/infer/generate-records.js';
import { OrderedText } from '../../../lib/infer/ordered-text.js';
import { readDocs } from '../../../lib/io/read.js';
import { RejectSink } from '../../../lib/io/rejects.js';
import { jsonLine } from '../../../lib/io/write.js';
import { IM_END } from '../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { createRandom } from '../../../lib/util/random.js';
import { tempDir } from '../../helpers/cli.js';
import { fakeEngine } from './fake-engine.js';

const tokenizer = new Tokenizer(loadVocabulary());
const imEnd = tokenizer.vocab.specials[IM_END]!;
const WORDS = Array.from(tokenizer.encodeOrdinary(' one two three four five six seven eight'));

/** 1 to 6 words drawn by the seed, more for longer prompts, then <|im_end|>: lengths differ, so sequences finish out of order. */
const wordsBySeed = (prompt: Int32Array, seed: number) => {
  const random = createRandom(seed);
  return [...Array.from({ length: 1 + ((prompt.length * 7 + random.int(6)) % 6) }, () => WORDS[random.int(WORDS.length)]!), imEnd];
};

function options(engine: GenerateRecordsOptions['engine'], o: Partial<GenerateRecordsOptions> = {}): GenerateRecordsOptions {
  return {
    engine,
    tokenizer,
    sampling: { maxNew: 16, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, stopTokens: [imEnd] },
    n: 1,
    seed: 0,
    stops: [],
    logprobs: false,
    truncate: 'none',
    onError: 'fail',
    window: 8,
    systemPrompt: 'You are a helpful assistant.',
    chat: false,
    ...o,
  };
}

async function generateFile(dir: string, records: object[], o: (engine: ReturnType<typeof fakeEngine>) => Partial<GenerateRecordsOptions> = () => ({}), engineShape = { maxBatch: 4, contextLength: 64 }) {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const engine = fakeEngine({ ...engineShape, continuation: wordsBySeed });
  const out: Record<string, unknown>[] = [];
  const lines: string[] = [];
  for await (const doc of generateRecords(readDocs([file]), options(engine, o(engine)))) {
    out.push(doc);
    lines.push(jsonLine(doc));
  }
  return { out, lines, engine, file };
}

/** Array.fromAsync, which Node 20 lacks. */
async function collect<T, U = T>(items: AsyncIterable<T>, map: (item: T) => U = (item) => item as unknown as U): Promise<U[]> {
  const out: U[] = [];
  for await (const item of items) out.push(map(item));
  return out;
}

const prompts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, prompt: `Count to ${'ten '.repeat(i % 5)}please` }));

test('records come out in input order though they finish out of order, with at most the window in flight', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { out, engine } = await generateFile(dir, prompts(30), () => ({ window: 8 }));
  assert.deepEqual(out.map((r) => r.id), Array.from({ length: 30 }, (_, i) => i));
  assert.notDeepEqual(engine.finished, [...engine.finished].sort((a, b) => a - b), 'the engine finished them out of order');
  assert.ok(engine.mostPending <= 8, `at most 8 sequences submitted and unfinished, saw ${engine.mostPending}`);
  assert.ok(engine.mostPending > 4, 'more queued than the engine decodes at once');
  for (const r of out) {
    assert.equal(typeof r.completion, 'string');
    assert.equal(r.finish_reason, 'stop');
    assert.equal(r.completion_tokens, (r.completion as string).trim().split(' ').length);
    assert.equal(r.prompt_tokens, tokenizer.encodeOrdinary(r.prompt as string).length);
    assert.ok(!('logprobs' in r) && !('sample' in r));
  }
});

test('the input fields keep their exact text; the new fields follow them', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'in.jsonl');
  writeFileSync(file, '{"big":12345678901234567891,"prompt":"Hi","e":"\\u00e9"}\n');
  const engine = fakeEngine({ maxBatch: 2, contextLength: 64, continuation: () => [WORDS[0]!, imEnd] });
  const [line] = await collect(generateRecords(readDocs([file]), options(engine, { logprobs: true })), jsonLine);
  assert.equal(line, `{"big":12345678901234567891,"prompt":"Hi","e":"\\u00e9","completion":" one","finish_reason":"stop","prompt_tokens":1,"completion_tokens":1,"logprobs":[${-(WORDS[0]! % 7) / 8}]}\n`);
});

test('-n: one record per sample with its index, each sample its own seed, the same on every run', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { out, engine } = await generateFile(dir, prompts(3), () => ({ n: 4, seed: 5 }));
  assert.deepEqual(out.map((r) => [r.id, r.sample]), [0, 1, 2].flatMap((id) => [0, 1, 2, 3].map((s) => [id, s])));
  assert.deepEqual(engine.requests.map((r) => r.params.seed), [0, 1, 2].flatMap((i) => [0, 1, 2, 3].map((j) => sampleSeed(5, i, j))));
  assert.ok(new Set(out.map((r) => r.completion)).size > 6, 'samples differ');
  const again = await generateFile(dir, prompts(3), () => ({ n: 4, seed: 5 }));
  assert.deepEqual(again.out.map((r) => r.completion), out.map((r) => r.completion));
  const other = await generateFile(dir, prompts(3), () => ({ n: 4, seed: 6 }));
  assert.notDeepEqual(other.out.map((r) => r.completion), out.map((r) => r.completion), 'another --seed, other samples');
});

test("a record's samples do not depend on the batch size or on the other records", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const records = prompts(12);
  const wide = await generateFile(dir, records, () => ({ n: 2, window: 64 }), { maxBatch: 16, contextLength: 64 });
  const narrow = await generateFile(dir, records, () => ({ n: 2, window: 2 }), { maxBatch: 1, contextLength: 64 });
  assert.deepEqual(narrow.out.map((r) => r.completion), wide.out.map((r) => r.completion));
  const changed = records.map((r, i) => (i % 2 === 1 ? { id: r.id, prompt: 'something else entirely' } : r));
  const mixed = await generateFile(dir, changed, () => ({ n: 2 }));
  const even = (rows: Record<string, unknown>[]) => rows.filter((r) => (r.id as number) % 2 === 0).map((r) => r.completion);
  assert.deepEqual(even(mixed.out), even(wide.out));
  const seeds = new Set<number>();
  for (let i = 0; i < 200; i++) for (let j = 0; j < 8; j++) seeds.add(sampleSeed(0, i, j));
  assert.equal(seeds.size, 1600, 'no two samples share a seed');
});

test('a stop string ends the sequence and is cut from the completion; --logprobs has one per new token', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const pieces = ['Answer', ':', ' 4', '\n\n', 'Question', ':', ' why'].map((p) => Array.from(tokenizer.encodeOrdinary(p)));
  const script = pieces.flat();
  const upToStop = pieces.slice(0, 6).flat().length;
  const file = join(dir, 'in.jsonl');
  writeFileSync(file, '{"prompt":"Q: 2+2?"}\n');
  const engine = fakeEngine({ maxBatch: 2, contextLength: 64, continuation: () => script });
  const [r] = await collect(generateRecords(readDocs([file]), options(engine, { stops: ['\n\nQuestion:'], logprobs: true })));
  assert.equal(r!.completion, 'Answer: 4');
  assert.equal(r!.finish_reason, 'stop');
  assert.equal(r!.completion_tokens, upToStop, 'every token the model produced, the ones holding the stop string too');
  assert.deepEqual(r!.logprobs, script.slice(0, upToStop).map((id) => -(id % 7) / 8));
});

test('maxNew reached: finish_reason length', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { out } = await generateFile(dir, [{ prompt: 'Hi' }], (e) => ({ sampling: { ...options(e).sampling, maxNew: 1 } }));
  assert.equal(out[0]!.finish_reason, 'length');
  assert.equal(out[0]!.completion_tokens, 1);
});

test('a prompt with no room in the context: its file:line under --on-error fail, after the records before it; --rejects under skip', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const long = { prompt: 'word '.repeat(40) };
  const records = [{ prompt: 'a' }, long, { prompt: 'b' }, { text: 'no prompt' }];
  const seen: unknown[] = [];
  const file = join(dir, 'in.jsonl');
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const engine = fakeEngine({ maxBatch: 2, contextLength: 32, continuation: wordsBySeed });
  await assert.rejects(
    async () => {
      for await (const doc of generateRecords(readDocs([file]), options(engine))) seen.push(doc.prompt);
    },
    (err: unknown) => err instanceof DataError && err.message === `${file}:2: prompt of 41 tokens leaves no room in the context of 32 (raise --max-len, or --truncate left keeps its last tokens; --on-error skip drops such records)`,
  );
  assert.deepEqual(seen, ['a'], 'the record before it came out');

  const rejectsPath = join(dir, 'rejects.jsonl');
  const rejects = new RejectSink(rejectsPath);
  const run = generateRecords(readDocs([file]), options(fakeEngine({ maxBatch: 2, contextLength: 32, continuation: wordsBySeed }), { onError: 'skip', rejects }));
  const kept = await collect(run, (d) => d.prompt);
  rejects.close();
  assert.deepEqual(kept, ['a', 'b']);
  const entries = readFileSync(rejectsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(entries.map((e) => [e.reason, e.stage, e.file, e.line]), [['prompt longer than the context', 'generate', file, 2], ['no "prompt" or "messages"', 'generate', file, 4]]);
  assert.deepEqual(entries[0].record, long);
  assert.equal(run.counters.dropped, 2);
});

test('--truncate left keeps the last context − maxNew tokens', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const prompt = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
  const ids = tokenizer.encodeOrdinary(prompt);
  const { out, engine } = await generateFile(dir, [{ prompt }, { prompt: 'short' }], (e) => ({ truncate: 'left', sampling: { ...options(e).sampling, maxNew: 8 } }), { maxBatch: 2, contextLength: 32 });
  assert.deepEqual(Array.from(engine.requests[0]!.prompt), Array.from(ids.subarray(ids.length - 24)));
  assert.equal(out[0]!.prompt_tokens, 24);
  assert.equal(out[1]!.prompt_tokens, 1, 'a prompt that fits is left alone');
  const engineOf = fakeEngine({ maxBatch: 1, contextLength: 8, continuation: wordsBySeed });
  assert.throws(() => generateRecords(readDocs([]), options(engineOf, { truncate: 'left' })), /give --max-new-tokens below the context \(8 tokens\)/);
});

test('text output: samples stream in order, each on its own line, equal to the records', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const written: string[] = [];
  const ordered = new OrderedText((s) => written.push(s));
  const { out } = await generateFile(dir, prompts(5), () => ({ n: 2, onText: ordered.add }));
  assert.equal(written.join(''), out.map((r) => `${r.completion}\n`).join(''));
  assert.ok(written.length > out.length * 2, 'written a piece at a time, not a sample at a time');
});
