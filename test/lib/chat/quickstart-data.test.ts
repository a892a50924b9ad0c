// The quickstart's chat and preference files (examples/quickstart/make-chats.ts) in every format the
// readers take, read back whole: no record is rejected, and each becomes a training sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatFiles } from '../../../examples/quickstart/make-chats.js';
import { chatMessages, detectChatFormat, preferencePair } from '../../../lib/chat/formats.js';
import { packExamples } from '../../../lib/chat/pack.js';
import { encodePreference } from '../../../lib/chat/preference.js';
import { encodeSftExample, type SftExample } from '../../../lib/chat/sft-examples.js';
import { DEFAULT_SYSTEM_PROMPT } from '../../../lib/chat/turns.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';

const tokenizer = new Tokenizer(loadVocabulary());
const files = chatFiles({ chats: 120, prefs: 120, seed: 3 });

test('the files are deterministic', () => {
  assert.deepEqual(chatFiles({ chats: 120, prefs: 120, seed: 3 }), files);
  assert.notDeepEqual(chatFiles({ chats: 120, prefs: 120, seed: 4 }).chats, files.chats);
});

test('every chat record is read, in the three formats, and packs into training rows', () => {
  const records = files.chats.map((line) => JSON.parse(line));
  assert.deepEqual(new Set(records.map(detectChatFormat)), new Set(['messages', 'alpaca', 'sharegpt']));
  const examples = records.map((record) => {
    const messages = chatMessages(record, 'auto');
    if (typeof messages === 'string') assert.fail(`${record.id}: ${messages}`);
    const example = encodeSftExample(tokenizer, messages, { maxLen: 256, loss: 'assistant', systemPrompt: DEFAULT_SYSTEM_PROMPT });
    if ('drop' in example) assert.fail(`${record.id}: ${example.drop}`);
    return example;
  });
  const rows = packExamples(examples, 256, { pack: true, padId: tokenizer.eot });
  const learned = (e: SftExample[]) => e.reduce((sum, x) => sum + x.lossMask.reduce((a, b) => a + b, 0), 0);
  assert.equal(rows.reduce((sum, r) => sum + r.targets.filter((t) => t >= 0).length, 0), learned(examples));
});

test('every preference record is a pair with a right and a wrong answer, in the four formats', () => {
  const records = files.prefs.map((line) => JSON.parse(line));
  const kinds = new Set(records.map((r) => ('prompt' in r ? 'prompt' : 'messages' in r ? 'messages' : 'conversations' in r ? 'sharegpt' : 'hh')));
  assert.equal(kinds.size, 4);
  for (const record of records) {
    const pair = preferencePair(record);
    if (typeof pair === 'string') assert.fail(`${record.id}: ${pair}`);
    assert.notEqual(pair.chosen[0]!.content, pair.rejected[0]!.content);
    const encoded = encodePreference(tokenizer, pair, { maxLen: 256, systemPrompt: DEFAULT_SYSTEM_PROMPT });
    if ('drop' in encoded) assert.fail(`${record.id}: ${encoded.drop}`);
  }
});
