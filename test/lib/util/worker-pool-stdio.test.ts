// A pool's workers must not touch the main thread's stdout and stderr streams: Node's default
// piping adds an 'error' listener to each per worker (MaxListenersExceededWarning at `-j 8`), and
// stdout carries data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../../lib/util/worker-pool.js';

const PRINTING = new URL('../../fixtures/printing-worker.js', import.meta.url);

test('twelve workers add no listeners to process.stdout or process.stderr', async () => {
  const listeners = () => ['error', 'close', 'unpipe'].flatMap((event) => [process.stdout.listenerCount(event), process.stderr.listenerCount(event)]);
  const before = listeners();
  const pool = new WorkerPool<{ n: number }, number, undefined>(PRINTING, { workers: 12, init: undefined });
  try {
    const results = [];
    for await (const result of pool.map(Array.from({ length: 24 }, (_, n) => ({ n })))) results.push(result);
    assert.equal(results.length, 24);
    assert.deepEqual(listeners(), before);
  } finally {
    await pool.close();
  }
});

test('what a worker prints goes to stderr, never into the data on stdout', async () => {
  const written = { stdout: '', stderr: '' };
  const realWrite = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].write = ((chunk: string | Uint8Array) => {
      written[name] += chunk.toString();
      return true;
    }) as typeof process.stdout.write;
  }
  const pool = new WorkerPool<{ n: number }, number, undefined>(PRINTING, { workers: 1, init: undefined });
  try {
    for await (const _ of pool.map([{ n: 7 }]));
    // Worker output arrives asynchronously; wait for both lines.
    for (let i = 0; i < 200 && !/stderr of task 7/.test(written.stderr); i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await pool.close();
    Object.assign(process.stdout, { write: realWrite.stdout });
    Object.assign(process.stderr, { write: realWrite.stderr });
  }
  // (The test runner itself reports on stdout, so only the worker's line is looked for.)
  assert.doesNotMatch(written.stdout, /of task 7/);
  assert.match(written.stderr, /stdout of task 7\n/);
  assert.match(written.stderr, /stderr of task 7\n/);
});
