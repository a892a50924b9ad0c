import { c4, C4_DEFAULTS } from './c4.js';
import { fineweb, FINEWEB_DEFAULTS } from './fineweb.js';
import { gopherQuality, GOPHER_QUALITY_DEFAULTS } from './gopher-quality.js';
import { gopherRepetition, GOPHER_REPETITION_DEFAULTS } from './gopher-repetition.js';
import type { QualityRule } from './rule.js';

export { c4, C4_DEFAULTS, fineweb, FINEWEB_DEFAULTS, gopherQuality, GOPHER_QUALITY_DEFAULTS, gopherRepetition, GOPHER_REPETITION_DEFAULTS };
export type { QualityRule, RuleOutcome } from './rule.js';

/** The rule families by name, with the published defaults (`--rules gopher_quality,c4`). */
export const RULES: Record<string, () => QualityRule> = {
  gopher_quality: () => gopherQuality(),
  gopher_repetition: () => gopherRepetition(),
  c4: () => c4(),
  fineweb: () => fineweb(),
};
export const RULE_NAMES = Object.keys(RULES);
