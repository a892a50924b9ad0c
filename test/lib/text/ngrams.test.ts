import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashBuffer, isCjkLanguage, ngramUnitFor, ngramUnits, ngrams, shingleHashes } from '../../../lib/text/ngrams.js';

const hashes = (text: string, n: number, unit: 'word' | 'char') => {
  const out = new HashBuffer();
  const count = shingleHashes(text, n, unit, out);
  return Array.from(out.data.subarray(0, count));
};

test('word units are lowercased and stripped of punctuation and spacing', () => {
  assert.deepEqual(ngramUnits('Hello, World!  It’s   café-time…\n42', 'word'), ['hello', 'world', 'it', 's', 'café', 'time', '42']);
  assert.deepEqual(ngrams('a b c d', 2, 'word'), ['a b', 'b c', 'c d']);
});

test('a text shorter than n gives one shingle of everything; an empty text none', () => {
  assert.deepEqual(ngrams('only three words', 5, 'word'), ['only three words']);
  assert.deepEqual(ngrams(' ,.; ', 5, 'word'), []);
  assert.equal(hashes('only three words', 5, 'word').length, 1);
  assert.equal(hashes('!!!', 5, 'word').length, 0);
});

test('character n-grams drop punctuation and spaces and count code points (astral too)', () => {
  assert.deepEqual(ngrams('北京，是 首都。', 3, 'char'), ['北京是', '京是首', '是首都']);
  assert.deepEqual(ngramUnits('𠀀中 A', 'char'), ['𠀀', '中', 'a']);
  assert.equal(hashes('𠀀中国人民', 2, 'char').length, 4);
});

test('hashes match the string n-grams one for one and ignore case and punctuation', () => {
  const text = 'The quick brown fox jumps over the lazy dog near the river bank.';
  assert.equal(hashes(text, 5, 'word').length, ngrams(text, 5, 'word').length);
  assert.deepEqual(hashes(text, 5, 'word'), hashes(text.toUpperCase().replace(/ /g, ' , '), 5, 'word'));
  const a = hashes(text, 5, 'word');
  const b = hashes(text.replace('lazy', 'sleepy'), 5, 'word');
  // One changed word changes exactly the 5 shingles that contain it.
  assert.equal(a.filter((h) => !b.includes(h)).length, 5);
  assert.equal(new Set(hashes('a b c d e f g', 3, 'word')).size, 5);
});

test('the unit is chosen from lang first, else from the script', () => {
  assert.ok(isCjkLanguage('zh') && isCjkLanguage('zh-Hant') && isCjkLanguage('ja') && isCjkLanguage('ko_KR'));
  assert.ok(!isCjkLanguage('en') && !isCjkLanguage(undefined));
  assert.equal(ngramUnitFor('北京是中国的首都', undefined), 'char');
  assert.equal(ngramUnitFor('東京は日本の首都です', undefined), 'char');
  assert.equal(ngramUnitFor('서울은 한국의 수도입니다', undefined), 'char');
  assert.equal(ngramUnitFor('Beijing (北京) is the capital of the People’s Republic of China and a big city', undefined), 'word');
  assert.equal(ngramUnitFor('北京是中国的首都', 'en'), 'word');
  assert.equal(ngramUnitFor('Romanized text', 'zh'), 'char');
});
