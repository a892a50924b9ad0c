// Which blocks are copies the page makes of its own text for display (copies.ts): the tests write
// small elements and ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import type { Element } from '../../../../lib/data/extract/boilerplate.js';
import { isDisplayCopy } from '../../../../lib/data/extract/copies.js';

const element = (html: string) => (parseHTML(`<!doctype html><html><body>${html}</body></html>`).document as unknown as { body: { firstElementChild: Element } }).body.firstElementChild;

test('a preview clamped by CSS is a display copy (NodeBB, Tailwind, Bootstrap, Quora)', () => {
  for (const cls of ['text-muted line-clamp-1 text-break', 'line-clamp-3', 'fw-semibold text-truncate', 'q-box qu-truncateLines--2']) {
    assert.ok(isDisplayCopy(element(`<div class="${cls}"><p>Quoted</p></div>`)), cls);
  }
});

test('a block shown at some screen widths only is a display copy', () => {
  for (const cls of ['md:hidden', 'block lg:hidden', 'max-lg:hidden', 'd-lg-none', 'd-none d-md-block d-lg-none', 'hidden-xs', 'table table-striped visible-xs', 'visible-xs-block', 'hide-mobile', 'show-on-desktop', 'mobile-only', 'desktop-only']) {
    assert.ok(isDisplayCopy(element(`<div class="${cls}">Text</div>`)), cls);
  }
});

test('hidden, header and ordinary blocks are not display copies', () => {
  // `hidden` alone and `d-none` hide the block at every width: no twin is implied (and they were tried as hidden, with no gain)
  for (const cls of ['hidden', 'd-none', 'post-content', 'mobile-menu', 'desktop', 'card-header', 'visible', 'show-more']) {
    assert.ok(!isDisplayCopy(element(`<div class="${cls}">Text</div>`)), cls);
  }
  assert.ok(!isDisplayCopy(element('<div>Text</div>')));
});
