// Pre-tokenization patterns. tiktoken (Rust fancy-regex) runs them on the WASM side; loom runs the
// same pattern in V8's regex engine, which is ~15× faster, and only hands the pieces to BPE. The
// translation below is checked against tiktoken's own segmentation in the tests.

/** cl100k_base's pattern, as tiktoken ships it. */
export const CL100K_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Qwen's pattern: cl100k's with numbers split into single digits (`\p{N}{1,3}` → `\p{N}`). */
export const QWEN_PATTERN = CL100K_PATTERN.replace('\\p{N}{1,3}', '\\p{N}');

/**
 * The same pattern for V8: `(?i:…)` groups (which Node 20 lacks) become explicit case classes, and
 * `\s`/`\S` become Unicode White_Space, as in Rust (JavaScript's `\s` also matches U+FEFF, the BOM,
 * and misses U+0085).
 */
export function toJsRegExp(pattern: string): RegExp {
  const caseless = pattern.replace(/\(\?i:([^()]*)\)/g, (_, body: string) =>
    '(?:' + body.replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`) + ')',
  );
  const source = caseless.replace(/\\s/g, '\\p{White_Space}').replace(/\\S/g, '\\P{White_Space}');
  return new RegExp(source, 'gu');
}

/**
 * Calls `onPiece(start, end)` for each pre-token of `text` (UTF-16 offsets). Every character lands in
 * exactly one piece: anything the pattern skips becomes a piece of its own.
 */
export function forEachPiece(regex: RegExp, text: string, onPiece: (start: number, end: number) => void): void {
  regex.lastIndex = 0;
  let position = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    const end = match.index + match[0].length;
    if (match.index > position) onPiece(position, match.index);
    if (end === match.index) {
      regex.lastIndex += 1;
      continue;
    }
    onPiece(match.index, end);
    position = end;
  }
  if (position < text.length) onPiece(position, text.length);
}
