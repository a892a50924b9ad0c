import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { gzipRecord } from '../../lib/data/extract/warc-write.js';
import { crawlRecords } from '../../examples/quickstart/make-warc.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

test('extract a WARC.gz: Chinese kept, the rest rejected with reasons and located on stderr', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const crawl = join(dir, 'crawl.warc.gz');
  writeFileSync(crawl, Buffer.concat(crawlRecords({ pages: 20, seed: 5 }).map(gzipRecord)));
  const rejects = join(dir, 'rejects.jsonl');
  const result = await runLoom(['extract', crawl, '--langs', 'zh', '--min-lang-score', '0.65', '--rejects', rejects, '-j', '1']);
  assert.equal(result.code, 0, result.stderr);
  const docs = parseJsonl(result.stdout);
  assert.equal(docs.length, 2);
  for (const doc of docs) {
    assert.equal(doc.lang, 'zh');
    assert.ok((doc.lang_score as number) >= 0.65);
    assert.match(String(doc.url), /^https:\/\/news\.example\.cn\//);
    assert.ok(!String(doc.text).includes('Cookie'));
  }
  const rejected = parseJsonl(readFileSync(rejects, 'utf8'));
  const reasons: Record<string, number> = {};
  for (const r of rejected) reasons[r.reason as string] = (reasons[r.reason as string] ?? 0) + 1;
  assert.deepEqual(reasons, { language: 18, 'non-html': 1, 'too short': 1 });
  assert.ok(rejected.every((r) => r.file === crawl && typeof r.line === 'number' && (r.record as { warc_record_id?: string }).warc_record_id));
  assert.match(result.stderr, new RegExp(`${crawl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: non-html \\(https://`));
  assert.match(result.stderr, /loom extract: 22 in · 2 out · 0 rejected lines · 20 dropped \(18 language, 1 non-html, 1 too short\)/);
});

test('extract a directory of HTML files and JSONL with html into --out shards', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'site', 'sub'), { recursive: true });
  const page = (text: string) => `<html><head><title>${text.slice(0, 10)}</title></head><body><nav>Home · About</nav><article><p>${text.repeat(8)}</p></article></body></html>`;
  writeFileSync(join(dir, 'site', 'a.html'), page('The first saved page talks about rivers. '));
  writeFileSync(join(dir, 'site', 'sub', 'b.htm'), page('The second saved page talks about mountains. '));
  writeFileSync(join(dir, 'site', 'notes.txt'), 'not a page');
  writeFileSync(join(dir, 'pages.jsonl'), JSON.stringify({ url: 'https://example.org/c', html: page('A third page arrives as JSON with its url. '), source: 'my-crawl' }) + '\n');
  const out = join(dir, 'out');
  const result = await runLoom(['extract', join(dir, 'site'), join(dir, 'pages.jsonl'), '--out', out, '-j', '0']);
  assert.equal(result.code, 0, result.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.shards.length, 1);
  const shard = readdirSync(out).find((f) => f.endsWith('.jsonl.gz'))!;
  const docs = parseJsonl(gunzipSync(readFileSync(join(out, shard))).toString());
  assert.deepEqual(docs.map((d) => d.id ?? d.url), [join(dir, 'site', 'a.html'), join(dir, 'site', 'sub', 'b.htm'), 'https://example.org/c']);
  assert.equal(docs[2]!.source, 'my-crawl');
  assert.ok(docs.every((d) => d.lang === 'en' && !String(d.text).includes('Home') && !('html' in d)));
});

test('a file that is not WARC fails with its location, or is skipped under --on-error skip', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const bad = join(dir, 'bad.warc');
  writeFileSync(bad, 'this is not a WARC file\r\nat: all\r\n\r\n');
  const failed = await runLoom(['extract', bad, '-j', '0']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a WARC file \\(starts with "this"\\)`));
  const skipped = await runLoom(['extract', bad, '-j', '0', '--on-error', 'skip', '--rejects', join(dir, 'r.jsonl')]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /not a WARC file .*rest of this file skipped/);
  assert.match(readFileSync(join(dir, 'r.jsonl'), 'utf8'), /unreadable WARC/);
});

test('usage errors exit 2', async () => {
  const result = await runLoom(['extract', '--langs', 'zh,klingon', '-']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown language klingon/);
});
