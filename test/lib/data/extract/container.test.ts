import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import { findLead, findMainContainer } from '../../../../lib/data/extract/container.js';
import type { Element, Root } from '../../../../lib/data/extract/boilerplate.js';

const page = (html: string) => parseHTML(`<html><body>${html}</body></html>`).document as unknown as Root;
const prose = 'The council voted on Tuesday to close the old bridge, ending a debate that had lasted for two years. '.repeat(4);

test('the container marked as the article body wins over longer furniture', () => {
  const doc = page(`<div class="sidebar"><p>${prose}${prose}</p></div><div class="site"><div class="post-content"><p>${prose}</p></div></div>`);
  assert.equal(findMainContainer(doc, 200)?.className, 'post-content');
  const marked = page(`<div itemprop="articleBody"><p>${prose}</p></div>`);
  assert.equal(findMainContainer(marked, 200)?.getAttribute('itemprop'), 'articleBody');
});

test('without a marked body: the only article, then main; too short or ambiguous gives none', () => {
  assert.equal(findMainContainer(page(`<nav>menu</nav><article><p>${prose}</p></article>`), 200)?.localName, 'article');
  assert.equal(findMainContainer(page(`<article><p>${prose}</p></article><article><p>${prose}</p></article><main><p>${prose}</p></main>`), 200)?.localName, 'main');
  assert.equal(findMainContainer(page(`<div class="entry-content"><p>Too short.</p></div>`), 200), undefined);
  assert.equal(findMainContainer(page(`<div><p>${prose}</p></div>`), 200), undefined);
});

test('the lead paragraph is found in the article, not in a related-stories card', () => {
  const doc = page(`<article><div class="related-posts"><p class="excerpt">${prose.slice(0, 120)} (another story)</p></div>
    <header><h1>Title</h1><p class="article-lead">The council voted on Tuesday to close the old bridge.</p></header><p>${prose}</p></article>`);
  const scope = doc.querySelector('article') as Element;
  assert.equal(findLead(scope)?.className, 'article-lead');
  assert.equal(findLead(page(`<article><p class="lead">Too short.</p><p>${prose}</p></article>`).querySelector('article') as Element), undefined);
});
