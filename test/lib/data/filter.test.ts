import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Doc } from '../../../lib/io/types.js';
import { checkFilterOptions, filter, FILTER_DEFAULTS, filterRejection, parseThreshold, type FilterOptions } from '../../../lib/data/filter.js';

async function* from(docs: Doc[]): AsyncGenerator<Doc> {
  yield* docs;
}

const options = (opts: Partial<FilterOptions>): FilterOptions => ({ ...FILTER_DEFAULTS, ...opts });

test('thresholds: a bare name is a score, a dotted path any field; a bad one is a usage error', () => {
  assert.deepEqual(parseThreshold('--min', 'quality=0.5'), { path: 'scores.quality', value: 0.5 });
  assert.deepEqual(parseThreshold('--max', 'scores.perplexity=1e3'), { path: 'scores.perplexity', value: 1000 });
  assert.deepEqual(parseThreshold('--min', 'dedup.size=-2'), { path: 'dedup.size', value: -2 });
  for (const bad of ['quality', 'quality=', '=0.5', 'quality=high', 'quality=NaN', 'quality=Infinity']) {
    assert.throws(() => parseThreshold('--min', bad), { name: 'UsageError', message: /--min must be FIELD=NUMBER/ }, bad);
  }
});

test('a filter that tests nothing, or keeps nothing, is refused', () => {
  const none = { min: [], max: [], dropFlags: [], langs: [], minLangScore: 0 };
  assert.throws(() => checkFilterOptions(none), /nothing to test/);
  assert.throws(
    () => checkFilterOptions({ ...none, min: [{ path: 'scores.quality', value: 0.8 }], max: [{ path: 'scores.quality', value: 0.5 }] }),
    /--min scores.quality=0.8 and --max scores.quality=0.5 keep nothing/,
  );
  checkFilterOptions({ ...none, min: [{ path: 'scores.quality', value: 0.5 }], max: [{ path: 'scores.quality', value: 0.5 }] });
  checkFilterOptions({ ...none, minLangScore: 0.5 });
});

test('each test names its reason: the value against the bound, flag NAME, language, missing FIELD', () => {
  const reject = filterRejection(
    options({ min: [parseThreshold('--min', 'quality=0.5')], max: [parseThreshold('--max', 'scores.perplexity=1000')], dropFlags: ['offensive'], langs: ['en', 'zh'] }),
  );
  const doc = (extra: Partial<Doc>): Doc => ({ id: 'x', text: 't', lang: 'en', lang_score: 0.9, scores: { quality: 0.7, perplexity: 200 }, ...extra });
  assert.equal(reject(doc({})), null);
  assert.equal(reject(doc({ scores: { quality: 0.5, perplexity: 1000 } })), null, 'bounds are inclusive');
  assert.equal(reject(doc({ scores: { quality: 0.49, perplexity: 200 } })), 'scores.quality < 0.5');
  assert.equal(reject(doc({ scores: { quality: 0.9, perplexity: 1000.5 } })), 'scores.perplexity > 1000');
  assert.equal(reject(doc({ flags: { offensive: 'p=0.97' } })), 'flag offensive');
  assert.equal(reject(doc({ flags: { gopher_repetition: 'dup lines 0.4 > 0.3' } })), null, 'flags not named pass');
  assert.equal(reject(doc({ lang: 'de' })), 'language');
  assert.equal(reject(doc({ lang: 'zh', text: '人人生而自由' })), null);
  assert.equal(reject(doc({ scores: { perplexity: 200 } })), 'missing scores.quality');
  assert.equal(reject(doc({ scores: { quality: '0.9' as unknown as number, perplexity: 200 } })), 'missing scores.quality', 'a value that is not a number counts as missing');
  assert.equal(reject(doc({ lang: undefined })), 'missing lang');
  // The first failing test in the fixed order names the reason: language, flags, --min, --max.
  assert.equal(reject(doc({ lang: 'de', flags: { offensive: 'p=1' }, scores: { quality: 0 } })), 'language');
  assert.equal(reject(doc({ flags: { offensive: 'p=1' }, scores: { quality: 0 } })), 'flag offensive');
});

test("--drop-flag '*' drops a document with any flag; an empty flags object is no flag", () => {
  const reject = filterRejection(options({ dropFlags: ['*'] }));
  assert.equal(reject({ text: 'a', flags: { c4_lines: 'javascript' } }), 'flag c4_lines');
  assert.equal(reject({ text: 'a', flags: {} }), null);
  assert.equal(reject({ text: 'a' }), null);
});

test('--missing keep skips a test whose field a document lacks; the others still apply', () => {
  const reject = filterRejection(options({ min: [parseThreshold('--min', 'quality=0.5')], langs: ['zh'], minLangScore: 0.65, missing: 'keep' }));
  assert.equal(reject({ text: '没有分数' }), null);
  assert.equal(reject({ text: 'no score', lang: 'en', lang_score: 0.99 }), 'language');
  assert.equal(reject({ text: '分数低', lang: 'zh', lang_score: 0.99, scores: { quality: 0.1 } }), 'scores.quality < 0.5');
  assert.equal(reject({ text: '没有语言分数', lang: 'zh' }), null, 'lang without lang_score: the language test is skipped');
});

test('--langs and --min-lang-score reuse the language predicate of langid', () => {
  const reject = filterRejection(options({ langs: ['zh'], minLangScore: 0.65 }));
  assert.equal(reject({ text: '人人生而自由', lang: 'zh', lang_score: 0.99 }), null);
  assert.equal(reject({ text: '人人', lang: 'zh', lang_score: 0.5 }), 'language');
  assert.equal(reject({ text: 'hello', lang: 'en', lang_score: 0.99 }), 'language');
  assert.equal(reject({ text: '人人', lang: 'zh' }), 'missing lang_score');
  const scoreOnly = filterRejection(options({ minLangScore: 0.65 }));
  assert.equal(scoreOnly({ text: 'hello', lang: 'en', lang_score: 0.99 }), null);
  assert.equal(scoreOnly({ text: 'hi', lang: 'en', lang_score: 0.3 }), 'language');
});

test('the filter stage keeps what passes, in order, and counts drops by reason', async () => {
  const docs: Doc[] = [
    { id: '1', text: 'good', scores: { quality: 0.9 } },
    { id: '2', text: 'low', scores: { quality: 0.1 } },
    { id: '3', text: 'flagged', scores: { quality: 0.9 }, flags: { offensive: 'p=0.99' } },
    { id: '4', text: 'unscored' },
    { id: '5', text: '质量好', scores: { quality: 0.6 } },
    { id: '6', text: 'low again', scores: { quality: 0.2 } },
  ];
  const run = filter(from(docs), { min: [parseThreshold('--min', 'quality=0.5')], dropFlags: ['offensive'] });
  const kept: unknown[] = [];
  for await (const doc of run) kept.push(doc.id);
  assert.deepEqual(kept, ['1', '5']);
  assert.deepEqual(run.counters.toJSON(), { in: 6, out: 2, dropped: 4, drop_reasons: { 'scores.quality < 0.5': 2, 'flag offensive': 1, 'missing scores.quality': 1 } });
});
