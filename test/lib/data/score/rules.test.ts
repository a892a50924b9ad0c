// One test per rule family, on constructed English and Chinese documents: the published defaults
// (datatrove's), each reason, and what the rule does differently for Chinese.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownParagraphs, udhrArticles } from '../../../../examples/quickstart/make-warc.js';
import { c4, C4_DEFAULTS, countSentences } from '../../../../lib/data/score/rules/c4.js';
import { fineweb, FINEWEB_DEFAULTS } from '../../../../lib/data/score/rules/fineweb.js';
import { gopherQuality, GOPHER_QUALITY_DEFAULTS } from '../../../../lib/data/score/rules/gopher-quality.js';
import { gopherRepetition, GOPHER_REPETITION_DEFAULTS } from '../../../../lib/data/score/rules/gopher-repetition.js';
import { splitLines, TextView } from '../../../../lib/data/score/text-view.js';

const en = (text: string) => new TextView(text, false);
const zh = (text: string) => new TextView(text, true);
const reasonName = (reason: string | undefined) => reason?.split(':')[0];

const prose = brownParagraphs('ca01').slice(0, 6).join('\n');
const chinese = udhrArticles('cmn_hans').slice(1, 6).flatMap((a) => a.paragraphs).join('\n');
const words = (n: number, word: (i: number) => string) => Array.from({ length: n }, (_, i) => word(i)).join(' ');

test('Python splitlines semantics: every break, no empty last line', () => {
  assert.deepEqual(splitLines('a\r\nb\rc\u2028d\n'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(splitLines('a\n\nb'), ['a', '', 'b']);
  assert.deepEqual(splitLines(''), []);
});

test('blank lines between paragraphs (loom extract\'s format) are not lines: no rule flags them', () => {
  const paragraphs = brownParagraphs('ca04').slice(0, 8);
  const blank = en(paragraphs.join('\n\n'));
  const single = en(paragraphs.join('\n'));
  assert.equal(blank.lines.length, 8);
  for (const rule of [gopherQuality(), gopherRepetition(), c4(), fineweb()]) {
    const a = rule.measure(blank);
    const b = rule.measure(single);
    assert.equal(a.reason, undefined, `${rule.name}: ${a.reason}`);
    for (const key of Object.keys(a.scores).filter((k) => !k.includes('para') && !k.includes('gram'))) assert.equal(a.scores[key], b.scores[key], `${rule.name} ${key}`);
  }
});

test('gopher_quality: datatrove defaults and each reason, English and Chinese', () => {
  assert.deepEqual(
    { ...GOPHER_QUALITY_DEFAULTS, stopWordsZh: undefined },
    { minDocWords: 50, maxDocWords: 100_000, minAvgWordLength: 3, maxAvgWordLength: 10, maxSymbolWordRatio: 0.1, maxBulletLinesRatio: 0.9, maxEllipsisLinesRatio: 0.3, minAlphaWordsRatio: 0.8, minStopWords: 2, stopWords: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'], stopWordsZh: undefined },
  );
  const rule = gopherQuality();
  const good = rule.measure(en(prose));
  assert.equal(good.reason, undefined);
  assert.ok(good.scores.gopher_words! > 150 && good.scores.gopher_stop_words! > 20);
  assert.equal(reasonName(rule.measure(en('Hello world, this is short.')).reason), 'gopher_short_doc');
  assert.equal(reasonName(rule.measure(en(words(60, () => 'a'))).reason), 'gopher_below_avg_threshold');
  assert.equal(reasonName(rule.measure(en(words(60, () => 'internationalization'))).reason), 'gopher_above_avg_threshold');
  assert.equal(reasonName(rule.measure(en(`${words(60, (i) => (i % 5 === 0 ? 'the #tag' : 'word'))}`)).reason), 'gopher_too_many_hashes');
  assert.equal(reasonName(rule.measure(en(words(60, (i) => (i % 4 === 0 ? 'the… and' : 'word')))).reason), 'gopher_too_many_ellipsis');
  assert.equal(reasonName(rule.measure(en(Array.from({ length: 10 }, () => 'the quick brown fox jumps over the lazy dog...').join('\n'))).reason), 'gopher_too_many_end_ellipsis');
  assert.equal(reasonName(rule.measure(en(Array.from({ length: 10 }, () => '• the quick brown fox jumps over the lazy dog').join('\n'))).reason), 'gopher_too_many_bullets');
  assert.equal(reasonName(rule.measure(en(words(60, (i) => (i % 2 ? 'the' : '12345')))).reason), 'gopher_below_alpha_threshold');
  assert.equal(rule.measure(en(words(60, (i) => (i % 2 ? 'the' : '12345')))).scores.gopher_alpha_words, 0.5);
  assert.equal(reasonName(rule.measure(en(words(60, () => 'quick brown foxes'))).reason), 'gopher_enough_stop_words');
  // Stop words are matched as datatrove matches them: case-sensitively.
  assert.equal(rule.measure(en('The The')).scores.gopher_stop_words, 0);

  // Chinese: jieba words, Chinese stop words, and no mean-word-length rule (1.8 characters here).
  const zhGood = rule.measure(zh(chinese));
  assert.equal(zhGood.reason, undefined);
  assert.ok(zhGood.scores.gopher_mean_word_length! < 3 && zhGood.scores.gopher_stop_words! >= 2);
  assert.equal(reasonName(rule.measure(zh('人人生而自由，在尊严和权利上一律平等。')).reason), 'gopher_short_doc');
  assert.equal(reasonName(rule.measure(zh('苹果香蕉橘子葡萄西瓜'.repeat(20))).reason), 'gopher_enough_stop_words');
});

test('gopher_repetition: datatrove defaults, each kind of repetition, Chinese n-gram lengths', () => {
  assert.deepEqual(GOPHER_REPETITION_DEFAULTS, {
    dupLineFrac: 0.3, dupParaFrac: 0.3, dupLineCharFrac: 0.2, dupParaCharFrac: 0.2,
    topNGrams: [[2, 0.2], [3, 0.18], [4, 0.16]],
    dupNGrams: [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]],
  });
  const rule = gopherRepetition();
  assert.equal(rule.measure(en(prose)).reason, undefined);
  const para = brownParagraphs('ca02')[0]!;
  const paras = rule.measure(en([para, para, para, para].join('\n\n')));
  assert.equal(reasonName(paras.reason), 'dup_para_frac');
  assert.equal(paras.scores.gopher_dup_para_frac, 0.75);
  const lines = rule.measure(en(['The first line is here.', 'A repeated line.', 'A repeated line.', 'A repeated line.', 'The last line is here.'].join('\n')));
  assert.equal(reasonName(lines.reason), 'dup_line_frac');
  assert.equal(lines.scores.gopher_dup_line_frac, 0.4);
  assert.equal(reasonName(rule.measure(en(words(100, () => 'buy now'))).reason), 'top_2_gram');
  // Distinct words, then the first 60 again: repeated 5-grams, nothing else.
  const distinct = words(100, (i) => `w${i}`);
  const repeated = rule.measure(en(`${distinct} ${words(60, (i) => `w${i}`)}`));
  assert.equal(reasonName(repeated.reason), 'duplicated_5_n_grams');
  // "a b c d e" seen again at word 5: its 9 characters of 19 are repeated.
  assert.equal(rule.measure(en('a b c d e a b c d e')).scores.gopher_dup_5gram, 0.4737);

  // Chinese: jieba words, and an n-gram is as long as its characters (no joining spaces):
  // 我们×4 → top 2-gram 我们我们 (4 characters) × 3 occurrences over 8 characters.
  assert.equal(rule.measure(zh('我们我们我们我们')).scores.gopher_top_2gram, 1.5);
  const zhLines = rule.measure(zh(['人人生而自由。', '人人生而自由。', '人人生而自由。', '他们赋有理性和良心。'].join('\n')));
  assert.equal(reasonName(zhLines.reason), 'dup_line_frac');
  assert.equal(rule.measure(zh(chinese)).reason, undefined);
});

test('c4: datatrove defaults, line rules and page rules, Chinese punctuation and words', () => {
  assert.deepEqual(C4_DEFAULTS, { minSentences: 5, minWordsPerLine: 3, maxWordLength: 1000, policySubstrings: ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'] });
  const rule = c4();
  const good = rule.measure(en(prose));
  assert.equal(good.reason, undefined);
  assert.equal(good.scores.c4_kept_lines, 1);
  const sentences = ['The council met on Monday.', 'It voted to close the road.', 'Residents were not pleased.', 'They will protest next week.', 'The mayor has not replied.'];
  assert.equal(rule.measure(en(sentences.join('\n'))).reason, undefined);
  // Lines without terminal punctuation, with too few words, about javascript or cookies are not kept.
  const noisy = rule.measure(en([...sentences.slice(0, 4), 'Home', 'Read more', 'Please enable JavaScript to view the comments.', 'This site uses cookies to work.', 'Ends with an ellipsis...'].join('\n')));
  assert.equal(reasonName(noisy.reason), 'too_few_sentences');
  assert.equal(noisy.scores.c4_sentences, 4);
  assert.equal(noisy.scores.c4_kept_lines, 0.4444);
  assert.equal(rule.measure(en([...sentences, 'Lorem ipsum dolor sit amet.'].join('\n'))).reason, 'lorem_ipsum');
  assert.equal(rule.measure(en([...sentences, 'function f() { return 1; }.'].join('\n'))).reason, 'curly_bracket');
  // Wikipedia citations are removed before the terminal punctuation is checked.
  assert.equal(rule.measure(en(sentences.map((s) => `${s}[12]`).join('\n'))).reason, undefined);
  assert.equal(countSentences('Mr. Smith went to Washington. He was tired. Then he slept.', false), 3);

  // Chinese: 。 ends a line, jieba counts the words of a spaceless line, sentences end at 。！？.
  const zhSentences = ['人人生而自由，在尊严和权利上一律平等。', '他们赋有理性和良心。', '并应以兄弟关系的精神相对待！', '人人有资格享有本宣言所载的一切权利和自由。', '不分种族、肤色、性别、语言、宗教。'];
  const zhGood = rule.measure(zh(zhSentences.join('\n')));
  assert.equal(zhGood.reason, undefined);
  assert.equal(zhGood.scores.c4_sentences, 5);
  assert.equal(reasonName(rule.measure(zh([...zhSentences.slice(0, 3), '首页', '返回顶部……'].join('\n'))).reason), 'too_few_sentences');
  assert.equal(countSentences('今天天气很好。我们去公园散步！你去吗？', true), 3);
});

test('fineweb: datatrove defaults and each reason; Chinese punctuation and short lines', () => {
  assert.deepEqual({ ...FINEWEB_DEFAULTS, shortLineLengthZh: undefined }, { linePunctThr: 0.12, linePunctExcludeZero: false, shortLineThr: 0.67, shortLineLength: 30, shortLineLengthZh: undefined, charDuplicatesRatio: 0.01, newLineRatio: 0.3 });
  const rule = fineweb();
  assert.equal(rule.measure(en(prose)).reason, undefined);
  assert.equal(reasonName(rule.measure(en(['Home', 'World news today', 'Sports and more', 'Contact us'].join('\n'))).reason), 'line_punct_ratio');
  const short = rule.measure(en(Array.from({ length: 10 }, (_, i) => `Yes, it is number ${i}.`).join('\n')));
  assert.equal(reasonName(short.reason), 'short_line_ratio');
  assert.equal(short.scores.fineweb_short_line_ratio, 1);
  const line = 'This sentence is long enough to count as a full line of prose.';
  const dup = rule.measure(en([line, ...brownParagraphs('ca03').slice(0, 3), line].join('\n')));
  assert.equal(reasonName(dup.reason), 'char_dup_ratio');
  const list = rule.measure(en(Array.from({ length: 10 }, (_, i) => `Supercalifragilisticexpialidocious-item-number-${i}.`).join('\n')));
  assert.equal(reasonName(list.reason), 'list_ratio');
  assert.equal(list.scores.fineweb_list_ratio, 0.45);

  // Chinese: lines ending in 。 count as punctuated; a short line is ≤ 10 characters, not 30.
  const zhText = ['人人生而自由，在尊严和权利上一律平等。', '他们赋有理性和良心，并应以兄弟关系的精神相对待。', '人人有资格享有本宣言所载的一切权利和自由。'].join('\n');
  const zhScores = rule.measure(zh(zhText));
  assert.equal(zhScores.reason, undefined);
  assert.equal(zhScores.scores.fineweb_short_line_ratio, 0);
  assert.equal(reasonName(rule.measure(zh(['首页', '新闻', '体育', '联系我们'].join('\n'))).reason), 'line_punct_ratio');
  assert.equal(reasonName(rule.measure(zh(['你好。', '谢谢。', '再见。'].join('\n'))).reason), 'short_line_ratio');
});

test('gopher_repetition n-gram figures equal a plain string implementation on repetitive text', () => {
  // The Gopher definitions written out with joined strings, as datatrove computes them on words.
  const reference = (words: string[], text: string) => {
    const grams = (n: number) => Array.from({ length: Math.max(words.length - n + 1, 0) }, (_, i) => words.slice(i, i + n).join(' '));
    const out: Record<string, number> = {};
    for (const n of [2, 3, 4]) {
      const counts = new Map<string, number>();
      for (const g of grams(n)) counts.set(g, (counts.get(g) ?? 0) + 1);
      let best: [string, number] = ['', 0];
      for (const [g, c] of counts) if (c > best[1]) best = [g, c];
      out[`gopher_top_${n}gram`] = Math.round(((best[0].length * best[1]) / text.length) * 1e4) / 1e4;
    }
    for (const n of [5, 6, 7, 8, 9, 10]) {
      const seen = new Set<string>();
      let chars = 0;
      for (let i = 0; i + n <= words.length; ) {
        const g = words.slice(i, i + n).join(' ');
        if (seen.has(g)) {
          chars += g.length;
          i += n;
        } else {
          seen.add(g);
          i += 1;
        }
      }
      out[`gopher_dup_${n}gram`] = Math.round((chars / text.length) * 1e4) / 1e4;
    }
    return out;
  };
  const rule = gopherRepetition();
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const vocabulary of [3, 6, 40]) {
    const words = Array.from({ length: 300 }, () => `w${Math.floor(next() * vocabulary)}`);
    const text = words.join(' ');
    const { scores } = rule.measure(en(text));
    const expected = reference(words, text);
    for (const [key, value] of Object.entries(expected)) assert.equal(scores[key], value, `${vocabulary} words: ${key}`);
  }
});
