import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { brownParagraphs } from '../../../../examples/quickstart/make-warc.js';
import { DEFAULT_LM } from '../../../../lib/data/score/models.js';
import { NgramLm, normalizeForLm, trainNgramLm } from '../../../../lib/data/score/ngram-lm.js';
import { rocAuc } from '../../../../lib/data/score/roc.js';
import { tempDir } from '../../../helpers/cli.js';

const text = 'thecatsatonthemat.thedogsatonthelog.acatandadog.';
const lm = trainNgramLm([text, 'dogs'], { order: 3, discount: 0.75, minCount: 1, langs: ['en'] });

test('Kneser-Ney: the next-character distribution sums to 1 in every context, seen or not', () => {
  const vocab = [...new Set(text + 'dogs')];
  for (const context of ['', 't', 'th', 'ca', 'og', 'zz']) {
    const base = lm.logProbability(context).logprob;
    let sum = Math.exp(lm.logProbability(`${context}q`).logprob - base); // q: never seen
    for (const c of vocab) sum += Math.exp(lm.logProbability(context + c).logprob - base);
    assert.ok(Math.abs(sum - 1) < 1e-5, `${context}: ${sum}`);
  }
});

test('perplexity: seen text below unseen text; save and load keep it', (t) => {
  assert.ok(lm.perplexity('thecatsat') < lm.perplexity('xqzvkwjy'));
  assert.equal(normalizeForLm('  A  1984\n\n b '), 'a 0000\nb');
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'lm.gz');
  lm.save(path);
  assert.equal(NgramLm.load(path).perplexity('thedog'), lm.perplexity('thedog'));
});

test('the shipped model: prose below menus', () => {
  const shipped = NgramLm.load(DEFAULT_LM);
  assert.equal(shipped.header.order, 5);
  const prose = brownParagraphs('ca10').slice(0, 5).map((p) => shipped.perplexity(p));
  const menus = ['Home\nNews\nSports\nLogin\nCart (0)', 'Share | Tweet | Pin it | Email', '© 2024 Example Media. All rights reserved.\nPrivacy | Terms | Sitemap'].map((p) => shipped.perplexity(p));
  assert.equal(rocAuc(prose.map((x) => -x), menus.map((x) => -x)), 1);
});

test('ROC AUC: ranks, ties count half', () => {
  assert.equal(rocAuc([3, 4], [1, 2]), 1);
  assert.equal(rocAuc([1], [2]), 0);
  assert.equal(rocAuc([1, 2], [1, 2]), 0.5);
});
