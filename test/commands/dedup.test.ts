import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { corpus, edit, randomText } from '../lib/data/dedup/fixtures.js';

const jsonl = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

test('loom dedup on stdin drops duplicates to --rejects with their cluster and writes the report', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = randomText(5, 150);
  const input = jsonl([
    { id: 'a', text: base },
    { id: 'b', text: randomText(6, 150) },
    { id: 'c', text: edit(base, 2, 1) },
    { id: 'd', text: base.toUpperCase() + '!' },
  ]);
  const result = await runLoom(['dedup', '--rejects', join(dir, 'dups.jsonl'), '--report', join(dir, 'clusters.jsonl'), '--workers', '1'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parseJsonl(result.stdout).map((d) => d.id), ['a', 'b']);
  assert.match(result.stderr, /loom dedup: 4 in · 2 out .* 2 dropped/);
  const rejects = parseJsonl(readFileSync(join(dir, 'dups.jsonl'), 'utf8'));
  assert.deepEqual(
    rejects.map((r) => [r.reason, r.file, r.line, (r.record as { dedup: unknown }).dedup]),
    [
      ['near-duplicate', '<stdin>', 3, { cluster: '<stdin>:1', size: 3, kept: false }],
      ['exact-duplicate', '<stdin>', 4, { cluster: '<stdin>:1', size: 3, kept: false }],
    ],
  );
  assert.deepEqual(parseJsonl(readFileSync(join(dir, 'clusters.jsonl'), 'utf8')), [
    {
      cluster: '<stdin>:1',
      size: 3,
      kept: '<stdin>:1',
      dropped: [
        { doc: '<stdin>:3', reason: 'near-duplicate' },
        { doc: '<stdin>:4', reason: 'exact-duplicate' },
      ],
    },
  ]);
});

test('the multi-stage commands, run as separate tasks, give the streaming output', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = corpus(400, 8);
  for (let f = 0; f < 3; f++) writeFileSync(join(dir, `in-${f}.jsonl`), jsonl(docs.filter((_, i) => i % 3 === f)));
  const inputs = [0, 1, 2].map((f) => join(dir, `in-${f}.jsonl`));
  const work = join(dir, 'work');
  const streaming = await runLoom(['dedup', ...inputs, '--keep', 'longest', '-q']);
  assert.equal(streaming.code, 0, streaming.stderr);
  for (const i of [0, 1]) {
    const r = await runLoom(['dedup', 'signatures', ...inputs, '--work', work, '--shard', `${i}/2`, '--keep', 'longest', '--workers', '0']);
    assert.equal(r.code, 0, r.stderr);
  }
  const again = await runLoom(['dedup', 'signatures', ...inputs, '--work', work, '--shard', '1/2', '--keep', 'longest']);
  assert.match(again.stderr, /task 1\/2 is already done/);
  assert.equal((await runLoom(['dedup', 'buckets', '--work', work])).code, 0);
  const clusters = await runLoom(['dedup', 'clusters', '--work', work]);
  assert.match(clusters.stderr, /documents with duplicates in \d+ clusters/);
  const kept: string[] = [];
  for (const i of [0, 1]) {
    const out = join(dir, `out-${i}`);
    const r = await runLoom(['dedup', 'filter', '--work', work, '--shard', `${i}/2`, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    for (const file of readdirSync(out).filter((f) => f.endsWith('.jsonl.gz'))) {
      kept.push(...parseJsonl(gunzipSync(readFileSync(join(out, file))).toString()).map((d) => d.id as string));
    }
  }
  const expected = parseJsonl(streaming.stdout).map((d) => d.id as string);
  assert.ok(expected.length < 350);
  assert.deepEqual(kept.sort(), expected.sort());
});

test('bad flags are usage errors (exit 2); bad input names its file:line (exit 1)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const keep = await runLoom(['dedup', '--keep', 'best'], { input: '{"text":"x"}\n' });
  assert.equal(keep.code, 2);
  assert.match(keep.stderr, /--keep must be first, longest or score:NAME, got "best"/);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text":"fine"}\n{"text": oops}\n');
  const data = await runLoom(['dedup', bad]);
  assert.equal(data.code, 1);
  assert.match(data.stderr, /bad\.jsonl:2: invalid JSON/);
  const stdin = await runLoom(['dedup', 'signatures', '-', '--work', join(dir, 'w')], { input: '{"text":"x"}\n' });
  assert.equal(stdin.code, 2);
  assert.match(stdin.stderr, /multi-stage mode reads files/);
  const help = await runLoom(['dedup', '--help']);
  assert.match(help.stdout, /dedup signatures/);
  assert.match(help.stdout, /--keep/);
  assert.match(help.stdout, /loom extract crawl\/\*\.warc\.gz \| loom dedup/);
});
