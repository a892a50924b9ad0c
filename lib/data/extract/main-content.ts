// Main-content extraction on a linkedom DOM, after trafilatura's design: boilerplate is removed
// first, then three candidates are read with the same furniture rules (boilerplate.ts):
// Readability.js's article, the container the markup names as the article body (container.ts),
// and the pruned page. Readability's is kept unless it found little or much less than the
// container, the article's lead paragraph is put back when Readability left it out, and `favor`
// trades recall for precision, as trafilatura's switches do.
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { COOKIE, MAX_FURNITURE_SHARE, WRAPPERS, isArticleFurniture, isBoilerplate, isComments, isDialog, isFurniture, isHidden, marks, type Element, type Root } from './boilerplate.js';
import { findLead, findMainContainer } from './container.js';
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
  method: 'readability' | 'container' | 'fallback' | 'deep-fallback' | 'whole-page';
}

const DATE_META = ['article:published_time', 'og:published_time', 'datePublished', 'date', 'dc.date', 'DC.date.issued', 'pubdate', 'publish-date', 'sailthru.date', 'parsely-pub-date'];

/**
 * Removes what no extraction pass should ever see: scripts, hidden elements, cookie banners and
 * (unless kept) comments. Class words also appear on page wrappers (`<body class="cookies-off">`,
 * `<div class="has-sidebar">`), so nothing that holds a large share of the page's text is removed.
 */
function removeNoise(document: Root, keepComments: boolean, isSmall: (el: Element) => boolean): Element[] {
  const comments: Element[] = [];
  for (const el of Array.from(document.querySelectorAll('[id],[class],[style],[hidden],[aria-hidden],[role]'))) {
    if (WRAPPERS.has(el.localName ?? '')) continue;
    if (isHidden(el) || COOKIE.test(marks(el)) || isDialog(el)) {
      if (isSmall(el)) el.remove();
    } else if (isComments(el) && isSmall(el) && !comments.some((outer) => outer.contains(el))) comments.push(el);
  }
  if (keepComments) return comments;
  for (const el of comments) el.remove();
  return [];
}

/**
 * Removed before Readability runs, which rewrites phrasing-only `<div>`s as bare `<p>`s and so
 * loses the class that marks them.
 */
function removeArticleFurniture(document: Root): void {
  for (const el of Array.from(document.querySelectorAll('figcaption,[id],[class]'))) {
    if (isArticleFurniture(el)) el.remove();
  }
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

/**
 * Which candidate's text to keep: Readability's, the marked main container's, or the pruned
 * page's. Readability is preferred; the container replaces it when Readability found little, or
 * much less than the container holds; the pruned page is the last resort. --favor precision
 * leaves Readability's answer only when it is empty.
 */
function chooseCandidate(readable: number, container: number, page: number, favor: Favor): 'readability' | 'container' | 'fallback' {
  const alternative = container >= MIN_READABILITY_CHARS ? 'container' : page > 0 ? 'fallback' : 'readability';
  if (favor === 'precision') return readable === 0 ? alternative : 'readability';
  if (readable < MIN_READABILITY_CHARS || readable < RECALL_SHARE[favor] * page) return alternative;
  if (container >= MIN_READABILITY_CHARS && readable < CONTAINER_SHARE * container) return 'container';
  return 'readability';
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

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
  const doc = document as unknown as Root & { documentElement: Element | null };
  const title = (doc.querySelector('title')?.textContent ?? '').trim().replace(/\s+/g, ' ') || undefined;
  const date = pageDate(doc);
  const body = doc.querySelector('body') ?? doc.documentElement;
  if (!body) return { text: '', title, date, method: 'whole-page' };
  // Scripts and styles first: their text would inflate the page's length, and a wrapper holding
  // the article would then count as small.
  for (const el of Array.from(doc.querySelectorAll('script,style,noscript,template,svg,iframe'))) el.remove();
  const pageLength = (body.textContent ?? '').length;
  const isSmall = (el: Element) => (el.textContent ?? '').length <= MAX_FURNITURE_SHARE * pageLength;
  const comments = removeNoise(doc, opts.keepComments, isSmall);
  const isPageFurniture = (el: TextNode) => isBoilerplate(el as Element, opts.keepComments) && isSmall(el as Element);
  // Readability walks the tree recursively and slows down sharply on very deep trees, which only
  // broken or hostile pages have; for those the pruned text is the answer. The in-article rules
  // below read each candidate's text, which is quadratic on such trees, so they are skipped too.
  if (exceedsDepth(body, MAX_READABILITY_DEPTH)) return { text: elementText(body, { skip: isPageFurniture }), title, date, method: 'deep-fallback' };
  removeArticleFurniture(doc);
  const furnitureIn = (scope: Element) => {
    const options = { keepComments: opts.keepComments, linkLists: opts.favor === 'precision', scopeLength: (scope.textContent ?? '').length };
    return (node: TextNode) => isFurniture(node as Element, options);
  };
  const fallback = elementText(body, { skip: furnitureIn(body) });
  const container = findMainContainer(doc, MIN_READABILITY_CHARS);
  const containerText = container ? elementText(container, { skip: furnitureIn(container) }) : '';
  // The lead sits in the article's header, which the marked body container often leaves out.
  const leadScope = doc.querySelector('article') ?? container;
  const leadElement = leadScope ? findLead(leadScope) : undefined;
  const lead = leadElement ? elementText(leadElement) : '';

  const article = new Readability<Element>(document as unknown as ConstructorParameters<typeof Readability>[0], {
    serializer: (node) => node as unknown as Element,
    // Readability retries with looser rules below this many characters; 250 (default 500) scored best on the tuning half of extract-dev.
    charThreshold: 250,
    keepClasses: true,
  }).parse();
  // Readability keeps some furniture inside the article (share bars, related links, tag lists).
  const readable = article?.content ? elementText(article.content, { skip: furnitureIn(article.content) }) : '';
  const method = chooseCandidate(readable.trim().length, containerText.trim().length, fallback.trim().length, opts.favor);
  let text = method === 'container' ? containerText : method === 'fallback' ? fallback : readable;
  if (lead && !squash(text).includes(squash(lead))) text = `${lead}\n\n${text}`;
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
