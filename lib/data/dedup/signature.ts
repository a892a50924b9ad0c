// What dedup computes per document, as one fixed-width row of uint32 (no text is kept):
//   [flags, exact hi, exact lo, url hi, url lo, band 0 hi, band 0 lo, …, band B-1 lo]
// The same rows feed the streaming index and the multi-stage signature files, so both modes see
// identical hashes. The worker threads run `signRows` on batches of documents.
import { createHash } from 'node:crypto';
import { HashBuffer, ngramUnitFor, shingleHashes } from '../../text/ngrams.js';
import { MinHasher } from './minhash.js';
import { normalizeForExact } from './normalize.js';
import type { DedupParams } from './options.js';

export const HAS_EXACT = 1;
export const HAS_URL = 2;
export const HAS_SHINGLES = 4;
/** The document was hashed with character n-grams (CJK). */
export const CHAR_NGRAMS = 8;

export const EXACT_AT = 1;
export const URL_AT = 3;
export const BANDS_AT = 5;

export type SignatureConfig = Pick<DedupParams, 'exact' | 'normalize' | 'url' | 'fuzzy' | 'bands' | 'rows' | 'ngram' | 'charNgram' | 'seed'>;

export function rowWidth(config: Pick<DedupParams, 'bands'>): number {
  return BANDS_AT + 2 * config.bands;
}

/** The fields of a document that hashing needs (what travels to a worker thread). */
export interface SignInput {
  texts: (string | undefined)[];
  langs: (string | undefined)[];
  urls: (string | undefined)[];
}

export class Signer {
  private readonly minhash: MinHasher;
  private readonly shingles = new HashBuffer();
  readonly width: number;

  constructor(private readonly config: SignatureConfig) {
    this.minhash = new MinHasher(config.bands, config.rows, config.seed);
    this.width = rowWidth(config);
  }

  /** One row per document, concatenated. */
  signRows(input: SignInput): Uint32Array {
    const n = input.texts.length;
    const rows = new Uint32Array(n * this.width);
    for (let i = 0; i < n; i++) this.signInto(input.texts[i], input.langs[i], input.urls[i], rows, i * this.width);
    return rows;
  }

  private signInto(text: string | undefined, lang: string | undefined, url: string | undefined, out: Uint32Array, at: number): void {
    const c = this.config;
    let flags = 0;
    if (c.exact && typeof text === 'string') {
      const normalized = normalizeForExact(text, c.normalize);
      if (normalized !== '') {
        flags |= HAS_EXACT;
        digest64('t', normalized, out, at + EXACT_AT);
      }
    }
    if (c.url && typeof url === 'string' && url !== '') {
      flags |= HAS_URL;
      digest64('u', url, out, at + URL_AT);
    }
    if (c.fuzzy && typeof text === 'string') {
      const unit = ngramUnitFor(text, lang);
      const count = shingleHashes(text, unit === 'char' ? c.charNgram : c.ngram, unit, this.shingles);
      if (count > 0) {
        flags |= HAS_SHINGLES | (unit === 'char' ? CHAR_NGRAMS : 0);
        this.minhash.bandHashes(this.minhash.sign(this.shingles.data, count), out, at + BANDS_AT);
      }
    }
    out[at] = flags;
  }
}

/** The first 64 bits of MD5 over a kind prefix and the value (so a text and a URL never collide). */
function digest64(kind: string, value: string, out: Uint32Array, at: number): void {
  const digest = createHash('md5').update(kind).update(value).digest();
  out[at] = digest.readUInt32LE(0);
  out[at + 1] = digest.readUInt32LE(4);
}
