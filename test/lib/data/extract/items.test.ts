// The list reading wins when the chosen text lost the items' linked titles (items.ts): the tests
// write small pages (or readings) and assert what comes out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import type { Element } from '../../../../lib/data/extract/boilerplate.js';
import { findItems, lacksItemTitles, leavesOutItems, type Item } from '../../../../lib/data/extract/items.js';
import { extractMainContent } from '../../../../lib/data/extract/main-content.js';
import { normalizeText } from '../../../../lib/text/normalize.js';

const run = (html: string) => extractMainContent(html, { favor: 'balanced', keepComments: false });
const page = (body: string, head = '') => `<!doctype html><html><head><title>T</title>${head}</head><body>${body}</body></html>`;
const nav = '<header><nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/about">About us</a></nav></header>';
const footer = '<footer><p>© 2026 Example Store. All rights reserved.</p></footer>';
const bodyOf = (html: string) => (parseHTML(html).document as unknown as { body: Element }).body;

const skillets = Array.from({ length: 12 }, (_, i) => ({ title: `Cast iron skillet ${i + 8} inch`, stock: `Only ${i + 1} left!`, price: `$${30 + i}.99 USD` }));
// A store's cards: the linked name is a paragraph of its own, all link, which the link-density rule drops.
const cards = skillets.map((s, i) => `<div class="product-card card-${i}"><p class="name"><a href="/p/${i}">${s.title}</a></p><p class="stock">${s.stock}</p><p class="price">${s.price}</p></div>`).join('');

test('a category page keeps its items\' linked titles, which the link-density rule tore from their prices', () => {
  const result = run(page(`${nav}<main><h1>Cast iron</h1><div class="grid">${cards}</div></main>${footer}`));
  const text = normalizeText(result.text);
  assert.equal(result.method, 'items');
  for (const s of skillets) {
    assert.ok(text.includes(s.title), `missing title: ${s.title}`);
    assert.ok(text.includes(s.price), `missing price: ${s.price}`);
  }
  assert.ok(text.indexOf(skillets[0]!.title) < text.indexOf(skillets[0]!.price), 'each title stays before its price');
  assert.ok(!text.includes('All rights reserved'));
});

test('items are like siblings (tag and first class word) with a linked title and text of their own; a menu is not a list of items', () => {
  // WordPress gives each post its own category and tag classes after the first word
  const posts = Array.from({ length: 12 }, (_, i) => `<article class="post-${i} post type-post category-${['news', 'sport', 'arts'][i % 3]}"><h2><a href="/p/${i}">Headline of post number ${i}</a></h2><p>Posted on day ${i}</p></article>`).join('');
  const menu = `<ul class="menu">${Array.from({ length: 12 }, (_, i) => `<li class="menu-item-${i}"><a href="/c/${i}">Category number ${i}</a></li>`).join('')}</ul>`;
  const items = findItems(bodyOf(page(`${menu}<div>${posts}</div>`)));
  assert.deepEqual(items, Array.from({ length: 12 }, (_, i) => ({ title: `Headline of post number ${i}`, blurb: `Posted on day ${i}` })));
  // fewer than ten titles on the page: a few teasers, not a list
  assert.deepEqual(findItems(bodyOf(page(`<div>${posts.split('</article>').slice(0, 9).join('</article>')}</article></div>`))), []);
});

test('the list reading wins when the chosen text holds the items\' blurbs but not their titles, and the titles are most of what it adds', () => {
  const items: Item[] = Array.from({ length: 10 }, (_, i) => ({ title: `Linked item title ${i}`, blurb: `price ${i}` }));
  const blurbs = items.map((item) => item.blurb).join('\n');
  const listed = items.map((item) => `${item.title}\n${item.blurb}`).join('\n');
  assert.ok(lacksItemTitles(blurbs, listed, items));
  // the chosen text has the titles already
  assert.ok(!lacksItemTitles(listed, listed, items));
  // the chosen text holds neither titles nor blurbs: another block (an article, a buying guide)
  assert.ok(!lacksItemTitles('An article about something else entirely.', listed, items));
  // the list reading adds the titles and much more besides (a sidebar's menus)
  assert.ok(!lacksItemTitles(blurbs, `${listed}\n${'Menu entry of a long sidebar\n'.repeat(40)}`, items));
  // titles the list reading does not hold (a menu's, furniture in every reading) do not count
  assert.ok(!lacksItemTitles(blurbs, items.slice(0, 9).map((item) => `${item.title}\n${item.blurb}`).join('\n'), items));
});

test('an article followed by a grid of related-story cards is not read as a list: its text holds neither their titles nor their blurbs', () => {
  const para = (i: number) => `<p>Paragraph ${i} of the article explains in some detail how the new bridge over the river was planned, financed and finally built by the city over a decade of work.</p>`;
  const related = Array.from({ length: 12 }, (_, i) => `<div class="card"><h3><a href="/a/${i}">Another story about bridges number ${i}</a></h3><p>A short teaser of the other story ${i}.</p></div>`).join('');
  const result = run(page(`${nav}<div class="wrap"><h1>The new bridge</h1>${Array.from({ length: 10 }, (_, i) => para(i)).join('')}<div class="grid">${related}</div></div>${footer}`));
  assert.equal(result.method, 'readability');
  assert.ok(!normalizeText(result.text).includes('Another story about bridges'));
});

test('the marked container wins when Readability left out its whole product grid (titles and prices); a chosen text that holds the titles stays', () => {
  const guide = '<div class="category-intro"><h1>Cast iron</h1><p>Cast iron holds heat like nothing else in the kitchen: sear a steak, bake cornbread, and pass the pan on to your grandchildren. Season it after every wash and it only gets better with age.</p></div>';
  const html = page(`${nav}<main>${guide}<div class="grid">${cards}</div></main>${footer}`);
  const items = findItems(bodyOf(html));
  const intro = 'Cast iron\n\nCast iron holds heat like nothing else in the kitchen: sear a steak, bake cornbread, and pass the pan on to your grandchildren. Season it after every wash and it only gets better with age.';
  const container = `${intro}\n\n${skillets.map((s) => `${s.title}\n${s.stock}\n${s.price}`).join('\n')}`;
  // Readability's text is the category's blurb alone: neither the titles nor the prices
  assert.ok(leavesOutItems(intro, container, items));
  assert.ok(!lacksItemTitles(intro, container, items), 'the torn-title rule needs the blurbs, which went too');
  // a chosen text that holds the titles did not leave the grid out
  assert.ok(!leavesOutItems(container, container, items));
  // teasers beside an article: fewer than ten titles are no grid
  assert.ok(!leavesOutItems(intro, container, items.slice(0, 8)));
});
