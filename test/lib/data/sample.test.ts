import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../../../lib/data/sample.js';
import type { Doc } from '../../../lib/io/types.js';

async function* docs(n: number): AsyncGenerator<Doc> {
  for (let i = 0; i < n; i++) yield { id: String(i) };
}

async function ids(n: number, k: number, seed: number): Promise<number[]> {
  const out: number[] = [];
  for await (const doc of sample(docs(n), { n: k, seed })) out.push(Number(doc.id));
  return out;
}

test('the same seed gives the same sample, in input order; another seed another sample', async () => {
  const a = await ids(10_000, 50, 1);
  assert.deepEqual(a, await ids(10_000, 50, 1));
  assert.notDeepEqual(a, await ids(10_000, 50, 2));
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.equal(new Set(a).size, 50);
});

test('asking for more than there is returns everything', async () => {
  assert.deepEqual(await ids(7, 100, 0), [0, 1, 2, 3, 4, 5, 6]);
});

test('every record is equally likely to be chosen (each position ~k/n over many seeds)', async () => {
  const n = 40, k = 10, trials = 4000;
  const hits = new Array(n).fill(0);
  for (let seed = 0; seed < trials; seed++) for (const id of await ids(n, k, seed)) hits[id] += 1;
  const expected = (trials * k) / n;
  const chiSquare = hits.reduce((sum, h) => sum + (h - expected) ** 2 / expected, 0);
  // 39 degrees of freedom: the 99.9th percentile is about 72.
  assert.ok(chiSquare < 72, `chi-square ${chiSquare.toFixed(1)}; hits ${hits.join(',')}`);
});

test('counters report records in and out', async () => {
  const run = sample(docs(100), { n: 5, seed: 0 });
  for await (const doc of run) void doc;
  assert.equal(run.counters.in, 100);
  assert.equal(run.counters.out, 5);
});
