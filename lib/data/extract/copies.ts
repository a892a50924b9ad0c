// Copies a page makes of its own text for display: a reply's clamped preview of the post it answers
// (the post is on the page in full), a block written twice for two screen widths. A reader sees
// the text once; read from the markup it counts twice. main-content.ts removes such a block when
// most of its lines are on the page elsewhere, as it does a forum reply's quotation.
import { classOf, type Element } from './boilerplate.js';

// A preview clamped to a line or a few by CSS (`line-clamp-1`, `text-truncate`, Quora's
// `truncateLines--2`): NodeBB shows each reply's parent post so, above the reply, while the post
// itself is on the page in full.
const CLAMPED = /line-?clamp|truncate/i;

// Shown only at some screen widths: Tailwind's `md:hidden`, `max-lg:hidden`; Bootstrap's
// `d-lg-none`, `hidden-xs`, `visible-xs-block`; `hide-mobile`, `desktop-only`. A site that lays out a
// block differently on a phone writes it twice, one copy for each width.
const BREAKPOINT_ONLY = /(^|\s)((sm|md|lg|xl|2xl|max-(sm|md|lg|xl)):hidden|d-(sm|md|lg|xl)-none|hidden-(xs|sm|md|lg)|visible-(xs|sm|md|lg)(-[a-z-]+)?|(hide|show)-(on-)?(mobile|desktop|tablet)[a-z-]*|(mobile|desktop)-only)(\s|$)/i;

/** A block the page shows as a clamped preview, or at some screen widths only. */
export function isDisplayCopy(el: Element): boolean {
  const c = classOf(el);
  return c !== '' && (CLAMPED.test(c) || BREAKPOINT_ONLY.test(c));
}
