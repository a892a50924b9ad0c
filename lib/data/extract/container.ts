// The page's main container found by markup, as trafilatura does before it falls back to
// Readability: an element that says it holds the article body (`itemprop="articleBody"`, class
// words such as entry-content, post-body, article-text, story-body), else the `<article>`, else
// `<main>` or the element named content/main. Readability scores paragraphs instead, and can
// settle on one block of a body split in several (a recipe's ingredients beside its steps, a lead
// paragraph above the article element); the container catches those.
import { classOf, isBoilerplate, marks, type Element, type Root } from './boilerplate.js';

const BODY_WORDS = /(^|[\s_-])((entry|post|article|story|blog|single|text|body|page|field|news|content)-?(content|body|text|entry|inner|copy|item-?body)|articlebody|postbody|fulltext|full-?text|article-?(container|main)|rte|richtext|rich-?text|content-?main|main-?content)($|[\s_-])/i;
const CONTAINER_TAGS = new Set(['article', 'div', 'main', 'section', 'td']);
const MAIN_WORDS = /^(content|main|main-?content|page|primary|container-?content)$/i;

const textLength = (el: Element) => (el.textContent ?? '').length;

function isCandidate(el: Element): boolean {
  return CONTAINER_TAGS.has(el.localName ?? '');
}

/**
 * The element that holds the main text by its markup, or undefined. Among elements marked as the
 * body, the longest outermost one wins (several marked blocks nested in one another are one body).
 */
export function findMainContainer(doc: Root, minChars: number): Element | undefined {
  const bodies: Element[] = [];
  for (const el of Array.from(doc.querySelectorAll('[itemprop="articleBody"],[itemprop="articlebody"],[class],[id]'))) {
    if (!isCandidate(el)) continue;
    if (el.getAttribute('itemprop')?.toLowerCase() === 'articlebody' || BODY_WORDS.test(marks(el))) bodies.push(el);
  }
  const marked = longest(bodies.filter((el) => textLength(el) >= minChars));
  if (marked) return marked;
  const articles = Array.from(doc.querySelectorAll('article')).filter((el) => textLength(el) >= minChars);
  if (articles.length === 1) return articles[0];
  const mains = Array.from(doc.querySelectorAll('main,[role="main"],[id],[class]')).filter((el) => isCandidate(el) && (el.localName === 'main' || el.getAttribute('role') === 'main' || MAIN_WORDS.test(el.id ?? '') || MAIN_WORDS.test(classOf(el).trim())));
  return longest(mains.filter((el) => textLength(el) >= minChars));
}

function longest(elements: Element[]): Element | undefined {
  let best: Element | undefined;
  let bestLength = -1;
  for (const el of elements) {
    const length = textLength(el);
    if (length > bestLength) [best, bestLength] = [el, length];
  }
  return best;
}

const LEAD_WORDS = /(^|[\s_-])(lead|leads|intro|introduction|subtitle|sub-?title|subheadline|standfirst|summary|excerpt|entry-?excerpt|abstract|dek|deck|teaser-?text|article-?teaser|article-?intro|article-?lead|vorspann|chapeau|chapo|description)($|[\s_-])/i;
const LEAD_TAGS = new Set(['p', 'div', 'section', 'h2', 'h3', 'span', 'strong']);
const LEAD_MIN_CHARS = 40;
const LEAD_MAX_CHARS = 1000;

/** Whether `el` sits in a related-stories list, a sidebar or other furniture below `scope`. */
function insideFurniture(el: Element, scope: Element): boolean {
  for (let node: Element | null = el; node && node !== scope; node = node.parentElement) if (isBoilerplate(node, false)) return true;
  return false;
}

/**
 * The article's lead paragraph (standfirst, intro, excerpt) inside `scope`: Readability often
 * leaves it out with the article's header.
 */
export function findLead(scope: Element): Element | undefined {
  for (const el of Array.from(scope.querySelectorAll('[class],[id]'))) {
    if (!LEAD_TAGS.has(el.localName ?? '') || !LEAD_WORDS.test(marks(el))) continue;
    const length = (el.textContent ?? '').replace(/\s+/g, ' ').trim().length;
    if (length >= LEAD_MIN_CHARS && length <= LEAD_MAX_CHARS && !insideFurniture(el, scope)) return el;
  }
  return undefined;
}
