import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QWEN_PATTERN } from '../../../lib/tokenizer/pattern.js';
import { readWordList } from '../../../lib/tokenizer/corpus.js';
import { checkTraining, PieceCounts, trainMerges } from '../../../lib/tokenizer/train.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary, type Vocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { qwenSpecialTokens } from '../../../lib/tokenizer/special.js';
import { brownParagraphs, jiebaLines } from './helpers.js';

/** A vocabulary of the 256 bytes plus `extra` tokens. */
function byteVocabulary(extra: string[] = []): Vocabulary {
  const tokens = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  for (const s of extra) tokens.push(new Uint8Array(Buffer.from(s, 'latin1')));
  return { name: 'bytes', tokens, specials: qwenSpecialTokens(tokens.length), pattern: QWEN_PATTERN };
}

/** Reference trainer: replays all merges and recounts every pair from scratch at each step. */
function naiveMerges(pieces: PieceCounts, base: Vocabulary, merges: number): string[] {
  const strings = base.tokens.map((t) => Buffer.from(t).toString('latin1'));
  const rank = new Map(strings.map((s, i) => [s, i]));
  const words = [...pieces.counts].map(([piece, weight]) => ({ seq: Array.from(Buffer.from(piece, 'utf8').toString('latin1')), weight }));
  const learned: string[] = [];
  for (let step = 0; step < merges; step++) {
    for (const word of words) {
      // tiktoken's rule: merge the lowest-ranked adjacent pair that forms a token, leftmost first.
      for (;;) {
        let best = Infinity;
        let at = -1;
        for (let i = 0; i + 1 < word.seq.length; i++) {
          const r = rank.get(word.seq[i]! + word.seq[i + 1]!);
          if (r !== undefined && r < best) [best, at] = [r, i];
        }
        if (at < 0) break;
        word.seq.splice(at, 2, word.seq[at]! + word.seq[at + 1]!);
      }
    }
    const counts = new Map<string, number>();
    for (const word of words) for (let i = 0; i + 1 < word.seq.length; i++) counts.set(word.seq[i]! + word.seq[i + 1]!, (counts.get(word.seq[i]! + word.seq[i + 1]!) ?? 0) + word.weight);
    const [key] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [];
    if (key === undefined) break;
    rank.set(key, strings.length + learned.length);
    learned.push(key);
  }
  return learned;
}

test('incremental pair counting learns exactly the merges of a full recount', () => {
  const base = byteVocabulary();
  const pieces = new PieceCounts(QWEN_PATTERN);
  for (const paragraph of brownParagraphs(1).slice(0, 40)) pieces.add(paragraph);
  for (const line of jiebaLines(300, 5000)) {
    const [word, freq] = line.split(' ');
    pieces.add(word!, Number(freq));
  }
  const result = trainMerges(pieces, base, { merges: 150, minFrequency: 1 });
  const learned = result.tokens.slice(256).map((t) => Buffer.from(t).toString('latin1'));
  assert.equal(result.added, 150);
  assert.deepEqual(learned, naiveMerges(pieces, base, 150));
});

test('extension on the Qwen base from a word list: new tokens split in two, tiktoken agrees', () => {
  const base = loadVocabulary({ vocab: 'base' });
  const pieces = new PieceCounts(base.pattern);
  const words = readWordList(jiebaLines(20_000).join('\n'), 'dict.txt', pieces);
  assert.equal(words, 20_000);
  const started = performance.now();
  const result = trainMerges(pieces, base, { merges: 2000 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.added, 2000);
  assert.equal(result.tokens.length, base.tokens.length + 2000);
  assert.deepEqual(checkTraining(result, pieces, base), { mismatches: 0, unsplittable: 0 });
  assert.ok(seconds < 20, `${seconds.toFixed(1)} s for 2000 merges`);
  // Deterministic: the same corpus gives the same vocabulary.
  assert.deepEqual(trainMerges(pieces, base, { merges: 2000 }).tokens.slice(-50), result.tokens.slice(-50));
  // The new tokens compress the words they came from.
  const trained = new Tokenizer({ ...base, tokens: result.tokens, specials: qwenSpecialTokens(result.tokens.length), rankText: undefined });
  const before = new Tokenizer(base);
  try {
    const sample = jiebaLines(2000).map((l) => l.split(' ')[0]!).join('');
    assert.ok(trained.encodeOrdinary(sample).length < 0.8 * before.encodeOrdinary(sample).length);
  } finally {
    trained.free();
    before.free();
  }
});

test('a merge after which tiktoken would cascade into a lower-ranked token is refused', () => {
  // "abc" is a token but neither "ab" nor "bc" is: merging either in "abcd" would make tiktoken
  // go on to "abc"; "cd", then "bcd", then "abcd" are safe.
  const base = byteVocabulary(['abc']);
  const pieces = new PieceCounts(QWEN_PATTERN);
  pieces.add('abcd', 10);
  const result = trainMerges(pieces, base, { merges: 5 });
  assert.equal(result.refused, 2);
  assert.deepEqual(result.tokens.slice(257).map((t) => Buffer.from(t).toString('latin1')), ['cd', 'bcd', 'abcd']);
  assert.equal(result.stoppedBecause, 'no-pairs');
  assert.deepEqual(checkTraining(result, pieces, base), { mismatches: 0, unsplittable: 0 });
});

test('word lists: tab or space separated; bad lines are reported with file:line', () => {
  const pieces = new PieceCounts(QWEN_PATTERN);
  assert.equal(readWordList('中国\t100\n人民 50 n\n\n', 'w.tsv', pieces), 2);
  assert.equal(pieces.counts.get('中国'), 100);
  assert.throws(() => readWordList('ok 1\nbroken\n', 'w.tsv', pieces), /w\.tsv:2: expected/);
});
