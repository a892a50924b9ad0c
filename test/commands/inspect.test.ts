import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoom } from '../helpers/cli.js';

const input = [
  { id: '1', text: 'hello there', lang: 'en', source: 'web', scores: { quality: 0.9 } },
  { id: '2', text: '你好，世界', lang: 'zh', source: 'web', scores: { quality: 0.2 } },
  { id: '3', text: 'bonjour', lang: 'fr' },
].map((d) => JSON.stringify(d)).join('\n');

test('inspect --json reports count, bytes, coverage, histograms and percentiles', async () => {
  const result = await runLoom(['inspect', '--json', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.records, 3);
  assert.equal(report.bytes, Buffer.byteLength(input));
  assert.equal(report.fields.scores.coverage, 2 / 3);
  assert.deepEqual(report.lang.values, { en: 1, fr: 1, zh: 1 });
  assert.deepEqual(report.source, { values: { web: 2 }, other: 0, missing: 1 });
  assert.equal(report.scores.quality.max, 0.9);
  assert.equal(report.text_chars.max, 11);
  assert.equal(report.text_chars.min, 5);
});

test('inspect prints a human table by default', async () => {
  const result = await runLoom(['inspect', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^records\s+3/);
  assert.match(result.stdout, /field coverage\n\s+id\s+100\.0%\s+3/);
  assert.match(result.stdout, /scores\.quality/);
  assert.match(result.stdout, /text length \(characters\)/);
});
