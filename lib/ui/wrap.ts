// Document text for a terminal: wrapped to a width in columns (Chinese, Japanese and Korean
// characters take two), with control characters shown as escapes so text cannot move the cursor.
import { escapeControls } from '../errors.js';
import { isCjkCodePoint } from '../text/ngrams.js';

/** Columns a code point takes in a terminal: 2 for CJK, fullwidth forms and emoji, else 1. */
export function columnsOf(cp: number): number {
  const wide =
    isCjkCodePoint(cp) ||
    (cp >= 0x3000 && cp <= 0x303f) || // CJK symbols and punctuation (、。「」)
    (cp >= 0xff01 && cp <= 0xff60) || // fullwidth forms (，！？)
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff); // emoji
  return wide ? 2 : 1;
}

/**
 * `text` as terminal rows of at most `width` columns: its own line breaks kept, long lines broken
 * after the last space that fits, or anywhere (CJK text has no spaces).
 */
export function wrapText(text: string, width: number): string[] {
  const rows: string[] = [];
  for (const line of text.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n')) {
    let row = '';
    let used = 0;
    for (const ch of escapeControls(line)) {
      const w = columnsOf(ch.codePointAt(0)!);
      if (used + w > width && row !== '') {
        // A space where the row is full is the break itself; otherwise break after the row's last space.
        const space = ch === ' ' ? row.length : row.lastIndexOf(' ');
        const cut = space > 0 ? space : row.length;
        rows.push(row.slice(0, cut));
        row = row.slice(cut).replace(/^ /, '');
        used = [...row].reduce((sum, c) => sum + columnsOf(c.codePointAt(0)!), 0);
        if (ch === ' ' && row === '') continue;
      }
      row += ch;
      used += w;
    }
    rows.push(row);
  }
  return rows;
}
