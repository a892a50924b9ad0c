// Main-content extraction on a linkedom DOM, after trafilatura's design: boilerplate is removed
// first, then three candidates are read with the same furniture rules (boilerplate.ts):
// Readability.js's article, the container the markup names as the article body (container.ts),
// and the pruned page. Readability's is kept unless it found little or much less than the
// container, the article's lead paragraph is put back when Readability left it out, and `favor`
// trades recall for precision, as trafilatura's switches do.
import { parseHTML } from 'linkedom';
import { COOKIE, MAX_FURNITURE_SHARE, OVERLAY, WRAPPERS, classOf, isArticleFurniture, isBoilerplate, isComments, isControlLabel, isDialog, isFurniture, isHidden, isSkipLink, isViewportOverlay, marks, squash, type Element, type Root } from './boilerplate.js';
import { findLead, findMainContainer } from './container.js';
import { isDisplayCopy } from './copies.js';
import { cutFromWithin } from './cuts.js';
import { elementText, type TextNode } from './html-text.js';
import { findItems, lacksItemTitles, leavesOutItems } from './items.js';
import { LinkedomReadability } from './readability.js';

export type Favor = 'precision' | 'balanced' | 'recall';

export interface MainContentOptions {
  favor: Favor;
  keepComments: boolean;
}

export interface MainContent {
  text: string;
  title?: string;
  date?: string;
  /** Which pass produced the text. */
  method: 'readability' | 'container' | 'fallback' | 'items' | 'deep-fallback' | 'whole-page';
}

const DATE_META = ['article:published_time', 'og:published_time', 'datePublished', 'date', 'dc.date', 'DC.date.issued', 'pubdate', 'publish-date', 'sailthru.date', 'parsely-pub-date'];

/**
 * Whether `el` holds most of the page's `<main>` or `<article>` (two thirds of its text): such an
 * element, hidden or named like a banner, is the content a script reveals (a store's password
 * gate, a fade-in). Half is not enough: a hidden copy of the visible article (its raw markdown,
 * kept for a "copy" button) holds about half.
 */
function holdsMainContent(el: Element, lengthOf: (scope: Element) => number): boolean {
  // The nearest <main>, <article> or role=main above it, found without compiling a selector.
  if (el.getAttribute('role') === 'main') return false;
  let scope = el.parentElement;
  while (scope && scope.localName !== 'main' && scope.localName !== 'article' && scope.getAttribute('role') !== 'main') scope = scope.parentElement;
  return scope !== null && (el.textContent ?? '').length > (2 / 3) * lengthOf(scope);
}

// A tab or accordion panel a click opens (product details, FAQ answers, documentation tabs): hidden
// in the markup, but the page's content.
const PANEL = /(^|[\s_-])(collapse|collapsible|accordion(-?(body|content|panel|item))?|tab-?(pane|panel|content)|panel|expandable|disclosure)($|[\s_-])/i;

function isClosedPanel(el: Element): boolean {
  const role = el.getAttribute('role');
  return role === 'tabpanel' || (role === 'region' && el.getAttribute('aria-labelledby') !== null) || PANEL.test(marks(el));
}

/** Shows what a script would show, so that Readability, which skips hidden elements, reads it. */
function reveal(el: Element): void {
  for (const name of ['hidden', 'aria-hidden', 'style']) el.removeAttribute(name);
}

/**
 * Removes what no extraction pass should ever see: scripts, hidden elements, cookie banners and
 * (unless kept) comments. Class words also appear on page wrappers (`<body class="cookies-off">`,
 * `<div class="has-sidebar">`), so nothing that holds a large share of the page's text is removed.
 */
function removeNoise(document: Root, keepComments: boolean, product: boolean, isSmall: (el: Element) => boolean): Element[] {
  const comments: Element[] = [];
  // The text length of each <main> or <article> is read once and kept up to date as elements
  // inside it are removed: a page can hide hundreds of elements in one <main>.
  const scopeLengths = new Map<Element, number>();
  const lengthOf = (scope: Element) => scopeLengths.get(scope) ?? scopeLengths.set(scope, (scope.textContent ?? '').length).get(scope)!;
  const remove = (el: Element) => {
    const length = (el.textContent ?? '').length;
    for (const [scope, scopeLength] of scopeLengths) if (scope.contains(el)) scopeLengths.set(scope, scopeLength - length);
    el.remove();
  };
  for (const el of Array.from(document.querySelectorAll('[id],[class],[style],[hidden],[aria-hidden],[role]'))) {
    if (WRAPPERS.has(el.localName ?? '')) continue;
    const hidden = isHidden(el);
    if (hidden || COOKIE.test(marks(el)) || OVERLAY.test(marks(el)) || isDialog(el) || isViewportOverlay(el)) {
      const holds = holdsMainContent(el, lengthOf);
      if (hidden && (holds || isClosedPanel(el))) reveal(el);
      else if (!holds && isSmall(el)) remove(el);
    } else if (isComments(el, product) && isSmall(el) && !comments.some((outer) => outer.contains(el))) comments.push(el);
  }
  if (keepComments) return comments;
  for (const el of comments) el.remove();
  return [];
}

/**
 * Removed before Readability runs, which rewrites phrasing-only `<div>`s as bare `<p>`s and so
 * loses the class that marks them, and drops the inputs that tell a control's label from a
 * checklist's line.
 */
function removeArticleFurniture(document: Root): void {
  for (const el of Array.from(document.querySelectorAll('figcaption,[id],[class]'))) {
    if (isArticleFurniture(el)) el.remove();
  }
  for (const el of Array.from(document.querySelectorAll('label'))) {
    if (isControlLabel(el)) el.remove();
  }
  for (const el of Array.from(document.querySelectorAll('a[href^="#"]'))) {
    if (isSkipLink(el)) el.remove();
  }
}

// A quotation by its markup: `<blockquote>`, or a block whose class names a quote (forum software's
// `bbcode_quote`, `ipsQuote`, `bbCodeBlock--quote`); not a post that can be quoted (`js-selectToQuote`).
const QUOTE_MARKS = /(?<!to-?)quote/i;
const PULL_QUOTE = /pull-?quote/i;
// A quoted line shorter than this is not evidence either way ("Thanks!", a name).
const QUOTE_LINE_MIN_CHARS = 20;

function isQuotation(el: Element): boolean {
  return el.localName === 'blockquote' || QUOTE_MARKS.test(classOf(el));
}

/**
 * Removes quotations of text the page holds elsewhere: a forum reply quotes the post it answers,
 * which is on the page already, and keeping both counts the post twice. A quotation counts as
 * such when most of its lines appear at least twice in the page (once in it, once elsewhere); a
 * quotation of words the page has nowhere else (a cited source, a pull quote of a speech) stays.
 * Quotations are read last to first, inner before outer, and the page's count of a line drops as
 * a quotation holding it goes: so the first copy stays, and a post wrapped in a `<blockquote>`
 * (vBulletin) loses the quotation inside it, not itself. The same holds for the other copies a
 * page makes of its own text (copies.ts): a clamped preview of a post, a block written once per
 * screen width.
 */
function removeRepeatedCopies(doc: Root, body: Element): void {
  const quotes = Array.from(doc.querySelectorAll('blockquote,[class]')).filter((el) => isQuotation(el) || isDisplayCopy(el));
  if (quotes.length === 0) return;
  // The page's text is read once, and only when a quotation has lines long enough to test.
  let pageText: string | undefined;
  const copies = new Map<string, number>();
  const copiesOf = (line: string) => copies.get(line) ?? copies.set(line, countCopies((pageText ??= squash(body.textContent ?? '')), line)).get(line)!;
  for (const quote of quotes.reverse()) {
    const lines = quotedLines(quote);
    if (lines.length === 0 || (isQuotation(quote) && isPullQuote(quote, lines))) continue;
    const total = lines.reduce((sum, line) => sum + line.length, 0);
    const repeated = lines.reduce((sum, line) => sum + (copiesOf(line) >= 2 ? line.length : 0), 0);
    if (total === 0 || repeated <= total / 2) continue;
    for (const line of lines) copies.set(line, copiesOf(line) - 1);
    quote.remove();
  }
}

/**
 * A pull quote: an article repeating one of its sentences beside the paragraph that holds it,
 * which references keep as part of the article.
 */
function isPullQuote(quote: Element, lines: string[]): boolean {
  if (PULL_QUOTE.test(marks(quote))) return true;
  // A quotation with a caption sits in a <figure>, which is the block beside the paragraph.
  const block = quote.parentElement?.localName === 'figure' ? quote.parentElement : quote;
  const neighbours = [block.previousElementSibling, block.nextElementSibling].map((el) => squash(el?.textContent ?? ''));
  return lines.some((line) => neighbours.some((text) => text.includes(line)));
}

/** The quotation's lines long enough to tell a copy from a coincidence. */
function quotedLines(quote: Element): string[] {
  return elementText(quote).split('\n').map(squash).filter((line) => line.length >= QUOTE_LINE_MIN_CHARS);
}

function countCopies(text: string, line: string): number {
  let count = 0;
  for (let at = text.indexOf(line); at >= 0; at = text.indexOf(line, at + line.length)) count++;
  return count;
}

function pageDate(document: Root): string | undefined {
  // One pass over the <meta> tags: the first value of each name, then the names in order.
  const values = new Map<string, string>();
  for (const meta of Array.from(document.querySelectorAll('meta'))) {
    const content = meta.getAttribute('content')?.trim();
    if (!content) continue;
    for (const attribute of ['property', 'name', 'itemprop']) {
      const key = meta.getAttribute(attribute);
      if (key && !values.has(key)) values.set(key, content);
    }
  }
  for (const name of DATE_META) {
    const value = values.get(name);
    if (value) return value;
  }
  return document.querySelector('time[datetime]')?.getAttribute('datetime')?.trim() || undefined;
}

// Readability's own threshold for "found nothing".
const MIN_READABILITY_CHARS = 200;
// Readability returned too little when its text is below this share of the pruned page.
const RECALL_SHARE: Record<Favor, number> = { precision: 0, balanced: 0.25, recall: 0.6 };
// Readability settled on a part of the article when its text is below this share of the marked
// container's (trafilatura prefers its own extraction in the same case).
const CONTAINER_SHARE = 0.5;
const MAX_READABILITY_DEPTH = 1000;
const PRUNED_BEFORE_READABILITY = new Set(['nav', 'footer', 'aside', 'header', 'menu', 'form']);
// The chosen text is not the page's main content when it is below this share of the pruned page
// (or of the page read as a list of items): Readability or the container settled on one block
// of a page made of many (posts, sections, items).
const PAGE_SHARE = 0.3;

/**
 * Which candidate's text to keep: Readability's, the marked main container's, or the pruned
 * page's. Readability is preferred; the container replaces it when Readability found little, or
 * much less than the container holds; the pruned page is the last resort. --favor precision
 * leaves Readability's answer only when it is empty.
 */
// A page that says it is an article (Open Graph type, schema.org type): its main text is one
// block, and the rules for pages made of many blocks stay off. TechArticle (documentation) is not
// counted: documentation pages are often made of many sections.
const DECLARED_ARTICLE = /<meta[^>]+(property|name)=["']og:type["'][^>]+content=["']article|<meta[^>]+content=["']article["'][^>]+(property|name)=["']og:type["']|"@type"\s*:\s*\[?\s*"(Article|NewsArticle|BlogPosting|Report|ScholarlyArticle|OpinionNewsArticle|AnalysisNewsArticle|ReportageNewsArticle|LiveBlogPosting)"/i;

// WordPress names what a page is in the body's classes: `archive` (a category, tag, date or author
// archive), `blog` (the posts index), `search` (search results). Its SEO plugins stamp `og:type
// article` on every page, these indexes included: a page so named is a list of posts, not one.
const INDEX_BODY = /<body[^>]*\sclass=["'](?:[^"']*\s)?(archive|blog|search)(?:\s[^"']*)?["']/i;

/** A page that says it is one article, and whose body does not say it is an index of posts. */
export function declaresArticle(html: string): boolean {
  return DECLARED_ARTICLE.test(html) && !INDEX_BODY.test(html);
}

// A page that says it is a discussion (schema.org DiscussionForumPosting, QAPage).
const DECLARED_THREAD = /"@type"\s*:\s*\[?\s*"(DiscussionForumPosting|QAPage)"|itemtype=["']https?:\/\/schema\.org\/(DiscussionForumPosting|QAPage)["']/i;

function declaresThread(html: string): boolean {
  return DECLARED_THREAD.test(html);
}

// A question-and-answer page (schema.org QAPage) that is not a forum thread: a forum types its
// replies as schema.org Comment too (Discourse, XenForo, NodeBB), a Q&A site only the remarks
// under the question and each answer (Stack Exchange), which are its comments. The page's markup
// is searched for the two type names, wherever they are declared.
const FORUM_POSTING = /DiscussionForumPosting/;
const QA_PAGE = /QAPage/;
const TYPED_COMMENT = /^https?:\/\/schema\.org\/Comment$/;

function removeQaComments(doc: Root, html: string): void {
  if (!QA_PAGE.test(html) || FORUM_POSTING.test(html)) return;
  for (const el of Array.from(doc.querySelectorAll('[itemtype]'))) {
    if (TYPED_COMMENT.test(el.getAttribute('itemtype') ?? '')) el.remove();
  }
}

// A page that says it sells one product (schema.org Product, Open Graph product): its reviews are
// its comments.
const DECLARED_PRODUCT = /"@type"\s*:\s*\[?\s*"Product"|itemtype=["']https?:\/\/schema\.org\/Product["']|<meta[^>]+(property|name)=["']og:type["'][^>]+content=["']product|<meta[^>]+content=["']product["'][^>]+(property|name)=["']og:type["']/i;

// Store software names a product page in the body's classes: WooCommerce `single-product`, Shopify
// `template-product`, Magento `catalog-product-view`, a product detail page's `pdp`. Many such pages
// declare no schema.org type (WooCommerce's SEO plugins stamp `og:type` article on them).
const PRODUCT_BODY = /<body[^>]*\sclass=["'](?:[^"']*[\s_-])?(single-product|template-product|catalog-product-view|pdp)(?:[\s_-][^"']*)?["']/i;

function declaresProduct(html: string): boolean {
  return DECLARED_PRODUCT.test(html) || PRODUCT_BODY.test(html);
}

function chooseCandidate(readable: number, container: number, page: number, items: number, article: boolean, favor: Favor): 'readability' | 'container' | 'fallback' | 'items' {
  const alternative = container >= MIN_READABILITY_CHARS ? 'container' : page > 0 ? 'fallback' : 'readability';
  if (favor === 'precision') return readable === 0 ? alternative : 'readability';
  let choice: 'readability' | 'container' | 'fallback' = 'readability';
  if (readable < MIN_READABILITY_CHARS || readable < RECALL_SHARE[favor] * page) choice = alternative;
  else if (container >= MIN_READABILITY_CHARS && readable < CONTAINER_SHARE * container) choice = 'container';
  const chosen = choice === 'readability' ? readable : choice === 'container' ? container : page;
  if (article) return chosen === 0 && items > 0 ? 'items' : choice;
  // A page that is not one article: one post of a thread, one section of a service page, one
  // block of a product page is all that Readability or the container found.
  if (chosen < PAGE_SHARE * page) return 'fallback';
  // A listing: the main text is a small part of the page once its items are counted.
  if (chosen < PAGE_SHARE * items) return 'items';
  return choice;
}

// Below this share of the pruned page, a chosen text may be one section of a page made of many.
const SECTION_SHARE = 0.7;
// A line this long is a sentence or a paragraph rather than a label, a price or a link.
const PROSE_LINE_CHARS = 80;
// The pruned page's lines left out of the chosen text are the page's other sections when at least
// this share of their characters is in prose lines (and the page's menus and labels when less).
const LEFT_OUT_PROSE_SHARE = 0.4;

/**
 * Whether the chosen text is one section of a page made of several (a service page's feature
 * sections, a thread's posts): it holds under 70 % of the pruned page, and what it leaves out is
 * mostly prose, as the sections it holds are. What Readability rightly leaves out of a
 * documentation page or a store is mostly short lines: navigation, labels, prices.
 */
function settledOnOneSection(chosen: string, page: string): boolean {
  if (chosen.trim().length >= SECTION_SHARE * page.trim().length) return false;
  const kept = new Set(chosen.split('\n').map(squash));
  let leftOut = 0;
  let prose = 0;
  for (const line of page.split('\n')) {
    const words = squash(line);
    if (words === '' || kept.has(words)) continue;
    leftOut += words.length;
    if (words.length >= PROSE_LINE_CHARS) prose += words.length;
  }
  return prose > 0 && prose >= LEFT_OUT_PROSE_SHARE * leftOut;
}

// A line of the lead shorter than this is not evidence either way (a price, a label).
const LEAD_LINE_MIN_CHARS = 20;

/**
 * Whether the chosen text already holds the lead: all of it, or most of its lines. A block named
 * "summary" or "description" on a product page wraps the product's title, price and blurb, which
 * the chosen text has with other lines around them; put back, it would repeat the product.
 */
function alreadyHolds(text: string, lead: string): boolean {
  const flat = squash(text);
  if (flat.includes(squash(lead))) return true;
  let found = 0;
  let all = 0;
  for (const line of lead.split('\n')) {
    const words = squash(line);
    if (words.length < LEAD_LINE_MIN_CHARS) continue;
    all += words.length;
    if (flat.includes(words)) found += words.length;
  }
  return all > 0 && found > all / 2;
}

function exceedsDepth(root: TextNode, limit: number): boolean {
  const stack: [TextNode, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    const children = node.childNodes;
    for (let i = 0; i < children.length; i++) if (children[i]!.nodeType === 1) stack.push([children[i]!, depth + 1]);
  }
  return false;
}

// `<![CDATA[` outside a script: a browser reads it as a comment that ends at the next `>`, the
// parser as a CDATA section that runs to `]]>`, or to the end of the page when there is none,
// swallowing the content (a forum page holding it at the top of its body came out empty). In
// scripts it follows `//` or `/*`, and scripts are removed anyway.
const STRAY_CDATA = /(?<!\/\/\s*|\/\*\s*)<!\[CDATA\[/g;

function closeStrayCdata(html: string): string {
  return html.includes('<![CDATA[') ? html.replace(STRAY_CDATA, '<!--[CDATA[-->') : html;
}

/**
 * `<noscript>` is mostly tracking pixels and "enable JavaScript" notes, and is removed; but some
 * sites (Discourse forums) serve the whole page's content in it, beside an empty script shell.
 * The noscript text is kept when it outweighs the rest of the page.
 */
function unwrapOrRemoveNoscript(doc: Root, body: Element): void {
  const noscripts = Array.from(doc.querySelectorAll('noscript'));
  if (noscripts.length === 0) return;
  const inside = noscripts.reduce((sum, el) => sum + (el.textContent ?? '').replace(/\s+/g, '').length, 0);
  const all = (body.textContent ?? '').replace(/\s+/g, '').length;
  for (const el of noscripts) {
    const own = (el.textContent ?? '').replace(/\s+/g, '').length;
    if (own > all - inside && own >= MIN_READABILITY_CHARS) el.replaceWith(...Array.from(el.childNodes));
    else el.remove();
  }
}

/** A DOM node as the streamed-part swap walks it: siblings, comments included. */
interface SiblingNode extends TextNode {
  nextSibling: SiblingNode | null;
  remove(): void;
}

/**
 * React's streamed server rendering sends a part that was not ready later in the page, as
 * `<div hidden id="S:n">`, and a script ($RC) swaps it for its placeholder `<template id="B:n">`
 * and the loading fallback after it (up to the `<!--/$-->` comment). A browser shows the part;
 * read as it is sent, it is hidden and its place holds the fallback. The swap is done here.
 */
function placeStreamedParts(doc: Root): void {
  for (const part of Array.from(doc.querySelectorAll('div[hidden][id^="S:"]'))) {
    const placeholder = doc.querySelector(`template[id="B:${part.getAttribute('id')!.slice(2)}"]`);
    if (!placeholder) continue;
    for (let node = (placeholder as unknown as SiblingNode).nextSibling; node && !(node.nodeType === 8 && node.nodeValue === '/$'); ) {
      const next = node.nextSibling;
      node.remove();
      node = next;
    }
    placeholder.replaceWith(...Array.from(part.childNodes));
    part.remove();
  }
}

/** The page's main text (not yet normalized), title and date. */
export function extractMainContent(html: string, opts: MainContentOptions): MainContent {
  const { document } = parseHTML(closeStrayCdata(html));
  const doc = document as unknown as Root & { documentElement: Element | null };
  const title = (doc.querySelector('title')?.textContent ?? '').trim().replace(/\s+/g, ' ') || undefined;
  const date = pageDate(doc);
  const body = doc.querySelector('body') ?? doc.documentElement;
  if (!body) return { text: '', title, date, method: 'whole-page' };
  placeStreamedParts(doc);
  // Scripts and styles first: their text would inflate the page's length, and a wrapper holding
  // the article would then count as small.
  for (const el of Array.from(doc.querySelectorAll('script,style,template,svg,iframe'))) el.remove();
  unwrapOrRemoveNoscript(doc, body);
  const pageLength = (body.textContent ?? '').length;
  const isSmall = (el: Element) => (el.textContent ?? '').length <= MAX_FURNITURE_SHARE * pageLength;
  // on a page that declares a forum thread, the "comments" are the thread's posts
  const keepComments = opts.keepComments || declaresThread(html);
  const comments = removeNoise(doc, keepComments, declaresProduct(html), isSmall);
  if (!opts.keepComments) removeQaComments(doc, html);
  const isPageFurniture = (el: TextNode) => isBoilerplate(el as Element, keepComments) && isSmall(el as Element);
  // Readability walks the tree recursively and slows down sharply on very deep trees, which only
  // broken or hostile pages have; for those the pruned text is the answer. The in-article rules
  // below read each candidate's text, which is quadratic on such trees, so they are skipped too.
  if (exceedsDepth(body, MAX_READABILITY_DEPTH)) return { text: elementText(body, { skip: isPageFurniture }), title, date, method: 'deep-fallback' };
  removeRepeatedCopies(doc, body);
  removeArticleFurniture(doc);
  const furnitureIn = (scope: Element, shortBlocks = true) => {
    const options = { keepComments, linkLists: opts.favor === 'precision', shortBlocks, scopeLength: (scope.textContent ?? '').length };
    return (node: TextNode) => isFurniture(node as Element, options);
  };
  // The navigation, headers, footers and sidebars the pruned page leaves out are furniture for
  // Readability too: removed before it runs, so that it neither weighs nor walks them.
  const pruned: Element[] = [];
  const isBodyFurniture = furnitureIn(body);
  const fallback = elementText(body, {
    skip: (node) => {
      if (!isBodyFurniture(node)) return false;
      if (PRUNED_BEFORE_READABILITY.has((node as Element).localName ?? '')) pruned.push(node as Element);
      return true;
    },
  });
  // The page as a list of items: linked titles and short blurbs are what a listing, a category
  // page or a home page is made of, and the short-block rules would drop them.
  // When every element with text reads as furniture (a store whose product grid sits in
  // "widget" blocks), the page's visible text is the answer rather than nothing.
  // A page that declares itself an article is never read as a list (see chooseCandidate).
  const declaredArticle = declaresArticle(html);
  const listed = declaredArticle ? '' : elementText(body, { skip: furnitureIn(body, false) });
  const items = listed.trim() === '' && fallback.trim() === '' ? elementText(body) : listed;
  const container = findMainContainer(doc, MIN_READABILITY_CHARS);
  const containerText = container ? elementText(container, { skip: furnitureIn(container) }) : '';
  // The lead sits in the article's header, which the marked body container often leaves out.
  const leadScope = doc.querySelector('article') ?? container;
  const leadElement = leadScope ? findLead(leadScope) : undefined;
  const lead = leadElement ? elementText(leadElement) : '';

  // The items are read before Readability, which takes the page apart.
  const listItems = declaredArticle || opts.favor === 'precision' ? [] : findItems(body);
  for (const el of pruned) el.remove();
  const article = new LinkedomReadability(document, {
    // Readability retries with looser rules below this many characters; 250 (default 500) scored best on the tuning half of extract-dev.
    charThreshold: 250,
    keepClasses: true,
  }).parse();
  // Readability keeps some furniture inside the article (share bars, related links, tag lists).
  const readable = article?.content ? elementText(article.content, { skip: furnitureIn(article.content) }) : '';
  let method = chooseCandidate(readable.trim().length, containerText.trim().length, fallback.trim().length, items.trim().length, declaredArticle, opts.favor);
  // On a page that is not one article, the pruned page also wins when Readability or the container
  // settled on one of its sections of text.
  const onePart = method === 'container' ? containerText : readable;
  if ((method === 'readability' || method === 'container') && !declaredArticle && opts.favor !== 'precision' && settledOnOneSection(onePart, fallback)) method = 'fallback';
  // The container instead of Readability's text on a page that declares no article: a store's
  // category page whose product grid Readability dropped, and the container holds; or a block
  // whose headings and short lines Readability's cleaning cut out, and the container is whole. On
  // a page that marks no container, the pruned page is the whole block.
  if (method === 'readability' && !declaredArticle && opts.favor !== 'precision') {
    const marked = containerText.trim().length >= MIN_READABILITY_CHARS;
    if (leavesOutItems(readable, containerText, listItems) || (marked && cutFromWithin(readable, containerText))) method = 'container';
    else if (!marked && cutFromWithin(readable, fallback)) method = 'fallback';
  }
  let text = method === 'container' ? containerText : method === 'fallback' ? fallback : method === 'items' ? items : readable;
  // A listing whose chosen text kept its items' prices or blurbs and lost their linked titles.
  if (method !== 'items' && lacksItemTitles(text, items, listItems)) {
    method = 'items';
    text = items;
  }
  if (lead && !alreadyHolds(text, lead)) text = `${lead}\n\n${text}`;
  if (opts.keepComments && method === 'readability') {
    for (const el of comments) text += `\n\n${elementText(el)}`;
  }
  return { text, title: article?.title?.trim() || title, date: date ?? article?.publishedTime ?? undefined, method };
}

/** Every visible text of the page, furniture included: the baseline main-content extraction must beat. */
export function wholePageText(html: string): string {
  const { document } = parseHTML(html);
  const body = (document as unknown as { querySelector(s: string): TextNode | null }).querySelector('body');
  return body ? elementText(body) : '';
}
