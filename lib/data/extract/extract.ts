// The extract stage: page documents (see pages.ts) in, clean language-tagged text documents out.
// Pages are processed in worker threads with a time and heap budget each; results come back in
// input order, so the output is the same for any --workers. Every page that yields no document
// is dropped with a reason: counted, written to --rejects, and reported through `warn`.
import { availableParallelism } from 'node:os';
import { formatLocation } from '../../errors.js';
import { locationOf, setLocation } from '../../io/location.js';
import { carryLine } from '../../io/lossless.js';
import type { Doc } from '../../io/types.js';
import { defineStage, type StageContext } from '../../stage.js';
import { languageRejection } from '../../text/langid-stage.js';
import { WorkerPool } from '../../util/worker-pool.js';
import type { Favor } from './main-content.js';
import { pageBody, takeJsonlHtml, type PageBody } from './pages.js';
import type { PageInit, PageResult, PageTask } from './worker.js';

export interface ExtractOptions {
  /** Worker threads (0: in this thread, without time or heap caps). */
  workers: number;
  favor: Favor;
  keepComments: boolean;
  /** Documents with fewer characters of main text are dropped. */
  minChars: number;
  maxPageBytes: number;
  /** Per-page time budget. */
  pageTimeoutMs: number;
  /** Heap cap of each worker thread. */
  maxHeapMb: number;
  /** Keep only these languages (ISO 639-1); empty keeps all. */
  langs: string[];
  minLangScore: number;
  /** Reports each dropped page as `file:offset: reason`. */
  warn?: (message: string) => void;
}

export const EXTRACT_DEFAULTS: ExtractOptions = {
  workers: availableParallelism(),
  favor: 'balanced',
  keepComments: false,
  minChars: 100,
  maxPageBytes: 10 * 1024 * 1024,
  pageTimeoutMs: 20_000,
  maxHeapMb: 1024,
  langs: [],
  minLangScore: 0,
};

const WORKER = new URL('./worker.js', import.meta.url);

// Drop reasons are short, stable keys (they become counter names); details go to stderr and the
// rejects file.
function reasonKey(message: string): string {
  if (message.startsWith('timed out')) return 'timed out';
  if (/worker (failed|exited)|memory/i.test(message)) return 'worker crashed (heap cap?)';
  if (message.startsWith('http status')) return 'http status';
  return message;
}

interface Pending {
  doc: Doc;
  body: PageBody;
}

export const extract = defineStage<ExtractOptions>('extract', EXTRACT_DEFAULTS, async function* (docs, opts, ctx) {
  const pool = new WorkerPool<PageTask | null, PageResult | null, PageInit>(WORKER, {
    workers: Math.max(0, opts.workers),
    init: { favor: opts.favor, keepComments: opts.keepComments },
    taskTimeoutMs: opts.workers > 0 ? opts.pageTimeoutMs : undefined,
    maxHeapMb: opts.maxHeapMb,
  });
  const queue: Pending[] = [];
  async function* tasks(): AsyncGenerator<PageTask | null> {
    for await (const doc of docs) {
      const body = pageBody(doc) ?? takeJsonlHtml(doc, opts.maxPageBytes);
      queue.push({ doc, body });
      // A page already skipped by the reader still takes its turn, to keep the output order.
      yield body.skip ? null : { bytes: body.bytes, html: body.html, contentType: body.contentType };
    }
  }
  const drop = (doc: Doc, reason: string, detail = reason) => {
    const key = reasonKey(reason);
    const loc = locationOf(doc);
    opts.warn?.(`${loc ? formatLocation(loc) : doc.id ?? '?'}: ${detail}${doc.url ? ` (${doc.url})` : ''}`);
    let rejected = doc;
    if (detail !== key) {
      rejected = carryLine(doc, { ...doc, extract_error: detail });
      if (loc) setLocation(rejected, loc);
    }
    ctx.drop(rejected, key);
  };
  try {
    for await (const result of pool.map(tasks())) {
      const { doc, body } = queue.shift()!;
      if (body.skip) {
        drop(doc, body.skip);
        continue;
      }
      if (!result.ok) {
        drop(doc, result.error.startsWith('timed out') || /worker/.test(result.error) ? result.error : 'parse error', result.error);
        continue;
      }
      const page = result.value!;
      countPage(ctx, page);
      if (page.text.length < opts.minChars) {
        drop(doc, 'too short', `too short after extraction (${page.text.length} < ${opts.minChars} characters)`);
        continue;
      }
      const rejection = languageRejection(page.lang, page.lang_score, opts);
      if (rejection !== null) {
        drop(doc, 'language', rejection);
        continue;
      }
      yield toDocument(doc, page);
    }
  } finally {
    await pool.close();
  }
});

function countPage(ctx: StageContext, page: PageResult): void {
  ctx.count(`method_${page.method}`);
  if (page.charsetSource) ctx.count(`charset_from_${page.charsetSource}`);
  if (page.invalidUtf8 > 0) {
    ctx.count('invalid_utf8_sequences', page.invalidUtf8);
    ctx.count('pages_with_invalid_utf8');
  }
  if (page.controls > 0) ctx.count('control_chars_removed', page.controls);
}

/** The output record: the page's metadata (and a JSONL input's other fields) plus the extraction. */
function toDocument(page: Doc, result: PageResult): Doc {
  const { html: _html, ...fields } = page;
  const doc: Doc = carryLine(page, { ...fields, text: result.text });
  if (result.title && !doc.title) doc.title = result.title;
  if (result.date && !doc.date) doc.date = result.date;
  doc.lang = result.lang;
  doc.lang_score = result.lang_score;
  return doc;
}
