// Status lines that fit the terminal: a line wider than the terminal wraps, and the redraw that
// follows can no longer erase all of it.

/** One field of a status line; lower `priority` numbers are kept longer when the line is too wide. */
export interface Field {
  text: string;
  priority: number;
  color?: 'cyan' | 'yellow' | 'green';
  dim?: boolean;
}

export const FIELD_SEPARATOR = ' · ';

/** Columns `text` takes (status text is ASCII, `·`, `…`, `%` and block characters: one column each). */
export function textWidth(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** `text` cut to `width` columns, ending with `…` when it was cut. */
export function truncate(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  if (width <= 0) return '';
  return [...text].slice(0, width - 1).join('') + '…';
}

/**
 * The fields that fit in `width` columns when joined with FIELD_SEPARATOR, in their own order:
 * the least important fields go first; a most important field still too wide is truncated.
 */
export function fitFields(fields: readonly Field[], width: number): Field[] {
  const kept = [...fields];
  const lineWidth = () => kept.reduce((sum, f, i) => sum + textWidth(f.text) + (i > 0 ? FIELD_SEPARATOR.length : 0), 0);
  while (kept.length > 1 && lineWidth() > width) {
    const least = kept.reduce((worst, f, i) => (f.priority >= kept[worst]!.priority ? i : worst), 0);
    kept.splice(least, 1);
  }
  if (kept.length === 1) kept[0] = { ...kept[0]!, text: truncate(kept[0]!.text, width) };
  return kept;
}
