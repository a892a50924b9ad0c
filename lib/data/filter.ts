// Keeps or drops documents by the numbers and flags earlier stages wrote (`loom score`: scores.*,
// flags) and by language (`lang`, `lang_score` from extract or langid). It computes nothing itself:
// a document without the field a test names is "missing" it, and --missing decides.
import { UsageError } from '../errors.js';
import type { Doc } from '../io/types.js';
import { defineStage } from '../stage.js';
import { languageRejection } from '../text/langid-stage.js';
import { valueAt } from './field-path.js';

/** A bound on a numeric field: `path` is dotted from the record's root (`scores.quality`). */
export interface Threshold {
  path: string;
  value: number;
}

export type MissingPolicy = 'drop' | 'keep';

export interface FilterOptions {
  /** Drop documents whose field is below the value. */
  min: Threshold[];
  /** Drop documents whose field is above the value. */
  max: Threshold[];
  /** Drop documents that carry any of these flags (`flags.NAME` present); `*` matches every flag. */
  dropFlags: string[];
  /** Keep only these languages (the `lang` field); empty keeps every language. */
  langs: string[];
  /** Drop documents whose `lang_score` is below this. */
  minLangScore: number;
  /** A document without the field a threshold (or the language test) reads: dropped as `missing FIELD`, or kept. */
  missing: MissingPolicy;
}

export const FILTER_DEFAULTS: FilterOptions = { min: [], max: [], dropFlags: [], langs: [], minLangScore: 0, missing: 'drop' };

export const ANY_FLAG = '*';

/**
 * Parses `scores.quality=0.5`. A bare name is a score (`quality` means `scores.quality`); a dotted
 * path names any numeric field (`dedup.size=2`).
 */
export function parseThreshold(flag: string, text: string): Threshold {
  const match = /^([^=\s]+)=(.+)$/.exec(text.trim());
  const value = match ? Number(match[2]) : NaN;
  if (!match || match[2]!.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`${flag} must be FIELD=NUMBER (like scores.quality=0.5), got ${JSON.stringify(text)}`);
  }
  const name = match[1]!;
  return { path: name.includes('.') ? name : `scores.${name}`, value };
}

/** Refuses options that keep nothing or test nothing, before any input is read. */
export function checkFilterOptions(opts: Pick<FilterOptions, 'min' | 'max' | 'dropFlags' | 'langs' | 'minLangScore'>): void {
  if (opts.min.length + opts.max.length + opts.dropFlags.length + opts.langs.length === 0 && opts.minLangScore === 0) {
    throw new UsageError('filter: nothing to test; give --min, --max, --drop-flag, --langs or --min-lang-score');
  }
  for (const low of opts.min) {
    const high = opts.max.find((t) => t.path === low.path && t.value < low.value);
    if (high) throw new UsageError(`--min ${low.path}=${low.value} and --max ${high.path}=${high.value} keep nothing`);
  }
}

/**
 * The filter as a function: why a document is dropped, or null to keep it. Tests run in a fixed
 * order and the first that fails names the reason: language (`language`), flags (`flag NAME`), then
 * --min (`scores.quality < 0.5`) and --max (`scores.perplexity > 900`) in the order given. Reasons
 * name the test, not the value, so the run summary can count them; the record goes to --rejects.
 */
export function filterRejection(opts: FilterOptions): (doc: Doc) => string | null {
  const dropMissing = opts.missing === 'drop';
  const testsLanguage = opts.langs.length > 0 || opts.minLangScore > 0;
  const anyFlag = opts.dropFlags.includes(ANY_FLAG);
  const bounds = [...opts.min.map((t) => ({ ...t, op: '<' as const })), ...opts.max.map((t) => ({ ...t, op: '>' as const }))];
  return (doc) => {
    if (testsLanguage) {
      const { lang, lang_score: score } = doc;
      // The language test reads lang, and lang_score when --min-lang-score is given.
      const absent = typeof lang !== 'string' ? 'lang' : opts.minLangScore > 0 && typeof score !== 'number' ? 'lang_score' : null;
      if (absent !== null) {
        if (dropMissing) return `missing ${absent}`;
      } else if (languageRejection(lang!, typeof score === 'number' ? score : 0, opts) !== null) return 'language';
    }
    if (opts.dropFlags.length > 0 && typeof doc.flags === 'object' && doc.flags !== null) {
      for (const name of Object.keys(doc.flags)) if (anyFlag || opts.dropFlags.includes(name)) return `flag ${name}`;
    }
    for (const { path, value, op } of bounds) {
      const actual = valueAt(doc, path);
      if (typeof actual !== 'number') {
        if (dropMissing) return `missing ${path}`;
      } else if (op === '<' ? actual < value : actual > value) return `${path} ${op} ${value}`;
    }
    return null;
  };
}

/** Keeps the documents that pass every test (filterRejection); every other goes to --rejects with its reason. */
export const filter = defineStage<FilterOptions>('filter', FILTER_DEFAULTS, async function* (docs, opts, ctx) {
  const rejection = filterRejection(opts);
  for await (const doc of docs) {
    const reason = rejection(doc);
    if (reason === null) yield doc;
    else ctx.drop(doc, reason);
  }
});
