// While the values fit in memory, quantiles are exact (linear interpolation, as numpy and pandas
// by default); past the limit the sketch takes over (issue 21: lengths [10, 20] gave p50 = p99 = 10.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inspector } from '../../../lib/data/inspect.js';
import { QuantileSketch } from '../../../lib/util/quantiles.js';

test('lengths [10, 20]: p50 = 15 and p99 = 19.9, exactly', () => {
  const inspector = new Inspector();
  inspector.add({ text: 'x'.repeat(10) });
  inspector.add({ text: 'x'.repeat(20) });
  const text = inspector.report(0).text_chars!;
  assert.equal(text.exact, true);
  assert.deepEqual(text.percentiles, { p1: 10.1, p10: 11, p25: 12.5, p50: 15, p75: 17.5, p90: 19, p99: 19.9 });
});

test('small inputs give the same quantiles as linear interpolation over the sorted values', () => {
  const values = [7, 1, 1000, 3, 3, 42, 0, -2.5, 99, 12];
  const sketch = new QuantileSketch();
  for (const v of values) sketch.add(v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
    const rank = q * (sorted.length - 1);
    const lo = Math.floor(rank);
    const expected = sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (rank - lo);
    assert.ok(Math.abs(sketch.quantile(q) - expected) < 1e-9, `q${q}: ${sketch.quantile(q)} vs ${expected}`);
  }
  // The histogram counts the values themselves, not bucket representatives.
  const histogram = sketch.histogram(4);
  assert.deepEqual(histogram.map((b) => b.count), [9, 0, 0, 1]);
});

test('past the limit the sketch answers, within 1%, and says it is not exact', () => {
  const sketch = new QuantileSketch(0.01, 100);
  for (let i = 1; i <= 100; i++) sketch.add(i);
  assert.equal(sketch.exact, true);
  assert.equal(sketch.quantile(0.5), 50.5);
  sketch.add(101);
  assert.equal(sketch.exact, false);
  assert.ok(Math.abs(sketch.quantile(0.5) - 51) / 51 < 0.011, String(sketch.quantile(0.5)));
});
