// DOM → readable text: block elements become line or paragraph breaks, table cells are separated,
// and list items start on their own line. Iterative (an explicit stack), so a page nested 100k
// levels deep cannot overflow the call stack.

/** The slice of the DOM this module needs (linkedom and jsdom both provide it). */
export interface TextNode {
  nodeType: number;
  nodeValue?: string | null;
  textContent?: string | null;
  localName?: string;
  childNodes: ArrayLike<TextNode>;
  getAttribute?(name: string): string | null;
}

const ELEMENT = 1;
const TEXT = 3;

const PARAGRAPH_BLOCKS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'table', 'ul', 'ol', 'dl', 'figure', 'hr', 'article', 'section', 'main', 'header', 'footer', 'aside', 'nav', 'address', 'details']);
const LINE_BLOCKS = new Set(['div', 'li', 'tr', 'dt', 'dd', 'br', 'figcaption', 'summary', 'caption', 'option', 'center', 'form', 'fieldset', 'legend', 'body']);
const CELLS = new Set(['td', 'th']);
/** Elements whose content is never text a reader sees. */
export const NEVER_TEXT = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'head', 'select', 'button', 'input', 'textarea', 'video', 'audio', 'map']);

export interface TextOptions {
  /** Return true to leave an element (and everything inside it) out. */
  skip?: (element: TextNode) => boolean;
}

/** The visible text under `root`, with paragraph breaks as blank lines (not yet normalized). */
export function elementText(root: TextNode, opts: TextOptions = {}): string {
  const out: string[] = [];
  // Breaks are held back until the next text, so nested and adjacent blocks give one break (the
  // strongest asked for: 2 = paragraph, 1 = line), and none at the start or end.
  let pending = 0;
  const brk = (level: number) => {
    if (level > pending) pending = level;
  };
  const emit = (text: string) => {
    if (text.trim() === '') {
      if (text && pending === 0) out.push(' ');
      return;
    }
    if (pending > 0 && out.length > 0) out.push(pending === 2 ? '\n\n' : '\n');
    pending = 0;
    out.push(text);
  };
  // Entries are nodes to visit, or break levels to apply after a node's children.
  const stack: (TextNode | number)[] = [root];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'number') {
      if (item > 0) brk(item);
      else emit('\t');
      continue;
    }
    if (item.nodeType === TEXT) {
      // Source line breaks inside running text render as spaces.
      emit((item.nodeValue ?? '').replace(/[ \t\r\n\f]+/g, ' '));
      continue;
    }
    if (item.nodeType !== ELEMENT && item !== root) continue;
    const name = item.localName ?? '';
    if (NEVER_TEXT.has(name)) continue;
    if (item !== root && opts.skip?.(item)) continue;
    if (name === 'pre') {
      brk(2);
      emit(item.textContent ?? '');
      brk(2);
      continue;
    }
    if (name === 'img') continue;
    let close: number | undefined;
    if (PARAGRAPH_BLOCKS.has(name)) close = 2;
    else if (LINE_BLOCKS.has(name)) close = 1;
    else if (CELLS.has(name)) close = 0;
    if (close !== undefined) {
      if (close > 0) brk(close);
      stack.push(close);
    }
    const children = item.childNodes;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return out.join('');
}
