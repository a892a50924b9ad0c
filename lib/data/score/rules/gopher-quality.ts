// Gopher's quality rules (Rae et al. 2021, appendix A.1) with datatrove's GopherQualityFilter
// defaults. Chinese: words come from jieba; the mean word length rule is not applied (a Chinese word
// is one to four characters, so 3–10 characters says nothing); the stop words are Chinese ones.
import type { TextView } from '../text-view.js';
import { because, ratio, round4, type QualityRule, type RuleOutcome } from './rule.js';

export const GOPHER_QUALITY_DEFAULTS = {
  minDocWords: 50,
  maxDocWords: 100_000,
  minAvgWordLength: 3,
  maxAvgWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLinesRatio: 0.9,
  maxEllipsisLinesRatio: 0.3,
  minAlphaWordsRatio: 0.8,
  minStopWords: 2,
  stopWords: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'],
  /** loom's choice for Chinese: the most frequent function words. */
  stopWordsZh: ['的', '了', '是', '在', '和', '有', '不', '这'],
};

const LETTER = 1;
const SYMBOL = 2;
let kinds: Uint8Array | undefined;

/**
 * Per BMP code unit: a letter (Python's isalpha), or a symbol (datatrove's PUNCTUATION_SET:
 * punctuation, symbols and control characters; a word made only of these is not a word).
 * A table, built once, because two regular expressions per word cost more than the rest of the rule.
 */
function charKinds(): Uint8Array {
  if (kinds) return kinds;
  kinds = new Uint8Array(0x10000);
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    kinds[c] = /\p{L}/u.test(ch) ? LETTER : /[\p{P}\p{S}\p{C}]/u.test(ch) ? SYMBOL : 0;
  }
  // Surrogates: astral letters (CJK extension B…) count as letters, emoji as symbols — both rare.
  for (let c = 0xd800; c <= 0xdfff; c++) kinds[c] = SYMBOL;
  return kinds;
}

const count = (text: string, needle: string) => {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n += 1;
  return n;
};

export function gopherQuality(opts = GOPHER_QUALITY_DEFAULTS): QualityRule {
  const stopWords = new Set(opts.stopWords);
  const stopWordsZh = new Set(opts.stopWordsZh);
  // Longer words cannot be stop words: skip the set lookup (most words of a text).
  const longestStop = Math.max(...opts.stopWords.map((w) => w.length), ...opts.stopWordsZh.map((w) => w.length));
  return {
    name: 'gopher_quality',
    measure(view: TextView): RuleOutcome {
      const { text, words, lines } = view;
      let contentWords = 0;
      let contentChars = 0;
      let alphaWords = 0;
      let stops = 0;
      const stopSet = view.chinese ? stopWordsZh : stopWords;
      const kind = charKinds();
      for (const w of words) {
        let symbols = 0;
        let letters = 0;
        for (let i = 0; i < w.length; i++) {
          const k = kind[w.charCodeAt(i)]!;
          if (k === SYMBOL) symbols++;
          else if (k === LETTER) letters++;
        }
        if (symbols < w.length) {
          contentWords += 1;
          contentChars += w.length;
        }
        if (letters > 0) alphaWords += 1;
        if (w.length <= longestStop && stopSet.has(w)) stops += 1;
      }
      const meanWordLength = ratio(contentChars, contentWords);
      const hashRatio = ratio(count(text, '#'), words.length);
      const ellipsisRatio = ratio(count(text, '...') + count(text, '…'), words.length);
      let bullets = 0;
      let ellipsisEnds = 0;
      for (const line of lines) {
        const start = line.trimStart();
        if (start.startsWith('•') || start.startsWith('-')) bullets += 1;
        const end = line.trimEnd();
        if (end.endsWith('...') || end.endsWith('…')) ellipsisEnds += 1;
      }
      const bulletLines = ratio(bullets, lines.length);
      const ellipsisLines = ratio(ellipsisEnds, lines.length);
      const alphaRatio = ratio(alphaWords, words.length);
      const scores = {
        gopher_words: contentWords,
        gopher_mean_word_length: round4(meanWordLength),
        gopher_hash_ratio: round4(hashRatio),
        gopher_ellipsis_ratio: round4(ellipsisRatio),
        gopher_bullet_lines: round4(bulletLines),
        gopher_ellipsis_lines: round4(ellipsisLines),
        gopher_alpha_words: round4(alphaRatio),
        gopher_stop_words: stops,
      };
      // The order and names of datatrove's checks: the first failing one is the reason.
      const reason =
        contentWords < opts.minDocWords ? because('gopher_short_doc', contentWords, '<', opts.minDocWords)
        : contentWords > opts.maxDocWords ? because('gopher_long_doc', contentWords, '>', opts.maxDocWords)
        : !view.chinese && meanWordLength < opts.minAvgWordLength ? because('gopher_below_avg_threshold', meanWordLength, '<', opts.minAvgWordLength)
        : !view.chinese && meanWordLength > opts.maxAvgWordLength ? because('gopher_above_avg_threshold', meanWordLength, '>', opts.maxAvgWordLength)
        : hashRatio > opts.maxSymbolWordRatio ? because('gopher_too_many_hashes', hashRatio, '>', opts.maxSymbolWordRatio)
        : ellipsisRatio > opts.maxSymbolWordRatio ? because('gopher_too_many_ellipsis', ellipsisRatio, '>', opts.maxSymbolWordRatio)
        : bulletLines > opts.maxBulletLinesRatio ? because('gopher_too_many_bullets', bulletLines, '>', opts.maxBulletLinesRatio)
        : ellipsisLines > opts.maxEllipsisLinesRatio ? because('gopher_too_many_end_ellipsis', ellipsisLines, '>', opts.maxEllipsisLinesRatio)
        : alphaRatio < opts.minAlphaWordsRatio ? because('gopher_below_alpha_threshold', alphaRatio, '<', opts.minAlphaWordsRatio)
        : stops < opts.minStopWords ? because('gopher_enough_stop_words', stops, '<', opts.minStopWords)
        : undefined;
      return { scores, reason };
    },
  };
}
