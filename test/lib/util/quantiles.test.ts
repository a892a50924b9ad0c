import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantileSketch } from '../../../lib/util/quantiles.js';
import { createRandom } from '../../../lib/util/random.js';

test('quantiles stay within 1% relative error on a skewed distribution, in bounded memory', () => {
  const sketch = new QuantileSketch();
  const random = createRandom(42);
  const values: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const v = Math.exp(10 * random.next()) - 1; // spans 0 … 22025
    values.push(v);
    sketch.add(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.01, 0.25, 0.5, 0.9, 0.99]) {
    const exact = values[Math.floor(q * (values.length - 1))]!;
    const estimate = sketch.quantile(q);
    assert.ok(Math.abs(estimate - exact) <= 0.011 * exact + 1e-9, `q${q}: ${estimate} vs ${exact}`);
  }
  assert.equal(sketch.min, values[0]);
  assert.equal(sketch.max, values.at(-1));
});

test('negative values, zeros and a constant stream', () => {
  const sketch = new QuantileSketch();
  for (const v of [-5, -1, 0, 0, 1, 5]) sketch.add(v);
  assert.ok(Math.abs(sketch.quantile(0) + 5) < 0.06);
  assert.equal(sketch.quantile(0.5), 0);
  const constant = new QuantileSketch();
  for (let i = 0; i < 10; i++) constant.add(3);
  assert.deepEqual(constant.histogram(10), [{ lo: 3, hi: 3, count: 10 }]);
  assert.equal(constant.quantile(0.5), 3);
});
