// Features of the fastText-style classifier: hashed word n-grams and hashed character n-grams of
// words, as bucket indices. A "word" is a run of letters and digits; each Han, kana or Hangul
// character, and each punctuation mark or symbol, is a token of its own (so Chinese needs no
// segmenter: its token n-grams are character n-grams). Hashing is allocation-free per token.
import { isCjkCodePoint } from '../../text/ngrams.js';

export interface FeatureConfig {
  /** Hash buckets (the rows of the weight matrix). */
  buckets: number;
  /** Word n-grams from 1 to this (fastText's -wordNgrams). */
  wordNgrams: number;
  /** Character n-grams of each word with its < > boundary marks, minn to maxn long; maxn 0 turns them off. */
  minn: number;
  maxn: number;
}

const SPACE = 0;
const WORD = 1;
const SINGLE = 2;

let classes: Uint8Array | undefined;

/** Class of every BMP code unit: a space, part of a word, or a token on its own. Built once. */
function charClasses(): Uint8Array {
  if (classes) return classes;
  classes = new Uint8Array(0x10000);
  const word = /[\p{L}\p{N}\p{M}]/u;
  const space = /[\s\p{C}]/u;
  for (let c = 0; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) classes[c] = WORD; // surrogates: astral letters and emoji stay whole
    else if (isCjkCodePoint(c)) classes[c] = SINGLE;
    else {
      const ch = String.fromCharCode(c);
      classes[c] = word.test(ch) ? WORD : space.test(ch) ? SPACE : SINGLE;
    }
  }
  return classes;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** A reusable buffer of feature indices (bucket numbers), grown as needed. */
export class FeatureBuffer {
  data = new Int32Array(4096);
  length = 0;
  /** Makes room for `n` more entries. */
  reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Int32Array(size);
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }
  push(bucket: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = bucket;
  }
}

/** Bucket of a 32-bit hash: a mask when the bucket count is a power of two (the usual case), else a modulo. */
const bucketOf = (h: number, buckets: number) => ((buckets & (buckets - 1)) === 0 ? fmix(h) & (buckets - 1) : (fmix(h) >>> 0) % buckets);

/** Fills `out` with the feature buckets of `text` and returns how many there are. */
export function extractFeatures(text: string, config: FeatureConfig, out: FeatureBuffer, tokens: TokenBuffer = sharedTokens): number {
  const cls = charClasses();
  const lower = text.toLowerCase();
  const { buckets, wordNgrams, minn, maxn } = config;
  out.length = 0;
  tokens.length = 0;
  let i = 0;
  const n = lower.length;
  while (i < n) {
    const c = lower.charCodeAt(i);
    const k = cls[c]!;
    if (k === SPACE) {
      i++;
      continue;
    }
    let end = i + 1;
    if (k === WORD) while (end < n && cls[lower.charCodeAt(end)] === WORD) end++;
    let h = FNV_OFFSET;
    for (let j = i; j < end; j++) h = Math.imul(h ^ lower.charCodeAt(j), FNV_PRIME);
    tokens.push(h);
    if (k === WORD && maxn > 0) charNgrams(lower, i, end, minn, maxn, buckets, out);
    i = end;
  }
  const t = tokens.data;
  out.reserve(tokens.length * wordNgrams);
  const data = out.data;
  let m = out.length;
  for (let a = 0; a < tokens.length; a++) {
    let h = t[a]!;
    data[m++] = bucketOf(h, buckets);
    for (let g = 1; g < wordNgrams && a + g < tokens.length; g++) {
      h = Math.imul(h, 116049371) + t[a + g]!;
      data[m++] = bucketOf(h ^ 0x2f5b7a1d, buckets);
    }
  }
  return (out.length = m);
}

const word = new Int32Array(1024);

/** Character n-grams of "<word>", as fastText computes subwords (salted so they differ from words). */
function charNgrams(s: string, start: number, end: number, minn: number, maxn: number, buckets: number, out: FeatureBuffer): void {
  const len = Math.min(end - start, word.length - 2) + 2;
  word[0] = 0x3c; // <
  for (let p = 1; p < len - 1; p++) word[p] = s.charCodeAt(start + p - 1);
  word[len - 1] = 0x3e; // >
  out.reserve(len * maxn);
  const data = out.data;
  let m = out.length;
  for (let a = 0; a < len; a++) {
    let h = 0x9747b28c;
    const last = Math.min(maxn, len - a);
    for (let g = 1; g <= last; g++) {
      h = Math.imul(h ^ word[a + g - 1]!, FNV_PRIME);
      // A lone boundary mark is not an n-gram.
      if (g >= minn && !(g === 1 && (a === 0 || a === len - 1))) data[m++] = bucketOf(h, buckets);
    }
  }
  out.length = m;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** Token hashes of the current text. */
export class TokenBuffer extends FeatureBuffer {}
const sharedTokens = new TokenBuffer();
