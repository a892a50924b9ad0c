// N-grams for near-duplicate detection: word n-grams for space-delimited languages, character
// n-grams for Chinese, Japanese and Korean (which do not put spaces between words). Units are
// simplified first (lowercased; punctuation, symbols and spacing dropped) so that re-extraction
// noise does not change them. Hash output is 32-bit per shingle and allocation-free per shingle.

export type NgramUnit = 'word' | 'char';

const CJK_LANGS = new Set(['zh', 'ja', 'ko', 'yue', 'wuu', 'cmn', 'lzh', 'gan', 'hak', 'nan', 'cdo']);

/** Han, kana, Hangul (and their compatibility and extension blocks). */
export function isCjkCodePoint(cp: number): boolean {
  return (
    (cp >= 0x3040 && cp <= 0x30ff) || // hiragana, katakana
    (cp >= 0x3400 && cp <= 0x4dbf) || // CJK extension A
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK unified ideographs
    (cp >= 0xac00 && cp <= 0xd7af) || // Hangul syllables
    (cp >= 0x1100 && cp <= 0x11ff) || // Hangul jamo
    (cp >= 0x3130 && cp <= 0x318f) || // Hangul compatibility jamo
    (cp >= 0xf900 && cp <= 0xfaff) || // CJK compatibility ideographs
    (cp >= 0x20000 && cp <= 0x3134f) // extensions B–H
  );
}

/** True for language codes written without spaces between words (zh, ja, ko, zh-Hant, …). */
export function isCjkLanguage(lang: string | undefined): boolean {
  if (!lang) return false;
  return CJK_LANGS.has(lang.toLowerCase().split(/[-_]/)[0]!);
}

const SCRIPT_SAMPLE = 4000;

/**
 * Character n-grams when the document's `lang` is a CJK language; without a `lang`, when at least
 * 30% of the first letters are CJK (so an English page quoting a few Chinese words stays on words).
 */
export function ngramUnitFor(text: string, lang?: string): NgramUnit {
  if (lang) return isCjkLanguage(lang) ? 'char' : 'word';
  let letters = 0;
  let cjk = 0;
  const end = Math.min(text.length, SCRIPT_SAMPLE);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) letters += 1;
      continue;
    }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i += 1;
    if (isCjkCodePoint(cp)) {
      cjk += 1;
      letters += 1;
    } else if (cp >= 0xc0) letters += 1;
  }
  return letters > 0 && cjk / letters >= 0.3 ? 'char' : 'word';
}

const NON_WORD = /[^\p{L}\p{N}\p{M}]+/u;
const NON_WORD_GLOBAL = /[^\p{L}\p{N}\p{M}]+/gu;

/** The simplified units of a text: lowercased words, or (for `char`) letters and digits one by one. */
export function ngramUnits(text: string, unit: NgramUnit): string[] {
  const lower = text.toLowerCase();
  if (unit === 'char') return Array.from(lower.replace(NON_WORD_GLOBAL, ''));
  return lower.split(NON_WORD).filter((w) => w !== '');
}

/** The n-grams themselves, as strings (units joined by a space, or nothing for characters). */
export function ngrams(text: string, n: number, unit: NgramUnit): string[] {
  const units = ngramUnits(text, unit);
  const sep = unit === 'char' ? '' : ' ';
  if (units.length === 0) return [];
  if (units.length <= n) return [units.join(sep)];
  const out: string[] = [];
  for (let i = 0; i + n <= units.length; i++) out.push(units.slice(i, i + n).join(sep));
  return out;
}

/** murmur3's finalizer: full avalanche of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashUnit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** A growable Uint32Array reused across documents, so hashing allocates nothing per shingle. */
export class HashBuffer {
  data = new Uint32Array(1024);
  length = 0;
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let size = this.data.length;
    while (size < n) size *= 2;
    this.data = new Uint32Array(size);
  }
}

/**
 * Hashes every n-gram of `text` into `out` (32-bit each; duplicates kept, MinHash ignores them)
 * and returns their number. A text with fewer than n units gives one shingle of all its units;
 * a text with no units gives none.
 */
export function shingleHashes(text: string, n: number, unit: NgramUnit, out: HashBuffer): number {
  const lower = text.toLowerCase();
  const units = unit === 'char' ? codePointHashes(lower.replace(NON_WORD_GLOBAL, '')) : wordHashes(lower);
  const m = units.length;
  if (m === 0) return (out.length = 0);
  const count = m <= n ? 1 : m - n + 1;
  const width = Math.min(n, m);
  out.reserve(count);
  const data = out.data;
  for (let i = 0; i < count; i++) {
    let h = 0x9e3779b9 ^ width;
    for (let k = 0; k < width; k++) h = Math.imul((h << 5) | (h >>> 27), 0x2545f491) ^ units[i + k]!;
    data[i] = fmix32(h);
  }
  out.length = count;
  return count;
}

function wordHashes(lower: string): Int32Array {
  const words = lower.split(NON_WORD);
  const hashes = new Int32Array(words.length);
  let m = 0;
  for (const w of words) if (w !== '') hashes[m++] = hashUnit(w);
  return hashes.subarray(0, m);
}

function codePointHashes(letters: string): Int32Array {
  const hashes = new Int32Array(letters.length);
  let m = 0;
  for (let i = 0; i < letters.length; i++) {
    let cp = letters.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < letters.length) cp = letters.codePointAt(i++)!;
    hashes[m++] = fmix32(cp + 0x6a09e667);
  }
  return hashes.subarray(0, m);
}
