// C4's rules (Raffel et al. 2020) with datatrove's C4QualityFilter defaults. C4 keeps only some
// lines and drops a page with too few sentences left; loom scores the fraction of lines that would
// be kept and the sentences in them, and flags the page-level failures (lorem ipsum, a curly
// bracket, fewer than 5 sentences). Lines are never rewritten: `score` annotates.
// Chinese: Chinese terminal punctuation (。！？”」) ends a line too, "……" counts as an ellipsis,
// words per line come from jieba (a Chinese line has no spaces to split on), and sentences are
// counted at 。！？.
import { wordsOf } from '../text-view.js';
import type { TextView } from '../text-view.js';
import { because, ratio, round4, type QualityRule, type RuleOutcome } from './rule.js';

export const C4_DEFAULTS = {
  minSentences: 5,
  minWordsPerLine: 3,
  maxWordLength: 1000,
  policySubstrings: ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'],
};

const CITATION = /\[\d*]|\[edit]|\[citation needed]/g;
const END_PUNCTUATION = ['.', '?', '!', '"', "'"];
const END_PUNCTUATION_ZH = [...END_PUNCTUATION, '。', '？', '！', '”', '’', '」', '』'];

// Sentence ends as punkt finds them in most prose: . ! ? (and closing quotes) before a space and a
// capital, a digit or a quote, or at the end of the line; a few abbreviations do not end sentences.
const SENTENCE_END = /[.!?]+["')\]’”]*(?=\s+["'(\[‘“]?[\p{Lu}\p{N}]|\s*$)/gu;
const ABBREVIATION = /(?:^|\s)(?:mr|mrs|ms|dr|st|jr|sr|vs|etc|prof|gen|col|lt|sgt|rev|inc|co|no|mt|ft|e\.g|i\.e|[a-z])\.$/i;
const SENTENCE_END_ZH = /[。！？!?]+[”’」』]*/g;

/** Sentences in one line: at least one, since the line was kept. */
export function countSentences(line: string, chinese: boolean): number {
  let n = 0;
  if (chinese) {
    for (const m of line.matchAll(SENTENCE_END_ZH)) if (m.index! + m[0].length <= line.length) n += 1;
  } else {
    for (const m of line.matchAll(SENTENCE_END)) if (!ABBREVIATION.test(line.slice(Math.max(0, m.index! - 6), m.index! + 1))) n += 1;
  }
  return Math.max(n, 1);
}

/** Python's `len(line.split())` and the longest of those words, without building them. */
function spaceSplit(line: string): { words: number; longest: number } {
  let words = 0;
  let longest = 0;
  let run = 0;
  for (let i = 0; i <= line.length; i++) {
    const c = i < line.length ? line.charCodeAt(i) : 32;
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x85 || (c >= 0x1c && c <= 0x1f);
    if (!space) run++;
    else if (run > 0) {
      words++;
      if (run > longest) longest = run;
      run = 0;
    }
  }
  return { words, longest };
}

export function c4(opts = C4_DEFAULTS): QualityRule {
  return {
    name: 'c4',
    measure(view: TextView): RuleOutcome {
      const endings = view.chinese ? END_PUNCTUATION_ZH : END_PUNCTUATION;
      let kept = 0;
      let sentences = 0;
      let reason: string | undefined;
      for (const raw of view.lines) {
        let line = raw.trim();
        const split = spaceSplit(line);
        if (split.longest > opts.maxWordLength) continue;
        line = line.replace(CITATION, '');
        if (!endings.some((e) => line.endsWith(e)) || line.endsWith('...') || line.endsWith('……')) continue;
        if ((view.chinese ? wordsOf(line, true).length : split.words) < opts.minWordsPerLine) continue;
        const lower = line.toLowerCase();
        if (lower.includes('lorem ipsum')) {
          reason ??= 'lorem_ipsum';
          continue;
        }
        if (lower.includes('javascript')) continue;
        if (line.includes('{')) {
          reason ??= 'curly_bracket';
          continue;
        }
        if (opts.policySubstrings.some((p) => lower.includes(p))) continue;
        sentences += countSentences(line, view.chinese);
        kept += 1;
      }
      if (!reason && sentences < opts.minSentences) reason = because('too_few_sentences', sentences, '<', opts.minSentences);
      return { scores: { c4_kept_lines: round4(ratio(kept, view.lines.length)), c4_sentences: sentences }, reason };
    },
  };
}
