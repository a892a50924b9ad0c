import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyChatBase, writeJsonl } from '../helpers/chat-base.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

test('loom chat through a pipe: each line a turn of one conversation, each answer streamed to stdout', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const saved = join(dir, 'talk.jsonl');
  // The tiny model was trained on 32 tokens; a conversation needs more, and positions beyond are only less accurate.
  const args = ['chat', base, '-t', '0', '--max-new', '6', '--context', '96', '--device', 'cpu'];

  const run = await runLoom(args, { input: `hi\nwhat is 2+2?\n/save ${saved}\n` });
  assert.equal(run.code, 0, run.stderr);
  const { messages } = JSON.parse(readFileSync(saved, 'utf8'));
  assert.deepEqual(
    messages.map((m: { role: string }) => m.role),
    ['system', 'user', 'assistant', 'user', 'assistant'],
  );
  assert.deepEqual([messages[0].content, messages[1].content, messages[3].content], ['You are a helpful assistant.', 'hi', 'what is 2+2?']);
  const [first, second] = [messages[2].content, messages[4].content];
  assert.equal(run.stdout, `${first}\n${second}\n`, 'two answers, each ended by a line break');
  assert.match(run.stderr, new RegExp(`saved 5 messages to ${saved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(run.stderr, /2 answers · \d+ new tokens · first token after \d+ ms on average/);
  assert.match(run.stderr, /warning: --context 96 is beyond the 32 positions the model was trained on/);
  assert.doesNotMatch(run.stderr, /left out/);

  // The second answer saw the first exchange: it is what generate answers to the whole conversation.
  const conversation = writeJsonl(join(dir, 'conversation.jsonl'), [{ messages: messages.slice(1, 4) }]);
  const reference = await runLoom(['generate', base, conversation, '-t', '0', '--max-new-tokens', '6', '--max-len', '96', '--device', 'cpu', '--quiet']);
  assert.equal(reference.code, 0, reference.stderr);
  assert.equal(parseJsonl(reference.stdout)[0]!.completion, second);

  // /load continues a saved conversation; a bad line is reported with its number and fails the run, the rest still runs.
  const resumed = await runLoom([...args, '--quiet'], { input: `/load ${saved}\n/set top_p=2\n/save ${saved}\n` });
  assert.equal(resumed.code, 1);
  assert.equal(resumed.stdout, '');
  assert.equal(resumed.stderr, 'loom chat: line 2: top_p must be a number above 0 up to 1, got 2\n');
  assert.deepEqual(JSON.parse(readFileSync(saved, 'utf8')).messages, messages);

  // Tools: built-ins by name and modules by path; a name that is no tool is a usage error before the model loads.
  const unknown = await runLoom([...args, '--tools', 'calculator,abacus'], { input: 'hi\n' });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--tools abacus: no such tool \(built-ins: python, calculator/);
  const module = join(dir, 'echo-tool.ts');
  writeFileSync(module, "export default { name: 'echo', description: 'Says the text back.', parameters: { type: 'object', properties: { text: { type: 'string' } } }, call: async (args: { text: string }) => args.text };\n");
  const withTools = await runLoom(['chat', base, '-t', '0', '--max-new', '6', '--context', '1024', '--device', 'cpu', '--tools', 'calculator', '--tool', module], { input: `what is 2+2?\n/save ${saved}\n` });
  assert.equal(withTools.code, 0, withTools.stderr);
  assert.ok(withTools.stdout.endsWith('\n'));
  assert.match(withTools.stderr, /1 answer · \d+ new tokens/);

  // Not a language model: a data error before any input is read.
  const bad = await runLoom(['chat', dir, '--device', 'cpu'], { input: 'hi\n' });
  assert.equal(bad.code, 1);
});
