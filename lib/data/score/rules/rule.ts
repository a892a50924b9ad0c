import type { TextView } from '../text-view.js';

/**
 * What a quality rule finds in one document: its measurements (written as `scores.<key>`) and,
 * when the document fails the rule, why (written as `flags.<rule name>`). A rule annotates; the
 * keep/drop decision is `loom filter`'s.
 */
export interface RuleOutcome {
  scores: Record<string, number>;
  reason?: string;
}

export interface QualityRule {
  readonly name: string;
  measure(view: TextView): RuleOutcome;
}

/** Scores are written with 4 decimals: enough for any threshold, short in the JSONL. */
export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** x / y, or 0 for an empty denominator (datatrove divides by zero there; loom scores it 0). */
export const ratio = (x: number, y: number) => (y > 0 ? x / y : 0);

/** How many elements repeat an earlier one, and their characters (datatrove's find_duplicates). */
export function findDuplicates(elements: readonly string[]): { count: number; chars: number } {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const element of elements) {
    if (seen.has(element)) {
      count += 1;
      chars += element.length;
    } else seen.add(element);
  }
  return { count, chars };
}

/** `name: 0.95 > 0.9`: the reason name datatrove gives, with the measured value and the threshold. */
export const because = (name: string, value: number, relation: string, threshold: number) => `${name}: ${round4(value)} ${relation} ${threshold}`;
