import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { ChatSession } from '../../../lib/infer/chat-session.js';
import { calculator } from '../../../lib/infer/tools/calculator.js';
import { IM_END } from '../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { ChatApp, answerStats } from '../../../lib/ui/chat.js';
import { tempDir } from '../../helpers/cli.js';
import { press, type, typeAfterExit } from '../../helpers/ink.js';
import { fakeEngine } from '../infer/fake-engine.js';

const tokenizer = new Tokenizer(loadVocabulary());
const imEnd = tokenizer.vocab.specials[IM_END]!;
const ids = (text: string) => Array.from(tokenizer.encodeOrdinary(text));

/** The model's answers by the last user message: "count" never stops, the rest are scripted. */
function continuation(prompt: Int32Array): number[] {
  const text = tokenizer.decode(Array.from(prompt));
  const question = text.slice(text.lastIndexOf('<|im_start|>user\n') + 17, text.lastIndexOf('<|im_end|>'));
  if (question === 'count') return Array.from({ length: 1_000_000 }, (_, i) => ids(` ${i + 1}`)).flat();
  if (question === 'clear the screen') return [...ids('sure \x1b[2J done'), imEnd];
  return [...ids(`You said: ${question}.`), imEnd];
}

function start(maxNew = 64) {
  const engine = fakeEngine({ contextLength: 2_000_000, maxBatch: 1, continuation });
  const settings = { maxNew, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05, seed: 0 };
  const session = new ChatSession({ engine, tokenizer, stopTokens: [imEnd], system: 'You are a helpful assistant.', settings });
  return { engine, session, app: render(<ChatApp session={session} title="loom chat ckpt/tiny" />) };
}

test('chat screen: a message and Enter stream an answer with its tokens/s; the settings and system prompt are on screen', async () => {
  const { app, session } = start();
  let screen = await press(app, [], /^loom chat ckpt\/tiny · \/help lists the commands/);
  assert.match(screen, /temperature 0\.7 · top_p 0\.8 · top_k 20 · max_new 64 · repetition_penalty 1\.05 · seed 0 · 0 messages/);
  assert.match(screen, /system: You are a helpful assistant\./);

  screen = await press(app, ['hello there', '\r'], /You said: hello there\.\n\d+ tokens · [\d.]+ tokens\/s · first token \d+ ms/);
  assert.match(screen, /› hello there\nYou said: hello there\./);
  assert.match(screen, /· 2 messages/);
  assert.deepEqual(session.messages.at(-1), { role: 'assistant', content: 'You said: hello there.' });

  // A chunk that ends in a line break (a pasted line) is sent, its inner line breaks as spaces.
  await press(app, ['pasted\nline\r'], /› pasted line\nYou said: pasted line\./);

  // ↑ and ↓ go through the lines sent, back to an empty line.
  await press(app, ['\x1b[A', '\x1b[A'], /› hello there\n[^\n]*temperature/);
  await press(app, ['\x1b[B'], /› pasted line\n[^\n]*temperature/);
  await press(app, ['\x1b[B'], /›\s*\n[^\n]*temperature/);

  // Backspace edits the line; model text cannot reach the terminal as escapes.
  await press(app, ['clear the screenn', '\x7f', '\r'], /sure \\x1b\[2J done/);
  app.unmount();
});

test('chat screen: /commands change the settings and the system prompt, and say what they did', async (t) => {
  const { app, session } = start();
  await press(app, ['/set temperature=0 top_k=1', '\r'], /temperature 0 · top_p 0\.8 · top_k 1 ·/);
  assert.equal(session.settings.temperature, 0);
  await press(app, ['/set top_p=7', '\r'], /top_p must be a number above 0 up to 1, got 7/);
  await press(app, ['/system Answer in French.', '\r'], /system: Answer in French\.\s*$/);
  await press(app, ['hi', '\r'], /You said: hi\.[\s\S]*· 2 messages/);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'talk.jsonl');
  await press(app, [`/save ${file}`, '\r'], /saved 3 messages to/);
  await press(app, ['/reset', '\r'], /conversation reset[\s\S]*· 0 messages/);
  await press(app, [`/load ${file}`, '\r'], /loaded 2 messages from .* with its system prompt\n› hi\nYou said: hi\.\n›[\s\S]*· 2 messages/);
  await press(app, ['/help', '\r'], /\/save FILE +write the conversation/);
  await press(app, ['/nope', '\r'], /unknown command \/nope/);
  app.unmount();
});

test('chat screen: Ctrl-C stops the answer, not the program; the next turn works; Ctrl-C at the prompt leaves', async () => {
  const { app, session, engine } = start(1_000_000);
  await press(app, ['count', '\r'], / 1 2 3 4 5 6 7 8 9 10 [\s\S]*answering · Ctrl-C stops/);
  assert.equal(session.busy, true);
  const screen = await press(app, ['\x03'], /\d+ tokens · [\d.]+ tokens\/s · first token \d+ ms · stopped/);
  assert.equal(session.busy, false);
  assert.doesNotMatch(screen, /answering/);
  assert.match(session.messages.at(-1)!.content, /^ 1 2 3 4 5 6 7 8 9 10 /);

  await press(app, ['and now?', '\r'], /You said: and now\?\./);
  assert.equal(engine.requests.length, 2);
  // At the prompt, Ctrl-C leaves: what is typed afterwards sends nothing.
  await type(app, '\x03');
  await typeAfterExit(app, 'hi', '\r');
  assert.equal(engine.requests.length, 2, 'nothing sent after the app ended');
  app.unmount();
});

test('chat screen with tools: the Thought/Action/Observation trace, then the Final Answer as the turn', async () => {
  const script = (prompt: Int32Array) => {
    const reply = tokenizer.decode(Array.from(prompt)).endsWith('Thought:') ? ' I know it.\nFinal Answer: 391' : 'Thought: compute\nAction: calculator\nAction Input: 17*23\nObservation:';
    return [...ids(reply), imEnd];
  };
  const engine = fakeEngine({ contextLength: 4096, maxBatch: 1, continuation: script });
  const settings = { maxNew: 64, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };
  const session = new ChatSession({ engine, tokenizer, stopTokens: [imEnd], system: '', settings, tools: [calculator] });
  const app = render(<ChatApp session={session} title="loom chat ckpt/tiny" />);
  const screen = await press(app, ['17 times 23?', '\r'], /Thought: compute\nAction: calculator\nAction Input: 17\*23\nObservation: 391\nThought: I know it\.\nFinal Answer: 391\n391\n\d+ tokens · .*1 tool call/);
  assert.match(screen, /no system prompt/);
  assert.deepEqual(session.messages.at(-1), { role: 'assistant', content: '391' });
  app.unmount();
});

test('answer stats say how an answer ended when the model did not end it', () => {
  const base = { text: 'x', tokens: 12, promptTokens: 30, leftOut: 0, kept: true } as const;
  assert.equal(answerStats({ ...base, finish: 'stop', tokensPerSecond: 35.24, firstTokenMs: 80.4 }), '12 tokens · 35.2 tokens/s · first token 80 ms');
  assert.equal(answerStats({ ...base, tokens: 1, finish: 'length', firstTokenMs: 5, leftOut: 4 }), '1 token · first token 5 ms · cut at max_new or the context · 4 earlier messages left out of the context');
  assert.equal(answerStats({ ...base, tokens: 0, text: '', finish: 'cancelled', kept: false }), '0 tokens · stopped · no answer: the question is not kept');
  assert.equal(answerStats({ ...base, text: '', finish: 'max_steps', kept: false, steps: [] }), '12 tokens · 0 tool calls · too many tool calls · no answer: the question is not kept');
});
