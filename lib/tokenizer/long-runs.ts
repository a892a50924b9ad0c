// Whether the pre-tokenizer could make a piece longer than `maxChars` in a text: a superset test,
// so a text it clears goes to tiktoken whole (its BPE is quadratic in piece length). A piece is a
// letter run (plus one character), or a space, a run of other characters and newlines, or a
// whitespace run; so a text is suspect when it has maxChars − 1 letters in a row, or half of
// maxChars − 1 other characters or whitespace in a row. One pass over the text with a table of
// character classes: the three Unicode-property regexes it replaces cost a sixth of tiktoken's own
// time on Chinese text.
const LETTER = 1;
const OTHER = 2; // neither whitespace, letter nor number
const SPACE = 4;

let classes: Uint8Array | undefined;

/** The classes of every UTF-16 code unit; a surrogate, half of a character of any class, counts as letter and other. */
function classTable(): Uint8Array {
  const table = new Uint8Array(0x10000);
  let bmp = '';
  for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) bmp += String.fromCharCode(c);
  const mark = (pattern: RegExp, bit: number) => {
    for (const [char] of bmp.matchAll(pattern)) table[char.charCodeAt(0)]! |= bit;
  };
  mark(/\p{L}/gu, LETTER);
  mark(/[^\p{White_Space}\p{L}\p{N}]/gu, OTHER);
  mark(/\p{White_Space}/gu, SPACE);
  table.fill(LETTER | OTHER, 0xd800, 0xe000);
  return table;
}

export function mayHaveLongPiece(text: string, maxChars: number): boolean {
  const table = (classes ??= classTable());
  const letterLimit = maxChars - 1;
  const runLimit = maxChars / 2 - 1;
  let letters = 0, others = 0, spaces = 0;
  for (let i = 0; i < text.length; i++) {
    const c = table[text.charCodeAt(i)]!;
    letters = c & LETTER ? letters + 1 : 0;
    others = c & OTHER ? others + 1 : 0;
    spaces = c & SPACE ? spaces + 1 : 0;
    if (letters >= letterLimit || others >= runLimit || spaces >= runLimit) return true;
  }
  return false;
}
