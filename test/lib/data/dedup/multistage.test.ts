import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dedup } from '../../../../lib/data/dedup/stream.js';
import { dedupFilter, parseShard, runBuckets, runClusterPart, runClusters, runSignatures, shardInputs } from '../../../../lib/data/dedup/multistage.js';
import { DEDUP_DEFAULTS, type DedupParams } from '../../../../lib/data/dedup/options.js';
import { readDocs } from '../../../../lib/io/read.js';
import type { Doc } from '../../../../lib/io/types.js';
import { tempDir } from '../../../helpers/cli.js';
import { collect, corpus } from './fixtures.js';

/** Writes the corpus round-robin into `files` JSONL files (plus one bad line, skipped). */
function writeInputs(dir: string, docs: Doc[], files: number): string[] {
  const lines: string[][] = Array.from({ length: files }, () => []);
  docs.forEach((doc, i) => lines[i % files]!.push(JSON.stringify(doc)));
  return lines.map((l, f) => {
    const path = join(dir, `in-${f}.jsonl`);
    writeFileSync(path, l.join('\n') + '\n');
    return path;
  });
}

async function streaming(inputs: string[], params: DedupParams, report: string): Promise<Map<string, unknown>> {
  const out = await collect(dedup(readDocs(inputs), { ...params, mode: 'tag', report, workers: 1 }));
  return new Map(out.map((d) => [d.id!, d.dedup]));
}

async function multiStage(inputs: string[], params: DedupParams, work: string, tasks: number, parts: number, report: string): Promise<Map<string, unknown>> {
  for (let i = tasks - 1; i >= 0; i--) await runSignatures(inputs, { work, shard: { index: i, count: tasks }, params, workers: 0 });
  for (let j = 0; j < 3; j++) runBuckets(work, { index: j, count: 3 });
  if (parts > 0) for (let j = 0; j < parts; j++) runClusterPart(work, { index: j, count: parts });
  runClusters(work, { parts: parts || undefined, report });
  const tags = new Map<string, unknown>();
  for (let i = 0; i < tasks; i++) {
    const shard = { index: i, count: tasks };
    for await (const doc of dedupFilter(readDocs(shardInputs(work, shard)), { work, shard, mode: 'tag' })) tags.set(doc.id!, doc.dedup);
  }
  return tags;
}

test('the multi-stage mode gives exactly the streaming clusters, kept set and report, for any number of tasks', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = corpus(1200, 2);
  const inputs = writeInputs(dir, docs, 5);
  for (const [keep, tasks, parts] of [['first', 1, 0], ['first', 3, 0], ['score:q', 2, 2], ['longest', 5, 3]] as const) {
    const params = { ...DEDUP_DEFAULTS, keep, url: false } as DedupParams;
    const expected = await streaming(inputs, params, join(dir, 'stream-report.jsonl'));
    const work = join(dir, `work-${keep}-${tasks}-${parts}`);
    const actual = await multiStage(inputs, params, work, tasks, parts, join(dir, 'multi-report.jsonl'));
    assert.equal(actual.size, docs.length);
    assert.deepEqual(actual, expected, `keep ${keep}, ${tasks} tasks, ${parts} parts`);
    assert.equal(readFileSync(join(dir, 'multi-report.jsonl'), 'utf8'), readFileSync(join(dir, 'stream-report.jsonl'), 'utf8'));
    const kept = [...expected.values()].filter((d) => (d as { kept: boolean }).kept).length;
    assert.ok(kept < docs.length * 0.75, `${kept} kept`);
  }
});

test('reruns skip finished tasks, redo unfinished ones, and steps refuse to run before their inputs are done', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const inputs = writeInputs(dir, corpus(300, 3), 4);
  const work = join(dir, 'work');
  const params = { ...DEDUP_DEFAULTS, url: true };
  const shard = (index: number) => ({ index, count: 2 });
  assert.equal((await runSignatures(inputs, { work, shard: shard(0), params, workers: 0 })).skipped, false);
  assert.throws(() => runBuckets(work, { index: 0, count: 1 }), /1 signature tasks not finished yet \(first: .*task-00001-of-00002\)/);
  assert.equal((await runSignatures(inputs, { work, shard: shard(1), params, workers: 0 })).skipped, false);
  assert.equal((await runSignatures(inputs, { work, shard: shard(1), params, workers: 0 })).skipped, true);
  await assert.rejects(runSignatures(inputs, { work, shard: shard(1), params: { ...params, bands: 9 }, workers: 0 }), /belongs to another run/);
  assert.throws(() => runClusters(work), /bucket spaces not finished/);
  const buckets = runBuckets(work, { index: 0, count: 1 });
  assert.equal(buckets.spaces, 16); // exact, url and 14 bands
  assert.equal(buckets.skipped, 0);
  assert.ok(buckets.edges > 100);
  assert.deepEqual(runBuckets(work, { index: 0, count: 1 }), { spaces: 16, skipped: 16, edges: 0 });
  rmSync(join(work, 'buckets', 'band-03.edges.done'));
  assert.deepEqual(runBuckets(work, { index: 0, count: 1 }).skipped, 15);
  const first = runClusters(work);
  assert.equal(first.skipped, false);
  assert.equal(runClusters(work).skipped, true);
  assert.throws(() => shardInputs(work, { index: 0, count: 3 }), /--shard must split into 2 tasks/);
  assert.throws(() => parseShard('3/3'), /0 <= i < N/);
  await assert.rejects(runSignatures([inputs[0]!, inputs[0]!], { work: join(dir, 'other'), shard: shard(0), params, workers: 0 }), /given twice/);
});

