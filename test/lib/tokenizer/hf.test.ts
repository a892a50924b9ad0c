import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { byteToUnicode, eosToken, exportHuggingFace, generationConfig, mergesOf, stopTokenIds, tokenizerConfig } from '../../../lib/tokenizer/hf.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { forEachPiece, toJsRegExp } from '../../../lib/tokenizer/pattern.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { brownParagraphs, chineseSentences } from './helpers.js';

const tokenizer = Tokenizer.load({ vocab: 'default' });
after(() => tokenizer.free());

/** Hugging Face's BPE model, as tokenizers runs it: lowest merge index first, leftmost on ties. */
function mergesBpe(piece: string[], merges: Map<string, number>): string[] {
  const parts = [...piece];
  for (;;) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = merges.get(`${parts[i]} ${parts[i + 1]}`);
      if (rank !== undefined && rank < best) [best, at] = [rank, i];
    }
    if (at < 0) return parts;
    parts.splice(at, 2, parts[at]! + parts[at + 1]!);
  }
}

test('byte-level table: GPT-2 stand-ins (space Ġ, newline Ċ), a bijection on 256 bytes', () => {
  const table = byteToUnicode();
  assert.equal(table[0x20], 'Ġ');
  assert.equal(table[0x0a], 'Ċ');
  assert.equal(table[0x41], 'A');
  assert.equal(new Set(table).size, 256);
});

test('the merges list reproduces loom ids under Hugging Face BPE rules', () => {
  const table = byteToUnicode();
  const merges = new Map(mergesOf(tokenizer.vocab).map(([a, b], i) => [`${a} ${b}`, i]));
  const vocab = new Map(tokenizer.vocab.tokens.map((token, id) => [Array.from(token, (b) => table[b]).join(''), id]));
  const regex = toJsRegExp(tokenizer.vocab.pattern);
  const texts = [...brownParagraphs(1).slice(0, 60), ...chineseSentences(120), 'Mixed 中英文 text, 2024年5月1日 at 10:30 😀\n\n  indented'];
  let tokens = 0;
  for (const raw of texts) {
    const text = raw.normalize('NFC');
    const ids: number[] = [];
    forEachPiece(regex, text, (start, end) => {
      const chars = Array.from(Buffer.from(text.slice(start, end)), (b) => table[b]!);
      const whole = vocab.get(chars.join(''));
      if (whole !== undefined) ids.push(whole);
      else for (const part of mergesBpe(chars, merges)) ids.push(vocab.get(part)!);
    });
    assert.deepEqual(ids, Array.from(tokenizer.encodeOrdinary(raw)), raw.slice(0, 40));
    tokens += ids.length;
  }
  assert.ok(tokens > 5_000, `${tokens} tokens`);
});

test('export writes tokenizer.json (NFC, Qwen split regex, byte-level BPE) and tokenizer_config.json', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  exportHuggingFace(tokenizer.vocab, dir);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.type, 'BPE');
  assert.equal(Object.keys(json.model.vocab).length, 151_643);
  assert.equal(json.model.vocab['Hello'], 9707);
  assert.equal(json.normalizer.type, 'NFC');
  assert.equal(json.pre_tokenizer.pretokenizers[0].pattern.Regex, tokenizer.vocab.pattern);
  assert.deepEqual(json.added_tokens.slice(0, 3).map((a: { content: string; id: number }) => [a.content, a.id]), [['<|endoftext|>', 151_643], ['<|im_start|>', 151_644], ['<|im_end|>', 151_645]]);
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(config.tokenizer_class, 'PreTrainedTokenizerFast');
  assert.match(config.chat_template, /<\|im_start\|>/);
});

test('end of sequence: tokenizer_config.json\'s eos_token, generation_config.json\'s stop ids (<|im_end|> when there is one)', () => {
  const ids = tokenizer.vocab.specials;
  assert.equal(eosToken(tokenizer.vocab), '<|im_end|>');
  assert.deepEqual(generationConfig(tokenizer.vocab), { bos_token_id: ids['<|endoftext|>'], eos_token_id: [ids['<|im_end|>'], ids['<|endoftext|>']], pad_token_id: ids['<|endoftext|>'] });
  const cl100k = loadVocabulary({ vocab: 'cl100k' });
  assert.equal(eosToken(cl100k), '<|endoftext|>');
  assert.deepEqual(stopTokenIds(cl100k), [100_257], 'no <|im_end|> in cl100k');
  assert.equal((tokenizerConfig(cl100k, 8) as { eos_token: string }).eos_token, '<|endoftext|>');
});
