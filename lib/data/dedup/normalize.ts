// Text normalization before the exact-duplicate hash: configurable steps, applied in a fixed order.
export const NORMALIZATION_STEPS = ['nfkc', 'lowercase', 'diacritics', 'punctuation', 'digits', 'whitespace'] as const;
export type NormalizationStep = (typeof NORMALIZATION_STEPS)[number];

const COMBINING_MARKS = /\p{M}+/gu;
const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const DIGITS = /\p{Nd}+/gu;
const SPACES = /\s+/gu;

/** Applies the chosen steps: two texts that differ only in what the steps erase become equal. */
export function normalizeForExact(text: string, steps: readonly NormalizationStep[]): string {
  let s = text;
  if (steps.includes('nfkc')) s = s.normalize('NFKC');
  if (steps.includes('lowercase')) s = s.toLowerCase();
  // Decompose, then drop the marks: "café" and "cafe" match.
  if (steps.includes('diacritics')) s = s.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
  if (steps.includes('punctuation')) s = s.replace(PUNCTUATION, ' ');
  if (steps.includes('digits')) s = s.replace(DIGITS, '0');
  if (steps.includes('whitespace')) s = s.replace(SPACES, ' ').trim();
  return s;
}
