import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonl, runLoom } from '../helpers/cli.js';

test('cat passes records through untouched, unknown fields included', async () => {
  const input = '{"id":"1","text":"a","weird":{"nested":[1,2]}}\n{"id":"2","text":"b"}\n';
  const result = await runLoom(['cat', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parseJsonl(result.stdout), parseJsonl(input));
});
