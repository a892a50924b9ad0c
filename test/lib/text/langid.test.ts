import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifyLanguage, loadLanguageModel, SUPPORTED_LANGUAGES } from '../../../lib/text/langid.js';
import { langid, parseLangs } from '../../../lib/text/langid-stage.js';
import { brownFiles, brownParagraphs, udhrArticles } from '../../../examples/quickstart/make-warc.js';

await loadLanguageModel();

function accuracy(samples: string[], lang: string): number {
  return samples.filter((s) => identifyLanguage(s).lang === lang).length / samples.length;
}

const udhr = (code: string) => udhrArticles(code).flatMap((a) => a.paragraphs).filter((p) => [...p].length >= 20);

test('supports at least 60 languages, including the ones the Qwen pipeline needs', () => {
  assert.ok(SUPPORTED_LANGUAGES.length >= 60);
  for (const lang of ['zh', 'en', 'ja', 'ko', 'de', 'fr', 'es', 'ru', 'ar', 'pt', 'vi']) assert.ok(SUPPORTED_LANGUAGES.includes(lang), lang);
});

test('English (Brown corpus paragraphs) is identified with high confidence', () => {
  const paragraphs = brownFiles().slice(0, 40).flatMap((f) => brownParagraphs(f).slice(0, 5)).filter((p) => p.length >= 40);
  assert.ok(paragraphs.length >= 150);
  assert.ok(accuracy(paragraphs, 'en') >= 0.99);
  const confident = paragraphs.filter((p) => identifyLanguage(p).score >= 0.65).length / paragraphs.length;
  assert.ok(confident >= 0.95, `only ${confident} of English paragraphs scored ≥ 0.65`);
});

test('Chinese, simplified and traditional, is identified (script rule) and not confused with Japanese', () => {
  for (const code of ['cmn_hans', 'cmn_hant']) {
    const paragraphs = udhr(code);
    assert.ok(paragraphs.length >= 30, `${code}: ${paragraphs.length} paragraphs`);
    assert.equal(accuracy(paragraphs, 'zh'), 1, code);
  }
  assert.equal(identifyLanguage('北京').lang, 'zh');
  assert.equal(identifyLanguage('人人生而自由，在尊严和权利上一律平等。').lang, 'zh');
  // Kana makes it Japanese even when most characters are kanji.
  assert.equal(identifyLanguage('すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。').lang, 'ja');
  assert.equal(accuracy(udhr('jpn'), 'ja'), 1);
});

test('a Chinese page with some English navigation stays Chinese', () => {
  const text = 'Home News Sports Login Register\n\n人人有资格享有本宣言所载的一切权利和自由，不分种族、肤色、性别、语言、宗教、政治或其他见解。';
  const guess = identifyLanguage(text);
  assert.equal(guess.lang, 'zh');
  assert.ok(guess.score >= 0.65, String(guess.score));
});

test('identifies sentences across scripts and shared-script languages', () => {
  const cases: [string, string][] = [['kor', 'ko'], ['rus', 'ru'], ['ukr', 'uk'], ['arb', 'ar'], ['deu_1996', 'de'], ['fra', 'fr'], ['spa', 'es'], ['por_PT', 'pt'], ['vie', 'vi'], ['tha', 'th'], ['hin', 'hi'], ['ell_monotonic', 'el'], ['heb', 'he'], ['pol', 'pl'], ['tur', 'tr']];
  for (const [code, lang] of cases) assert.ok(accuracy(udhr(code), lang) >= 0.95, `${code} → ${lang}`);
});

test('text without letters is und with score 0', () => {
  assert.deepEqual(identifyLanguage('12345 67.89 !!! ---'), { lang: 'und', score: 0 });
  assert.deepEqual(identifyLanguage(''), { lang: 'und', score: 0 });
});

test('the langid stage tags documents and drops other languages with a reason', async () => {
  const docs = [
    { id: 'en', text: 'The committee approved the new budget after a long debate on Tuesday evening.' },
    { id: 'zh', text: '人人有权享有生命、自由和人身安全。' },
    { id: 'de', text: 'Der Ausschuss hat den neuen Haushalt nach einer langen Debatte am Dienstagabend gebilligt.' },
    { id: 'none', title: 'no text field' },
  ];
  async function* source() {
    yield* docs.map((d) => ({ ...d }));
  }
  const run = langid(source(), { langs: parseLangs('zh,en'), minLangScore: 0.65 });
  const out = [];
  for await (const doc of run) out.push(doc);
  assert.deepEqual(out.map((d) => [d.id, d.lang]), [['en', 'en'], ['zh', 'zh']]);
  assert.ok(out.every((d) => (d.lang_score ?? 0) >= 0.65));
  assert.equal(run.counters.dropped, 2);
  assert.deepEqual(run.counters.dropReasons, { language: 1, 'no text': 1 });
});

test('parseLangs rejects unknown codes', () => {
  assert.deepEqual(parseLangs('zh, EN'), ['zh', 'en']);
  assert.throws(() => parseLangs('zh,xx'), /unknown language xx/);
});
