// Every dedup parameter and its default, in one place (streaming and multi-stage share them).
import { UsageError } from '../../errors.js';
import { NORMALIZATION_STEPS, type NormalizationStep } from './normalize.js';

export type KeepPolicy = 'first' | 'longest' | `score:${string}`;

export interface DedupParams {
  /** Exact dedup of the normalized text. */
  exact: boolean;
  /** Steps applied before the exact hash. */
  normalize: NormalizationStep[];
  /** Drop later documents with an already seen `url`. */
  url: boolean;
  /** MinHash-LSH near-duplicate detection. */
  fuzzy: boolean;
  bands: number;
  rows: number;
  /** Words per n-gram for space-delimited text. */
  ngram: number;
  /** Characters per n-gram for Chinese, Japanese and Korean. */
  charNgram: number;
  seed: number;
  keep: KeepPolicy;
}

export const DEDUP_DEFAULTS: DedupParams = {
  exact: true,
  normalize: ['nfkc', 'lowercase', 'punctuation', 'whitespace'],
  url: false,
  fuzzy: true,
  // FineWeb's setting: 112 hashes as 14 bands of 8 rows, threshold ≈ (1/14)^(1/8) ≈ 0.72.
  bands: 14,
  rows: 8,
  ngram: 5,
  charNgram: 5,
  seed: 1,
  keep: 'first',
};

/** The Jaccard similarity at which detection probability 1-(1-s^r)^b is steepest, ≈ (1/b)^(1/r). */
export function lshThreshold(bands: number, rows: number): number {
  return Math.pow(1 / bands, 1 / rows);
}

/** Probability that a pair with Jaccard similarity s shares at least one band. */
export function detectionProbability(s: number, bands: number, rows: number): number {
  return 1 - Math.pow(1 - Math.pow(s, rows), bands);
}

export function validateParams(p: DedupParams): DedupParams {
  const positiveInt = (name: string, v: number, max: number) => {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`dedup: --${name} must be an integer from 1 to ${max}, got ${v}`);
  };
  positiveInt('bands', p.bands, 256);
  positiveInt('rows', p.rows, 64);
  positiveInt('ngram', p.ngram, 64);
  positiveInt('char-ngram', p.charNgram, 64);
  if (!Number.isInteger(p.seed)) throw new UsageError(`dedup: --seed must be an integer, got ${p.seed}`);
  if (!(p.keep === 'first' || p.keep === 'longest' || (p.keep.startsWith('score:') && p.keep.length > 6))) {
    throw new UsageError(`dedup: --keep must be first, longest or score:NAME, got "${p.keep}"`);
  }
  for (const step of p.normalize) {
    if (!NORMALIZATION_STEPS.includes(step)) {
      throw new UsageError(`dedup: unknown --normalize step "${step}" (choose from ${NORMALIZATION_STEPS.join(', ')})`);
    }
  }
  if (!p.exact && !p.fuzzy && !p.url) throw new UsageError('dedup: nothing to do: --no-exact, --no-fuzzy and no --url');
  return p;
}
