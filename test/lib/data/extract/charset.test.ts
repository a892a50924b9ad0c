import { test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { charsetFromContentType, charsetFromMeta, decodeHtml } from '../../../../lib/data/extract/charset.js';

const chinese = '人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。';
const page = (charset?: string) => `<html><head>${charset ? `<meta charset="${charset}">` : ''}<title>t</title></head><body><p>${chinese}</p></body></html>`;

test('the HTTP header charset wins over <meta>', () => {
  const bytes = iconv.encode(page('utf-8'), 'gbk');
  const decoded = decodeHtml(bytes, 'text/html; charset=GBK');
  assert.equal(decoded.source, 'header');
  assert.equal(decoded.charset, 'gb18030');
  assert.ok(decoded.html.includes(chinese));
  assert.equal(decoded.invalid, 0);
});

test('<meta charset> and http-equiv are used when the header has none', () => {
  const decoded = decodeHtml(iconv.encode(page('gb2312'), 'gbk'), 'text/html');
  assert.equal(decoded.source, 'meta');
  assert.ok(decoded.html.includes(chinese));
  const equiv = iconv.encode(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>Привет, мир</body></html>`, 'windows-1251');
  const cyr = decodeHtml(equiv);
  assert.equal(cyr.charset, 'windows-1251');
  assert.ok(cyr.html.includes('Привет, мир'));
});

test('without any declaration, valid UTF-8 is UTF-8 and GBK is detected', () => {
  const utf8 = decodeHtml(Buffer.from(page()));
  assert.deepEqual([utf8.charset, utf8.source, utf8.invalid], ['utf-8', 'detected', 0]);
  const gbkText = chinese.repeat(4);
  const gbk = decodeHtml(iconv.encode(`<html><body><p>${gbkText}</p></body></html>`, 'gbk'));
  assert.equal(gbk.source, 'detected');
  assert.ok(gbk.html.includes(gbkText), `decoded as ${gbk.charset}`);
});

test('a byte-order mark wins over everything', () => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(page('iso-8859-1'))]);
  const decoded = decodeHtml(bytes, 'text/html; charset=iso-8859-1');
  assert.equal(decoded.source, 'bom');
  assert.ok(decoded.html.startsWith('<html>'));
  assert.ok(decoded.html.includes(chinese));
});

test('invalid UTF-8 sequences are counted; a literal U+FFFD is not', () => {
  const bytes = Buffer.concat([Buffer.from('<p>ok '), Buffer.from([0xff, 0xfe, 0x41, 0xc3]), Buffer.from(' and \uFFFD</p>')]);
  const decoded = decodeHtml(bytes, 'text/html; charset=utf-8');
  assert.equal(decoded.invalid, 3);
});

test('charset labels are parsed and mapped to supersets; unknown ones are ignored', () => {
  assert.equal(charsetFromContentType('text/html; charset="UTF-8"'), 'utf-8');
  assert.equal(charsetFromContentType('text/html;charset=gb2312'), 'gb18030');
  assert.equal(charsetFromContentType('text/html; charset=x-no-such-thing'), undefined);
  assert.equal(charsetFromMeta(Buffer.from('<meta charset=Shift_JIS>')), 'shift_jis');
});
