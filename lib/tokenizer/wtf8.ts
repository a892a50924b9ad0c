// WTF-8: UTF-8 extended to unpaired surrogates (U+D800…U+DFFF as 3-byte sequences ED A0..BF xx).
// tiktoken only sees valid UTF-8, so loom encodes a lone surrogate as its three WTF-8 byte tokens
// and decodes those bytes back to the same code unit: JavaScript strings round-trip exactly.

// ignoreBOM: keep a leading U+FEFF, which is text like any other character here.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The three WTF-8 bytes of a lone surrogate code unit. */
export function surrogateBytes(unit: number): [number, number, number] {
  return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
}

function isSurrogateAt(bytes: Uint8Array, i: number): boolean {
  return bytes[i] === 0xed && i + 2 < bytes.length && bytes[i + 1]! >= 0xa0 && bytes[i + 1]! <= 0xbf && (bytes[i + 2]! & 0xc0) === 0x80;
}

/** Decodes WTF-8; other invalid sequences (a window cut inside a character) become U+FFFD. */
export function decodeWtf8(bytes: Uint8Array): string {
  let out = '';
  let start = 0;
  // 0xED is never a continuation byte, so a scan for it cannot land inside another character.
  for (let i = bytes.indexOf(0xed); i !== -1; i = bytes.indexOf(0xed, i + 1)) {
    if (!isSurrogateAt(bytes, i)) continue;
    out += utf8.decode(bytes.subarray(start, i));
    out += String.fromCharCode(((bytes[i]! & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f));
    start = i + 3;
    i += 2;
  }
  return start === 0 ? utf8.decode(bytes) : out + utf8.decode(bytes.subarray(start));
}

const LONE_SURROGATE = /\p{Cs}/u;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Splits text into runs of well-formed text and single lone surrogates (as numbers). */
export function splitLoneSurrogates(text: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let run = '';
  for (const char of text) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      if (run) parts.push(run);
      run = '';
      parts.push(unit);
    } else run += char;
  }
  if (run) parts.push(run);
  return parts;
}
