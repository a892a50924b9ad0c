// One document's text as the quality rules see it: its words, its lines, and whether it is Chinese.
// The rules share one view per document, so the text is segmented and split once.
import { createRequire } from 'node:module';
import type { Jieba } from '@node-rs/jieba';
import { isCjkLanguage, ngramUnitFor } from '../../text/ngrams.js';

const require = createRequire(import.meta.url);
let jieba: Jieba | undefined;

/** jieba with its bundled dictionary, loaded on first use (about 0.3 s). */
function segmenter(): Jieba {
  if (!jieba) {
    const { Jieba: JiebaClass } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
    const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
    jieba = JiebaClass.withDict(dict);
  }
  return jieba;
}

// NLTK's word_tokenize (what datatrove counts words with) in spirit: letter/digit runs joined by
// inner hyphens or periods (and commas between digits: 1,000), clitics ('s, 't) as their own
// tokens, "..." and "--" one token each, every other punctuation mark or symbol a token of its own.
const ENGLISH_TOKEN = /[\p{L}\p{M}\p{N}]+(?:(?:[-.]|(?<=\p{N}),(?=\p{N}))[\p{L}\p{M}\p{N}]+)*|['’]\p{L}+|\.\.\.|--+|[^\s\p{L}\p{M}\p{N}]/gu;

/** Words of a text: NLTK-like tokens, or jieba's segmentation for Chinese (spaces dropped). */
export function wordsOf(text: string, chinese: boolean): string[] {
  if (!chinese) return text.match(ENGLISH_TOKEN) ?? [];
  return segmenter().cut(text, false).filter((w) => w.trim() !== '');
}

/** Python's str.splitlines(): every line break Python knows, no empty last line after a final break. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Chinese when `lang` says so (zh, zh-Hant…), or, without a `lang`, when the text is mostly Han. */
export function isChineseText(text: string, lang?: string): boolean {
  if (lang) return isCjkLanguage(lang) && lang.toLowerCase().startsWith('zh');
  return ngramUnitFor(text) === 'char';
}

export class TextView {
  private cachedWords?: string[];
  private cachedLines?: string[];
  constructor(
    readonly text: string,
    readonly chinese: boolean,
  ) {}

  static of(text: string, lang?: string): TextView {
    return new TextView(text, isChineseText(text, lang));
  }

  get words(): string[] {
    return (this.cachedWords ??= wordsOf(this.text, this.chinese));
  }

  /**
   * Lines as Python's splitlines() gives them (Gopher and C4 split this way), without blank ones:
   * loom separates paragraphs with a blank line where trafilatura, whose output datatrove's
   * pipelines read, puts one newline. Counted as lines, the blank ones would be duplicates of each
   * other and short lines, and every multi-paragraph document would fail Gopher's duplicate-line
   * and FineWeb's short-line rules. On text without blank lines this is datatrove's definition.
   */
  get lines(): string[] {
    return (this.cachedLines ??= splitLines(this.text).filter((line) => line.trim() !== ''));
  }
}
