// Main-content extraction: Readability.js on a linkedom DOM, with boilerplate removed first and a
// fallback to the pruned page text when Readability returns too little (datatrove/trafilatura
// do the same). `favor` trades recall for precision, as trafilatura's switches do.
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { elementText, type TextNode } from './html-text.js';

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
  method: 'readability' | 'fallback' | 'deep-fallback' | 'whole-page';
}

interface Element extends TextNode {
  id: string;
  className: string;
  textContent: string | null;
  remove(): void;
  querySelectorAll(selector: string): ArrayLike<Element>;
  getAttribute(name: string): string | null;
}

// Class/id words that mark page furniture rather than content.
const BOILERPLATE_WORDS = 'nav|navbar|navigation|menu|menubar|breadcrumbs?|footer|site-?footer|masthead|sidebar|side-?bar|widgets?|cookies?|cookie-?banner|consent|gdpr|banner|share|sharing|sharedaddy|social|socials|social-?media|related|related-?posts|recommended|newsletter|subscribe|subscription|advert|advertisement|ads?|adsense|sponsor(ed)?|promo|popup|modal|overlay|pagination|pager|tag-?cloud|tags|author-?bio|login|signup|search|skip-?link|print|toolbar|rating';
const BOILERPLATE = new RegExp(`(^|[\\s_-])(${BOILERPLATE_WORDS})($|[\\s_-])`, 'i');
const COOKIE = /cookie|consent|gdpr|cmp-|onetrust|cc-window|privacy-?banner/i;
const COMMENTS = /(^|[\s_-])(comments?|comment-?list|commentlist|disqus|discussion|respond|replies|reply)($|[\s_-])/i;
const BOILERPLATE_TAGS = new Set(['nav', 'footer', 'aside', 'form', 'menu', 'dialog']);
const BOILERPLATE_ROLES = /^(navigation|banner|contentinfo|complementary|search|dialog|alertdialog|menu|menubar)$/i;
const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;

function marks(el: Element): string {
  return `${el.id ?? ''} ${typeof el.className === 'string' ? el.className : ''}`;
}

function isHidden(el: Element): boolean {
  const style = el.getAttribute('style');
  return el.getAttribute('hidden') !== null || el.getAttribute('aria-hidden') === 'true' || (style !== null && HIDDEN_STYLE.test(style));
}

function isComments(el: Element): boolean {
  return COMMENTS.test(marks(el));
}

/** Furniture the fallback pass leaves out: navigation, footers, sidebars, banners, comments. */
function isBoilerplate(el: Element, keepComments: boolean): boolean {
  const name = el.localName ?? '';
  if (BOILERPLATE_TAGS.has(name)) return true;
  if (name === 'header' && !isInsideArticle(el)) return true;
  const role = el.getAttribute('role');
  if (role && BOILERPLATE_ROLES.test(role)) return true;
  const m = marks(el);
  if (BOILERPLATE.test(m)) return true;
  return !keepComments && COMMENTS.test(m);
}

function isInsideArticle(el: Element): boolean {
  for (let node = (el as unknown as { parentElement?: Element | null }).parentElement; node; node = (node as unknown as { parentElement?: Element | null }).parentElement) {
    if (node.localName === 'article' || node.localName === 'main') return true;
  }
  return false;
}

/**
 * Removes what no extraction pass should ever see: scripts, hidden elements, cookie banners and
 * (unless kept) comments. Class words also appear on page wrappers (`<body class="cookies-off">`,
 * `<div class="has-sidebar">`), so nothing that holds a large share of the page's text is removed.
 */
function removeNoise(document: { querySelectorAll(s: string): ArrayLike<Element> }, keepComments: boolean, isSmall: (el: Element) => boolean): Element[] {
  const comments: Element[] = [];
  for (const el of Array.from(document.querySelectorAll('script,style,noscript,template,svg,iframe'))) el.remove();
  for (const el of Array.from(document.querySelectorAll('[id],[class],[style],[hidden],[aria-hidden],[role]'))) {
    if (WRAPPERS.has(el.localName ?? '')) continue;
    if (isHidden(el) || COOKIE.test(marks(el)) || /^(dialog|alertdialog)$/i.test(el.getAttribute('role') ?? '')) {
      if (isSmall(el)) el.remove();
    } else if (isComments(el) && isSmall(el) && !isCommentsInside(el, comments)) comments.push(el);
  }
  if (keepComments) return comments;
  for (const el of comments) el.remove();
  return [];
}

const LINK_LIST_TAGS = new Set(['ul', 'ol', 'div', 'p', 'section', 'table', 'nav']);
const LINK_LIST_MAX_CHARS = 300;
const LINK_LIST_DENSITY = 0.6;

/** A short block that is mostly link text: "read also", tag lists, pagination. */
function isLinkList(el: Element): boolean {
  if (!LINK_LIST_TAGS.has(el.localName ?? '')) return false;
  const length = (el.textContent ?? '').replace(/\s+/g, ' ').trim().length;
  if (length === 0 || length > LINK_LIST_MAX_CHARS) return false;
  let linked = 0;
  for (const a of Array.from(el.querySelectorAll('a'))) linked += (a.textContent ?? '').replace(/\s+/g, ' ').trim().length;
  return linked / length > LINK_LIST_DENSITY;
}

// Inside an article: captions and photo credits, bylines and post metadata, author boxes.
const ARTICLE_FURNITURE = /(^|[\s_-])(wp-caption-text|captions?|credits?|byline|postmetadata|post-?meta|entry-?meta|entry-utility|article-?meta|meta-?data|author|author-?box|author-?info|author-?description|about-?author|sabox\w*|post-?ratings?|likes|sources|paywall|read-?more|more-?link|next-?post|nextstory|prev-?next|alerts?|notices?|cta|copyright|disclaimer|loading|wishlist|cart)($|[\s_-])/i;
const ARTICLE_FURNITURE_TAGS = new Set(['figcaption']);

// Captions, bylines and author boxes are short; a long element with such a class is a wrapper
// (`<article class="author-jane">`).
const ARTICLE_FURNITURE_MAX_CHARS = 800;

function isArticleFurniture(el: Element): boolean {
  if (WRAPPERS.has(el.localName ?? '')) return false;
  if (!ARTICLE_FURNITURE_TAGS.has(el.localName ?? '') && !ARTICLE_FURNITURE.test(marks(el))) return false;
  return (el.textContent ?? '').length <= ARTICLE_FURNITURE_MAX_CHARS;
}

/**
 * Removed before Readability runs, which rewrites phrasing-only `<div>`s as bare `<p>`s and so
 * loses the class that marks them.
 */
function removeArticleFurniture(document: { querySelectorAll(s: string): ArrayLike<Element> }): void {
  for (const el of Array.from(document.querySelectorAll('figcaption,[id],[class]'))) {
    if (isArticleFurniture(el)) el.remove();
  }
}

// Lines that introduce furniture rather than content: "read also", "related", share and subscribe prompts.
const TEASER = /^(related( articles| posts| stories| content)?|read (more|also|next)|see also|more (from|on|stories|articles)|you (may|might) also like|recommended( for you)?|share (this|on|the article)|follow us|sign up|subscribe|advertisement|sponsored|lesen sie (auch|mehr|hier)|auch interessant|mehr zum thema|(das|dies) könnte (dich|sie) auch interessieren|weiterführende[rn]? links?|weiterlesen|artikel teilen|möchten sie (den|diesen) artikel teilen|war (der|dieser) artikel (nützlich|hilfreich)|anzeige|empfohlene (beiträge|artikel)|ähnliche (beiträge|artikel)|à lire (aussi|également)|lire aussi|lire la suite|sur le même sujet|pour lire la suite|czytaj (też|także|więcej)|zobacz (też|także|również)|lee también|leer más|te puede interesar|never miss|sign up for|load more|show more|lade weitere|mehr anzeigen|weiter zu|newsletter abonnieren|jetzt abonnieren|(photo|image|picture) (credit|by|via)|(foto|bild) via|photograph by|crédits? photos?)\b/iu;
const TEASER_MAX_CHARS = 80;
const TEASER_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'div', 'span', 'strong', 'b', 'li', 'section', 'aside']);

/** A short block that announces furniture ("Read also: …", "Related articles"). */
function isTeaserLine(el: Element): boolean {
  if (!TEASER_TAGS.has(el.localName ?? '')) return false;
  const text = el.textContent ?? '';
  if (text.length > TEASER_MAX_CHARS * 2) return false;
  const line = text.replace(/\s+/g, ' ').trim().replace(/^[^\p{L}]+/u, '');
  return line.length <= TEASER_MAX_CHARS && TEASER.test(line);
}

const WRAPPERS = new Set(['html', 'body', 'main', 'article']);
// Furniture is small: an element with more than this share of the page's text is content.
const MAX_FURNITURE_SHARE = 0.4;

function isCommentsInside(el: Element, found: Element[]): boolean {
  return found.some((outer) => (outer as unknown as { contains(n: unknown): boolean }).contains(el));
}

const DATE_META = ['article:published_time', 'og:published_time', 'datePublished', 'date', 'dc.date', 'DC.date.issued', 'pubdate', 'publish-date', 'sailthru.date', 'parsely-pub-date'];

function pageDate(document: { querySelector(s: string): Element | null }): string | undefined {
  for (const name of DATE_META) {
    const meta = document.querySelector(`meta[property="${name}"],meta[name="${name}"],meta[itemprop="${name}"]`);
    const value = meta?.getAttribute('content')?.trim();
    if (value) return value;
  }
  return document.querySelector('time[datetime]')?.getAttribute('datetime')?.trim() || undefined;
}

// Readability's own threshold; the share of the pruned page below which its result counts as
// "too little" depends on --favor.
const RECALL_SHARE: Record<Favor, number> = { precision: 0, balanced: 0.25, recall: 0.6 };
const MIN_READABILITY_CHARS = 200;
const MAX_READABILITY_DEPTH = 1000;

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

/** The page's main text (not yet normalized), title and date. */
export function extractMainContent(html: string, opts: MainContentOptions): MainContent {
  const { document } = parseHTML(html);
  const doc = document as unknown as { querySelectorAll(s: string): ArrayLike<Element>; querySelector(s: string): Element | null; documentElement: Element | null };
  const title = (doc.querySelector('title')?.textContent ?? '').trim().replace(/\s+/g, ' ') || undefined;
  const date = pageDate(doc);
  const body = doc.querySelector('body') ?? doc.documentElement;
  if (!body) return { text: '', title, date, method: 'whole-page' };
  const pageLength = (body.textContent ?? '').length;
  const isSmall = (el: Element) => (el.textContent ?? '').length <= MAX_FURNITURE_SHARE * pageLength;
  const comments = removeNoise(doc, opts.keepComments, isSmall);
  const isPageFurniture = (el: TextNode) => isBoilerplate(el as Element, opts.keepComments) && isSmall(el as Element);
  // Readability walks the tree recursively and slows down sharply on very deep trees, which only
  // broken or hostile pages have; for those the pruned text is the answer. The in-article rules
  // below read each candidate's text, which is quadratic on such trees, so they are skipped too.
  if (exceedsDepth(body, MAX_READABILITY_DEPTH)) return { text: elementText(body, { skip: isPageFurniture }), title, date, method: 'deep-fallback' };
  removeArticleFurniture(doc);
  const fallback = elementText(body, { skip: (el) => isPageFurniture(el) || isTeaserLine(el as Element) });

  const article = new Readability<Element>(document as unknown as ConstructorParameters<typeof Readability>[0], {
    serializer: (node) => node as unknown as Element,
    // Readability retries with looser rules below this many characters; 250 (default 500) scored best on the tuning half of extract-dev.
    charThreshold: 250,
    keepClasses: true,
  }).parse();
  // Readability keeps some furniture inside the article (share bars, related links, tag lists).
  const articleLength = (article?.content?.textContent ?? '').length;
  const smallInArticle = (el: Element) => (el.textContent ?? '').length <= MAX_FURNITURE_SHARE * articleLength;
  const skipInArticle = (node: TextNode) => {
    const el = node as Element;
    return (isBoilerplate(el, opts.keepComments) && smallInArticle(el)) || isTeaserLine(el) || (opts.favor === 'precision' && isLinkList(el));
  };
  let text = article?.content ? elementText(article.content, { skip: skipInArticle }) : '';
  let method: MainContent['method'] = 'readability';
  const readableLength = text.trim().length;
  const fallbackLength = fallback.trim().length;
  if (readableLength < MIN_READABILITY_CHARS && fallbackLength > 0 && opts.favor !== 'precision') {
    text = fallback;
    method = 'fallback';
  } else if (readableLength < RECALL_SHARE[opts.favor] * fallbackLength) {
    text = fallback;
    method = 'fallback';
  } else if (readableLength === 0) {
    text = fallback;
    method = 'fallback';
  }
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
