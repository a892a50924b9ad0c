// Gopher's repetition rules (Rae et al. 2021, table A1) with datatrove's GopherRepetitionFilter
// defaults: duplicate lines and paragraphs, the most frequent 2–4-gram, and the characters covered
// by repeated 5–10-grams, each as a fraction of the text. N-grams are hashed (64 bits), not joined
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

/**
 * An open-addressing table of n-gram occurrences keyed by two 32-bit hashes (a 64-bit key), reused
 * across n-gram orders and documents: a generation stamp empties it without clearing memory.
 */
class NgramCounts {
  private stamp = new Uint32Array(0);
  private keyA = new Int32Array(0);
  private keyB = new Int32Array(0);
  private counts = new Int32Array(0);
  private firsts = new Int32Array(0);
  private generation = 0;
  private mask = 0;

  /** Empties the table, sized for `entries` distinct n-grams. */
  reset(entries: number): void {
    let size = 64;
    while (size < entries * 2) size *= 2;
    if (size > this.stamp.length) {
      this.stamp = new Uint32Array(size);
      this.keyA = new Int32Array(size);
      this.keyB = new Int32Array(size);
      this.counts = new Int32Array(size);
      this.firsts = new Int32Array(size);
      this.generation = 0;
    }
    this.mask = this.stamp.length - 1;
    this.generation += 1;
  }

  /** Records an occurrence at `position`; returns the slot (count and first position are read through it). */
  add(a: number, b: number, position: number): number {
    const { stamp, keyA, keyB, generation, counts } = this;
    let i = (a ^ Math.imul(b, 0x27d4eb2f)) & this.mask;
    while (stamp[i] === generation) {
      if (keyA[i] === a && keyB[i] === b) {
        counts[i]! += 1;
        return i;
      }
      i = (i + 1) & this.mask;
    }
    stamp[i] = generation;
    keyA[i] = a;
    keyB[i] = b;
    counts[i] = 1;
    this.firsts[i] = position;
    return i;
  }

  count(slot: number): number {
    return this.counts[slot]!;
  }

  first(slot: number): number {
    return this.firsts[slot]!;
  }
}

const BASE_A = 0x01000193;
const BASE_B = 0x5bd1e995;

/**
 * Per-document n-gram keys in O(1) each: two polynomial hashes over the word hashes (mod 2^32),
 * from prefix sums, so any n-gram's key is one multiply and one subtract. Plus the character
 * offsets of the words.
 */
class NgramKeys {
  // Grow-only buffers, reused for every document.
  private prefixA = new Int32Array(1024);
  private prefixB = new Int32Array(1024);
  /** starts[i]: characters before word i, counting one separator per word. */
  private starts = new Int32Array(1024);
  private separator = 1;
  private powA = 1;
  private powB = 1;
  private n = 0;
  keyA = 0;
  keyB = 0;

  /** Hashes the words of a document (two independent FNV-style hashes per word). */
  load(words: readonly string[], separator: number): void {
    this.separator = separator;
    if (words.length + 1 > this.starts.length) {
      let size = this.starts.length;
      while (size < words.length + 1) size *= 2;
      this.prefixA = new Int32Array(size);
      this.prefixB = new Int32Array(size);
      this.starts = new Int32Array(size);
    }
    const { prefixA, prefixB, starts } = this;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      let a = 0x811c9dc5;
      let b = 0x2545f491;
      for (let j = 0; j < w.length; j++) {
        const c = w.charCodeAt(j);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
      }
      prefixA[i + 1] = Math.imul(prefixA[i]!, BASE_A) + a;
      prefixB[i + 1] = Math.imul(prefixB[i]!, BASE_B) + (b ^ (b >>> 15));
      starts[i + 1] = starts[i]! + w.length + separator;
    }
  }
  /** Prepares for n-grams of n words. */
  order(n: number): void {
    this.n = n;
    this.powA = 1;
    this.powB = 1;
    for (let k = 0; k < n; k++) {
      this.powA = Math.imul(this.powA, BASE_A);
      this.powB = Math.imul(this.powB, BASE_B);
    }
  }
  /** Sets keyA/keyB to the key of the n-gram starting at word i (n from order()). */
  key(i: number): void {
    const x = (this.prefixA[i + this.n]! - Math.imul(this.prefixA[i]!, this.powA)) | 0;
    const y = (this.prefixB[i + this.n]! - Math.imul(this.prefixB[i]!, this.powB)) | 0;
    this.keyA = fmix(x);
    this.keyB = fmix(y ^ this.n);
  }
  /** Characters of the n-gram starting at word i ("a b c": words and the separators between them). */
  chars(i: number): number {
    return this.starts[i + this.n]! - this.starts[i]! - this.separator;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Characters of the most frequent n-gram times its count (ties: the first seen, as Counter.most_common). */
function topNgramChars(keys: NgramKeys, table: NgramCounts, words: number, n: number): number {
  table.reset(words);
  keys.order(n);
  let best = 0;
  let bestFirst = 0;
  for (let i = 0; i + n <= words; i++) {
    keys.key(i);
    const slot = table.add(keys.keyA, keys.keyB, i);
    const c = table.count(slot);
    const first = table.first(slot);
    if (c > best || (c === best && first < bestFirst)) [best, bestFirst] = [c, first];
  }
  return best > 0 ? keys.chars(bestFirst) * best : 0;
}

/**
 * Marks the positions whose m-gram occurs more than once in the document. An n-gram (n ≥ m) can
 * only repeat where its first m words do, so the repeated-n-gram walks below skip every other
 * position without hashing it: in prose, nearly all of them.
 */
function markRepeatedPrefixes(keys: NgramKeys, table: NgramCounts, words: number, m: number, repeated: Uint8Array, slots: Int32Array): void {
  table.reset(words);
  keys.order(m);
  for (let i = 0; i + m <= words; i++) {
    keys.key(i);
    slots[i] = table.add(keys.keyA, keys.keyB, i);
  }
  for (let i = 0; i < words; i++) repeated[i] = i + m <= words && table.count(slots[i]!) > 1 ? 1 : 0;
}

/** Characters in n-grams that repeat an earlier one; a repeat skips its n words (datatrove's walk). */
function duplicateNgramChars(keys: NgramKeys, table: NgramCounts, words: number, n: number, repeated: Uint8Array): number {
  table.reset(words);
  keys.order(n);
  let chars = 0;
  for (let i = 0; i + n <= words; ) {
    if (!repeated[i]) {
      i += 1;
      continue;
    }
    keys.key(i);
    if (table.count(table.add(keys.keyA, keys.keyB, i)) > 1) {
      chars += keys.chars(i);
      i += n;
    } else i += 1;
  }
  return chars;
}

export function gopherRepetition(opts = GOPHER_REPETITION_DEFAULTS): QualityRule {
  const table = new NgramCounts();
  const keys = new NgramKeys();
  let repeated = new Uint8Array(1024);
  let slots = new Int32Array(1024);
  const shortestDup = Math.min(...opts.dupNGrams.map(([n]) => n));
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
      keys.load(words, view.chinese ? 0 : 1);
      for (const [n, threshold] of opts.topNGrams) {
        checks.push([`top_${n}_gram`, `gopher_top_${n}gram`, ratio(topNgramChars(keys, table, words.length, n), text.length), threshold]);
      }
      if (words.length > repeated.length) {
        repeated = new Uint8Array(words.length * 2);
        slots = new Int32Array(words.length * 2);
      }
      if (opts.dupNGrams.length > 0) markRepeatedPrefixes(keys, table, words.length, shortestDup, repeated, slots);
      for (const [n, threshold] of opts.dupNGrams) {
        checks.push([`duplicated_${n}_n_grams`, `gopher_dup_${n}gram`, ratio(duplicateNgramChars(keys, table, words.length, n, repeated), text.length), threshold]);
      }
      for (const [, key, value] of checks) scores[key] = round4(value);
      const failed = checks.find(([, , value, threshold]) => value > threshold);
      return { scores, reason: failed ? because(failed[0], failed[2], '>', failed[3]) : undefined };
    },
  };
}
