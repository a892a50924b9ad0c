// Training text for `tokenize train`: word-frequency lists (`word<TAB>freq`, or jieba's
// `word freq pos` lines) and JSONL documents, both into PieceCounts.
import { DataError } from '../errors.js';
import type { PieceCounts } from './train.js';

/** Adds each listed word's pieces with the word's frequency; returns the number of words. */
export function readWordList(text: string, source: string, pieces: PieceCounts): number {
  let words = 0;
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo += 1;
    const trimmed = line.replace(/\r$/, '');
    if (trimmed.trim() === '') continue;
    const fields = trimmed.includes('\t') ? trimmed.split('\t') : trimmed.split(' ');
    const [word, freqText] = fields;
    const freq = Number(freqText);
    if (!word || !(freq > 0)) throw new DataError('expected "word<TAB>frequency" (or "word frequency [tag]")', { file: source, line: lineNo });
    pieces.add(word, freq);
    words += 1;
  }
  return words;
}
