import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../../lib/util/worker-pool.js';

const MODULE = new URL('../../fixtures/square-worker.js', import.meta.url);
type Task = { n: number; mode?: 'hang' | 'throw' | 'crash' };

async function collect(workers: number, tasks: Task[], extra: { batchSize?: number; taskTimeoutMs?: number } = {}) {
  const pool = new WorkerPool<Task, number, { offset: number }>(MODULE, { workers, init: { offset: 1 }, ...extra });
  try {
    const out = [];
    for await (const result of pool.map(tasks)) out.push(result);
    return out;
  } finally {
    await pool.close();
  }
}

test('results come back in input order for any number of workers and batch size', async () => {
  const tasks = Array.from({ length: 200 }, (_, n) => ({ n }));
  const expected = tasks.map(({ n }) => ({ ok: true, value: n * n + 1 }));
  assert.deepEqual(await collect(0, tasks), expected);
  assert.deepEqual(await collect(1, tasks, { batchSize: 7 }), expected);
  assert.deepEqual(await collect(2, tasks, { batchSize: 3 }), expected);
});

test('a throwing task fails alone, with its message', async () => {
  const results = await collect(2, [{ n: 1 }, { n: 2, mode: 'throw' }, { n: 3 }], { batchSize: 2 });
  assert.deepEqual(results, [
    { ok: true, value: 2 },
    { ok: false, error: 'bad task 2' },
    { ok: true, value: 10 },
  ]);
});

test('a hanging task times out, its worker is replaced, and its batch-mates still succeed', async () => {
  const results = await collect(1, [{ n: 1 }, { n: 2, mode: 'hang' }, { n: 3 }, { n: 4 }], { batchSize: 2, taskTimeoutMs: 300 });
  assert.deepEqual(results.map((r) => r.ok), [true, false, true, true]);
  assert.match((results[1] as { error: string }).error, /timed out after 300 ms/);
  assert.deepEqual(results[3], { ok: true, value: 17 });
});

test('a task that kills its worker is reported and the run goes on', async () => {
  const results = await collect(1, [{ n: 1, mode: 'crash' }, { n: 5 }]);
  assert.equal(results[0]!.ok, false);
  assert.match((results[0] as { error: string }).error, /exited with code 3/);
  assert.deepEqual(results[1], { ok: true, value: 26 });
});
