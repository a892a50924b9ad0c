import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../../lib/util/random.js';

test('seeded streams repeat, differ across seeds, and are roughly uniform', () => {
  const a = createRandom(7), b = createRandom(7), c = createRandom(8);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const buckets = new Array(10).fill(0);
  const r = createRandom(1);
  for (let i = 0; i < 100_000; i++) buckets[r.int(10)] += 1;
  assert.ok(buckets.every((n) => Math.abs(n - 10_000) < 500), buckets.join(','));
});
