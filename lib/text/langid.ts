// Language identification: script rules first, then the `eld` n-gram model (60 languages, shipped
// inside its npm package, nothing downloaded) for scripts that several languages share.
//
// Scripts decide alone where they can: Hangul is Korean, kana means Japanese, Han without kana is
// Chinese (n-gram models confuse short Chinese with Japanese kanji), and Thai, Greek, Hebrew,
// Georgian, Armenian, most Indic scripts, Lao and Ethiopic each map to one language. Latin,
// Cyrillic, Arabic and Devanagari text goes to eld, restricted to the languages of that script.
// eld's large model is 4.5 MB of JavaScript (about a second to load), so it loads on first use
// (loadLanguageModel), not when a command that never identifies languages imports this module.
type Eld = (typeof import('eld/large'))['eld'];
let eld: Eld | undefined;

/** Loads the n-gram model; call (and await) once before identifyLanguage. */
export async function loadLanguageModel(): Promise<void> {
  eld ??= (await import('eld/large')).eld;
}

export interface LanguageGuess {
  /** ISO 639-1 code, or `und` when the text has no letters. */
  lang: string;
  /** Confidence in [0, 1]: the model's probability for `lang` times the share of the text in its script. */
  score: number;
}

/** The languages `identifyLanguage` can return (besides `und`). */
export const SUPPORTED_LANGUAGES: readonly string[] = ['am', 'ar', 'az', 'be', 'bg', 'bn', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'eu', 'fa', 'fi', 'fr', 'gu', 'he', 'hi', 'hr', 'hu', 'hy', 'is', 'it', 'ja', 'ka', 'kn', 'ko', 'ku', 'lo', 'lt', 'lv', 'ml', 'mr', 'ms', 'nl', 'no', 'or', 'pa', 'pl', 'pt', 'ro', 'ru', 'sk', 'sl', 'sq', 'sr', 'sv', 'ta', 'te', 'th', 'tl', 'tr', 'uk', 'ur', 'vi', 'yo', 'zh'];

type Script = 'latin' | 'cyrillic' | 'arabic' | 'devanagari' | 'han' | 'kana' | 'hangul' | string;

// Scripts that one language owns among the supported ones.
const SINGLE_LANGUAGE_SCRIPTS: Record<string, string> = {
  hangul: 'ko',
  thai: 'th',
  greek: 'el',
  hebrew: 'he',
  georgian: 'ka',
  armenian: 'hy',
  bengali: 'bn',
  tamil: 'ta',
  telugu: 'te',
  kannada: 'kn',
  malayalam: 'ml',
  gujarati: 'gu',
  gurmukhi: 'pa',
  oriya: 'or',
  lao: 'lo',
  ethiopic: 'am',
};

// The eld languages written in each shared script.
const SCRIPT_LANGUAGES: Record<string, readonly string[]> = {
  latin: ['az', 'ca', 'cs', 'da', 'de', 'en', 'es', 'et', 'eu', 'fi', 'fr', 'hr', 'hu', 'is', 'it', 'lt', 'lv', 'ms', 'nl', 'no', 'pl', 'pt', 'ro', 'sk', 'sl', 'sq', 'sr', 'sv', 'tl', 'tr', 'vi', 'yo'],
  cyrillic: ['be', 'bg', 'ru', 'sr', 'uk'],
  arabic: ['ar', 'fa', 'ku', 'ur'],
  devanagari: ['hi', 'mr'],
};

const SCRIPT_PATTERNS: [Script, RegExp][] = [
  ['latin', /\p{Script=Latin}/u],
  ['han', /\p{Script=Han}/u],
  ['kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['thai', /\p{Script=Thai}/u],
  ['greek', /\p{Script=Greek}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['georgian', /\p{Script=Georgian}/u],
  ['armenian', /\p{Script=Armenian}/u],
  ['bengali', /\p{Script=Bengali}/u],
  ['tamil', /\p{Script=Tamil}/u],
  ['telugu', /\p{Script=Telugu}/u],
  ['kannada', /\p{Script=Kannada}/u],
  ['malayalam', /\p{Script=Malayalam}/u],
  ['gujarati', /\p{Script=Gujarati}/u],
  ['gurmukhi', /\p{Script=Gurmukhi}/u],
  ['oriya', /\p{Script=Oriya}/u],
  ['lao', /\p{Script=Lao}/u],
  ['ethiopic', /\p{Script=Ethiopic}/u],
];

// A CJK character carries about as much text as a short alphabetic word; weighing it like three
// letters keeps a Chinese page with some English navigation Chinese.
const CJK_WEIGHT = 3;
// eld scores are similarities, not probabilities; a softmax over a script's candidates turns the
// gap between the best and the rest into a confidence. The temperatures minimize log-loss on the
// lingua word pairs (../shared/data/langid-dev); Cyrillic languages share most n-grams, so their
// scores sit close together and need a low temperature.
const TEMPERATURE: Record<string, number> = { latin: 0.025, cyrillic: 0.004, arabic: 0.007, devanagari: 0.006 };
// Long texts are identified from a sample: n-gram evidence saturates long before this.
const SAMPLE_CHARS = 2000;
// Japanese text with few kana (headlines, lists of names) still has some; Chinese almost never.
const KANA_SHARE_FOR_JAPANESE = 0.05;

const LETTER = /\p{L}/u;

/** Counts letters per script (CJK weighted) in a sample of the text. */
function scriptWeights(sample: string): Map<Script, number> {
  const weights = new Map<Script, number>();
  for (const ch of sample) {
    if (!LETTER.test(ch)) continue;
    const code = ch.codePointAt(0)!;
    let script: Script = 'other';
    // ASCII letters are by far the most common: skip the regex scan for them.
    if (code < 0x80) script = 'latin';
    else for (const [name, pattern] of SCRIPT_PATTERNS) if (pattern.test(ch)) { script = name; break; }
    const weight = script === 'han' || script === 'kana' || script === 'hangul' ? CJK_WEIGHT : 1;
    weights.set(script, (weights.get(script) ?? 0) + weight);
  }
  return weights;
}

/** The sample identified: the start and, for long texts, the middle (past headers and menus). */
function sampleOf(text: string): string {
  if (text.length <= SAMPLE_CHARS) return text;
  const half = SAMPLE_CHARS / 2;
  const middle = Math.floor(text.length / 2);
  return `${text.slice(0, half)}\n${text.slice(middle, middle + half)}`;
}

/** Probability of the best candidate under a softmax of eld's scores restricted to `candidates`. */
function modelGuess(text: string, candidates: readonly string[], temperature: number): LanguageGuess | undefined {
  if (!eld) throw new Error('identifyLanguage: call loadLanguageModel() first');
  const scores = eld.detect(text).getScores();
  let best: string | undefined;
  for (const lang of candidates) if (scores[lang] !== undefined && (best === undefined || scores[lang]! > scores[best]!)) best = lang;
  if (best === undefined) return undefined;
  let total = 0;
  for (const lang of candidates) if (scores[lang] !== undefined) total += Math.exp((scores[lang]! - scores[best]!) / temperature);
  return { lang: best, score: 1 / total };
}

/** Identifies the language of `text` with a confidence (see LanguageGuess). */
export function identifyLanguage(text: string): LanguageGuess {
  const sample = sampleOf(text);
  const weights = scriptWeights(sample);
  let total = 0;
  for (const w of weights.values()) total += w;
  if (total === 0) return { lang: 'und', score: 0 };

  const han = weights.get('han') ?? 0;
  const kana = weights.get('kana') ?? 0;
  // Han and kana are one writing system for Japanese, so they compete together.
  const cjk = han + kana;
  let dominant: Script = 'other';
  let dominantWeight = 0;
  for (const [script, w] of weights) {
    const effective = script === 'han' || script === 'kana' ? cjk : w;
    if (effective > dominantWeight) [dominant, dominantWeight] = [script, effective];
  }
  const share = dominantWeight / total;
  if (dominant === 'han' || dominant === 'kana') {
    return { lang: kana / cjk >= KANA_SHARE_FOR_JAPANESE ? 'ja' : 'zh', score: share };
  }
  const single = SINGLE_LANGUAGE_SCRIPTS[dominant];
  if (single) return { lang: single, score: share };
  const candidates = SCRIPT_LANGUAGES[dominant];
  if (!candidates) return { lang: 'und', score: 0 };
  const guess = modelGuess(sample, candidates, TEMPERATURE[dominant]!);
  if (!guess) return { lang: 'und', score: 0 };
  return { lang: guess.lang, score: guess.score * share };
}
