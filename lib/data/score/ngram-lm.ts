// A character n-gram language model for CCNet-style perplexity scores on CPUs: interpolated
// Kneser-Ney (one discount per order), stored as KenLM stores such a model, as backoff entries
// (log probability and backoff weight per n-gram) in a hash table keyed by 64-bit n-gram hashes
// (32 bits stored to check a slot, the other half choosing it).
// Querying a character is one table probe when its longest n-gram was seen, two more for each order
// it backs off; no strings are built.
//
// File: gzip of one JSON header line, then `ngram<TAB>count` lines: the highest-order counts after
// pruning. The lower orders' Kneser-Ney continuation counts are derived from them at load.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from '../../errors.js';

export const LM_FORMAT = 'loom-ngram-lm';

export interface NgramLmHeader {
  format: typeof LM_FORMAT;
  version: 1;
  order: number;
  discount: number;
  /** Languages it was trained on: `score` writes scores.perplexity only for these. */
  langs: string[];
  /** n-grams seen fewer times than this were dropped before estimation. */
  minCount: number;
  training?: Record<string, unknown>;
}

const BOS = '\u0002';

/** What the model sees of a text: lowercase, digits as 0, runs of spaces and of newlines as one. */
export function normalizeForLm(text: string): string {
  return text.toLowerCase().replace(/\p{Nd}/gu, '0').replace(/[^\S\n]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim();
}

/** The highest-order n-gram counts of texts (each text starts with order-1 BOS marks). */
export function countNgrams(texts: Iterable<string>, order: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    const chars = [...BOS.repeat(order - 1), ...normalizeForLm(text)];
    for (let i = order - 1; i < chars.length; i++) {
      const g = chars.slice(i - order + 1, i + 1).join('');
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return counts;
}

/** Keys of a reversed n-gram (last character first), so all orders ending at a position come in one pass. */
const stepA = (a: number, cp: number) => Math.imul(a ^ cp, 0x9e3779b1) + 0x7f4a7c15;
const stepB = (b: number, cp: number) => Math.imul(b ^ (cp + 0x3c6ef372), 0x85ebca6b) + 0x165667b1;
/** The two halves of an n-gram's 64-bit key: `check` (never 0, stored) and `spot` (where it is stored). */
const checkOf = (a: number, n: number) => (a ^ Math.imul(n, 0x27d4eb2f)) | 1;
const spotOf = (b: number, n: number) => Math.imul(b ^ n, 0x2c1b3c6d) ^ (b >>> 15);

function reversedKey(codePoints: readonly number[]): [number, number] {
  let a = 0;
  let b = 0;
  for (let j = codePoints.length - 1; j >= 0; j--) {
    a = stepA(a, codePoints[j]!);
    b = stepB(b, codePoints[j]!);
  }
  return [checkOf(a, codePoints.length), spotOf(b, codePoints.length)];
}

/**
 * Open addressing over one buffer, three 32-bit words a slot: the key's check half, the n-gram's
 * log10 probability (NaN where it was seen only as a context) and its log10 backoff weight as a
 * context (0 where it has none). A probe touches one cache line, not one per array.
 */
class EntryTable {
  private readonly ints: Int32Array;
  private readonly floats: Float32Array;
  private readonly mask: number;
  constructor(entries: number) {
    let size = 1024;
    while (size < entries * 1.5) size *= 2;
    const buffer = new ArrayBuffer(size * 12);
    this.ints = new Int32Array(buffer);
    this.floats = new Float32Array(buffer);
    this.mask = size - 1;
  }
  /** The slot of a key (×3: its first word), inserted as (NaN, 0) if absent. */
  private insert(check: number, spot: number): number {
    let i = spot & this.mask;
    while (this.ints[i * 3] !== 0 && this.ints[i * 3] !== check) i = (i + 1) & this.mask;
    const at = i * 3;
    if (this.ints[at] === 0) {
      this.ints[at] = check;
      this.floats[at + 1] = NaN;
      this.floats[at + 2] = 0;
    }
    return at;
  }
  setLogp(key: [number, number], logp: number): void {
    this.floats[this.insert(key[0], key[1]) + 1] = logp;
  }
  setLogBackoff(key: [number, number], logbow: number): void {
    this.floats[this.insert(key[0], key[1]) + 2] = logbow;
  }
  /** The first word of the key's slot, or −1. */
  find(check: number, spot: number): number {
    const { ints, mask } = this;
    let i = spot & mask;
    for (let k = ints[i * 3]!; k !== 0; k = ints[i * 3]!) {
      if (k === check) return i * 3;
      i = (i + 1) & mask;
    }
    return -1;
  }
  logp(at: number): number {
    return this.floats[at + 1]!;
  }
  logBackoff(at: number): number {
    return this.floats[at + 2]!;
  }
}

export class NgramLm {
  /** log10 p(w | h) of every n-gram h·w seen in training, and the backoff weight of every context h. */
  private readonly table: EntryTable;
  /** log10 probability of a character never seen in training. */
  private readonly unknownLogp: number;

  constructor(
    readonly header: NgramLmHeader,
    readonly counts: Map<string, number>,
  ) {
    const { order, discount: d } = header;
    // Kneser-Ney counts per order: raw counts at the highest order, continuation counts (distinct
    // left extensions) below it.
    const levels: Map<string, number>[] = Array.from({ length: order + 1 }, () => new Map());
    levels[order] = counts;
    for (let k = order; k > 1; k--) {
      const lower = levels[k - 1]!;
      for (const g of levels[k]!.keys()) {
        const suffix = [...g].slice(1).join('');
        lower.set(suffix, (lower.get(suffix) ?? 0) + 1);
      }
    }
    // Context totals and distinct continuations, per order.
    const totals: Map<string, { total: number; types: number }>[] = levels.map(() => new Map());
    for (let k = 1; k <= order; k++) {
      for (const [g, c] of levels[k]!) {
        const h = [...g].slice(0, -1).join('');
        const t = totals[k]!.get(h) ?? { total: 0, types: 0 };
        t.total += c;
        t.types += 1;
        totals[k]!.set(h, t);
      }
    }
    // At most this many keys (a context that is also an n-gram shares its slot).
    let entries = 0;
    for (let k = 1; k <= order; k++) entries += levels[k]!.size + totals[k]!.size;
    this.table = new EntryTable(entries);
    const keyOfString = (s: string) => reversedKey([...s].map((c) => c.codePointAt(0)!));
    const unigrams = totals[1]!.get('')!;
    const vocabulary = levels[1]!.size + 1;
    this.unknownLogp = Math.log10(d * unigrams.types / unigrams.total / vocabulary);
    const probability = new Map<string, number>();
    // p_k(w|h) = max(c - D, 0) / total(h) + D · types(h) / total(h) · p_{k-1}(w | h minus its first character)
    const p = (g: string, k: number): number => {
      const cps = [...g];
      if (k === 0) return 1 / vocabulary;
      const h = cps.slice(0, -1).join('');
      const t = totals[k]!.get(h);
      const lowerGram = cps.slice(1).join('');
      const lower = probability.get(lowerGram) ?? p(lowerGram, k - 1);
      if (!t) return lower;
      const c = levels[k]!.get(g) ?? 0;
      return Math.max(c - d, 0) / t.total + ((d * t.types) / t.total) * lower;
    };
    for (let k = 1; k <= order; k++) {
      for (const g of levels[k]!.keys()) {
        const prob = p(g, k);
        probability.set(g, prob);
        this.table.setLogp(keyOfString(g), Math.log10(prob));
      }
      // The empty context's weight is part of unknownLogp.
      for (const [h, t] of totals[k]!) if (h !== '') this.table.setLogBackoff(keyOfString(h), Math.log10((d * t.types) / t.total));
    }
  }

  /** Natural-log probability of every character of the text, summed, and how many there are. */
  logProbability(text: string): { logprob: number; chars: number } {
    const order = this.header.order;
    const { table } = this;
    // The last order−1 code points, newest at history[(at − 1) mod order]; BOS before the text.
    const history = new Int32Array(order).fill(BOS.codePointAt(0)!);
    let at = 0;
    let total = 0;
    let chars = 0;
    // Key halves of the n-grams ending here (index = order) and of their contexts (index = length).
    const gramCheck = new Int32Array(order + 1);
    const gramSpot = new Int32Array(order + 1);
    const ctxCheck = new Int32Array(order);
    const ctxSpot = new Int32Array(order);
    const normalized = normalizeForLm(text);
    for (let i = 0; i < normalized.length; i++) {
      let cp = normalized.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < normalized.length) cp = normalized.codePointAt(i++)!;
      let a = stepA(0, cp);
      let b = stepB(0, cp);
      gramCheck[1] = checkOf(a, 1);
      gramSpot[1] = spotOf(b, 1);
      let ca = 0;
      let cb = 0;
      for (let j = 1; j < order; j++) {
        const prev = history[(at - j + order) % order]!;
        a = stepA(a, prev);
        b = stepB(b, prev);
        gramCheck[j + 1] = checkOf(a, j + 1);
        gramSpot[j + 1] = spotOf(b, j + 1);
        ca = stepA(ca, prev);
        cb = stepB(cb, prev);
        ctxCheck[j] = checkOf(ca, j);
        ctxSpot[j] = spotOf(cb, j);
      }
      // Backoff: the longest n-gram seen gives p, times the weights of the longer contexts skipped.
      let backoff = 0;
      let log10p = NaN;
      for (let k = order; k >= 1; k--) {
        const slot = table.find(gramCheck[k]!, gramSpot[k]!);
        if (slot >= 0 && !Number.isNaN(table.logp(slot))) {
          log10p = table.logp(slot) + backoff;
          break;
        }
        if (k > 1) {
          const context = table.find(ctxCheck[k - 1]!, ctxSpot[k - 1]!);
          if (context >= 0) backoff += table.logBackoff(context);
        }
      }
      if (Number.isNaN(log10p)) log10p = this.unknownLogp + backoff;
      total += log10p * Math.LN10;
      chars += 1;
      history[at] = cp;
      at = (at + 1) % order;
    }
    return { logprob: total, chars };
  }

  /** exp(−mean log p) per character (CCNet reports per-token perplexity the same way). */
  perplexity(text: string): number {
    const { logprob, chars } = this.logProbability(text);
    return chars > 0 ? Math.exp(-logprob / chars) : 0;
  }

  save(path: string): void {
    const lines = [JSON.stringify(this.header)];
    for (const [g, c] of [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`${g}\t${c}`);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, gzipSync(lines.join('\n') + '\n', { level: 9 }));
    renameSync(tmp, path);
  }

  static load(path: string): NgramLm {
    let text: string;
    try {
      text = gunzipSync(readFileSync(path)).toString('utf8');
    } catch (error) {
      throw new DataError(`${path}: not a loom n-gram model (${(error as Error).message})`);
    }
    const lines = text.split('\n');
    let header: NgramLmHeader;
    try {
      header = JSON.parse(lines[0]!) as NgramLmHeader;
    } catch {
      throw new DataError(`${path}: not a loom n-gram model (no header)`);
    }
    if (header.format !== LM_FORMAT) throw new DataError(`${path}: not a loom n-gram model (format ${String(header.format)})`);
    const counts = new Map<string, number>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const tab = line.lastIndexOf('\t');
      if (tab > 0) counts.set(line.slice(0, tab), Number(line.slice(tab + 1)));
    }
    return new NgramLm(header, counts);
  }
}

export interface NgramLmTrainOptions {
  order: number;
  discount: number;
  minCount: number;
  langs: string[];
  training?: Record<string, unknown>;
}

export const LM_DEFAULTS = { order: 5, discount: 0.75, minCount: 2 };

export function trainNgramLm(texts: Iterable<string>, opts: NgramLmTrainOptions): NgramLm {
  const counts = countNgrams(texts, opts.order);
  for (const [g, c] of counts) if (c < opts.minCount) counts.delete(g);
  const header: NgramLmHeader = { format: LM_FORMAT, version: 1, order: opts.order, discount: opts.discount, langs: opts.langs, minCount: opts.minCount, ...(opts.training && { training: opts.training }) };
  return new NgramLm(header, counts);
}
