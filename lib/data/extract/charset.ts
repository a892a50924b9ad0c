// Bytes of an HTML page to text, with its charset taken the way browsers do: byte-order mark,
// then the HTTP Content-Type header, then <meta charset> / http-equiv in the first bytes, then
// detection (valid UTF-8 is UTF-8; otherwise chardet's guess), and Windows-1252 last.
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { countReplacementChars } from '../../text/normalize.js';

export type CharsetSource = 'bom' | 'header' | 'meta' | 'detected' | 'default';

export interface DecodedPage {
  html: string;
  /** The encoding used, as iconv-lite names it (lower case). */
  charset: string;
  source: CharsetSource;
  /** Byte sequences that are invalid in that charset (each became U+FFFD). */
  invalid: number;
}

const META_SCAN_BYTES = 4096;
const CHARSET_PARAM = /charset\s*=\s*["']?\s*([\w.:-]+)/i;
const META_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i;

// WHATWG's encoding labels map these to supersets; decoding with the superset never loses text.
const SUPERSETS: Record<string, string> = {
  gb2312: 'gb18030',
  gbk: 'gb18030',
  'x-gbk': 'gb18030',
  'iso-8859-1': 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-9': 'windows-1254',
  'x-sjis': 'shift_jis',
  'ks_c_5601-1987': 'euc-kr',
  'unicode-1-1-utf-8': 'utf-8',
  utf8: 'utf-8',
};

/** A charset label normalized to an encoding iconv-lite knows, or undefined. */
export function normalizeCharset(label: string | undefined | null): string | undefined {
  if (!label) return undefined;
  const name = label.trim().toLowerCase();
  const mapped = SUPERSETS[name] ?? name;
  return iconv.encodingExists(mapped) ? mapped : undefined;
}

/** The charset parameter of a Content-Type header value. */
export function charsetFromContentType(contentType: string | undefined): string | undefined {
  const match = contentType ? CHARSET_PARAM.exec(contentType) : null;
  return normalizeCharset(match?.[1]);
}

/** The charset a page declares in a <meta> tag near its start. */
export function charsetFromMeta(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, META_SCAN_BYTES)).toString('latin1');
  return normalizeCharset(META_CHARSET.exec(head)?.[1]);
}

function bomCharset(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** U+FFFD already present in the input as bytes EF BF BD, so not a decoding error. */
function literalReplacementChars(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(0xef); i !== -1 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) {
    if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) n += 1;
  }
  return n;
}

function decodeWith(bytes: Uint8Array, charset: string, source: CharsetSource): DecodedPage {
  if (charset === 'utf-8') {
    const html = lenientUtf8.decode(bytes).replace(/^\uFEFF/, '');
    return { html, charset, source, invalid: Math.max(0, countReplacementChars(html) - literalReplacementChars(bytes)) };
  }
  const html = iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), charset);
  return { html, charset, source, invalid: countReplacementChars(html) };
}

/** Decodes a page's bytes; `contentType` is the HTTP header value, when there is one. */
export function decodeHtml(bytes: Uint8Array, contentType?: string): DecodedPage {
  const bom = bomCharset(bytes);
  if (bom) return decodeWith(bytes, bom, 'bom');
  const header = charsetFromContentType(contentType);
  if (header) return decodeWith(bytes, header, 'header');
  const meta = charsetFromMeta(bytes);
  if (meta) return decodeWith(bytes, meta, 'meta');
  if (isValidUtf8(bytes)) return decodeWith(bytes, 'utf-8', 'detected');
  const guess = normalizeCharset(chardet.detect(bytes));
  if (guess) return decodeWith(bytes, guess, 'detected');
  return decodeWith(bytes, 'windows-1252', 'default');
}
