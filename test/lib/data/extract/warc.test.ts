import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { isHtml, readWarc, type WarcPage } from '../../../../lib/data/extract/warc.js';
import { gzipRecord, warcRecord, type WarcRecordSpec } from '../../../../lib/data/extract/warc-write.js';

const html = '<html><body><p>Hello, world. This is the page text.</p></body></html>';
const record = (n: number, over: Partial<WarcRecordSpec> = {}): WarcRecordSpec => ({
  type: 'response',
  recordId: `urn:uuid:${n}`,
  date: '2026-11-01T00:00:00Z',
  url: `https://example.com/${n}`,
  http: { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } },
  body: html,
  ...over,
});

async function pages(bytes: Buffer, maxPageBytes = 1 << 20): Promise<{ pages: WarcPage[]; types: string[] }> {
  const types: string[] = [];
  const out: WarcPage[] = [];
  for await (const page of readWarc([bytes], { maxPageBytes, countRecord: (t) => types.push(t) })) out.push(page);
  return { pages: out, types };
}

test('reads response and resource records from WARC and per-record-gzip WARC.gz, with their offsets', async () => {
  const specs: WarcRecordSpec[] = [
    { type: 'warcinfo', recordId: 'urn:uuid:0', date: '2026-11-01T00:00:00Z', body: 'software: test\r\n' } as WarcRecordSpec,
    record(1),
    { ...record(2), type: 'request', http: undefined, body: 'GET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n', contentType: 'application/http; msgtype=request' },
    { ...record(3), type: 'resource', http: undefined, contentType: 'text/html', body: html },
  ];
  for (const encode of [warcRecord, gzipRecord]) {
    const parts = specs.map(encode);
    const { pages: got, types } = await pages(Buffer.concat(parts));
    assert.deepEqual(types, ['warcinfo', 'response', 'request', 'resource']);
    assert.deepEqual(got.map((p) => [p.recordId, p.url, p.skip]), [['urn:uuid:1', 'https://example.com/1', undefined], ['urn:uuid:3', 'https://example.com/3', undefined]]);
    assert.equal(Buffer.from(got[0]!.body!).toString(), html);
    assert.equal(got[0]!.offset, parts[0]!.length);
    assert.equal(got[1]!.offset, parts[0]!.length + parts[1]!.length + parts[2]!.length);
  }
});

test('non-HTML, non-2xx and too-large records are skipped with a reason, without stopping', async () => {
  const bytes = Buffer.concat([
    record(1, { http: { status: 200, headers: { 'Content-Type': 'image/png' } }, body: Buffer.from([0x89, 0x50, 0x4e, 0x47]) }),
    record(2, { http: { status: 404, headers: { 'Content-Type': 'text/html' } } }),
    record(3, { body: `<html><body>${'x'.repeat(5000)}</body></html>` }),
    record(4),
  ].map(gzipRecord));
  const { pages: got } = await pages(bytes, 2000);
  assert.deepEqual(got.map((p) => p.skip), ['non-html', 'http status 404', 'too large', undefined]);
});

test('a truncated record (file ends early) is reported, and reading stops there', async () => {
  const whole = Buffer.concat([warcRecord(record(1)), warcRecord(record(2, { body: html.repeat(20) }))]);
  const { pages: got } = await pages(whole.subarray(0, whole.length - 300));
  assert.deepEqual(got.map((p) => p.skip), [undefined, 'truncated record']);
});

test('a gzip member cut short is a truncated record', async () => {
  const first = gzipRecord(record(1));
  const second = gzipRecord(record(2, { body: `<html><body>${'Some words that compress. '.repeat(400)}</body></html>` }));
  const { pages: got } = await pages(Buffer.concat([first, second.subarray(0, Math.floor(second.length / 2))]));
  assert.equal(got.length, 2);
  assert.equal(got[0]!.skip, undefined);
  assert.match(got[1]!.skip ?? '', /^truncated record/);
  assert.equal(got[1]!.offset, first.length);
  // Cut inside the body instead of the headers: the record itself is short.
  const long = gzipRecord(record(3, { body: `<html><body>${Array.from({ length: 3000 }, (_, i) => `word${(i * 7919) % 10007}`).join(' ')}</body></html>` }));
  const cut = await pages(Buffer.concat([first, long.subarray(0, long.length - 200)]));
  assert.deepEqual(cut.pages.map((p) => p.skip), [undefined, 'truncated record']);
});

test('bytes that are not WARC fail with the offset', async () => {
  const good = warcRecord(record(1));
  await assert.rejects(pages(Buffer.concat([good, Buffer.from('GARBAGE LINE\r\nnot: a warc\r\n\r\nbody')])), /offset \d+: not a (valid )?WARC record/);
  await assert.rejects(pages(gzipSync('{"text": "this is JSONL"}\n')), /^Error: not a WARC file \(starts with "\{\\"text\\":"\)$/);
});

test('isHtml trusts the Content-Type and sniffs only without one', () => {
  assert.equal(isHtml('text/html; charset=utf-8'), true);
  assert.equal(isHtml('application/xhtml+xml'), true);
  assert.equal(isHtml('application/pdf'), false);
  assert.equal(isHtml(undefined, Buffer.from('  <!DOCTYPE html><html>')), true);
  assert.equal(isHtml('', Buffer.from('%PDF-1.7')), false);
});

test('a corrupt gzip member is skipped: reading resumes at the next member, with the skipped bytes reported', async () => {
  const members = [1, 2, 3, 4].map((n) => gzipRecord(record(n, { body: `<html><body><p>Page ${n}. ${'Words that compress. '.repeat(40)}</p></body></html>` })));
  const damaged = [
    // bytes flipped inside member 2's deflate data
    Buffer.from(members[1]!.map((b, i) => (i >= 20 && i < 60 ? b ^ 0x5a : b))),
    // member 2 cut in half
    members[1]!.subarray(0, members[1]!.length >> 1),
    // something that is not gzip at all in its place
    Buffer.from('not a gzip member\n'),
  ];
  for (const bad of damaged) {
    const warnings: string[] = [];
    const skipped: number[] = [];
    const got: WarcPage[] = [];
    const file = Buffer.concat([members[0]!, bad, members[2]!, members[3]!]);
    for await (const page of readWarc([file], { maxPageBytes: 1 << 20, warn: (m) => warnings.push(m), countSkippedBytes: (n) => skipped.push(n) })) got.push(page);
    const at = members[0]!.length;
    const resumed = at + bad.length;
    assert.deepEqual(got.map((p) => [p.offset, p.url, p.skip]), [
      [0, 'https://example.com/1', undefined],
      [at, undefined, 'corrupt gzip member'],
      [resumed, 'https://example.com/3', undefined],
      [resumed + members[2]!.length, 'https://example.com/4', undefined],
    ]);
    assert.match(Buffer.from(got[2]!.body!).toString(), /Page 3\./);
    assert.deepEqual(skipped, [bad.length]);
    assert.deepEqual(warnings, [`offset ${at}: corrupt gzip member; ${bad.length} bytes skipped, reading resumed at offset ${resumed}`]);
  }
});

test('the same damage delivered in small chunks, and a gzip file that is not WARC still fails', async () => {
  const members = [1, 2, 3, 4].map((n) => gzipRecord(record(n)));
  const bad = Buffer.from(members[1]!.map((b, i) => (i >= 20 && i < 60 ? b ^ 0x5a : b)));
  const file = Buffer.concat([members[0]!, bad, members[2]!, members[3]!]);
  const chunks = Array.from({ length: Math.ceil(file.length / 7) }, (_, i) => file.subarray(i * 7, i * 7 + 7));
  const got: WarcPage[] = [];
  for await (const page of readWarc(chunks, { maxPageBytes: 1 << 20 })) got.push(page);
  assert.deepEqual(got.map((p) => p.url ?? p.skip), ['https://example.com/1', 'corrupt gzip member', 'https://example.com/3', 'https://example.com/4']);
  await assert.rejects(pages(Buffer.concat([gzipSync('{"text": "JSONL"}\n'), members[0]!])), /not a WARC file/);
});
