import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countReplacementChars, emptyNormalizeStats, normalizeText } from '../../../lib/text/normalize.js';

test('composes to NFC', () => {
  const decomposed = 'Cafe\u0301 cre\u0300me';
  assert.equal(normalizeText(decomposed), 'Café crème');
  assert.equal(normalizeText(decomposed).length, 'Café crème'.length);
});

test('unifies spaces and line breaks, trims lines, keeps one blank line between paragraphs', () => {
  const text = '  Title\u00A0\u00A0here \r\n\r\n\r\n\r\nFirst\tparagraph\u3000with  spaces.\u2028Second line\n\n\n\nNext paragraph.  ';
  assert.equal(normalizeText(text), 'Title here\n\nFirst paragraph with spaces.\nSecond line\n\nNext paragraph.');
});

test('removes control and invisible format characters and counts them', () => {
  const stats = emptyNormalizeStats();
  const text = 'a\u0000b\u0007c\u200Bd\uFEFFe\u0085f\u009Bg\u00ADh';
  assert.equal(normalizeText(text, stats), 'abcde\nfgh');
  assert.equal(stats.controls, 6);
});

test('replaces lone surrogates (broken UTF-16) and counts them as invalid', () => {
  const stats = emptyNormalizeStats();
  assert.equal(normalizeText('ok \uD800 and \uDC00 but 😀 stays', stats), 'ok \uFFFD and \uFFFD but 😀 stays');
  assert.equal(stats.loneSurrogates, 2);
});

test('counts replacement characters', () => {
  assert.equal(countReplacementChars('a\uFFFDb\uFFFD\uFFFD'), 3);
  assert.equal(countReplacementChars('clean'), 0);
});
