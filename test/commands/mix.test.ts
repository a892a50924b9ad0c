import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sourceSpecs } from '../../commands/mix.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

function writeSources(dir: string) {
  const lines = (source: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${source}-${i}`, text: `${source} text ${i}`, source })).join('\n') + '\n';
  writeFileSync(join(dir, 'web.jsonl'), lines('web', 300));
  writeFileSync(join(dir, 'books.jsonl'), lines('books', 20));
  writeFileSync(join(dir, 'all.jsonl'), lines('web', 300) + lines('books', 20) + lines('wiki', 50));
}

test('mix by file: shares met by repeating the small source; the realised mix on stderr and in the manifest', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeSources(dir);
  const out = join(dir, 'mixed');
  const args = ['mix', `web=${join(dir, 'web.jsonl')}:3`, `books=${join(dir, 'books.jsonl')}:1`, '--total', '200', '--seed', '5', '--out', out];
  const result = await runLoom(args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /loom mix: 320 in · 200 out/, 'in: the records of the inputs, counted once');
  assert.match(result.stderr, /books\s+1\s+25\.0%\s+20\s+2\.50\s+50\s+25\.0%/);
  assert.match(result.stderr, /web\s+3\s+75\.0%\s+300\s+0\.50\s+150\s+75\.0%/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.complete, true);
  assert.deepEqual(
    manifest.mix.sources.map((s: Record<string, unknown>) => [s.name, s.docs_out, s.share, s.epochs]),
    [['web', 150, 0.75, 0.5], ['books', 50, 0.25, 2.5]],
  );
  assert.deepEqual(manifest.config.sources, args.slice(1, 3), 'the source specs are part of the resolved configuration');
  const records = parseJsonl(gunzipSync(readFileSync(join(out, 'shard-00000.jsonl.gz'))).toString());
  assert.equal(records.filter((r) => r.source === 'books').length, 50);
  const again = await runLoom(args);
  assert.match(again.stderr, /already complete/);
  assert.match(again.stderr, /books\s+1\s+25\.0%/, 'a finished run reports the mix from its manifest');
});

test('mix by field: --by source with --weight, * for the rest; deterministic for a seed', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeSources(dir);
  const args = ['mix', join(dir, 'all.jsonl'), '--weight', 'books=1', '--weight', '*=2', '--total', '100', '--seed', '3'];
  const [a, b] = await Promise.all([runLoom(args), runLoom(args)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const count = (s: string) => parseJsonl(a.stdout).filter((r) => r.source === s).length;
  assert.deepEqual([count('books'), count('web'), count('wiki'), parseJsonl(a.stdout).length], [20, 40, 40, 100]);
});

test('mix usage errors exit 2 before reading: stdin, sources and plain inputs together, plain inputs without weights', async () => {
  const result = await runLoom(['mix', '--weight', 'a=1']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /mix reads its inputs more than once \(to count them, then to draw from them\): give files, not stdin/);
  const specs = (inputs: string[], more: { by?: string; weight?: [string, number][] } = {}) => () => sourceSpecs({ inputs, weight: [], ...more });
  assert.throws(specs(['web=web.jsonl:1', 'all.jsonl']), /give every input as NAME=INPUT\[:WEIGHT\], or none/);
  assert.throws(specs(['all.jsonl']), /weights for the values of --by source with --weight NAME=W/);
  assert.throws(specs(['web=a.jsonl', 'web=b.jsonl']), /source web is named twice/);
  assert.throws(specs(['web=a.jsonl'], { weight: [['web', 2]] }), /--weight and --by are for plain inputs/);
  assert.deepEqual(specs(['all.jsonl'], { by: 'meta.lang', weight: [['en', 1]] })(), undefined);
});
