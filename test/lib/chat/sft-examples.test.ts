import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSftExample, type SftExample, type SftEncodeOptions } from '../../../lib/chat/sft-examples.js';
import { DEFAULT_SYSTEM_PROMPT } from '../../../lib/chat/turns.js';
import type { ChatMessage } from '../../../lib/tokenizer/chatml.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';

const tokenizer = new Tokenizer(loadVocabulary());
const options: SftEncodeOptions = { maxLen: 512, loss: 'assistant', systemPrompt: DEFAULT_SYSTEM_PROMPT };

/** Three exchanges: the 3-turn conversation whose loss-bearing tokens the policies are shown on. */
const threeTurns: ChatMessage[] = [
  { role: 'user', content: 'Repeat: the cat sat.' },
  { role: 'assistant', content: 'the cat sat.' },
  { role: 'user', content: 'Count the words.' },
  { role: 'assistant', content: '3' },
  { role: 'user', content: 'Reverse them.' },
  { role: 'assistant', content: 'sat. cat the' },
];

function encode(messages: ChatMessage[], o: Partial<SftEncodeOptions> = {}): SftExample {
  const example = encodeSftExample(tokenizer, messages, { ...options, ...o });
  if ('drop' in example) assert.fail(`dropped: ${example.drop}`);
  return example;
}

/** The text of each run of loss-bearing tokens. */
function learnedSpans({ ids, lossMask }: SftExample): string[] {
  const spans: string[] = [];
  let run: number[] = [];
  ids.forEach((id, t) => {
    if (lossMask[t]) run.push(id);
    else if (run.length > 0) spans.push(tokenizer.decode(run.splice(0)));
  });
  if (run.length > 0) spans.push(tokenizer.decode(run));
  return spans;
}

test('the whole conversation is ChatML with the default system prompt first', () => {
  const example = encode(threeTurns);
  const text = tokenizer.decode(example.ids);
  assert.equal(
    text,
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\nRepeat: the cat sat.<|im_end|>\n<|im_start|>assistant\nthe cat sat.<|im_end|>\n' +
      '<|im_start|>user\nCount the words.<|im_end|>\n<|im_start|>assistant\n3<|im_end|>\n' +
      '<|im_start|>user\nReverse them.<|im_end|>\n<|im_start|>assistant\nsat. cat the<|im_end|>\n',
  );
  assert.equal(example.truncated, undefined);
});

test('loss policy "assistant": assistant content and the <|im_end|> closing it, nothing else', () => {
  assert.deepEqual(learnedSpans(encode(threeTurns)), ['the cat sat.<|im_end|>', '3<|im_end|>', 'sat. cat the<|im_end|>']);
});

test('loss policy "qwen": also every <|im_start|>, every <|im_end|> and the newline after it, in every turn', () => {
  assert.deepEqual(learnedSpans(encode(threeTurns, { loss: 'qwen' })), [
    '<|im_end|>\n<|im_start|>', // system turn's end; the user turn's start (the first <|im_start|> has nothing before it)
    '<|im_end|>\n<|im_start|>', // user turn's end; the assistant turn's start (its "assistant\n" is not learned)
    'the cat sat.<|im_end|>\n<|im_start|>',
    '<|im_end|>\n<|im_start|>',
    '3<|im_end|>\n<|im_start|>',
    '<|im_end|>\n<|im_start|>',
    'sat. cat the<|im_end|>\n',
  ]);
});

/**
 * The labels of QwenLM/Qwen finetune.py `preprocess`, restated: per turn `[im_start] role \n content
 * [im_end] \n`, labelled [im_start] IGNORE… [im_end] \n for system and user turns, and
 * [im_start] IGNORE IGNORE content [im_end] \n for assistant turns (IGNORE covers the role and its \n).
 */
function qwenFinetuneLabels(system: string, messages: ChatMessage[]): { ids: number[]; labels: number[] } {
  const specials = tokenizer.vocab.specials;
  const [imStart, imEnd] = [specials['<|im_start|>']!, specials['<|im_end|>']!];
  const nl = [...tokenizer.encodeOrdinary('\n')];
  const ids: number[] = [];
  const labels: number[] = [];
  for (const { role, content } of [{ role: 'system', content: system }, ...messages]) {
    const roleIds = [...tokenizer.encodeOrdinary(role)];
    const contentIds = [...tokenizer.encodeOrdinary(content)];
    ids.push(imStart, ...roleIds, ...nl, ...contentIds, imEnd, ...nl);
    const learned = role === 'assistant' ? contentIds : contentIds.map(() => -100);
    labels.push(imStart, ...roleIds.map(() => -100), ...nl.map(() => -100), ...learned, imEnd, ...nl);
  }
  return { ids, labels };
}

test('loss policy "qwen" labels exactly the tokens Qwen\'s finetune.py labels (its position 0 is never predicted)', () => {
  const example = encode(threeTurns, { loss: 'qwen' });
  const reference = qwenFinetuneLabels(DEFAULT_SYSTEM_PROMPT, threeTurns);
  assert.deepEqual([...example.ids], reference.ids);
  assert.deepEqual([...example.lossMask], reference.labels.map((label, t) => (t > 0 && label !== -100 ? 1 : 0)));
});

test('the system prompt: added when missing, a conversation\'s own kept, none with ""', () => {
  const own: ChatMessage[] = [{ role: 'system', content: 'Be terse.' }, ...threeTurns];
  assert.match(tokenizer.decode(encode(own).ids), /^<\|im_start\|>system\nBe terse\.<\|im_end\|>\n<\|im_start\|>user\n/);
  assert.match(tokenizer.decode(encode(threeTurns, { systemPrompt: 'Be kind.' }).ids), /^<\|im_start\|>system\nBe kind\./);
  assert.match(tokenizer.decode(encode(threeTurns, { systemPrompt: '' }).ids), /^<\|im_start\|>user\nRepeat/);
});

test('turns after the last assistant turn are left out; no assistant turn is a drop', () => {
  const trailing = encode([...threeTurns, { role: 'user', content: 'Thanks!' }]);
  assert.deepEqual(trailing.ids, encode(threeTurns).ids);
  assert.deepEqual(encodeSftExample(tokenizer, [{ role: 'user', content: 'Hello?' }], options), { drop: 'no assistant turn' });
});

test('every example has no loss on its first token and carries some loss', () => {
  for (const loss of ['assistant', 'qwen'] as const) {
    const example = encode(threeTurns, { loss, systemPrompt: '' });
    assert.equal(example.lossMask[0], 0);
    assert.equal(example.ids.length, example.lossMask.length);
  }
});

test('truncation drops the earliest exchanges first and keeps the system prompt and the last answer', () => {
  const full = encode(threeTurns);
  const lastTwo = encode(threeTurns.slice(2));
  const lastOne = encode(threeTurns.slice(4));
  // One token short of the whole conversation: the first exchange goes.
  const cut = encode(threeTurns, { maxLen: full.ids.length - 1 });
  assert.deepEqual(cut.ids, lastTwo.ids);
  assert.deepEqual(cut.lossMask, lastTwo.lossMask);
  assert.equal(cut.truncated, 'turns');
  // Room for the system prompt and the last exchange only.
  const last = encode(threeTurns, { maxLen: lastOne.ids.length, loss: 'qwen' });
  assert.deepEqual(last.ids, lastOne.ids);
  assert.deepEqual(learnedSpans(last), ['<|im_end|>\n<|im_start|>', '<|im_end|>\n<|im_start|>', 'sat. cat the<|im_end|>\n']);
  assert.match(tokenizer.decode(last.ids), /^<\|im_start\|>system\nYou are a helpful assistant\.<\|im_end\|>\n<\|im_start\|>user\nReverse them\./);
});

test('an exchange is a user turn with everything that answers it (tool turns included)', () => {
  const withTool: ChatMessage[] = [
    { role: 'user', content: 'What is 6 times 7?' },
    { role: 'assistant', content: 'calc(6*7)' },
    { role: 'tool', content: '42' },
    { role: 'assistant', content: '42' },
    { role: 'user', content: 'And 2+2?' },
    { role: 'assistant', content: '4' },
  ];
  const cut = encode(withTool, { maxLen: encode(withTool).ids.length - 1 });
  assert.deepEqual(cut.ids, encode(withTool.slice(4)).ids);
});

test('when the last exchange alone is too long, the answer loses its tail (and its <|im_end|>)', () => {
  const long: ChatMessage[] = [
    { role: 'user', content: 'Say it.' },
    { role: 'assistant', content: 'one two three four five six seven eight nine ten' },
  ];
  const whole = encode(long);
  const example = encode(long, { maxLen: whole.ids.length - 4 });
  assert.equal(example.truncated, 'tail');
  assert.equal(example.ids.length, whole.ids.length - 4);
  assert.deepEqual(example.ids, whole.ids.slice(0, -4));
  assert.deepEqual(learnedSpans(example), ['one two three four five six seven eight']);
});

test('a conversation whose prompt leaves no room for one answer token is dropped with the reason', () => {
  const long: ChatMessage[] = [
    { role: 'user', content: 'word '.repeat(50) },
    { role: 'assistant', content: 'ok' },
  ];
  const example = encodeSftExample(tokenizer, long, { ...options, maxLen: 40 });
  assert.ok('drop' in example);
  assert.match(example.drop, /^prompt of \d+ tokens leaves no room for the answer in max-len 40$/);
  assert.throws(() => encodeSftExample(tokenizer, long, { ...options, maxLen: 0 }), RangeError);
});
