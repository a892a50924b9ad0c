import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatMessages, detectChatFormat, preferencePair } from '../../../lib/chat/formats.js';

const qa = [
  { role: 'user', content: 'Count the words: the cat sat.' },
  { role: 'assistant', content: '3' },
];

test('chat records: {"messages": [...]} as they are', () => {
  assert.deepEqual(chatMessages({ messages: qa }, 'auto'), qa);
  assert.deepEqual(chatMessages({ messages: [{ role: 'system', content: 'Be terse.' }, ...qa] }, 'messages'), [{ role: 'system', content: 'Be terse.' }, ...qa]);
});

test('alpaca: the input follows the instruction after a blank line, as in Alpaca\'s template', () => {
  assert.deepEqual(chatMessages({ instruction: 'Reverse the word order.', input: 'the cat sat', output: 'sat cat the' }, 'auto'), [
    { role: 'user', content: 'Reverse the word order.\n\nthe cat sat' },
    { role: 'assistant', content: 'sat cat the' },
  ]);
  assert.deepEqual(chatMessages({ instruction: 'Say hi.', input: '', output: 'hi' }, 'alpaca'), [
    { role: 'user', content: 'Say hi.' },
    { role: 'assistant', content: 'hi' },
  ]);
  // LLaMA-Factory's optional system prompt and history.
  assert.deepEqual(chatMessages({ instruction: 'And 3+3?', output: '6', system: 'Be terse.', history: [['2+2?', '4']] }, 'auto'), [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: '2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And 3+3?' },
    { role: 'assistant', content: '6' },
  ]);
  assert.equal(chatMessages({ instruction: 'Say hi.', output: 7 }, 'auto'), '"output" is not a string');
  assert.equal(chatMessages({ instruction: 'Say hi.', output: '' }, 'auto'), 'empty content at message 2');
  // a reward model scores an empty last answer; an empty turn before it is still no conversation
  const silent = { messages: [{ role: 'user', content: 'Insult me.' }, { role: 'assistant', content: '' }] };
  assert.deepEqual(chatMessages(silent, 'auto', { emptyAnswer: true }), silent.messages);
  assert.equal(chatMessages({ messages: [{ role: 'user', content: '' }, { role: 'assistant', content: '' }] }, 'auto', { emptyAnswer: true }), 'empty content at message 1');
});

test('ShareGPT: human/gpt/system speakers', () => {
  const record = { conversations: [{ from: 'system', value: 'Be terse.' }, { from: 'human', value: 'Hi' }, { from: 'gpt', value: 'Hello' }] };
  assert.deepEqual(chatMessages(record, 'auto'), [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
  ]);
  assert.equal(chatMessages({ conversations: [{ from: 'human', value: 'Hi' }, { from: 'bot', value: 'Hello' }] }, 'auto'), 'unknown role "bot" at message 2');
  assert.equal(chatMessages({ conversations: [{ from: 'human', value: 'Hi' }, { from: 'gpt' }] }, 'auto'), 'value of message 2 is not a string');
});

test('hh-rlhf transcripts, in "text" or in "chosen"', () => {
  const transcript = '\n\nHuman: What is 2+2?\n\nAssistant: 4\n\nHuman: And 3+3?\n\nAssistant: 6';
  const expected = [
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And 3+3?' },
    { role: 'assistant', content: '6' },
  ];
  assert.deepEqual(chatMessages({ text: transcript }, 'auto'), expected);
  assert.deepEqual(chatMessages({ chosen: transcript, rejected: transcript.replace('6', '7') }, 'hh'), expected);
  assert.deepEqual(chatMessages({ text: transcript.trimStart() }, 'hh'), expected);
  assert.equal(chatMessages({ text: '\n\nHuman: Hi?\n\nAssistant:' }, 'auto'), 'empty content at message 2');
});

test('reasons are short and say what is wrong', () => {
  const cases: [unknown, string][] = [
    [{ messages: [{ role: 'bot', content: 'x' }] }, 'unknown role "bot" at message 1'],
    [{ messages: [qa[0], { role: 'assistant', content: '  ' }] }, 'empty content at message 2'],
    [{ messages: [qa[0]] }, 'no assistant turn'],
    [{ messages: [...qa, { role: 'system', content: 'late' }] }, 'system turn at message 3 (only the first may be one)'],
    [{ messages: [qa[0], { role: 'assistant', content: ['parts'] }] }, 'content of message 2 is not a string'],
    [{ messages: ['hi'] }, 'message 1 is not an object'],
    [{ messages: [{ role: '\u001b[31mred', content: 'x' }] }, 'unknown role "\\x1b[31mred" at message 1'],
    [{ id: 'doc', text: 'just a document' }, 'not a chat record (no "messages", "conversations", "instruction"/"output" or hh-rlhf transcript)'],
  ];
  for (const [record, reason] of cases) assert.equal(chatMessages(record as never, 'auto'), reason);
  // A format forced on the wrong record says what it missed.
  assert.equal(chatMessages({ messages: qa }, 'alpaca'), '"instruction" is not a string');
  assert.equal(chatMessages({ instruction: 'x', output: 'y' }, 'messages'), 'no "messages" array');
});

test('auto detection picks the format per record', () => {
  assert.equal(detectChatFormat({ messages: [] }), 'messages');
  assert.equal(detectChatFormat({ conversations: [] }), 'sharegpt');
  assert.equal(detectChatFormat({ instruction: '', input: '', output: '' }), 'alpaca');
  assert.equal(detectChatFormat({ chosen: '\n\nHuman: a\n\nAssistant: b', rejected: '' }), 'hh');
  assert.equal(detectChatFormat({ text: 'Human rights are universal.' }), undefined);
});

test('preference: {prompt, chosen, rejected} with strings', () => {
  assert.deepEqual(preferencePair({ prompt: '2+2?', chosen: '4', rejected: '5' }), {
    prompt: [{ role: 'user', content: '2+2?' }],
    chosen: [{ role: 'assistant', content: '4' }],
    rejected: [{ role: 'assistant', content: '5' }],
  });
});

test('preference: {messages, chosen, rejected} with messages, and responses that repeat the prompt (TRL\'s UltraFeedback)', () => {
  const prompt = [{ role: 'user', content: '2+2?' }];
  const expected = { prompt, chosen: [{ role: 'assistant', content: '4' }], rejected: [{ role: 'assistant', content: '5' }] };
  assert.deepEqual(preferencePair({ messages: prompt, chosen: [{ role: 'assistant', content: '4' }], rejected: { role: 'assistant', content: '5' } }), expected);
  assert.deepEqual(preferencePair({ prompt: '2+2?', chosen: [...prompt, { role: 'assistant', content: '4' }], rejected: [...prompt, { role: 'assistant', content: '5' }] }), expected);
  // No prompt at all: the messages both conversations start with.
  assert.deepEqual(preferencePair({ chosen: [...prompt, { role: 'assistant', content: '4' }], rejected: [...prompt, { role: 'assistant', content: '5' }] }), expected);
});

test('preference: hh-rlhf transcripts split at the last common "\\n\\nAssistant:"', () => {
  const shared = '\n\nHuman: Name a color.\n\nAssistant: Which kind?\n\nHuman: Any.';
  const pair = preferencePair({ chosen: `${shared}\n\nAssistant: Blue is one.`, rejected: `${shared}\n\nAssistant: Blah.` });
  assert.deepEqual(pair, {
    prompt: [
      { role: 'user', content: 'Name a color.' },
      { role: 'assistant', content: 'Which kind?' },
      { role: 'user', content: 'Any.' },
    ],
    chosen: [{ role: 'assistant', content: 'Blue is one.' }],
    rejected: [{ role: 'assistant', content: 'Blah.' }],
  });
  // The responses may start alike; an empty response is a valid (preferred) answer.
  const empty = preferencePair({ chosen: `${shared}\n\nAssistant:`, rejected: `${shared}\n\nAssistant: Any color? Blue.` });
  assert.deepEqual(typeof empty !== 'string' && [empty.chosen, empty.rejected], [[{ role: 'assistant', content: '' }], [{ role: 'assistant', content: 'Any color? Blue.' }]]);
  // Transcripts that part before the last Assistant turn: the responses hold the later turns too.
  const early = preferencePair({ chosen: '\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Bye\n\nAssistant: Bye!', rejected: '\n\nHuman: Hi\n\nAssistant: Go away' });
  assert.deepEqual(typeof early !== 'string' && [early.prompt.length, early.chosen.map((m) => m.role), early.rejected.length], [1, ['assistant', 'user', 'assistant'], 1]);
});

test('preference: ShareGPT/LLaMA-Factory {conversations, chosen: {from, value}, rejected}', () => {
  const record = {
    conversations: [{ from: 'system', value: 'Be brief.' }, { from: 'human', value: 'Which is longer: "a b" or "a b c"?' }],
    chosen: { from: 'gpt', value: '"a b c"' },
    rejected: { from: 'gpt', value: '"a b"' },
  };
  assert.deepEqual(preferencePair(record), {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Which is longer: "a b" or "a b c"?' },
    ],
    chosen: [{ role: 'assistant', content: '"a b c"' }],
    rejected: [{ role: 'assistant', content: '"a b"' }],
  });
});

test('preference reasons', () => {
  const cases: [unknown, string][] = [
    [{ prompt: 'q', chosen: 'a' }, 'not a preference record (no "chosen" and "rejected")'],
    [{ prompt: 'q', chosen: 'a', rejected: 'a' }, 'chosen and rejected are identical'],
    [{ chosen: '\n\nHuman: q\n\nAssistant: a', rejected: '\n\nHuman: q\n\nAssistant: a' }, 'chosen and rejected are identical'],
    [{ chosen: '\n\nHuman: q\n\nAssistant: a', rejected: '\n\nHuman: r\n\nAssistant: a' }, 'chosen and rejected share no "\\n\\nAssistant:" turn'],
    [{ chosen: 'yes', rejected: 'no' }, '"chosen" and "rejected" are strings but not hh-rlhf transcripts ("\\n\\nHuman: … \\n\\nAssistant: …")'],
    [{ prompt: 'q', chosen: [{ role: 'user', content: 'a' }], rejected: 'b' }, 'chosen response starts with a user turn, not an assistant one'],
    [{ prompt: 7, chosen: 'a', rejected: 'b' }, '"prompt" is neither a string nor a message list'],
    [{ prompt: [], chosen: 'a', rejected: 'b' }, 'no prompt'],
    [{ conversations: [{ from: 'human', value: 'q' }], chosen: { from: 'bot', value: 'a' }, rejected: { from: 'gpt', value: 'b' } }, 'unknown role "bot" at chosen message 1'],
    [{ chosen: 'a', rejected: ['b'] }, '"chosen" and "rejected" must both be strings or both message lists'],
  ];
  for (const [record, reason] of cases) assert.equal(preferencePair(record as never), reason);
});
