// Near-duplicate quality benchmark for `loom dedup` (run by hand; never a test). It reads the
// development data in ../shared/data at run time:
//   originals: CMRC 2018 Wikipedia paragraphs (zh), tinyshakespeare passages, Alpaca answers, and
//              main texts of extract-dev HTML pages;
//   copies:    edited (words or characters replaced, inserted, deleted at 1–40%), truncated,
//              boilerplate-wrapped (navigation header and footer), re-extracted (the page's text
//              from a second extractor: all <p> elements instead of Readability) and exact copies.
// It reports pairwise precision/recall of the clusters at the default setting (and with --verify),
// by copy type, and the S-curve: the fraction of (original, copy) pairs whose signatures share a
// band, per bin of true n-gram Jaccard similarity, against 1-(1-s^r)^b. Prints ONE JSON line.
//
// Usage: node --import tsx bench/dedup-quality.ts [--data ../shared/data] [--pages 150]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseHTML } from 'linkedom';
import { Readability } from '@mozilla/readability';
import { dedup } from '../lib/data/dedup/stream.js';
import { DEDUP_DEFAULTS, detectionProbability, lshThreshold } from '../lib/data/dedup/options.js';
import { BANDS_AT, HAS_SHINGLES, Signer } from '../lib/data/dedup/signature.js';
import { jaccard } from '../lib/data/dedup/verify.js';
import { HashBuffer, ngramUnitFor, shingleHashes } from '../lib/text/ngrams.js';
import { createRandom } from '../lib/util/random.js';
import type { Doc } from '../lib/io/types.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const DATA = flag('data', fileURLToPath(new URL('../../shared/data', import.meta.url)));
const PAGES = Number(flag('pages', '150'));
const random = createRandom(42);

interface Original {
  text: string;
  lang?: string;
  source: string;
  /** A second extraction of the same page, for extract-dev originals. */
  reextracted?: string;
}

const readJsonl = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

function originals(): Original[] {
  const out: Original[] = [];
  for (const r of readJsonl(join(DATA, 'pretrain/cmrc2018-contexts.jsonl'))) if (r.text.length >= 150) out.push({ text: r.text, lang: 'zh', source: 'cmrc2018' });
  const seen = new Set<string>();
  const zh = out.filter((o) => !seen.has(o.text) && seen.add(o.text));
  out.length = 0;
  out.push(...zh);
  const words = readFileSync(join(DATA, 'pretrain/tinyshakespeare.txt'), 'utf8').split(/(?<=\s)/);
  for (let i = 0; i + 250 <= words.length && out.length < zh.length + 800; i += 250) out.push({ text: words.slice(i, i + 250).join('').trim(), source: 'shakespeare' });
  for (const r of readJsonl(join(DATA, 'sft/alpaca-4500.jsonl'))) {
    if (r.output.split(/\s+/).length >= 80) out.push({ text: r.output, source: 'alpaca' });
  }
  const pages = readJsonl(join(DATA, 'extract-dev/pages.jsonl')).slice(0, PAGES);
  for (const page of pages) {
    const html = gunzipSync(readFileSync(join(DATA, 'extract-dev', page.path))).toString('utf8');
    const article = new Readability(parseHTML(html).document as never).parse()?.textContent?.replace(/\s+/g, ' ').trim();
    const paragraphs = [...parseHTML(html).document.querySelectorAll('p')].map((p) => p.textContent?.trim()).filter(Boolean).join('\n');
    if (article && article.split(' ').length >= 60) out.push({ text: article, source: 'extract-dev', reextracted: paragraphs });
  }
  return out;
}

const FILLER = 'the and of to in a is that for it as was with be by on not he this are or his from at which but have an they you were'.split(' ');
const ZH_FILLER = '的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感'.split('');

/** Replaces, inserts or deletes a `rate` fraction of the units (words, or characters for CJK). */
function edited(o: Original, rate: number): string {
  const cjk = ngramUnitFor(o.text, o.lang) === 'char';
  const units = cjk ? Array.from(o.text) : o.text.split(' ');
  const filler = cjk ? ZH_FILLER : FILLER;
  const out: string[] = [];
  for (const u of units) {
    const r = random.next();
    if (r < rate / 3) continue;
    if (r < (2 * rate) / 3) out.push(filler[random.int(filler.length)]!);
    else out.push(u);
    if (r > 1 - rate / 3) out.push(filler[random.int(filler.length)]!);
  }
  return out.join(cjk ? '' : ' ');
}

const HEADER = ['Home | News | Sports | Weather | Contact us | Log in | Subscribe', '首页 | 新闻 | 体育 | 天气 | 联系我们 | 登录 | 订阅'];
const FOOTER = [
  'Share this article: Facebook Twitter Email. Related posts. Cookie policy. Privacy policy. Terms of use. © 2024 Example Media Group. All rights reserved.',
  '分享到：微博 微信 邮件。相关文章。隐私政策。使用条款。版权所有 © 2024 示例传媒集团。保留所有权利。',
];

interface BenchDoc extends Doc {
  id: string;
  text: string;
  origin: number;
  kind: string;
  source: string;
}

function build(): { docs: BenchDoc[]; sources: Record<string, number> } {
  const all = originals();
  const docs: BenchDoc[] = [];
  const sources: Record<string, number> = {};
  all.forEach((o, origin) => {
    sources[o.source] = (sources[o.source] ?? 0) + 1;
    const add = (kind: string, text: string) => docs.push({ id: `${origin}-${kind}`, text, lang: o.lang, origin, kind, source: o.source });
    add('original', o.text);
    // Half of the originals get copies; the rest are the unrelated documents.
    if (random.next() < 0.5) return;
    const zh = o.lang === 'zh' ? 1 : 0;
    const rates = [0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4];
    add(`edited`, edited(o, rates[random.int(rates.length)]!));
    if (random.next() < 0.5) add('edited-2', edited(o, rates[random.int(rates.length)]!));
    const units = o.text.length;
    add('truncated', o.text.slice(0, Math.floor(units * (0.5 + 0.45 * random.next()))));
    add('wrapped', `${HEADER[zh]}\n${o.text}\n${FOOTER[zh]}`);
    if (o.reextracted) add('re-extracted', o.reextracted);
    if (random.next() < 0.3) add('exact', ` ${o.text.toUpperCase()} `);
  });
  // Shuffle so copies are not next to their originals.
  for (let i = docs.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  return { docs, sources };
}

const pairs2 = (n: number) => (n * (n - 1)) / 2;

/** Distinct sorted n-gram hashes of each document (the sets that MinHash estimates). */
function shingleSets(docs: BenchDoc[]): Uint32Array[] {
  const buffer = new HashBuffer();
  return docs.map((d) => {
    const unit = ngramUnitFor(d.text, d.lang);
    const m = shingleHashes(d.text, unit === 'char' ? DEDUP_DEFAULTS.charNgram : DEDUP_DEFAULTS.ngram, unit, buffer);
    return new Uint32Array(new Set(buffer.data.subarray(0, m))).sort();
  });
}

/** Pairwise precision and recall of a clustering against the origins, overall, per copy kind and per true Jaccard. */
function pairwise(docs: BenchDoc[], cluster: Map<string, string>, copyJaccard: Map<string, number>) {
  const byCluster = new Map<string, BenchDoc[]>();
  for (const d of docs) byCluster.set(cluster.get(d.id)!, [...(byCluster.get(cluster.get(d.id)!) ?? []), d]);
  const byOrigin = new Map<number, BenchDoc[]>();
  for (const d of docs) byOrigin.set(d.origin, [...(byOrigin.get(d.origin) ?? []), d]);
  let predicted = 0;
  let truePairs = 0;
  let hits = 0;
  for (const members of byCluster.values()) {
    predicted += pairs2(members.length);
    const counts = new Map<number, number>();
    for (const m of members) counts.set(m.origin, (counts.get(m.origin) ?? 0) + 1);
    for (const c of counts.values()) hits += pairs2(c);
  }
  for (const members of byOrigin.values()) truePairs += pairs2(members.length);
  // Recall per copy kind: is the copy in its original's cluster?
  const kinds: Record<string, { copies: number; found: number }> = {};
  const byJaccard: Record<string, { copies: number; found: number }> = {};
  const bySource: Record<string, { copies: number; found: number }> = {};
  for (const members of byOrigin.values()) {
    const original = members.find((m) => m.kind === 'original')!;
    for (const m of members) {
      if (m === original) continue;
      const k = (kinds[m.kind.replace(/-2$/, '')] ??= { copies: 0, found: 0 });
      const j = copyJaccard.get(m.id)!;
      const band = j >= 0.9 ? '>=0.9' : j >= 0.8 ? '0.8-0.9' : j >= 0.72 ? '0.72-0.8' : j >= 0.5 ? '0.5-0.72' : '<0.5';
      const b = (byJaccard[band] ??= { copies: 0, found: 0 });
      const src = (bySource[m.source] ??= { copies: 0, found: 0 });
      for (const tally of [k, b, src]) {
        tally.copies += 1;
        if (cluster.get(m.id) === cluster.get(original.id)) tally.found += 1;
      }
    }
  }
  return {
    precision: round(hits / Math.max(1, predicted)),
    recall: round(hits / Math.max(1, truePairs)),
    true_pairs: truePairs,
    predicted_pairs: predicted,
    recall_by_kind: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, { copies: v.copies, recall: round(v.found / v.copies) }])),
    recall_by_source: Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, { copies: v.copies, recall: round(v.found / v.copies) }])),
    recall_by_true_jaccard: Object.fromEntries(Object.entries(byJaccard).map(([k, v]) => [k, { copies: v.copies, recall: round(v.found / v.copies) }])),
  };
}

async function clusters(docs: BenchDoc[], opts: Parameters<typeof dedup>[1]): Promise<Map<string, string>> {
  async function* input() {
    for (const d of docs) yield { id: d.id, text: d.text, lang: d.lang };
  }
  const out = new Map<string, string>();
  for await (const d of dedup(input(), { ...opts, mode: 'tag', workers: 1 })) out.set(d.id!, d.dedup!.cluster);
  return out;
}

/** Detection (shared band) vs true Jaccard, for every (original, copy) pair and 3000 random pairs. */
function sCurve(docs: BenchDoc[], sets: Uint32Array[]) {
  const p = DEDUP_DEFAULTS;
  const signer = new Signer({ ...p, exact: false });
  const rows = signer.signRows({ texts: docs.map((d) => d.text), langs: docs.map((d) => d.lang), urls: docs.map(() => undefined) });
  const w = signer.width;
  const index = new Map(docs.map((d, i) => [d.id, i]));
  const pairs: [number, number][] = [];
  for (const d of docs) if (d.kind !== 'original') pairs.push([index.get(`${d.origin}-original`)!, index.get(d.id)!]);
  for (let k = 0; k < 3000; k++) pairs.push([random.int(docs.length), random.int(docs.length)]);
  const bins = Array.from({ length: 10 }, () => ({ pairs: 0, detected: 0, jaccardSum: 0 }));
  for (const [a, b] of pairs) {
    if (a === b || !(rows[a * w]! & HAS_SHINGLES) || !(rows[b * w]! & HAS_SHINGLES)) continue;
    const s = jaccard(sets[a]!, sets[b]!);
    let shared = false;
    for (let band = 0; band < p.bands && !shared; band++) {
      const o = BANDS_AT + 2 * band;
      shared = rows[a * w + o] === rows[b * w + o] && rows[a * w + o + 1] === rows[b * w + o + 1];
    }
    const bin = bins[Math.min(9, Math.floor(s * 10))]!;
    bin.pairs += 1;
    bin.jaccardSum += s;
    if (shared) bin.detected += 1;
  }
  return bins.map((bin, k) => {
    const mean = bin.pairs ? bin.jaccardSum / bin.pairs : (k + 0.5) / 10;
    return {
      jaccard: `${(k / 10).toFixed(1)}-${((k + 1) / 10).toFixed(1)}`,
      pairs: bin.pairs,
      measured: bin.pairs ? round(bin.detected / bin.pairs) : null,
      theory_at_bin_mean: round(detectionProbability(mean, p.bands, p.rows)),
    };
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const started = performance.now();
const { docs, sources } = build();
const sets = shingleSets(docs);
const position = new Map(docs.map((d, i) => [d.id, i]));
const copyJaccard = new Map(docs.map((d, i) => [d.id, jaccard(sets[position.get(`${d.origin}-original`)!]!, sets[i]!)]));
const defaults = pairwise(docs, await clusters(docs, {}), copyJaccard);
const verified = pairwise(docs, await clusters(docs, { verify: true, jaccard: 0.7 }), copyJaccard);
const curve = sCurve(docs, sets);
console.log(
  JSON.stringify({
    bench: 'dedup-quality',
    data: DATA,
    documents: docs.length,
    originals: sources,
    copies: docs.filter((d) => d.kind !== 'original').length,
    setting: { bands: DEDUP_DEFAULTS.bands, rows: DEDUP_DEFAULTS.rows, ngram: DEDUP_DEFAULTS.ngram, char_ngram: DEDUP_DEFAULTS.charNgram, threshold: round(lshThreshold(DEDUP_DEFAULTS.bands, DEDUP_DEFAULTS.rows)) },
    default: defaults,
    verify_0_7: verified,
    s_curve: curve,
    seconds: round((performance.now() - started) / 1000),
  }),
);
