// Readability cleans the block it chooses as well as choosing it: its conditional cleaning drops
// headings, short feature lines and pricing cards that sit between the paragraphs it keeps (few
// commas, little text per element). On a service page, a store or a thread those lines are the
// content. The marked container is the same block, uncut: what it adds between Readability's
// first and last lines was cut from within; what it adds before or after them is another block (a
// sidebar, teasers for other pages), which is why the container does not simply win when longer.
import { squash } from './boilerplate.js';

// What the container adds inside Readability's span is at least this share of the text they share.
const MIN_INSIDE_SHARE = 0.1;
// ... and made of words: at least this share of its characters are letters (not prices, counts,
// currency lists or a member card's figures).
const MIN_LETTER_SHARE = 0.6;
// ... in lines of this many characters on average (headings and sentences, not "Joined", "Posts").
const MIN_INSIDE_LINE_CHARS = 12;
// The container must hold most of Readability's text for the two to be the same block.
const MIN_SHARED_SHARE = 0.5;
// Cuts are spread through the block (a heading above each section, a line in each card): no one
// gap between Readability's lines holds more than this share of what the container adds there.
// Lines put back in one place are a block of their own that Readability's span straddles (a list
// of videos between an article and its comment rules, a promotions box beside a product).
const MAX_GAP_SHARE = 0.5;

const LETTER = /\p{L}/gu;

/**
 * Whether `wider` (the marked container's text) is `chosen` (Readability's) with lines put back
 * between its first and last lines: as many characters or more inside that span as outside it, a
 * tenth or more of the shared text, in lines of words, spread over several gaps.
 */
export function cutFromWithin(chosen: string, wider: string): boolean {
  const kept = new Set<string>();
  let chosenChars = 0;
  for (const line of chosen.split('\n')) {
    const words = squash(line);
    if (words === '') continue;
    kept.add(words);
    chosenChars += words.length;
  }
  const lines = wider.split('\n').map(squash).filter((line) => line !== '');
  let first = -1;
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!kept.has(lines[i]!)) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return false;
  let shared = 0;
  let inside = 0;
  let insideLines = 0;
  let outside = 0;
  let letters = 0;
  let gap = 0;
  let largestGap = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (kept.has(line)) {
      shared += line.length;
      gap = 0;
    } else if (i > first && i < last) {
      inside += line.length;
      insideLines++;
      letters += line.match(LETTER)?.length ?? 0;
      gap += line.length;
      largestGap = Math.max(largestGap, gap);
    } else outside += line.length;
  }
  return (
    shared >= MIN_SHARED_SHARE * chosenChars &&
    inside >= MIN_INSIDE_SHARE * shared &&
    outside <= inside &&
    letters >= MIN_LETTER_SHARE * inside &&
    inside >= MIN_INSIDE_LINE_CHARS * insideLines &&
    largestGap <= MAX_GAP_SHARE * inside
  );
}
