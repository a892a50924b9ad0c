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

// A page whose article carries the furniture that Readability keeps: a caption, a byline box, an
// author bio, a "read also" teaser and a share prompt. Each rule is checked against its own leak.
const articleBody = brownParagraphs('ca03').slice(0, 6);
const furnishedPage = (inner: string) => `<html><head><title>Furnished</title></head><body>
  <article><h1>Furnished</h1>
  <p>${articleBody[0]}</p>
  ${inner}
  ${articleBody.slice(1).map((p) => `<p>${p}</p>`).join('\n')}
  </article></body></html>`;

function assertDropped(inner: string, leak: string) {
  const text = normalizeText(extract(furnishedPage(inner)).text);
  for (const p of articleBody) assert.ok(text.includes(p), `missing: ${p.slice(0, 60)}`);
  assert.ok(!text.includes(leak), `leaked: ${leak}`);
}

test('drops figure captions and photo credits inside the article', () => {
  assertDropped('<figure><img src="a.jpg"><figcaption>Crowds gather outside the hall. Photograph by A. Person</figcaption></figure>', 'Photograph by');
  // Readability rewrites a phrasing-only <div> as a bare <p>, so the class must be read before it runs.
  assertDropped('<div class="wp-caption-text">Image via the press office</div>', 'Image via the press office');
});

test('drops bylines, post metadata and author boxes inside the article', () => {
  assertDropped('<div class="postmetadata">This entry was posted on Monday and filed under News.</div>', 'This entry was posted');
  assertDropped('<div class="entry-author-info"><div id="author-description">Jane writes about learning and teaching for fun.</div></div>', 'Jane writes about learning');
});

test('drops notices, calls to action and copyright lines inside the article', () => {
  assertDropped('<div class="column community-notice">This post is a community blog and gives the opinion of its author.</div>', 'community blog');
  assertDropped('<section class="c-letters-cta"><p>We want to hear what you think about this article.</p></section>', 'We want to hear');
  assertDropped('<p class="recipe-copyright">© 2020 Example Mills. All rights reserved.</p>', 'Example Mills');
});

test('drops short "read also" and share prompts, in several languages', () => {
  assertDropped('<p><strong>À lire aussi :</strong> <a href="/x">Un autre article</a></p>', 'lire aussi');
  assertDropped('<h3>Auch interessant</h3>', 'Auch interessant');
  assertDropped('<p>Möchten Sie den Artikel teilen?</p>', 'Artikel teilen');
  assertDropped('<h4>Related articles</h4>', 'Related articles');
  assertDropped('<p>Never miss the latest news by signing up to our newsletter.</p>', 'Never miss');
  assertDropped('<p>Crédits photos : Agence Exemple</p>', 'Agence Exemple');
});

test('furniture rules keep content that only looks like furniture', () => {
  // A long element with an author-* class is a wrapper, and a sentence that merely mentions
  // related work is prose, not a teaser line.
  const prose = 'Related work on the subject shows that the committee met four times before the vote was taken in the spring.';
  const page = `<html><body><article class="post author-jane"><h1>Kept</h1>${articleBody.map((p) => `<p>${p}</p>`).join('')}<p>${prose}</p></article></body></html>`;
  const text = normalizeText(extract(page).text);
  for (const p of articleBody) assert.ok(text.includes(p), `missing: ${p.slice(0, 60)}`);
  assert.ok(text.includes(prose));
});

test('the marked article container replaces Readability when Readability settles on another block', () => {
  // Readability scores paragraphs, so it picks the one long paragraph outside the article over
  // a recipe made of short steps; the container the markup names holds the recipe.
  const steps = Array.from({ length: 80 }, (_, i) => `Step ${i + 1}: stir the pot`);
  const page = `<html><body><nav><a href="/">Home</a> <a href="/a">Archive</a></nav>
    <div class="site"><div class="entry-content"><h1>Soup</h1><ul>${steps.map((s) => `<li>${s}</li>`).join('')}</ul></div></div>
    <div class="other"><div class="box"><p>${articleBody[3]}</p></div></div>
    <footer>Impressum | Datenschutz | Kontakt</footer></body></html>`;
  const result = extract(page);
  const text = normalizeText(result.text);
  assert.equal(result.method, 'container');
  for (const s of steps) assert.ok(text.includes(s), s);
  assert.ok(!text.includes(articleBody[3]!.slice(0, 40)) && !text.includes('Archive') && !text.includes('Impressum'));
  // --favor precision keeps Readability's answer.
  assert.equal(extract(page, { favor: 'precision' }).method, 'readability');
});

test('puts back the lead paragraph Readability leaves out with the article header', () => {
  const lead = 'The council voted on Tuesday to close the old bridge, ending a debate that had lasted two years.';
  const page = `<html><body><main><article><header><h1>The council votes</h1><p class="article-lead">${lead}</p></header>
    <div class="article-body">${articleBody.map((p) => `<p>${p}</p>`).join('')}</div></article></main></body></html>`;
  const text = normalizeText(extract(page).text);
  assert.ok(text.startsWith(`${lead}\n\n`), text.slice(0, 120));
  for (const p of articleBody) assert.ok(text.includes(p));
});

test('drops datelines, copyright lines, pagers, "read more" cards and related lists inside the article', () => {
  assertDropped('<p>Published on 3 May 2020, 14:05</p>', 'Published on');
  assertDropped('<p>© 2020 The Example Gazette. All rights reserved.</p>', 'Example Gazette');
  assertDropped('<div class="card"><p>A short excerpt of another story on this site.</p><a href="/o">Read more</a></div>', 'short excerpt');
  assertDropped('<div class="relatedArticles"><h3>More on this</h3><ul><li><a href="/x">Mayor opens the new bridge</a></li></ul></div>', 'Mayor opens');
  assertDropped('<p>Impressum | Datenschutz | Kontakt</p>', 'Datenschutz');
});
