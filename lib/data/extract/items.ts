// The items of a listing, a category page or a home page: runs of like siblings that each hold a
// linked title beside text of their own (a price, a blurb, a date). A menu's entries are links
// and nothing else, so they do not count.
import { classOf, squash, type Element } from './boilerplate.js';
import { elementText, type TextNode } from './html-text.js';

// Fewer like siblings than this are a few blocks, not a list.
const MIN_ITEMS = 4;
// A linked title shorter than this is a label ("More", "Buy"), not an item's name.
const MIN_TITLE_CHARS = 8;
// Fewer titles than this are teasers beside an article (related stories, recent posts: three to
// eight of them), not a list that is the page's content.
const MIN_LISTED_TITLES = 10;

/**
 * Tag and first class word, numbers left out: `card card-3` and `card card-4` are alike, and so
 * are WordPress's `post-12 … category-news` and `post-13 … category-sport`, whose later words
 * name each item's own categories and tags.
 */
function signature(el: Element): string {
  const firstClass = classOf(el).trim().split(/\s+/, 1)[0]!;
  return `${el.localName} ${firstClass.replace(/\d+/g, '')}`;
}

export interface Item {
  /** The item's longest link text. */
  title: string;
  /** The item's longest line outside its links (a price, a blurb, a date). */
  blurb: string;
}

const isLink = (node: TextNode) => node.localName === 'a';

/** The item's name: its longest link text (empty when too short to name it). */
function titleOf(el: Element): string {
  let title = '';
  const links = el.getElementsByTagName('a');
  for (let i = 0; i < links.length; i++) {
    const text = squash(links[i]!.textContent);
    if (text.length > title.length) title = text;
  }
  return title.length >= MIN_TITLE_CHARS ? title : '';
}

/** The item's longest line outside its links. */
function blurbOf(el: Element): string {
  return elementText(el, { skip: isLink }).split('\n').map(squash).reduce((longest, line) => (line.length > longest.length ? line : longest), '');
}

type Sibling = Element & { firstElementChild: Sibling | null; nextElementSibling: Sibling | null };

/**
 * Every run of items under `root`: like siblings with a linked title and a blurb each. Blurbs
 * cost a walk of each item, so they are read only when the page has titles enough for a list.
 */
export function findItems(root: Element): Item[] {
  const runsWithTitles: { el: Element; title: string }[][] = [];
  const stack: Sibling[] = [root as Sibling];
  while (stack.length > 0) {
    const runs = new Map<string, Element[]>();
    let count = 0;
    for (let child = stack.pop()!.firstElementChild; child; child = child.nextElementSibling) {
      stack.push(child);
      count++;
      const key = signature(child);
      const run = runs.get(key);
      if (run) run.push(child);
      else runs.set(key, [child]);
    }
    if (count < MIN_ITEMS) continue;
    for (const run of runs.values()) {
      if (run.length < MIN_ITEMS) continue;
      const named = run.map((el) => ({ el, title: titleOf(el) })).filter((item) => item.title !== '');
      if (named.length >= MIN_ITEMS) runsWithTitles.push(named);
    }
  }
  if (new Set(runsWithTitles.flat().map((item) => item.title)).size < MIN_LISTED_TITLES) return [];
  const items: Item[] = [];
  for (const run of runsWithTitles) {
    const read = run.map(({ el, title }) => ({ title, blurb: blurbOf(el) })).filter((item) => item.blurb !== '');
    if (read.length >= MIN_ITEMS) items.push(...read);
  }
  return items;
}

// A reading holds the items' titles (or blurbs) when it holds at least this share of their characters.
const HELD_SHARE = 0.5;
// The list reading is the chosen one with its titles put back when the titles it adds make up at
// least this share of what it adds (and not a thread's author names beside posts it also adds,
// nor a documentation page's menus).
const TITLES_SHARE_OF_ADDED = 0.25;

/** Characters of the distinct `parts` that `text` holds, and of all of them. */
function heldChars(text: string, parts: Set<string>): { held: number; total: number } {
  let held = 0;
  let total = 0;
  for (const part of parts) {
    total += part.length;
    if (text.includes(part)) held += part.length;
  }
  return { held, total };
}

/**
 * Whether `wider` holds MIN_LISTED_TITLES item titles or more, `chosen` under half of them, and
 * the missing titles make up at least TITLES_SHARE_OF_ADDED of what `wider` adds; with
 * `blurbsKept`, `chosen` must also hold those items' blurbs.
 */
function titlesLeftOut(chosen: string, wider: string, items: Item[], blurbsKept: boolean): boolean {
  // The items the wider reading holds: not a menu's, which is furniture in every reading.
  const flatWider = squash(wider);
  const widerItems = items.filter((item) => flatWider.includes(item.title));
  const titles = new Set(widerItems.map((item) => item.title));
  if (titles.size < MIN_LISTED_TITLES) return false;
  const flatChosen = squash(chosen);
  const inChosen = heldChars(flatChosen, titles);
  if (inChosen.held >= HELD_SHARE * inChosen.total) return false;
  if (blurbsKept) {
    const blurbs = heldChars(flatChosen, new Set(widerItems.map((item) => item.blurb)));
    if (blurbs.held < HELD_SHARE * blurbs.total) return false;
  }
  const added = flatWider.length - flatChosen.length;
  return added > 0 && inChosen.total - inChosen.held >= TITLES_SHARE_OF_ADDED * added;
}

/**
 * Whether the chosen text is the page's list of items with the items' titles torn out (the
 * short-block rules drop a title that is all link, and keep the price or blurb beside it), and
 * the page read as a list of items is the same text with them: that reading is then the answer.
 * A chosen text that holds neither titles nor blurbs is another block (an article beside teaser
 * cards, a category's buying guide) and stays.
 */
export function lacksItemTitles(chosen: string, listed: string, items: Item[]): boolean {
  return titlesLeftOut(chosen, listed, items, true);
}

/**
 * Whether the chosen text (Readability's) left out the items of the wider, marked container: the
 * container (`<main>`, the element named content) holds ten item titles or more, the chosen text
 * under half of them, and the missing titles are at least a quarter of what the container adds.
 * Readability then settled on the block above a store's product grid (its filters, a banner, a
 * category blurb) and dropped the grid as link-dense; the container is the page. Unlike
 * `lacksItemTitles`, no blurb need be in the chosen text: the whole grid went, prices too.
 */
export function leavesOutItems(chosen: string, container: string, items: Item[]): boolean {
  return titlesLeftOut(chosen, container, items, false);
}
