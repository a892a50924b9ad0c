import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanWordF1, shingleCounts, shingleF1, wordF1, wordTokens } from '../../../../lib/data/extract/scoring.js';

test('tokens are runs of letters, digits and underscores in any script, lowercased for word F1', () => {
  assert.deepEqual(wordTokens("Don't PANIC: snake_case 42 Größe 中文", true), ['don', 't', 'panic', 'snake_case', '42', 'größe', '中文']);
  assert.deepEqual(wordTokens('Big Cat', false), ['Big', 'Cat']);
});

test('word F1 counts shared words with multiplicity, as WCXB does', () => {
  // pred: a a b c (4), ref: a b b d (4); shared: a, b = 2
  const s = wordF1('a a b c', 'A b b d');
  assert.equal(s.precision, 0.5);
  assert.equal(s.recall, 0.5);
  assert.equal(s.f1, 0.5);
  assert.deepEqual(wordF1('', ''), { precision: 1, recall: 1, f1: 1 });
  assert.deepEqual(wordF1('something', ''), { precision: 0, recall: 0, f1: 0 });
  assert.deepEqual(wordF1('', 'reference'), { precision: 0, recall: 0, f1: 0 });
  assert.equal(meanWordF1([wordF1('a', 'a'), wordF1('', 'a')]).f1, 0.5);
});

test('4-gram shingle counts are normalized per page and F1 is the harmonic mean of mean precision and recall', () => {
  // ref shingles: [1 2 3 4] [2 3 4 5]; pred: [1 2 3 4] [2 3 4 9] → tp 1, fp 1, fn 1
  const page = shingleCounts('1 2 3 4 9', '1 2 3 4 5');
  assert.deepEqual(page, { tp: 1 / 3, fp: 1 / 3, fn: 1 / 3 });
  // Case matters for shingles; a text shorter than 4 tokens is one shingle.
  assert.deepEqual(shingleCounts('a b', 'A b'), { tp: 0, fp: 0.5, fn: 0.5 });
  assert.deepEqual(shingleCounts('a b', 'a b'), { tp: 1, fp: 0, fn: 0 });
  const f = shingleF1([page, { tp: 1, fp: 0, fn: 0 }]);
  assert.equal(f.precision, 0.75);
  assert.equal(f.recall, 0.75);
  assert.ok(Math.abs(f.f1 - 0.75) < 1e-12);
});
