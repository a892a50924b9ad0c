// Gopher's repetition rules (Rae et al. 2021, table A1) with datatrove's GopherRepetitionFilter
// defaults: duplicate lines and paragraphs, the most frequent 2–4-gram, and the characters covered
// by repeated 5–10-grams, each as a fraction of the text. N-grams are hashed (53 bits), not joined
// into strings, so the rule stays linear and cheap. Chinese: words from jieba, and an n-gram's
// length is its characters without the spaces that English n-grams are joined with.
import type { TextView } from '../text-view.js';
import { because, findDuplicates, ratio, round4, type QualityRule, type RuleOutcome } from './rule.js';

export const GOPHER_REPETITION_DEFAULTS = {
  dupLineFrac: 0.3,
  dupParaFrac: 0.3,
  dupLineCharFrac: 0.2,
  dupParaCharFrac: 0.2,
  topNGrams: [[2, 0.2], [3, 0.18], [4, 0.16]] as [number, number][],
  dupNGrams: [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]] as [number, number][],
};

function wordHashes(words: readonly string[], seed: number): Int32Array {
  const out = new Int32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let h = seed;
    for (let j = 0; j < w.length; j++) h = Math.imul(h ^ w.charCodeAt(j), 0x01000193);
    out[i] = h;
  }
  return out;
}

/** Per-document n-gram keys: two independent 32-bit hashes folded into one 53-bit number. */
class NgramKeys {
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  /** starts[i]: characters before word i, counting one separator per word. */
  private readonly starts: Float64Array;
  constructor(words: readonly string[], private readonly separator: number) {
    this.a = wordHashes(words, 0x811c9dc5);
    this.b = wordHashes(words, 0x2545f491);
    this.starts = new Float64Array(words.length + 1);
    for (let i = 0; i < words.length; i++) this.starts[i + 1] = this.starts[i]! + words[i]!.length + separator;
  }
  key(i: number, n: number): number {
    let x = n;
    let y = n;
    for (let k = i; k < i + n; k++) {
      x = Math.imul(x ^ this.a[k]!, 0x9e3779b1) + 0x7f4a7c15;
      y = Math.imul(y ^ this.b[k]!, 0x85ebca6b) + 0x165667b1;
    }
    x ^= x >>> 15;
    y ^= y >>> 13;
    return (x >>> 0) + (y & 0x1fffff) * 0x100000000;
  }
  /** Characters of the n-gram starting at word i ("a b c": words and the separators between them). */
  chars(i: number, n: number): number {
    return this.starts[i + n]! - this.starts[i]! - this.separator;
  }
}

/** Characters of the most frequent n-gram times its count (ties: the first seen, as Counter.most_common). */
function topNgramChars(keys: NgramKeys, words: number, n: number): number {
  const counts = new Map<number, number>();
  for (let i = 0; i + n <= words; i++) {
    const key = keys.key(i, n);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let bestKey = 0;
  let best = 0;
  for (const [key, c] of counts) if (c > best) [bestKey, best] = [key, c];
  for (let i = 0; i + n <= words; i++) if (keys.key(i, n) === bestKey) return keys.chars(i, n) * best;
  return 0;
}

/** Characters in n-grams that repeat an earlier one; a repeat skips its n words (datatrove's walk). */
function duplicateNgramChars(keys: NgramKeys, words: number, n: number): number {
  const seen = new Set<number>();
  let chars = 0;
  for (let i = 0; i + n <= words; ) {
    const key = keys.key(i, n);
    if (seen.has(key)) {
      chars += keys.chars(i, n);
      i += n;
    } else {
      seen.add(key);
      i += 1;
    }
  }
  return chars;
}

export function gopherRepetition(opts = GOPHER_REPETITION_DEFAULTS): QualityRule {
  return {
    name: 'gopher_repetition',
    measure(view: TextView): RuleOutcome {
      const { text, lines, words } = view;
      const paragraphs = text.trim().split(/\n{2,}/);
      const paras = findDuplicates(paragraphs);
      const dupLines = findDuplicates(lines);
      const scores: Record<string, number> = {};
      // [reason, score key, value, threshold] in datatrove's order: the first value over its threshold is the reason.
      const checks: [string, string, number, number][] = [
        ['dup_para_frac', 'gopher_dup_para_frac', ratio(paras.count, paragraphs.length), opts.dupParaFrac],
        ['dup_para_char_frac', 'gopher_dup_para_char_frac', ratio(paras.chars, text.length), opts.dupParaCharFrac],
        ['dup_line_frac', 'gopher_dup_line_frac', ratio(dupLines.count, lines.length), opts.dupLineFrac],
        ['dup_line_char_frac', 'gopher_dup_line_char_frac', ratio(dupLines.chars, text.length), opts.dupLineCharFrac],
      ];
      const keys = new NgramKeys(words, view.chinese ? 0 : 1);
      for (const [n, threshold] of opts.topNGrams) {
        checks.push([`top_${n}_gram`, `gopher_top_${n}gram`, ratio(topNgramChars(keys, words.length, n), text.length), threshold]);
      }
      for (const [n, threshold] of opts.dupNGrams) {
        checks.push([`duplicated_${n}_n_grams`, `gopher_dup_${n}gram`, ratio(duplicateNgramChars(keys, words.length, n), text.length), threshold]);
      }
      for (const [, key, value] of checks) scores[key] = round4(value);
      const failed = checks.find(([, , value, threshold]) => value > threshold);
      return { scores, reason: failed ? because(failed[0], failed[2], '>', failed[3]) : undefined };
    },
  };
}
