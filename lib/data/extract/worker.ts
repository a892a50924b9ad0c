// The per-page work of extract, run in worker threads (see lib/util/worker-pool.ts): decode the
// bytes, extract the main content, normalize it, identify its language.
import { serveTasks } from '../../util/worker-pool.js';
import { identifyLanguage, loadLanguageModel } from '../../text/langid.js';
import { emptyNormalizeStats, normalizeText } from '../../text/normalize.js';
import { decodeHtml, type CharsetSource } from './charset.js';
import { extractMainContent, type Favor } from './main-content.js';

export interface PageTask {
  bytes?: Uint8Array;
  html?: string;
  contentType?: string;
}

export interface PageInit {
  favor: Favor;
  keepComments: boolean;
}

export interface PageResult {
  text: string;
  title?: string;
  date?: string;
  lang: string;
  lang_score: number;
  method: string;
  charset?: string;
  charsetSource?: CharsetSource;
  invalidUtf8: number;
  controls: number;
}

export function handler(task: PageTask, init: PageInit): PageResult {
  let html = task.html ?? '';
  let invalidUtf8 = 0;
  let charset: string | undefined;
  let charsetSource: CharsetSource | undefined;
  if (task.bytes) {
    const decoded = decodeHtml(task.bytes, task.contentType);
    ({ html, charset, source: charsetSource } = decoded);
    invalidUtf8 = decoded.invalid;
  }
  const content = extractMainContent(html, { favor: init.favor, keepComments: init.keepComments });
  const stats = emptyNormalizeStats();
  const text = normalizeText(content.text, stats);
  const guess = identifyLanguage(text);
  return {
    text,
    title: content.title ? normalizeText(content.title) : undefined,
    date: content.date,
    lang: guess.lang,
    lang_score: Math.round(guess.score * 1e4) / 1e4,
    method: content.method,
    charset,
    charsetSource,
    invalidUtf8: invalidUtf8 + stats.loneSurrogates,
    controls: stats.controls,
  };
}

await loadLanguageModel();
serveTasks(handler);
