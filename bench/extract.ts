// extract throughput against Readability.js on jsdom (the usual Node way to get an article's
// text), same machine, same run, same pages. Prints one JSON line.
//   node --import tsx bench/extract.ts [--pages 1000] [--cc ../shared/data/warc/resiliparse/warcfile.warc.gz] [--wcxb ../shared/data/extract-wcxb-dev]
// Inputs: the real Common Crawl records of the resiliparse sample, the 300 WCXB pages of seven
// page types (article, forum, listing, collection, product, service, documentation; written to a
// WARC.gz in the temp directory), and a generated WARC.gz (examples/quickstart/make-warc.ts). Both sides read the WARC with warcio and decode charsets the
// same way; loom's figures per core come from an in-thread run (--workers 0), and the peer runs in
// one thread. ratio = loom pages/s ÷ peer pages/s. loom_workers_all is the whole machine.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Readability } from '@mozilla/readability';
import { JSDOM, VirtualConsole } from 'jsdom';
import { decodeHtml } from '../lib/data/extract/charset.js';
import { extract } from '../lib/data/extract/extract.js';
import { readPages } from '../lib/data/extract/pages.js';
import { readWarc } from '../lib/data/extract/warc.js';
import { gzipRecord } from '../lib/data/extract/warc-write.js';
import { crawlRecords } from '../examples/quickstart/make-warc.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const pages = Number(flag('pages', '1000'));
const ccPath = flag('cc', fileURLToPath(new URL('../../shared/data/warc/resiliparse/warcfile.warc.gz', import.meta.url)));

const wcxbDir = flag('wcxb', fileURLToPath(new URL('../../shared/data/extract-wcxb-dev', import.meta.url)));

const generatedPath = join(tmpdir(), `loom-bench-extract-${pages}.warc.gz`);
if (!existsSync(generatedPath)) writeFileSync(generatedPath, Buffer.concat(crawlRecords({ pages, seed: 0 }).map(gzipRecord)));

/** The WCXB pages as one response record each, in a WARC.gz (undefined when the data is absent). */
function wcxbWarc(): string | undefined {
  const source = join(wcxbDir, 'pages.jsonl.gz');
  if (!existsSync(source)) return undefined;
  const path = join(tmpdir(), 'loom-bench-extract-wcxb.warc.gz');
  if (existsSync(path)) return path;
  const lines = gunzipSync(readFileSync(source)).toString('utf8').split('\n').filter(Boolean);
  const records = lines.map((line, i) => {
    const page = JSON.parse(line) as { url: string; html: string };
    return gzipRecord({ type: 'response', recordId: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, date: '2025-01-01T00:00:00Z', url: page.url, http: { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } }, body: page.html });
  });
  writeFileSync(path, Buffer.concat(records));
  return path;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function loom(path: string, workers: number) {
  const started = performance.now();
  let docs = 0;
  const stage = extract(readPages([path], { maxPageBytes: 10 << 20 }), { workers });
  for await (const _doc of stage) docs += 1;
  const seconds = (performance.now() - started) / 1000;
  return { seconds, pages: stage.counters.in, docs };
}

async function peer(path: string) {
  const started = performance.now();
  let count = 0;
  let docs = 0;
  const virtualConsole = new VirtualConsole();
  for await (const page of readWarc([readFileSync(path)], { maxPageBytes: 10 << 20 })) {
    count += 1;
    if (!page.body) continue;
    const { html } = decodeHtml(page.body, page.contentType);
    try {
      const dom = new JSDOM(html, { url: page.url, virtualConsole });
      const article = new Readability(dom.window.document).parse();
      if (article?.textContent && article.textContent.trim().length >= 100) docs += 1;
      dom.window.close();
    } catch {
      // a page jsdom cannot take counts as processed, as loom's dropped pages do
    }
  }
  return { seconds: (performance.now() - started) / 1000, pages: count, docs };
}

async function measure(path: string) {
  const mb = statSync(path).size / 1e6;
  // Warm-up: module loading and JIT, so neither side pays start-up inside the timing. The
  // all-cores run does include starting its worker threads (about a second each from source).
  await loom(path, 0);
  await peer(path);
  const one = await loom(path, 0);
  const all = await loom(path, cpus().length);
  const p = await peer(path);
  return {
    file: path,
    mb: round(mb, 2),
    pages: one.pages,
    loom: { pages_per_s_per_core: round(one.pages / one.seconds), mb_per_s_per_core: round(mb / one.seconds, 3), docs: one.docs },
    loom_workers_all: { workers: cpus().length, pages_per_s: round(all.pages / all.seconds), mb_per_s: round(mb / all.seconds, 3) },
    peer: { name: 'Readability.js 0.6 on jsdom 29', pages_per_s_per_core: round(p.pages / p.seconds), mb_per_s_per_core: round(mb / p.seconds, 3), docs: p.docs },
    ratio: round(one.pages / one.seconds / (p.pages / p.seconds), 2),
  };
}

const machine = `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
const cc = existsSync(ccPath) ? await measure(ccPath) : { skipped: `${ccPath} not found` };
const wcxbPath = wcxbWarc();
const wcxb = wcxbPath ? await measure(wcxbPath) : { skipped: `${wcxbDir} not found` };
const generated = await measure(generatedPath);
console.log(JSON.stringify({ bench: 'extract', machine, common_crawl: cc, wcxb, generated }));
