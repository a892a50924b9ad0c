import { defineStage } from '../../stage.js';
import { hasText, NO_TEXT } from '../../text/no-text.js';
import type { Classifier } from './classifier.js';
import type { NgramLm } from './ngram-lm.js';
import { RULES, type QualityRule } from './rules/index.js';
import { round4 } from './rules/rule.js';
import { TextView } from './text-view.js';

export interface ScoreOptions {
  /** Rule families to apply (RULE_NAMES); each writes its measurements and, on failure, flags.<family>. */
  rules: string[];
  /** Classifiers by score name: scores.<name> = probability of the model's positive label. */
  classifiers: Record<string, Classifier>;
  /** The n-gram model for scores.perplexity, or none. */
  lm?: NgramLm;
}

/**
 * Adds `scores.*` and `flags` to documents: rule measurements, classifier probabilities and
 * n-gram perplexity. It annotates and never drops (except records without text, as every text
 * stage does); `loom filter` decides. A rule or model that passes removes its stale flag.
 */
export const score = defineStage<ScoreOptions>('score', { rules: Object.keys(RULES), classifiers: {} }, async function* (docs, opts, ctx) {
  const rules: QualityRule[] = opts.rules.map((name) => RULES[name]!());
  const classifiers = Object.entries(opts.classifiers);
  for await (const doc of docs) {
    if (!hasText(doc)) {
      ctx.drop(doc, NO_TEXT);
      continue;
    }
    const scores = isRecord(doc.scores) ? doc.scores : (doc.scores = {});
    const flags: Record<string, string> = isRecord(doc.flags) ? doc.flags : {};
    const view = TextView.of(doc.text, typeof doc.lang === 'string' ? doc.lang : undefined);
    const flag = (name: string, reason: string | undefined) => {
      if (reason === undefined) {
        if (name in flags) delete flags[name];
        return;
      }
      flags[name] = reason;
      ctx.count(`flagged ${name}`);
    };
    for (const rule of rules) {
      const outcome = rule.measure(view);
      Object.assign(scores, outcome.scores);
      flag(rule.name, outcome.reason);
    }
    for (const [name, model] of classifiers) {
      const p = round4(model.score(doc.text));
      scores[name] = p;
      const above = model.header.flagAbove;
      if (above !== undefined) flag(name, p >= above ? `${name}: ${p} ≥ ${above}` : undefined);
    }
    if (opts.lm && lmApplies(opts.lm, view, doc.lang)) scores.perplexity = Math.round(opts.lm.perplexity(doc.text) * 100) / 100;
    if (Object.keys(flags).length > 0 && doc.flags !== flags) doc.flags = flags;
    yield doc;
  }
});

function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Perplexity is written only for the languages the model was trained on. */
function lmApplies(lm: NgramLm, view: TextView, lang: unknown): boolean {
  const docLang = typeof lang === 'string' ? lang.toLowerCase().split(/[-_]/)[0]! : view.chinese ? 'zh' : 'en';
  return lm.header.langs.includes(docLang);
}
