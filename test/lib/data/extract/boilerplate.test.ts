import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { isAgeLine, isArticleFurniture, isBoilerplate, isBylineLine, isCopyrightLine, isDateLine, isFurniture, isViewportOverlay, isLegalLine, isSkipLink, isMemberStatsLine, isTeaserLine, marks, type Element } from '../../../../lib/data/extract/boilerplate.js';

const element = (html: string, selector = 'body > *') => (parseHTML(`<html><body>${html}</body></html>`).document as unknown as { querySelector(s: string): Element }).querySelector(selector);
const options = { keepComments: false, linkLists: false, shortBlocks: true, scopeLength: 10_000 };

test('datelines are dropped, sentences that mention a date are kept', () => {
  for (const line of ['23.10.2018', '16 marca 2021', 'Oct 9, 2019', 'Posted on 3 May 2020, 14:05', 'Stand: 12.03.2020, 10:15 Uhr', 'Publié le 3 mars 2020 à 14h05', 'Veröffentlicht am 9. Oktober 2019']) {
    assert.ok(isDateLine(line), line);
  }
  for (const line of ['Am 23.10.2018 trat das Gesetz in Kraft.', 'Die Sitzung vom 3. Mai 2020', 'Mix 200 g flour with 3 eggs.']) assert.ok(!isDateLine(line), line);
});

test('bylines are dropped, headings and sentences that start alike are kept', () => {
  for (const line of ['By Jane Doe', 'Von Max Mustermann und Erika Musterfrau', 'Text: Anna Nowak', 'Foto: DPA/Picture Alliance']) assert.ok(isBylineLine(line), line);
  for (const line of ['Von Berlin nach Hamburg', 'By the way, this is content', 'By 2020 the city had grown.']) assert.ok(!isBylineLine(line), line);
});

test('copyright notices and footer link lines are dropped, prose about them is kept', () => {
  assert.ok(isCopyrightLine('© 2020 Example Mills. All Rights Reserved'));
  assert.ok(isCopyrightLine('Copyright 2019 Example GmbH'));
  assert.ok(!isCopyrightLine('The copyright of this work lies with the author who wrote it.'));
  assert.ok(isLegalLine('IMPRESSUM | DATENSCHUTZ | COPYRIGHT EXAMPLE'));
  assert.ok(isLegalLine('Privacy policy · Terms of use · Contact us'));
  assert.ok(!isLegalLine('Please read our privacy policy before you sign the form below.'));
});

test('teaser lines in several languages are dropped, prose that starts alike is kept', () => {
  for (const line of ['Das Thema könnte dich auch interessieren:', 'Articles les plus lus', 'Zapraszamy też do subskrypcji', 'Most read', '» Related articles']) assert.ok(isTeaserLine(line), line);
  assert.ok(!isTeaserLine('Related work on the subject shows that the committee met four times before the vote.'));
});

test('camelCase class words are read as words', () => {
  assert.equal(marks(element('<div class="relatedArticles recipeCopyright"></div>')), ' related-Articles recipe-Copyright');
  assert.ok(isBoilerplate(element('<div class="relatedArticles"><a href="/a">Another story</a></div>'), false));
  assert.ok(isBoilerplate(element('<ul class="listPosts-list"><li>One</li></ul>'), false));
  assert.ok(!isBoilerplate(element('<div class="articleBody"><p>Text</p></div>'), false));
});

test('short link-dense blocks and "read more" cards are furniture, prose with links is not', () => {
  assert.ok(isFurniture(element('<div><a href="/p">« Previous</a> · <a href="/n">Next »</a></div><p>after</p>'), options));
  assert.ok(isFurniture(element('<div><p>A short excerpt of another story on this site.</p><a href="/o">Read more</a></div>'), options));
  assert.ok(isFurniture(element('<div><p>Ein kurzer Anriss eines anderen Artikels.</p><a href="/o">Weiterlesen »</a></div>'), options));
  const prose = '<p>The committee, which <a href="/c">met four times</a>, published its report on the new bridge in the spring, after a long debate in the council.</p>';
  assert.ok(!isFurniture(element(prose), options));
  // A long block is never read as a line or a link list.
  assert.ok(!isFurniture(element(`<div>${prose.repeat(6)}</div>`), options));
});

test('boilerplate by class is dropped only when it is a small share of the text around it', () => {
  const wrapper = element('<div class="has-sidebar"><p>All of the article.</p></div>');
  assert.ok(isFurniture(wrapper, { ...options, scopeLength: 1000 }));
  assert.ok(!isFurniture(wrapper, { ...options, scopeLength: 20 }));
});

test("a forum member's statistics lines are dropped (in a <dd> too), sentences that start alike are kept", () => {
  for (const line of ['Posts: 4958', 'Joined: Mon Jul 24, 2017 9:28 am', 'Registered: 2024-01-27', '1,430 posts · Joined 2022', 'Beiträge: 1.204', 'Messages 87']) assert.ok(isMemberStatsLine(line), line);
  for (const line of ['Posts about the 2020 elections', 'Posts: the best of 2020', 'Location: Kooskia, ID', 'Joined the company in 2019 as an engineer.']) assert.ok(!isMemberStatsLine(line), line);
  assert.ok(isFurniture(element('<dl><dd><strong>Posts:</strong> <a href="/u/1">524</a></dd></dl>', 'dd'), options));
});

test("the page's <nav>, <header> and <footer> are furniture even when they hold more than 40 % of the text, unless they wrap the page's heading", () => {
  const footer = element(`<footer><div class="zipcodes">${'Beverly Hills 90212 Los Angeles 90015 Irvine 92606 '.repeat(20)}</div></footer>`);
  const length = (footer.textContent ?? '').length;
  assert.ok(isFurniture(footer, { ...options, scopeLength: length + 100 }), 'a footer listing every city served');
  const menu = element(`<nav><ul>${'<li><a href="/c">A category of the store</a></li>'.repeat(40)}</ul></nav>`);
  assert.ok(isFurniture(menu, { ...options, scopeLength: (menu.textContent ?? '').length + 100 }), 'a mega menu');
  const roleMenu = element(`<div role="navigation">${'<a href="/c">A category of the store</a> '.repeat(40)}</div>`);
  assert.ok(isFurniture(roleMenu, { ...options, scopeLength: (roleMenu.textContent ?? '').length + 100 }), 'a block with the navigation role');
  const wrapper = element(`<header><h1>The whole page</h1><p>${'Every word of the page sits in this one header element. '.repeat(10)}</p></header>`);
  assert.ok(!isFurniture(wrapper, { ...options, scopeLength: (wrapper.textContent ?? '').length + 100 }), 'a header wrapping the page');
  // inside the article, a <header> is the article's own (its title, its lead), and the share rule holds
  const articleHeader = element(`<article><header><p>${'The article opens with a long standfirst that sets out what follows. '.repeat(6)}</p></header><p>Short body.</p></article>`, 'article > header');
  assert.ok(!isFurniture(articleHeader, { ...options, scopeLength: (articleHeader.textContent ?? '').length + 50 }));
});

test("a post's signature and user card (Stack Exchange's user-info, post-signature) are furniture inside the post", () => {
  const card = element('<div class="post-signature owner"><div class="user-info"><div class="user-action-time">asked Jun 8, 2018 at 8:51</div><div class="user-details"><a href="/u/1">legends2k</a><div class="-flair">33.4k28 gold badges132 silver badges239 bronze badges</div></div></div></div>');
  assert.ok(isArticleFurniture(card));
  assert.ok(isArticleFurniture(element('<div class="user-info user-hover"><a href="/u/2">Levon</a> 12.4k5 gold badges</div>')));
  // a post's text is not: the class words must name the card
  assert.ok(!isArticleFurniture(element('<div class="post-text"><p>The neutral wire carries current.</p></div>')));
});

test('age lines (how long ago, a score-submitter-age line) are dropped, in the list reading too; sentences and quotation headers that hold an age are kept', () => {
  for (const line of ['9 hrs ago', 'a year ago', 'Asked 11 years, 9 months ago', 'Modified 1 year ago', 'posted 6 years ago', '1 point by breve 0 minutes ago | hide | past | discuss', '12 points by jane_doe 3 hours ago | 4 comments']) assert.ok(isAgeLine(line), line);
  for (const line of ['He left 3 years ago.', '14 hours ago, Joe Root said:', 'Ten years ago the city had no tram.', 'Posted on 3 May 2020']) assert.ok(!isAgeLine(line), line);
  assert.ok(isFurniture(element('<span class="age">3 hrs ago</span>'), options));
  assert.ok(isFurniture(element('<span class="age">3 hrs ago</span>'), { ...options, shortBlocks: false }), 'the list reading drops it too');
  assert.ok(!isFurniture(element('<p>He left the band 3 years ago and never came back.</p>'), options));
});

test('a full-viewport overlay by its utility classes (fixed inset-0, or fixed with all four edges at 0) is a pop-up; a fixed bar is not', () => {
  assert.ok(isViewportOverlay(element('<div class="z-takeover fixed inset-0 overflow-y-auto">Notify me</div>')));
  assert.ok(isViewportOverlay(element('<div class="bg-grey fixed top-0 left-0 right-0 bottom-0">Menu</div>')));
  assert.ok(!isViewportOverlay(element('<div class="fixed top-0 left-0 right-0">Header bar</div>')), 'a bar along one edge');
  assert.ok(!isViewportOverlay(element('<div class="inset-0 absolute">Image overlay</div>')), 'not fixed');
  assert.ok(!isViewportOverlay(element('<div class="fixed-width inset-0">Content</div>')));
});

test('a skip link (a same-page link "Skip to content", however it is classed) is furniture; an in-page link of an article and a link elsewhere are not', () => {
  for (const html of ['<a class="sr-only sr-only-focusable" href="#search-results">Skip to search results</a>', '<a href="#main-content"><div>Skip to main content</div></a>', '<a href="#inhalt">Zum Inhalt springen</a>']) assert.ok(isSkipLink(element(html)), html);
  assert.ok(!isSkipLink(element('<a class="jump-link" href="#best-overall">Jump to details</a>')), 'an article\'s own table of contents');
  assert.ok(!isSkipLink(element('<a href="/guide/chapter-3">Skip to chapter three</a>')), 'a link to another page');
  assert.ok(!isSkipLink(element('<p>Skip to the end if you know the basics.</p>')), 'a sentence');
});
