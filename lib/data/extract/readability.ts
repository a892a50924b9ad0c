// Readability.js on linkedom, with three of its helpers made cheaper and their answers unchanged.
// A CPU profile of extraction on WCXB's pages put a tenth of the time in linkedom compiling a
// CSS selector for each of Readability's `querySelectorAll('p')` calls, and more in reading the
// whole text of every element it tests as a byline and in building a style object for every
// element it tests for visibility.
import { Readability } from '@mozilla/readability';
import type { Element } from './boilerplate.js';

type ReadabilityDocument = ConstructorParameters<typeof Readability>[0];
type ReadabilityOptions = NonNullable<ConstructorParameters<typeof Readability>[1]>;

interface ReadabilityHelpers {
  REGEXPS: { byline: RegExp };
  _isProbablyVisible(node: unknown): boolean;
}

const base = Readability.prototype as unknown as ReadabilityHelpers;

/**
 * The descendants of `root` named in `names`, in document order, matched as an HTML selector
 * matches them: whatever the case (Readability creates its `<P>`s in upper case).
 */
export function descendantsNamed(root: Element, names: readonly string[]): Element[] {
  // An HTML document's getElementsByTagName compares upper-cased names.
  if (names.length === 1) return Array.from(root.getElementsByTagName(names[0]!.toUpperCase()));
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const found: Element[] = [];
  const stack: Element[] = [];
  const pushChildren = (el: Element) => {
    const children = (el as unknown as { children: ArrayLike<Element> }).children;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  };
  pushChildren(root);
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (wanted.has((el.localName ?? '').toLowerCase())) found.push(el);
    pushChildren(el);
  }
  return found;
}

/** Readability.js returning its article as a DOM element (the text is read from it, not from HTML). */
export class LinkedomReadability extends Readability<Element> {
  constructor(document: unknown, options: Omit<ReadabilityOptions, 'serializer'> = {}) {
    super(document as ReadabilityDocument, { ...options, serializer: (node) => node as unknown as Element });
  }

  // Readability asks for elements by tag name only; its selectors are lists of tag names.
  _getAllNodesWithTag(node: Element, tagNames: string[]): Element[] {
    return descendantsNamed(node, tagNames);
  }

  // The same test as Readability's, with the element's text read last (only for a candidate).
  _isValidByline(node: Element, matchString: string): boolean {
    const itemprop = node.getAttribute('itemprop');
    if (node.getAttribute('rel') !== 'author' && !itemprop?.includes('author') && !(this as unknown as ReadabilityHelpers).REGEXPS.byline.test(matchString)) return false;
    const length = (node.textContent ?? '').trim().length;
    return length > 0 && length < 100;
  }

  // An element without a style attribute has no inline display or visibility to parse.
  _isProbablyVisible(node: Element): boolean {
    if (node.getAttribute('style') !== null) return base._isProbablyVisible.call(this, node);
    if (node.getAttribute('hidden') !== null) return false;
    return node.getAttribute('aria-hidden') !== 'true' || (typeof node.className === 'string' && node.className.includes('fallback-image'));
  }
}
