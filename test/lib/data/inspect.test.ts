import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inspector } from '../../../lib/data/inspect.js';

test('field coverage, value histograms, score and text-length distributions', () => {
  const inspector = new Inspector();
  for (let i = 0; i < 1000; i++) {
    inspector.add({
      id: String(i),
      text: 'x'.repeat(i + 1),
      lang: i % 4 === 0 ? 'zh' : 'en',
      ...(i % 2 === 0 ? { source: 'cc' } : {}),
      scores: { quality: i / 1000 },
      extra: i % 10 === 0 ? null : 1,
    });
  }
  const report = inspector.report(12345);
  assert.equal(report.records, 1000);
  assert.equal(report.bytes, 12345);
  assert.deepEqual(report.fields.id, { count: 1000, coverage: 1 });
  assert.deepEqual(report.fields.source, { count: 500, coverage: 0.5 });
  assert.deepEqual(report.fields.extra, { count: 900, coverage: 0.9 });
  assert.deepEqual(report.lang.values, { en: 750, zh: 250 });
  assert.equal(report.source.missing, 500);
  const q = report.scores.quality!;
  assert.equal(q.min, 0);
  assert.equal(q.max, 0.999);
  assert.ok(Math.abs(q.percentiles.p50! - 0.5) < 0.01);
  assert.equal(q.histogram!.reduce((n, b) => n + b.count, 0), 1000);
  // 1000 values are held, so the bins count the values themselves.
  assert.equal(q.exact, true);
  assert.ok(q.histogram!.every((b) => b.count === 100), JSON.stringify(q.histogram));
  const text = report.text_chars!;
  assert.ok(Math.abs(text.percentiles.p90! - 900) / 900 < 0.02);
  assert.equal(text.max, 1000);
});

test('text length counts characters, not UTF-16 units', () => {
  const inspector = new Inspector();
  inspector.add({ text: '😀😀你' });
  assert.equal(inspector.report(0).text_chars!.max, 3);
});
