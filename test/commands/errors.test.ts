// Errors that name the problem, end to end through the CLI (issue 21, finding 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { gzipRecord } from '../../lib/data/extract/warc-write.js';
import { LOOM_BIN, parseJsonl, runLoom, spawnLoom, tempDir } from '../helpers/cli.js';

const TSX = import.meta.resolve('tsx');
const jsonl = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: String(i), text: `text of document ${i}, which says a little more than nothing at all` }));

test('a truncated .gz input: "truncated gzip after N lines", and those N lines are written', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'cut.jsonl.gz');
  const packed = gzipSync(jsonl(records(20_000)));
  writeFileSync(file, packed.subarray(0, Math.floor(packed.length * 0.6)));
  const result = await runLoom(['cat', file]);
  assert.equal(result.code, 1);
  const kept = parseJsonl(result.stdout);
  assert.ok(kept.length > 5000 && kept.length < 20_000, `${kept.length} records`);
  assert.deepEqual(kept.map((d) => d.id), records(kept.length).map((d) => d.id));
  assert.match(result.stderr, new RegExp(`cut\\.jsonl\\.gz: truncated gzip after ${kept.length} lines\\n`));
  assert.doesNotMatch(result.stderr, /unexpected end of file/);
});

test('a truncated page.html.gz given to extract is dropped as "truncated gzip", named by its file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const packed = gzipSync(`<html><body><p>${'Hello world, this is the text. '.repeat(500)}</p></body></html>`);
  const file = join(dir, 'page.html.gz');
  writeFileSync(file, packed.subarray(0, packed.length >> 1));
  const result = await runLoom(['extract', '-j', '0', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /page\.html\.gz:1: truncated gzip\n/);
  assert.match(result.stderr, /1 dropped \(1 truncated gzip\)/);
});

test('binary junk given as JSONL or WARC is named, and no raw control byte reaches the terminal', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const junk = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 27) % 256));
  writeFileSync(join(dir, 'junk.jsonl'), junk);
  writeFileSync(join(dir, 'junk.warc'), junk);
  const asJsonl = await runLoom(['cat', join(dir, 'junk.jsonl')]);
  assert.equal(asJsonl.code, 1);
  assert.match(asJsonl.stderr, /junk\.jsonl:1: not JSONL: binary data "/);
  const asWarc = await runLoom(['extract', '-j', '0', join(dir, 'junk.warc')]);
  assert.equal(asWarc.code, 1);
  assert.match(asWarc.stderr, /junk\.warc: not a WARC file \(/);
  // Under skip every bad line is reported: none of the messages carries a raw control character.
  const skipped = await runLoom(['cat', '--on-error', 'skip', join(dir, 'junk.jsonl')]);
  assert.equal(skipped.code, 0, skipped.stderr);
  for (const stderr of [asJsonl.stderr, asWarc.stderr, skipped.stderr]) {
    assert.doesNotMatch(stderr.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f]/);
  }
});

test('a line over --max-line-bytes (or LOOM_MAX_LINE_BYTES) is named with file:line; under skip the lines after it are kept', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'long.jsonl');
  writeFileSync(file, jsonl([{ id: 'a' }, { id: 'long', text: 'x'.repeat(5000) }, { id: 'b' }]));
  const failed = await runLoom(['cat', file, '--max-line-bytes', '1000']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /long\.jsonl:2: line longer than the limit of 1000 bytes \(raise it with --max-line-bytes\)/);
  assert.deepEqual(parseJsonl(failed.stdout), [{ id: 'a' }]);
  const rejects = join(dir, 'rejects.jsonl');
  const skipped = await runLoom(['cat', file, '--on-error', 'skip', '--rejects', rejects], { env: { LOOM_MAX_LINE_BYTES: '1000' } });
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.deepEqual(parseJsonl(skipped.stdout), [{ id: 'a' }, { id: 'b' }]);
  assert.match(skipped.stderr, /long\.jsonl:2: line longer than the limit of 1000 bytes/);
  assert.deepEqual(parseJsonl(readFileSync(rejects, 'utf8')).map((r) => [r.line, 'raw' in r]), [[2, false]]);
  // The default limit reads the same line.
  assert.equal(parseJsonl((await runLoom(['cat', file])).stdout).length, 3);
});

test('invalid UTF-8 is counted in the run summary with the first file:line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'latin1.jsonl');
  writeFileSync(file, Buffer.from('{"text":"plain"}\n{"text":"caf\xe9"}\n{"text":"ok"}\n{"text":"na\xefve"}\n', 'latin1'));
  const result = await runLoom(['cat', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(parseJsonl(result.stdout)[1]!.text, 'caf\ufffd');
  assert.match(result.stderr, /· 2 lines with invalid UTF-8, read with U\+FFFD \(first at [^)]*latin1\.jsonl:2\)/);
  const clean = await runLoom(['cat'], { input: '{"text":"café"}\n' });
  assert.doesNotMatch(clean.stderr, /invalid UTF-8/);
});

test('Ctrl-C during cat --out says how to resume and exits 130; the rerun completes without loss or duplicates', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  const all = records(200_000);
  writeFileSync(input, jsonl(all));
  const out = join(dir, 'shards');
  const args = ['cat', input, '--out', out, '--shard-size', '2000'];
  const run = spawnLoom(args);
  const manifest = join(out, 'manifest.json');
  await run.until(() => existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).shards.length >= 2);
  run.child.kill('SIGINT');
  const { code } = await run.closed;
  assert.equal(code, 130);
  assert.match(run.stderr, /loom cat: interrupted; rerun the same command to resume/);
  assert.equal(JSON.parse(readFileSync(manifest, 'utf8')).complete, false);
  const rerun = await runLoom(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /resumed after [\d.]+k? records/);
  const final = JSON.parse(readFileSync(manifest, 'utf8'));
  const ids = final.shards.flatMap((s: { file: string }) => parseJsonl(gunzipSync(readFileSync(join(out, s.file))).toString()).map((d) => d.id));
  assert.deepEqual(ids, all.map((d) => d.id));
});

test('Ctrl-C during tokenize --out says how to resume and exits 130', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, jsonl(records(200_000)));
  const run = spawnLoom(['tokenize', input, '--out', join(dir, 'tokens'), '--workers', '0', '--vocab', 'cl100k', '--progress', 'json']);
  await run.until(() => /"records":[1-9]/.test(run.stderr));
  run.child.kill('SIGINT');
  const { code } = await run.closed;
  assert.equal(code, 130);
  assert.match(run.stderr, /loom tokenize: interrupted; rerun the same command to resume/);
});

test('extract -j 12 into a pipe prints no Node warning', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const paragraph = 'The committee approved the new budget after a long debate on Tuesday evening, and the members went home. ';
  // Over 64 KiB of output: the writer waits for stdout to drain, which adds a listener there.
  const pages = Array.from({ length: 40 }, (_, i) =>
    gzipRecord({
      type: 'response',
      recordId: `urn:uuid:${i}`,
      date: '2026-11-01T00:00:00Z',
      url: `https://example.com/${i}`,
      http: { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } },
      body: `<html><body><article><p>${paragraph.repeat(30)} Page ${i}.</p></article></body></html>`,
    }),
  );
  writeFileSync(join(dir, 'crawl.warc.gz'), Buffer.concat(pages));
  // Through a shell pipe, as a user runs it (the listeners pile up on the pipe to `cat`).
  const run = spawnSync('bash', ['-c', `"${process.execPath}" --import "${TSX}" "${LOOM_BIN}" extract -j 12 "${join(dir, 'crawl.warc.gz')}" | cat`], {
    env: { ...process.env, CI: 'true' },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(parseJsonl(run.stdout).length, 40);
  assert.doesNotMatch(run.stderr, /Warning|\(node:\d+\)/);
});
