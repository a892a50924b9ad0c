// Main-content quality by page type on ../shared/data/extract-wcxb-dev (300 pages of WCXB's
// development split: article, service, product, collection, forum, listing, documentation, each
// with its reference main text). Run by hand; prints one JSON line.
//   node --import tsx bench/extract-wcxb.ts [extract-wcxb-dev-dir] [--split dev|heldout|all] [--pages out.jsonl]
// The split (bench/extract-wcxb-split.json) was fixed before any tuning: 30 % of each page type is
// held out. --pages writes each page's scores and text (dev split only: held-out pages are
// measured, never inspected). Scores: WCXB's word F1 (mean of per-page figures) and ScrapingHub's
// 4-gram shingle F1 (lib/data/extract/scoring.ts). Speed: pages per CPU-second of loom's
// extraction alone (parse, prune, choose, normalize), this process's user + system time.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractMainContent } from '../lib/data/extract/main-content.js';
import { meanWordF1, shingleCounts, shingleF1, wordF1, type PageScore, type ShingleCounts } from '../lib/data/extract/scoring.js';
import { normalizeText } from '../lib/text/normalize.js';

interface WcxbPage {
  id: string;
  html: string;
  reference_text: string;
  meta: { page_type: string; path: string };
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const split = option('--split') ?? 'dev';
const pagesOut = option('--pages');
if (!['dev', 'heldout', 'all'].includes(split)) throw new Error(`--split must be dev, heldout or all, not ${split}`);
if (pagesOut && split !== 'dev') throw new Error('--pages writes page texts for the dev split only: held-out pages are not inspected');
const dir = args[0] ?? fileURLToPath(new URL('../../shared/data/extract-wcxb-dev', import.meta.url));
const splitFile: { dev: Record<string, string[]>; heldout: Record<string, string[]> } = JSON.parse(readFileSync(new URL('./extract-wcxb-split.json', import.meta.url), 'utf8'));
const parts = split === 'all' ? [splitFile.dev, splitFile.heldout] : [splitFile[split as 'dev' | 'heldout']];
const chosen = new Set(parts.flatMap((part) => Object.values(part).flat()));

const fileName = (page: WcxbPage) => page.meta.path.split('/').pop()!.replace(/\.html\.gz$/, '');
const pages = gunzipSync(readFileSync(join(dir, 'pages.jsonl.gz')))
  .toString('utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as WcxbPage)
  .filter((page) => chosen.has(fileName(page)));

// WCXB's published development-set word F1 (SOURCE.md, from WCXB's README), all 1,497 dev pages.
const PUBLISHED: Record<string, { rs_trafilatura: number; trafilatura: number; readability: number }> = {
  article: { rs_trafilatura: 0.932, trafilatura: 0.926, readability: 0.825 },
  documentation: { rs_trafilatura: 0.932, trafilatura: 0.888, readability: 0.736 },
  service: { rs_trafilatura: 0.844, trafilatura: 0.763, readability: 0.604 },
  forum: { rs_trafilatura: 0.808, trafilatura: 0.585, readability: 0.466 },
  collection: { rs_trafilatura: 0.716, trafilatura: 0.553, readability: 0.445 },
  listing: { rs_trafilatura: 0.707, trafilatura: 0.589, readability: 0.496 },
  product: { rs_trafilatura: 0.641, trafilatura: 0.567, readability: 0.407 },
  all: { rs_trafilatura: 0.859, trafilatura: 0.791, readability: 0.675 },
};

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Scored {
  type: string;
  word: PageScore;
  shingles: ShingleCounts;
  empty: boolean;
}

function summarize(scored: Scored[]) {
  const word = meanWordF1(scored.map((s) => s.word));
  const gram = shingleF1(scored.map((s) => s.shingles));
  return { pages: scored.length, word_f1: r3(word.f1), word_p: r3(word.precision), word_r: r3(word.recall), gram4_f1: r3(gram.f1), gram4_p: r3(gram.precision), gram4_r: r3(gram.recall), empty: scored.filter((s) => s.empty).length };
}

function byType(scored: Scored[]) {
  const types = [...new Set(scored.map((s) => s.type))].sort();
  return Object.fromEntries([...types.map((t) => [t, summarize(scored.filter((s) => s.type === t))]), ['all', summarize(scored)]]);
}

function run(extract: (html: string) => { text: string; method?: string }, record?: { id: string; type: string; method?: string; word_f1: number; gram4: ShingleCounts; text: string }[]) {
  const scored: Scored[] = [];
  let cpu = 0;
  for (const page of pages) {
    const started = cpuSeconds();
    let result: { text: string; method?: string };
    try {
      result = extract(page.html);
    } catch {
      result = { text: '' };
    }
    cpu += cpuSeconds() - started;
    const word = wordF1(result.text, page.reference_text);
    const shingles = shingleCounts(result.text, page.reference_text);
    scored.push({ type: page.meta.page_type, word, shingles, empty: result.text.trim() === '' });
    record?.push({ id: fileName(page), type: page.meta.page_type, method: result.method, word_f1: r3(word.f1), gram4: shingles, text: result.text });
  }
  return { by_type: byType(scored), pages_per_cpu_s: r3(pages.length / cpu) };
}

const loom = (html: string) => {
  const content = extractMainContent(html, { favor: 'balanced', keepComments: false });
  return { text: normalizeText(content.text), method: content.method };
};
// Warm-up (module loading, JIT), so the timed run measures extraction alone.
for (const page of pages.slice(0, 20)) loom(page.html);
const record: Parameters<typeof run>[1] = pagesOut ? [] : undefined;
const loomScores = run(loom, record);
if (record && pagesOut) writeFileSync(pagesOut, record.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(JSON.stringify({
  bench: 'extract-wcxb',
  split,
  pages: pages.length,
  loom: loomScores,
  readability_alone: run((html) => ({ text: normalizeText(new Readability(parseHTML(html).document as unknown as ConstructorParameters<typeof Readability>[0]).parse()?.textContent ?? '') })),
  published_word_f1: PUBLISHED,
}));
