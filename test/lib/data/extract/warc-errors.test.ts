// Bytes that are not WARC are named as such, and quoted with their control bytes escaped so the
// message cannot garble the terminal (issue 21, finding 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readWarc } from '../../../../lib/data/extract/warc.js';
import { warcRecord } from '../../../../lib/data/extract/warc-write.js';

async function failure(bytes: Buffer): Promise<string> {
  try {
    for await (const _ of readWarc([bytes], { maxPageBytes: 1 << 20 }));
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

test('binary junk is "not a WARC file", its bytes escaped', async () => {
  const junk = Buffer.from('\x1b[31mRED\x1b[2J\x07\x00\x01 junk\r\nmore: junk\r\n\r\n', 'latin1');
  const message = await failure(junk);
  assert.equal(message, 'not a WARC file (starts with "\\x1b[31mRED\\x1b[2J\\x07\\x00\\x01")');
  assert.doesNotMatch(message, /[\x00-\x1f\x7f-\x9f]/);
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
  const randomMessage = await failure(random);
  assert.match(randomMessage, /^not a WARC file \(/);
  assert.doesNotMatch(randomMessage, /[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
});

test('junk after a good record is located by its offset, escaped', async () => {
  const good = warcRecord({ type: 'resource', recordId: 'urn:uuid:1', date: '2026-11-01T00:00:00Z', url: 'https://example.com/', contentType: 'text/html', body: '<p>hi</p>' });
  const message = await failure(Buffer.concat([good, Buffer.from('\x1b]0;title\x07 junk\r\n\r\n', 'latin1')]));
  assert.equal(message, `offset ${good.length}: not a WARC record (starts with "\\x1b]0;title\\x07")`);
});
