import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractMainContent, wholePageText } from '../../../../lib/data/extract/main-content.js';
import { elementText } from '../../../../lib/data/extract/html-text.js';
import { normalizeText } from '../../../../lib/text/normalize.js';
import { buildPage, brownParagraphs } from '../../../../examples/quickstart/make-warc.js';
import { createRandom } from '../../../../lib/util/random.js';
import { parseHTML } from 'linkedom';

const furniture = {
  site: 'The Example Gazette',
  menu: ['Home', 'World', 'Politics', 'Contact us'],
  cookie: 'We use cookies to improve your experience on our site.',
  related: 'Related stories',
  newsletter: 'Subscribe to our newsletter for the best stories.',
  comments: ['Great article, thanks for sharing!', 'I completely disagree with the author.'],
  copyright: '© 2026 The Example Gazette. All rights reserved.',
};
const BOILERPLATE = ['We use cookies', 'Subscribe to our newsletter', 'All rights reserved', 'Related stories', 'Contact us', 'Great article'];
const paragraphs = brownParagraphs('ca02').slice(0, 8);
const html = buildPage('A story', paragraphs, furniture, createRandom(1), 'en');
const extract = (page: string, opts: Partial<Parameters<typeof extractMainContent>[1]> = {}) =>
  extractMainContent(page, { favor: 'balanced', keepComments: false, ...opts });

test('keeps the article text with paragraph breaks and drops the furniture', () => {
  const result = extract(html);
  const text = normalizeText(result.text);
  for (const p of paragraphs) assert.ok(text.includes(p), `missing: ${p.slice(0, 60)}`);
  for (const b of BOILERPLATE) assert.ok(!text.includes(b), `leaked: ${b}`);
  assert.ok(text.includes(`${paragraphs[0]}\n\n${paragraphs[1]}`), 'paragraphs are separated by a blank line');
  assert.equal(result.title, 'A story - The Example Gazette');
  assert.match(result.date ?? '', /^2026-/);
});

test('--keep-comments keeps the comment section', () => {
  const text = normalizeText(extract(html, { keepComments: true }).text);
  assert.ok(text.includes('Great article, thanks for sharing!'));
  assert.ok(text.includes(paragraphs[0]!));
});

test('the whole-page baseline keeps everything, furniture included', () => {
  const text = normalizeText(wholePageText(html));
  for (const b of BOILERPLATE) assert.ok(text.includes(b), b);
});

test('falls back to the pruned page when Readability finds too little', () => {
  const listPage = `<html><body><nav><a href="/">Home</a> <a href="/a">About us</a></nav>
    <ul>${['Apples are red', 'Bananas are yellow', 'Cherries are dark', 'Grapes are green'].map((t) => `<li>${t} and sold at the market.</li>`).join('')}</ul>
    <footer>All rights reserved</footer></body></html>`;
  const result = extract(listPage);
  const text = normalizeText(result.text);
  assert.equal(result.method, 'fallback');
  assert.ok(text.includes('Bananas are yellow and sold at the market.'));
  assert.ok(text.split('\n').length >= 4, 'list items on their own lines');
  assert.ok(!text.includes('About us') && !text.includes('All rights reserved'));
  // --favor precision keeps Readability's (empty) answer rather than the pruned page.
  assert.notEqual(extract(listPage, { favor: 'precision' }).method, 'fallback');
});

test('tables keep cells apart and rows on separate lines', () => {
  const { document } = parseHTML('<html><body><table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>31</td></tr></table><p>After <b>bold</b>\n   text.</p></body></html>');
  const text = normalizeText(elementText((document as unknown as { body: never }).body));
  assert.equal(text, 'Name Age\nAnn 31\n\nAfter bold text.');
});

test('deeply nested and malformed HTML do not crash or hang', () => {
  const deep = `<html><body>${'<div>'.repeat(20000)}deep text${'</div>'.repeat(20000)}</body></html>`;
  const started = performance.now();
  const result = extract(deep);
  assert.equal(result.method, 'deep-fallback');
  assert.equal(normalizeText(result.text), 'deep text');
  assert.ok(performance.now() - started < 10_000);
  const broken = extract('<html><body><p>unclosed <b>bold <i>italic <table><tr><td>cell</p></div></span><<<>>></body>');
  assert.match(normalizeText(broken.text), /unclosed bold italic\s+cell/);
});
