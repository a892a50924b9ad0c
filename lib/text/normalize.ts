// Text normalization shared by extract and langid: NFC, one kind of space, no control characters,
// paragraphs separated by exactly one blank line.

export interface NormalizeStats {
  /** Control and format characters removed (C0/C1 controls, zero-width marks, BOM). */
  controls: number;
  /** Unpaired UTF-16 surrogates replaced by U+FFFD (broken text, not decodable as UTF-8). */
  loneSurrogates: number;
}

// Controls except \t and \n, DEL and C1 controls, zero-width spaces/joiners' invisible kin, BOM.
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B\u2060\uFEFF\u00AD]/g;
// Every Unicode space separator except the plain space, and tabs.
const SPACES = /[\t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Normalizes extracted text: CRLF/CR and Unicode line/paragraph separators to \n, NFC, control
 * characters removed, runs of spaces collapsed, lines trimmed, and at most one blank line between
 * paragraphs. The ideographic space (U+3000) becomes a plain space like any other.
 */
export function normalizeText(text: string, stats?: NormalizeStats): string {
  let out = text.replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n');
  out = out.replace(LONE_SURROGATE, () => {
    if (stats) stats.loneSurrogates += 1;
    return '\uFFFD';
  });
  out = out.replace(CONTROLS, () => {
    if (stats) stats.controls += 1;
    return '';
  });
  out = out.normalize('NFC').replace(SPACES, ' ');
  out = out
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trim())
    .join('\n');
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

export function emptyNormalizeStats(): NormalizeStats {
  return { controls: 0, loneSurrogates: 0 };
}

/** Replacement characters in `text`, i.e. bytes a decoder could not map (see decodeHtmlBytes). */
export function countReplacementChars(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\uFFFD'); i !== -1; i = text.indexOf('\uFFFD', i + 1)) n += 1;
  return n;
}
