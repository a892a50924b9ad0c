import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatSession, formatSettings, type ChatOutcome, type ChatSettings } from '../../../lib/infer/chat-session.js';
import { sampleSeed } from '../../../lib/infer/generate-records.js';
import { calculator } from '../../../lib/infer/tools/calculator.js';
import { encodeChat } from '../../../lib/tokenizer/chatml.js';
import { IM_END } from '../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { createRandom } from '../../../lib/util/random.js';
import { tempDir } from '../../helpers/cli.js';
import { fakeEngine } from './fake-engine.js';

const tokenizer = new Tokenizer(loadVocabulary());
const imEnd = tokenizer.vocab.specials[IM_END]!;
const WORDS = Array.from(tokenizer.encodeOrdinary(' one two three four five six seven eight'));
const SETTINGS: ChatSettings = { maxNew: 64, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05, seed: 5 };

/** Three to five words drawn by the seed, then <|im_end|>. */
const wordsBySeed = (_prompt: Int32Array, seed: number) => {
  const random = createRandom(seed);
  return [...Array.from({ length: 3 + random.int(3) }, () => WORDS[random.int(WORDS.length)]!), imEnd];
};

function session(o: { contextLength?: number; continuation?: typeof wordsBySeed; system?: string } = {}) {
  const engine = fakeEngine({ contextLength: o.contextLength ?? 4096, maxBatch: 1, continuation: o.continuation ?? wordsBySeed });
  return { engine, chat: new ChatSession({ engine, tokenizer, stopTokens: [imEnd], system: o.system ?? 'You are a helpful assistant.', settings: SETTINGS }) };
}

const promptOf = (messages: Parameters<typeof encodeChat>[1]) => Array.from(encodeChat(tokenizer, messages, { addGenerationPrompt: true }).ids);

function answerOf(outcome: ChatOutcome) {
  assert.equal(outcome.kind, 'answer', JSON.stringify(outcome));
  return (outcome as Extract<ChatOutcome, { kind: 'answer' }>).answer;
}

test('chat session: each turn sees the whole conversation, streams its answer and keeps it in the history', async () => {
  const { engine, chat } = session();
  const pieces: string[] = [];
  const first = answerOf(await chat.input('hi', (p) => pieces.push(p)));
  const second = answerOf(await chat.input('what is 2+2?'));
  const expected = (seed: number) => tokenizer.decode(wordsBySeed(new Int32Array(), seed).slice(0, -1));
  assert.equal(first.text, expected(sampleSeed(5, 0, 0)));
  assert.equal(second.text, expected(sampleSeed(5, 1, 0)), 'each turn has its own seed from --seed and the turn');
  assert.notEqual(first.text, second.text);
  assert.equal(pieces.join(''), first.text, 'the pieces streamed are the answer');
  assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
  assert.equal(first.finish, 'stop');
  assert.equal(first.tokens, wordsBySeed(new Int32Array(), sampleSeed(5, 0, 0)).length - 1);
  assert.ok(first.firstTokenMs! >= 0 && first.tokensPerSecond! > 0);
  assert.equal(first.leftOut, 0);

  const system = { role: 'system' as const, content: 'You are a helpful assistant.' };
  assert.deepEqual(Array.from(engine.requests[0]!.prompt), promptOf([system, { role: 'user', content: 'hi' }]));
  assert.deepEqual(Array.from(engine.requests[1]!.prompt), promptOf([system, { role: 'user', content: 'hi' }, { role: 'assistant', content: first.text }, { role: 'user', content: 'what is 2+2?' }]));
  assert.deepEqual(engine.requests[1]!.params, { ...SETTINGS, stopTokens: [imEnd], seed: sampleSeed(5, 1, 0) });
  assert.deepEqual(chat.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);

  // A message that starts with "//" is sent with one "/".
  answerOf(await chat.input('//etc/hosts is a file'));
  assert.equal(chat.messages.at(-2)!.content, '/etc/hosts is a file');
  assert.deepEqual(await chat.input('  '), { kind: 'error', text: 'an empty message' });
});

test('chat session: /set checks every value before changing any; /system, /reset, /help, /quit', async () => {
  const { engine, chat } = session();
  assert.deepEqual(chat.command('/set temperature=0.2 top_p=0.9 top-k=5 max_new=3 repetition_penalty=1.2 seed=9'), {
    kind: 'notice',
    text: 'temperature 0.2 · top_p 0.9 · top_k 5 · max_new 3 · repetition_penalty 1.2 · seed 9',
  });
  const answer = answerOf(await chat.input('count'));
  assert.equal(answer.tokens, 3);
  assert.equal(answer.finish, 'length');
  assert.deepEqual(engine.requests[0]!.params, { maxNew: 3, temperature: 0.2, topK: 5, topP: 0.9, repetitionPenalty: 1.2, stopTokens: [imEnd], seed: sampleSeed(9, 0, 0) });

  const before = formatSettings(chat.settings);
  assert.deepEqual(chat.command('/set temperature=0 top_p=0'), { kind: 'error', text: 'top_p must be a number above 0 up to 1, got 0' });
  assert.deepEqual(chat.command('/set max_new=2.5'), { kind: 'error', text: 'max_new must be a whole number ≥ 1, got 2.5' });
  assert.deepEqual(chat.command('/set seed='), { kind: 'error', text: 'seed must be an integer, got something that is not a number' });
  assert.match((chat.command('/set warmth=1') as { text: string }).text, /^\/set NAME=VALUE, NAME one of temperature, top_p, top_k, max_new, repetition_penalty, seed; got "warmth=1"/);
  assert.equal(formatSettings(chat.settings), before, 'a bad /set changes nothing');
  assert.deepEqual(chat.command('/set'), { kind: 'notice', text: before });

  assert.deepEqual(chat.command('/system You answer in French.'), { kind: 'notice', text: 'system prompt: You answer in French.' });
  await chat.input('bonjour');
  const french = encodeChat(tokenizer, [{ role: 'system', content: 'You answer in French.' }]).ids;
  assert.deepEqual(Array.from(engine.requests[1]!.prompt.slice(0, french.length)), Array.from(french));
  assert.deepEqual(chat.command('/system'), { kind: 'notice', text: 'system prompt: You answer in French.' });
  assert.deepEqual(chat.command('/system ""'), { kind: 'notice', text: 'system prompt removed' });
  assert.equal(chat.system, '');
  assert.equal(chat.messages.length, 4, '/system keeps the conversation');
  assert.deepEqual(chat.command('/reset'), { kind: 'notice', text: 'conversation reset' });
  assert.deepEqual(chat.messages, []);
  await chat.input('hello');
  assert.deepEqual(Array.from(engine.requests[2]!.prompt), promptOf([{ role: 'user', content: 'hello' }]), 'no system turn, no earlier turns');

  assert.match((chat.command('/help') as { text: string }).text, /\/reset[\s\S]*\/system TEXT[\s\S]*\/set NAME=VALUE[\s\S]*\/save FILE[\s\S]*\/load FILE[\s\S]*\/quit/);
  assert.deepEqual(chat.command('/quit'), { kind: 'quit' });
  assert.deepEqual(await chat.input('/exit'), { kind: 'quit' });
  assert.deepEqual(chat.command('/frobnicate'), { kind: 'error', text: 'unknown command /frobnicate (/help lists them)' });
});

test('chat session: /save writes one {"messages"} record that /load continues, system prompt included', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'talk.jsonl');
  const { chat } = session({ system: 'Be brief.' });
  const first = answerOf(await chat.input('hi'));
  assert.deepEqual(chat.command(`/save ${file}`), { kind: 'notice', text: `saved 3 messages to ${file}` });
  const saved = readFileSync(file, 'utf8');
  assert.equal(saved.split('\n').length, 2, 'one line and its line break');
  assert.deepEqual(JSON.parse(saved), {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: first.text },
    ],
  });

  const { engine, chat: other } = session();
  assert.deepEqual(other.command(`/load ${file}`), { kind: 'notice', text: `loaded 2 messages from ${file} with its system prompt` });
  assert.equal(other.system, 'Be brief.');
  await other.input('and then?');
  assert.deepEqual(Array.from(engine.requests[0]!.prompt), promptOf([...JSON.parse(saved).messages, { role: 'user', content: 'and then?' }]));

  // A record without a system turn keeps the session's system prompt; bad files change nothing.
  writeFileSync(file, JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }) + '\n');
  assert.deepEqual(other.command(`/load ${file}`), { kind: 'notice', text: `loaded 2 messages from ${file}` });
  assert.equal(other.system, 'Be brief.');
  writeFileSync(file, JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'robot', content: 'a' }] }) + '\n');
  assert.deepEqual(other.command(`/load ${file}`), { kind: 'error', text: `/load ${file}: unknown role "robot" at message 2` });
  writeFileSync(file, JSON.stringify({ text: 'a document' }) + '\n');
  assert.deepEqual(other.command(`/load ${file}`), { kind: 'error', text: `/load ${file}: not a {"messages": [...]} record` });
  assert.match((other.command(`/load ${join(dir, 'missing.jsonl')}`) as { text: string }).text, /^\/load .*missing\.jsonl: ENOENT/);
  assert.deepEqual(other.command('/save'), { kind: 'error', text: '/save FILE' });
  assert.deepEqual(other.messages.map((m) => m.content), ['q', 'a']);
});

test('chat session: cancel stops the answer at the next token, keeps what was written, and the next turn works', async () => {
  const endless = (_prompt: Int32Array, seed: number) => (seed === sampleSeed(5, 0, 0) ? Array.from({ length: 10_000 }, (_, i) => WORDS[i % WORDS.length]!) : wordsBySeed(_prompt, seed));
  const { engine, chat } = session({ continuation: endless });
  assert.equal(chat.cancel(), false, 'nothing to stop');
  let pieces = 0;
  const answering = chat.input('count forever', () => {
    if (++pieces === 4) assert.equal(chat.cancel(), true);
  });
  assert.equal(chat.busy, true);
  assert.throws(() => chat.send('meanwhile'), /one answer at a time/);
  const stopped = answerOf(await answering);
  assert.equal(stopped.finish, 'cancelled');
  assert.equal(stopped.tokens, 4, 'the answer ends at the token streamed when it was stopped');
  assert.equal(stopped.text, tokenizer.decode(WORDS.slice(0, 4)));
  assert.equal(chat.busy, false);
  assert.deepEqual(chat.messages, [{ role: 'user', content: 'count forever' }, { role: 'assistant', content: stopped.text }]);

  const next = answerOf(await chat.input('something else'));
  assert.equal(next.finish, 'stop');
  assert.equal(engine.requests.length, 2);

  // Stopped before any text: the question goes too, so the history stays question, answer, question, answer.
  const silent = session({ continuation: () => Array(100).fill(WORDS[0]) });
  const pending = silent.chat.input('hello?');
  silent.chat.cancel();
  const empty = answerOf(await pending);
  assert.deepEqual([empty.finish, empty.text, empty.kept], ['cancelled', '', false]);
  assert.deepEqual(silent.chat.messages, []);
});

test('chat session: a conversation beyond the context leaves out its oldest exchanges, never the system prompt or the question', async () => {
  const { engine, chat } = session({ contextLength: 120 });
  chat.command('/set max_new=8');
  const counts: number[] = [];
  for (let turn = 0; turn < 6; turn++) counts.push(answerOf(await chat.input(`question number ${turn} about the weather`)).leftOut);
  assert.equal(chat.messages.length, 12, 'the history keeps everything');
  assert.equal(counts[0], 0);
  assert.ok(counts.at(-1)! > 0 && counts.at(-1)! % 2 === 0, `whole exchanges left out: ${counts}`);
  for (const request of engine.requests) assert.ok(request.prompt.length + 8 <= 120, `${request.prompt.length} tokens`);
  const last = engine.requests.at(-1)!;
  const kept = [{ role: 'system' as const, content: 'You are a helpful assistant.' }, ...chat.messages.slice(counts.at(-1)!, -1)];
  assert.deepEqual(Array.from(last.prompt), promptOf(kept));

  const tooLong = await chat.input('word '.repeat(200));
  assert.equal(tooLong.kind, 'error');
  assert.match((tooLong as { text: string }).text, /^the message makes a prompt of \d+ tokens, and the context holds 120/);
  assert.equal(chat.messages.length, 12);
});

test('chat session with tools: each answer is a ReAct loop; the trace streams apart, the Final Answer is the turn', async () => {
  // The scripted model calls the calculator once, then answers from the observation.
  const script = (prompt: Int32Array) => {
    const text = tokenizer.decode(Array.from(prompt));
    const reply = text.endsWith('Thought:') ? ' I now know the final answer.\nFinal Answer: 17 times 23 is 391.' : 'Thought: I should compute it.\nAction: calculator\nAction Input: {"expression": "17*23"}\nObservation: made up';
    return [...tokenizer.encodeOrdinary(reply), imEnd];
  };
  const engine = fakeEngine({ contextLength: 4096, maxBatch: 1, continuation: script });
  const chat = new ChatSession({ engine, tokenizer, stopTokens: [imEnd], system: 'You are a helpful assistant.', settings: SETTINGS, tools: [calculator] });
  const parts: Record<string, string> = { trace: '', answer: '' };
  const answer = answerOf(await chat.input('What is 17 times 23?', (piece, part) => (parts[part] += piece)));
  assert.equal(answer.text, '17 times 23 is 391.');
  assert.equal(answer.finish, 'stop');
  assert.deepEqual(answer.steps, [{ thought: 'I should compute it.', action: 'calculator', input: '{"expression": "17*23"}', observation: '391' }]);
  assert.match(parts.trace!, /^Thought: I should compute it\.\nAction: calculator\nAction Input: \{"expression": "17\*23"\}\nObservation: 391\nThought: I now know the final answer\.\nFinal Answer: 17 times 23 is 391\.$/);
  assert.equal(parts.answer, '', 'nothing streams as the answer: it is known at the end');
  assert.equal(engine.requests.length, 2, 'one generation up to the tool call, one after it');
  assert.match(tokenizer.decode(Array.from(engine.requests[0]!.prompt)), /You have access to the following tools:\n\ncalculator: Call this tool[\s\S]*Question: What is 17 times 23\?<\|im_end\|>\n<\|im_start\|>assistant\n$/);
  // The history holds the question as asked and the final answer, as Qwen's ReAct chat keeps it.
  assert.deepEqual(chat.messages, [{ role: 'user', content: 'What is 17 times 23?' }, { role: 'assistant', content: '17 times 23 is 391.' }]);
});
