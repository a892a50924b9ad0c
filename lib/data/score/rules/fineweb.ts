// FineWeb's own rules (Penedo et al. 2024) with datatrove's FineWebQualityFilter defaults: too few
// lines ending in punctuation, too many short lines, duplicated line characters, too many lines
// per word (lists). Chinese: Chinese sentence-final punctuation ends a line too, and a short line
// is at most 10 characters instead of 30 (loom's choice: a Chinese character carries about as much
// as three English ones), and words come from jieba.
import type { TextView } from '../text-view.js';
import { because, findDuplicates, ratio, round4, type QualityRule, type RuleOutcome } from './rule.js';

export const FINEWEB_DEFAULTS = {
  linePunctThr: 0.12,
  linePunctExcludeZero: false,
  shortLineThr: 0.67,
  shortLineLength: 30,
  shortLineLengthZh: 10,
  charDuplicatesRatio: 0.01,
  newLineRatio: 0.3,
};

const STOP_CHARS = ['.', "'", '"', '!', '?'];
const STOP_CHARS_ZH = [...STOP_CHARS, '。', '！', '？', '”', '」', '…'];

export function fineweb(opts = FINEWEB_DEFAULTS): QualityRule {
  return {
    name: 'fineweb',
    measure(view: TextView): RuleOutcome {
      const { text } = view;
      // datatrove splits on "\n" alone; blank lines are left out as everywhere (TextView.lines).
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      const stops = view.chinese ? STOP_CHARS_ZH : STOP_CHARS;
      const shortLength = view.chinese ? opts.shortLineLengthZh : opts.shortLineLength;
      let punctuated = 0;
      let short = 0;
      for (const line of lines) {
        if (stops.some((c) => line.endsWith(c))) punctuated += 1;
        if (line.length <= shortLength) short += 1;
      }
      const punctRatio = ratio(punctuated, lines.length);
      const shortRatio = ratio(short, lines.length);
      const newlines = Math.max(lines.length - 1, 0);
      let newlineChars = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlineChars += 1;
      const dupRatio = ratio(findDuplicates(lines).chars, text.length - newlineChars);
      const listRatio = ratio(newlines, view.words.length);
      const scores = {
        fineweb_line_punct_ratio: round4(punctRatio),
        fineweb_short_line_ratio: round4(shortRatio),
        fineweb_char_dup_ratio: round4(dupRatio),
        fineweb_list_ratio: round4(listRatio),
      };
      const reason =
        punctRatio <= opts.linePunctThr && !(punctRatio === 0 && opts.linePunctExcludeZero) ? because('line_punct_ratio', punctRatio, '≤', opts.linePunctThr)
        : shortRatio >= opts.shortLineThr ? because('short_line_ratio', shortRatio, '≥', opts.shortLineThr)
        : dupRatio >= opts.charDuplicatesRatio ? because('char_dup_ratio', dupRatio, '≥', opts.charDuplicatesRatio)
        : listRatio > opts.newLineRatio ? because('list_ratio', listRatio, '>', opts.newLineRatio)
        : undefined;
      return { scores, reason };
    },
  };
}
