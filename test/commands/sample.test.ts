import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonl, runLoom } from '../helpers/cli.js';

const input = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i })).join('\n');

test('sample -n is seeded, streaming and in input order', async () => {
  const a = await runLoom(['sample', '-n', '10', '--seed', '3', '--quiet'], { input });
  const b = await runLoom(['sample', '-n', '10', '--seed', '3', '--quiet'], { input });
  const c = await runLoom(['sample', '-n', '10', '--seed', '4', '--quiet'], { input });
  assert.equal(a.code, 0, a.stderr);
  const ids = parseJsonl(a.stdout).map((d) => d.id as number);
  assert.equal(ids.length, 10);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, c.stdout);
});

test('sample -n 0 is a usage error', async () => {
  const result = await runLoom(['sample', '-n', '0'], { input });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--count must be a whole number ≥ 1, got 0/);
});
