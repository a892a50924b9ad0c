import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { extract, type ExtractOptions } from '../../../../lib/data/extract/extract.js';
import { readPages } from '../../../../lib/data/extract/pages.js';
import { gzipRecord, warcRecord, type WarcRecordSpec } from '../../../../lib/data/extract/warc-write.js';
import { RejectSink } from '../../../../lib/io/rejects.js';
import type { Doc } from '../../../../lib/io/types.js';
import { crawlRecords } from '../../../../examples/quickstart/make-warc.js';
import { parseJsonl, tempDir } from '../../../helpers/cli.js';

const MB = 1 << 20;

async function run(inputs: string[], opts: Partial<ExtractOptions>, rejectsPath?: string) {
  const rejects = rejectsPath ? new RejectSink(rejectsPath) : undefined;
  const warnings: string[] = [];
  const records: Record<string, number> = {};
  const count = (key: string, n = 1) => (records[key] = (records[key] ?? 0) + n);
  const stage = extract(readPages(inputs, { maxPageBytes: opts.maxPageBytes ?? 10 * MB, count }), { warn: (m) => warnings.push(m), rejects, ...opts });
  const docs: Doc[] = [];
  for await (const doc of stage) docs.push(doc);
  rejects?.close();
  return { docs, counters: stage.counters, records, warnings, rejects: rejectsPath ? parseJsonl(readFileSync(rejectsPath, 'utf8')) : [] };
}

const response = (n: number, body: string | Buffer, contentType = 'text/html; charset=utf-8'): WarcRecordSpec => ({
  type: 'response',
  recordId: `urn:uuid:test-${n}`,
  date: '2026-11-01T00:00:00Z',
  url: `https://example.com/${n}`,
  http: { status: 200, headers: { 'Content-Type': contentType } },
  body,
});
const article = (words: string) => `<html><head><title>Page</title></head><body><article><p>${words.repeat(12)}</p></article></body></html>`;

test('the output is identical for 0 (in-thread) and 2 workers, in input order', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'crawl.warc.gz');
  writeFileSync(path, Buffer.concat(crawlRecords({ pages: 12, seed: 3 }).map(gzipRecord)));
  const inline = await run([path], { workers: 0 });
  const two = await run([path], { workers: 2 });
  assert.equal(inline.docs.length, 12);
  assert.deepEqual(two.docs, inline.docs);
  assert.deepEqual(two.counters.toJSON(), inline.counters.toJSON());
  const langs = new Set(inline.docs.map((d) => d.lang));
  assert.deepEqual([...langs].sort(), ['en', 'zh']);
  for (const doc of inline.docs) {
    assert.match(doc.id!, /^urn:uuid:/);
    assert.ok(doc.url && doc.title && doc.warc_record_id && typeof doc.lang_score === 'number');
    assert.ok(!/We use cookies|本网站使用Cookie/.test(String(doc.text)), 'cookie banner removed');
  }
  assert.deepEqual(inline.records, { warc_warcinfo_records: 1, warc_request_records: 14, warc_response_records: 14, warc_metadata_records: 14 });
  assert.deepEqual(inline.counters.dropReasons, { 'non-html': 1, 'too short': 1 });
});

test('a page slower than the time budget is dropped as timed out; the run goes on', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const slow = `<html><body>${'<div><p>word word word, word word.</p><a href="#">x</a></div>'.repeat(12000)}</body></html>`;
  const path = join(dir, 'slow.warc.gz');
  writeFileSync(path, Buffer.concat([response(1, article('First page text. ')), response(2, slow), response(3, article('Third page text. '))].map(gzipRecord)));
  const result = await run([path], { workers: 1, pageTimeoutMs: 700 }, join(dir, 'rejects.jsonl'));
  assert.deepEqual(result.docs.map((d) => d.url), ['https://example.com/1', 'https://example.com/3']);
  assert.deepEqual(result.counters.dropReasons, { 'timed out': 1 });
  assert.equal(result.rejects.length, 1);
  assert.equal(result.rejects[0]!.reason, 'timed out');
  assert.equal((result.rejects[0]!.record as Doc).warc_record_id, 'urn:uuid:test-2');
  assert.match(result.warnings[0]!, /slow\.warc\.gz:\d+: timed out after 700 ms \(https:\/\/example\.com\/2\)/);
});

test('pages over the size cap (tens of MB) are skipped before parsing, in WARC and as HTML files', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const huge = `<html><body>${'<p>Lots and lots of text in this enormous page.</p>'.repeat(640_000)}</body></html>`;
  assert.ok(huge.length > 30 * MB);
  writeFileSync(join(dir, 'a.warc'), Buffer.concat([response(1, huge), response(2, article('Small page. '))].map(warcRecord)));
  mkdirSync(join(dir, 'html'));
  writeFileSync(join(dir, 'html', 'big.html'), huge);
  writeFileSync(join(dir, 'html', 'small.html'), article('A small HTML file. '));
  const result = await run([join(dir, 'a.warc'), join(dir, 'html')], { workers: 1, maxPageBytes: 10 * MB }, join(dir, 'rejects.jsonl'));
  assert.deepEqual(result.docs.map((d) => d.url ?? d.id), ['https://example.com/2', join(dir, 'html', 'small.html')]);
  assert.deepEqual(result.counters.dropReasons, { 'too large': 2 });
  assert.deepEqual(result.rejects.map((r) => [r.reason, (r.record as Doc).id]), [['too large', 'urn:uuid:test-1'], ['too large', join(dir, 'html', 'big.html')]]);
});

test('non-HTML records, broken bodies, short pages and other languages are each counted, reported and rejected', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const invalidUtf8 = Buffer.concat([Buffer.from(article('Valid text around broken bytes. ').replace('</p>', '')), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('</p></body></html>')]);
  const records = [
    response(1, article('An English page about the weather and the harvest. ')),
    response(2, Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'image/png'),
    { ...response(3, 'not gzip at all'), http: { status: 200, headers: { 'Content-Type': 'text/html', 'Content-Encoding': 'gzip' } } },
    response(4, '<html><body><p>Too short.</p></body></html>'),
    response(5, article('Ein deutscher Text über das Wetter und die Ernte im Herbst. ')),
    response(6, invalidUtf8),
    response(7, article('人人有权享有生命、自由和人身安全。任何人不得使为奴隶或奴役。')),
    // GBK bytes, declared only in <meta>: the header says text/html without a charset.
    response(8, iconv.encode(article('任何人的私生活、家庭、住宅和通信不得任意干涉。').replace('<head>', '<head><meta charset="gbk">'), 'gbk'), 'text/html'),
  ];
  writeFileSync(join(dir, 'mixed.warc.gz'), Buffer.concat(records.map(gzipRecord)));
  const result = await run([join(dir, 'mixed.warc.gz')], { workers: 1, langs: ['en', 'zh'], minLangScore: 0.65 }, join(dir, 'rejects.jsonl'));
  assert.deepEqual(result.docs.map((d) => d.url), ['https://example.com/1', 'https://example.com/6', 'https://example.com/7', 'https://example.com/8']);
  assert.deepEqual(result.docs.map((d) => d.lang), ['en', 'en', 'zh', 'zh']);
  assert.ok(String(result.docs[3]!.text).startsWith('任何人的私生活、家庭、住宅和通信不得任意干涉。'));
  assert.equal(result.counters.extra.charset_from_meta, 1);
  assert.deepEqual(result.counters.dropReasons, { 'non-html': 1, 'too short': 2, language: 1 });
  assert.equal(result.counters.extra.invalid_utf8_sequences, 3);
  assert.equal(result.rejects.length, 4);
  assert.equal(result.warnings.length, 4);
  assert.ok(result.rejects.every((r) => typeof r.reason === 'string' && (r.record as Doc).warc_record_id && typeof r.line === 'number'));
  assert.ok(result.warnings.some((w) => /mixed\.warc\.gz:\d+: language de/.test(w)));
});

test('--min-lang-score filters on its own, as in loom langid', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'two.warc.gz'), Buffer.concat([
    response(1, article('The quick brown fox jumps over the lazy dog near the river bank. ')),
    response(2, article('人人有权享有生命、自由和人身安全。任何人不得使为奴隶或奴役。')),
  ].map(gzipRecord)));
  const kept = await run([join(dir, 'two.warc.gz')], { workers: 1, minLangScore: 0.5 });
  assert.deepEqual(kept.docs.map((d) => d.lang), ['en', 'zh']);
  const none = await run([join(dir, 'two.warc.gz')], { workers: 1, minLangScore: 1.01 });
  assert.equal(none.docs.length, 0);
  assert.deepEqual(none.counters.dropReasons, { language: 2 });
  assert.ok(none.warnings.every((w) => /language (en|zh) scored [\d.]+ < 1\.01/.test(w)));
});

test('JSONL pages with an html field: other fields pass through, html does not', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'pages.jsonl');
  writeFileSync(path, [
    JSON.stringify({ id: 'p1', url: 'https://example.org/a', html: article('A page stored as JSON with its own id. '), crawl: 'x' }),
    JSON.stringify({ id: 'p2', url: 'https://example.org/b' }),
  ].join('\n') + '\n');
  const result = await run([path], { workers: 0 }, join(dir, 'rejects.jsonl'));
  assert.equal(result.docs.length, 1);
  assert.deepEqual(Object.keys(result.docs[0]!).sort(), ['crawl', 'id', 'lang', 'lang_score', 'text', 'title', 'url']);
  assert.deepEqual(result.rejects.map((r) => [r.reason, r.line]), [['no html field', 2]]);
});

test('a corrupt gzip member in a WARC.gz is dropped with its offset; the pages after it are extracted', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const members = [1, 2, 3, 4].map((n) => gzipRecord(response(n, article(`Page ${n} has words of its own in this test. `))));
  const bad = Buffer.from(members[1]!.map((b, i) => (i >= 20 && i < 60 ? b ^ 0x5a : b)));
  const path = join(dir, 'damaged.warc.gz');
  writeFileSync(path, Buffer.concat([members[0]!, bad, members[2]!, members[3]!]));
  const { docs, counters, records, warnings, rejects } = await run([path], { workers: 0 }, join(dir, 'rejects.jsonl'));
  assert.deepEqual(docs.map((d) => d.url), ['https://example.com/1', 'https://example.com/3', 'https://example.com/4']);
  assert.equal(counters.dropReasons['corrupt gzip member'], 1);
  assert.equal(records.warc_bytes_skipped, bad.length);
  assert.ok(warnings.includes(`${path}:${members[0]!.length}: corrupt gzip member`), warnings.join('\n'));
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]!.reason, 'corrupt gzip member');
  assert.equal(rejects[0]!.line, members[0]!.length);
  assert.equal((rejects[0]!.record as Doc).warc_offset, members[0]!.length);
});
