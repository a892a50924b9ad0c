// Main-content quality on ../shared/data/extract-dev (trafilatura's evaluation pages with
// must-contain / must-not-contain snippets). Run by hand; prints one JSON line.
//   node --import tsx bench/extract-quality.ts [extract-dev-dir] [--split tune|heldout|all] [--show-misses]
// --show-misses prints, on stderr, each page where the default extractor misses a must-contain
// snippet or leaks a must-not-contain one (for inspecting the tuning split; not for held-out pages).
// Split: pages.jsonl is ordered by sha256(url); lines 1-228 tuned the extractor, 229-457 are held out.
// Scoring follows upstream's tests/eval_common.py: whitespace-normalized substring matching,
// tp = must-contain found, fn = missing, fp = must-not-contain found; precision, recall, F1 summed
// over pages. Also: share of pages with every must-contain snippet, and with any leak. Baselines:
// Readability.js alone on the same DOM (its textContent), and the whole page's visible text.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeHtml } from '../lib/data/extract/charset.js';
import { extractMainContent, wholePageText, type Favor } from '../lib/data/extract/main-content.js';
import { normalizeText } from '../lib/text/normalize.js';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

interface Page {
  url: string;
  path: string;
  with: string[];
  without: string[];
}

const args = process.argv.slice(2);
const splitIndex = args.indexOf('--split');
const split = splitIndex >= 0 ? args.splice(splitIndex, 2)[1]! : 'heldout';
const showMissesIndex = args.indexOf('--show-misses');
const showMisses = showMissesIndex >= 0 && args.splice(showMissesIndex, 1).length > 0;
const dir = args[0] ?? fileURLToPath(new URL('../../shared/data/extract-dev', import.meta.url));
export const TUNE_PAGES = 228;

const pages: Page[] = readFileSync(join(dir, 'pages.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const selected = split === 'tune' ? pages.slice(0, TUNE_PAGES) : split === 'heldout' ? pages.slice(TUNE_PAGES) : pages;

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

function score(extract: (html: string) => string, show = false) {
  let tp = 0, fn = 0, fp = 0, complete = 0, leaking = 0;
  const started = performance.now();
  for (const page of selected) {
    const html = decodeHtml(gunzipSync(readFileSync(join(dir, page.path)))).html;
    let text = '';
    try {
      text = squash(extract(html));
    } catch {
      text = '';
    }
    const found = page.with.filter((s) => text.includes(squash(s))).length;
    const leaks = page.without.filter((s) => text.includes(squash(s))).length;
    tp += found;
    fn += page.with.length - found;
    fp += leaks;
    if (found === page.with.length) complete += 1;
    if (leaks > 0) leaking += 1;
    if (show && (found < page.with.length || leaks > 0)) {
      const missed = page.with.filter((s) => !text.includes(squash(s)));
      const leaked = page.without.filter((s) => text.includes(squash(s)));
      console.error(JSON.stringify({ file: page.path, url: page.url, missed, leaked, chars: text.length }));
    }
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    all_must_contain: r(complete / selected.length),
    any_leak: r(leaking / selected.length),
    precision: r(precision),
    recall: r(recall),
    f1: r((2 * precision * recall) / (precision + recall)),
    seconds: r((performance.now() - started) / 1000),
  };
}

const loom = (favor: Favor) => (html: string) => normalizeText(extractMainContent(html, { favor, keepComments: false }).text);
console.log(JSON.stringify({
  bench: 'extract-quality',
  split,
  pages: selected.length,
  loom_balanced: score(loom('balanced'), showMisses),
  loom_precision: score(loom('precision')),
  loom_recall: score(loom('recall')),
  readability_alone: score((html) => normalizeText(new Readability(parseHTML(html).document as unknown as ConstructorParameters<typeof Readability>[0]).parse()?.textContent ?? '')),
  whole_page: score((html) => normalizeText(wholePageText(html))),
}));
