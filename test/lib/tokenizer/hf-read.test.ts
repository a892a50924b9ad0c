import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { tokenizerJson } from '../../../lib/tokenizer/hf.js';
import { readTokenizerJson } from '../../../lib/tokenizer/hf-read.js';
import { qwenSpecialTokens } from '../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { QWEN_PATTERN } from '../../../lib/tokenizer/pattern.js';
import { brownParagraphs, chineseSentences } from './helpers.js';

const { dir, cleanup } = tempDir();
after(cleanup);

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

test('tokenizer.json round trip: loom\'s vocabulary → tokenizer.json → the same tokens, specials, pattern and encodings', () => {
  const original = loadVocabulary({ vocab: 'default' });
  const path = writeJson('tokenizer.json', tokenizerJson(original));
  const read = loadVocabulary({ vocab: path });
  assert.equal(read.tokens.length, 151_643);
  assert.deepEqual(read.tokens, original.tokens);
  assert.deepEqual(read.specials, original.specials);
  assert.equal(read.pattern, original.pattern);
  assert.equal(read.nfc, true);
  assert.equal(vocabularyHash(read), vocabularyHash(original), 'the same vocabulary by loom\'s hash');
  const a = new Tokenizer(original), b = new Tokenizer(read);
  try {
    const texts = [...brownParagraphs(1).slice(0, 40), ...chineseSentences(80), 'Mixed 中英文 text, 2024年5月1日 😀 <|im_end|>'];
    let tokens = 0;
    for (const text of texts) {
      const ids = a.encodeOrdinary(text);
      assert.deepEqual(b.encodeOrdinary(text), ids, text.slice(0, 40));
      tokens += ids.length;
    }
    assert.ok(tokens > 3_000, `${tokens} tokens compared`);
  } finally {
    a.free();
    b.free();
  }
  assert.equal(readTokenizerJson(writeJson('no-nfc.json', tokenizerJson(original, { nfc: false }))).nfc, false);
});

/** A small byte-level vocabulary: the 256 bytes, then a few merges, Qwen's specials after them. */
const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
const extra = ['th', 'he', 'the', ' the'].map((s) => new Uint8Array(Buffer.from(s)));
const small: Vocabulary = { name: 'small', tokens: [...bytes, ...extra], specials: qwenSpecialTokens(260, 0), pattern: QWEN_PATTERN };
const smallJson = () => tokenizerJson(small) as { model: { vocab: Record<string, number>; merges: string[] }; pre_tokenizer: unknown; normalizer: unknown; added_tokens: unknown[] };

test('a Qwen2-style tokenizer.json reads as a vocabulary (model.vocab by id, added tokens as specials)', () => {
  const json = smallJson();
  const read = readTokenizerJson(writeJson('small.json', json));
  assert.deepEqual(read.tokens, small.tokens);
  assert.deepEqual(read.specials, { '<|endoftext|>': 260, '<|im_start|>': 261, '<|im_end|>': 262 });
  // an added token that model.vocab also lists stays a special token
  json.model.vocab['<|endoftext|>'] = 260;
  assert.deepEqual(readTokenizerJson(writeJson('listed.json', json)).tokens, small.tokens);
  // merges as [left, right] pairs (tokenizers ≥ 0.20 writes them so)
  const pairs = { ...smallJson(), model: { ...smallJson().model, merges: smallJson().model.merges.map((m) => m.split(' ')) } };
  assert.deepEqual(readTokenizerJson(writeJson('pairs.json', pairs)).tokens, small.tokens);
});

test('tokenizers loom would encode differently with are refused, naming the file and field', () => {
  const refused = (name: string, edit: (json: ReturnType<typeof smallJson>) => void, message: RegExp) => {
    const json = smallJson();
    edit(json);
    const path = writeJson(name, json);
    assert.throws(() => readTokenizerJson(path), (err: Error) => message.test(err.message) && err.message.includes(path), name);
  };
  refused('order.json', (j) => j.model.merges.reverse(), /model\.merges\[\d+\].*not in id order/);
  refused('gap.json', (j) => delete j.model.vocab['he'], /model\.vocab: no token has id 257/);
  refused('char.json', (j) => (j.model.vocab['中'] = 264), /is no byte-level character/);
  refused('lower.json', (j) => (j.normalizer = { type: 'Lowercase' }), /normalizer: "Lowercase"/);
  refused('pre.json', (j) => (j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, use_regex: true }), /pre_tokenizer: not a Split regex/);
  refused('wordpiece.json', (j) => ((j.model as { type?: string }).type = 'WordPiece'), /model\.type: "WordPiece", not BPE/);
});
