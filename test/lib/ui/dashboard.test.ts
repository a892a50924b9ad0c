import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lossChart } from '../../../lib/ui/dashboard.js';

test('loss chart: one column per step (or per bucket of steps), scaled from the lowest to the highest loss', () => {
  const rows = lossChart([4, 3, 2, 1], 10, 2);
  assert.deepEqual(rows, ['█▃  ', '██▆▁'], '16 levels over 2 rows: 4, 3, 2, 1 → 16, 11, 6, 1 eighths');
  const wide = lossChart(Array.from({ length: 1000 }, (_, i) => 10 - i / 100), 50, 4);
  assert.equal(wide.length, 4);
  assert.ok(wide.every((r) => [...r].length === 50), 'buckets fit the width');
  assert.equal(wide[3]![49], '▁', 'the last bucket is the lowest');
  assert.deepEqual(lossChart([NaN], 10), []);
});
