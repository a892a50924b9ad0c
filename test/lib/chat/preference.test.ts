import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preferencePair, type PreferencePair } from '../../../lib/chat/formats.js';
import type { Doc } from '../../../lib/io/types.js';
import { encodePreference, type EncodedPair } from '../../../lib/chat/preference.js';
import { DEFAULT_SYSTEM_PROMPT } from '../../../lib/chat/turns.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';

const tokenizer = new Tokenizer(loadVocabulary());
const IM_END = tokenizer.vocab.specials['<|im_end|>']!;
const SYSTEM = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n';

function encode(pair: PreferencePair, maxLen = 512): EncodedPair {
  const encoded = encodePreference(tokenizer, pair, { maxLen, systemPrompt: DEFAULT_SYSTEM_PROMPT });
  if ('drop' in encoded) assert.fail(`dropped: ${encoded.drop}`);
  return encoded;
}

const pairOf = (record: Doc) => {
  const pair = preferencePair(record);
  if (typeof pair === 'string') assert.fail(pair);
  return pair;
};

const decode = (ids: ArrayLike<number>) => tokenizer.decode(ids);

test('both sequences: the shared ChatML prompt, then the response, ending on its <|im_end|>', () => {
  const encoded = encode(pairOf({ prompt: 'Which is longer: "a b" or "a b c"?', chosen: '"a b c"', rejected: '"a b"' }));
  const prompt = `${SYSTEM}<|im_start|>user\nWhich is longer: "a b" or "a b c"?<|im_end|>\n`;
  assert.equal(decode(encoded.chosen), `${prompt}<|im_start|>assistant\n"a b c"<|im_end|>`);
  assert.equal(decode(encoded.rejected), `${prompt}<|im_start|>assistant\n"a b"<|im_end|>`);
  assert.equal(decode(encoded.chosen.subarray(0, encoded.promptLen)), prompt);
  assert.deepEqual(encoded.chosen.subarray(0, encoded.promptLen), encoded.rejected.subarray(0, encoded.promptLen));
  assert.equal(encoded.chosen.at(-1), IM_END);
  assert.equal(encoded.truncated, undefined);
});

test('an hh-rlhf pair: multi-turn prompt, the record\'s own turns after the system prompt', () => {
  const shared = '\n\nHuman: Name a color.\n\nAssistant: Which kind?\n\nHuman: Any.';
  const encoded = encode(pairOf({ chosen: `${shared}\n\nAssistant: Blue.`, rejected: `${shared}\n\nAssistant:` }));
  assert.equal(
    decode(encoded.rejected),
    `${SYSTEM}<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\nWhich kind?<|im_end|>\n<|im_start|>user\nAny.<|im_end|>\n<|im_start|>assistant\n<|im_end|>`,
  );
});

const longPrompt = (): PreferencePair => ({
  prompt: [
    { role: 'user', content: 'First question, which is fairly long and goes on for a while.' },
    { role: 'assistant', content: 'First answer.' },
    { role: 'user', content: 'Second question: what is the word count of "one two three four five six"?' },
  ],
  chosen: [{ role: 'assistant', content: 'Six.' }],
  rejected: [{ role: 'assistant', content: 'Five.' }],
});

test('a long prompt loses its earliest exchanges first', () => {
  const pair = longPrompt();
  const whole = encode(pair);
  const lastExchange = encode({ ...pair, prompt: pair.prompt.slice(2) });
  const cut = encode(pair, whole.chosen.length - 1);
  assert.deepEqual(cut, { ...lastExchange, truncated: true });
});

test('then it is cut from the left, keeping the system turn and the role header', () => {
  const pair = longPrompt();
  const lastExchange = encode({ ...pair, prompt: pair.prompt.slice(2) });
  const maxLen = lastExchange.chosen.length - 5;
  const cut = encode(pair, maxLen);
  assert.ok(cut.chosen.length <= maxLen && cut.rejected.length <= maxLen);
  const prompt = decode(cut.chosen.subarray(0, cut.promptLen));
  assert.ok(prompt.startsWith(`${SYSTEM}<|im_start|>user\n`), prompt);
  assert.ok(prompt.endsWith(' three four five six"?<|im_end|>\n'), prompt);
  assert.ok(!prompt.includes('Second question'), prompt);
  assert.ok(decode(cut.chosen).endsWith('<|im_start|>assistant\nSix.<|im_end|>'));
});

test('a system prompt too long to leave the question a token loses its start too', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`).join(' ');
  const pair = pairOf({ messages: [{ role: 'system', content: words(200) }, { role: 'user', content: 'Which is longer?' }], chosen: 'This one.', rejected: 'That one.' });
  const cut = encode(pair, 128);
  const prompt = decode(cut.chosen.subarray(0, cut.promptLen));
  assert.match(prompt, /^<\|im_start\|>system\n\d* s\d+ s\d+ .* s199<\|im_end\|>\n<\|im_start\|>user\nWhich is longer\?<\|im_end\|>\n$/);
  assert.ok(cut.chosen.length <= 128);
});

test('a response longer than its budget loses its tail but keeps its <|im_end|>', () => {
  const count = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`).join(' ');
  const pair = pairOf({ prompt: 'Count to forty.', chosen: count(40), rejected: 'n1 n2' });
  const whole = encode(pair);
  const maxLen = whole.chosen.length - 4;
  const cut = encode(pair, maxLen);
  assert.equal(cut.chosen.length, maxLen);
  assert.equal(cut.promptLen, whole.promptLen, 'a prompt under half of maxLen is kept whole');
  assert.deepEqual(cut.chosen, Int32Array.of(...whole.chosen.subarray(0, maxLen - 1), IM_END));
  assert.match(decode(cut.chosen), /\nn1 n2 n3 .* n38 n3<\|im_end\|>$/);
  assert.deepEqual(cut.rejected, whole.rejected);
  assert.equal(cut.truncated, true);
});

test('the prompt keeps at least half of maxLen when both sides are long', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
  const encoded = encode(pairOf({ prompt: words(300), chosen: words(300), rejected: 'No. ' + words(200) }), 256);
  assert.ok(encoded.promptLen >= 128, `prompt ${encoded.promptLen} tokens`);
  assert.ok(encoded.chosen.length <= 256 && encoded.rejected.length <= 256);
  assert.equal(encoded.chosen.at(-1), IM_END);
  assert.equal(encoded.rejected.at(-1), IM_END);
});

test('pairs that become the same tokens once cut are dropped', () => {
  const shared = 'one two three four five six seven '.repeat(10);
  const pair = pairOf({ prompt: 'Count.', chosen: shared + 'eight', rejected: shared + 'nine' });
  const result = encodePreference(tokenizer, pair, { maxLen: encode(pair).chosen.length - 3, systemPrompt: DEFAULT_SYSTEM_PROMPT });
  assert.ok('drop' in result && /^chosen and rejected are the same tokens once cut to max-len \d+$/.test(result.drop), JSON.stringify(result));
});
