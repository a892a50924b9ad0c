import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { Element } from '../../../../lib/data/extract/boilerplate.js';
import { LinkedomReadability, descendantsNamed } from '../../../../lib/data/extract/readability.js';

const bodyOf = (html: string) => (parseHTML(`<html><body>${html}</body></html>`).document as unknown as { body: Element }).body;

test('descendantsNamed finds elements by name in document order, whatever their case, as a selector does', () => {
  const body = bodyOf('<div id="a"><p id="b">x</p><ul id="c"><li><p id="d">y</p></li></ul></div><ol id="e"></ol>');
  // Readability turns a <div> into a <P> it creates in upper case; a selector still finds it.
  const created = (body as unknown as { ownerDocument: { createElement(n: string): Element & { id: string } } }).ownerDocument.createElement('P');
  created.id = 'f';
  (body as unknown as { appendChild(n: unknown): void }).appendChild(created);
  const ids = (els: Element[]) => els.map((el) => el.getAttribute('id')).join(',');
  assert.equal(ids(descendantsNamed(body, ['p'])), 'b,d,f');
  assert.equal(ids(descendantsNamed(body, ['P'])), 'b,d,f');
  assert.equal(ids(descendantsNamed(body, ['ol', 'P', 'ul'])), 'b,c,d,e,f');
  assert.equal(ids(descendantsNamed(body, ['p', 'ul'])), ids(Array.from(body.querySelectorAll('p,ul'))));
});

test("LinkedomReadability reads the same article as Readability.js's own helpers", () => {
  const para = (i: number) => `<p>Paragraph ${i} of the story, long enough for Readability to score it, with a few commas, clauses, and words to count, so that the article wins over the sidebar.</p>`;
  const html = `<html><head><title>Story</title></head><body><div class="sidebar"><a href="/a">One</a> <a href="/b">Two</a></div>
    <div class="article"><p class="byline">By Jane Doe</p><div style="display:none"><p>Hidden note that a reader never sees on the page at all.</p></div>
    <div aria-hidden="true"><p>Screen-reader-hidden text that is not part of the story either.</p></div>${Array.from({ length: 8 }, (_, i) => para(i)).join('')}
    <div><span>Phrasing only div, which Readability turns into a paragraph of its own.</span></div><table><tr><td>cell</td></tr></table></div></body></html>`;
  const ours = new LinkedomReadability(parseHTML(html).document, { charThreshold: 250, keepClasses: true }).parse()!;
  const theirs = new Readability(parseHTML(html).document as unknown as ConstructorParameters<typeof Readability>[0], { charThreshold: 250, keepClasses: true }).parse()!;
  assert.equal(ours.content!.textContent, (parseHTML(theirs.content!).document as unknown as { textContent: string | null }).textContent ?? theirs.textContent);
  assert.equal(ours.byline, theirs.byline);
  assert.ok(ours.content!.textContent!.includes('Paragraph 7') && !ours.content!.textContent!.includes('Hidden note'));
});
