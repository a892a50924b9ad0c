// `generate --tools` at the stage level: each record's prompt becomes a ReAct question, a scripted
// model calls the calculator, and the record gains the answer as its completion and the trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../../lib/errors.js';
import { generateRecords, type GenerateRecordsOptions } from '../../../../lib/infer/generate-records.js';
import { calculator } from '../../../../lib/infer/tools/calculator.js';
import { readDocs } from '../../../../lib/io/read.js';
import { IM_END } from '../../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../../lib/tokenizer/vocabulary.js';
import { tempDir } from '../../../helpers/cli.js';
import { fakeEngine } from '../fake-engine.js';

const tokenizer = new Tokenizer(loadVocabulary());
const imEnd = tokenizer.vocab.specials[IM_END]!;
const decode = (ids: ArrayLike<number>) => new TextDecoder().decode(tokenizer.decodeBytes(ids));

/** Reads "What is A times B?" from the prompt and multiplies with the calculator; answers once it has seen an Observation. */
function multiplyingModel(prompt: Int32Array): number[] {
  const text = decode(prompt);
  const [, a, b] = /Question: What is (\d+) times (\d+)\?/.exec(text)!;
  const observed = /Observation: (.*)\nThought:$/.exec(text);
  const output = observed ? ` I have it.\nFinal Answer: ${observed[1]}` : `Thought: multiply.\nAction: calculator\nAction Input: {"expression": "${a} * ${b}"}\n`;
  return [...tokenizer.encodeOrdinary(output), imEnd];
}

/** The stage's options: one sample, greedy, no stop strings, the calculator with at most 3 calls. */
function options(engine: GenerateRecordsOptions['engine'], o: Partial<GenerateRecordsOptions> = {}): GenerateRecordsOptions {
  const sampling = { maxNew: 64, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stopTokens: [imEnd] };
  const run = { n: 1, seed: 0, stops: [], logprobs: false, truncate: 'none', onError: 'fail', window: 8 } as const;
  return { engine, tokenizer, sampling, ...run, systemPrompt: 'You are a helpful assistant.', chat: false, tools: { tools: [calculator], maxSteps: 3 }, ...o };
}

test('generate with tools: the answer as completion, the calls as trace, records in input order', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'in.jsonl');
  const questions = [[17, 23], [6, 7], [120, 5]];
  writeFileSync(file, questions.map(([a, b], i) => JSON.stringify(i === 1 ? { id: i, messages: [{ role: 'user', content: `What is ${a} times ${b}?` }] } : { id: i, prompt: `What is ${a} times ${b}?` })).join('\n') + '\n');
  const engine = fakeEngine({ maxBatch: 2, contextLength: 2048, continuation: multiplyingModel });
  const streamed = new Map<number, string>();
  const out: Record<string, unknown>[] = [];
  for await (const doc of generateRecords(readDocs([file]), options(engine, { onText: (s, text) => streamed.set(s, (streamed.get(s) ?? '') + text) }))) out.push(doc);
  assert.deepEqual(out.map((r) => [r.id, r.completion, r.finish_reason]), [[0, '391', 'stop'], [1, '42', 'stop'], [2, '600', 'stop']]);
  assert.deepEqual(out[0]!.trace, [{ thought: 'multiply.', action: 'calculator', input: '{"expression": "17 * 23"}', observation: '391' }]);
  assert.ok(!('messages' in out[0]!) && 'prompt' in out[0]!, 'the record keeps its own fields');
  // The prompt string became the ReAct question of a ChatML user turn, with the system prompt.
  assert.match(decode(engine.requests[0]!.prompt), /^<\|im_start\|>system\nYou are a helpful assistant\.<\|im_end\|>\n<\|im_start\|>user\nAnswer the following questions as best you can\./);
  assert.equal(streamed.get(0), 'Thought: multiply.\nAction: calculator\nAction Input: {"expression": "17 * 23"}\nObservation: 391\nThought: I have it.\nFinal Answer: 391');
  assert.equal(out[0]!.prompt_tokens, engine.requests[0]!.prompt.length);
});

test('generate with tools refuses --stop and --logprobs', () => {
  const engine = fakeEngine({ maxBatch: 1, contextLength: 64, continuation: () => [] });
  assert.throws(() => generateRecords(readDocs([]), options(engine, { stops: ['\n'] })), (e) => e instanceof UsageError && /--stop cannot go with tools/.test(e.message));
  assert.throws(() => generateRecords(readDocs([]), options(engine, { logprobs: true })), /--logprobs cannot go with tools/);
});
