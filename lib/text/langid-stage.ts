import { UsageError } from '../errors.js';
import { defineStage } from '../stage.js';
import { identifyLanguage, loadLanguageModel, SUPPORTED_LANGUAGES } from './langid.js';
import { hasText, NO_TEXT } from './no-text.js';

export interface LangidOptions {
  /** Keep only these languages (ISO 639-1); empty keeps every document. */
  langs: string[];
  /** Documents whose best language scores below this are dropped (with --langs, or alone). */
  minLangScore: number;
  /** Replace `lang`/`lang_score` a document already has (default), or keep them. */
  overwrite: boolean;
}

/** Checks a --langs list against the languages the identifier knows. */
export function parseLangs(value: string | string[] | undefined): string[] {
  const langs = (Array.isArray(value) ? value.join(',') : value ?? '').split(',').map((l) => l.trim().toLowerCase()).filter(Boolean);
  const unknown = langs.filter((l) => !SUPPORTED_LANGUAGES.includes(l));
  if (unknown.length) throw new UsageError(`--langs: unknown language ${unknown.join(', ')} (known: ${SUPPORTED_LANGUAGES.join(' ')})`);
  return langs;
}

/**
 * Why a document in language `lang` with confidence `score` is dropped by a --langs /
 * --min-lang-score filter (`loom langid` and `loom extract` share it), or null to keep it. The
 * score threshold applies with or without --langs.
 */
export function languageRejection(lang: string, score: number, opts: Pick<LangidOptions, 'langs' | 'minLangScore'>): string | null {
  if (opts.langs.length > 0 && !opts.langs.includes(lang)) return `language ${lang} (${score}) not in ${opts.langs.join(',')}`;
  if (score < opts.minLangScore) return `language ${lang} scored ${score} < ${opts.minLangScore}`;
  return null;
}

/** Adds `lang` and `lang_score` to documents; optionally keeps only some languages. Records without text are dropped (NO_TEXT). */
export const langid = defineStage<LangidOptions>('langid', { langs: [], minLangScore: 0, overwrite: true }, async function* (docs, opts, ctx) {
  await loadLanguageModel();
  for await (const doc of docs) {
    if (!hasText(doc)) {
      ctx.drop(doc, NO_TEXT);
      continue;
    }
    if (opts.overwrite || doc.lang === undefined) {
      const guess = identifyLanguage(doc.text);
      doc.lang = guess.lang;
      doc.lang_score = Math.round(guess.score * 1e4) / 1e4;
    }
    ctx.count(`lang_${doc.lang}`);
    if (languageRejection(doc.lang!, doc.lang_score ?? 0, opts) !== null) {
      ctx.drop(doc, 'language');
      continue;
    }
    yield doc;
  }
});
